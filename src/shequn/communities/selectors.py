"""Read queries on communities."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from shequn.communities.models import Community


class CommunityNotFound(LookupError):
    pass


def get_community(slug: str) -> Community:
    try:
        return Community.objects.get(slug=slug)
    except Community.DoesNotExist:
        raise CommunityNotFound(slug) from None


def communities_with_counts() -> QuerySet[Community]:
    """Communities with their member and channel counts; lapsed and merged members are excluded."""
    return Community.objects.annotate(
        member_count=Count("members", filter=Q(members__left_at__isnull=True), distinct=True),
        channel_count=Count("channels", distinct=True),
    ).order_by("name")


def member_counts_by_role(community: Community) -> dict[str, int]:
    """Current members (not left, not muted) by role, and how many have left or muted."""
    from shequn.members.models import Member, Role

    members = Member.objects.filter(community=community)
    current = members.filter(left_at__isnull=True, muted_at__isnull=True)
    counts = dict.fromkeys(Role.values, 0)
    for row in current.values("role").annotate(n=Count("id")):
        counts[row["role"]] = row["n"]
    counts["gone"] = members.count() - sum(counts.values())
    counts["bots"] = current.filter(is_bot=True).count()
    return counts


def channels_with_counts(community: Community) -> QuerySet:
    return community.channels.annotate(identity_count=Count("identities", distinct=True)).order_by(
        "platform", "name"
    )
