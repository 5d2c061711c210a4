"""The communities list and a community's overview page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can, visible_communities
from shequn.accounts.services import do_create_owned_community
from shequn.communities.selectors import channels_with_counts, member_counts_by_role
from shequn.communities.services import CommunityError
from shequn.interactions.selectors import most_active_members, recent_imports, weekly_activity
from shequn.web.access import community_view
from shequn.web.forms import CommunityCreateForm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    communities = visible_communities(request.user).order_by("name")
    return render(
        request,
        "web/home.html",
        {
            "communities": communities,
            "create_form": CommunityCreateForm() if request.user.is_staff else None,
        },
    )


@login_required
@require_POST
def community_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        return redirect("web:home")
    form = CommunityCreateForm(request.POST)
    if form.is_valid():
        try:
            community = do_create_owned_community(request.user, **form.cleaned_data)
        except CommunityError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Community created."))
            return redirect("web:community", slug=community.slug)
    communities = visible_communities(request.user).order_by("name")
    return render(
        request, "web/home.html", {"communities": communities, "create_form": form}, status=400
    )


@community_view()
def overview(request: HttpRequest) -> HttpResponse:
    community = request.community
    return render(
        request,
        "web/community/overview.html",
        {
            "community": community,
            "counts": member_counts_by_role(community),
            "channels": channels_with_counts(community),
            "weekly": weekly_activity(community),
            "active_members": most_active_members(community),
            "imports": recent_imports(community, limit=5),
            "can_write": can(request.access_role, AccessRole.OPERATOR),
        },
    )
