"""/communities/{slug}/rituals: recurring series and their occurrences."""

from typing import Any

from django.http import HttpRequest
from ninja import Status

from shequn.accounts.models import AccessRole
from shequn.activities.selectors import (
    community_rituals,
    ritual_attendance,
)
from shequn.activities.services import (
    ActivityError,
    do_create_ritual,
    do_generate_occurrences,
    do_update_ritual,
)
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.routers.activities.common import (
    activity_out,
    payload_values,
    refused,
    ritual_or_404,
    ritual_out,
    router,
    until_value,
)
from shequn.api.routers.activities.schemas import (
    GeneratedOut,
    GenerateIn,
    RitualDetail,
    RitualIn,
    RitualOut,
    RitualPatch,
    path_id,
)


@router.get(
    "/communities/{slug}/rituals",
    response={200: list[RitualOut], 404: Problem},
    summary="The community's rituals (recurring activities)",
)
def list_rituals(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [ritual_out(ritual) for ritual in community_rituals(community)]


@router.post(
    "/communities/{slug}/rituals",
    response={201: RitualDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Create a ritual: weekly, monthly or a custom RRULE, and its template (operators)",
)
def create_ritual(request: HttpRequest, slug: str, payload: RitualIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        ritual = do_create_ritual(
            community, payload_values(payload, community, partial=False), actor=request.user
        )
    except ActivityError as exc:
        return refused(request, exc)
    return Status(201, {**ritual_out(ritual, 0), "attendance": []})


@router.get(
    "/communities/{slug}/rituals/{ritual_id}",
    response={200: RitualDetail, 404: Problem},
    summary="A ritual with its attendance per occurrence",
)
def get_ritual(
    request: HttpRequest, slug: str, ritual_id: int = path_id("The ritual's id.")
) -> dict[str, Any]:
    ritual = ritual_or_404(community_or_404(request, slug), ritual_id)
    attendance = ritual_attendance(ritual)
    return {**ritual_out(ritual, len(attendance)), "attendance": [vars(row) for row in attendance]}


@router.patch(
    "/communities/{slug}/rituals/{ritual_id}",
    response={200: RitualDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a ritual (operators); occurrences already generated keep their values",
)
def patch_ritual(
    request: HttpRequest,
    slug: str,
    payload: RitualPatch,
    ritual_id: int = path_id("The ritual's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    ritual = ritual_or_404(community, ritual_id)
    try:
        ritual = do_update_ritual(
            ritual, payload_values(payload, community, partial=True), actor=request.user
        )
    except ActivityError as exc:
        return refused(request, exc)
    attendance = ritual_attendance(ritual)
    return {**ritual_out(ritual, len(attendance)), "attendance": [vars(row) for row in attendance]}


@router.post(
    "/communities/{slug}/rituals/{ritual_id}/generate",
    response={200: GeneratedOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Create the ritual's occurrences up to a day; existing ones are kept (operators)",
)
def generate(
    request: HttpRequest,
    slug: str,
    payload: GenerateIn,
    ritual_id: int = path_id("The ritual's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    ritual = ritual_or_404(community, ritual_id)
    try:
        created = do_generate_occurrences(
            ritual, until=until_value(payload.until), publish=payload.publish, actor=request.user
        )
    except ActivityError as exc:
        return refused(request, exc)
    return {"created": [activity_out(request, activity) for activity in created]}
