"""/communities/{slug}/testimonials: the benefit showcase — what members gained, recorded and
curated by operators, published with the member's consent."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Schema, Status

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.routers.culture.common import (
    refused,
    router,
    testimonial_or_404,
    testimonial_out,
)
from shequn.api.routers.culture.schemas import (
    TestimonialIn,
    TestimonialOut,
    TestimonialPatch,
    path_id,
)
from shequn.communities.models import Community
from shequn.culture.errors import CultureError, TestimonialError
from shequn.culture.selectors import community_testimonials
from shequn.culture.services import (
    do_delete_testimonial,
    do_publish_testimonial,
    do_record_testimonial,
    do_unpublish_testimonial,
    do_update_testimonial,
)
from shequn.members.models import Member

TESTIMONIAL_ID = "The testimonial's id."


class Filters(Schema):
    published: bool | None = None


def _values(community: Community, payload: Schema, *, partial: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=partial)
    values.pop("publish", None)
    if "member_id" in values:
        member_id = values.pop("member_id")
        member = Member.objects.filter(community=community, pk=member_id).first()
        if member is None:
            raise TestimonialError(_("must be a member of this community"), field="member_id")
        values["member"] = member
    return values


@router.get(
    "/communities/{slug}/testimonials",
    response={200: list[TestimonialOut], 404: Problem},
    summary="Testimonials, newest first (only published ones, or only unpublished, if asked)",
)
def list_testimonials(
    request: HttpRequest, slug: str, filters: Query[Filters]
) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    found = community_testimonials(community, published=filters.published)
    return [testimonial_out(testimonial) for testimonial in found[:1_000]]


@router.post(
    "/communities/{slug}/testimonials",
    response={201: TestimonialOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Record a testimonial, and publish it at once if the member consented (operators)",
)
def create_testimonial(request: HttpRequest, slug: str, payload: TestimonialIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        testimonial = do_record_testimonial(
            community,
            _values(community, payload, partial=False),
            publish=payload.publish,
            actor=request.user,
        )
    except CultureError as exc:
        return refused(request, exc)
    return Status(201, testimonial_out(testimonial))


@router.get(
    "/communities/{slug}/testimonials/{testimonial_id}",
    response={200: TestimonialOut, 404: Problem},
    summary="One testimonial",
)
def get_testimonial(
    request: HttpRequest, slug: str, testimonial_id: int = path_id(TESTIMONIAL_ID)
) -> dict[str, Any]:
    return testimonial_out(testimonial_or_404(community_or_404(request, slug), testimonial_id))


@router.patch(
    "/communities/{slug}/testimonials/{testimonial_id}",
    response={200: TestimonialOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a testimonial; withdrawing consent unpublishes it (operators)",
)
def patch_testimonial(
    request: HttpRequest,
    slug: str,
    payload: TestimonialPatch,
    testimonial_id: int = path_id(TESTIMONIAL_ID),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    testimonial = testimonial_or_404(community, testimonial_id)
    try:
        testimonial = do_update_testimonial(
            testimonial, _values(community, payload, partial=True), actor=request.user
        )
    except CultureError as exc:
        return refused(request, exc)
    return testimonial_out(testimonial)


@router.delete(
    "/communities/{slug}/testimonials/{testimonial_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Delete a testimonial (operators)",
)
def delete_testimonial(
    request: HttpRequest, slug: str, testimonial_id: int = path_id(TESTIMONIAL_ID)
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_delete_testimonial(testimonial_or_404(community, testimonial_id), actor=request.user)
    return Status(204, None)


def _transition(request: HttpRequest, slug: str, testimonial_id: int, action: Any) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    testimonial = testimonial_or_404(community, testimonial_id)
    try:
        action(testimonial, actor=request.user)
    except CultureError as exc:
        return refused(request, exc)
    return testimonial_out(testimonial)


@router.post(
    "/communities/{slug}/testimonials/{testimonial_id}/publish",
    response={200: TestimonialOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Publish a testimonial (needs the member's consent; operators)",
)
def publish_testimonial(
    request: HttpRequest, slug: str, testimonial_id: int = path_id(TESTIMONIAL_ID)
) -> Any:
    return _transition(request, slug, testimonial_id, do_publish_testimonial)


@router.post(
    "/communities/{slug}/testimonials/{testimonial_id}/unpublish",
    response={200: TestimonialOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Unpublish a testimonial (operators)",
)
def unpublish_testimonial(
    request: HttpRequest, slug: str, testimonial_id: int = path_id(TESTIMONIAL_ID)
) -> Any:
    return _transition(request, slug, testimonial_id, do_unpublish_testimonial)
