"""Read queries on points and levels: balances, levels, leaderboards, histories, rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from shequn.communities.models import Community
from shequn.interactions.selectors import latest_event_day
from shequn.members.models import Member
from shequn.rewards.levels import LevelCurve, LevelStatus, level_status
from shequn.rewards.models import (
    LevelScheme,
    LevelUp,
    MemberPoints,
    PointEntry,
    PointRule,
    PointsState,
)

PERIODS = {"week": 7, "month": 30, "all": None}


def level_scheme(community: Community) -> LevelScheme:
    """The community's level scheme; an unsaved default (the MEE6 curve) when it has none."""
    scheme = LevelScheme.objects.filter(community=community).prefetch_related("levels").first()
    return scheme if scheme is not None else LevelScheme(community=community)


def level_curve(community: Community) -> LevelCurve:
    return LevelCurve.of(level_scheme(community))


def community_rules(community: Community) -> QuerySet[PointRule]:
    """The community's earning rules in the order they are listed and applied."""
    return PointRule.objects.filter(community=community).order_by("position", "key")


def points_state(community: Community) -> PointsState | None:
    """Where awarding stopped (``None`` before the first run)."""
    return PointsState.objects.filter(community=community).first()


def member_balance(member: Member) -> int:
    """The member's points: the sum of their ledger entries."""
    total = PointEntry.objects.filter(member=member).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def member_level(member: Member, *, curve: LevelCurve | None = None) -> LevelStatus:
    """The member's level from their balance, and what the next level needs."""
    curve = curve or level_curve(member.community)
    return level_status(curve, member_balance(member))


def level_ups(member: Member) -> QuerySet[LevelUp]:
    """Levels the member reached, each with when it first happened, lowest first."""
    return LevelUp.objects.filter(member=member).order_by("level")


def points_history(member: Member, *, limit: int = 50, offset: int = 0) -> list[PointEntry]:
    """The member's ledger, newest first; each entry carries ``balance_after``."""
    entries = list(
        PointEntry.objects.filter(member=member)
        .select_related("rule", "source_event", "actor", "reverses")
        .order_by("-occurred_at", "-id")[offset : offset + limit]
    )
    if not entries:
        return entries
    newest = entries[0]
    later = PointEntry.objects.filter(member=member).filter(
        Q(occurred_at__gt=newest.occurred_at) | Q(occurred_at=newest.occurred_at, id__gt=newest.id)
    )
    balance = member_balance(member) - int(later.aggregate(total=Sum("amount"))["total"] or 0)
    reversed_ids = set(
        PointEntry.objects.filter(reverses__in=[e.pk for e in entries]).values_list(
            "reverses_id", flat=True
        )
    )
    for entry in entries:
        entry.balance_after = balance
        entry.is_reversed = entry.pk in reversed_ids
        balance -= entry.amount
    return entries


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    member_id: int
    display_name: str
    points: int
    balance: int
    level: int
    level_name: str


@dataclass(frozen=True)
class Leaderboard:
    period: str
    start: dt.date | None
    end: dt.date
    rows: list[LeaderboardRow]


def period_bounds(
    community: Community, period: str, as_of: dt.date | None = None
) -> tuple[dt.date | None, dt.date]:
    """(first day or None for all time, last day) of a leaderboard period."""
    if period not in PERIODS:
        raise ValueError(period)
    end = as_of or latest_event_day(community) or timezone.localdate(timezone=community.zoneinfo)
    days = PERIODS[period]
    return (end - dt.timedelta(days=days - 1) if days else None), end


def leaderboard(
    community: Community,
    period: str = "week",
    *,
    limit: int = 20,
    as_of: dt.date | None = None,
) -> Leaderboard:
    """Top members by points earned in the week or month ending ``as_of`` (default: the day
    of the latest event, else today), or by balance for "all"; bots are left out."""
    start, end = period_bounds(community, period, as_of)
    curve = level_curve(community)
    if start is None:
        scored = [
            (member_id, balance, balance)
            for member_id, balance in MemberPoints.objects.filter(
                community=community, member__is_bot=False
            )
            .exclude(balance=0)
            .order_by("-balance", "member__display_name", "member_id")
            .values_list("member_id", "balance")[:limit]
        ]
    else:
        sums = (
            PointEntry.objects.filter(community=community, day__gte=start, day__lte=end)
            .exclude(member__is_bot=True)
            .values("member_id")
            .annotate(points=Sum("amount"))
            .exclude(points=0)
            .order_by("-points", "member_id")[:limit]
        )
        ranked = [(row["member_id"], row["points"]) for row in sums]
        balances = dict(
            MemberPoints.objects.filter(member_id__in=[m for m, _ in ranked]).values_list(
                "member_id", "balance"
            )
        )
        scored = [(member_id, points, balances.get(member_id, 0)) for member_id, points in ranked]
    names = dict(
        Member.objects.filter(pk__in=[m for m, *_ in scored]).values_list("id", "display_name")
    )
    rows: list[LeaderboardRow] = []
    previous = None
    for position, (member_id, points, balance) in enumerate(scored, 1):
        rank = rows[-1].rank if previous == points else position
        previous = points
        number = curve.level_of(balance)
        rows.append(
            LeaderboardRow(
                rank=rank,
                member_id=member_id,
                display_name=names.get(member_id, ""),
                points=points,
                balance=balance,
                level=number,
                level_name=curve.name(number),
            )
        )
    return Leaderboard(period=period, start=start, end=end, rows=rows)
