"""Reads: kept diagnoses, the default period, and the forces over time for comparison."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from shequn.communities.models import Community
from shequn.insights.models import DiagnosisReport
from shequn.interactions.selectors import latest_event_day

HISTORY_LIMIT = 24
FORCES = ("cohesion", "driving", "dissipative")


def reports(community: Community) -> QuerySet[DiagnosisReport]:
    return DiagnosisReport.objects.filter(community=community).order_by(
        "-period_end", "-period_start"
    )


def default_end(community: Community) -> dt.date:
    """The day after the community's last event (imported data ends in the past), else
    tomorrow in the community's time zone: the period then includes today."""
    last = latest_event_day(community)
    if last is not None:
        return last + dt.timedelta(days=1)
    return timezone.now().astimezone(community.zoneinfo).date() + dt.timedelta(days=1)


def history(community: Community, *, days: int | None = None) -> list[dict[str, Any]]:
    """The kept periods (oldest first, of the same length when ``days`` is given) with their
    three forces, stage and verdict: what the report's comparison chart draws. Only those keys
    are read out of each stored diagnosis."""
    kept = reports(community)
    if days is not None:
        kept = kept.filter(data__period__days=days)
    fields = {
        "start": "data__period__start",
        "end": "data__period__end",
        "verdict": "verdict",
        "stage": "data__ladder__stage",
        "active": "data__active",
        **{code: f"data__dynamics__forces__{code}__score" for code in FORCES},
    }
    rows = kept.values_list(*fields.values())[:HISTORY_LIMIT]
    return [dict(zip(fields, row, strict=True)) for row in rows][::-1]


def previous_report(report: DiagnosisReport) -> DiagnosisReport | None:
    """The latest kept diagnosis of the same length that ended before this one did."""
    return (
        reports(report.community)
        .filter(period_end__lt=report.period_end)
        .filter(data__period__days=report.data["period"]["days"])
        .first()
    )
