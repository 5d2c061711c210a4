"""What a full replay reads, as numpy arrays (``shequn.tiers.batch``).

The same rows as ``shequn.tiers.inputs`` reads for the per-member engine, fetched column-wise:
a full recompute reads every member's weeks and help, and building a Python tuple per row was a
large part of its time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from django.db import connection

from shequn.communities.models import Community
from shequn.members.models import Identity
from shequn.tiers import inputs
from shequn.tiers.batch import BatchInput
from shequn.tiers.engine import NEVER, commitment_units
from shequn.tiers.models import ReplyTie
from shequn.tiers.policy import Rules

_I = np.int64


class MemberFacts(Protocol):
    joined: int | None
    gone: int | None
    gone_code: str


def fetch_columns(sql: str, params: Sequence[Any], count: int) -> list[np.ndarray]:
    """The ``count`` integer columns (never NULL) of a query's rows, one array each.

    Each column comes back as one comma-separated string (``group_concat`` on SQLite,
    ``string_agg`` on PostgreSQL) that numpy parses: for the hundreds of thousands of rows a
    full replay reads, a Python tuple per row cost three times the query itself. The aggregates
    of one statement see the rows in the same order, so the columns stay aligned."""
    names = [f"c{i}" for i in range(count)]
    if connection.vendor == "postgresql":
        joined = ", ".join(f"string_agg({name}::text, ',')" for name in names)
    else:
        joined = ", ".join(f"group_concat({name})" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH q({', '.join(names)}) AS ({sql}) SELECT {joined} FROM q", params)
        texts = cursor.fetchone()
    if texts is None or texts[0] is None:
        return [np.zeros(0, dtype=_I) for _ in range(count)]
    return [np.fromstring(text, dtype=_I, sep=",") for text in texts]


def _positions(member_ids: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each owner's position in the sorted ``member_ids`` and whether it is there at all."""
    if not len(member_ids):
        return np.zeros(len(owners), dtype=_I), np.zeros(len(owners), dtype=bool)
    pos = np.searchsorted(member_ids, owners)
    pos = np.minimum(pos, len(member_ids) - 1)
    return pos, member_ids[pos] == owners


def read_week_arrays(
    community: Community, rules: Rules, as_of: dt.date, member_ids: np.ndarray
) -> dict[str, np.ndarray]:
    """Every member's weeks with a signal up to ``as_of`` (``inputs.week_rows_sql``)."""
    sql, params = inputs.week_rows_sql(community, as_of, ordered=False)
    member, week, messages, replies, days, last, others, attended = fetch_columns(sql, params, 8)
    pos, found = _positions(member_ids, member)
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


def read_tie_arrays(
    community: Community, rules: Rules, until_week: int, member_ids: np.ndarray
) -> dict[str, np.ndarray]:
    """Every member's help given, per week and helped member (``inputs.read_ties``'s rows)."""
    ties = ReplyTie._meta.db_table
    accounts = Identity._meta.db_table
    where = ["t.week <= %s", "a.member_id <> b.member_id", inputs.community_term("t.community_id")]
    if not rules.helped_by_mentions:
        where.append("t.replies > 0")
    member, week, target, replies, mentions = fetch_columns(
        f"SELECT a.member_id, t.week, b.member_id, t.replies, t.mentions FROM {ties} AS t"
        f" JOIN {accounts} AS a ON a.id = t.identity_id"
        f" JOIN {accounts} AS b ON b.id = t.target_identity_id"
        f" WHERE {' AND '.join(where)}",
        [until_week, community.pk],
        5,
    )
    pos, found = _positions(member_ids, member)
    # Help to a bot (or to someone who is not a member any more) is no help.
    _target_pos, target_found = _positions(member_ids, target)
    keep = found & target_found
    return {
        "tie_member": pos[keep],
        "tie_week": week[keep],
        "tie_target": target[keep],
        "tie_replies": replies[keep],
        "tie_mentions": mentions[keep] if rules.helped_by_mentions else np.zeros_like(week[keep]),
    }


def batch_input(
    community: Community,
    rules: Rules,
    as_of: dt.date,
    last_week: int,
    members: Mapping[int, MemberFacts],
    credits: Mapping[int, list[tuple[int, int]]],
    acts: Mapping[int, list[tuple[int, str, int, str]]],
) -> BatchInput:
    """Everything a full replay of ``members`` reads."""
    ids = sorted(members)
    member_ids = np.array(ids, dtype=_I)
    infos = [members[pk] for pk in ids]
    index = {pk: i for i, pk in enumerate(ids)}
    invites = [(index[pk], day) for pk, items in credits.items() if pk in index for day, _ in items]
    member_acts = [(index[pk], *act) for pk, items in acts.items() if pk in index for act in items]
    return BatchInput(
        member_ids=member_ids,
        joined=np.array([NEVER if m.joined is None else m.joined for m in infos], dtype=_I),
        gone=np.array([NEVER if m.gone is None else m.gone for m in infos], dtype=_I),
        gone_code=[m.gone_code for m in infos],
        **read_week_arrays(community, rules, as_of, member_ids),
        **read_tie_arrays(community, rules, last_week, member_ids),
        invite_member=np.array([i for i, _ in invites], dtype=_I),
        invite_day=np.array([day for _, day in invites], dtype=_I),
        act_member=np.array([a[0] for a in member_acts], dtype=_I),
        act_day=np.array([a[1] for a in member_acts], dtype=_I),
        act_count=np.array([a[3] for a in member_acts], dtype=_I),
        act_code=[a[2] for a in member_acts],
        act_kind=[a[4] for a in member_acts],
    )
