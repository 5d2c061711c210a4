"""What the culture pages share: lookups that answer 404 for another community's objects,
finding a member by what an operator typed, and the chart of a goal."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.communities.models import Community
from shequn.culture.errors import CultureError
from shequn.culture.models import Goal, Testimonial
from shequn.culture.selectors import GoalProgress, goal_in, testimonial_in
from shequn.members.models import Member


def may_write(request: HttpRequest) -> bool:
    return can(request.access_role, AccessRole.OPERATOR)


def goal_or_404(community: Community, goal_id: int) -> Goal:
    found = goal_in(community, goal_id)
    if found is None:
        raise Http404
    return found


def testimonial_or_404(community: Community, testimonial_id: int) -> Testimonial:
    found = testimonial_in(community, testimonial_id)
    if found is None:
        raise Http404
    return found


def resolve_member(community: Community, text: str, field: str) -> Member | None:
    """The member an operator typed (id, key, name or handle); ``CultureError`` naming
    ``field`` when nobody or several people match. Empty text: ``None``."""
    from shequn.activities.web_selectors import find_member

    text = (text or "").strip()
    if not text:
        return None
    found = find_member(community, text)
    if not found:
        raise CultureError(
            _("no member %(member)s in this community") % {"member": repr(text)}, field=field
        )
    if len(found) > 1:
        raise CultureError(
            _("%(member)s matches several members (%(choices)s); use the member's id")
            % {
                "member": repr(text),
                "choices": ", ".join(f"#{m.pk} {m.display_name}" for m in found),
            },
            field=field,
        )
    return found[0]


def status_labels() -> dict[str, str]:
    """Each goal status in words."""
    from shequn.culture.forecast import STATUSES
    from shequn.culture.texts import status_label

    return {status: status_label(status) for status in STATUSES}


def goal_chart(progress: GoalProgress) -> dict[str, Any]:
    """The goal's chart for ``culture/goal-chart.js``: every day from the start to the
    deadline, the values so far, the target, and from today two lines to the deadline — the
    current pace and the pace needed."""
    goal, days, values = progress.goal, progress.days, progress.values
    if not days:
        return {}
    import datetime as dt

    labels = [
        (goal.start_on + dt.timedelta(days=n)).isoformat()
        for n in range((goal.deadline - goal.start_on).days + 1)
    ]
    known = len(values)
    actual: list[float | None] = [round(v, 2) for v in values] + [None] * (len(labels) - known)
    pace: list[float | None] = [None] * len(labels)
    needed: list[float | None] = [None] * len(labels)
    fc = progress.forecast
    if known < len(labels) and fc.current is not None:
        pace[known - 1] = needed[known - 1] = round(fc.current, 2)
        if fc.projected is not None:
            pace[-1] = round(fc.projected, 2)
        needed[-1] = round(fc.target, 2)
    return {
        "labels": labels,
        "actual": actual,
        "pace": pace,
        "needed": needed,
        "target": [round(fc.target, 2)] * len(labels),
    }
