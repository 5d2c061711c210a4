"""What every detector shares: its parameters (typed, bounded, with defaults), the scope it
judges, the findings it returns, and the SQL fragments for who and when is judged.

A detector is a small class registered under its kind. It finds, set-based in SQL over the
events, what breaks (or, for reward kinds, what deserves) a rule; Python only touches the few
candidate rows SQL returns. It never writes: ``services.checking`` turns findings into
violations and rewards, and ``dry_run`` shows them without writing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from shequn.communities.models import Community
from shequn.insights.periods import STAFF
from shequn.insights.sql import db_moment
from shequn.interactions.models import MESSAGE_KINDS

# Which events a detector reads, as SQL over the events table ``e``.
MESSAGES = tuple(kind.value for kind in MESSAGE_KINDS)
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Separators of a list typed as one text: new lines, commas (ASCII and Chinese) and 、.
LIST_SEPARATORS = re.compile(r"[\n\r,，、;；]+")


class Param:
    """One parameter of a detector: its name, type, default and bounds.

    ``clean`` accepts what JSON, a form or a command line gives (a number or a numeric text,
    true/false or yes/no, a list or one text of items separated by new lines or commas) and
    returns the value to store, or raises ``ValueError`` with the problem in the active
    language."""

    def __init__(
        self,
        name: str,
        kind: str,
        default: Any,
        help_text: Promise | str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        max_items: int = 500,
        max_length: int = 50,
    ) -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.help_text = help_text
        self.minimum = minimum
        self.maximum = maximum
        self.max_items = max_items
        self.max_length = max_length

    def clean(self, value: Any) -> Any:
        return getattr(self, f"_clean_{self.kind}")(value)

    def _clean_int(self, value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(_("must be a whole number"))
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise ValueError(
                _("must be a whole number from %(min)d to %(max)d")
                % {"min": self.minimum, "max": self.maximum}
            )
        return value

    def _clean_bool(self, value: Any) -> bool:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off", ""):
                return False
        if isinstance(value, bool):
            return value
        raise ValueError(_("must be true or false"))

    def _items(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = LIST_SEPARATORS.split(value)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(_("must be a list of texts"))
        if any("\x00" in item for item in value):
            raise ValueError(_("must not contain NUL characters"))
        items = list(dict.fromkeys(item.strip() for item in value if item.strip()))
        if len(items) > self.max_items:
            raise ValueError(_("at most %(n)d items") % {"n": self.max_items})
        return items

    def _clean_words(self, value: Any) -> list[str]:
        words = self._items(value)
        for word in words:
            if len(word) > self.max_length:
                raise ValueError(
                    _("%(word)r is too long (at most %(n)d characters)")
                    % {"word": word[:60], "n": self.max_length}
                )
        return words

    def _clean_domains(self, value: Any) -> list[str]:
        domains = [item.lower().removeprefix("www.") for item in self._items(value)]
        for domain in domains:
            if not DOMAIN.match(domain):
                raise ValueError(
                    _("%(domain)r is not a domain name like example.com") % {"domain": domain[:60]}
                )
        return list(dict.fromkeys(domains))

    def _clean_time(self, value: Any) -> str:
        if isinstance(value, dt.time):
            return f"{value.hour:02d}:{value.minute:02d}"
        match = TIME.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(_("must be a time of day like 23:00"))
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    def _clean_weekdays(self, value: Any) -> list[int]:
        if isinstance(value, str):
            value = LIST_SEPARATORS.split(value)
        if not isinstance(value, list | tuple):
            raise ValueError(_("must be a list of weekdays (mon … sun, or 0 … 6)"))
        days: set[int] = set()
        for item in value:
            text = str(item).strip().lower()[:3] if not isinstance(item, bool) else "?"
            if not text:
                continue
            if text in WEEKDAY_NAMES:
                days.add(WEEKDAY_NAMES.index(text))
            elif text.isdigit() and int(text) < 7:
                days.add(int(text))
            else:
                raise ValueError(_("must be a list of weekdays (mon … sun, or 0 … 6)"))
        return sorted(days)


@dataclass(frozen=True)
class Scope:
    """What a detector judges: the rule's parameters, the moments (aware) it looks between
    (``since`` inclusive, ``until`` exclusive; None: no bound), and who is exempt."""

    community: Community
    params: dict[str, Any]
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    exempt_staff: bool = True
    exempt_bots: bool = True

    def time_sql(self, column: str) -> tuple[str, list[Any]]:
        """``column`` within the scope's moments, as SQL (always true when unbounded)."""
        terms, params = ["1 = 1"], []
        if self.since is not None:
            terms.append(f"{column} >= %s")
            params.append(db_moment(self.since))
        if self.until is not None:
            terms.append(f"{column} < %s")
            params.append(db_moment(self.until))
        return " AND ".join(terms), params

    def judged_sql(self, alias: str) -> tuple[str, list[Any]]:
        """The member table ``alias`` is someone this rule judges (or rewards)."""
        terms, params = ["1 = 1"], []
        if self.exempt_bots:
            terms.append(f"NOT {alias}.is_bot")
        if self.exempt_staff:
            terms.append(f"{alias}.role NOT IN (%s, %s)")
            params.extend(STAFF)
        return " AND ".join(terms), params


@dataclass
class Finding:
    """One thing a rule flags (or rewards): who, which event, when, and why (``detail``, JSON).
    ``key`` is unique per rule, so the same finding found again is recognised."""

    key: str
    member_id: int
    event_id: int | None
    occurred_at: dt.datetime
    window_end: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Detector:
    """A kind of rule. Subclasses set the class attributes and implement ``find``."""

    kind: str = ""
    label: Promise | str = ""
    help_text: Promise | str = ""
    params: tuple[Param, ...] = ()
    # A reward kind gives points for wanted behaviour; the others flag violations.
    reward: bool = False
    # False for the kind operators report by hand (no detection runs).
    automatic: bool = True
    # New events of these kinds make the rule look again.
    event_kinds: tuple[str, ...] = MESSAGES

    def defaults(self) -> dict[str, Any]:
        return {param.name: param.default for param in self.params}

    def check(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """Problems across parameters, as (parameter, problem); the values are clean."""
        return []

    def margin(self, params: dict[str, Any]) -> dt.timedelta:
        """How far around new events the rule must read again to judge them (a flood needs
        the messages before it; a welcome the newcomer's first days)."""
        return dt.timedelta(0)

    def merge_gap(self, params: dict[str, Any]) -> dt.timedelta | None:
        """For findings that cover a window (a burst): a new finding this close to a recorded
        one of the same member (and channel) continues it and is not recorded again."""
        return None

    def find(self, scope: Scope) -> list[Finding]:
        raise NotImplementedError

    def describe(self, detail: dict[str, Any]) -> str:
        """One line saying why a finding was made, in the active language."""
        return ""


REGISTRY: dict[str, Detector] = {}


def register(detector_class: type[Detector]) -> type[Detector]:
    """Class decorator: make a detector available under its kind."""
    REGISTRY[detector_class.kind] = detector_class()
    return detector_class


def detector_for(kind: str) -> Detector | None:
    return REGISTRY.get(kind)


def run_query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def aware(value: Any) -> dt.datetime:
    """A timestamp as a raw cursor returns it (SQLite: naive UTC text or datetime) → aware."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def excerpt(text: str | None, length: int = 120) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
