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
    # From the stored text ('YYYY-MM-DD HH:MM:SS[.ffffff]'): the whole seconds apart, rounded
    # (exact), plus the fractions as written. julianday() alone counts days in a double and
    # keeps milliseconds only: a minute came out as 59.9999964 s, and times a fraction of a
    # millisecond apart as equal. (No strftime('%s'): Django reads "%s" as a placeholder.)
    return (
        f"(ROUND((julianday(substr({later}, 1, 19)) - julianday(substr({earlier}, 1, 19)))"
        f" * 86400.0) + {_fraction(later)} - {_fraction(earlier)})"
    )


def _fraction(moment: str) -> str:
    """SQLite: the fraction of a second of a stored time (0 when it has none)."""
    return f"COALESCE(CAST(NULLIF(substr({moment}, 20), '') AS REAL), 0.0)"


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
