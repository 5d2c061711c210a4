"""Read queries on members."""

from __future__ import annotations

from django.db.models import Max, Q, QuerySet, Sum

from shequn.communities.models import Community
from shequn.members.models import Member


class MemberNotFound(LookupError):
    pass


class AmbiguousMember(LookupError):
    """A name matched several members; the caller should use an id."""

    def __init__(self, key: str, candidates: list[Member]) -> None:
        super().__init__(key)
        self.key = key
        self.candidates = candidates


SORTS = {
    "name": ("display_name", "id"),
    "joined": ("joined_at", "id"),
    "messages": ("-message_total", "display_name"),
    "last_active": ("-last_active", "display_name"),
}


def get_member(community: Community, key: str | int) -> Member:
    """Find a member by id, or by exact display name, handle or platform user id."""
    members = Member.objects.filter(community=community)
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        found = members.filter(pk=int(key)).first()
        if found is not None:
            return found
    text = str(key)
    matches = list(
        members.filter(
            Q(display_name=text) | Q(identities__handle=text) | Q(identities__platform_user_id=text)
        ).distinct()[:10]
    )
    if not matches:
        raise MemberNotFound(text)
    if len(matches) > 1:
        raise AmbiguousMember(text, matches)
    return matches[0]


def search_members(
    community: Community,
    *,
    search: str = "",
    role: str | None = None,
    channel_id: int | None = None,
    sort: str = "name",
) -> QuerySet[Member]:
    """Members with lifetime message totals and last active day, read from daily rollups."""
    members = Member.objects.filter(community=community)
    if search:
        members = members.filter(
            Q(display_name__icontains=search)
            | Q(identities__handle__icontains=search)
            | Q(identities__platform_user_id=search)
        )
    if role:
        members = members.filter(role=role)
    if channel_id:
        members = members.filter(identities__channel_id=channel_id)
    members = members.annotate(
        message_total=Sum("daily_rollups__messages"),
        last_active=Max("daily_rollups__day"),
    )
    if search or channel_id:
        members = members.distinct()
    return members.order_by(*SORTS.get(sort, SORTS["name"]))
