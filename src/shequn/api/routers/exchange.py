"""/communities/{slug}/exchange/…: needs and offers, suggested introductions with their
evidence, connections and their outcomes, the monthly report, the settings and public form.

Everyone with access reads; operators write, through ``shequn.exchange.services``; a refusal
answers 422 naming every field at fault, and nothing is written."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, model_validator

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can, role_in
from shequn.api.access import community_or_404
from shequn.api.errors import Problem, problem
from shequn.api.pagination import Page
from shequn.communities.models import Community
from shequn.exchange import selectors
from shequn.exchange.models import Connection, ExchangeSettings, Post
from shequn.exchange.services import (
    ExchangeError,
    do_approve_post,
    do_close_post,
    do_close_public_form,
    do_confirm_connection,
    do_create_post,
    do_dismiss_suggestion,
    do_open_public_form,
    do_record_outcome,
    do_reject_post,
    do_reopen_post,
    do_update_post,
    do_update_settings,
)
from shequn.members.models import Member

router = Router(tags=["exchange"])

MAX_ID = 2**62
BASE = "/communities/{slug}/exchange"
Kind = Literal["need", "offer"]


def _id(description: str) -> Any:
    return Path(..., ge=1, le=MAX_ID, description=description)


# ---------------------------------------------------------------------------- schemas
class Strict(Schema):
    """A request body: unknown fields are refused, and so are NUL characters."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def no_nul_characters(self) -> "Strict":
        for name, value in self:
            values = value if isinstance(value, list) else [value]
            if any(isinstance(item, str) and "\x00" in item for item in values):
                raise ValueError(f"{name}: NUL characters are not allowed")
        return self


class PostIn(Strict):
    kind: str = Field(max_length=8, description="need or offer")
    member_id: int = Field(ge=1, le=MAX_ID, description="Whose need or offer it is.")
    title: str = Field(max_length=200)
    description: str = Field("", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=10)


class PostPatch(Strict):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    tags: list[str] | None = Field(None, max_length=10)


class ReasonIn(Strict):
    reason: str = Field("", max_length=500)


class ApproveIn(Strict):
    member_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The member who sent it (or create_member)."
    )
    create_member: bool = Field(
        False, description="Make a new member from the submitter's name and contact."
    )


class PairIn(Strict):
    need_id: int = Field(ge=1, le=MAX_ID)
    offer_id: int = Field(ge=1, le=MAX_ID)


class ConnectIn(PairIn):
    note: str = Field("", max_length=500)
    close_need: bool = Field(False, description="The need is met: close it.")


class OutcomeIn(Strict):
    outcome: str = Field(max_length=8, description="helped, deal or none")
    value: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    currency: str = Field("", max_length=3, description="ISO 4217, required with a value.")
    note: str = Field("", max_length=500)


class SettingsPatch(Strict):
    points_for_offer: int | None = Field(None, ge=0, le=10_000)
    points_for_need: int | None = Field(None, ge=0, le=10_000)
    min_score: float | None = Field(None, ge=0, le=1)


class PostFilters(Schema):
    kind: Kind | None = None
    status: Literal["pending", "open", "closed", "rejected"] | None = None
    tag: str = Field("", max_length=40)
    q: str = Field("", max_length=200, description="Words in the title, text or name.")


class SuggestionFilters(Schema):
    need_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this need's pairs.")
    offer_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this offer's pairs.")
    limit: int = Field(20, ge=1, le=200)


class ReportFilters(Schema):
    months: int = Field(12, ge=1, le=120, description="How many months, up to this one.")


class PostOut(Schema):
    id: int
    kind: str
    status: str
    source: str
    member_id: int | None
    display_name: str
    title: str
    description: str
    tags: list[str]
    submitter_name: str
    submitter_contact: str
    status_note: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


class Evidence(Schema):
    score: float
    tag_score: float
    text_score: float
    shared_tags: list[str]
    shared_terms: list[str]


class SuggestionOut(Schema):
    need: PostOut
    offer: PostOut
    evidence: Evidence


class ConnectionOut(Schema):
    id: int
    need_id: int
    offer_id: int
    need_member_id: int | None
    offer_member_id: int | None
    score: float
    evidence: dict[str, Any]
    note: str
    confirmed_at: dt.datetime
    event_id: int | None
    outcome: str
    value: Decimal | None
    currency: str
    outcome_note: str
    outcome_at: dt.datetime | None


class MonthOut(Schema):
    month: dt.date
    connections: int
    helped: int
    deals: int
    no_result: int
    not_reported: int
    value: dict[str, Decimal]


class SettingsOut(Schema):
    points_for_offer: int
    points_for_need: int
    min_score: float
    public_form_on: bool
    public_url: str | None


# ------------------------------------------------------------------------ serialisers
def _refused(request: HttpRequest, error: ExchangeError) -> HttpResponse:
    from shequn.api.api import api

    errors = [
        {"loc": ["body", field] if field else ["body"], "msg": message}
        for field, message in error.problems.items()
    ]
    return problem(api, request, 422, _("Refused"), str(error), errors)


def _operator(request: HttpRequest, community: Community) -> bool:
    return can(role_in(request.user, community), AccessRole.OPERATOR)


def _post_out(post: Post, *, contact: bool = True) -> dict[str, Any]:
    """A post; ``contact``: with the public submitter's contact (operators only)."""
    return {
        "id": post.pk,
        "kind": post.kind,
        "status": post.status,
        "source": post.source,
        "member_id": post.member_id,
        "display_name": post.person,
        "title": post.title,
        "description": post.description,
        "tags": post.tag_names,
        "submitter_name": post.submitter_name,
        "submitter_contact": post.submitter_contact if contact else "",
        "status_note": post.status_note,
        "created_at": post.created_at,
        "closed_at": post.closed_at,
    }


def _connection_out(connection: Connection) -> dict[str, Any]:
    return {
        "id": connection.pk,
        "need_id": connection.need_id,
        "offer_id": connection.offer_id,
        "need_member_id": connection.need.member_id,
        "offer_member_id": connection.offer.member_id,
        "score": connection.score,
        "evidence": connection.evidence,
        "note": connection.note,
        "confirmed_at": connection.confirmed_at,
        "event_id": connection.event_id,
        "outcome": connection.outcome,
        "value": connection.value_amount,
        "currency": connection.value_currency,
        "outcome_note": connection.outcome_note,
        "outcome_at": connection.outcome_at,
    }


def _settings_out(request: HttpRequest, settings: ExchangeSettings) -> dict[str, Any]:
    url = None
    if settings.public_form_on:
        url = request.build_absolute_uri(
            reverse("web:exchange_public", args=[settings.public_token])
        )
    return {
        "points_for_offer": settings.points_for_offer,
        "points_for_need": settings.points_for_need,
        "min_score": settings.min_score,
        "public_form_on": settings.public_form_on,
        "public_url": url,
    }


def _post(community: Community, post_id: int, *, reviewed_only: bool = False) -> Post:
    found = selectors.community_post(community, post_id, reviewed_only=reviewed_only)
    if found is None:
        raise Http404
    return found


def _member(community: Community, member_id: int) -> Member:
    member = Member.objects.filter(community=community, pk=member_id).first()
    if member is None:
        raise ExchangeError(_("must be a member of this community"), field="member_id")
    return member


def _fresh(post: Post) -> dict[str, Any]:
    return _post_out(selectors.community_post(post.community, post.pk))


# -------------------------------------------------------------------------------- posts
@router.get(
    f"{BASE}/posts",
    response={200: list[PostOut], 404: Problem},
    summary="Needs and offers, newest first (filter by kind, status, tag, words)",
)
@paginate(Page)
def list_posts(request: HttpRequest, slug: str, filters: Query[PostFilters]):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    operator = _operator(request, community)
    posts = selectors.community_posts(
        community,
        selectors.PostFilters(
            kind=filters.kind or "",
            status=filters.status or "",
            tag=filters.tag.replace("\x00", "").strip(),
            search=filters.q.replace("\x00", ""),
            reviewed_only=not operator,
        ),
    )
    return [_post_out(post, contact=operator) for post in posts]


@router.post(
    f"{BASE}/posts",
    response={201: PostOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Post a member's need or offer, open at once (operators)",
)
def create_post(request: HttpRequest, slug: str, payload: PostIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        post = do_create_post(
            community,
            payload.dict(exclude={"member_id"}),
            member=_member(community, payload.member_id),
            actor=request.user,
        )
    except ExchangeError as exc:
        return _refused(request, exc)
    return Status(201, _fresh(post))


@router.get(
    f"{BASE}/posts/{{post_id}}",
    response={200: PostOut, 404: Problem},
    summary="One need or offer",
)
def get_post(
    request: HttpRequest, slug: str, post_id: int = _id("The post's id.")
) -> dict[str, Any]:
    community = community_or_404(request, slug)
    operator = _operator(request, community)
    return _post_out(_post(community, post_id, reviewed_only=not operator), contact=operator)


@router.patch(
    f"{BASE}/posts/{{post_id}}",
    response={200: PostOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a post's title, description or tags (operators)",
)
def update_post(
    request: HttpRequest, slug: str, payload: PostPatch, post_id: int = _id("The post's id.")
) -> Any:
    post = _post(community_or_404(request, slug, AccessRole.OPERATOR), post_id)
    try:
        do_update_post(post, payload.dict(exclude_unset=True), actor=request.user)
    except ExchangeError as exc:
        return _refused(request, exc)
    return _fresh(post)


def _transition(request: HttpRequest, slug: str, post_id: int, action: Any, **kwargs: Any) -> Any:
    post = _post(community_or_404(request, slug, AccessRole.OPERATOR), post_id)
    try:
        if "member_id" in kwargs:
            member_id = kwargs.pop("member_id")
            kwargs["member"] = _member(post.community, member_id) if member_id else None
        action(post, actor=request.user, **kwargs)
    except ExchangeError as exc:
        return _refused(request, exc)
    return _fresh(post)


@router.post(
    f"{BASE}/posts/{{post_id}}/close",
    response={200: PostOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Close an open post: no longer suggested (operators)",
)
def close_post(
    request: HttpRequest, slug: str, payload: ReasonIn, post_id: int = _id("The post's id.")
) -> Any:
    return _transition(request, slug, post_id, do_close_post, reason=payload.reason)


@router.post(
    f"{BASE}/posts/{{post_id}}/reopen",
    response={200: PostOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Reopen a closed post (operators)",
)
def reopen_post(request: HttpRequest, slug: str, post_id: int = _id("The post's id.")) -> Any:
    return _transition(request, slug, post_id, do_reopen_post)


@router.post(
    f"{BASE}/posts/{{post_id}}/approve",
    response={200: PostOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Approve a public submission for a member, or a new member (operators)",
)
def approve_post(
    request: HttpRequest, slug: str, payload: ApproveIn, post_id: int = _id("The post's id.")
) -> Any:
    return _transition(
        request,
        slug,
        post_id,
        do_approve_post,
        member_id=payload.member_id,
        create_member=payload.create_member,
    )


@router.post(
    f"{BASE}/posts/{{post_id}}/reject",
    response={200: PostOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Reject a public submission (operators)",
)
def reject_post(
    request: HttpRequest, slug: str, payload: ReasonIn, post_id: int = _id("The post's id.")
) -> Any:
    return _transition(request, slug, post_id, do_reject_post, reason=payload.reason)


# -------------------------------------------------------------------------- suggestions
@router.get(
    f"{BASE}/suggestions",
    response={200: list[SuggestionOut], 404: Problem},
    summary="Suggested introductions with their evidence, best first",
)
def list_suggestions(
    request: HttpRequest, slug: str, filters: Query[SuggestionFilters]
) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    operator = _operator(request, community)
    need = _post(community, filters.need_id) if filters.need_id else None
    offer = _post(community, filters.offer_id) if filters.offer_id else None
    return [
        {
            "need": _post_out(suggestion.need, contact=operator),
            "offer": _post_out(suggestion.offer, contact=operator),
            "evidence": suggestion.match.evidence(),
        }
        for suggestion in selectors.suggestions(
            community, need=need, offer=offer, limit=filters.limit
        )
    ]


@router.post(
    f"{BASE}/suggestions/dismiss",
    response={204: None, 403: Problem, 404: Problem, 422: Problem},
    summary="Turn a suggested pair down: never suggested again (operators)",
)
def dismiss_suggestion(request: HttpRequest, slug: str, payload: PairIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    need, offer = _post(community, payload.need_id), _post(community, payload.offer_id)
    try:
        do_dismiss_suggestion(need, offer, actor=request.user)
    except ExchangeError as exc:
        return _refused(request, exc)
    return Status(204, None)


# -------------------------------------------------------------------------- connections
@router.get(
    f"{BASE}/connections",
    response={200: list[ConnectionOut], 404: Problem},
    summary="Confirmed connections, newest first, with evidence and outcome",
)
@paginate(Page)
def list_connections(request: HttpRequest, slug: str):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    return [_connection_out(c) for c in selectors.community_connections(community)]


@router.post(
    f"{BASE}/connections",
    response={201: ConnectionOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Confirm an introduction: a tie between the two members, and points (operators)",
)
def create_connection(request: HttpRequest, slug: str, payload: ConnectIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    need, offer = _post(community, payload.need_id), _post(community, payload.offer_id)
    try:
        connection = do_confirm_connection(
            need, offer, note=payload.note, close_need=payload.close_need, actor=request.user
        )
    except ExchangeError as exc:
        return _refused(request, exc)
    return Status(201, _connection_out(selectors.community_connection(community, connection.pk)))


def _connection(community: Community, connection_id: int) -> Connection:
    found = selectors.community_connection(community, connection_id)
    if found is None:
        raise Http404
    return found


@router.get(
    f"{BASE}/connections/{{connection_id}}",
    response={200: ConnectionOut, 404: Problem},
    summary="One connection",
)
def get_connection(
    request: HttpRequest, slug: str, connection_id: int = _id("The connection's id.")
) -> dict[str, Any]:
    return _connection_out(_connection(community_or_404(request, slug), connection_id))


@router.post(
    f"{BASE}/connections/{{connection_id}}/outcome",
    response={200: ConnectionOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Report (or correct) what came of a connection, with its value (operators)",
)
def record_outcome(
    request: HttpRequest,
    slug: str,
    payload: OutcomeIn,
    connection_id: int = _id("The connection's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    connection = _connection(community, connection_id)
    try:
        do_record_outcome(
            connection,
            payload.outcome,
            value=payload.value,
            currency=payload.currency,
            note=payload.note,
            actor=request.user,
        )
    except ExchangeError as exc:
        return _refused(request, exc)
    return _connection_out(_connection(community, connection_id))


@router.get(
    f"{BASE}/report",
    response={200: list[MonthOut], 404: Problem},
    summary="Connections and value created per month (local months, oldest first)",
)
def report(request: HttpRequest, slug: str, filters: Query[ReportFilters]) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [
        {
            "month": month.month,
            "connections": month.connections,
            "helped": month.helped,
            "deals": month.deals,
            "no_result": month.no_result,
            "not_reported": month.not_reported,
            "value": month.value,
        }
        for month in selectors.monthly_report(community, months=filters.months)
    ]


# ----------------------------------------------------------------------------- settings
@router.get(
    f"{BASE}/settings",
    response={200: SettingsOut, 403: Problem, 404: Problem},
    summary="Points per connection, the suggestion threshold, the public form (operators)",
)
def get_settings(request: HttpRequest, slug: str) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    return _settings_out(request, selectors.exchange_settings(community))


@router.patch(
    f"{BASE}/settings",
    response={200: SettingsOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change the points per connection or the suggestion threshold (operators)",
)
def update_settings(request: HttpRequest, slug: str, payload: SettingsPatch) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    values = {key: value for key, value in payload.dict().items() if value is not None}
    try:
        settings = do_update_settings(community, values, actor=request.user)
    except ExchangeError as exc:
        return _refused(request, exc)
    return _settings_out(request, settings)


@router.post(
    f"{BASE}/public-form",
    response={200: SettingsOut, 403: Problem, 404: Problem},
    summary="Turn the public form on with a new link (an earlier link stops working)",
)
def open_public_form(request: HttpRequest, slug: str) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    return _settings_out(request, do_open_public_form(community, actor=request.user))


@router.delete(
    f"{BASE}/public-form",
    response={200: SettingsOut, 403: Problem, 404: Problem},
    summary="Turn the public form off: its link answers 404",
)
def close_public_form(request: HttpRequest, slug: str) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    return _settings_out(request, do_close_public_form(community, actor=request.user))
