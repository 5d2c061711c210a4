"""/communities/{slug}/members and identities: who is in a community, on which channels."""

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.pagination import Page
from shequn.interactions.selectors import member_totals
from shequn.members.models import Identity, Member, Role
from shequn.members.selectors import search_members

router = Router(tags=["members"])


class ChannelOut(Schema):
    id: int
    platform: str
    name: str
    external_id: str


class IdentityOut(Schema):
    id: int
    member_id: int
    channel: ChannelOut
    platform_user_id: str
    handle: str


class MemberOut(Schema):
    id: int
    display_name: str
    role: str
    is_bot: bool
    key: str
    joined_at: dt.datetime | None
    left_at: dt.datetime | None
    muted_at: dt.datetime | None


class MemberDetail(MemberOut):
    identities: list[IdentityOut]
    totals: dict[str, int]


class MemberFilters(Schema):
    search: str = Field("", max_length=200, description="Part of a name or handle, or a user id.")
    role: Role | None = None
    channel_id: int | None = Field(None, ge=1, le=2**62)
    sort: str = Field("name", pattern="^(name|joined|messages|last_active)$")


@router.get(
    "/communities/{slug}/members",
    response={200: list[MemberOut], 404: Problem},
    summary="Members, searchable and sortable",
)
@paginate(Page)
def list_members(request: HttpRequest, slug: str, filters: Query[MemberFilters]):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    return search_members(
        community,
        search=filters.search.strip(),
        role=filters.role,
        channel_id=filters.channel_id,
        sort=filters.sort,
    )


@router.get(
    "/communities/{slug}/members/{member_id}",
    response={200: MemberDetail, 404: Problem},
    summary="One member, with their identities on every channel and lifetime totals",
)
def get_member(request: HttpRequest, slug: str, member_id: int) -> dict:
    community = community_or_404(request, slug)
    member = get_object_or_404(Member, community=community, pk=member_id)
    identities = Identity.objects.filter(member=member).select_related("channel")
    return {
        **MemberOut.from_orm(member).dict(),
        "identities": list(identities),
        "totals": member_totals(member),
    }


class IdentityFilters(Schema):
    channel_id: int | None = Field(None, ge=1, le=2**62)
    platform: str | None = Field(None, max_length=32)
    platform_user_id: str | None = Field(None, max_length=255)


@router.get(
    "/communities/{slug}/identities",
    response={200: list[IdentityOut], 404: Problem},
    summary="Accounts on the community's channels and the member each belongs to",
)
@paginate(Page)
def list_identities(request: HttpRequest, slug: str, filters: Query[IdentityFilters]):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    identities = Identity.objects.filter(member__community=community).select_related("channel")
    if filters.channel_id:
        identities = identities.filter(channel_id=filters.channel_id)
    if filters.platform:
        identities = identities.filter(channel__platform=filters.platform)
    if filters.platform_user_id:
        identities = identities.filter(platform_user_id=filters.platform_user_id)
    return identities.order_by("id")
