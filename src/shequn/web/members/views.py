"""The members list and one member's page: read-only, for every role (viewer and up)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.interactions.selectors import member_activity, member_timeline, member_totals
from shequn.members.selectors import (
    channels_of,
    community_member,
    member_identities,
    member_merges,
    members_page,
)
from shequn.rewards.selectors import level_ups, member_level, points_history
from shequn.tiers.reasons import action_text, describe_all, describe_risk, next_action, tier_label
from shequn.tiers.selectors import (
    member_progress,
    member_tier,
    member_tier_path,
    tier_counts_by_member_ids,
)
from shequn.web.access import community_view
from shequn.web.members.engagement import engagement_context
from shequn.web.members.forms import MemberListForm
from shequn.web.points.forms import ManualEntryForm, ReverseForm
from shequn.web.views.progress import progress_url

TIMELINE_PAGE_SIZE = 50
POINTS_PAGE_SIZE = 20


def _tier_context(person) -> dict:
    """The member's tier with its reasons in words, their path and what the next tier needs."""
    state = member_tier(person)
    if state is None:
        return {"tier": None}
    path = member_tier_path(person)
    progress = member_progress(person)
    for change in path:
        change.from_label = tier_label(change.from_tier) if change.from_tier else ""
        change.to_label = tier_label(change.to_tier)
        change.reason_texts = describe_all(change.reasons or [])
    return {
        "tier": state,
        "tier_reasons": describe_all(state.reasons or []),
        "tier_risk": describe_risk(state.risk or {}) if state.at_risk else "",
        "tier_action": action_text(next_action(state.tier, at_risk=state.at_risk)),
        "tier_path": path,
        "progress": progress,
        "next_tier_label": tier_label(progress["next_tier"]) if progress.get("next_tier") else "",
    }


def _points_context(person, page: str | None) -> dict:
    try:
        number = max(1, int(page or 1))
    except ValueError:
        number = 1
    history = points_history(
        person, limit=POINTS_PAGE_SIZE + 1, offset=(number - 1) * POINTS_PAGE_SIZE
    )
    return {
        "level": member_level(person),
        "level_ups": list(level_ups(person)),
        "points_history": history[:POINTS_PAGE_SIZE],
        "points_page": number,
        "points_has_next": len(history) > POINTS_PAGE_SIZE,
    }


@community_view()
def members(request: HttpRequest) -> HttpResponse:
    """The members list: a GET form of filters; invalid values fall back, never fail."""
    community = request.community
    channels = channels_of(community)
    form = MemberListForm(request.GET, channels=channels)
    filters = form.filters()
    page = members_page(community, filters, request.GET.get("page"))
    tiers = tier_counts_by_member_ids(member.pk for member in page)
    for row in page:
        row.tier = tiers.get(row.pk, "")
        row.tier_name = tier_label(row.tier) if row.tier else ""
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
            "can_write": can(request.access_role, AccessRole.OPERATOR),
            "progress_link": (
                request.build_absolute_uri(progress_url(person))
                if can(request.access_role, AccessRole.OPERATOR)
                else ""
            ),
            "manual_form": ManualEntryForm(),
            "reverse_form": ReverseForm(),
            **_tier_context(person),
            **_points_context(person, request.GET.get("points_page")),
            **engagement_context(person),
        },
    )
