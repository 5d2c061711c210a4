"""A goal's member-facing progress page (the seed's feedback: 距离目标还有多远).

Operators turn it on per goal; its link carries an unguessable token and opens without an
account. Turning it off clears the token: the link answers 404 from then on, and turning it on
again makes a new one.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from shequn.culture.selectors import goal_progress, public_goal
from shequn.culture.texts import forecast_text
from shequn.web.culture.common import goal_chart, status_labels


@never_cache
def goal_public(request: HttpRequest, token: str) -> HttpResponse:
    goal = public_goal(token)
    if goal is None:
        raise Http404
    progress = goal_progress(goal)
    response = render(
        request,
        "web/culture/goal_public.html",
        {
            "goal": goal,
            "community_name": goal.community.name,
            "mission": goal.community.mission,
            "progress": progress,
            "forecast": progress.forecast,
            "status_label": status_labels()[progress.status],
            "forecast_text": forecast_text(progress),
            "chart": goal_chart(progress),
        },
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response
