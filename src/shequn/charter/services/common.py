"""Helpers the charter services share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import F

from shequn.charter.models import CharterRule
from shequn.communities.models import Community


def user_of(actor: Any) -> Any:
    """The account to store on a row (the command line acts without one)."""
    return actor if getattr(actor, "pk", None) else None


def local_midnight(community: Community, day: dt.date | None) -> dt.datetime | None:
    """The start of a local day in the community's time zone (None stays None)."""
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), community.zoneinfo)


def lock_rules(community: Community) -> None:
    """Serialise the checks of one community (an import's check and an operator's may run at
    once): PostgreSQL locks its rule rows; SQLite has no row locks, so an UPDATE of them takes
    the database's write lock until the transaction ends."""
    rules = CharterRule.objects.filter(community=community)
    if connection.features.has_select_for_update:
        list(rules.select_for_update().values_list("pk", flat=True))
    else:
        rules.update(watermark=F("watermark"))
