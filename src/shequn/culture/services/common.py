"""What the culture services share: reading dates, numbers and texts as operators give them
(from a form, the API or the command line), each problem named by its field."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from shequn.culture.errors import CultureError

MIN_YEAR, MAX_YEAR = 1970, 9000


class Problems:
    """Problems collected field by field (the first one per field is kept)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.items.setdefault(field, message)

    def raise_if_any(self, error: type[CultureError]) -> None:
        if self.items:
            raise error(self.items)


def user_of(actor: Any) -> Any:
    """The account to store on a row (the command line acts without one)."""
    return actor if getattr(actor, "pk", None) else None


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if hasattr(value, "pk") and hasattr(value, "display_name"):
        return {"id": value.pk, "display_name": value.display_name}
    return value


def as_day(value: Any, field: str, problems: Problems) -> dt.date | None:
    """A day from a date or an ISO 8601 text (2024-12-31); ``None`` when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            problems.add(
                field,
                _("must be a day like %(example)s, not %(value)s")
                % {"example": "2024-12-31", "value": repr(value)[:40]},
            )
            return None
    if not isinstance(value, dt.date):
        problems.add(
            field,
            _("must be a day like %(example)s, not %(value)s")
            % {"example": "2024-12-31", "value": repr(value)[:40]},
        )
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        problems.add(
            field,
            _("must be between the years %(min)d and %(max)d") % {"min": MIN_YEAR, "max": MAX_YEAR},
        )
        return None
    return value


def as_number(value: Any, field: str, problems: Problems, *, maximum: float) -> float | None:
    """A positive number (at most ``maximum``) from a number or a text."""
    if value is None or value == "":
        problems.add(field, _("is required"))
        return None
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            number = None
    else:
        number = None
    if number is None or not math.isfinite(number):
        problems.add(field, _("must be a number, not %(value)s") % {"value": repr(value)[:40]})
        return None
    if not 0 < number <= maximum:
        problems.add(
            field,
            _("must be more than 0 and at most %(max)s") % {"max": f"{maximum:,.0f}"},
        )
        return None
    return number


def as_text(
    value: Any, field: str, problems: Problems, *, max_length: int, required: bool = False
) -> str:
    """A text, trimmed; refused when required and empty, too long, or holding NUL."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(field, _("must be a text"))
        return ""
    value = value.strip()
    if "\x00" in value:
        problems.add(field, _("must not contain NUL characters"))
    elif required and not value:
        problems.add(field, _("is required"))
    elif len(value) > max_length:
        problems.add(field, _("is too long (at most %(n)d characters)") % {"n": max_length})
    return value


def as_bool(value: Any, field: str, problems: Problems) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
        "0",
        "false",
        "no",
        "off",
        "",
    ):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if value is None:
        return False
    problems.add(field, _("must be true or false"))
    return False
