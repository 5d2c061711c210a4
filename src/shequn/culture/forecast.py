"""Will a goal be reached by its deadline at the current pace? Pure arithmetic on its series.

* **pace**: the slope of a least-squares line through the last ``PACE_DAYS`` daily values (or
  all of them, when the goal is younger), in units per day. A line, not the last day's change:
  one busy or quiet day should not swing the forecast.
* **projected**: today's value plus the pace times the days left (never below zero).
* **needed pace**: what is still missing, divided by the days left.
* **status**: ``achieved`` (the target is reached, even before the deadline), ``missed`` (the
  deadline has passed without it), ``on_track`` (the projection reaches the target),
  ``behind``, ``too_early`` (fewer than ``MIN_DAYS`` days of data: no honest pace yet),
  ``not_started`` (the goal's period begins later) or ``no_data`` (the metric has none).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

PACE_DAYS = 28
MIN_DAYS = 3

ACHIEVED, MISSED, ON_TRACK, BEHIND = "achieved", "missed", "on_track", "behind"
TOO_EARLY, NOT_STARTED, NO_DATA = "too_early", "not_started", "no_data"
STATUSES = (ACHIEVED, ON_TRACK, BEHIND, MISSED, TOO_EARLY, NOT_STARTED, NO_DATA)


@dataclass(frozen=True)
class Forecast:
    status: str
    target: float
    as_of: dt.date | None  # the last day with a value
    current: float | None
    progress: float | None  # share of the target reached, 0..1
    days_left: int  # days after ``as_of`` up to the deadline (0 once it is reached)
    pace: float | None  # per day, recently
    needed_pace: float | None  # per day, to reach the target by the deadline
    projected: float | None  # at the deadline, at the current pace
    reached_on: dt.date | None  # when the target would be reached at the current pace

    @property
    def pace_per_week(self) -> float | None:
        return None if self.pace is None else self.pace * 7

    @property
    def needed_per_week(self) -> float | None:
        return None if self.needed_pace is None else self.needed_pace * 7

    @property
    def percent(self) -> float | None:
        return None if self.progress is None else round(100 * self.progress, 1)

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "target": self.target,
            "as_of": self.as_of,
            "current": self.current,
            "progress": self.progress,
            "days_left": self.days_left,
            "pace_per_day": self.pace,
            "pace_per_week": self.pace_per_week,
            "needed_per_day": self.needed_pace,
            "needed_per_week": self.needed_per_week,
            "projected": self.projected,
            "reached_on": self.reached_on,
        }


def no_forecast(status: str, target: float, deadline: dt.date, on: dt.date | None) -> Forecast:
    days_left = max(0, (deadline - on).days) if on else 0
    return Forecast(status, target, None, None, None, days_left, None, None, None, None)


def share_of(value: float, target: float) -> float:
    return max(0.0, min(1.0, value / target)) if target > 0 else 0.0


def recent_pace(values: list[float]) -> float | None:
    """Units per day over the last ``PACE_DAYS`` values; ``None`` with fewer than
    ``MIN_DAYS``."""
    recent = values[-PACE_DAYS:]
    if len(recent) < MIN_DAYS:
        return None
    slope = float(np.polyfit(np.arange(len(recent), dtype=float), np.array(recent), 1)[0])
    # Rounded: a steady one a day is 1.0, not 0.9999999999999998 (which would miss a day).
    return round(slope, 9) + 0.0


def forecast(
    days: list[dt.date],
    values: list[float],
    *,
    target: float,
    deadline: dt.date,
    ended: bool = False,
) -> Forecast:
    """The forecast from a goal's daily values (``days`` from its first day to ``as_of``);
    ``ended``: the deadline has passed (on the deadline itself the day is not over yet)."""
    if not days or not values:
        return no_forecast(NO_DATA, target, deadline, None)
    as_of, current = days[-1], float(values[-1])
    days_left = max(0, (deadline - as_of).days)
    pace = recent_pace(values)
    needed = (target - current) / days_left if days_left and current < target else None
    projected = max(0.0, current + pace * days_left) if pace is not None else None
    reached_on = None
    if current >= target:
        status = ACHIEVED
    elif ended:
        status = MISSED
    elif pace is None:
        status = TOO_EARLY
    else:
        # A hair of tolerance: a least-squares pace that lands exactly on the target is on track.
        status = ON_TRACK if projected is not None and projected >= target - 1e-9 else BEHIND
    if ended:
        pace = needed = projected = None
    if current < target and pace is not None and pace > 0:
        days_needed = math.ceil((target - current) / pace)
        if days_needed < 100 * 366:
            reached_on = as_of + dt.timedelta(days=days_needed)
    return Forecast(
        status=status,
        target=target,
        as_of=as_of,
        current=current,
        progress=share_of(current, target),
        days_left=days_left,
        pace=pace,
        needed_pace=needed,
        projected=projected,
        reached_on=reached_on,
    )
