"""Storing a tier run: only the tier rows and history steps that differ from what is stored.

Most members come out of a recompute exactly as they went in (a full run after nothing changed,
or a run after the as-of day moved a week): rewriting their rows would be most of a run's
writing. A full run compares each member's digests (of the tier row and of the whole path,
kept on the tier row) with those of its results, so it reads two numbers per member instead of
every stored reason. An incremental run reads back the rows of the members it replayed,
compares them as values (parsed JSON, so PostgreSQL's normalised ``jsonb`` text compares equal
to what was written) and keeps the path digest up to date by subtracting the digests of the
steps it replaces and adding the new ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import orjson
from django.db import connection

from shequn.communities.models import Community
from shequn.interactions.importers.writers import bulk_insert
from shequn.interactions.rollups import ordinal_sql
from shequn.tiers import inputs
from shequn.tiers.arrays import NO_TIME, Fetched, fetch
from shequn.tiers.digest import MASK63, path_total, with_member
from shequn.tiers.engine import MemberResult
from shequn.tiers.models import TIER_BY_RANK, MemberTier, TierChange

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
    "row_digest",
    "path_digest",
)
CHANGE_COLUMNS = (
    "member_id",
    "community_id",
    "from_tier",
    "to_tier",
    "changed_on",
    "reasons",
    "digest",
)
FROM_START = None


class MemberFacts(Protocol):
    is_staff: bool
    joined: int | None
    gone: int | None


def _json(value: Any) -> Any:
    """A stored JSON value (text on both databases through a raw cursor, or already parsed)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


StoredDigests = dict[int, tuple[int | None, int | None, bool]]
# (tier, since, joined, left or muted, is staff, row digest, path digest), days as numbers
StoredState = tuple[str, int | None, int | None, int | None, bool, int | None, int | None]


def fetch_stored_states(community: Community) -> Fetched:
    """Every member's stored state and fingerprints, from one covering index (a run reads
    every member's); ``stored_states_of`` parses them."""
    ranks = " ".join(f"WHEN '{tier}' THEN {rank}" for rank, tier in enumerate(TIER_BY_RANK))

    def known(sql: str) -> str:
        return f"COALESCE({sql}, {NO_TIME})"

    return fetch(
        f"SELECT member_id, CASE tier {ranks} ELSE -1 END, {known(ordinal_sql('since'))},"
        f" {known(ordinal_sql('joined_on'))}, {known(ordinal_sql('gone_on'))},"
        f" CASE WHEN is_staff THEN 1 ELSE 0 END, {known('row_digest')}, {known('path_digest')}"
        f" FROM {MemberTier._meta.db_table} WHERE community_id = %s",
        [community.pk],
        8,
    )


def stored_states_of(fetched: Fetched) -> dict[int, StoredState]:
    member_ids, ranks, *days, staff, rows, paths = fetched.columns()
    names = [*TIER_BY_RANK, ""]  # -1: not a tier this version knows

    def nullable(column: np.ndarray) -> list[int | None]:
        values = column.astype(object)
        values[column == NO_TIME] = None
        return values.tolist()

    since, joined, gone = (nullable(column) for column in days)
    return {
        member_id: (names[rank], since[i], joined[i], gone[i], bool(flag), row, path)
        for i, (member_id, rank, flag, row, path) in enumerate(
            zip(
                member_ids.tolist(),
                ranks.tolist(),
                staff.tolist(),
                nullable(rows),
                nullable(paths),
                strict=True,
            )
        )
    }


def digests_of(states: Mapping[int, StoredState]) -> StoredDigests:
    """The (row digest, path digest, is staff) of each stored state."""
    return {member_id: (state[5], state[6], state[4]) for member_id, state in states.items()}


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


def _stored_tiers(community: Community, member_ids: list[int]) -> dict[int, tuple]:
    term, params = inputs.among("member_id", member_ids)
    with connection.cursor() as cursor:
        # Days as numbers, computed by the database: no date objects made and compared.
        cursor.execute(
            f"SELECT member_id, tier, {ordinal_sql('since')}, reasons, progress, at_risk, risk,"
            f" risk_drop, is_staff, {ordinal_sql('joined_on')}, {ordinal_sql('gone_on')},"
            f" path_digest, row_digest FROM {MemberTier._meta.db_table}"
            f" WHERE community_id = %s AND {term}",
            [community.pk, *params],
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
            f"SELECT member_id, {ordinal_sql('changed_on')}, from_tier, to_tier, reasons, digest"
            f" FROM {TierChange._meta.db_table} WHERE {where} ORDER BY member_id, changed_on, id",
            params,
        )
        for member_id, *step in cursor.fetchall():
            paths.setdefault(member_id, []).append(tuple(step))
    return paths


def _same_tier(stored: tuple | None, new: tuple, texts: tuple[str, str, str]) -> bool:
    if stored is None:
        return False
    tier, since, reasons, progress, at_risk, risk, risk_drop, is_staff, joined, gone = stored[:10]
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


def _same_path(stored: list[tuple], new: list[tuple]) -> bool:
    if len(stored) != len(new):
        return False
    for (changed_on, from_tier, to_tier, reasons, _digest), (day, old, tier, why) in zip(
        stored, new, strict=True
    ):
        if changed_on != day or from_tier != old or to_tier != tier:
            return False
        if _json(reasons) != why:
            return False
    return True


class _Writes:
    """The rows a run writes: tier rows replaced whole, history replaced from a week on."""

    def __init__(self, community: Community, as_of: dt.date) -> None:
        self.day = inputs.ordinal_params()
        self.pk = community.pk
        self.evaluated_on = self.day(as_of.toordinal())
        self.tier_rows: list[tuple] = []
        self.change_rows: list[tuple] = []
        self.tiers: list[int] = []
        self.paths: dict[int | None, list[int]] = {}

    def tier(self, member_id: int, new: tuple, texts: tuple[str, ...], digests: tuple) -> None:
        day = self.day
        self.tiers.append(member_id)
        self.tier_rows.append(
            (
                member_id,
                self.pk,
                new[0],
                day(new[1]),
                self.evaluated_on,
                texts[0],
                texts[1],
                new[4],
                texts[2],
                new[6],
                new[7],
                day(new[8]),
                day(new[9]),
                *digests,
            )
        )

    def path(self, member_id: int, start_week: int | None, result: MemberResult) -> None:
        day, pk, dumps = self.day, self.pk, orjson.dumps
        self.paths.setdefault(start_week, []).append(member_id)
        digests = result.step_digests or [None] * len(result.changes)
        self.change_rows.extend(
            (member_id, pk, from_tier, to_tier, day(changed_on), dumps(reasons).decode(), digest)
            for (changed_on, from_tier, to_tier, reasons), digest in zip(
                result.changes, digests, strict=True
            )
        )

    def forget(self, member_ids: Iterable[int]) -> None:
        """Remove the rows of members a full run did not evaluate (no longer members of it)."""
        gone = list(member_ids)
        self.tiers.extend(gone)
        self.paths.setdefault(FROM_START, []).extend(gone)

    def apply(self) -> int:
        delete_members(MemberTier._meta.db_table, self.tiers)
        for week, group in self.paths.items():
            delete_members(
                TierChange._meta.db_table,
                group,
                None if week is None else dt.date.fromordinal(week * 7 + 1),
            )
        bulk_insert(MemberTier._meta.db_table, TIER_COLUMNS, self.tier_rows)
        bulk_insert(TierChange._meta.db_table, CHANGE_COLUMNS, self.change_rows)
        return len(set(self.tiers) | {m for group in self.paths.values() for m in group})


def _new_row(result: MemberResult, info: MemberFacts) -> tuple:
    return (
        result.tier,
        result.since,
        result.reasons,
        result.progress,
        result.at_risk,
        result.risk,
        result.risk_drop,
        info.is_staff,
        info.joined,
        info.gone,
    )


def _texts(result: MemberResult) -> tuple[str, str, str]:
    dumps = orjson.dumps
    return (
        dumps(result.reasons).decode(),
        dumps(result.progress).decode(),
        dumps(result.risk).decode(),
    )


def _digests(result: MemberResult, new: tuple) -> tuple[int | None, int | None]:
    """The tier row's and the whole path's fingerprints (None if the run made none)."""
    if result.row_digest is None:
        return None, None
    return with_member(result.row_digest, new[8], new[9]), path_total(result.step_digests)


def store_results(
    community: Community,
    results: list[MemberResult],
    members: Mapping[int, MemberFacts],
    as_of: dt.date,
    starts: Mapping[int, int | None],
    *,
    full: bool,
    stored: StoredDigests | None = None,
    stored_members: Iterable[int] = (),
) -> int:
    """Write the run's results where they differ from what is stored; return how many
    members' rows were rewritten.

    ``starts`` gives, per replayed member, the week their replay began (None: from their first
    signal): their stored path from that week on is what the result's changes replace. A full
    run given the ``stored`` fingerprints (``digests_of``) trusts them: ``results`` are then
    the members whose fingerprints differ (``batch.replay``'s ``wanted``); without them it
    compares every stored row as values. A full run removes the rows of members it no longer
    evaluates: those of ``stored_members`` (every member with a stored row) not in ``starts``.
    """
    if full and stored is not None:
        return _store_full(community, results, members, as_of, starts, stored)
    return _store_compared(
        community, results, members, as_of, starts, stored_members if full else ()
    )


def _store_full(
    community: Community,
    results: list[MemberResult],
    members: Mapping[int, MemberFacts],
    as_of: dt.date,
    starts: Mapping[int, int | None],
    stored: StoredDigests,
) -> int:
    writes = _Writes(community, as_of)
    for result in results:
        member_id = result.member_id
        new = _new_row(result, members[member_id])
        digests = _digests(result, new)
        old = stored.get(member_id)
        if old is not None and old[:2] == digests and old[2] == new[7]:
            continue
        writes.tier(member_id, new, _texts(result), digests)
        if old is None or old[1] != digests[1] or digests[1] is None:
            writes.path(member_id, FROM_START, result)
    writes.forget(member_id for member_id in stored if member_id not in starts)
    return writes.apply()


def _store_compared(
    community: Community,
    results: list[MemberResult],
    members: Mapping[int, MemberFacts],
    as_of: dt.date,
    starts: Mapping[int, int | None],
    forgotten: Iterable[int],
) -> int:
    """Compare the replayed members' stored rows with the results as values; remove the rows
    of the ``forgotten`` members that were not replayed."""
    ids = sorted(starts)
    earliest = [week for week in starts.values() if week is not None]
    since = (
        None
        if not earliest or len(earliest) < len(starts)
        else dt.date.fromordinal(min(earliest) * 7 + 1)
    )
    stored_tiers = _stored_tiers(community, ids)
    stored_paths = _stored_paths(community, ids, since)
    writes = _Writes(community, as_of)
    writes.forget(m for m in forgotten if m not in starts)
    for result in results:
        member_id = result.member_id
        new = _new_row(result, members[member_id])
        texts = _texts(result)
        stored = stored_tiers.get(member_id)
        start_week = starts.get(member_id, FROM_START)
        old_steps = stored_paths.get(member_id, [])
        if start_week is not None:
            start_day = start_week * 7 + 1
            old_steps = [step for step in old_steps if step[0] >= start_day]
        # The same steps with the same fingerprints (a step's fingerprint can change while its
        # reasons do not: the stored ones must stay the ones the path fingerprint sums).
        same_path = (
            _same_path(old_steps, result.changes)
            and [step[4] for step in old_steps] == result.step_digests
        )
        row, path = _digests(result, new)
        if start_week is not None and path is not None:
            # The history's fingerprint: the steps kept, plus the new ones.
            replaced = [step[4] for step in old_steps]
            if stored is None or stored[10] is None or None in replaced:
                path = None  # unknown until a full run writes it
            else:
                path = (stored[10] - sum(replaced) + path) & MASK63
        if same_path and _same_tier(stored, new, texts) and stored[10:12] == (path, row):
            continue
        writes.tier(member_id, new, texts, (row, path))
        if not same_path:
            writes.path(member_id, start_week, result)
    return writes.apply()
