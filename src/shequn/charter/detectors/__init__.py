"""The rule kinds (detectors), one small module each, registered by kind on import."""

from shequn.charter.detectors import (  # noqa: F401  (each registers itself)
    banned_words,
    fast_answer,
    flood,
    off_hours,
    reported,
    spam,
    welcome,
)
from shequn.charter.detectors.base import REGISTRY, Detector, Finding, Scope, detector_for

# The order kinds are offered in: violations first, then rewards.
KINDS = ("flood", "spam", "banned_words", "off_hours", "reported", "welcome", "fast_answer")
assert set(KINDS) == set(REGISTRY)

__all__ = ["KINDS", "REGISTRY", "Detector", "Finding", "Scope", "detector_for"]
