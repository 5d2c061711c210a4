"""Validation of earning rules and level schemes, shared by the web forms, the API and TOML.

Every problem names the rule (its position and key) and the field, so an operator can find it
in a file of many rules; nothing is saved while any problem remains.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from shequn.interactions.models import EventKind
from shequn.rewards.models import Beneficiary, LevelScheme

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Every field a rule has in a form, the API and a TOML file, with its default.
RULE_DEFAULTS: dict[str, Any] = {
    "key": "",
    "name": "",
    "enabled": True,
    "position": 0,
    "event_kind": "",
    "content_types": [],
    "match": {},
    "target_content_types": [],
    "target_exclude": {},
    "beneficiary": Beneficiary.ACTOR.value,
    "skip_self": "",
    "amount": 0,
    "amount_from": "",
    "cooldown_seconds": 0,
    "daily_cap": 0,
    "cap_group": "",
    "first_time_bonus": 0,
    "min_balance": None,
    "valid_from": None,
    "valid_until": None,
}
RULE_FIELDS = tuple(RULE_DEFAULTS)
MAX_POINTS = 1_000_000_000
MAX_LEVELS = 1_000


class RuleError(ValueError):
    """One or more problems with rules or levels; each names the rule and the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def rule_label(index: int | None, key: str) -> str:
    """How a problem names a rule: 'rule 3 (answer_up)' in a file, 'rule answer_up' alone."""
    if index is None:
        return _("rule '%(key)s'") % {"key": key or "?"}
    if key:
        return _("rule %(index)d (%(key)s)") % {"index": index, "key": key}
    return _("rule %(index)d") % {"index": index}


class _Problems:
    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, field: str, problem: str) -> None:
        self.items.append(
            _("%(rule)s, field '%(field)s': %(problem)s")
            % {"rule": self.where, "field": field, "problem": problem}
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | bool) and not isinstance(value, float)


def _date(value: Any, field: str, problems: _Problems) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(field, _("must be a date like 2019-11-13, found %(value)r") % {"value": value})
    return None


def _attribute_map(value: Any, field: str, problems: _Problems) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add(field, _("must be a table of attribute = value"))
        return {}
    cleaned: dict[str, Any] = {}
    for name, expected in value.items():
        values = expected if isinstance(expected, list) else [expected]
        if not isinstance(name, str) or not name or not values or not all(map(_scalar, values)):
            problems.add(
                field,
                _("attribute %(name)r must map to a text, a whole number, true/false or a list")
                % {"name": name},
            )
            continue
        cleaned[name] = expected
    return cleaned


def _text_list(value: Any, field: str, problems: _Problems, max_length: int) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(item, str) and 0 < len(item) <= max_length for item in value
    ):
        problems.add(
            field,
            _("must be a list of names of at most %(n)d characters") % {"n": max_length},
        )
        return []
    return list(dict.fromkeys(value))


def clean_rule(values: Mapping[str, Any], *, index: int | None = None) -> tuple[dict, list[str]]:
    """Check one rule's values; returns (cleaned values with defaults, problems)."""
    raw_key = values.get("key")
    key = raw_key if isinstance(raw_key, str) else ""
    problems = _Problems(rule_label(index, key))
    unknown = sorted(set(values) - set(RULE_FIELDS) - {"id"})
    for field in unknown:
        problems.add(
            field, _("unknown field (known: %(fields)s)") % {"fields": ", ".join(RULE_FIELDS)}
        )
    cleaned = {field: values.get(field, default) for field, default in RULE_DEFAULTS.items()}
    for field in ("content_types", "target_content_types", "match", "target_exclude"):
        if cleaned[field] is RULE_DEFAULTS[field]:
            cleaned[field] = type(RULE_DEFAULTS[field])()

    if not isinstance(raw_key, str) or not KEY_PATTERN.match(raw_key):
        problems.add(
            "key",
            _(
                "must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter "
                "or digit"
            ),
        )
    name = cleaned["name"]
    if name is None or name == "":
        cleaned["name"] = key
    elif not isinstance(name, str) or len(name) > 200:
        problems.add("name", _("must be a text of at most 200 characters"))
    for field in ("enabled",):
        if not isinstance(cleaned[field], bool):
            problems.add(field, _("must be true or false"))
    if not _is_int(cleaned["position"]) or cleaned["position"] < 0:
        problems.add("position", _("must be a whole number of 0 or more"))
    if cleaned["event_kind"] not in EventKind.values:
        problems.add(
            "event_kind",
            _("must be one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(EventKind.values), "value": cleaned["event_kind"]},
        )
    cleaned["content_types"] = _text_list(cleaned["content_types"], "content_types", problems, 16)
    cleaned["target_content_types"] = _text_list(
        cleaned["target_content_types"], "target_content_types", problems, 16
    )
    cleaned["match"] = _attribute_map(cleaned["match"], "match", problems)
    cleaned["target_exclude"] = _attribute_map(
        cleaned["target_exclude"], "target_exclude", problems
    )
    if cleaned["beneficiary"] not in Beneficiary.values:
        problems.add(
            "beneficiary",
            _("must be one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(Beneficiary.values), "value": cleaned["beneficiary"]},
        )
    if cleaned["skip_self"] is None:
        cleaned["skip_self"] = ""
    if cleaned["skip_self"] not in ("", *Beneficiary.values):
        problems.add(
            "skip_self",
            _("must be empty or one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(Beneficiary.values), "value": cleaned["skip_self"]},
        )
    elif cleaned["skip_self"] and cleaned["skip_self"] == cleaned["beneficiary"]:
        problems.add("skip_self", _("must name someone other than the beneficiary"))
    for field in ("amount", "first_time_bonus"):
        value = cleaned[field]
        if not _is_int(value) or abs(value) > MAX_POINTS:
            problems.add(field, _("must be a whole number (negative for a penalty)"))
    for field in ("cooldown_seconds", "daily_cap"):
        value = cleaned[field]
        if not _is_int(value) or value < 0 or value > MAX_POINTS:
            problems.add(field, _("must be a whole number of 0 or more (0: none)"))
    if cleaned["min_balance"] is not None and not _is_int(cleaned["min_balance"]):
        problems.add("min_balance", _("must be a whole number or empty"))
    amount_from = cleaned["amount_from"] or ""
    cleaned["amount_from"] = amount_from
    if not isinstance(amount_from, str) or len(amount_from) > 64:
        problems.add("amount_from", _("must be an attribute name of at most 64 characters"))
    cap_group = cleaned["cap_group"] or ""
    cleaned["cap_group"] = cap_group
    if cap_group and (not isinstance(cap_group, str) or not KEY_PATTERN.match(cap_group)):
        problems.add("cap_group", _("must be empty or lower-case letters, digits, '-' or '_'"))
    cleaned["valid_from"] = _date(cleaned["valid_from"], "valid_from", problems)
    cleaned["valid_until"] = _date(cleaned["valid_until"], "valid_until", problems)
    if (
        cleaned["valid_from"]
        and cleaned["valid_until"]
        and cleaned["valid_until"] <= cleaned["valid_from"]
    ):
        problems.add("valid_until", _("must be later than valid_from"))
    if not problems.items:
        if cleaned["amount"] == 0 and cleaned["first_time_bonus"] == 0:
            problems.add("amount", _("the rule earns nothing: set points or a first-time bonus"))
        if cleaned["amount_from"] and cleaned["amount"] == 0:
            problems.add(
                "amount",
                _("with amount_from, points is the multiplier: 1, or -1 for a cost"),
            )
    cleaned.pop("id", None)
    return cleaned, problems.items


def check_rule_set(rules: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Problems across rules: duplicate keys, and cap groups whose rules disagree on the cap.

    ``rules``: (label, cleaned values) of every rule the community will have.
    """
    problems: list[str] = []
    seen: dict[str, str] = {}
    caps: dict[str, tuple[int, str]] = {}
    for label, values in rules:
        key = values["key"]
        if key in seen:
            problems.append(
                _("%(rule)s, field 'key': %(key)s is already used by %(other)s")
                % {"rule": label, "key": key, "other": seen[key]}
            )
        else:
            seen[key] = label
        group = values.get("cap_group") or ""
        if group:
            cap = values.get("daily_cap") or 0
            if group in caps and caps[group][0] != cap:
                problems.append(
                    _(
                        "%(rule)s, field 'daily_cap': rules sharing cap group %(group)s must have "
                        "the same daily cap (%(other)s has %(cap)d)"
                    )
                    % {
                        "rule": label,
                        "group": group,
                        "other": caps[group][1],
                        "cap": caps[group][0],
                    }
                )
            else:
                caps.setdefault(group, (cap, label))
    return problems


def clean_levels(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check a level scheme: {"kind": "quadratic", "a", "b", "c"} or {"kind": "table",
    "levels": [{"threshold", "name"}, …]}; returns (cleaned, problems)."""
    problems = _Problems(_("levels"))
    known = {"kind", "a", "b", "c", "levels"}
    for field in sorted(set(values) - known):
        problems.add(
            field, _("unknown field (known: %(fields)s)") % {"fields": ", ".join(sorted(known))}
        )
    kind = values.get("kind", LevelScheme.Kind.QUADRATIC)
    cleaned: dict[str, Any] = {"kind": kind, "a": 5, "b": 50, "c": 100, "levels": []}
    if kind not in LevelScheme.Kind.values:
        problems.add(
            "kind",
            _("must be one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(LevelScheme.Kind.values), "value": kind},
        )
        return cleaned, problems.items
    if kind == LevelScheme.Kind.QUADRATIC:
        for field in ("a", "b", "c"):
            value = values.get(field, cleaned[field])
            if not _is_int(value) or value < 0 or value > MAX_POINTS:
                problems.add(field, _("must be a whole number of 0 or more"))
            else:
                cleaned[field] = value
        if cleaned["c"] < 1:
            problems.add("c", _("must be at least 1, so that every level needs more points"))
        if values.get("levels"):
            problems.add("levels", _("a quadratic curve takes a, b and c, not a table"))
        return cleaned, problems.items
    levels = values.get("levels")
    if not isinstance(levels, list) or not levels:
        problems.add("levels", _("a table needs at least one level"))
        return cleaned, problems.items
    if len(levels) > MAX_LEVELS:
        problems.add("levels", _("at most %(n)d levels") % {"n": MAX_LEVELS})
    thresholds: set[int] = set()
    for position, level in enumerate(levels, 1):
        field = f"levels[{position}]"
        if not isinstance(level, Mapping) or set(level) - {"threshold", "name"}:
            problems.add(field, _("must be a table with threshold and name"))
            continue
        threshold, name = level.get("threshold"), level.get("name")
        if not _is_int(threshold) or threshold < 0 or threshold > MAX_POINTS * 1000:
            problems.add(f"{field}.threshold", _("must be a whole number of 0 or more"))
            continue
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            problems.add(f"{field}.name", _("must be a text of 1 to 100 characters"))
            continue
        if threshold in thresholds:
            problems.add(
                f"{field}.threshold",
                _("%(threshold)d is used by another level") % {"threshold": threshold},
            )
            continue
        thresholds.add(threshold)
        cleaned["levels"].append({"threshold": threshold, "name": name.strip()})
    cleaned["levels"].sort(key=lambda level: level["threshold"])
    return cleaned, problems.items
