"""The members list and one member's page: read-only, for every role (viewer and up)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from shequn.interactions.selectors import member_activity, member_timeline, member_totals
from shequn.members.selectors import (
    channels_of,
    community_member,
    member_identities,
    member_merges,
    members_page,
)
from shequn.web.access import community_view
from shequn.web.members.forms import MemberListForm

TIMELINE_PAGE_SIZE = 50


@community_view()
def members(request: HttpRequest) -> HttpResponse:
    """The members list: a GET form of filters; invalid values fall back, never fail."""
    community = request.community
    channels = channels_of(community)
    form = MemberListForm(request.GET, channels=channels)
    filters = form.filters()
    page = members_page(community, filters, request.GET.get("page"))
    return render(
        request,
        "web/members/list.html",
        {
            "community": community,
            "section": "members",
            "form": form,
            "filters": filters,
            "page": page,
            "has_channels": len(channels) > 1,
        },
    )


@community_view()
def member(request: HttpRequest, member_id: int) -> HttpResponse:
    """One member: accounts, totals, activity chart and a paginated timeline; another
    community's member is not found here."""
    community = request.community
    person = community_member(community, member_id)
    if person is None:
        raise Http404
    timeline = Paginator(member_timeline(person), TIMELINE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/members/detail.html",
        {
            "community": community,
            "section": "members",
            "member": person,
            "identities": list(member_identities(person)),
            "totals": member_totals(person),
            "activity": member_activity(person),
            "timeline": timeline,
            "merges": list(member_merges(person)),
        },
    )
