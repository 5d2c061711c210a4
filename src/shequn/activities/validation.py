"""Checking what operators give for an activity or a ritual, before anything is written.

Every problem names its field, so a form can put it next to the field and the command line and
the API can say which value is wrong; all problems are reported at once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, ContentKind, Mode, Ritual
from shequn.members.models import Member

# ISO 4217 currency codes in use (and the few fund and metal codes the standard lists).
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG
    XAU XCD XCG XDR XOF XPD XPF XPT YER ZAR ZMW ZWG ZWL
"""
CURRENCIES = frozenset(_ISO_4217.split())
MAX_FEE = Decimal("9999999999.99")
TITLE_MAX = Activity._meta.get_field("title").max_length
TEXT_MAX = Activity._meta.get_field("place").max_length


class ActivityError(ValueError):
    """A refused activity operation; nothing was written.

    ``problems`` maps each field at fault ("" when no single field is) to what is wrong with
    it, already in the active language; ``field`` and ``message`` are the first of them.
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


class RegistrationError(ActivityError):
    """A registration, cancellation, fee change or feedback that is refused."""


class CheckInError(ActivityError):
    """A check-in code that does not let its holder in (unknown, another activity's, …)."""


class RitualError(ActivityError):
    """A ritual's values or recurrence rule that cannot be used."""


def zone_of(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return None


class Problems:
    """Problems collected field by field (the first one per field is kept)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.items.setdefault(field, message)

    def raise_if_any(self, error: type[ActivityError] = ActivityError) -> None:
        if self.items:
            raise error(self.items)


# Activities are planned for real dates: these bounds keep conversions from overflowing.
MIN_YEAR, MAX_YEAR = 1900, 9000


def as_moment(value: Any, zone: dt.tzinfo | None, field: str, problems: Problems) -> Any:
    """An aware datetime from a datetime or an ISO 8601 text; a clock time without an offset
    is read in ``zone`` (the activity's own time zone, as an operator means it)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            problems.add(
                field,
                _("must be a date and time like %(example)s, not %(value)s")
                % {"example": "2024-03-07T19:30", "value": repr(value)},
            )
            return None
    if not isinstance(value, dt.datetime):
        problems.add(
            field,
            _("must be a date and time like %(example)s, not %(value)s")
            % {"example": "2024-03-07T19:30", "value": repr(value)},
        )
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        # Far years overflow once converted to UTC (year 1 east of Greenwich).
        problems.add(
            field,
            _("must be between the years %(first)d and %(last)d")
            % {"first": MIN_YEAR, "last": MAX_YEAR},
        )
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        if zone is None:
            return None
        value = value.replace(tzinfo=zone)
    return value


def _text(values: Mapping[str, Any], field: str, limit: int, problems: Problems) -> str:
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


def _choice(values: Mapping[str, Any], field: str, choices: Any, problems: Problems) -> str:
    value = values.get(field)
    if value not in choices.values:
        problems.add(
            field,
            _("must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(choices.values), "value": repr(value)},
        )
        return ""
    return str(value)


def _capacity(value: Any, mode: str, problems: Problems) -> int | None:
    if value is None or value == "":
        if mode == Mode.OFFLINE:
            problems.add("capacity", _("is required for an offline activity (the places there)"))
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems.add("capacity", _("must be a whole number, not %(value)r") % {"value": value})
        return None
    if isinstance(value, bool) or (isinstance(value, float) and value != number) or number < 1:
        problems.add("capacity", _("must be a whole number of at least 1"))
        return None
    return number


def _fee(values: Mapping[str, Any], problems: Problems) -> tuple[Decimal, str]:
    raw = values.get("fee_amount")
    try:
        fee = Decimal(str(raw).strip()) if raw not in (None, "") else Decimal("0")
    except (InvalidOperation, ValueError):
        problems.add(
            "fee_amount", _("must be an amount like 49.00, not %(value)r") % {"value": raw}
        )
        return Decimal("0"), ""
    if isinstance(raw, bool) or not fee.is_finite() or fee < 0:
        problems.add("fee_amount", _("must be 0 (free) or a positive amount"))
        return Decimal("0"), ""
    if fee != fee.quantize(Decimal("0.01")):
        problems.add("fee_amount", _("has more than two decimal places"))
    if fee > MAX_FEE:
        problems.add("fee_amount", _("is too large"))
    currency = values.get("currency") or ""
    currency = currency.strip().upper() if isinstance(currency, str) else ""
    if fee == 0:
        return Decimal("0.00"), currency if currency in CURRENCIES else ""
    if not currency:
        problems.add("currency", _("is required when there is a fee (an ISO 4217 code, e.g. CNY)"))
    elif currency not in CURRENCIES:
        problems.add(
            "currency",
            _("%(value)s is not an ISO 4217 currency code (e.g. CNY, USD, EUR)")
            % {"value": repr(values.get("currency"))},
        )
    return fee.quantize(Decimal("0.01")), currency


def _link(value: str, problems: Problems, field: str = "link") -> str:
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            problems.add(field, _("must be a web address starting with https:// or http://"))
    return value


def _organiser(value: Any, community: Any, problems: Problems) -> Member | None:
    if value in (None, ""):
        return None
    if isinstance(value, Member):
        member = value
    else:
        try:
            member = Member.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            member = None
    if member is None or member.community_id != community.pk:
        problems.add("organiser", _("must be a member of this community"))
        return None
    return member


ACTIVITY_FIELDS = (
    "title",
    "description",
    "mode",
    "content_type",
    "organiser",
    "starts_at",
    "ends_at",
    "time_zone",
    "place",
    "link",
    "capacity",
    "fee_amount",
    "currency",
    "registration_opens_at",
    "registration_closes_at",
)


def activity_values(activity: Activity) -> dict[str, Any]:
    """An activity's editable values, as forms and the API carry them."""
    values = {field: getattr(activity, field) for field in ACTIVITY_FIELDS}
    values["organiser"] = activity.organiser
    return values


def clean_activity(
    community: Any, values: Mapping[str, Any], *, current: Activity | None = None
) -> dict[str, Any]:
    """Check an activity's values (with ``current``'s for the fields not given); return them
    cleaned, or raise ``ActivityError`` naming every wrong field."""
    problems = Problems()
    for field in sorted(set(values) - set(ACTIVITY_FIELDS)):
        problems.add(
            field, _("unknown field (known: %(fields)s)") % {"fields": ", ".join(ACTIVITY_FIELDS)}
        )
    base = activity_values(current) if current is not None else {}
    merged = {**base, **dict(values)}
    cleaned: dict[str, Any] = {}
    cleaned["title"] = _text(merged, "title", TITLE_MAX, problems)
    if not cleaned["title"] and "title" not in problems.items:
        problems.add("title", _("is required"))
    cleaned["description"] = _text(merged, "description", 100_000, problems)
    cleaned["mode"] = _choice(merged, "mode", Mode, problems)
    cleaned["content_type"] = _choice(merged, "content_type", ContentKind, problems)
    cleaned["organiser"] = _organiser(merged.get("organiser"), community, problems)
    zone_name = merged.get("time_zone") or community.time_zone
    zone = zone_of(zone_name) if isinstance(zone_name, str) else None
    if zone is None:
        problems.add(
            "time_zone",
            _("unknown time zone %(zone)s (use an IANA name such as %(example)s)")
            % {"zone": repr(zone_name), "example": "Asia/Shanghai"},
        )
    cleaned["time_zone"] = zone_name if zone is not None else ""
    for field in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        cleaned[field] = as_moment(merged.get(field), zone, field, problems)
    for field in ("starts_at", "ends_at"):
        if cleaned[field] is None and field not in problems.items and zone is not None:
            problems.add(field, _("is required"))
    starts, ends = cleaned["starts_at"], cleaned["ends_at"]
    if starts and ends and ends <= starts:
        problems.add("ends_at", _("must be after the start"))
    opens, closes = cleaned["registration_opens_at"], cleaned["registration_closes_at"]
    if opens and closes and closes <= opens:
        problems.add("registration_closes_at", _("must be after registration opens"))
    if closes and ends and closes > ends:
        problems.add("registration_closes_at", _("cannot be after the activity ends"))
    cleaned["place"] = _text(merged, "place", TEXT_MAX, problems)
    cleaned["link"] = _link(_text(merged, "link", TEXT_MAX, problems), problems)
    if cleaned["mode"] == Mode.OFFLINE and not cleaned["place"]:
        problems.add("place", _("is required for an offline activity"))
    cleaned["capacity"] = _capacity(merged.get("capacity"), cleaned["mode"], problems)
    cleaned["fee_amount"], cleaned["currency"] = _fee(merged, problems)
    problems.raise_if_any()
    return cleaned


RITUAL_FIELDS = (
    "name",
    "description",
    "frequency",
    "rule",
    "first_starts_at",
    "time_zone",
    "title",
    "duration_minutes",
    "mode",
    "content_type",
    "capacity",
    "fee_amount",
    "currency",
    "place",
    "link",
    "organiser",
    "active",
)


def ritual_values(ritual: Ritual) -> dict[str, Any]:
    values = {field: getattr(ritual, field) for field in RITUAL_FIELDS}
    values["organiser"] = ritual.organiser
    return values


def clean_ritual(
    community: Any, values: Mapping[str, Any], *, current: Ritual | None = None
) -> dict[str, Any]:
    """Check a ritual's values and its recurrence rule; raise ``RitualError`` naming every
    wrong field."""
    from shequn.activities.recurrence import rule_for

    problems = Problems()
    for field in sorted(set(values) - set(RITUAL_FIELDS)):
        problems.add(
            field, _("unknown field (known: %(fields)s)") % {"fields": ", ".join(RITUAL_FIELDS)}
        )
    merged = {**(ritual_values(current) if current is not None else {}), **dict(values)}
    cleaned: dict[str, Any] = {}
    cleaned["name"] = _text(merged, "name", TITLE_MAX, problems)
    if not cleaned["name"] and "name" not in problems.items:
        problems.add("name", _("is required"))
    cleaned["description"] = _text(merged, "description", 100_000, problems)
    cleaned["title"] = _text(merged, "title", TITLE_MAX, problems)
    cleaned["mode"] = _choice(merged, "mode", Mode, problems)
    cleaned["content_type"] = _choice(merged, "content_type", ContentKind, problems)
    cleaned["organiser"] = _organiser(merged.get("organiser"), community, problems)
    zone_name = merged.get("time_zone") or community.time_zone
    zone = zone_of(zone_name) if isinstance(zone_name, str) else None
    if zone is None:
        problems.add(
            "time_zone",
            _("unknown time zone %(zone)s (use an IANA name such as %(example)s)")
            % {"zone": repr(zone_name), "example": "Asia/Shanghai"},
        )
    cleaned["time_zone"] = zone_name if zone is not None else ""
    cleaned["first_starts_at"] = as_moment(
        merged.get("first_starts_at"), zone, "first_starts_at", problems
    )
    if cleaned["first_starts_at"] is None and "first_starts_at" not in problems.items:
        problems.add("first_starts_at", _("is required"))
    duration = merged.get("duration_minutes", 60)
    try:
        cleaned["duration_minutes"] = int(duration)
        if isinstance(duration, bool) or not 1 <= cleaned["duration_minutes"] <= 7 * 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        problems.add(
            "duration_minutes",
            _("must be a whole number of minutes between %(low)d and %(high)d")
            % {"low": 1, "high": 7 * 24 * 60},
        )
    frequency = _choice(merged, "frequency", Ritual.Frequency, problems)
    cleaned["frequency"] = frequency
    rule_text = merged.get("rule") or ""
    if frequency == Ritual.Frequency.WEEKLY:
        rule_text = "FREQ=WEEKLY"
    elif frequency == Ritual.Frequency.MONTHLY:
        rule_text = "FREQ=MONTHLY"
    cleaned["rule"] = ""
    if frequency and cleaned["first_starts_at"] is not None:
        try:
            cleaned["rule"] = rule_for(rule_text, cleaned["first_starts_at"], zone).text
        except ValueError as exc:
            problems.add("rule", str(exc))
    cleaned["place"] = _text(merged, "place", TEXT_MAX, problems)
    cleaned["link"] = _link(_text(merged, "link", TEXT_MAX, problems), problems)
    if cleaned["mode"] == Mode.OFFLINE and not cleaned["place"]:
        problems.add("place", _("is required for an offline activity"))
    cleaned["capacity"] = _capacity(merged.get("capacity"), cleaned["mode"], problems)
    cleaned["fee_amount"], cleaned["currency"] = _fee(merged, problems)
    cleaned["active"] = bool(merged.get("active", True))
    problems.raise_if_any(RitualError)
    return cleaned
