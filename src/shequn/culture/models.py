"""Models of shequn.culture."""
