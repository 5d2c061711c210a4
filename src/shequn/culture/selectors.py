"""Read queries of culture: goals with their computed progress and forecast, the culture's
three questions (mission, rituals, feedback), testimonials, and who still needs onboarding.

Two functions are contracts other apps call: ``goal_progress_summary`` (the diagnosis's goal
progress) and ``culture_status`` (the audit's iron rule 7, "a culture exists").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.communities.models import Community
from shequn.culture.errors import CultureError
from shequn.culture.forecast import (
    ACHIEVED,
    BEHIND,
    MISSED,
    NO_DATA,
    NOT_STARTED,
    ON_TRACK,
    Forecast,
    forecast,
    no_forecast,
)
from shequn.culture.metrics import Metric, describe, metric
from shequn.culture.models import Goal, Onboarding, OnboardingTemplate, Testimonial
from shequn.members.models import Member, Role

# Rituals are the culture in practice when attended within this many days (as the diagnosis).
RITUAL_DAYS = 90
RECENT_OCCURRENCES = 3


def community_today(community: Community, now: dt.datetime | None = None) -> dt.date:
    """Today in the community's time zone."""
    return (now or timezone.now()).astimezone(community.zoneinfo).date()


# ------------------------------------------------------------------------------- goals
def community_goals(community: Community) -> QuerySet[Goal]:
    return Goal.objects.filter(community=community).select_related("owner", "community")


def goal_in(community: Community, goal_id: int) -> Goal | None:
    return community_goals(community).filter(pk=goal_id).first()


def public_goal(token: str) -> Goal | None:
    """The goal a public link names, while its link is on."""
    if not token:
        return None
    return Goal.objects.filter(public_token=token).select_related("community", "owner").first()


@dataclass(frozen=True)
class GoalProgress:
    """A goal's values from its first day up to ``as_of`` and what they forecast."""

    goal: Goal
    metric: Metric | None
    metric_text: str  # the metric with its parameters, in words
    unit: str
    days: list[dt.date]
    values: list[float]
    forecast: Forecast
    reason: str = ""  # why there is no data, in words
    chart: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.forecast.status

    @property
    def percent(self) -> float | None:
        return self.forecast.percent


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def goal_progress(goal: Goal, on: dt.date | None = None) -> GoalProgress:
    """The goal's progress as of the end of ``on`` (default: today in the community): its
    daily values from ``start_on`` to ``on`` (or the deadline, if earlier) and the forecast.

    A metric that is not registered, parameters that no longer fit it, or a metric without
    data yet (e.g. tiers never worked out) give ``no_data`` with the reason, never an error.
    """
    community = goal.community
    on = on or community_today(community)
    found = metric(goal.metric)
    target = float(goal.target)
    if found is None:
        reason = _("The metric %(code)s is not available (the app that provided it is gone).") % {
            "code": goal.metric
        }
        return GoalProgress(
            goal,
            None,
            goal.metric,
            "",
            [],
            [],
            no_forecast(NO_DATA, target, goal.deadline, on),
            reason,
        )
    unit = str(found.unit or "")
    try:
        params = found.validate(dict(goal.params or {}))
        check = getattr(found, "validate_in", None)
        if check is not None:
            params = check(community, params)
    except CultureError as exc:
        reason = _("Its parameters no longer fit the metric: %(problem)s") % {"problem": exc}
        return GoalProgress(
            goal,
            found,
            str(found.label),
            unit,
            [],
            [],
            no_forecast(NO_DATA, target, goal.deadline, on),
            reason,
        )
    text = describe(found, params)
    if on < goal.start_on:
        return GoalProgress(
            goal, found, text, unit, [], [], no_forecast(NOT_STARTED, target, goal.deadline, on)
        )
    unavailable = getattr(found, "unavailable", None)
    reason = unavailable(community) if unavailable is not None else None
    if reason:
        return GoalProgress(
            goal,
            found,
            text,
            unit,
            [],
            [],
            no_forecast(NO_DATA, target, goal.deadline, on),
            str(reason),
        )
    days = _days(goal.start_on, min(on, goal.deadline))
    values = [float(value) for value in found.series(community, params, days)]
    result = forecast(days, values, target=target, deadline=goal.deadline, ended=on > goal.deadline)
    return GoalProgress(goal, found, text, unit, days, values, result, chart=_chart(values, days))


def _chart(values: list[float], days: list[dt.date]) -> list[dict[str, Any]]:
    return [
        {"day": day.isoformat(), "value": round(value, 2)}
        for day, value in zip(days, values, strict=True)
    ]


def goals_with_progress(community: Community, on: dt.date | None = None) -> list[GoalProgress]:
    """Every goal of the community with its progress: running ones first (soonest deadline
    first), then those not started, then those over (latest first)."""
    on = on or community_today(community)
    goals = list(community_goals(community))
    running = [g for g in goals if g.start_on <= on <= g.deadline]
    later = [g for g in goals if on < g.start_on]
    over = sorted((g for g in goals if g.deadline < on), key=lambda g: g.deadline, reverse=True)
    return [goal_progress(goal, on) for goal in (*running, *later, *over)]


def current_goals(community: Community, on: dt.date | None = None) -> list[GoalProgress]:
    """The goals whose period contains ``on`` (default: today)."""
    on = on or community_today(community)
    goals = community_goals(community).filter(start_on__lte=on, deadline__gte=on)
    return [goal_progress(goal, on) for goal in goals]


def goal_progress_summary(community: Community, on: dt.date) -> dict[str, Any]:
    """For the diagnosis (group dynamics, "goal progress"): the goals whose period contains
    ``on`` or ended before it, as of the end of ``on``.

    ``goals`` counts them; ``achieved`` those that reached their target; ``on_track`` those
    not reached yet whose forecast reaches it by the deadline; ``behind`` and ``missed`` the
    others; ``no_data`` those whose metric gave nothing; ``mean_progress`` the mean share of
    the target reached (0..1) over the goals with data, ``None`` when none has any.
    """
    results = [
        goal_progress(goal, on) for goal in community_goals(community).filter(start_on__lte=on)
    ]
    shares = [r.forecast.progress for r in results if r.forecast.progress is not None]
    statuses = [r.status for r in results]
    return {
        "goals": len(results),
        "on_track": statuses.count(ON_TRACK),
        "achieved": statuses.count(ACHIEVED),
        "behind": statuses.count(BEHIND),
        "missed": statuses.count(MISSED),
        "no_data": statuses.count(NO_DATA),
        "mean_progress": sum(shares) / len(shares) if shares else None,
    }


# ---------------------------------------------------------------------------- culture
def _window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=RITUAL_DAYS), now


def culture_status(community: Community, now: dt.datetime | None = None) -> dict[str, Any]:
    """For the audit's iron rule 7 (a culture exists): whether a mission is written down,
    how many values are advocated and opposed, active rituals, attendances at their
    occurrences in the last 90 days, goals, and published testimonials."""
    from shequn.activities.models import Registration, Ritual
    from shequn.activities.selectors import HELD

    since, until = _window(now or timezone.now())
    return {
        "mission": bool((community.mission or "").strip()),
        "values_advocated": len(community.values_advocated or []),
        "values_opposed": len(community.values_opposed or []),
        "rituals": Ritual.objects.filter(community=community, active=True).count(),
        "ritual_attendance": Registration.objects.filter(
            activity__community=community,
            activity__ritual__isnull=False,
            activity__status__in=HELD,
            activity__starts_at__gte=since,
            activity__starts_at__lte=until,
            checked_in_at__isnull=False,
        ).count(),
        "goals": Goal.objects.filter(community=community).count(),
        "testimonials": Testimonial.objects.filter(
            community=community, published_at__isnull=False
        ).count(),
    }


@dataclass(frozen=True)
class Occurrence:
    activity_id: int
    title: str
    starts_at: dt.datetime
    registered: int  # confirmed places
    attended: int

    @property
    def turnout(self) -> float | None:
        return self.attended / self.registered if self.registered else None


@dataclass(frozen=True)
class RitualSummary:
    """A ritual as "how we get there": its recent occurrences with turnout, the attendances
    of the last ``RITUAL_DAYS`` and its next occurrence."""

    ritual: Any
    recent: list[Occurrence]
    occurrences: int  # held in the window
    attended: int  # attendances in the window
    registered: int  # confirmed places in the window
    next_starts_at: dt.datetime | None

    @property
    def turnout(self) -> float | None:
        return self.attended / self.registered if self.registered else None


def ritual_summaries(community: Community, now: dt.datetime | None = None) -> list[RitualSummary]:
    """The community's active rituals with their recent attendance (three grouped queries)."""
    from shequn.activities.models import Activity, Registration, Ritual
    from shequn.activities.selectors import HELD

    now = now or timezone.now()
    since, until = _window(now)
    rituals = list(
        Ritual.objects.filter(community=community, active=True).select_related("organiser")
    )
    if not rituals:
        return []
    confirmed = Q(registrations__status=Registration.Status.CONFIRMED)
    rows = (
        Activity.objects.filter(
            ritual__in=rituals, status__in=HELD, starts_at__gte=since, starts_at__lte=until
        )
        .annotate(
            registered=Count("registrations", filter=confirmed),
            came=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
        )
        .order_by("-starts_at", "-id")
        .values_list("ritual_id", "pk", "title", "starts_at", "registered", "came")
    )
    held: dict[int, list[Occurrence]] = {ritual.pk: [] for ritual in rituals}
    for ritual_id, pk, title, starts_at, registered, came in rows:
        held[ritual_id].append(Occurrence(pk, title, starts_at, registered, came))
    upcoming = dict(
        Activity.objects.filter(
            ritual__in=rituals, status=Activity.Status.PUBLISHED, starts_at__gt=now
        )
        .values("ritual_id")
        .annotate(first=Min("starts_at"))
        .order_by()
        .values_list("ritual_id", "first")
    )
    return [
        RitualSummary(
            ritual=ritual,
            recent=held[ritual.pk][:RECENT_OCCURRENCES],
            occurrences=len(held[ritual.pk]),
            attended=sum(o.attended for o in held[ritual.pk]),
            registered=sum(o.registered for o in held[ritual.pk]),
            next_starts_at=upcoming.get(ritual.pk),
        )
        for ritual in rituals
    ]


# ------------------------------------------------------------------------ testimonials
def community_testimonials(
    community: Community, *, published: bool | None = None
) -> QuerySet[Testimonial]:
    """The community's testimonials, newest first; only published (or unpublished) ones if
    asked."""
    found = Testimonial.objects.filter(community=community).select_related("member")
    if published is not None:
        found = found.filter(published_at__isnull=not published)
    return found.order_by("-said_on", "-id")


def testimonial_in(community: Community, testimonial_id: int) -> Testimonial | None:
    return community_testimonials(community).filter(pk=testimonial_id).first()


def testimonial_counts(community: Community) -> dict[str, int]:
    counts = Testimonial.objects.filter(community=community).aggregate(
        total=Count("id"), published=Count("id", filter=Q(published_at__isnull=False))
    )
    return {"total": counts["total"], "published": counts["published"]}


# -------------------------------------------------------------------------- onboarding
def pending_onboarding(
    community: Community, *, joined_since: dt.datetime | None = None
) -> QuerySet[Member]:
    """Members who have not been onboarded yet, newest first: current members (not left, not
    muted), not founders or operators, not bots."""
    members = Member.objects.filter(
        community=community,
        role=Role.MEMBER,
        is_bot=False,
        left_at__isnull=True,
        muted_at__isnull=True,
        onboarding__isnull=True,
    )
    if joined_since is not None:
        members = members.filter(joined_at__gte=joined_since)
    return members.order_by(F("joined_at").desc(nulls_last=True), "-id")


def onboarded_members(community: Community) -> QuerySet[Onboarding]:
    return (
        Onboarding.objects.filter(community=community)
        .select_related("member")
        .order_by("-onboarded_at", "-id")
    )


def onboarding_counts(community: Community) -> dict[str, int]:
    return {
        "pending": pending_onboarding(community).count(),
        "onboarded": Onboarding.objects.filter(community=community).count(),
    }


def saved_template(community: Community) -> OnboardingTemplate | None:
    return OnboardingTemplate.objects.filter(community=community).first()
