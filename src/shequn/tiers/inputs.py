"""What the tier engine reads, in few set-based queries, on SQLite and PostgreSQL.

* the weekly rollups (kept with the daily ones by every writer), the as-of week grouped from
  its daily rows, in one query (``week_rows_sql``);
* reply ties and invitations: folded once from the events into small tables of this app
  (``ReplyTie``, ``Invitation``), reading only events newer than the last run (a primary-key
  range), so no run rescans the events table;
* members (role, bot, joined/left/muted): ``shequn.tiers.arrays.fetch_members``.

Days leave the database as ``date.toordinal()`` numbers and weeks as ``(ordinal - 1) // 7``
(weeks start on Monday), computed by the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection
from django.db.models import Max

from shequn.communities.models import Community
from shequn.interactions.models import (
    EventKind,
    InteractionEvent,
    MemberDailyRollup,
    MemberWeeklyRollup,
)
from shequn.interactions.rollups import ordinal_sql
from shequn.members.models import Identity, Member, Role
from shequn.tiers.engine import WeekRow, commitment_units
from shequn.tiers.models import AwaitingReply, Invitation, ReplyTie
from shequn.tiers.policy import Rules
from shequn.tiers.signals import advocacy_signals

STAFF_ROLES = (Role.FOUNDER.value, Role.OPERATOR.value)
# A day on which the member did anything at all (the seed's "signal").
SIGNAL_ROW = (
    "(messages > 0 OR attended > 0 OR mentions_given > 0 OR reactions_given > 0 OR joins > 0)"
)
INVITER_KEYS = ("invited_by", "inviter")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def day_param(day: dt.date) -> Any:
    return day if _postgres() else day.isoformat()


def ordinal_params() -> Any:
    """A function from a day number to a query parameter, caching the conversions (a run
    writes many rows on few distinct days)."""
    cache: dict[int, Any] = {}
    as_date = _postgres()

    def param(day: int | None) -> Any:
        if day is None:
            return None
        value = cache.get(day)
        if value is None:
            date = dt.date.fromordinal(day)
            value = cache[day] = date if as_date else date.isoformat()
        return value

    return param


def among(column: str, ids: Iterable[int]) -> tuple[str, list[Any]]:
    """``column`` is one of ``ids``, as one parameter however many there are."""
    values = sorted(set(ids))
    if _postgres():
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]


def community_term(column: str = "community_id") -> str:
    """The community test. On SQLite a unary + keeps the planner on the primary key or member
    index instead of walking the community's whole (community, time) index."""
    return f"{column} = %s" if _postgres() else f"+{column} = %s"


def max_event_id() -> int:
    """The newest event id of any community: every event of this community that is not yet
    stored will get a larger one."""
    return InteractionEvent.objects.aggregate(m=Max("id"))["m"] or 0


# --- folding events into ties and invitations ------------------------------------------------


def _fold_ties(where: str, params: list[Any]) -> None:
    """Add the replies and mentions among the events matching ``where`` to the ties."""
    events = InteractionEvent._meta.db_table
    ties = ReplyTie._meta.db_table
    reply, mention = EventKind.REPLY.value, EventKind.MENTION.value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ties}"
            " (community_id, identity_id, target_identity_id, week, replies, mentions)"
            " SELECT community_id, identity_id, target_identity_id, week,"
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) FROM ("
            " SELECT community_id, identity_id, target_identity_id, kind,"
            f" ({ordinal_sql('day')} - 1) / 7 AS week FROM {events} WHERE {where}"
            " AND kind IN (%s, %s) AND identity_id IS NOT NULL"
            " AND target_identity_id IS NOT NULL AND identity_id <> target_identity_id"
            ") AS r WHERE true GROUP BY community_id, identity_id, target_identity_id, week"
            " ON CONFLICT (identity_id, target_identity_id, week)"
            f" DO UPDATE SET replies = {ties}.replies + excluded.replies,"
            f" mentions = {ties}.mentions + excluded.mentions",
            [reply, mention, *params, reply, mention],
        )


def fold_events(community: Community, after_id: int, upto_id: int) -> dict[int, int]:
    """Add the replies, mentions and invitations among the community's events
    ``after_id < id <= upto_id``, and the earlier replies whose target this range brought.

    Returns the authors of those earlier replies with the earliest day among them: their
    "helped" counts changed although they have no new events.
    """
    events = InteractionEvent._meta.db_table
    awaiting = AwaitingReply._meta.db_table
    late: dict[int, int] = {}
    with connection.cursor() as cursor:
        found = (
            f"SELECT e.id FROM {awaiting} AS a JOIN {events} AS e ON e.id = a.event_id"
            " WHERE a.community_id = %s AND e.target_identity_id IS NOT NULL"
        )
        cursor.execute(
            f"SELECT member_id, MIN({ordinal_sql('day')}) FROM {events}"
            f" WHERE id IN ({found}) AND member_id IS NOT NULL GROUP BY member_id",
            [community.pk],
        )
        late = dict(cursor.fetchall())
        if late:
            _fold_ties(f"id IN ({found})", [community.pk])
            cursor.execute(f"DELETE FROM {awaiting} WHERE event_id IN ({found})", [community.pk])
    if upto_id <= after_id:
        return late
    in_range = f"id > %s AND id <= %s AND {community_term()}"
    _fold_ties(in_range, [after_id, upto_id, community.pk])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {awaiting} (event_id, community_id) SELECT id, community_id"
            f" FROM {events} WHERE {in_range} AND kind = %s AND identity_id IS NOT NULL"
            " AND target_identity_id IS NULL AND parent_source_id IS NOT NULL",
            [after_id, upto_id, community.pk, EventKind.REPLY.value],
        )
        cursor.execute(
            f"SELECT id, channel_id, identity_id, day, attributes FROM {events}"
            f" WHERE {in_range} AND kind = %s"
            " AND identity_id IS NOT NULL AND attributes IS NOT NULL",
            [after_id, upto_id, community.pk, EventKind.JOIN.value],
        )
        joins = cursor.fetchall()
    _add_invitations(community, joins)
    return late


def _add_invitations(community: Community, joins: Sequence[tuple[Any, ...]]) -> None:
    """Invitations from join events whose attributes name who brought the member in, matched to
    an account on the same channel by platform id, else by handle."""
    wanted: list[tuple[int, int, int, Any, str]] = []
    for event_id, channel_id, identity_id, day, attributes in joins:
        if isinstance(attributes, str | bytes):
            attributes = orjson.loads(attributes)
        if not isinstance(attributes, dict):
            continue
        inviter = next(
            (attributes[key] for key in INVITER_KEYS if isinstance(attributes.get(key), str)), ""
        )
        if inviter:
            wanted.append((event_id, channel_id, identity_id, day, inviter))
    if not wanted:
        return
    channels = {row[1] for row in wanted}
    names = {row[4] for row in wanted}
    by_id: dict[tuple[int, str], int] = {}
    by_handle: dict[tuple[int, str], int | None] = {}
    accounts = Identity.objects.filter(channel_id__in=channels).filter(
        platform_user_id__in=names
    ) | Identity.objects.filter(channel_id__in=channels, handle__in=names)
    for pk, channel_id, platform_id, handle in accounts.values_list(
        "pk", "channel_id", "platform_user_id", "handle"
    ):
        if platform_id in names:
            by_id[(channel_id, platform_id)] = pk
        if handle in names:
            key = (channel_id, handle)
            by_handle[key] = None if key in by_handle and by_handle[key] != pk else pk
    rows = []
    for event_id, channel_id, identity_id, day, inviter in wanted:
        inviter_id = by_id.get((channel_id, inviter)) or by_handle.get((channel_id, inviter))
        if inviter_id and inviter_id != identity_id:
            joined = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
            rows.append(
                Invitation(
                    community=community,
                    event_id=event_id,
                    invitee_identity_id=identity_id,
                    inviter_identity_id=inviter_id,
                    joined_on=joined,
                )
            )
    Invitation.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


def rebuild_folds(community: Community, upto_id: int) -> None:
    """Throw away and refold the community's ties and invitations (after a time-zone change,
    or when asked): one scan of its reply and join events."""
    ReplyTie.objects.filter(community=community).delete()
    Invitation.objects.filter(community=community).delete()
    AwaitingReply.objects.filter(community=community).delete()
    fold_events(community, 0, upto_id)


def new_event_members(community: Community, after_id: int, upto_id: int) -> dict[int, int]:
    """Members who acted in events ``after_id < id <= upto_id``, with the earliest local day."""
    if upto_id <= after_id:
        return {}
    events = InteractionEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, MIN({ordinal_sql('day')}) FROM {events}"
            f" WHERE id > %s AND id <= %s AND {community_term()} AND member_id IS NOT NULL"
            " GROUP BY member_id",
            [after_id, upto_id, community.pk],
        )
        return dict(cursor.fetchall())


# --- reading ---------------------------------------------------------------------------------


def week_rows_sql(
    community: Community,
    as_of: dt.date,
    member_ids: Iterable[int] | None = None,
    since: dt.date | None = None,
    *,
    ordered: bool = True,
    id_range: tuple[int, int] | None = None,
) -> tuple[str, list[Any]]:
    """The query behind ``read_weeks``: per member and week with a signal, ordered by both,
    (member, week, messages, replies, active days, last signal day, other signals, attended).

    Whole weeks come from the weekly rollups (kept with the daily ones), so a recompute does not
    regroup every daily row; only the as-of week, which may end before its Sunday, is grouped
    from its daily rows up to ``as_of``. ``since`` must be a Monday: it starts a whole week.
    ``id_range`` (lowest, highest member id) reads a part of the members at a time."""
    if since is not None and since.weekday() != 0:
        raise ValueError(f"since must be a Monday, not {since}")
    weekly = MemberWeeklyRollup._meta.db_table
    rollups = MemberDailyRollup._meta.db_table
    term, members = _members_of(community, member_ids)
    if id_range is not None:
        term = f"{term} AND member_id >= %s AND member_id <= %s"
        members = [*members, *id_range]
    as_of_week = (as_of.toordinal() - 1) // 7
    first_day = dt.date.fromordinal(as_of_week * 7 + 1)  # the as-of week's Monday
    whole = [term, "week < %s", "last_signal_day IS NOT NULL"]
    params = [*members, as_of_week]
    if since is not None:
        whole.append("week >= %s")
        params.append((since.toordinal() - 1) // 7)
        first_day = max(first_day, since)
    params += [*members, day_param(first_day), day_param(as_of)]
    sql = (
        "SELECT member_id, week, messages, replies_given, contribution_days, last_signal_day,"
        f" mentions_given + reactions_given + joins, attended FROM {weekly}"
        f" WHERE {' AND '.join(whole)}"
        " UNION ALL"
        " SELECT member_id, (o - 1) / 7 AS week, SUM(messages), SUM(replies_given),"
        " SUM(CASE WHEN messages > 0 OR attended > 0 THEN 1 ELSE 0 END), MAX(o),"
        " SUM(mentions_given + reactions_given + joins), SUM(attended)"
        f" FROM (SELECT member_id, {ordinal_sql('day')} AS o, messages, replies_given,"
        f" mentions_given, reactions_given, joins, attended FROM {rollups}"
        f" WHERE {term} AND day >= %s AND day <= %s AND {SIGNAL_ROW}) AS r"
        " GROUP BY member_id, week"
    )
    if ordered:  # (a full replay sorts by itself: a sort of every row saved)
        sql += " ORDER BY member_id, week"
    return sql, params


def read_weeks(
    community: Community,
    rules: Rules,
    as_of: dt.date,
    member_ids: Iterable[int] | None = None,
    since: dt.date | None = None,
) -> dict[int, list[WeekRow]]:
    """Per member, their weeks with any signal up to ``as_of`` (from ``since``, a Monday), in
    one query (``week_rows_sql``): (week, contributions, commitment, active days, last signal
    day, other signals).

    Contributions are messages (replies among them) and activities attended (DESIGN.md), each
    weighted by its kind's commitment weight; mentions, reactions and joins are signals only."""
    sql, params = week_rows_sql(community, as_of, member_ids, since)
    w_message = commitment_units(rules.weights.get("message", 1))
    w_reply = commitment_units(rules.weights.get("reply", 2))
    w_attend = commitment_units(rules.weights.get("attend", 5))
    out: dict[int, list[WeekRow]] = {}
    current = -1
    rows: list[WeekRow] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for member_id, week, messages, replies, days, last, others, attended in cursor.fetchall():
            if member_id != current:
                current = member_id
                rows = out[member_id] = []
            rows.append(
                (
                    week,
                    messages + attended,
                    w_message * (messages - replies) + w_reply * replies + w_attend * attended,
                    days,
                    last,
                    others,
                )
            )
    return out


def last_signals_before(member_ids: list[int], before: dt.date) -> dict[int, int]:
    """Each member's last day with a signal before ``before``, a Monday (those who have one).

    One index seek per member: their latest week before it with a signal, walking the weekly
    rollups' (member, week) index backwards, not every day of their history."""
    if not member_ids:
        return {}
    if before.weekday() != 0:
        raise ValueError(f"before must be a Monday, not {before}")
    weekly = MemberWeeklyRollup._meta.db_table
    term, params = among("m.id", member_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.id, (SELECT w.last_signal_day FROM {weekly} AS w WHERE w.member_id = m.id"
            " AND w.week < %s AND w.last_signal_day IS NOT NULL ORDER BY w.week DESC LIMIT 1)"
            f" FROM {Member._meta.db_table} AS m WHERE {term}",
            [(before.toordinal() - 1) // 7, *params],
        )
        return {member_id: day for member_id, day in cursor.fetchall() if day is not None}


def _members_of(community: Community, member_ids: Iterable[int] | None) -> tuple[str, list[Any]]:
    """``member_id`` belongs to the community (or is one of ``member_ids``). On SQLite as a
    semi-join on the member table, so the (member, …) indexes are walked member by member; on
    PostgreSQL by the rows' own community, which spares a hash join of every row with the
    members (a sixth of reading a whole community's weeks)."""
    if member_ids is not None:
        return among("member_id", member_ids)
    if _postgres():
        return "community_id = %s", [community.pk]
    return (
        f"member_id IN (SELECT id FROM {Member._meta.db_table} WHERE community_id = %s)",
        [community.pk],
    )


def read_ties(
    community: Community,
    skip_targets: set[int],
    until_week: int,
    member_ids: Iterable[int] | None = None,
    since_week: int | None = None,
    mentions: bool = True,
) -> dict[int, list[tuple[int, list[tuple[int, int, int]]]]]:
    """Per member, per week, the other members they replied to (and, with ``mentions``,
    mentioned) and how often: (target, replies, mentions). A member with several accounts may
    name one target twice in a week; the engine counts it once."""
    ties = ReplyTie._meta.db_table
    accounts = Identity._meta.db_table
    where = ["t.week <= %s", "a.member_id <> b.member_id"]
    params: list[Any] = [until_week]
    if since_week is not None:
        where.append("t.week >= %s")
        params.append(since_week)
    if member_ids is None:
        where.append(community_term("t.community_id"))
        params.append(community.pk)
    else:
        term, values = among("member_id", member_ids)
        where.append(f"t.identity_id IN (SELECT id FROM {accounts} WHERE {term})")
        params.extend(values)
    if not mentions:
        where.append("t.replies > 0")
    out: dict[int, list[tuple[int, list[tuple[int, int, int]]]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.member_id, t.week, b.member_id, t.replies, t.mentions FROM {ties} AS t"
            f" JOIN {accounts} AS a ON a.id = t.identity_id"
            f" JOIN {accounts} AS b ON b.id = t.target_identity_id"
            f" WHERE {' AND '.join(where)} ORDER BY a.member_id, t.week",
            params,
        )
        current = current_week = None
        weeks: list[tuple[int, list[tuple[int, int, int]]]] = []
        pairs: list[tuple[int, int, int]] = []
        for member, week, target, replies, mentioned in cursor.fetchall():
            if target in skip_targets:
                continue
            if member != current:
                current, current_week = member, None
                weeks = out[member] = []
            if week != current_week:
                current_week = week
                pairs = []
                weeks.append((week, pairs))
            pairs.append((target, replies, mentioned if mentions else 0))
    return out


def read_invitations(
    community: Community,
    gone: dict[int, int | None],
    skip: set[int],
    min_days: int,
) -> tuple[dict[int, list[tuple[int, int]]], dict[int, list[tuple[int, int]]]]:
    """Per inviter, (day the invitee qualified, invitee) for every invitee who stayed
    ``min_days``; and per invitee, (inviter, day they would qualify), to find the inviters a
    change to an invitee affects."""
    credits: dict[int, list[tuple[int, int]]] = {}
    inviters_of: dict[int, list[tuple[int, int]]] = {}
    rows = Invitation.objects.filter(community=community).values_list(
        "inviter_identity__member_id", "invitee_identity__member_id", "joined_on"
    )
    for inviter, invitee, joined_on in rows:
        if inviter == invitee or invitee in skip or inviter in skip:
            continue
        qualified = joined_on.toordinal() + min_days
        inviters_of.setdefault(invitee, []).append((inviter, qualified))
        left = gone.get(invitee)
        if left is None or left >= qualified:
            credits.setdefault(inviter, []).append((qualified, invitee))
    for items in credits.values():
        items.sort()
    return credits, inviters_of


def read_acts(
    community: Community, as_of: dt.date, member_ids: set[int] | None
) -> dict[int, list[tuple[int, str, int, str]]]:
    """Acts reported by the registered advocacy signal providers: (day, code, count, weight
    kind), per member."""
    out: dict[int, list[tuple[int, str, int, str]]] = {}
    for signal in advocacy_signals():
        for member_id, day, count in signal.acts(community, member_ids, as_of):
            if day <= as_of and count > 0:
                out.setdefault(member_id, []).append(
                    (day.toordinal(), signal.code, count, signal.weight_kind)
                )
    for items in out.values():
        items.sort()
    return out
