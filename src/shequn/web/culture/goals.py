"""Goals (社群目标): each with its progress over time (a chart), the forecast, and the public
link members may follow; operators create, change, publish and delete them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.culture.errors import CultureError
from shequn.culture.metrics import metrics
from shequn.culture.models import Goal
from shequn.culture.selectors import community_today, goal_progress
from shequn.culture.services import (
    do_create_goal,
    do_delete_goal,
    do_publish_goal,
    do_unpublish_goal,
    do_update_goal,
)
from shequn.culture.texts import forecast_text
from shequn.web.access import community_view
from shequn.web.culture.common import (
    goal_chart,
    goal_or_404,
    may_write,
    resolve_member,
    status_labels,
)
from shequn.web.culture.forms import GoalForm


def public_url(request: HttpRequest, goal: Goal) -> str:
    """The absolute address of the goal's member-facing page ("" while it is off)."""
    if not goal.public_token:
        return ""
    return request.build_absolute_uri(reverse("web:goal_public", args=[goal.public_token]))


def params_text(params: dict[str, Any]) -> str:
    return "\n".join(
        f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}"
        for name, value in (params or {}).items()
    )


def metric_help() -> list[dict[str, Any]]:
    """Every metric with its parameters, for the form's reference list."""
    return [
        {
            "code": found.code,
            "label": found.label,
            "unit": found.unit,
            "parameters": list(found.parameters.items()),
        }
        for found in metrics()
    ]


@community_view()
def goal(request: HttpRequest, goal_id: int) -> HttpResponse:
    community = request.community
    found = goal_or_404(community, goal_id)
    progress = goal_progress(found)
    return render(
        request,
        "web/culture/goal.html",
        {
            "community": community,
            "section": "culture",
            "goal": found,
            "progress": progress,
            "forecast": progress.forecast,
            "status_label": status_labels()[progress.status],
            "forecast_text": forecast_text(progress),
            "chart": goal_chart(progress),
            "public_url": public_url(request, found),
            "can_write": may_write(request),
        },
    )


def _form_page(
    request: HttpRequest, form: GoalForm, found: Goal | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/culture/goal_form.html",
        {
            "community": request.community,
            "section": "culture",
            "form": form,
            "goal": found,
            "metrics": metric_help(),
        },
        status=status,
    )


def _save(request: HttpRequest, found: Goal | None) -> HttpResponse:
    community = request.community
    form = GoalForm(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        if not values.get("start_on"):
            values.pop("start_on")
        # An owner nobody matches is reported with the service's problems, not instead.
        owner_problems: dict[str, str] = {}
        try:
            values["owner"] = resolve_member(community, values.get("owner") or "", "owner")
        except CultureError as exc:
            owner_problems, values["owner"] = exc.problems, None
        try:
            if found is None:
                saved = do_create_goal(community, values, actor=request.user)
            else:
                saved = do_update_goal(found, values, actor=request.user)
        except CultureError as exc:
            form.add_problems({**exc.problems, **owner_problems})
        else:
            messages.success(request, _("Goal saved. Its progress is computed from the data."))
            return redirect("web:goal", community.slug, saved.pk)
    return _form_page(request, form, found, status=400)


@community_view(AccessRole.OPERATOR)
def goal_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    today = community_today(request.community)
    return _form_page(
        request,
        GoalForm(initial={"start_on": today.isoformat(), "metric": "active_participants"}),
        None,
    )


@community_view(AccessRole.OPERATOR)
def goal_edit(request: HttpRequest, goal_id: int) -> HttpResponse:
    found = goal_or_404(request.community, goal_id)
    if request.method == "POST":
        return _save(request, found)
    initial = {
        "title": found.title,
        "description": found.description,
        "metric": found.metric,
        "params": params_text(found.params),
        "target": f"{found.target:g}",
        "start_on": found.start_on.isoformat(),
        "deadline": found.deadline.isoformat(),
        "owner": str(found.owner_id or ""),
    }
    return _form_page(request, GoalForm(initial=initial), found)


@community_view(AccessRole.OPERATOR)
@require_POST
def goal_delete(request: HttpRequest, goal_id: int) -> HttpResponse:
    found = goal_or_404(request.community, goal_id)
    do_delete_goal(found, actor=request.user)
    messages.success(request, _("The goal %(title)s was deleted.") % {"title": found.title})
    return redirect("web:culture", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def goal_publish(request: HttpRequest, goal_id: int) -> HttpResponse:
    found = do_publish_goal(goal_or_404(request.community, goal_id), actor=request.user)
    messages.success(
        request,
        _("Members can now follow this goal at %(url)s") % {"url": public_url(request, found)},
    )
    return redirect("web:goal", request.community.slug, found.pk)


@community_view(AccessRole.OPERATOR)
@require_POST
def goal_unpublish(request: HttpRequest, goal_id: int) -> HttpResponse:
    found = do_unpublish_goal(goal_or_404(request.community, goal_id), actor=request.user)
    messages.success(request, _("The public link is off; the old address no longer opens."))
    return redirect("web:goal", request.community.slug, found.pk)
