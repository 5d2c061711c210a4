"""Read queries on interaction data. Analytics read rollups, never raw events in bulk."""

from __future__ import annotations

from django.db.models import QuerySet, Sum

from shequn.communities.models import Community
from shequn.interactions.models import ROLLUP_COUNTERS, ImportRun, MemberDailyRollup
from shequn.members.models import Member


def recent_imports(community: Community, limit: int = 10) -> QuerySet[ImportRun]:
    return ImportRun.objects.filter(community=community).order_by("-started_at", "-id")[:limit]


def member_totals(member: Member) -> dict[str, int]:
    """Lifetime counters of one member, summed from the daily rollups."""
    sums = MemberDailyRollup.objects.filter(member=member).aggregate(
        **{counter: Sum(counter) for counter in ROLLUP_COUNTERS}
    )
    return {counter: sums[counter] or 0 for counter in ROLLUP_COUNTERS}
