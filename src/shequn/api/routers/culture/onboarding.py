"""/communities/{slug}/onboarding: the welcome message's template, its text rendered for a
platform, the members still waiting for it, and marking them onboarded."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.routers.culture.common import refused, router
from shequn.api.routers.culture.schemas import (
    MAX_ID,
    OnboardingMarkedOut,
    OnboardingMarkIn,
    OnboardingMessageOut,
    OnboardingPendingOut,
    OnboardingTemplateIn,
    OnboardingTemplateOut,
    path_id,
)
from shequn.communities.models import Community
from shequn.culture.errors import CultureError, OnboardingError
from shequn.culture.onboarding import PLACEHOLDERS, render_onboarding, template_text
from shequn.culture.selectors import pending_onboarding
from shequn.culture.services import (
    do_mark_all_onboarded,
    do_mark_onboarded,
    do_reset_onboarding_template,
    do_save_onboarding_template,
    do_unmark_onboarded,
)
from shequn.culture.services.common import Problems, as_day
from shequn.members.models import Member


class RenderQuery(Schema):
    platform: str = Field("wechat", max_length=32, description="wechat, discord, slack, …")
    member_id: int | None = Field(None, ge=1, le=MAX_ID, description="Default: a greeting.")
    lang: str | None = Field(None, pattern="^(en|zh-hans)$", description="Default: the request's.")


class PendingQuery(Schema):
    joined_since: dt.date | None = Field(None, description="Only those who joined since.")
    limit: int = Field(100, ge=1, le=1_000)


def _template(community: Community) -> dict[str, Any]:
    text, is_default = template_text(community)
    return {
        "text": text,
        "is_default": is_default,
        "placeholders": {name: str(words) for name, words in PLACEHOLDERS.items()},
    }


@router.get(
    "/communities/{slug}/onboarding/template",
    response={200: OnboardingTemplateOut, 404: Problem},
    summary="The welcome message's template and its placeholders",
)
def get_template(request: HttpRequest, slug: str) -> dict[str, Any]:
    return _template(community_or_404(request, slug))


@router.put(
    "/communities/{slug}/onboarding/template",
    response={200: OnboardingTemplateOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Save the welcome message's template (operators)",
)
def put_template(request: HttpRequest, slug: str, payload: OnboardingTemplateIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        do_save_onboarding_template(community, payload.text, actor=request.user)
    except CultureError as exc:
        return refused(request, exc)
    return _template(community)


@router.delete(
    "/communities/{slug}/onboarding/template",
    response={200: OnboardingTemplateOut, 403: Problem, 404: Problem},
    summary="Go back to the default template (operators)",
)
def reset_template(request: HttpRequest, slug: str) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_reset_onboarding_template(community, actor=request.user)
    return _template(community)


@router.get(
    "/communities/{slug}/onboarding/message",
    response={200: OnboardingMessageOut, 404: Problem, 422: Problem},
    summary="The welcome message for a platform (plain text, Markdown, Slack or Telegram)",
)
def get_message(request: HttpRequest, slug: str, query: Query[RenderQuery]) -> Any:
    community = community_or_404(request, slug)
    try:
        member = None
        if query.member_id is not None:
            member = Member.objects.filter(community=community, pk=query.member_id).first()
            if member is None:
                raise OnboardingError(_("must be a member of this community"), field="member_id")
        message = render_onboarding(
            community,
            platform=query.platform,
            member=member,
            language=query.lang,
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except CultureError as exc:
        return refused(request, exc)
    return vars(message)


@router.get(
    "/communities/{slug}/onboarding/pending",
    response={200: OnboardingPendingOut, 404: Problem},
    summary="Members who have not received the welcome message yet, newest first",
)
def get_pending(request: HttpRequest, slug: str, query: Query[PendingQuery]) -> dict[str, Any]:
    community = community_or_404(request, slug)
    since = None
    if query.joined_since is not None:
        # Within the years a local midnight converts to UTC and back without overflowing.
        day = min(max(query.joined_since, dt.date(1900, 1, 1)), dt.date(9000, 1, 1))
        since = dt.datetime.combine(day, dt.time(), community.zoneinfo)
    pending = pending_onboarding(community, joined_since=since)
    return {
        "count": pending.count(),
        "members": list(pending.values("id", "display_name", "joined_at")[: query.limit]),
    }


@router.post(
    "/communities/{slug}/onboarding/onboarded",
    response={200: OnboardingMarkedOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Mark members as onboarded: by id, or all waiting (who joined before a day)",
)
def mark_onboarded(request: HttpRequest, slug: str, payload: OnboardingMarkIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        if payload.all:
            problems = Problems()
            before = as_day(payload.joined_before, "joined_before", problems)
            problems.raise_if_any(OnboardingError)
            marked = do_mark_all_onboarded(
                community, joined_before=before, platform=payload.platform, actor=request.user
            )
        else:
            marked = do_mark_onboarded(
                community, payload.member_ids, platform=payload.platform, actor=request.user
            )
    except CultureError as exc:
        return refused(request, exc)
    return {"marked": marked}


@router.delete(
    "/communities/{slug}/onboarding/onboarded/{member_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Put a member back among those waiting (operators)",
)
def unmark_onboarded(
    request: HttpRequest, slug: str, member_id: int = path_id("The member's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_unmark_onboarded(
        get_object_or_404(Member, community=community, pk=member_id), actor=request.user
    )
    return Status(204, None)
