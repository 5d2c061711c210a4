"""Read queries on interaction data. Analytics read rollups, never raw events in bulk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Min, QuerySet, Sum
from django.db.models.functions import Substr, TruncMonth, TruncWeek

from shequn.communities.models import Community
from shequn.interactions.models import (
    ROLLUP_COUNTERS,
    ImportRun,
    InteractionEvent,
    MemberDailyRollup,
)
from shequn.members.models import Member


def recent_imports(community: Community, limit: int = 10) -> QuerySet[ImportRun]:
    return ImportRun.objects.filter(community=community).order_by("-started_at", "-id")[:limit]


def member_totals(member: Member) -> dict[str, int]:
    """Lifetime counters of one member, summed from the daily rollups."""
    sums = MemberDailyRollup.objects.filter(member=member).aggregate(
        **{counter: Sum(counter) for counter in ROLLUP_COUNTERS}
    )
    return {counter: sums[counter] or 0 for counter in ROLLUP_COUNTERS}


def latest_event_day(community: Community) -> dt.date | None:
    """The local day of the community's latest event (an index lookup): "now" for an archive,
    which tiers and leaderboards are judged as of."""
    latest = InteractionEvent.objects.filter(community=community).aggregate(m=Max("occurred_at"))[
        "m"
    ]
    if latest is None:
        return None
    return latest.astimezone(community.zoneinfo).date()


def latest_activity_day(community: Community) -> dt.date | None:
    return MemberDailyRollup.objects.filter(community=community).aggregate(latest=Max("day"))[
        "latest"
    ]


def weekly_activity(community: Community, weeks: int = 52) -> list[dict[str, Any]]:
    """Per week (Monday), up to the community's latest active day: messages, reactions, joins,
    leaves and how many members were active. Read from the daily rollups."""
    latest = latest_activity_day(community)
    if latest is None:
        return []
    start = latest - dt.timedelta(days=latest.weekday()) - dt.timedelta(weeks=weeks - 1)
    rows = (
        MemberDailyRollup.objects.filter(community=community, day__gte=start)
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(
            messages=Sum("messages"),
            reactions=Sum("reactions_given"),
            joins=Sum("joins"),
            leaves=Sum("leaves"),
            active_members=Count("member", distinct=True),
        )
        .order_by("week")
    )
    by_week = {_as_date(row["week"]): row for row in rows}
    series = []
    for index in range(weeks):
        week = start + dt.timedelta(weeks=index)
        row = by_week.get(week, {})
        series.append(
            {
                "week": week.isoformat(),
                "messages": row.get("messages") or 0,
                "reactions": row.get("reactions") or 0,
                "joins": row.get("joins") or 0,
                "leaves": row.get("leaves") or 0,
                "active_members": row.get("active_members") or 0,
            }
        )
    return series


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def most_active_members(community: Community, days: int = 90, limit: int = 10) -> list[Member]:
    """Members with the most messages in the ``days`` up to the latest active day."""
    latest = latest_activity_day(community)
    if latest is None:
        return []
    since = latest - dt.timedelta(days=days - 1)
    return list(
        Member.objects.filter(community=community, daily_rollups__day__gte=since, is_bot=False)
        .annotate(
            recent_messages=Sum("daily_rollups__messages"),
            recent_reactions=Sum("daily_rollups__reactions_received"),
        )
        .filter(recent_messages__gt=0)
        .order_by("-recent_messages", "display_name")[:limit]
    )


# --- one member's page ------------------------------------------------------------------------

TIMELINE_EXCERPT = 160


def member_activity(member: Member, weekly_up_to_weeks: int = 26) -> dict[str, Any]:
    """The member's messages and reactions given per week (a history of up to
    ``weekly_up_to_weeks`` weeks) or per month (longer ones), zero-filled from the first to the
    latest active period, read from the daily rollups: ``{"unit": "week"|"month", "rows": [...]}``
    with rows ``period``, ``messages``, ``reactions``, ``reactions_received``."""
    rollups = MemberDailyRollup.objects.filter(member=member)
    span = rollups.aggregate(first=Min("day"), last=Max("day"))
    first, last = span["first"], span["last"]
    if first is None:
        return {"unit": "week", "rows": []}
    weekly = (last - first).days < weekly_up_to_weeks * 7
    grouped = (
        rollups.annotate(period=TruncWeek("day") if weekly else TruncMonth("day"))
        .values("period")
        .annotate(
            messages=Sum("messages"),
            reactions=Sum("reactions_given"),
            reactions_received=Sum("reactions_received"),
        )
        .order_by("period")
    )
    by_period = {_as_date(row["period"]): row for row in grouped}
    if weekly:
        start = first - dt.timedelta(days=first.weekday())
        periods = [
            start + dt.timedelta(weeks=index) for index in range((last - start).days // 7 + 1)
        ]
    else:
        periods = []
        month = first.replace(day=1)
        while month <= last:
            periods.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
    rows = []
    for period in periods:
        row = by_period.get(period, {})
        rows.append(
            {
                "period": period.isoformat() if weekly else period.strftime("%Y-%m"),
                "messages": row.get("messages") or 0,
                "reactions": row.get("reactions") or 0,
                "reactions_received": row.get("reactions_received") or 0,
            }
        )
    return {"unit": "week" if weekly else "month", "rows": rows}


def member_timeline(member: Member) -> QuerySet[InteractionEvent]:
    """What the member did, newest first, with its channel and whom it answered; the text is
    cut to an ``excerpt`` by the database so long posts are never loaded whole."""
    return (
        InteractionEvent.objects.filter(member=member)
        .select_related("channel", "target_member")
        .only(
            "kind",
            "occurred_at",
            "channel",
            "target_member",
            "text_length",
            "content_type",
            "channel__platform",
            "channel__name",
            "channel__external_id",
            "target_member__display_name",
        )
        .annotate(excerpt=Substr("text", 1, TIMELINE_EXCERPT))
        .order_by("-occurred_at", "-id")
    )
