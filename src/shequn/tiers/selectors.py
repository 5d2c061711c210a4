"""Read queries on tiers: the funnel, monthly flows, members at risk, one member's tier and path.

Figures for the community (funnel, flows, at risk) leave out founders and operators (active by
office) and bots; the funnel reports them on separate rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth

from shequn.communities.models import Community
from shequn.members.models import Member, Role
from shequn.tiers.models import TIER_RANK, MemberTier, Tier, TierChange, TierPolicy, TierRun

FUNNEL_ORDER = (Tier.ADVOCATE, Tier.PARTICIPANT, Tier.FOLLOWER, Tier.LAPSED)


def tier_policy(community: Community) -> TierPolicy:
    """The community's tier policy, created with the defaults on first use."""
    policy, _created = TierPolicy.objects.get_or_create(community=community)
    return policy


def latest_tier_run(community: Community) -> TierRun | None:
    return (
        TierRun.objects.filter(community=community, finished_at__isnull=False)
        .order_by("-id")
        .first()
    )


def tier_funnel(community: Community) -> list[dict[str, Any]]:
    """The tier funnel today: a row per tier, highest first, with ``count`` and ``share`` of the
    community's members (staff and bots left out) and ``staff`` (founders and operators in that
    tier, not counted). Two last rows, ``tier`` "staff" and "bots", give those totals
    (``share`` None); bots have no tier."""
    counts: dict[tuple[str, bool], int] = {
        (tier, is_staff): n
        for tier, is_staff, n in MemberTier.objects.filter(community=community)
        .values_list("tier", "is_staff")
        .annotate(n=Count("pk"))
        .order_by()
    }
    total = sum(n for (_tier, is_staff), n in counts.items() if not is_staff)
    rows: list[dict[str, Any]] = []
    for tier in FUNNEL_ORDER:
        count = counts.get((tier.value, False), 0)
        rows.append(
            {
                "tier": tier.value,
                "label": str(tier.label),
                "count": count,
                "share": count / total if total else 0.0,
                "staff": counts.get((tier.value, True), 0),
            }
        )
    from django.utils.translation import gettext as _

    rows.append(
        {
            "tier": "staff",
            "label": _("founders and operators"),
            "count": sum(n for (_tier, is_staff), n in counts.items() if is_staff),
            "share": None,
            "staff": 0,
        }
    )
    rows.append(
        {
            "tier": "bots",
            "label": _("bots"),
            "count": Member.objects.filter(community=community, is_bot=True).count(),
            "share": None,
            "staff": 0,
        }
    )
    return rows


def flow_kind(from_tier: str | None, to_tier: str) -> str:
    """new (first tier), came_back (from lapsed), lapsed, up or down."""
    if from_tier is None:
        return "new"
    if from_tier == Tier.LAPSED:
        return "came_back"
    if to_tier == Tier.LAPSED:
        return "lapsed"
    return "up" if TIER_RANK[to_tier] > TIER_RANK[from_tier] else "down"


def monthly_tier_flows(community: Community, months: int = 12) -> list[dict[str, Any]]:
    """Moves between tiers per month, for the ``months`` up to the last run's as-of month:
    ``month`` ("2016-05"), ``from_tier`` ("new" for a first tier), ``to_tier``, ``count`` and
    ``kind`` (new, up, down, lapsed, came_back). Staff and bots are left out."""
    run = latest_tier_run(community)
    if run is None:
        return []
    end = run.as_of.replace(day=1)
    start = end
    for _ in range(months - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    rows = (
        TierChange.objects.filter(
            community=community,
            changed_on__gte=start,
            member__role=Role.MEMBER,
            member__is_bot=False,
        )
        .annotate(month=TruncMonth("changed_on"))
        .values_list("month", "from_tier", "to_tier")
        .annotate(count=Count("pk"))
        .order_by("month", "from_tier", "to_tier")
    )
    flows = []
    for month, from_tier, to_tier, count in rows:
        flows.append(
            {
                "month": f"{month:%Y-%m}",
                "from_tier": from_tier or "new",
                "to_tier": to_tier,
                "count": count,
                "kind": flow_kind(from_tier, to_tier),
            }
        )
    return flows


def members_at_risk(community: Community, limit: int = 50) -> list[MemberTier]:
    """Participants and advocates whose activity has fallen for several weeks, steepest fall
    first; each has ``member``, ``risk`` (the numbers) and ``action`` (what to do)."""
    return list(
        MemberTier.objects.filter(community=community, at_risk=True, is_staff=False)
        .select_related("member")
        .order_by("-risk_drop", "member__display_name", "member_id")[:limit]
    )


def member_tier(member: Member) -> MemberTier | None:
    """The member's tier, ``evaluated_on`` the as-of day of the latest run: a run rewrites only
    the rows that change, and every run judges every member."""
    state = MemberTier.objects.filter(member=member).first()
    if state is not None:
        run = latest_tier_run(member.community)
        if run is not None:
            state.evaluated_on = run.as_of
    return state


def member_tier_path(member: Member) -> list[TierChange]:
    """The member's tier changes, oldest first (the first has ``from_tier`` None)."""
    return list(TierChange.objects.filter(member=member).order_by("changed_on", "id"))


def member_progress(member: Member) -> dict[str, Any]:
    """What the member still needs for their next tier, in words: ``tier``, ``next_tier``
    (None for an advocate: the steps then say what keeps them one), ``steps`` (the stored
    numbers) and ``texts`` (each step rendered). Empty if the member has no tier (a bot, or no
    run yet)."""
    from shequn.tiers.reasons import describe_progress

    state = member_tier(member)
    if state is None:
        return {}
    progress = state.progress or {}
    return {
        "tier": state.tier,
        "next_tier": progress.get("next_tier"),
        "steps": progress.get("steps", []),
        "texts": describe_progress(progress),
    }


def tier_counts_by_member_ids(member_ids: Iterable[int]) -> dict[int, str]:
    """Member id -> tier, for a page of members (one query)."""
    return dict(
        MemberTier.objects.filter(member_id__in=list(member_ids)).values_list("member_id", "tier")
    )


def community_tiers(community: Community) -> QuerySet[MemberTier]:
    """Every tiered member of the community with its member row (for lists and exports)."""
    return MemberTier.objects.filter(community=community).select_related("member")


def last_steps(
    day: dt.date,
    *,
    community: Community | None = None,
    members: list[int] | None = None,
    strictly_before: bool = False,
) -> dict[int, tuple[str, dt.date]]:
    """Each member's tier and the day they took it, from their stored paths: the last step on
    (or strictly before) ``day``, for a community's members or the given ones."""
    from django.db import connection

    from shequn.tiers.inputs import among, day_param

    if members is not None:
        term, params = among("member_id", members)
    else:
        term, params = "community_id = %s", [community.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT member_id, to_tier, changed_on FROM ("
            " SELECT member_id, to_tier, changed_on, ROW_NUMBER() OVER"
            " (PARTITION BY member_id ORDER BY changed_on DESC, id DESC) AS latest"
            f" FROM {TierChange._meta.db_table} WHERE {term}"
            f" AND changed_on {'<' if strictly_before else '<='} %s"
            ") AS path WHERE latest = 1",
            [*params, day_param(day)],
        )
        return {
            member: (tier, on if isinstance(on, dt.date) else dt.date.fromisoformat(on))
            for member, tier, on in cursor.fetchall()
        }


def tiers_on(community: Community, day: dt.date) -> dict[int, str] | None:
    """Each member's tier on ``day``; None while the community has no finished tier run."""
    if latest_tier_run(community) is None:
        return None
    return {member: tier for member, (tier, _on) in last_steps(day, community=community).items()}
