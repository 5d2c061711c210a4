"""/communities/{slug}/culture: the three questions — mission, rituals, goals' progress — the
values, and the latest published testimonials; operators change the mission and values."""

from typing import Any

from django.http import HttpRequest

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.routers.culture.common import goal_out, refused, router, testimonial_out
from shequn.api.routers.culture.schemas import CultureOut, CulturePatch
from shequn.communities.models import Community
from shequn.culture.errors import CultureError
from shequn.culture.selectors import (
    community_testimonials,
    culture_status,
    goals_with_progress,
    ritual_summaries,
)
from shequn.culture.services import do_update_culture

SHOWCASE = 10


def _culture(request: HttpRequest, community: Community) -> dict[str, Any]:
    return {
        "mission": community.mission,
        "values_advocated": community.values_advocated or [],
        "values_opposed": community.values_opposed or [],
        "status": culture_status(community),
        "rituals": [
            {
                "id": item.ritual.pk,
                "name": item.ritual.name,
                "frequency": item.ritual.frequency,
                "time_zone": item.ritual.time_zone,
                "recent": [vars(occurrence) for occurrence in item.recent],
                "occurrences": item.occurrences,
                "attended": item.attended,
                "registered": item.registered,
                "turnout": item.turnout,
                "next_starts_at": item.next_starts_at,
            }
            for item in ritual_summaries(community)
        ],
        "goals": [goal_out(request, progress) for progress in goals_with_progress(community)],
        "testimonials": [
            testimonial_out(testimonial)
            for testimonial in community_testimonials(community, published=True)[:SHOWCASE]
        ],
    }


@router.get(
    "/communities/{slug}/culture",
    response={200: CultureOut, 404: Problem},
    summary="The culture: mission, values, rituals with turnout, goals' progress, testimonials",
)
def get_culture(request: HttpRequest, slug: str) -> dict[str, Any]:
    return _culture(request, community_or_404(request, slug))


@router.patch(
    "/communities/{slug}/culture",
    response={200: CultureOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change the mission and the values advocated and opposed (operators)",
)
def patch_culture(request: HttpRequest, slug: str, payload: CulturePatch) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        do_update_culture(community, actor=request.user, **payload.dict(exclude_unset=True))
    except CultureError as exc:
        return refused(request, exc)
    return _culture(request, community)
