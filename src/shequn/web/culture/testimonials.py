"""The benefit showcase (利益证明): members' testimonials, recorded and curated by operators;
published ones show on the culture page and in the onboarding message."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.culture.errors import CultureError, TestimonialError
from shequn.culture.models import Testimonial
from shequn.culture.selectors import community_testimonials, testimonial_counts
from shequn.culture.services import (
    do_delete_testimonial,
    do_publish_testimonial,
    do_record_testimonial,
    do_unpublish_testimonial,
    do_update_testimonial,
)
from shequn.web.access import community_view
from shequn.web.culture.common import may_write, resolve_member, testimonial_or_404
from shequn.web.culture.forms import TestimonialForm

PAGE = 200


@community_view()
def testimonials(request: HttpRequest) -> HttpResponse:
    community = request.community
    shown = request.GET.get("show", "")
    published = {"published": True, "unpublished": False}.get(shown)
    return render(
        request,
        "web/culture/testimonials.html",
        {
            "community": community,
            "section": "culture",
            "testimonials": list(community_testimonials(community, published=published)[:PAGE]),
            "counts": testimonial_counts(community),
            "show": shown if published is not None else "",
            "can_write": may_write(request),
        },
    )


def _form_page(
    request: HttpRequest, form: TestimonialForm, found: Testimonial | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/culture/testimonial_form.html",
        {"community": request.community, "section": "culture", "form": form, "testimonial": found},
        status=status,
    )


def _save(request: HttpRequest, found: Testimonial | None) -> HttpResponse:
    community = request.community
    form = TestimonialForm(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        if not values.get("said_on"):
            values.pop("said_on")
        member_problems: dict[str, str] = {}
        try:
            values["member"] = resolve_member(community, values.get("member") or "", "member")
        except CultureError as exc:
            member_problems, values["member"] = exc.problems, None
        try:
            if member_problems:
                raise TestimonialError(member_problems)
            if found is None:
                saved = do_record_testimonial(community, values, actor=request.user)
            else:
                saved = do_update_testimonial(found, values, actor=request.user)
        except CultureError as exc:
            form.add_problems(exc.problems)
        else:
            messages.success(request, _("Testimonial saved."))
            if not saved.is_published:
                messages.info(request, _("It is not published yet."))
            return redirect("web:testimonials", community.slug)
    return _form_page(request, form, found, status=400)


@community_view(AccessRole.OPERATOR)
def testimonial_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, TestimonialForm(initial={"benefit": "other"}), None)


@community_view(AccessRole.OPERATOR)
def testimonial_edit(request: HttpRequest, testimonial_id: int) -> HttpResponse:
    found = testimonial_or_404(request.community, testimonial_id)
    if request.method == "POST":
        return _save(request, found)
    initial = {
        "member": str(found.member_id),
        "text": found.text,
        "benefit": found.benefit,
        "said_on": found.said_on.isoformat(),
        "source": found.source,
        "consent": found.consent,
    }
    return _form_page(request, TestimonialForm(initial=initial), found)


def _act(request: HttpRequest, testimonial_id: int, action, done: str) -> HttpResponse:
    found = testimonial_or_404(request.community, testimonial_id)
    try:
        action(found, actor=request.user)
    except TestimonialError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("web:testimonials", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def testimonial_publish(request: HttpRequest, testimonial_id: int) -> HttpResponse:
    return _act(request, testimonial_id, do_publish_testimonial, _("Testimonial published."))


@community_view(AccessRole.OPERATOR)
@require_POST
def testimonial_unpublish(request: HttpRequest, testimonial_id: int) -> HttpResponse:
    return _act(request, testimonial_id, do_unpublish_testimonial, _("Testimonial unpublished."))


@community_view(AccessRole.OPERATOR)
@require_POST
def testimonial_delete(request: HttpRequest, testimonial_id: int) -> HttpResponse:
    return _act(request, testimonial_id, do_delete_testimonial, _("Testimonial deleted."))
