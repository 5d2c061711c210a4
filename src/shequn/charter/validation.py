"""Checking what operators give for the charter, its rules and decisions, before anything is
written. Every problem names its field (``params.messages`` for a rule parameter), so a form
puts it next to the field and the command line and the API say which value is wrong; all
problems are reported at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from shequn.charter.detectors import KINDS, detector_for
from shequn.charter.models import CharterRule, Consequence

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_POINTS = 1_000_000
MAX_TEXT = 100_000
MAX_NOTE = 2_000
NAME_MAX = CharterRule._meta.get_field("name").max_length
# Every field a rule has in a form, the API and the command line, with its default. A new rule
# starts switched off, so that its dry run can be read before it judges anyone.
RULE_DEFAULTS: dict[str, Any] = {
    "key": "",
    "name": "",
    "description": "",
    "kind": "",
    "params": {},
    "consequence": "",
    "points": 0,
    "enabled": False,
    "exempt_staff": True,
    "exempt_bots": True,
    "applies_from": None,
}
RULE_FIELDS = tuple(RULE_DEFAULTS)
VIOLATION_CONSEQUENCES = (Consequence.WARNING, Consequence.PENALTY, Consequence.MUTE)


class CharterError(ValueError):
    """A refused charter operation; nothing was written.

    ``problems`` maps each field at fault ("" when no single field is) to what is wrong with
    it, already in the active language."""

    def __init__(self, problems: Mapping[str, str] | str, field: str = "") -> None:
        self.problems = {field: problems} if isinstance(problems, str) else dict(problems)
        super().__init__(
            "; ".join(f"{name}: {text}" if name else text for name, text in self.problems.items())
        )

    @property
    def message(self) -> str:
        return next(iter(self.problems.values()), "")


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off", ""):
        return False
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(value)


def clean_params(kind: str, params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A detector's parameters with defaults filled in, and the problems (by field)."""
    detector = detector_for(kind)
    problems: dict[str, str] = {}
    if detector is None:
        return {}, problems
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        return {}, {"params": _("must be a table of parameter = value")}
    known = {param.name for param in detector.params}
    for name in sorted(set(map(str, params)) - known):
        problems[f"params.{name}"] = _("unknown parameter of %(kind)s (known: %(names)s)") % {
            "kind": kind,
            "names": ", ".join(sorted(known)) or "-",
        }
    cleaned: dict[str, Any] = {}
    for param in detector.params:
        value = params.get(param.name, param.default)
        try:
            cleaned[param.name] = param.clean(value)
        except ValueError as exc:
            problems[f"params.{param.name}"] = str(exc)
    if not problems:
        for name, problem in detector.check(cleaned):
            problems[f"params.{name}"] = problem
    return cleaned, problems


def clean_rule(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check one rule's values (all fields, defaults filled in); raises ``CharterError``."""
    problems: dict[str, str] = {}
    for field in sorted(set(map(str, values)) - set(RULE_FIELDS)):
        problems[field] = _("unknown field (known: %(fields)s)") % {
            "fields": ", ".join(RULE_FIELDS)
        }
    cleaned = {field: values.get(field, default) for field, default in RULE_DEFAULTS.items()}
    key = cleaned["key"]
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems["key"] = _(
            "must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or "
            "digit"
        )
    name = cleaned["name"]
    if name is None or name == "":
        cleaned["name"] = key if isinstance(key, str) else ""
    elif not isinstance(name, str) or len(name) > NAME_MAX or "\x00" in name:
        problems["name"] = _("must be a text of at most %(n)d characters") % {"n": NAME_MAX}
    description = cleaned["description"]
    if description is None:
        cleaned["description"] = ""
    elif not isinstance(description, str) or len(description) > MAX_NOTE or "\x00" in description:
        problems["description"] = _("must be a text of at most %(n)d characters") % {"n": MAX_NOTE}
    kind = cleaned["kind"]
    detector = detector_for(kind) if isinstance(kind, str) else None
    if detector is None:
        problems["kind"] = _("must be one of %(choices)s, found %(value)r") % {
            "choices": ", ".join(KINDS),
            "value": kind,
        }
    else:
        cleaned["params"], param_problems = clean_params(kind, cleaned["params"])
        problems.update(param_problems)
    for field in ("enabled", "exempt_staff", "exempt_bots"):
        flag = _bool(cleaned[field])
        if flag is None:
            problems[field] = _("must be true or false")
        else:
            cleaned[field] = flag
    points = cleaned["points"]
    if isinstance(points, str) and points.strip().isdigit():
        points = cleaned["points"] = int(points)
    if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= MAX_POINTS:
        problems["points"] = _("must be a whole number from 0 to %(n)d") % {"n": MAX_POINTS}
        points = 0
    consequence = cleaned["consequence"] or ""
    if detector is not None:
        consequence = consequence or (
            Consequence.REWARD if detector.reward else Consequence.WARNING
        )
        allowed = (Consequence.REWARD,) if detector.reward else VIOLATION_CONSEQUENCES
        if consequence not in allowed:
            problems["consequence"] = _(
                "must be one of %(choices)s for %(kind)s, found %(value)r"
            ) % {
                "choices": ", ".join(allowed),
                "kind": kind,
                "value": consequence,
            }
        elif "points" not in problems:
            if consequence in (Consequence.PENALTY, Consequence.REWARD) and points < 1:
                problems["points"] = _("a penalty or a reward needs at least 1 point")
            elif consequence == Consequence.WARNING and points:
                problems["points"] = _(
                    "a warning takes no points; choose the penalty consequence to take points"
                )
    cleaned["consequence"] = consequence
    try:
        cleaned["applies_from"] = (
            None if cleaned["applies_from"] in (None, "") else _date(cleaned["applies_from"])
        )
    except (ValueError, TypeError):
        problems["applies_from"] = _("must be a date like 2024-05-01, or empty for all events")
    if problems:
        raise CharterError(problems)
    return cleaned


def clean_text(text: Any, field: str = "text", *, required: bool = True) -> str:
    """A charter text or note: stripped, not too long (and not empty when required)."""
    value = text.strip() if isinstance(text, str) else None
    limit = MAX_TEXT if field == "text" else MAX_NOTE
    if value is None and text is not None:
        raise CharterError(_("must be a text"), field)
    value = value or ""
    if "\x00" in value:
        raise CharterError(_("must not contain NUL characters"), field)
    if required and not value:
        raise CharterError(_("must not be empty"), field)
    if len(value) > limit:
        raise CharterError(_("is too long (at most %(n)d characters)") % {"n": limit}, field)
    return value
