"""Storing a tier run: only the tier rows and history steps that differ from what is stored.

Most members come out of a recompute exactly as they went in (a full run after nothing changed,
or a run after the as-of day moved a week): rewriting their rows would be most of a run's
writing. Stored rows are read back once, compared with the results as values (parsed JSON, so
PostgreSQL's normalised ``jsonb`` text compares equal to what was written), and only members
whose tier row or path differ are deleted and inserted again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson
from django.db import connection

from shequn.communities.models import Community
from shequn.interactions.importers.writers import bulk_insert
from shequn.tiers import inputs
from shequn.tiers.engine import MemberResult
from shequn.tiers.inputs import ordinal_sql
from shequn.tiers.models import MemberTier, TierChange

TIER_COLUMNS = (
    "member_id",
    "community_id",
    "tier",
    "since",
    "evaluated_on",
    "reasons",
    "progress",
    "at_risk",
    "risk",
    "risk_drop",
    "is_staff",
    "joined_on",
    "gone_on",
)
CHANGE_COLUMNS = ("member_id", "community_id", "from_tier", "to_tier", "changed_on", "reasons")
FROM_START = None


class MemberFacts(Protocol):
    role: str
    joined: int | None
    gone: int | None


def _json(value: Any) -> Any:
    """A stored JSON value (text on both databases through a raw cursor, or already parsed)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


StoredState = tuple[str, int | None, int | None, int | None, bool]


def stored_states(community: Community) -> dict[int, StoredState]:
    """Every member's stored (tier, since, joined, left or muted, is staff), days as numbers."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, tier, {ordinal_sql('since')}, {ordinal_sql('joined_on')},"
            f" {ordinal_sql('gone_on')}, is_staff FROM {MemberTier._meta.db_table}"
            " WHERE community_id = %s",
            [community.pk],
        )
        return {row[0]: (*row[1:5], bool(row[5])) for row in cursor.fetchall()}


def set_staff_flags(community: Community, staff: Iterable[int], members: Iterable[int]) -> None:
    """Set ``is_staff`` to true for ``staff`` and false for ``members`` (rows the run kept,
    whose member's role changed since they were written)."""
    for flag, ids in ((True, sorted(staff)), (False, sorted(members))):
        if ids:
            MemberTier.objects.filter(community=community, member_id__in=ids).update(is_staff=flag)


def delete_members(table: str, member_ids: Iterable[int], since: dt.date | None = None) -> None:
    ids = list(member_ids)
    if not ids:
        return
    term, params = inputs.among("member_id", ids)
    sql = f"DELETE FROM {table} WHERE {term}"
    if since is not None:
        sql += " AND changed_on >= %s"
        params.append(inputs.day_param(since))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _stored_tiers(community: Community, member_ids: list[int] | None) -> dict[int, tuple]:
    where, params = "community_id = %s", [community.pk]
    if member_ids is not None:
        term, extra = inputs.among("member_id", member_ids)
        where, params = f"{where} AND {term}", [*params, *extra]
    with connection.cursor() as cursor:
        # Days as numbers, computed by the database: no date objects made and compared.
        cursor.execute(
            f"SELECT member_id, tier, {ordinal_sql('since')}, reasons, progress, at_risk, risk,"
            f" risk_drop, is_staff, {ordinal_sql('joined_on')}, {ordinal_sql('gone_on')}"
            f" FROM {MemberTier._meta.db_table} WHERE {where}",
            params,
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _stored_paths(
    community: Community, member_ids: list[int] | None, since: dt.date | None
) -> dict[int, list[tuple]]:
    """Each member's stored steps (on or after ``since``), in path order."""
    where, params = "community_id = %s", [community.pk]
    if member_ids is not None:
        term, extra = inputs.among("member_id", member_ids)
        where, params = f"{where} AND {term}", [*params, *extra]
    if since is not None:
        where += " AND changed_on >= %s"
        params.append(inputs.day_param(since))
    paths: dict[int, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, {ordinal_sql('changed_on')}, from_tier, to_tier, reasons"
            f" FROM {TierChange._meta.db_table} WHERE {where} ORDER BY member_id, changed_on, id",
            params,
        )
        for member_id, changed_on, from_tier, to_tier, reasons in cursor.fetchall():
            paths.setdefault(member_id, []).append((changed_on, from_tier, to_tier, reasons))
    return paths


def _same_tier(stored: tuple | None, new: tuple, texts: tuple[str, str, str]) -> bool:
    if stored is None:
        return False
    tier, since, reasons, progress, at_risk, risk, risk_drop, is_staff, joined, gone = stored
    if (
        tier != new[0]
        or since != new[1]
        or bool(at_risk) != new[4]
        or risk_drop != new[6]
        or bool(is_staff) != new[7]
        or joined != new[8]
        or gone != new[9]
    ):
        return False
    # Text equal to what would be written is the same value (SQLite keeps the text as sent);
    # otherwise compare values (PostgreSQL stores jsonb and gives back its own spelling).
    for stored_json, text, value in zip(
        (reasons, progress, risk), texts, (new[2], new[3], new[5]), strict=True
    ):
        if stored_json != text and _json(stored_json) != value:
            return False
    return True


def _same_path(stored: list[tuple], new: list[tuple], start: int | None) -> bool:
    if start is not None:
        stored = [step for step in stored if step[0] >= start]
    if len(stored) != len(new):
        return False
    for (changed_on, from_tier, to_tier, reasons), (day, old, tier, why) in zip(
        stored, new, strict=True
    ):
        if changed_on != day or from_tier != old or to_tier != tier:
            return False
        if _json(reasons) != why:
            return False
    return True


def store_results(
    community: Community,
    results: list[MemberResult],
    members: Mapping[int, MemberFacts],
    as_of: dt.date,
    starts: Mapping[int, int | None],
    *,
    full: bool,
) -> int:
    """Write the run's results where they differ from what is stored; return how many
    members' rows were rewritten.

    ``starts`` gives, per replayed member, the week their replay began (None: from their first
    signal): their stored path from that week on is what the result's changes replace. A full
    run also removes the rows of members it no longer evaluates.
    """
    day = inputs.ordinal_params()
    dumps = orjson.dumps
    pk = community.pk
    evaluated_on = day(as_of.toordinal())
    staff = inputs.STAFF_ROLES
    ids = None if full else sorted(starts)
    earliest = [week for week in starts.values() if week is not None]
    since = (
        None
        if full or not earliest or len(earliest) < len(starts)
        else dt.date.fromordinal(min(earliest) * 7 + 1)
    )
    stored_tiers = _stored_tiers(community, ids)
    stored_paths = _stored_paths(community, ids, since)

    tier_rows: list[tuple] = []
    change_rows: list[tuple] = []
    rewrite_tiers: list[int] = []
    rewrite_paths: dict[int | None, list[int]] = {}
    for result in results:
        member_id = result.member_id
        info = members[member_id]
        new = (
            result.tier,
            result.since,
            result.reasons,
            result.progress,
            result.at_risk,
            result.risk,
            result.risk_drop,
            info.role in staff,
            info.joined,
            info.gone,
        )
        texts = (
            dumps(result.reasons).decode(),
            dumps(result.progress).decode(),
            dumps(result.risk).decode(),
        )
        if not _same_tier(stored_tiers.pop(member_id, None), new, texts):
            rewrite_tiers.append(member_id)
            tier_rows.append(
                (
                    member_id,
                    pk,
                    result.tier,
                    day(result.since),
                    evaluated_on,
                    texts[0],
                    texts[1],
                    result.at_risk,
                    texts[2],
                    result.risk_drop,
                    info.role in staff,
                    day(info.joined),
                    day(info.gone),
                )
            )
        start_week = starts.get(member_id, FROM_START)
        start_day = None if start_week is None else start_week * 7 + 1
        if not _same_path(stored_paths.pop(member_id, []), result.changes, start_day):
            rewrite_paths.setdefault(start_week, []).append(member_id)
            change_rows.extend(
                (member_id, pk, from_tier, to_tier, day(changed_on), dumps(reasons).decode())
                for changed_on, from_tier, to_tier, reasons in result.changes
            )
    if full:  # rows of members this run did not evaluate (no longer members of it)
        rewrite_tiers.extend(stored_tiers)
        rewrite_paths.setdefault(FROM_START, []).extend(stored_paths)

    delete_members(MemberTier._meta.db_table, rewrite_tiers)
    for week, group in rewrite_paths.items():
        delete_members(
            TierChange._meta.db_table,
            group,
            None if week is None else dt.date.fromordinal(week * 7 + 1),
        )
    bulk_insert(MemberTier._meta.db_table, TIER_COLUMNS, tier_rows)
    bulk_insert(TierChange._meta.db_table, CHANGE_COLUMNS, change_rows)
    return len(set(rewrite_tiers) | {m for group in rewrite_paths.values() for m in group})
