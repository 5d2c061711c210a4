"""The culture router and what its endpoints share: refusals as problem details, lookups and
serialisers."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router

from shequn.api.errors import problem
from shequn.communities.models import Community
from shequn.culture.errors import CultureError
from shequn.culture.models import Goal, Testimonial
from shequn.culture.selectors import GoalProgress
from shequn.culture.texts import forecast_text

router = Router(tags=["culture"])


def refused(request: HttpRequest, error: CultureError) -> HttpResponse:
    """422 problem details naming every field at fault (``params.level`` -> ["body", "params",
    "level"]); nothing was written."""
    from shequn.api.api import api

    errors = [
        {"loc": ["body", *field.split(".")] if field else ["body"], "msg": message}
        for field, message in error.problems.items()
    ]
    return problem(api, request, 422, _("Refused"), str(error), errors)


def goal_or_404(community: Community, goal_id: int) -> Goal:
    return get_object_or_404(
        Goal.objects.select_related("owner", "community"), community=community, pk=goal_id
    )


def testimonial_or_404(community: Community, testimonial_id: int) -> Testimonial:
    return get_object_or_404(
        Testimonial.objects.select_related("member"), community=community, pk=testimonial_id
    )


def public_url(request: HttpRequest, goal: Goal) -> str | None:
    if not goal.public_token:
        return None
    return request.build_absolute_uri(reverse("web:goal_public", args=[goal.public_token]))


def forecast_out(progress: GoalProgress) -> dict[str, Any]:
    return {
        **progress.forecast.as_dict(),
        "text": forecast_text(progress),
        "reason": progress.reason,
    }


def goal_out(request: HttpRequest, progress: GoalProgress) -> dict[str, Any]:
    goal = progress.goal
    return {
        "id": goal.pk,
        "title": goal.title,
        "description": goal.description,
        "metric": goal.metric,
        "metric_text": progress.metric_text,
        "unit": progress.unit,
        "params": goal.params or {},
        "target": goal.target,
        "start_on": goal.start_on,
        "deadline": goal.deadline,
        "owner_id": goal.owner_id,
        "owner_name": goal.owner.display_name if goal.owner_id else None,
        "public_url": public_url(request, goal),
        "status": progress.status,
        "progress": progress.forecast.progress,
        "current": progress.forecast.current,
        "forecast": forecast_out(progress),
        "created_at": goal.created_at,
        "updated_at": goal.updated_at,
    }


def testimonial_out(testimonial: Testimonial) -> dict[str, Any]:
    return {
        "id": testimonial.pk,
        "member_id": testimonial.member_id,
        "member_name": testimonial.member.display_name,
        "text": testimonial.text,
        "benefit": testimonial.benefit,
        "said_on": testimonial.said_on,
        "source": testimonial.source,
        "consent": testimonial.consent,
        "published": testimonial.is_published,
        "published_at": testimonial.published_at,
        "created_at": testimonial.created_at,
    }
