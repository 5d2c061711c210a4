"""A goal's forecast in plain words (the web pages, the public page and the command line say
the same thing)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shequn.culture.forecast import (
    ACHIEVED,
    BEHIND,
    MISSED,
    NO_DATA,
    NOT_STARTED,
    ON_TRACK,
    TOO_EARLY,
)
from shequn.culture.onboarding import number


def status_label(status: str) -> str:
    return {
        ACHIEVED: _("achieved"),
        ON_TRACK: _("on track"),
        BEHIND: _("behind"),
        MISSED: _("missed"),
        TOO_EARLY: _("too early to tell"),
        NOT_STARTED: _("not started"),
        NO_DATA: _("no data"),
    }.get(status, status)


def forecast_text(progress: object) -> str:
    """What the forecast says, e.g. "At the current pace (7 a week) the goal reaches 60 by
    2024-04-02: on track.\""""
    goal, fc = progress.goal, progress.forecast  # type: ignore[attr-defined]
    values = {
        "current": number(fc.current),
        "target": number(fc.target),
        "deadline": goal.deadline.isoformat(),
        "start": goal.start_on.isoformat(),
        "pace": number(fc.pace_per_week),
        "needed": number(fc.needed_per_week),
        "projected": number(fc.projected),
        "reached": fc.reached_on.isoformat() if fc.reached_on else "",
    }
    if fc.status == ACHIEVED:
        return _("Reached: %(current)s of %(target)s.") % values
    if fc.status == MISSED:
        return _("The deadline %(deadline)s has passed at %(current)s of %(target)s.") % values
    if fc.status == NOT_STARTED:
        return _("The goal starts on %(start)s.") % values
    if fc.status == NO_DATA:
        return progress.reason or _("No data yet.")  # type: ignore[attr-defined]
    if fc.status == TOO_EARLY:
        return _("%(current)s of %(target)s so far; too few days of data to tell the pace.") % (
            values
        )
    if fc.status == ON_TRACK:
        return (
            _(
                "At the current pace (%(pace)s a week) the goal reaches %(projected)s by "
                "%(deadline)s: on track."
            )
            % values
        )
    if fc.days_left == 0:
        return _("Today is the deadline: %(current)s of %(target)s so far.") % values
    text = (
        _(
            "At the current pace (%(pace)s a week) it reaches %(projected)s by %(deadline)s; "
            "%(needed)s a week are needed from now on."
        )
        % values
    )
    if fc.reached_on:
        text += " " + _("At this pace the target is reached on %(reached)s.") % values
    return text
