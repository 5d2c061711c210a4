"""/communities/{slug}/goals: goals with their computed progress and forecast; the progress
series; the members' public link; /goal-metrics: what a goal can measure."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Schema, Status

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.routers.culture.common import (
    forecast_out,
    goal_or_404,
    goal_out,
    refused,
    router,
)
from shequn.api.routers.culture.schemas import (
    GoalForecastOut,
    GoalIn,
    GoalMetricOut,
    GoalOut,
    GoalPatch,
    GoalProgressOut,
    path_id,
)
from shequn.communities.models import Community
from shequn.culture.errors import CultureError, GoalError
from shequn.culture.metrics import metrics
from shequn.culture.selectors import goal_progress, goals_with_progress
from shequn.culture.services import (
    do_create_goal,
    do_delete_goal,
    do_publish_goal,
    do_unpublish_goal,
    do_update_goal,
)
from shequn.members.models import Member

GOAL_ID = "The goal's id."


class AsOf(Schema):
    on: dt.date | None = None


def _values(community: Community, payload: Schema, *, partial: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=partial)
    if "owner_id" in values:
        owner_id = values.pop("owner_id")
        owner = Member.objects.filter(community=community, pk=owner_id).first()
        if owner_id is not None and owner is None:
            raise GoalError(_("must be a member of this community"), field="owner_id")
        values["owner"] = owner
    return values


@router.get(
    "/communities/{slug}/goal-metrics",
    response={200: list[GoalMetricOut], 404: Problem},
    summary="What a goal can measure: each metric's code, label, unit and parameters",
)
def list_metrics(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community_or_404(request, slug)
    return [
        {
            "code": found.code,
            "label": str(found.label),
            "unit": str(found.unit or ""),
            "parameters": {name: str(words) for name, words in found.parameters.items()},
        }
        for found in metrics()
    ]


@router.get(
    "/communities/{slug}/goals",
    response={200: list[GoalOut], 404: Problem},
    summary="The goals with their progress as of a day (default: today), running ones first",
)
def list_goals(request: HttpRequest, slug: str, query: Query[AsOf]) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [goal_out(request, p) for p in goals_with_progress(community, query.on)]


@router.post(
    "/communities/{slug}/goals",
    response={201: GoalOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Create a goal: title, metric and parameters, target, deadline, owner (operators)",
)
def create_goal(request: HttpRequest, slug: str, payload: GoalIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        goal = do_create_goal(
            community, _values(community, payload, partial=False), actor=request.user
        )
    except CultureError as exc:
        return refused(request, exc)
    return Status(201, goal_out(request, goal_progress(goal)))


@router.get(
    "/communities/{slug}/goals/{goal_id}",
    response={200: GoalOut, 404: Problem},
    summary="One goal with its progress and forecast as of a day (default: today)",
)
def get_goal(
    request: HttpRequest, slug: str, query: Query[AsOf], goal_id: int = path_id(GOAL_ID)
) -> dict[str, Any]:
    goal = goal_or_404(community_or_404(request, slug), goal_id)
    return goal_out(request, goal_progress(goal, query.on))


@router.patch(
    "/communities/{slug}/goals/{goal_id}",
    response={200: GoalOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a goal (operators)",
)
def patch_goal(
    request: HttpRequest, slug: str, payload: GoalPatch, goal_id: int = path_id(GOAL_ID)
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    goal = goal_or_404(community, goal_id)
    try:
        goal = do_update_goal(goal, _values(community, payload, partial=True), actor=request.user)
    except CultureError as exc:
        return refused(request, exc)
    return goal_out(request, goal_progress(goal))


@router.delete(
    "/communities/{slug}/goals/{goal_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Delete a goal (operators)",
)
def delete_goal(request: HttpRequest, slug: str, goal_id: int = path_id(GOAL_ID)) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_delete_goal(goal_or_404(community, goal_id), actor=request.user)
    return Status(204, None)


@router.get(
    "/communities/{slug}/goals/{goal_id}/progress",
    response={200: GoalProgressOut, 404: Problem},
    summary="The goal's value per day from its start, and the forecast",
)
def get_progress(
    request: HttpRequest, slug: str, query: Query[AsOf], goal_id: int = path_id(GOAL_ID)
) -> dict[str, Any]:
    goal = goal_or_404(community_or_404(request, slug), goal_id)
    progress = goal_progress(goal, query.on)
    return {
        "goal_id": goal.pk,
        "unit": progress.unit,
        "days": progress.days,
        "values": progress.values,
        "forecast": forecast_out(progress),
    }


@router.get(
    "/communities/{slug}/goals/{goal_id}/forecast",
    response={200: GoalForecastOut, 404: Problem},
    summary="Will the goal be reached by its deadline at the current pace?",
)
def get_forecast(
    request: HttpRequest, slug: str, query: Query[AsOf], goal_id: int = path_id(GOAL_ID)
) -> dict[str, Any]:
    goal = goal_or_404(community_or_404(request, slug), goal_id)
    return forecast_out(goal_progress(goal, query.on))


@router.post(
    "/communities/{slug}/goals/{goal_id}/publish",
    response={200: GoalOut, 403: Problem, 404: Problem},
    summary="Turn on the members' progress page (a link without login; operators)",
)
def publish_goal(request: HttpRequest, slug: str, goal_id: int = path_id(GOAL_ID)) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    goal = do_publish_goal(goal_or_404(community, goal_id), actor=request.user)
    return goal_out(request, goal_progress(goal))


@router.post(
    "/communities/{slug}/goals/{goal_id}/unpublish",
    response={200: GoalOut, 403: Problem, 404: Problem},
    summary="Turn the members' progress page off: its link stops working (operators)",
)
def unpublish_goal(request: HttpRequest, slug: str, goal_id: int = path_id(GOAL_ID)) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    goal = do_unpublish_goal(goal_or_404(community, goal_id), actor=request.user)
    return goal_out(request, goal_progress(goal))
