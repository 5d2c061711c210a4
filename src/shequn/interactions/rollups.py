"""Daily rollups maintained by the database itself, set-based.

Every import adds the counts of the events it inserted (``add_rollups_for_run``) inside its own
transaction; ``recompute_member_rollups`` and ``rebuild_community_rollups`` rebuild from raw events
when history is rearranged (a member merge, a time-zone change).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

from shequn.interactions.models import (
    MESSAGE_KINDS,
    ROLLUP_COLUMNS,
    ROLLUP_COUNTERS,
    InteractionEvent,
    MemberDailyRollup,
)


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _counter_expressions(side: str) -> dict[str, str]:
    """Per-event value of every counter, for the acting member ('given') or the target."""
    expressions = dict.fromkeys(ROLLUP_COUNTERS, "0")
    if side == "given":
        message_kinds = _quoted(MESSAGE_KINDS)
        expressions["messages"] = f"CASE WHEN kind IN ({message_kinds}) THEN 1 ELSE 0 END"
        expressions["characters"] = (
            f"CASE WHEN kind IN ({message_kinds}) THEN text_length ELSE 0 END"
        )
    for kind, (given, received) in ROLLUP_COLUMNS.items():
        column = given if side == "given" else received
        if column and column != "messages":
            expressions[column] = f"CASE WHEN kind = '{kind}' THEN 1 ELSE 0 END"
    return expressions


def _upsert_from_events(
    where: str, params: Sequence[Any], sides: Sequence[str] = ("given", "received")
) -> None:
    """Add counts of the events matching ``where`` (``{member}`` stands for the side's column).

    One statement: each side's events (by their actor, by their target) are stacked with UNION
    ALL and grouped once, so each member-day is upserted once.
    """
    rollup_table = MemberDailyRollup._meta.db_table
    event_table = InteractionEvent._meta.db_table
    counters = ", ".join(ROLLUP_COUNTERS)
    additions = ", ".join(f"{c} = {rollup_table}.{c} + excluded.{c}" for c in ROLLUP_COUNTERS)
    selects, all_params = [], []
    for side, member_column in (("given", "member_id"), ("received", "target_member_id")):
        if side not in sides:
            continue
        expressions = _counter_expressions(side)
        counted_kinds = [
            kind for kind, columns in ROLLUP_COLUMNS.items() if columns[0 if side == "given" else 1]
        ]
        selects.append(
            f"SELECT community_id, {member_column} AS counted_member, day, "
            + ", ".join(f"{expressions[c]} AS {c}" for c in ROLLUP_COUNTERS)
            + f" FROM {event_table} WHERE {where.format(member=member_column)}"
            f" AND {member_column} IS NOT NULL AND kind IN ({_quoted(counted_kinds)})"
        )
        all_params.extend(params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {rollup_table} (community_id, member_id, day, {counters}) "
            f"SELECT community_id, counted_member, day, "
            + ", ".join(f"SUM({c})" for c in ROLLUP_COUNTERS)
            + " FROM ("
            + " UNION ALL ".join(selects)
            + ") AS counted WHERE true"
            " GROUP BY community_id, counted_member, day"
            f" ON CONFLICT (member_id, day) DO UPDATE SET {additions}",
            all_params,
        )


def add_rollups_for_run(import_run_id: int, after_event_id: int) -> None:
    """Add the counts of one import's events; ``after_event_id`` bounds the scan to new rows."""
    _upsert_from_events("import_run_id = %s AND id > %s", [import_run_id, after_event_id])


def add_received_rollups(event_ids: Sequence[int]) -> None:
    """Count events that have just found their target (their author was counted on import)."""
    if event_ids:
        placeholders = ", ".join(["%s"] * len(event_ids))
        _upsert_from_events(f"id IN ({placeholders})", list(event_ids), sides=("received",))


def recompute_member_rollups(member_ids: Sequence[int]) -> None:
    """Rebuild the rollups of these members from their raw events."""
    if not member_ids:
        return
    MemberDailyRollup.objects.filter(member_id__in=member_ids).delete()
    placeholders = ", ".join(["%s"] * len(member_ids))
    _upsert_from_events(f"{{member}} IN ({placeholders})", list(member_ids))


def rebuild_community_rollups(community_id: int) -> None:
    """Throw away and rebuild a community's rollups (e.g. after its time zone changed)."""
    MemberDailyRollup.objects.filter(community_id=community_id).delete()
    _upsert_from_events("community_id = %s", [community_id])
