"""Rituals' recurrence rules (RFC 5545 RRULE), parsed and expanded by ``dateutil.rrule``.

Occurrences keep their local clock time across daylight-saving changes: a weekly 19:30 in
Europe/Berlin stays at 19:30 there, whatever its UTC offset that week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil import rrule
from django.utils.translation import gettext as _

# Rituals recur at most daily: a finer rule is a mistake, and would flood the calendar.
ALLOWED_FREQUENCIES = {
    rrule.DAILY: "DAILY",
    rrule.WEEKLY: "WEEKLY",
    rrule.MONTHLY: "MONTHLY",
    rrule.YEARLY: "YEARLY",
}
# Properties that belong to a whole calendar entry, not to the rule of a ritual.
NOT_IN_RULE = ("DTSTART", "RDATE", "EXDATE", "EXRULE")


@dataclass(frozen=True)
class Recurrence:
    text: str  # the rule as stored, e.g. "FREQ=WEEKLY;BYDAY=TH"
    rule: rrule.rrule
    zone: dt.tzinfo
    aware: bool  # whether the rule runs on aware datetimes (a UNTIL given in UTC)

    def between(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Occurrences from ``start`` to ``end`` (both included), as aware datetimes."""
        if self.aware:
            found = self.rule.between(start, end, inc=True)
        else:
            local_start = start.astimezone(self.zone).replace(tzinfo=None)
            local_end = end.astimezone(self.zone).replace(tzinfo=None)
            found = [
                value.replace(tzinfo=self.zone)
                for value in self.rule.between(local_start, local_end, inc=True)
            ]
        return [value for value in found if start <= value <= end]


def rule_for(text: str, first: dt.datetime, zone: dt.tzinfo) -> Recurrence:
    """Parse ``text`` (with or without the ``RRULE:`` prefix) for a series starting at
    ``first``; raise ``ValueError`` with a message for people when it cannot be used."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(_("is required, e.g. %(example)s") % {"example": "FREQ=WEEKLY;BYDAY=TH"})
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    body = body.strip().upper()
    if "\n" in body or "\r" in body or any(name in body for name in NOT_IN_RULE):
        raise ValueError(
            _("must be one RRULE without %(names)s") % {"names": ", ".join(NOT_IN_RULE)}
        )
    local = first.astimezone(zone)
    aware = False
    try:
        try:
            parsed = rrule.rrulestr(body, dtstart=local.replace(tzinfo=None))
        except ValueError as exc:
            # A UNTIL written in UTC (…Z) needs a series in real time.
            if "UNTIL" not in str(exc):
                raise
            parsed = rrule.rrulestr(body, dtstart=local)
            aware = True
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(
            _("is not a valid RFC 5545 recurrence rule (%(error)s), e.g. %(example)s")
            % {"error": exc, "example": "FREQ=MONTHLY;BYDAY=1SA"}
        ) from None
    if not isinstance(parsed, rrule.rrule) or parsed._freq not in ALLOWED_FREQUENCIES:
        raise ValueError(
            _("must repeat daily, weekly, monthly or yearly (FREQ=%(choices)s)")
            % {"choices": "|".join(ALLOWED_FREQUENCIES.values())}
        )
    recurrence = Recurrence(text=body, rule=parsed, zone=zone, aware=aware)
    if not recurrence.between(first, first + dt.timedelta(days=3660)):
        raise ValueError(_("gives no occurrence in the ten years from the first start"))
    return recurrence
