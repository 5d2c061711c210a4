"""Read queries on members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from shequn.communities.models import Channel, Community
from shequn.members.models import Identity, Member, MemberMerge, Role


class MemberNotFound(LookupError):
    pass


class AmbiguousMember(LookupError):
    """A name matched several members; the caller should use an id."""

    def __init__(self, key: str, candidates: list[Member]) -> None:
        super().__init__(key)
        self.key = key
        self.candidates = candidates


# The list's sorts, each ending in unique tie-breakers so pages never overlap; each one matches
# an index on Member (see its Meta and migration 0003), so a page is an index range scan.
SORTS: dict[str, tuple[Any, ...]] = {
    "name": ("display_name", "id"),
    "messages": ("-message_total", "display_name", "id"),
    "last_active": (F("last_active_on").desc(nulls_last=True), "display_name", "id"),
    "joined": (F("joined_at").desc(nulls_last=True), "display_name", "id"),
}
PAGE_SIZE = 50
LIST_HEAD = 1000


@dataclass(frozen=True)
class MemberFilters:
    """What the members list is narrowed to and sorted by.

    ``bots``: "" all, "hide", "only"; ``status``: "" all, "current" (neither left nor muted),
    "gone" (left or muted: the seed's no-longer-members); ``tier``: "" all, a tier (ordinary
    members in it, as the tier funnel counts them), "staff" (founders and operators).
    """

    search: str = ""
    role: str = ""
    channel_id: int | None = None
    bots: str = ""
    status: str = ""
    tier: str = ""
    sort: str = "name"


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
    """Members with lifetime message totals and last active day (kept on Member by the rollups);
    ``last_active`` is kept as an alias for older callers."""
    filters = MemberFilters(search=search, role=role or "", channel_id=channel_id, sort=sort)
    return filter_members(community, filters).annotate(last_active=F("last_active_on"))


def filter_members(
    community: Community, filters: MemberFilters, *, for_count: bool = False
) -> QuerySet[Member]:
    """The community's members narrowed and sorted as ``filters`` say, without joins: accounts
    are matched by semi-joins, so no DISTINCT and no GROUP BY is needed.

    ``for_count``: the channel test as ``IN (accounts on the channel)``, cheapest when every
    member must be looked at (a count); otherwise as a per-member EXISTS, cheapest for a page,
    which stops after the first matches along a sort index.
    """
    members = Member.objects.filter(community=community)
    text = filters.search.strip()
    if text:
        # Case-insensitive matching upper-cases every name on PostgreSQL: 3-5x the cost of a
        # plain LIKE. A term without letter case (Chinese, digits) needs none of it.
        lookup = "icontains" if text.lower() != text.upper() else "contains"
        accounts = Identity.objects.filter(channel__community=community)
        members = members.filter(
            Q(**{f"display_name__{lookup}": text})
            # Two semi-joins, not one with OR: the exact id is an index seek, the handle a scan
            # of the (channel, member, handle) index.
            | Q(pk__in=accounts.filter(**{f"handle__{lookup}": text}).values("member_id"))
            | Q(pk__in=accounts.filter(platform_user_id=text).values("member_id"))
        )
    if filters.role:
        members = members.filter(role=filters.role)
    if filters.channel_id:
        on_channel = Identity.objects.filter(channel_id=filters.channel_id)
        if for_count:
            members = members.filter(pk__in=on_channel.values("member_id"))
        else:
            members = members.filter(Exists(on_channel.filter(member=OuterRef("pk"))))
    if filters.bots == "hide":
        members = members.filter(is_bot=False)
    elif filters.bots == "only":
        members = members.filter(is_bot=True)
    if filters.status == "current":
        members = members.filter(left_at__isnull=True, muted_at__isnull=True)
    elif filters.status == "gone":
        members = members.filter(Q(left_at__isnull=False) | Q(muted_at__isnull=False))
    if filters.tier == "staff":
        members = members.exclude(role=Role.MEMBER)
    elif filters.tier:
        # The tiers app's row per member (reverse one-to-one "tier_state"), as the funnel counts.
        members = members.filter(tier_state__tier=filters.tier, tier_state__is_staff=False)
    if for_count:
        return members.order_by()
    return members.order_by(*SORTS.get(filters.sort, SORTS["name"]))


class _ListRows:
    """The members list as Paginator sees it (a count and slices), in few, cheap queries.

    The database first ranks only ids, along a sort index that also holds the filter columns
    (an index-only scan: rows are not read to be skipped), and rows are read for the one page
    shown. The first ``LIST_HEAD`` + 1 ids are fetched at once: when a filter leaves no more than
    that (a search, a role), their number is the count and no second pass over the community
    is needed; otherwise the count is its own query, and a page beyond the head its own id query.
    """

    def __init__(self, community: Community, filters: MemberFilters) -> None:
        self._community = community
        self._filters = filters
        self._ids = filter_members(community, filters).values_list("pk", flat=True)
        self._head: list[int] = list(self._ids[: LIST_HEAD + 1])

    def count(self) -> int:
        if len(self._head) <= LIST_HEAD:
            return len(self._head)
        return filter_members(self._community, self._filters, for_count=True).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Member]:
        start, stop = window.start or 0, window.stop
        if stop is not None and (stop <= len(self._head) or len(self._head) <= LIST_HEAD):
            ids = self._head[start:stop]
        else:
            ids = list(self._ids[start:stop])
        rows = Member.objects.in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]


def members_page(
    community: Community,
    filters: MemberFilters,
    page_number: int | str | None = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of the members list; each member carries ``channels`` (its distinct channels).

    At most five queries whatever the page size (see ``_ListRows``), plus one for the page's
    accounts.
    """
    page = Paginator(_ListRows(community, filters), per_page).get_page(page_number)
    members = list(page.object_list)
    channels: dict[int, dict[int, Channel]] = {member.pk: {} for member in members}
    for identity in (
        Identity.objects.filter(member_id__in=channels)
        .select_related("channel")
        .only("member_id", "channel__platform", "channel__name", "channel__external_id")
        .order_by("channel__platform", "channel__name", "channel_id")
    ):
        channels[identity.member_id][identity.channel_id] = identity.channel
    for member in members:
        member.channels = list(channels[member.pk].values())
    page.object_list = members
    return page


def channels_of(community: Community) -> list[Channel]:
    """The community's channels, for the list's channel filter and labels."""
    return list(Channel.objects.filter(community=community).order_by("platform", "name", "id"))


def community_member(community: Community, member_id: int) -> Member | None:
    """A member of this community by id; None for another community's member."""
    return Member.objects.filter(community=community, pk=member_id).first()


def member_identities(member: Member) -> QuerySet[Identity]:
    """The member's accounts on every channel, grouped by platform and channel."""
    return (
        Identity.objects.filter(member=member)
        .select_related("channel")
        .order_by("channel__platform", "channel__name", "channel_id", "handle", "id")
    )


def member_merges(member: Member) -> QuerySet[MemberMerge]:
    """Merges into this member, newest first, undone ones included (they are history too)."""
    return MemberMerge.objects.filter(target=member).order_by("-created_at", "-id")
