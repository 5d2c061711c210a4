"""The registry of goal metrics: what a goal can measure, each computed from the community's data.

A metric is any object with::

    code: str                      # stored with the goal, e.g. "active_participants"
    label: str                     # lazy translatable, e.g. _("active participants")
    unit: str                      # lazy translatable, may be "" (e.g. _("members"), "%")
    parameters: dict[str, str]     # name -> lazy description, e.g. {"level": _("the level")}
    def validate(self, params: dict) -> dict: ...
        # the cleaned parameters; raises GoalError naming the bad one ("params.<name>")
    def series(self, community, params: dict, days: list[datetime.date]) -> list[float]: ...
        # the value as of the end of each local day, set-based (a few queries for all days)

``days`` are ascending local days in the community's time zone, the first being the goal's
first day: a metric that counts things *within the goal's period* (events, attendances) counts
from the start of ``days[0]``; a metric of a state (members in a tier, members who reached a
level) gives the state on each day, whenever it began.

Optional, looked up with ``getattr``:

    def validate_in(self, community, params: dict) -> dict: ...
        # checks that need the community (e.g. that a ritual is one of its own)
    def unavailable(self, community) -> str | None: ...
        # why the metric has no data yet (e.g. tiers not worked out), in words
    def describe(self, params: dict) -> str: ...
        # the metric with its parameters in words, e.g. "members at level 3 or above"

Apps add metrics from their ``AppConfig.ready`` (the exchange registers ``needs_matched``); a
goal whose metric is not registered (its app was removed) shows "no data" and never fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from django.utils.translation import gettext as _

from shequn.culture.errors import GoalError


@runtime_checkable
class Metric(Protocol):
    code: str
    label: Any
    unit: Any
    parameters: dict[str, Any]

    def validate(self, params: dict) -> dict: ...

    def series(self, community: Any, params: dict, days: list[dt.date]) -> list[float]: ...


_REGISTRY: dict[str, Metric] = {}


def register_metric(metric: Metric) -> None:
    """Add a metric (replacing one with the same ``code``)."""
    if not isinstance(metric, Metric):
        raise TypeError("a metric needs code, label, unit, parameters, validate() and series()")
    _REGISTRY[metric.code] = metric


def unregister_metric(code: str) -> None:
    _REGISTRY.pop(code, None)


def metric(code: str) -> Metric | None:
    """The registered metric with this code; ``None`` when none is (show "no data")."""
    return _REGISTRY.get(code)


def metrics() -> list[Metric]:
    """Every registered metric, in the order registered."""
    return list(_REGISTRY.values())


def describe(found: Metric, params: Mapping[str, Any]) -> str:
    """The metric with its parameters in words (its ``describe`` or its label)."""
    describer = getattr(found, "describe", None)
    if describer is not None:
        try:
            return str(describer(dict(params)))
        except (GoalError, KeyError, TypeError, ValueError):
            pass
    return str(found.label)


# ----------------------------------------------------------------- helpers for metrics
def param_problem(name: str, message: str) -> GoalError:
    return GoalError(message, field=f"params.{name}")


def check_known(params: Any, known: Iterable[str]) -> dict[str, Any]:
    """The parameters as a dict; unknown names are refused, naming them."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise GoalError(_("must be a set of name=value parameters"), field="params")
    allowed = set(known)
    for name in params:
        if name not in allowed:
            raise param_problem(
                str(name),
                _("is not a parameter of this metric (it takes: %(names)s)")
                % {"names": ", ".join(sorted(allowed)) or _("no parameters")},
            )
    return dict(params)


def int_param(
    params: Mapping[str, Any],
    name: str,
    *,
    minimum: int,
    maximum: int,
    default: int | None = None,
) -> int | None:
    """A whole number parameter given as a number or a text; ``default`` when absent."""
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise param_problem(name, _("is required"))
        return default
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str):
        try:
            value = int(value.strip()) if value.strip().isascii() else None
        except ValueError:
            value = None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not minimum <= value <= maximum:
        raise param_problem(
            name,
            _("must be a whole number from %(min)d to %(max)d") % {"min": minimum, "max": maximum},
        )
    return value


def text_param(
    params: Mapping[str, Any], name: str, *, max_length: int, required: bool = False
) -> str:
    value = params.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise param_problem(name, _("must be a text"))
    value = value.strip()
    if "\x00" in value:
        raise param_problem(name, _("must not contain NUL characters"))
    if required and not value:
        raise param_problem(name, _("is required"))
    if len(value) > max_length:
        raise param_problem(name, _("is too long (at most %(n)d characters)") % {"n": max_length})
    return value


def choice_param(
    params: Mapping[str, Any], name: str, choices: Iterable[str], *, default: str = ""
) -> str:
    allowed = list(choices)
    value = params.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value.strip() not in allowed:
        raise param_problem(
            name,
            _("must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(allowed), "value": repr(value)[:60]},
        )
    return value.strip()


def list_param(
    params: Mapping[str, Any], name: str, choices: Iterable[str], *, default: list[str]
) -> list[str]:
    """Several of ``choices``, as a list or a comma-separated text."""
    allowed = list(choices)
    value = params.get(name)
    if value is None or value == "" or value == []:
        return list(default)
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, list | tuple):
        items = [item.strip() if isinstance(item, str) else item for item in value]
    else:
        items = [value]
    wrong = [item for item in items if item not in allowed]
    if wrong or not items:
        raise param_problem(
            name,
            _("must be one or more of %(choices)s, not %(value)s")
            % {"choices": ", ".join(allowed), "value": repr(wrong[:3] or value)[:60]},
        )
    return sorted(set(items), key=allowed.index)


def day_start(community: Any, day: dt.date) -> dt.datetime:
    """The local midnight that starts ``day`` in the community's time zone."""
    return dt.datetime.combine(day, dt.time(), community.zoneinfo)


def as_date(value: Any) -> dt.date:
    """A day as a database returns it (a date, a datetime, or an ISO text on SQLite)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def running_total(
    per_day: Mapping[dt.date, float], days: list[dt.date], *, before: float = 0.0
) -> list[float]:
    """For each of ``days`` (ascending), ``before`` plus everything in ``per_day`` up to and
    including that day."""
    ordered = sorted(per_day.items())
    values: list[float] = []
    total, index = float(before), 0
    for day in days:
        while index < len(ordered) and ordered[index][0] <= day:
            total += ordered[index][1]
            index += 1
        values.append(total)
    return values
