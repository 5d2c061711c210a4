"""Raw-SQL helpers the insights queries share, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection, connections

# Queries run at once by ``concurrently``: the machines this is measured on have two cores.
WORKERS = 2


def db_moment(moment: dt.datetime) -> Any:
    """A datetime as a raw-SQL parameter: SQLite stores naive UTC text, and a raw cursor does
    not convert an aware datetime as the ORM does (its offset would break the comparison)."""
    return connection.ops.adapt_datetimefield_value(moment)


def seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from one timestamp expression to another."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    # julianday() counts days in a double: a minute comes out as 59.9999964 s, so the seconds
    # are rounded to the millisecond (times are stored to the microsecond at most)
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def seconds_before(moment: str, seconds: int) -> str:
    """SQL for the timestamp ``seconds`` before a timestamp expression (on SQLite to the whole
    second, as text comparable with stored times: use it as a loose bound)."""
    if connection.vendor == "postgresql":
        return f"({moment} - INTERVAL '{int(seconds)} seconds')"
    return f"datetime({moment}, '-{int(seconds)} seconds')"


def concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent read-only queries at once, each thread on its own connection (SQLite
    readers do not block each other in WAL mode; PostgreSQL gives each its own backend), and
    close those connections after. Inside a transaction (tests, an atomic request) one after
    the other instead: other connections would not see the transaction's own writes."""
    if connection.in_atomic_block or len(calls) < 2:
        return [call() for call in calls]

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(calls))) as pool:
        return [future.result() for future in [pool.submit(run, call) for call in calls]]
