"""What a replay reads, as numpy arrays (``shequn.tiers.batch``).

The rows ``shequn.tiers.inputs`` defines (weeks from the rollups, help from the reply ties),
fetched column-wise: a full recompute reads every member's weeks and help, and building a
Python tuple per row was a large part of its time. An incremental run reads the same for the
members it replays, from the first week it needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Protocol

import numpy as np
from django.db import connection

from shequn.communities.models import Community
from shequn.members.models import Identity, Member
from shequn.tiers import inputs
from shequn.tiers.batch import BatchInput
from shequn.tiers.engine import NEVER, commitment_units
from shequn.tiers.models import ReplyTie
from shequn.tiers.ordering import Positions, stable_order
from shequn.tiers.policy import Rules

_I = np.int64


class MemberFacts(Protocol):
    joined: int | None
    gone: int | None
    gone_code: str


@dataclass(frozen=True)
class Fetched:
    """A query's integer columns as the database sent them (``fetch``), not yet parsed:
    ``columns`` does that, on whichever thread has the time."""

    texts: tuple[str, ...] | None
    count: int

    def columns(self) -> list[np.ndarray]:
        if self.texts is None or self.texts[0] is None:
            return [np.zeros(0, dtype=_I) for _ in range(self.count)]
        return [np.fromstring(text, dtype=_I, sep=",") for text in self.texts]


def fetch(sql: str, params: Sequence[Any], count: int) -> Fetched:
    """The ``count`` integer columns (never NULL) of a query's rows, to be parsed into one
    array each.

    Each column comes back as one comma-separated string (``group_concat`` on SQLite,
    ``string_agg`` on PostgreSQL) that numpy parses: for the hundreds of thousands of rows a
    full replay reads, a Python tuple per row cost three times the query itself. The aggregates
    of one statement see the rows in the same order, so the columns stay aligned. (PostgreSQL's
    binary ``COPY``, read as numpy records, was no faster: it sends 12 bytes per value and one
    message per row.)"""
    names = [f"c{i}" for i in range(count)]
    if connection.vendor == "postgresql":
        joined = ", ".join(f"string_agg({name}::text, ',')" for name in names)
    else:
        joined = ", ".join(f"group_concat({name})" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH q({', '.join(names)}) AS ({sql}) SELECT {joined} FROM q", params)
        texts = cursor.fetchone()
    return Fetched(None if texts is None else tuple(texts), count)


NO_TIME = -(2**62)  # a NULL time in ``fetch``'s columns, which cannot hold NULL
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def epoch_seconds_sql(column: str) -> str:
    """A time column as whole seconds since 1970 (UTC), ``NO_TIME`` where NULL."""
    if connection.vendor == "postgresql":
        return f"COALESCE(FLOOR(EXTRACT(EPOCH FROM {column}))::bigint, {NO_TIME})"
    return f"COALESCE(CAST(strftime('%%s', {column}) AS INTEGER), {NO_TIME})"


def local_day_numbers(seconds: np.ndarray, zone: tzinfo) -> np.ndarray:
    """The day numbers (``date.toordinal()``) in ``zone`` of times given as seconds since
    1970, 0 where ``NO_TIME``.

    The zone's offset is looked up once per distinct UTC day, at its first and last second;
    only the times of a day on which the offset changes (a daylight-saving switch) are looked
    up one by one."""
    out = np.zeros(len(seconds), dtype=_I)
    known = seconds != NO_TIME
    times = seconds[known]
    if not len(times):
        return out

    def offset(moment: int) -> int:
        local = dt.datetime.fromtimestamp(moment, dt.UTC).astimezone(zone)
        return int(local.utcoffset().total_seconds())  # type: ignore[union-attr]

    days, inverse = np.unique(times // 86400, return_inverse=True)
    first = np.array([offset(day * 86400) for day in days.tolist()], dtype=_I)
    last = np.array([offset(day * 86400 + 86399) for day in days.tolist()], dtype=_I)
    shift = first[inverse]
    switched = (first != last)[inverse]
    if switched.any():
        shift[switched] = [offset(moment) for moment in times[switched].tolist()]
    out[known] = (times + shift) // 86400 + _EPOCH_ORDINAL
    return out


@dataclass
class MemberColumns:
    """The community's members as arrays: days are local day numbers, 0 where unknown."""

    ids: np.ndarray
    is_bot: np.ndarray
    is_staff: np.ndarray  # a founder or an operator
    joined: np.ndarray
    left: np.ndarray
    muted: np.ndarray


def fetch_members(community: Community) -> Fetched:
    """Every member of the community (a recompute reads them all, every run)."""
    roles = ", ".join("%s" for _ in inputs.STAFF_ROLES)
    return fetch(
        f"SELECT id, CASE WHEN is_bot THEN 1 ELSE 0 END,"
        f" CASE WHEN role IN ({roles}) THEN 1 ELSE 0 END, {epoch_seconds_sql('joined_at')},"
        f" {epoch_seconds_sql('left_at')}, {epoch_seconds_sql('muted_at')}"
        f" FROM {Member._meta.db_table} WHERE community_id = %s",
        [*inputs.STAFF_ROLES, community.pk],
        6,
    )


def member_columns(fetched: Fetched, zone: tzinfo) -> MemberColumns:
    """``fetch_members`` parsed: the times become local days in numpy, not a datetime object
    each."""
    ids, is_bot, is_staff, joined, left, muted = fetched.columns()
    return MemberColumns(
        ids,
        is_bot.astype(bool),
        is_staff.astype(bool),
        local_day_numbers(joined, zone),
        local_day_numbers(left, zone),
        local_day_numbers(muted, zone),
    )


def fetch_weeks(
    community: Community,
    as_of: dt.date,
    member_ids: np.ndarray,
    *,
    only: bool = False,
    since_week: int | None = None,
) -> Fetched:
    """The weeks with a signal up to ``as_of`` (``inputs.week_rows_sql``) of the members in
    ``member_ids`` (sorted): read for the community's members from the first to the last of
    them, or with ``only`` for those members alone (an incremental run's), from ``since_week``
    on."""
    since = None if since_week is None else dt.date.fromordinal(since_week * 7 + 1)
    chosen = member_ids.tolist() if only else None
    id_range = None
    if not only and len(member_ids):
        id_range = (int(member_ids[0]), int(member_ids[-1]))
    sql, params = inputs.week_rows_sql(
        community, as_of, chosen, since, ordered=False, id_range=id_range
    )
    return fetch(sql, params, 8)


def week_arrays(fetched: Fetched, rules: Rules, member_ids: np.ndarray) -> dict[str, np.ndarray]:
    """``BatchInput``'s week rows from ``fetch_weeks``."""
    member, week, messages, replies, days, last, others, attended = fetched.columns()
    pos, found = Positions(member_ids).of(member)
    w_message = commitment_units(rules.weights.get("message", 1))
    w_reply = commitment_units(rules.weights.get("reply", 2))
    w_attend = commitment_units(rules.weights.get("attend", 5))
    return {
        "row_member": pos[found],
        "row_week": week[found],
        "row_contributions": (messages + attended)[found],
        "row_commitment": (
            w_message * (messages - replies) + w_reply * replies + w_attend * attended
        )[found],
        "row_days": days[found],
        "row_last": last[found],
        "row_others": others[found],
    }


def fetch_ties(
    community: Community,
    rules: Rules,
    until_week: int,
    member_ids: np.ndarray,
    *,
    only: bool = False,
    since_week: int | None = None,
) -> tuple[Fetched, Fetched]:
    """The help given by the members in ``member_ids`` (all of the community's read, or with
    ``only`` theirs alone, from ``since_week`` on), per week and helped account, and the
    community's accounts with their members (``tie_arrays`` maps one to the other)."""
    ties = ReplyTie._meta.db_table
    accounts = Identity._meta.db_table
    where = ["t.week <= %s"]
    params: list[Any] = [until_week]
    if only:
        term, values = inputs.among("member_id", member_ids.tolist())
        where.append(f"t.identity_id IN (SELECT id FROM {accounts} WHERE {term})")
        params += values
    else:
        where.append(inputs.community_term("t.community_id"))
        params.append(community.pk)
    if since_week is not None:
        where.append("t.week >= %s")
        params.append(since_week)
    if not rules.helped_by_mentions:
        where.append("t.replies > 0")
    # Accounts are mapped to their members in numpy, not joined in the query: two index
    # lookups per row cost more than the rest of reading them.
    help_given = fetch(
        f"SELECT t.identity_id, t.week, t.target_identity_id, t.replies, t.mentions"
        f" FROM {ties} AS t WHERE {' AND '.join(where)}",
        params,
        5,
    )
    owners = fetch(
        f"SELECT id, member_id FROM {accounts} WHERE member_id IN"
        f" (SELECT id FROM {Member._meta.db_table} WHERE community_id = %s)",
        [community.pk],
        2,
    )
    return help_given, owners


def tie_arrays(
    fetched: tuple[Fetched, Fetched], rules: Rules, member_ids: np.ndarray, helpable: np.ndarray
) -> dict[str, np.ndarray]:
    """``BatchInput``'s help rows from ``fetch_ties``: one per account pair, so a member with
    two accounts may name one helped member twice in a week. Help counts only towards the
    members in ``helpable`` (sorted): not bots."""
    account, week, target_account, replies, mentions = fetched[0].columns()
    accounts_of, owners = fetched[1].columns()
    order = stable_order(accounts_of)
    accounts_of, owners = accounts_of[order], owners[order]
    by_account = Positions(accounts_of)
    at, known = by_account.of(account)
    target_at, target_known = by_account.of(target_account)
    member = np.where(known, owners[at] if len(owners) else 0, -1)
    target = np.where(target_known, owners[target_at] if len(owners) else 0, -1)
    pos, found = Positions(member_ids).of(member)
    _target_pos, target_found = Positions(helpable).of(target)
    # Help to oneself (a reply from one's other account) is no help.
    keep = found & target_found & (member != target)
    return {
        "tie_member": pos[keep],
        "tie_week": week[keep],
        "tie_target": target[keep],
        "tie_replies": replies[keep],
        "tie_mentions": mentions[keep] if rules.helped_by_mentions else np.zeros_like(week[keep]),
    }


GROUP = 12_500  # members whose weeks are read, and replayed, at a time


PendingInput = Callable[[], BatchInput]  # a group's rows, read: calling it parses them


def batch_inputs(
    community: Community,
    rules: Rules,
    as_of: dt.date,
    last_week: int,
    members: Mapping[int, MemberFacts],
    credits: Mapping[int, list[tuple[int, int]]],
    acts: Mapping[int, list[tuple[int, str, int, str]]],
    helpable: np.ndarray,
    *,
    only: bool = False,
    since_week: int | None = None,
    pool: Executor | None = None,
    help_given: tuple[Fetched, Fetched] | None = None,
) -> Iterator[PendingInput]:
    """Everything a replay of ``members`` reads (``only``: read for them alone, not for the
    whole community; ``since_week``: their weeks and help from that week on), for ``GROUP``
    members at a time in id order: the help of all first, then each group's weeks as the
    caller asks for the group, so that it can replay one group while the next is read. Each
    group comes read but not parsed: parsing is CPU work, for the thread that replays; with
    ``pool`` (a single worker) the help is parsed there while the first weeks are read.
    ``help_given``: the help, already fetched (``fetch_ties`` with the same arguments)."""
    ids = sorted(members)
    if not ids:
        return
    member_ids = np.array(ids, dtype=_I)
    infos = [members[pk] for pk in ids]
    joined = np.array([NEVER if m.joined is None else m.joined for m in infos], dtype=_I)
    gone = np.array([NEVER if m.gone is None else m.gone for m in infos], dtype=_I)
    index = {pk: i for i, pk in enumerate(ids)}
    invites = [(index[pk], day) for pk, items in credits.items() if pk in index for day, _ in items]
    member_acts = [(index[pk], *act) for pk, items in acts.items() if pk in index for act in items]
    invite_member = np.array([i for i, _ in invites], dtype=_I)
    invite_day = np.array([day for _, day in invites], dtype=_I)
    act_member = np.array([a[0] for a in member_acts], dtype=_I)
    act_day = np.array([a[1] for a in member_acts], dtype=_I)
    act_count = np.array([a[3] for a in member_acts], dtype=_I)
    fetched_ties = help_given or fetch_ties(
        community, rules, last_week, member_ids, only=only, since_week=since_week
    )
    parsed: list[dict[str, np.ndarray]] = []

    def parse_ties() -> dict[str, np.ndarray]:
        parsed.append(tie_arrays(fetched_ties, rules, member_ids, helpable))
        return parsed[0]

    early = None if pool is None else pool.submit(parse_ties)

    def ties() -> dict[str, np.ndarray]:
        if early is not None:
            return early.result()
        return parsed[0] if parsed else parse_ties()

    def group(lo: int, hi: int, weeks: Fetched) -> BatchInput:
        help_given = ties()
        tie = (help_given["tie_member"] >= lo) & (help_given["tie_member"] < hi)
        invite = (invite_member >= lo) & (invite_member < hi)
        act = np.flatnonzero((act_member >= lo) & (act_member < hi)).tolist()
        return BatchInput(
            member_ids=member_ids[lo:hi],
            joined=joined[lo:hi],
            gone=gone[lo:hi],
            gone_code=[m.gone_code for m in infos[lo:hi]],
            **week_arrays(weeks, rules, member_ids[lo:hi]),
            tie_member=help_given["tie_member"][tie] - lo,
            **{name: values[tie] for name, values in help_given.items() if name != "tie_member"},
            invite_member=invite_member[invite] - lo,
            invite_day=invite_day[invite],
            act_member=act_member[act] - lo,
            act_day=act_day[act],
            act_count=act_count[act],
            act_code=[member_acts[i][2] for i in act],
            act_kind=[member_acts[i][4] for i in act],
        )

    for lo in range(0, len(ids), GROUP):
        hi = min(lo + GROUP, len(ids))
        weeks = fetch_weeks(community, as_of, member_ids[lo:hi], only=only, since_week=since_week)
        yield lambda lo=lo, hi=hi, weeks=weeks: group(lo, hi, weeks)
