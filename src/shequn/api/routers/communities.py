"""/communities: the communities the account can see, and their profiles."""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import role_in, visible_communities
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.pagination import Page
from shequn.communities.models import Community
from shequn.communities.services import CommunityError, do_update_community_profile

router = Router(tags=["communities"])


class CommunityOut(Schema):
    slug: str
    name: str
    carrier: str
    positioning: str
    mission: str
    values_advocated: list[str]
    values_opposed: list[str]
    time_zone: str
    created_at: dt.datetime


class CommunityDetail(CommunityOut):
    your_role: str


class CommunityPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    carrier: str | None = Field(None, max_length=10_000)
    positioning: str | None = Field(None, max_length=10_000)
    mission: str | None = Field(None, max_length=10_000)
    values_advocated: list[str] | None = Field(None, max_length=100)
    values_opposed: list[str] | None = Field(None, max_length=100)
    time_zone: str | None = Field(None, min_length=1, max_length=64)


def _detail(request: HttpRequest, community: Community) -> dict:
    return {
        **CommunityOut.from_orm(community).dict(),
        "your_role": role_in(request.user, community),
    }


@router.get("/communities", response=list[CommunityOut], summary="List your communities")
@paginate(Page)
def list_communities(request: HttpRequest):  # type: ignore[no-untyped-def]
    return visible_communities(request.user).order_by("name")


@router.get(
    "/communities/{slug}",
    response={200: CommunityDetail, 404: Problem},
    summary="One community's profile",
)
def get_community(request: HttpRequest, slug: str) -> dict:
    community = community_or_404(request, slug)
    return {
        **CommunityOut.from_orm(community).dict(),
        "your_role": role_in(request.user, community),
    }


@router.patch(
    "/communities/{slug}",
    response={200: CommunityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a community's profile (operators)",
)
def patch_community(request: HttpRequest, slug: str, payload: CommunityPatch) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    changes = payload.dict(exclude_unset=True)
    for key in ("values_advocated", "values_opposed"):
        if changes.get(key) is not None:
            changes[key] = [value.strip() for value in changes[key] if value.strip()]
    changes = {key: value for key, value in changes.items() if value is not None}
    try:
        do_update_community_profile(community, actor=request.user, **changes)
    except (CommunityError, DjangoValidationError) as exc:
        message = "; ".join(exc.messages) if hasattr(exc, "messages") else str(exc)
        raise HttpError(422, message) from None
    return {
        **CommunityOut.from_orm(community).dict(),
        "your_role": role_in(request.user, community),
    }
