"""Checking what operators give for offers, purchases, refunds and costs, before anything is
written. Every problem names its field, so forms put it next to the field and the command line
and the API say which value is wrong; all problems of one request are reported at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from shequn.activities.validation import CURRENCIES, zone_of
from shequn.commerce.models import CostCategory, OfferKind

MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
# An amount as people write it in a file or a form: digits, at most two decimals.
AMOUNT_TEXT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
MAX_DURATION_DAYS = 3660
MIN_YEAR, MAX_YEAR = 1970, 2200


class CommerceError(ValueError):
    """A refused offer, purchase, refund or cost; nothing was written.

    ``problems`` maps each field at fault ("" when no single field is) to what is wrong with it,
    already in the active language; ``field`` and ``message`` are the first of them.
    """

    def __init__(self, problems: Mapping[str, str] | str, field: str = "") -> None:
        self.problems = {field: problems} if isinstance(problems, str) else dict(problems)
        super().__init__(
            "; ".join(f"{name}: {text}" if name else text for name, text in self.problems.items())
        )

    @property
    def field(self) -> str:
        return next(iter(self.problems), "")

    @property
    def message(self) -> str:
        return next(iter(self.problems.values()), "")


class Problems:
    """Problems collected field by field (the first one per field is kept)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.items.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.items:
            raise CommerceError(self.items)


def parse_amount(value: Any) -> Decimal:
    """A non-negative amount with at most two decimals, from a Decimal, an int or a text like
    "49.00"; ``ValueError`` (with the reason, translated) otherwise. Floats are refused: they
    cannot hold cents exactly."""
    if isinstance(value, bool | float):
        raise ValueError(_("must be an amount like 49.00"))
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not AMOUNT_TEXT.match(text):
            raise ValueError(
                _(
                    "%(value)s is not an amount like 49.00 (digits and a dot, at most two "
                    "decimals, no currency sign or thousands separator)"
                )
                % {"value": repr(value)}
            )
        value = Decimal(text)
    if not isinstance(value, Decimal):
        raise ValueError(_("must be an amount like 49.00"))
    try:
        if not value.is_finite() or value < 0:
            raise ValueError(_("must be 0 or a positive amount"))
        if value != value.quantize(CENT):
            raise ValueError(_("has more than two decimal places"))
    except InvalidOperation:
        raise ValueError(_("must be an amount like 49.00")) from None
    if value > MAX_AMOUNT:
        raise ValueError(_("is too large"))
    return value.quantize(CENT)


def parse_currency(value: Any) -> str:
    """An ISO 4217 code in capitals; ``ValueError`` otherwise."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text:
        raise ValueError(_("is required (an ISO 4217 code, e.g. CNY)"))
    if text not in CURRENCIES:
        raise ValueError(
            _("%(value)s is not an ISO 4217 currency code (e.g. CNY, USD, EUR)")
            % {"value": repr(value)}
        )
    return text


def parse_moment(value: Any, zone: dt.tzinfo) -> dt.datetime:
    """An aware datetime from a datetime, an ISO 8601 text or Unix seconds; a clock time
    without an offset is read in ``zone``. ``ValueError`` otherwise."""
    moment: Any = value
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.isdigit():
                moment = dt.datetime.fromtimestamp(int(text), dt.UTC)
            else:
                moment = dt.datetime.fromisoformat(text)
        except (ValueError, OverflowError, OSError):
            raise ValueError(
                _("%(value)s is not a time (use e.g. %(example)s or Unix seconds)")
                % {"value": repr(value), "example": "2024-03-07 19:05:00+08:00"}
            ) from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        moment = dt.datetime.combine(value, dt.time())
    if not isinstance(moment, dt.datetime):
        raise ValueError(_("must be a date and time like %(example)s") % {"example": "2024-03-07"})
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(
            _("must be between the years %(first)d and %(last)d")
            % {"first": MIN_YEAR, "last": MAX_YEAR}
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_month(value: Any) -> dt.date:
    """The first day of a month, from a date or a text like 2024-03 (or 2024-03-01)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = value.strip() if isinstance(value, str) else ""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    try:
        if match is None:
            raise ValueError
        day = dt.date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        raise ValueError(
            _("%(value)s is not a month like %(example)s")
            % {"value": repr(value), "example": "2024-03"}
        ) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(
            _("must be between the years %(first)d and %(last)d")
            % {"first": MIN_YEAR, "last": MAX_YEAR}
        )
    return day.replace(day=1)


def time_zone(name: Any, default: str) -> dt.tzinfo:
    """The zone named (an IANA name), else ``default``'s; ``ValueError`` for an unknown name."""
    chosen = name if isinstance(name, str) and name.strip() else default
    zone = zone_of(chosen.strip())
    if zone is None:
        raise ValueError(
            _("unknown time zone %(zone)s (use an IANA name such as %(example)s)")
            % {"zone": repr(chosen), "example": "Asia/Shanghai"}
        )
    return zone


def text(values: Mapping[str, Any], field: str, limit: int, problems: Problems) -> str:
    value = values.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(field, _("must be text"))
        return ""
    value = value.strip()
    if "\x00" in value:  # PostgreSQL text cannot hold it, and no one types it
        problems.add(field, _("contains a NUL character"))
        return ""
    if len(value) > limit:
        problems.add(field, _("is too long (at most %(n)d characters)") % {"n": limit})
    return value


def choice(values: Mapping[str, Any], field: str, choices: Any, problems: Problems) -> str:
    value = values.get(field)
    if value not in choices.values:
        problems.add(
            field,
            _("must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(choices.values), "value": repr(value)},
        )
        return ""
    return str(value)


def _unknown(values: Mapping[str, Any], known: tuple[str, ...], problems: Problems) -> None:
    for field in sorted(set(values) - set(known)):
        problems.add(field, _("unknown field (known: %(fields)s)") % {"fields": ", ".join(known)})


def _field(problems: Problems, field: str, parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except ValueError as exc:
        problems.add(field, str(exc))
        return None


OFFER_FIELDS = (
    "kind",
    "name",
    "code",
    "description",
    "price",
    "currency",
    "duration_days",
    "active",
)


def offer_values(offer: Any) -> dict[str, Any]:
    """An offer's editable values, as forms and the API carry them."""
    return {field: getattr(offer, field) for field in OFFER_FIELDS}


def _duration(value: Any, kind: str, problems: Problems) -> int | None:
    if value in (None, ""):
        return None
    if kind != OfferKind.MEMBERSHIP:
        problems.add("duration_days", _("only a membership has a duration"))
        return None
    try:
        number = int(value)
        if isinstance(value, bool) or (isinstance(value, float) and value != number):
            raise ValueError
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_DURATION_DAYS:
        problems.add(
            "duration_days",
            _("must be a whole number of days between %(low)d and %(high)d")
            % {"low": 1, "high": MAX_DURATION_DAYS},
        )
        return None
    return number


def clean_offer(values: Mapping[str, Any], *, current: Any = None) -> dict[str, Any]:
    """Check an offer's values (with ``current``'s for the fields not given); return them
    cleaned, or raise ``CommerceError`` naming every wrong field."""
    problems = Problems()
    _unknown(values, OFFER_FIELDS, problems)
    merged = {**(offer_values(current) if current is not None else {}), **dict(values)}
    if merged.get("kind") != OfferKind.MEMBERSHIP and "duration_days" not in values:
        # No longer a membership: its stored duration no longer applies.
        merged["duration_days"] = None
    cleaned: dict[str, Any] = {}
    cleaned["kind"] = choice(merged, "kind", OfferKind, problems)
    cleaned["name"] = text(merged, "name", 200, problems)
    if not cleaned["name"] and "name" not in problems.items:
        problems.add("name", _("is required"))
    cleaned["code"] = text(merged, "code", 100, problems)
    cleaned["description"] = text(merged, "description", 10_000, problems)
    price = merged.get("price")
    if price in (None, ""):
        problems.add("price", _("is required (0 for something free)"))
    else:
        cleaned["price"] = _field(problems, "price", parse_amount, price)
    cleaned["currency"] = _field(problems, "currency", parse_currency, merged.get("currency"))
    cleaned["duration_days"] = _duration(merged.get("duration_days"), cleaned["kind"], problems)
    active = merged.get("active", True)
    if not isinstance(active, bool):
        problems.add("active", _("must be true or false"))
    cleaned["active"] = bool(active)
    problems.raise_if_any()
    return cleaned


COST_FIELDS = ("month", "category", "description", "amount", "currency")


def clean_cost(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check a month's cost; raise ``CommerceError`` naming every wrong field."""
    problems = Problems()
    _unknown(values, COST_FIELDS, problems)
    cleaned: dict[str, Any] = {}
    month = values.get("month")
    if month in (None, ""):
        problems.add("month", _("is required (e.g. 2024-03)"))
    else:
        cleaned["month"] = _field(problems, "month", parse_month, month)
    cleaned["category"] = choice(values, "category", CostCategory, problems)
    cleaned["description"] = text(values, "description", 200, problems)
    amount = values.get("amount")
    if amount in (None, ""):
        problems.add("amount", _("is required"))
    else:
        cleaned["amount"] = _field(problems, "amount", parse_amount, amount)
        if cleaned["amount"] is not None and cleaned["amount"] == 0:
            problems.add("amount", _("must be more than 0"))
    cleaned["currency"] = _field(problems, "currency", parse_currency, values.get("currency"))
    problems.raise_if_any()
    return cleaned
