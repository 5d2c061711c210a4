"""Models of shequn.commerce."""
