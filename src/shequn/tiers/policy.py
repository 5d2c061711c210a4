"""The tier policy as the engine reads it, and the validation of operators' changes.

Every threshold has a default (see ``TierPolicy`` and docs/tiers.md for the reasons) and a range;
``validate_policy_values`` checks each value an operator gives and names the field that is wrong,
before anything is saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from shequn.tiers.models import Cadence, TierPolicy

# Kinds of contribution a weight may be given for. Messages and replies come from the daily
# rollups; later issues add activities (host, speak, attend) and testimonials through
# ``shequn.tiers.signals`` providers, which read their weights from here too.
WEIGHT_KINDS = ("message", "reply", "host", "speak", "attend", "testimonial")
# A reply weighs twice a message (it answers someone); hosting an activity alone reaches the
# participant threshold (30), as the Orbit model wants one weighty act to place a member.
DEFAULT_WEIGHTS: dict[str, float] = {
    "message": 1,
    "reply": 2,
    "host": 30,
    "speak": 20,
    "attend": 5,
    "testimonial": 15,
}
MAX_WEIGHT = 1000

# field -> (minimum, maximum) for the whole-number fields.
INT_RANGES: dict[str, tuple[int, int]] = {
    "window_weeks": (2, 104),
    "lapse_days": (7, 730),
    "advocate_active_share": (1, 100),
    "advocate_min_helped": (1, 1000),
    "invitee_min_days": (0, 365),
    "participant_min_weeks": (1, 104),
    "participant_min_commitment": (0, 1_000_000),
    "risk_recent_weeks": (1, 26),
    "risk_baseline_weeks": (1, 52),
    "risk_drop_percent": (1, 99),
    "risk_low_weeks": (0, 3),
}
FLOAT_RANGES: dict[str, tuple[float, float]] = {"risk_min_weekly": (0.0, 10_000.0)}
BOOL_FIELDS = ("helped_by_mentions",)
POLICY_FIELDS = (
    *INT_RANGES,
    *FLOAT_RANGES,
    *BOOL_FIELDS,
    "commitment_weights",
    "downgrade_cadence",
)
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


class TierPolicyError(ValueError):
    """A policy value that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _as_int(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TierPolicyError(field, _("must be a whole number, not %(value)r") % {"value": value})
    if isinstance(value, str):
        value = value.strip()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TierPolicyError(
            field, _("must be a whole number, not %(value)r") % {"value": value}
        ) from None
    if isinstance(value, float) and value != number:
        raise TierPolicyError(field, _("must be a whole number, not %(value)r") % {"value": value})
    return number


def _as_float(field: str, value: Any) -> float:
    if isinstance(value, bool):
        raise TierPolicyError(field, _("must be a number, not %(value)r") % {"value": value})
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise TierPolicyError(
            field, _("must be a number, not %(value)r") % {"value": value}
        ) from None
    if not math.isfinite(number):
        raise TierPolicyError(field, _("must be a number, not %(value)r") % {"value": value})
    return number


def _as_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise TierPolicyError(field, _("must be true or false, not %(value)r") % {"value": value})


def _weights(value: Any) -> dict[str, float]:
    field = "commitment_weights"
    if isinstance(value, str):
        # "message=1,reply=2" (the command line's way of writing it)
        parsed: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            name, sep, number = part.partition("=")
            if not sep:
                raise TierPolicyError(
                    field, _("write weights as kind=number, e.g. message=1,reply=2")
                )
            parsed[name.strip()] = number
        value = parsed
    if not isinstance(value, dict):
        raise TierPolicyError(field, _("must map kinds of contribution to numbers"))
    weights = {}
    for kind, weight in value.items():
        if kind not in WEIGHT_KINDS:
            raise TierPolicyError(
                field,
                _("unknown kind %(kind)r (known: %(known)s)")
                % {"kind": kind, "known": ", ".join(WEIGHT_KINDS)},
            )
        number = _as_float(f"{field}.{kind}", weight)
        if not 0 <= number <= MAX_WEIGHT:
            raise TierPolicyError(
                f"{field}.{kind}",
                _("must be between %(low)s and %(high)s") % {"low": 0, "high": MAX_WEIGHT},
            )
        weights[kind] = int(number) if number == int(number) else number
    return {**DEFAULT_WEIGHTS, **weights}


def validate_policy_values(policy: TierPolicy, values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise ``values`` against ``policy``; raise ``TierPolicyError`` naming the
    first wrong field. Returns the cleaned values (nothing is changed on ``policy``)."""
    cleaned: dict[str, Any] = {}
    for field, value in values.items():
        if field not in POLICY_FIELDS:
            raise TierPolicyError(
                field,
                _("unknown setting (known: %(known)s)") % {"known": ", ".join(POLICY_FIELDS)},
            )
        if field in INT_RANGES:
            number = _as_int(field, value)
            low, high = INT_RANGES[field]
            if not low <= number <= high:
                raise TierPolicyError(
                    field, _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
                )
            cleaned[field] = number
        elif field in FLOAT_RANGES:
            number = _as_float(field, value)
            low, high = FLOAT_RANGES[field]
            if not low <= number <= high:
                raise TierPolicyError(
                    field, _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
                )
            cleaned[field] = number
        elif field in BOOL_FIELDS:
            cleaned[field] = _as_bool(field, value)
        elif field == "downgrade_cadence":
            if value not in Cadence.values:
                raise TierPolicyError(
                    field,
                    _("must be one of %(choices)s") % {"choices": ", ".join(Cadence.values)},
                )
            cleaned[field] = value
        else:
            cleaned[field] = _weights(value)
    merged = {field: getattr(policy, field) for field in POLICY_FIELDS} | cleaned
    if merged["participant_min_weeks"] > merged["window_weeks"]:
        raise TierPolicyError(
            "participant_min_weeks",
            _("cannot exceed the window (%(weeks)s weeks)") % {"weeks": merged["window_weeks"]},
        )
    if merged["risk_recent_weeks"] + merged["risk_baseline_weeks"] > 52:
        raise TierPolicyError(
            "risk_baseline_weeks", _("recent weeks and weeks before must add up to 52 at most")
        )
    return cleaned


@dataclass(frozen=True)
class Rules:
    """A policy as plain numbers, for the engine's inner loop."""

    window_weeks: int
    lapse_days: int
    advocate_min_weeks: int
    advocate_active_share: int
    advocate_min_helped: int
    helped_by_mentions: bool
    invitee_min_days: int
    participant_min_weeks: int
    participant_min_commitment: float
    weights: dict[str, float]
    cadence: str
    risk_recent_weeks: int
    risk_baseline_weeks: int
    risk_drop_percent: int
    risk_low_weeks: int
    risk_min_weekly: float

    @property
    def lookback_weeks(self) -> int:
        """Weeks of data before a replay's first week that its first evaluation needs."""
        return max(
            self.window_weeks,
            self.lapse_days // 7 + 2,
            self.risk_recent_weeks + self.risk_baseline_weeks + 1,
        )


def rules_of(policy: TierPolicy) -> Rules:
    weights = {**DEFAULT_WEIGHTS, **(policy.commitment_weights or {})}
    return Rules(
        window_weeks=policy.window_weeks,
        lapse_days=policy.lapse_days,
        # 60 % of 13 weeks is 7.8: an advocate needs 8.
        advocate_min_weeks=max(1, -(-policy.advocate_active_share * policy.window_weeks // 100)),
        advocate_active_share=policy.advocate_active_share,
        advocate_min_helped=policy.advocate_min_helped,
        helped_by_mentions=policy.helped_by_mentions,
        invitee_min_days=policy.invitee_min_days,
        participant_min_weeks=policy.participant_min_weeks,
        participant_min_commitment=float(policy.participant_min_commitment),
        weights=weights,
        cadence=policy.downgrade_cadence,
        risk_recent_weeks=policy.risk_recent_weeks,
        risk_baseline_weeks=policy.risk_baseline_weeks,
        risk_drop_percent=policy.risk_drop_percent,
        risk_low_weeks=policy.risk_low_weeks,
        risk_min_weekly=policy.risk_min_weekly,
    )
