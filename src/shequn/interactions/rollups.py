"""Daily rollups maintained by the database itself, set-based.

Every import adds the counts of the events it inserted (``add_rollups_for_run``) inside its own
transaction; ``recompute_member_rollups`` and ``rebuild_community_rollups`` rebuild from raw events
when history is rearranged (a member merge, a time-zone change).

Each of them ends by refreshing the lifetime totals kept on the touched members
(``Member.message_total``, ``reactions_received_total``, ``last_active_on``) from their rollups in
one UPDATE, so the members list sorts and pages 100k members by index instead of summing millions
of rollup rows per page.
"""

from __future__ import annotations

import json
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
from shequn.members.models import Member

# A day counts as active when the member wrote, attended an activity, mentioned someone or
# reacted (not when they were only replied to or reacted to).
ACTIVE_DAY = "r.messages > 0 OR r.attended > 0 OR r.mentions_given > 0 OR r.reactions_given > 0"


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
) -> set[int]:
    """Add counts of the events matching ``where`` (``{member}`` stands for the side's column);
    return the members whose rollups changed.

    One statement: each side's events (by their actor, by their target) are stacked with UNION
    ALL and grouped once, so each member-day is upserted once. Its RETURNING names the touched
    members, so their totals are refreshed without scanning the events a second time.
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
            f" ON CONFLICT (member_id, day) DO UPDATE SET {additions}"
            " RETURNING member_id",
            all_params,
        )
        return {row[0] for row in cursor.fetchall()}


def _refresh_totals(where: str, params: Sequence[Any]) -> None:
    """Recompute the rollup totals of the members matching ``where`` (on the member table).

    One correlated aggregate per member over its (member_id, day) rollup index; members left
    without rollups go back to zero.
    """
    member_table = Member._meta.db_table
    rollup_table = MemberDailyRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {member_table} SET"
            " (message_total, reactions_received_total, last_active_on) = ("
            " SELECT COALESCE(SUM(r.messages), 0), COALESCE(SUM(r.reactions_received), 0),"
            f" MAX(CASE WHEN {ACTIVE_DAY} THEN r.day END)"
            f" FROM {rollup_table} AS r WHERE r.member_id = {member_table}.id"
            f") WHERE {where}",
            list(params),
        )


def _among(ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``id`` is one of ``ids``, as one parameter whatever their number (an array on
    PostgreSQL, a JSON list on SQLite), so one statement serves 10 members or 100 000."""
    if connection.vendor == "postgresql":
        return "id = ANY(%s)", [list(ids)]
    return "id IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]


def refresh_member_totals(
    member_ids: Iterable[int] | None = None, *, community_id: int | None = None
) -> None:
    """Bring the totals kept on members in step with their rollups: the given members, or every
    member of a community (e.g. after rollups were loaded in bulk)."""
    if community_id is not None:
        _refresh_totals("community_id = %s", [community_id])
    ids = sorted(set(member_ids or ()))
    if ids:
        _refresh_totals(*_among(ids))


def add_rollups_for_run(import_run_id: int, after_event_id: int) -> None:
    """Add the counts of one import's events; ``after_event_id`` bounds the scan to new rows."""
    touched = _upsert_from_events("import_run_id = %s AND id > %s", [import_run_id, after_event_id])
    refresh_member_totals(touched)


def add_rollups_for_events(event_ids: Sequence[int]) -> None:
    """Count these newly stored events (e.g. recorded one activity at a time, not imported)
    without rebuilding their members' whole history."""
    if event_ids:
        touched = _upsert_from_events(*_among(event_ids))
        refresh_member_totals(touched)


def add_received_rollups(event_ids: Sequence[int]) -> None:
    """Count events that have just found their target (their author was counted on import)."""
    if event_ids:
        placeholders = ", ".join(["%s"] * len(event_ids))
        touched = _upsert_from_events(
            f"id IN ({placeholders})", list(event_ids), sides=("received",)
        )
        refresh_member_totals(touched)


def recompute_member_rollups(member_ids: Sequence[int]) -> None:
    """Rebuild the rollups of these members from their raw events."""
    if not member_ids:
        return
    MemberDailyRollup.objects.filter(member_id__in=member_ids).delete()
    placeholders = ", ".join(["%s"] * len(member_ids))
    _upsert_from_events(f"{{member}} IN ({placeholders})", list(member_ids))
    refresh_member_totals(member_ids)  # all of them: one left without events goes back to zero


def rebuild_community_rollups(community_id: int) -> None:
    """Throw away and rebuild a community's rollups (e.g. after its time zone changed)."""
    MemberDailyRollup.objects.filter(community_id=community_id).delete()
    _upsert_from_events("community_id = %s", [community_id])
    refresh_member_totals(community_id=community_id)
