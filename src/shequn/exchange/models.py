"""Models of shequn.exchange."""
