"""Checking what is given for a need, an offer, an outcome or the settings, before anything is
written. Every problem names its field, so a form puts it next to the field and the command
line and the API say which value is wrong; all problems are reported at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from shequn.activities.validation import CURRENCIES
from shequn.exchange.models import Connection, Outcome, Post, PostKind, PostTag

TITLE_MAX = Post._meta.get_field("title").max_length
DESCRIPTION_MAX = 5_000
NOTE_MAX = Post._meta.get_field("status_note").max_length
NAME_MAX = Post._meta.get_field("submitter_name").max_length
CONTACT_MAX = Post._meta.get_field("submitter_contact").max_length
TAG_MAX = PostTag._meta.get_field("name").max_length
TAGS_MAX = 10
MAX_VALUE = Decimal("999999999999.99")
MAX_POINTS = 10_000
# Tags are separated by commas (Latin or Chinese), the Chinese enumeration comma or semicolons.
_TAG_SEPARATORS = re.compile(r"[,，、;；]")


class ExchangeError(ValueError):
    """A refused exchange operation; nothing was written.

    ``problems`` maps each field at fault ("" when no single field is) to what is wrong with
    it, in the active language; ``field`` and ``message`` are the first of them.
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


def normalise_tag(text: str) -> str:
    """A tag as stored: trimmed, inner spaces collapsed, Latin letters in lower case."""
    return " ".join(str(text).split()).lower()


def clean_tags(value: Any, problems: dict[str, str]) -> list[str]:
    """Tags from a list or a comma-separated text: normalised, each once, in order."""
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[Any] = _TAG_SEPARATORS.split(value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        problems.setdefault("tags", _("must be a list of tags or a comma-separated text"))
        return []
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            problems.setdefault("tags", _("every tag must be a text"))
            return []
        tag = normalise_tag(item.replace("\x00", ""))
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX:
            problems.setdefault(
                "tags",
                _("the tag %(tag)s is too long (at most %(n)d characters)")
                % {"tag": repr(tag[:20] + "…"), "n": TAG_MAX},
            )
            return []
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        problems.setdefault("tags", _("at most %(n)d tags") % {"n": TAGS_MAX})
        return []
    return tags


def _text(
    values: Mapping[str, Any],
    field: str,
    limit: int,
    problems: dict[str, str],
    *,
    required: bool,
) -> str:
    value = values.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.setdefault(field, _("must be a text"))
        return ""
    value = value.strip()
    if "\x00" in value:
        problems.setdefault(field, _("must not contain NUL characters"))
        return ""
    if required and not value:
        problems.setdefault(field, _("is required"))
    elif len(value) > limit:
        problems.setdefault(field, _("is too long (at most %(n)d characters)") % {"n": limit})
    return value


def clean_post(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Title, description and tags checked; ``partial``: only those given. Raises
    ``ExchangeError`` naming every field at fault."""
    problems: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    if not partial or "kind" in values:
        kind = values.get("kind")
        if kind not in PostKind.values:
            problems["kind"] = _("must be 'need' or 'offer'")
        cleaned["kind"] = kind
    if not partial or "title" in values:
        cleaned["title"] = _text(values, "title", TITLE_MAX, problems, required=True)
    if not partial or "description" in values:
        cleaned["description"] = _text(
            values, "description", DESCRIPTION_MAX, problems, required=False
        )
    if not partial or "tags" in values:
        cleaned["tags"] = clean_tags(values.get("tags"), problems)
    if problems:
        raise ExchangeError(problems)
    return cleaned


def clean_submitter(values: Mapping[str, Any]) -> tuple[str, str]:
    """A public submitter's name and contact, both required."""
    problems: dict[str, str] = {}
    name = _text(values, "name", NAME_MAX, problems, required=True)
    contact = _text(values, "contact", CONTACT_MAX, problems, required=True)
    if problems:
        raise ExchangeError(problems)
    return name, contact


def clean_note(value: Any, field: str = "reason", *, required: bool = False) -> str:
    problems: dict[str, str] = {}
    text = _text({field: value}, field, NOTE_MAX, problems, required=required)
    if problems:
        raise ExchangeError(problems)
    return text


def clean_outcome(
    outcome: Any, value: Any, currency: Any, note: Any
) -> tuple[str, Decimal | None, str, str]:
    """An outcome (helped, deal, none), an optional value with its ISO 4217 currency, a
    note. A value needs a currency; "no result" has no value."""
    problems: dict[str, str] = {}
    if outcome not in Outcome.values:
        problems["outcome"] = _("must be one of: %(choices)s") % {
            "choices": ", ".join(Outcome.values)
        }
    amount: Decimal | None = None
    if value not in (None, ""):
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            problems["value"] = _("must be an amount like 300 or 49.90, not %(value)s") % {
                "value": repr(value)
            }
        else:
            if not amount.is_finite() or amount < 0:
                problems["value"] = _("must be 0 or more")
                amount = None
            elif amount > MAX_VALUE:
                problems["value"] = _("is too large (at most %(n)s)") % {"n": MAX_VALUE}
                amount = None
            elif amount != amount.quantize(Decimal("0.01")):
                problems["value"] = _("has more than two decimal places")
                amount = None
            else:
                amount = amount.quantize(Decimal("0.01"))
    code = str(currency or "").strip().upper()
    if amount is not None:
        if outcome == Outcome.NONE:
            problems["value"] = _("a connection with no result has no value")
        if not code:
            problems["currency"] = _("is required with a value (an ISO 4217 code, e.g. CNY)")
        elif code not in CURRENCIES:
            problems["currency"] = _("%(code)s is not an ISO 4217 currency code") % {
                "code": repr(code)
            }
    elif code and "value" not in problems:
        problems["currency"] = _("is only given with a value")
    note_problems: dict[str, str] = {}
    text = _text({"note": note}, "note", NOTE_MAX, note_problems, required=False)
    problems.update(note_problems)
    if problems:
        raise ExchangeError(problems)
    return outcome, amount, code if amount is not None else "", text


def clean_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Points per side (whole numbers 0 … 10000) and the lowest score suggested (0 … 1)."""
    problems: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for field in ("points_for_offer", "points_for_need"):
        if field not in values:
            continue
        value = values[field]
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            problems[field] = _("must be a whole number")
            continue
        if isinstance(value, bool) or not 0 <= number <= MAX_POINTS:
            problems[field] = _("must be between 0 and %(n)d") % {"n": MAX_POINTS}
            continue
        cleaned[field] = number
    if "min_score" in values:
        try:
            score = float(str(values["min_score"]).strip())
        except (TypeError, ValueError):
            problems["min_score"] = _("must be a number between 0 and 1")
        else:
            if not 0 <= score <= 1:
                problems["min_score"] = _("must be a number between 0 and 1")
            else:
                cleaned["min_score"] = score
    if problems:
        raise ExchangeError(problems)
    return cleaned


def connection_values(connection: Connection) -> dict[str, Any]:
    """What an audit entry keeps of a connection's outcome."""
    return {
        "outcome": connection.outcome,
        "value": str(connection.value_amount) if connection.value_amount is not None else None,
        "currency": connection.value_currency,
        "note": connection.outcome_note,
    }
