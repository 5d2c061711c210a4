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
    three forces, stage and verdict: what the report's comparison chart draws."""
    rows = []
    for report in reports(community)[:HISTORY_LIMIT]:
        data = report.data
        if days is not None and data["period"]["days"] != days:
            continue
        forces = data["dynamics"]["forces"]
        rows.append(
            {
                "start": data["period"]["start"],
                "end": data["period"]["end"],
                "verdict": data["verdict"],
                "stage": data["ladder"]["stage"],
                "active": data["active"],
                **{code: forces[code]["score"] for code in ("cohesion", "driving", "dissipative")},
            }
        )
    return rows[::-1]


def previous_report(report: DiagnosisReport) -> DiagnosisReport | None:
    """The latest kept diagnosis of the same length that ended before this one did."""
    return (
        reports(report.community)
        .filter(period_end__lt=report.period_end)
        .filter(data__period__days=report.data["period"]["days"])
        .first()
    )
