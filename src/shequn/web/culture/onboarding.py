"""Onboarding: the welcome message (its template, edited by operators, and its text rendered
for each platform) and the members who have not received it yet."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.communities.models import Platform
from shequn.culture.errors import CultureError
from shequn.culture.onboarding import PLACEHOLDERS, render_onboarding, template_text
from shequn.culture.selectors import onboarded_members, onboarding_counts, pending_onboarding
from shequn.culture.services import (
    do_mark_all_onboarded,
    do_mark_onboarded,
    do_reset_onboarding_template,
    do_save_onboarding_template,
    do_unmark_onboarded,
)
from shequn.members.models import Member
from shequn.web.access import community_view
from shequn.web.culture.common import may_write, resolve_member
from shequn.web.culture.forms import MarkAllForm, PlatformForm, TemplateForm

PENDING_SHOWN = 200
MAX_ID = 2**62
ONBOARDED_SHOWN = 20


def _site(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@community_view()
def onboarding(request: HttpRequest) -> HttpResponse:
    """The rendered message for a platform (and a member), the template and who waits."""
    return _page(request)


def _page(request: HttpRequest, form: TemplateForm | None = None) -> HttpResponse:
    community = request.community
    choice = PlatformForm(request.GET or None)
    platform, member, problem = Platform.WECHAT.value, None, ""
    if choice.is_bound and choice.is_valid():
        platform = choice.cleaned_data["platform"]
        try:
            member = resolve_member(community, choice.cleaned_data["member"], "member")
        except CultureError as exc:
            problem = exc.message
    elif choice.is_bound:
        problem = _("Choose a platform from the list.")
    text, is_default = template_text(community)
    status = 200 if form is None else 400
    preview = None
    if form is not None:
        # A refused edit: show the template as typed, and the message as it renders now.
        text = form.data.get("text", text)
    try:
        preview = render_onboarding(
            community, platform=platform, member=member, base_url=_site(request)
        )
    except CultureError as exc:
        problem = problem or exc.message
    return render(
        request,
        "web/culture/onboarding.html",
        {
            "community": community,
            "section": "culture",
            "can_write": may_write(request),
            "choice": choice if choice.is_bound else PlatformForm(initial={"platform": platform}),
            "platform": platform,
            "platform_label": Platform(platform).label,
            "preview": preview,
            "preview_rows": min(40, preview.text.count("\n") + 2) if preview else 10,
            "problem": problem,
            "form": form or TemplateForm(initial={"text": text}),
            "is_default": is_default,
            "placeholders": [("{" + name + "}", words) for name, words in PLACEHOLDERS.items()],
            "pending": list(pending_onboarding(community)[:PENDING_SHOWN]),
            "recent": list(onboarded_members(community)[:ONBOARDED_SHOWN]),
            "counts": onboarding_counts(community),
            "mark_all_form": MarkAllForm(),
        },
        status=status,
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def template_save(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            do_save_onboarding_template(community, form.cleaned_data["text"], actor=request.user)
        except CultureError as exc:
            form.add_problems(exc.problems)
        else:
            messages.success(request, _("The welcome message was saved."))
            return redirect("web:onboarding", community.slug)
    return _page(request, form=form)


@community_view(AccessRole.OPERATOR)
@require_POST
def template_reset(request: HttpRequest) -> HttpResponse:
    do_reset_onboarding_template(request.community, actor=request.user)
    messages.success(request, _("The welcome message is the default one again."))
    return redirect("web:onboarding", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def mark(request: HttpRequest) -> HttpResponse:
    """Mark the members ticked in the list as onboarded."""
    community = request.community
    ids = [
        int(value)
        for value in request.POST.getlist("member")
        if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID
    ]
    platform = request.POST.get("platform", "")
    try:
        marked = do_mark_onboarded(community, ids, platform=platform, actor=request.user)
    except CultureError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d member marked as onboarded.",
                "%(count)d members marked as onboarded.",
                len(marked),
            )
            % {"count": len(marked)},
        )
    return redirect("web:onboarding", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def mark_all(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = MarkAllForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the day as YYYY-MM-DD, or leave it empty."))
        return redirect("web:onboarding", community.slug)
    marked = do_mark_all_onboarded(
        community, joined_before=form.cleaned_data["joined_before"], actor=request.user
    )
    messages.success(
        request,
        ngettext(
            "%(count)d member marked as onboarded.",
            "%(count)d members marked as onboarded.",
            len(marked),
        )
        % {"count": len(marked)},
    )
    return redirect("web:onboarding", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def unmark(request: HttpRequest, member_id: int) -> HttpResponse:
    community = request.community
    member = Member.objects.filter(community=community, pk=member_id).first()
    if member is None:
        raise Http404
    do_unmark_onboarded(member, actor=request.user)
    messages.success(
        request, _("%(name)s is waiting for the welcome again.") % {"name": member.display_name}
    )
    return redirect("web:onboarding", community.slug)
