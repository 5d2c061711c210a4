"""Rituals (仪式): the recurring activities that give a community its rhythm. Everyone with
access sees them and their attendance over time; operators create and change them and generate
their occurrences, through ``shequn.activities.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.activities.models import Activity, Ritual
from shequn.activities.selectors import community_rituals, ritual_attendance
from shequn.activities.services import (
    ActivityError,
    RitualError,
    do_create_ritual,
    do_generate_occurrences,
    do_update_ritual,
)
from shequn.activities.validation import ritual_values
from shequn.communities.models import Community
from shequn.web.access import community_view
from shequn.web.views.activities_common import may_write, problems_text, resolve_member
from shequn.web.views.activities_forms import GenerateForm, RitualForm, local_text


def _ritual(community: Community, ritual_id: int) -> Ritual:
    found = (
        Ritual.objects.filter(community=community, pk=ritual_id).select_related("organiser").first()
    )
    if found is None:
        raise Http404
    return found


def _values(form: RitualForm, community: Community) -> dict[str, Any]:
    values = form.values()
    values["organiser"] = resolve_member(community, values.get("organiser") or "", "organiser")
    if values.get("frequency") != Ritual.Frequency.CUSTOM:
        values.pop("rule", None)
    return values


def attendance_chart(rows: list[Any]) -> list[dict[str, Any]]:
    """Per occurrence, for the stacked bar chart of ``charts.js`` (kind ``activity``): who
    came (``messages``) and who had registered but did not come (``reactions``)."""
    return [
        {
            "period": row.starts_at.strftime("%Y-%m-%d"),
            "messages": row.attended,
            "reactions": max(0, row.registered - row.attended),
        }
        for row in rows
    ]


@community_view()
def rituals(request: HttpRequest) -> HttpResponse:
    community = request.community
    return render(
        request,
        "web/activities/rituals.html",
        {
            "community": community,
            "section": "activities",
            "rituals": list(community_rituals(community).select_related("organiser")),
            "can_write": may_write(request),
        },
    )


def _form_page(
    request: HttpRequest, form: RitualForm, ritual: Ritual | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/activities/ritual_form.html",
        {"community": request.community, "section": "activities", "form": form, "ritual": ritual},
        status=status,
    )


def _save(request: HttpRequest, ritual: Ritual | None) -> HttpResponse:
    community = request.community
    form = RitualForm(request.POST)
    if form.is_valid():
        try:
            values = _values(form, community)
            if ritual is None:
                saved = do_create_ritual(community, values, actor=request.user)
            else:
                saved = do_update_ritual(ritual, values, actor=request.user)
        except ActivityError as exc:
            form.add_problems(exc.problems)
        else:
            messages.success(
                request,
                _("Ritual saved. Generate its occurrences to put them in the calendar."),
            )
            return redirect("web:ritual", community.slug, saved.pk)
    return _form_page(request, form, ritual, status=400)


@community_view(AccessRole.OPERATOR)
def ritual_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    initial = {
        "time_zone": request.community.time_zone,
        "frequency": Ritual.Frequency.WEEKLY,
        "duration_minutes": "60",
        "active": True,
        "fee_amount": "0",
    }
    return _form_page(request, RitualForm(initial=initial), None)


@community_view(AccessRole.OPERATOR)
def ritual_edit(request: HttpRequest, ritual_id: int) -> HttpResponse:
    found = _ritual(request.community, ritual_id)
    if request.method == "POST":
        return _save(request, found)
    values = ritual_values(found)
    initial = {
        **values,
        "organiser": str(found.organiser_id or ""),
        "capacity": "" if found.capacity is None else str(found.capacity),
        "fee_amount": str(found.fee_amount),
        "duration_minutes": str(found.duration_minutes),
        "first_starts_at": local_text(found.first_starts_at, found.time_zone),
    }
    return _form_page(request, RitualForm(initial=initial), found)


@community_view()
def ritual(request: HttpRequest, ritual_id: int) -> HttpResponse:
    """A ritual, its occurrences and its attendance over time."""
    community = request.community
    found = _ritual(community, ritual_id)
    rows = ritual_attendance(found)
    return render(
        request,
        "web/activities/ritual.html",
        {
            "community": community,
            "section": "activities",
            "ritual": found,
            "occurrences": [
                {"row": row, "status_label": Activity.Status(row.status).label} for row in rows
            ],
            "has_attendance": any(row.registered or row.attended for row in rows),
            "attendance_chart": attendance_chart(rows),
            "generate_form": GenerateForm(),
            "can_write": may_write(request),
        },
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def ritual_generate(request: HttpRequest, ritual_id: int) -> HttpResponse:
    community = request.community
    found = _ritual(community, ritual_id)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the last day to generate occurrences for."))
        return redirect("web:ritual", community.slug, found.pk)
    try:
        created = do_generate_occurrences(
            found,
            until=form.cleaned_data["until"],
            publish=form.cleaned_data["publish"],
            actor=request.user,
        )
    except RitualError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d occurrence created.", "%(count)d occurrences created.", len(created)
            )
            % {"count": len(created)},
        )
    return redirect("web:ritual", community.slug, found.pk)
