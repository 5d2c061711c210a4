"""What the commerce services share: the account to store, audit details as JSON, locking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F

from shequn.commerce.models import Purchase


def user_or_none(actor: Any) -> Any:
    """The account to store on a row (the CLI acts without one)."""
    return actor if getattr(actor, "pk", None) else None


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if hasattr(value, "pk"):
        return {"id": value.pk, "name": str(value)}
    return value


def lock_purchase(purchase: Purchase) -> Purchase:
    """The purchase as stored now, locked until the transaction ends, so two refunds at once
    cannot both pass the "at most what was paid" check. PostgreSQL: ``SELECT … FOR UPDATE``;
    SQLite has no row locks: an UPDATE of the row takes the database's write lock."""
    if connection.features.has_select_for_update:
        return Purchase.objects.select_for_update().select_related("offer").get(pk=purchase.pk)
    Purchase.objects.filter(pk=purchase.pk).update(refunded_amount=F("refunded_amount"))
    return Purchase.objects.select_related("offer").get(pk=purchase.pk)
