"""A diagnosis check: one of the seed's rules turned into a measured verdict.

A check stores codes and numbers only — never sentences — so a report kept today reads the same
in English and Chinese tomorrow: ``insights.texts`` turns the codes into words when shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MET = "met"
AT_RISK = "at_risk"
NOT_MET = "not_met"
NO_DATA = "no_data"
STATUSES = (MET, AT_RISK, NOT_MET, NO_DATA)
# Where a diagnosis keeps its checks.
CHECK_GROUPS = ("top_line", "iron_rules", "misconceptions", "linton")


@dataclass
class Check:
    code: str  # e.g. "multi_centre"; names the title, the evidence sentence and the action
    status: str
    evidence: dict[str, Any] = field(default_factory=dict)  # the numbers behind the verdict
    reason: str = ""  # which evidence sentence fits (e.g. "no_ties"), "" for the usual one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def grade(value: float | None, met: float, at_risk: float, *, higher_is_better: bool = True) -> str:
    """Met at or beyond ``met``, at risk up to ``at_risk``, otherwise not met."""
    if value is None:
        return NO_DATA
    if higher_is_better:
        return MET if value >= met else AT_RISK if value >= at_risk else NOT_MET
    return MET if value <= met else AT_RISK if value <= at_risk else NOT_MET


def combine(statuses: list[str]) -> str:
    """All met is met, none measured is no data, otherwise the worst measured status."""
    measured = [status for status in statuses if status != NO_DATA]
    if not measured:
        return NO_DATA
    if NOT_MET in measured:
        return NOT_MET
    if AT_RISK in measured:
        return AT_RISK
    return MET


def by_count(passed: int, of: int) -> str:
    """All passed met, one short at risk, more short not met."""
    if passed >= of:
        return MET
    return AT_RISK if passed == of - 1 else NOT_MET


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
