"""Backend-specific bulk writers for events: the hot path of every import.

SQLite gets one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` per batch; PostgreSQL
gets ``COPY`` into a temporary stage table and one set-based ``INSERT ... SELECT ... ON CONFLICT
DO NOTHING``. Both skip events already stored (same channel and source id), which is what makes
re-imports idempotent, and both report how many rows they really added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from shequn.interactions.models import InteractionEvent

EVENT_COLUMNS = (
    "community_id",
    "channel_id",
    "member_id",
    "target_member_id",
    "kind",
    "occurred_at",
    "day",
    "source_id",
    "parent_source_id",
    "thread_source_id",
    "content_type",
    "text_length",
    "text",
    "attributes",
    "import_run_id",
    "identity_id",
    "target_identity_id",
)

EventRow = list[Any]


def event_table() -> str:
    return InteractionEvent._meta.db_table


class SQLiteEventWriter:
    # Rows come with ``occurred_at`` as naive UTC text and ``day`` as ISO text, the way Django
    # stores them on SQLite, so no second pass over the batch adapts them.
    NAIVE_UTC_TEXT = True

    def __init__(self) -> None:
        connection.ensure_connection()
        self._cursor = connection.connection.cursor()
        columns = ", ".join(EVENT_COLUMNS)
        placeholders = ", ".join("?" for _ in EVENT_COLUMNS)
        self._sql = (
            f"INSERT INTO {event_table()} ({columns}) VALUES ({placeholders}) "
            "ON CONFLICT (channel_id, source_id) DO NOTHING"
        )

    def write(self, rows: Sequence[EventRow]) -> int:
        self._cursor.executemany(self._sql, rows)
        return max(self._cursor.rowcount, 0)

    def close(self) -> None:
        self._cursor.close()


class PostgresEventWriter:
    NAIVE_UTC_TEXT = False  # COPY takes aware datetimes and dates as they are

    STAGE = "shequn_event_stage"

    def __init__(self) -> None:
        connection.ensure_connection()
        self._cursor = connection.connection.cursor()
        columns = ", ".join(EVENT_COLUMNS)
        self._columns = columns
        self._cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self.STAGE} AS "
            f"SELECT {columns} FROM {event_table()} WITH NO DATA"
        )
        self._cursor.execute(f"TRUNCATE {self.STAGE}")

    def write(self, rows: Sequence[EventRow]) -> int:
        cursor = self._cursor
        with cursor.copy(f"COPY {self.STAGE} ({self._columns}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        cursor.execute(
            f"INSERT INTO {event_table()} ({self._columns}) "
            f"SELECT {self._columns} FROM {self.STAGE} "
            "ON CONFLICT (channel_id, source_id) DO NOTHING"
        )
        inserted = max(cursor.rowcount, 0)
        cursor.execute(f"TRUNCATE {self.STAGE}")
        return inserted

    def close(self) -> None:
        self._cursor.close()


def event_writer() -> SQLiteEventWriter | PostgresEventWriter:
    if connection.vendor == "sqlite":
        return SQLiteEventWriter()
    if connection.vendor == "postgresql":
        return PostgresEventWriter()
    raise NotImplementedError(
        f"shequn imports support SQLite and PostgreSQL, not {connection.vendor}"
    )


def bulk_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows as they are: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite. The
    rows must already hold what the database stores (JSON as text; on SQLite, times as the naive
    UTC text Django writes), so nothing is adapted twice — the tier and points writers'
    hot path."""
    if not rows:
        return
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        return
    marks = ", ".join("%s" for _ in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
