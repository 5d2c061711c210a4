"""The culture's words: the mission (使命) and the values advocated and opposed (价值观).

They live on ``Community``; this checks them the way the culture page presents them (a value
per line, each once) and saves them through ``shequn.communities.services``, which audits the
change (``community.update_profile``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shequn.communities.models import Community
from shequn.communities.services import do_update_community_profile
from shequn.culture.errors import CultureError
from shequn.culture.services.common import Problems, as_text

MISSION_MAX = 10_000
VALUE_MAX = 200
VALUES_MAX = 50


def clean_values(value: Any, field: str, problems: Problems) -> list[str]:
    """A list of values from a list or a text with one value per line: spaces folded, blanks
    dropped, each kept once in the order given."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.splitlines()
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        problems.add(field, _("must be a list of values"))
        return []
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            problems.add(field, _("must be a list of values"))
            return []
        text = " ".join(item.split())
        if "\x00" in text:
            problems.add(field, _("must not contain NUL characters"))
            return []
        if len(text) > VALUE_MAX:
            problems.add(
                field,
                _("%(value)s is too long (at most %(n)d characters)")
                % {"value": repr(text[:30] + "…"), "n": VALUE_MAX},
            )
            return []
        if text:
            seen.setdefault(text, None)
    if len(seen) > VALUES_MAX:
        problems.add(field, _("has too many values (at most %(n)d)") % {"n": VALUES_MAX})
        return []
    return list(seen)


@transaction.atomic
def do_update_culture(
    community: Community,
    *,
    mission: str | None = None,
    values_advocated: Any = None,
    values_opposed: Any = None,
    actor: Any = None,
) -> Community:
    """Change the mission and the values given (``None``: leave as is). Raises
    ``CultureError`` naming every wrong field; nothing changed: nothing audited."""
    problems = Problems()
    changes: dict[str, Any] = {}
    if mission is not None:
        changes["mission"] = as_text(mission, "mission", problems, max_length=MISSION_MAX)
    if values_advocated is not None:
        changes["values_advocated"] = clean_values(values_advocated, "values_advocated", problems)
    if values_opposed is not None:
        changes["values_opposed"] = clean_values(values_opposed, "values_opposed", problems)
    problems.raise_if_any(CultureError)
    try:
        return do_update_community_profile(community, actor=actor, **changes)
    except ValidationError as exc:
        raise CultureError(
            {field: " ".join(messages) for field, messages in exc.message_dict.items()}
        ) from None
