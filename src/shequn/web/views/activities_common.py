"""What the activities pages share: lookups, refusals as text, finding a member, the calendar
agenda and the chart rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.activities.models import Activity, Registration
from shequn.activities.services import (
    ActivityError,
)
from shequn.activities.web_selectors import (
    find_member,
)
from shequn.communities.models import Community
from shequn.members.models import Member
from shequn.web.views.activities_forms import (
    ActivityForm,
)


def may_write(request: HttpRequest) -> bool:
    return can(request.access_role, AccessRole.OPERATOR)


def activity_or_404(community: Community, activity_id: int) -> Activity:
    """The community's activity, or 404 (another community's answers as if it did not exist)."""
    found = (
        Activity.objects.filter(community=community, pk=activity_id)
        .select_related("community", "organiser", "ritual")
        .first()
    )
    if found is None:
        raise Http404
    return found


def registration_or_404(activity: Activity, registration_id: int) -> Registration:
    found = (
        Registration.objects.filter(activity=activity, pk=registration_id)
        .select_related("member", "activity__community")
        .first()
    )
    if found is None:
        raise Http404
    return found


def detail_redirect(activity: Activity, anchor: str = "") -> HttpResponse:
    url = reverse("web:activity", args=[activity.community.slug, activity.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def problems_text(error: ActivityError) -> str:
    """Every problem of a refused operation on one line, each with the field it concerns."""
    return "; ".join(
        f"{field}: {message}" if field and field not in ("code", "member", "activity") else message
        for field, message in error.problems.items()
    )


def resolve_member(community: Community, text: str, field: str = "member") -> Member | None:
    """The member an operator typed (id, key, name or handle); ``ActivityError`` naming
    ``field`` when nobody or several people match. Empty text: ``None``."""
    text = (text or "").strip()
    if not text:
        return None
    found = find_member(community, text)
    if not found:
        raise ActivityError(
            _("no member %(member)s in this community") % {"member": repr(text)}, field=field
        )
    if len(found) > 1:
        raise ActivityError(
            _("%(member)s matches several members (%(choices)s); use the member's id")
            % {
                "member": repr(text),
                "choices": ", ".join(f"#{m.pk} {m.display_name}" for m in found),
            },
            field=field,
        )
    return found[0]


def form_values(form: ActivityForm, community: Community) -> dict[str, Any]:
    values = form.values()
    values["organiser"] = resolve_member(community, values.get("organiser") or "", "organiser")
    return values


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def agenda(activities: list[Activity], community: Community) -> list[dict[str, Any]]:
    """Activities grouped by the week (Monday, in the community's time zone) they start in."""
    zone = community.zoneinfo
    weeks: list[dict[str, Any]] = []
    for activity in activities:
        start = week_start(activity.starts_at.astimezone(zone).date())
        if not weeks or weeks[-1]["start"] != start:
            weeks.append({"start": start, "end": start + dt.timedelta(days=6), "activities": []})
        weeks[-1]["activities"].append(activity)
    return weeks


def share_rows(shares: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    total = sum(share.activities for share in shares.values())
    return [
        {
            "key": key,
            "label": labels.get(key, key),
            "activities": share.activities,
            "attended": share.attended,
            "percent": round(100 * share.activities / total, 1) if total else None,
        }
        for key, share in shares.items()
    ]


def turnout_chart(months: list[Any]) -> list[dict[str, Any]]:
    """Rows for the stacked bar chart of ``charts.js`` (kind ``activity``): per month, people
    who came (``messages``, the first series) and people with a place who did not come
    (``reactions``), so each bar is as high as the places confirmed."""
    return [
        {
            "period": month.month.strftime("%Y-%m"),
            "messages": month.attended,
            "reactions": max(0, month.confirmed - month.attended),
        }
        for month in months
    ]
