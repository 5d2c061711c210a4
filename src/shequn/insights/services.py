"""Writes: making and keeping a period's diagnosis."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.insights.diagnosis import diagnose
from shequn.insights.models import DiagnosisReport
from shequn.insights.periods import PERIOD_DAYS

MAX_DAYS = 3660
# The web app and the API diagnose within the request: at most a year there (a year of a
# 10-million-event community takes about a minute and a half on SQLite, see
# docs/benchmarks.md); longer periods with ``shequn report``.
MAX_REQUEST_DAYS = 366
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9000, 1, 1)


class DiagnosisError(ValueError):
    """A diagnosis that cannot be made as asked (the message says why)."""


def validate_period(end: dt.date, days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise DiagnosisError(
            _("The period must be 1 to %(max)s days long, not %(days)s.")
            % {"max": MAX_DAYS, "days": days}
        )
    if not FIRST_DAY <= end <= LAST_DAY:
        raise DiagnosisError(
            _("The period's end %(end)s is outside %(first)s to %(last)s.")
            % {"end": end.isoformat(), "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        )


def do_save_diagnosis(
    community: Community,
    *,
    end: dt.date,
    days: int = PERIOD_DAYS,
    actor: Any = None,
) -> DiagnosisReport:
    """Diagnose the ``days`` before ``end`` and keep it (replacing that period's earlier one)."""
    validate_period(end, days)
    data = diagnose(community, end, days=days)
    start = dt.date.fromisoformat(data["period"]["start"])
    with transaction.atomic():
        report, created = DiagnosisReport.objects.update_or_create(
            community=community,
            period_start=start,
            period_end=end,
            defaults={"verdict": data["verdict"], "data": data, "created_by": actor},
        )
        audit.record(
            "diagnosis.create" if created else "diagnosis.replace",
            community=community,
            actor=actor,
            target=report,
            details={
                "start": start.isoformat(),
                "end": end.isoformat(),
                "verdict": data["verdict"],
            },
        )
    return report


def do_delete_diagnosis(report: DiagnosisReport, *, actor: Any = None) -> None:
    with transaction.atomic():
        audit.record(
            "diagnosis.delete",
            community=report.community,
            actor=actor,
            target=report,
            details={
                "start": report.period_start.isoformat(),
                "end": report.period_end.isoformat(),
            },
        )
        report.delete()
