"""Raw-SQL helpers the insights queries share, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection


def db_moment(moment: dt.datetime) -> Any:
    """A datetime as a raw-SQL parameter: SQLite stores naive UTC text, and a raw cursor does
    not convert an aware datetime as the ORM does (its offset would break the comparison)."""
    return connection.ops.adapt_datetimefield_value(moment)


def seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from one timestamp expression to another."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
