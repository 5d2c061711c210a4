"""Daily and weekly rollups maintained by the database itself, set-based.

Every import adds the counts of the events it inserted (``add_rollups_for_run``) inside its own
transaction; ``recompute_member_rollups`` and ``rebuild_community_rollups`` rebuild from raw events
when history is rearranged (a member merge, a time-zone change).

Each of them keeps the weekly rollups (``MemberWeeklyRollup``, what the tier engine reads) equal
to the daily rows grouped by member and week: the daily upsert returns the (member, week) pairs it
touched and one more statement regroups exactly those weeks from the daily rows, so an import
rewrites only the weeks it added to, never a member's whole history. (On PostgreSQL the touched
members are locked first, so two writers' regroupings cannot miss each other's days.)

Each of them ends by refreshing the lifetime totals kept on the touched members
(``Member.message_total``, ``reactions_received_total``, ``last_active_on``) from their rollups in
one UPDATE, so the members list sorts and pages 100k members by index instead of summing millions
of rollup rows per page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection

from shequn.interactions.models import (
    MESSAGE_KINDS,
    ROLLUP_COLUMNS,
    ROLLUP_COUNTERS,
    InteractionEvent,
    MemberDailyRollup,
    MemberWeeklyRollup,
)
from shequn.members.models import Member

# A day counts as active when the member wrote, attended an activity, mentioned someone or
# reacted (not when they were only replied to or reacted to).
ACTIVE_DAY = "r.messages > 0 OR r.attended > 0 OR r.mentions_given > 0 OR r.reactions_given > 0"
# A day that counts toward a week's presence (``MemberWeeklyRollup.contribution_days``).
CONTRIBUTION_DAY = "r.messages > 0 OR r.attended > 0"
# A day with any signal at all, joins included (``MemberWeeklyRollup.last_signal_day``; the tier
# engine's SIGNAL_ROW).
SIGNAL_DAY = f"{ACTIVE_DAY} OR r.joins > 0"


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
) -> set[tuple[int, int]]:
    """Add counts of the events matching ``where`` (``{member}`` stands for the side's column);
    return the (member, week) pairs whose daily rollups changed.

    One statement: each side's events (by their actor, by their target) are stacked with UNION
    ALL and grouped once, so each member-day is upserted once. Its RETURNING names the touched
    members and weeks, so their totals and weekly rollups are refreshed without scanning the
    events a second time.
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
            f" RETURNING member_id, {_week_sql('day')}",
            all_params,
        )
        return set(cursor.fetchall())


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


def _among(ids: Sequence[int], column: str = "id") -> tuple[str, list[Any]]:
    """``column`` is one of ``ids``, as one parameter whatever their number (an array on
    PostgreSQL, a JSON list on SQLite), so one statement serves 10 members or 100 000."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]


# --- weekly rollups ---------------------------------------------------------------------------


def ordinal_sql(column: str) -> str:
    """SQL for ``date.toordinal()`` of a date column."""
    if connection.vendor == "postgresql":
        return f"(({column}) - DATE '0001-01-01' + 1)"
    return f"CAST(julianday({column}) - 1721424.5 AS INTEGER)"


def _week_sql(column: str) -> str:
    """SQL for the week of a date column: ``(ordinal - 1) // 7``, weeks starting on Monday."""
    return f"(({ordinal_sql(column)} - 1) / 7)"


def _date_sql(ordinal: str) -> str:
    """SQL for the date whose ``toordinal()`` is the integer expression ``ordinal``."""
    if connection.vendor == "postgresql":
        return f"(DATE '0001-01-01' + ({ordinal}) - 1)"
    return f"date(({ordinal}) + 1721424.5)"


def _write_weeks(source: str, where: str, week: str, params: Sequence[Any]) -> None:
    """Upsert the weekly rollups grouped from the daily rows ``r`` of ``source`` matching
    ``where``, ``week`` being the week each daily row falls in.

    Each (member, week) written is regrouped from all its daily rows, so callers name whole
    weeks; a week is only ever rewritten, never summed into, and the statement can be repeated.
    """
    weekly_table = MemberWeeklyRollup._meta.db_table
    columns = [*ROLLUP_COUNTERS, "contribution_days", "last_signal_day"]
    sums = [f"SUM(r.{c})" for c in ROLLUP_COUNTERS]
    sums.append(f"SUM(CASE WHEN {CONTRIBUTION_DAY} THEN 1 ELSE 0 END)")
    sums.append(f"MAX(CASE WHEN {SIGNAL_DAY} THEN {ordinal_sql('r.day')} END)")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {weekly_table} (community_id, member_id, week, {', '.join(columns)})"
            f" SELECT MIN(r.community_id), r.member_id, {week}, {', '.join(sums)}"
            f" FROM {source} WHERE {where} GROUP BY r.member_id, {week}"
            " ON CONFLICT (member_id, week) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in columns),
            list(params),
        )


def _refresh_weeks(pairs: Iterable[tuple[int, int]]) -> None:
    """Regroup exactly these (member, week) pairs from the daily rollups, in one statement.

    Only for weeks whose daily rows were added to (imports, recorded events): such a week never
    loses its last daily row, so upserting it is enough.

    The pairs drive a nested loop over the daily (member, day) index, each pair reading its
    member's seven days at most: an import's cost follows what it added, not the history.
    """
    pairs = sorted(set(pairs))
    if not pairs:
        return
    daily_table = MemberDailyRollup._meta.db_table
    if connection.vendor == "postgresql":
        touched = "unnest(%s::bigint[], %s::integer[]) AS t(member_id, week)"
        params: list[Any] = [[m for m, _w in pairs], [w for _m, w in pairs]]
    else:
        touched = (
            "(SELECT json_extract(value, '$[0]') AS member_id,"
            " json_extract(value, '$[1]') AS week FROM json_each(%s)) AS t"
        )
        params = [json.dumps(pairs)]
    _write_weeks(
        # CROSS JOIN: SQLite keeps the pairs as the outer loop (PostgreSQL plans it freely).
        f"{touched} CROSS JOIN {daily_table} AS r",
        "r.member_id = t.member_id"
        f" AND r.day >= {_date_sql('t.week * 7 + 1')} AND r.day < {_date_sql('t.week * 7 + 8')}",
        "t.week",
        params,
    )


def _delete_weeks(where: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {MemberWeeklyRollup._meta.db_table} WHERE {where}", list(params)
        )


def _members_of_community(community_id: int, column: str) -> tuple[str, list[Any]]:
    """``column`` names a member of the community: through the member table's community index
    and the weekly (member, week) index, as the weekly table has no community index."""
    return (
        f"{column} IN (SELECT id FROM {Member._meta.db_table} WHERE community_id = %s)",
        [community_id],
    )


def rebuild_weekly_rollups(
    member_ids: Iterable[int] | None = None, *, community_id: int | None = None
) -> None:
    """Throw away and regroup the weekly rollups of these members, or of every member of a
    community, from their daily rollups: after daily rows were deleted, or written by other
    means (bulk loaders, tests), so that the tier engine sees them."""
    daily_table = MemberDailyRollup._meta.db_table
    ids = sorted(set(member_ids or ()))
    scopes: list[Callable[[str], tuple[str, list[Any]]]] = []
    if community_id is not None:
        scopes.append(lambda column: _members_of_community(community_id, column))
    if ids:
        scopes.append(lambda column: _among(ids, column))
    for scope in scopes:
        _delete_weeks(*scope("member_id"))
        where, params = scope("r.member_id")
        _write_weeks(f"{daily_table} AS r", where, _week_sql("r.day"), params)


# --- what changes daily rollups ---------------------------------------------------------------


def _lock_members(where: str, params: Sequence[Any]) -> None:
    """Wait for the other transactions changing these members' rollups, then keep them waiting.

    The weekly rollups and totals are regrouped from the daily rows, not added to: regrouped
    while another transaction's daily rows are not committed yet, a week would miss them for
    good. So each writer locks its members (in id order) after adding its daily rows and before
    regrouping; the statements after the lock read what the writer before it committed.
    PostgreSQL only: SQLite has one writer at a time. NO KEY UPDATE, so events referencing the
    members can still be inserted meanwhile. Writers that updated member rows earlier in their
    transaction (an import, a merge) already hold some of these locks, so two of them touching
    the same members can still deadlock; PostgreSQL then aborts one, which rolls back whole (as
    the totals update before this lock could).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Member._meta.db_table} WHERE {where} ORDER BY id FOR NO KEY UPDATE",
            list(params),
        )


def _after_upsert(touched: set[tuple[int, int]]) -> None:
    """Bring the weekly rollups and totals of what an additive upsert touched up to date."""
    members = sorted({member for member, _week in touched})
    if not members:
        return
    _lock_members(*_among(members))
    _refresh_weeks(touched)
    refresh_member_totals(members)


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
    _after_upsert(
        _upsert_from_events("import_run_id = %s AND id > %s", [import_run_id, after_event_id])
    )


def add_rollups_for_events(event_ids: Sequence[int]) -> None:
    """Count these newly stored events (e.g. recorded one activity at a time, not imported)
    without rebuilding their members' whole history."""
    if event_ids:
        _after_upsert(_upsert_from_events(*_among(event_ids)))


def add_received_rollups(event_ids: Sequence[int]) -> None:
    """Count events that have just found their target (their author was counted on import)."""
    if event_ids:
        placeholders = ", ".join(["%s"] * len(event_ids))
        _after_upsert(
            _upsert_from_events(f"id IN ({placeholders})", list(event_ids), sides=("received",))
        )


def recompute_member_rollups(member_ids: Sequence[int]) -> None:
    """Rebuild the rollups of these members from their raw events."""
    if not member_ids:
        return
    MemberDailyRollup.objects.filter(member_id__in=member_ids).delete()
    placeholders = ", ".join(["%s"] * len(member_ids))
    _upsert_from_events(f"{{member}} IN ({placeholders})", list(member_ids))
    _lock_members(*_among(sorted(set(member_ids))))
    # all of them: one left without events loses its weeks and goes back to zero
    rebuild_weekly_rollups(member_ids)
    refresh_member_totals(member_ids)


def rebuild_community_rollups(community_id: int) -> None:
    """Throw away and rebuild a community's rollups (e.g. after its time zone changed)."""
    MemberDailyRollup.objects.filter(community_id=community_id).delete()
    _upsert_from_events("community_id = %s", [community_id])
    _lock_members("community_id = %s", [community_id])
    rebuild_weekly_rollups(community_id=community_id)
    refresh_member_totals(community_id=community_id)
