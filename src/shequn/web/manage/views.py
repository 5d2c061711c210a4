"""A community's settings: its profile, who has access, and the audit log of every change.

Viewers read the profile; operators also edit it and read the access list and the audit log;
only founders change access. Every change goes through an audited service.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can, community_access_list, open_invitations, role_in
from shequn.accounts.services import (
    AccessError,
    do_change_access_role,
    do_invite,
    do_revoke_access,
    do_revoke_invitation,
)
from shequn.audit.selectors import (
    action_group_choices,
    audit_actor_labels,
    audit_log,
    describe_entries,
    latest_entries,
)
from shequn.communities.services import CommunityError, do_update_community_profile
from shequn.web.access import community_view
from shequn.web.manage.forms import AccessChangeForm, AuditFilterForm, InvitationForm, ProfileForm

AUDIT_PAGE_SIZE = 50
SETTINGS_AUDIT_ENTRIES = 10


@cache
def _time_zone_names() -> list[str]:
    """Suggestions for the time-zone field (the field itself validates what is typed)."""
    return sorted(zoneinfo.available_timezones())


@community_view()
def settings_page(request: HttpRequest) -> HttpResponse:
    """The profile for everyone with access; access and the latest changes for operators."""
    community = request.community
    is_operator = can(request.access_role, AccessRole.OPERATOR)
    return render(
        request,
        "web/manage/settings.html",
        {
            "community": community,
            "section": "manage",
            "can_write": is_operator,
            "is_founder": can(request.access_role, AccessRole.FOUNDER),
            "access_count": community_access_list(community).count() if is_operator else None,
            "audit_lines": (
                describe_entries(latest_entries(community, SETTINGS_AUDIT_ENTRIES))
                if is_operator
                else []
            ),
        },
    )


@community_view(AccessRole.OPERATOR)
def profile(request: HttpRequest) -> HttpResponse:
    """Edit the profile; the service saves only what changed, audits it, recounts days."""
    community = request.community
    form = ProfileForm.for_community(community, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_community_profile(community, actor=request.user, **form.cleaned_data)
        except (ValidationError, CommunityError) as exc:
            form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
        else:
            messages.success(request, _("The community profile was saved."))
            return redirect("web:manage", slug=community.slug)
    return render(
        request,
        "web/manage/profile.html",
        {
            "community": community,
            "section": "manage",
            "form": form,
            "time_zones": _time_zone_names(),
        },
        status=400 if form.errors else 200,
    )


def _access_page(
    request: HttpRequest,
    *,
    invite_form: InvitationForm | None = None,
    new_link: str = "",
    status: int = 200,
) -> HttpResponse:
    community = request.community
    is_founder = can(request.access_role, AccessRole.FOUNDER)
    return render(
        request,
        "web/manage/access.html",
        {
            "community": community,
            "section": "manage",
            "is_founder": is_founder,
            "accesses": community_access_list(community).order_by("user__username"),
            "invitations": open_invitations(community).order_by("-created_at"),
            "roles": AccessRole.choices,
            "invite_form": invite_form or InvitationForm(),
            "new_link": new_link,
        },
        status=status,
    )


@community_view(AccessRole.OPERATOR)
def access(request: HttpRequest) -> HttpResponse:
    """Who has access: read-only for operators, with the forms for founders."""
    return _access_page(request)


@community_view(AccessRole.FOUNDER)
@require_POST
def access_change(request: HttpRequest, access_id: int) -> HttpResponse:
    """Change a role or remove access; the service refuses to leave no founder."""
    community = request.community
    target = get_object_or_404(community_access_list(community), pk=access_id)
    form = AccessChangeForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) or [_("Choose a valid role.")]:
            messages.error(request, error)
        return redirect("web:manage_access", slug=community.slug)
    username = target.user.get_username()
    try:
        if form.cleaned_data["remove"]:
            do_revoke_access(target, actor=request.user)
            messages.success(request, _("%(user)s no longer has access.") % {"user": username})
        else:
            do_change_access_role(target, form.cleaned_data["role"], actor=request.user)
            messages.success(
                request,
                _("%(user)s is now %(role)s.")
                % {"user": username, "role": AccessRole(target.role).label},
            )
    except AccessError as exc:
        messages.error(request, str(exc))
    # Someone who removed or lowered their own access may no longer see this page.
    role_now = role_in(request.user, community)
    if can(role_now, AccessRole.OPERATOR):
        return redirect("web:manage_access", slug=community.slug)
    if role_now is not None:
        return redirect("web:manage", slug=community.slug)
    return redirect("web:home")


@community_view(AccessRole.FOUNDER)
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    """Create an invitation and show its link on this response only: the token is not kept."""
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _access_page(request, invite_form=form, status=400)
    try:
        _invitation, token = do_invite(
            request.community,
            form.cleaned_data["role"],
            email=form.cleaned_data["email"],
            actor=request.user,
        )
    except AccessError as exc:
        form.add_error(None, str(exc))
        return _access_page(request, invite_form=form, status=400)
    link = request.build_absolute_uri(reverse("web:invitation", args=[token]))
    return _access_page(request, new_link=link)


@community_view(AccessRole.FOUNDER)
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Withdraw an open invitation so its link stops working."""
    invitation = get_object_or_404(open_invitations(request.community), pk=invitation_id)
    do_revoke_invitation(invitation, actor=request.user)
    messages.success(request, _("Invitation withdrawn: its link no longer works."))
    return redirect("web:manage_access", slug=request.community.slug)


@community_view(AccessRole.OPERATOR)
def audit(request: HttpRequest) -> HttpResponse:
    """The full audit log, newest first, filtered by kind of change and by account."""
    community = request.community
    form = AuditFilterForm(
        request.GET,
        action_choices=action_group_choices(community),
        actor_labels=audit_actor_labels(community),
    )
    form.is_valid()  # an invalid filter is dropped; the valid ones still apply
    filters = form.cleaned_data
    entries = audit_log(
        community,
        action_group=filters.get("action", ""),
        actor_label=filters.get("actor", ""),
    )
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/manage/audit.html",
        {
            "community": community,
            "section": "manage",
            "form": form,
            "page": page,
            "audit_lines": describe_entries(page.object_list),
        },
    )
