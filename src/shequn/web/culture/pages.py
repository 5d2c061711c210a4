"""The culture page (社群文化): the seed's three questions — why are we together (the mission),
how do we get there (the rituals, with their recent turnout), how far are we (the goals'
progress) — the values advocated and opposed, and the benefit showcase (testimonials)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shequn.accounts.models import AccessRole
from shequn.culture.errors import CultureError
from shequn.culture.selectors import (
    community_testimonials,
    culture_status,
    goals_with_progress,
    onboarding_counts,
    ritual_summaries,
    testimonial_counts,
)
from shequn.culture.services import do_update_culture
from shequn.culture.texts import forecast_text
from shequn.web.access import community_view
from shequn.web.culture.common import may_write, status_labels
from shequn.web.culture.forms import CultureForm

SHOWCASE = 6


@community_view()
def culture(request: HttpRequest) -> HttpResponse:
    community = request.community
    labels = status_labels()
    goals = [
        {
            "progress": progress,
            "status_label": labels[progress.status],
            "forecast_text": forecast_text(progress),
        }
        for progress in goals_with_progress(community)
    ]
    return render(
        request,
        "web/culture/index.html",
        {
            "community": community,
            "section": "culture",
            "can_write": may_write(request),
            "status": culture_status(community),
            "rituals": ritual_summaries(community),
            "goals": goals,
            "testimonials": list(community_testimonials(community, published=True)[:SHOWCASE]),
            "testimonial_counts": testimonial_counts(community),
            "onboarding": onboarding_counts(community),
        },
    )


@community_view(AccessRole.OPERATOR)
def culture_edit(request: HttpRequest) -> HttpResponse:
    """The mission and the values, saved through the communities service (audited)."""
    community = request.community
    status = 200
    if request.method == "POST":
        form = CultureForm(request.POST)
        if form.is_valid():
            try:
                do_update_culture(community, actor=request.user, **form.cleaned_data)
            except CultureError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("The mission and values were saved."))
                return redirect("web:culture", community.slug)
        status = 400
    else:
        form = CultureForm(
            initial={
                "mission": community.mission,
                "values_advocated": "\n".join(community.values_advocated or []),
                "values_opposed": "\n".join(community.values_opposed or []),
            }
        )
    return render(
        request,
        "web/culture/culture_form.html",
        {"community": community, "section": "culture", "form": form},
        status=status,
    )
