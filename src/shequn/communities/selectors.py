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
