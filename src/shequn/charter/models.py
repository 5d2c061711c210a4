"""Models of shequn.charter."""
