"""Goals (社群目标): create, change, delete, and turn the member-facing progress link on or off.

Progress is never stored: a goal keeps its metric and parameters, and
``shequn.culture.selectors.goal_progress`` computes the values from the community's data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.culture.errors import CultureError, GoalError
from shequn.culture.metrics import metric, metrics
from shequn.culture.models import Goal
from shequn.culture.services.common import (
    Problems,
    as_day,
    as_number,
    as_text,
    jsonable,
    user_of,
)
from shequn.members.models import Member

FIELDS = ("title", "description", "metric", "params", "target", "start_on", "deadline", "owner")
TITLE_MAX = Goal._meta.get_field("title").max_length
DESCRIPTION_MAX = 10_000
TARGET_MAX = 1e12
# A goal's period is at most ten years: its progress is computed day by day.
MAX_PERIOD_DAYS = 3_660
PARAMS_MAX = 20


def parse_params(text: str) -> dict[str, str]:
    """Parameters as typed in a form or on the command line: ``name=value`` per line (or
    separated by ``;``). ``GoalError`` naming ``params`` for a piece without ``=``."""
    params: dict[str, str] = {}
    for piece in str(text or "").replace(";", "\n").splitlines():
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            raise GoalError(
                _("write each parameter as name=value, not %(piece)s") % {"piece": repr(piece)},
                field="params",
            )
        params[name.strip()] = value.strip()
    return params


def _owner(community: Community, value: Any, problems: Problems) -> Member | None:
    if value is None or value == "":
        problems.add("owner", _("is required: the member who answers for the goal"))
        return None
    if isinstance(value, Member):
        if value.community_id != community.pk:
            problems.add("owner", _("must be a member of this community"))
            return None
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        found = Member.objects.filter(community=community, pk=value).first()
        if found is None:
            problems.add("owner", _("must be a member of this community"))
        return found
    problems.add("owner", _("must be a member of this community"))
    return None


def _metric_and_params(
    community: Community, code: Any, params: Any, problems: Problems
) -> tuple[str, dict]:
    found = metric(code) if isinstance(code, str) else None
    if found is None:
        problems.add(
            "metric",
            _("must be one of %(choices)s, not %(value)s")
            % {
                "choices": ", ".join(m.code for m in metrics()),
                "value": repr(code)[:60],
            },
        )
        return str(code or "")[:64], {}
    if isinstance(params, str):
        try:
            params = parse_params(params)
        except GoalError as exc:
            problems.add(exc.field, exc.message)
            return code, {}
    if params is not None and not isinstance(params, Mapping):
        problems.add("params", _("must be a set of name=value parameters"))
        return code, {}
    if params is not None and len(params) > PARAMS_MAX:
        problems.add("params", _("has too many parameters"))
        return code, {}
    try:
        cleaned = found.validate(dict(params or {}))
        check = getattr(found, "validate_in", None)
        if check is not None:
            cleaned = check(community, cleaned)
    except CultureError as exc:
        for field, message in exc.problems.items():
            problems.add(field or "params", message)
        return code, {}
    return code, cleaned


def clean_goal(
    community: Community, values: Mapping[str, Any], *, current: Goal | None = None
) -> dict[str, Any]:
    """The goal's fields, checked; for a change (``current``) only those given. Raises
    ``GoalError`` naming every field at fault (``params.<name>`` for a metric parameter)."""
    problems = Problems()
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        problems.add("", _("Unknown goal fields: %(fields)s") % {"fields": ", ".join(unknown)})
    given = {name: values[name] for name in FIELDS if name in values}
    if current is None:
        for name in ("title", "metric", "target", "deadline", "owner"):
            given.setdefault(name, None)
    cleaned: dict[str, Any] = {}
    if "title" in given:
        cleaned["title"] = as_text(
            given["title"], "title", problems, max_length=TITLE_MAX, required=True
        )
    if "description" in given:
        cleaned["description"] = as_text(
            given["description"], "description", problems, max_length=DESCRIPTION_MAX
        )
    if "metric" in given or "params" in given:
        code = given.get("metric", current.metric if current else None)
        params = given.get("params")
        if params is None and current is not None and "metric" not in given:
            params = current.params
        cleaned["metric"], cleaned["params"] = _metric_and_params(community, code, params, problems)
    if "target" in given:
        cleaned["target"] = as_number(given["target"], "target", problems, maximum=TARGET_MAX)
        found = metric(cleaned.get("metric") or (current.metric if current else ""))
        if (
            cleaned["target"] is not None
            and found is not None
            and str(found.unit) == "%"
            and cleaned["target"] > 100
        ):
            problems.add("target", _("is a percentage: at most 100"))
    if "start_on" in given or current is None:
        start = as_day(given.get("start_on"), "start_on", problems)
        if start is None and current is None and "start_on" not in problems.items:
            start = timezone.now().astimezone(community.zoneinfo).date()
        if start is not None:
            cleaned["start_on"] = start
    if "deadline" in given:
        deadline = as_day(given["deadline"], "deadline", problems)
        if deadline is None and "deadline" not in problems.items:
            problems.add("deadline", _("is required"))
        cleaned["deadline"] = deadline
    if "owner" in given:
        cleaned["owner"] = _owner(community, given["owner"], problems)
    start = cleaned.get("start_on", current.start_on if current else None)
    deadline = cleaned.get("deadline", current.deadline if current else None)
    if isinstance(start, dt.date) and isinstance(deadline, dt.date):
        if deadline < start:
            problems.add(
                "deadline",
                _("must not be before the start (%(start)s)") % {"start": start.isoformat()},
            )
        elif (deadline - start).days > MAX_PERIOD_DAYS:
            problems.add(
                "deadline",
                _("must be within %(days)d days of the start") % {"days": MAX_PERIOD_DAYS},
            )
    problems.raise_if_any(GoalError)
    return cleaned


def _audit_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: jsonable(value) for name, value in values.items()}


@transaction.atomic
def do_create_goal(community: Community, values: Mapping[str, Any], *, actor: Any = None) -> Goal:
    """Create a goal: title, metric (and its parameters), target, deadline, owner; the start
    defaults to today. Raises ``GoalError`` naming every wrong field; nothing is written."""
    cleaned = clean_goal(community, values)
    goal = Goal.objects.create(community=community, created_by=user_of(actor), **cleaned)
    audit.record(
        "goal.create",
        community=community,
        actor=actor,
        target=goal,
        details=_audit_values(cleaned),
    )
    return goal


@transaction.atomic
def do_update_goal(goal: Goal, values: Mapping[str, Any], *, actor: Any = None) -> Goal:
    """Change the fields given; audited with what they were. Nothing changed: no entry."""
    cleaned = clean_goal(goal.community, values, current=goal)
    changed = {name: value for name, value in cleaned.items() if getattr(goal, name) != value}
    if not changed:
        return goal
    before = {name: getattr(goal, name) for name in changed}
    for name, value in changed.items():
        setattr(goal, name, value)
    goal.save()
    audit.record(
        "goal.update",
        community=goal.community,
        actor=actor,
        target=goal,
        details={"before": _audit_values(before), "after": _audit_values(changed)},
    )
    return goal


@transaction.atomic
def do_delete_goal(goal: Goal, *, actor: Any = None) -> None:
    """Delete a goal (its progress was never stored: nothing else goes with it)."""
    audit.record(
        "goal.delete",
        community=goal.community,
        actor=actor,
        target=goal,
        details=_audit_values(
            {
                "title": goal.title,
                "metric": goal.metric,
                "params": goal.params,
                "target": goal.target,
                "deadline": goal.deadline,
            }
        ),
    )
    goal.delete()


def new_public_token() -> str:
    """Unguessable (128 bits), short enough for a link."""
    return secrets.token_urlsafe(16)


@transaction.atomic
def do_publish_goal(goal: Goal, *, actor: Any = None) -> Goal:
    """Turn the goal's member-facing progress page on (a link with a new token). Already on:
    the same link, nothing recorded."""
    if goal.public_token:
        return goal
    goal.public_token = new_public_token()
    goal.published_at = timezone.now()
    goal.save(update_fields=["public_token", "published_at", "updated_at"])
    audit.record("goal.publish", community=goal.community, actor=actor, target=goal)
    return goal


@transaction.atomic
def do_unpublish_goal(goal: Goal, *, actor: Any = None) -> Goal:
    """Turn the progress page off: its link stops working for good (publishing again makes a
    new one). Already off: nothing recorded."""
    if not goal.public_token:
        return goal
    goal.public_token = None
    goal.published_at = None
    goal.save(update_fields=["public_token", "published_at", "updated_at"])
    audit.record("goal.unpublish", community=goal.community, actor=actor, target=goal)
    return goal
