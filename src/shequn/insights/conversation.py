"""Conversations: which thread each message belongs to, which threads nobody answered, and how
much of what was said is noise (DESIGN.md "Group dynamics", dissipative force).

**Thread roots.** Slack, Stack Exchange and Discord thread channels name a reply's thread, but
ChatLab, Telegram and Discord replies name only the message they answer (``parent_source_id``),
so a reply to a reply points at another reply. ``thread_roots_cte`` follows each chain, in the
same channel, with one recursive CTE (one set-based query on SQLite and PostgreSQL; each step is
a lookup on the unique index ``(channel, source_id)``) until it reaches

* a message that names its thread (``thread_source_id``): that thread;
* a message without a parent: that message;
* a parent that is not in the database (an earlier export, a deleted message): the missing
  parent's id, so that the replies to it still share a thread;

and gives up after ``MAX_DEPTH`` steps (real chains are a few replies deep; the bound also ends
malformed cycles), keying such an event by the last parent reached. Channels without any reply
(WeChat and WhatsApp exports) have no chains to follow: there a conversation is a burst of
messages each within ``BURST_SECONDS`` of the one before.

**Unanswered** (``unanswered``): the period's thread openers — messages by members who are
neither bots nor founders/operators that reply to nothing and are not posted inside another
thread (a Telegram forum topic or a Discord thread channel continues its thread, it opens
none) — in channels that carry reply data (at least one reply event ever: elsewhere nobody can
tell an answer from the next remark, so those channels are left out, and with none left the
measure has no data). Questions are counted when the period has any: a Stack Exchange question
(content type ``question``), or on platforms without that type an opener whose stored text holds
``?`` or ``？`` (openers whose text was not stored are openers, never questions); otherwise all
openers. An opener is answered when another member (not a bot; staff answers count) posts in
its thread within ``ANSWER_HOURS``; its author's own follow-ups answer nothing. Openers younger
than ``ANSWER_HOURS`` at the community's latest imported event are ``pending`` — the data cannot
tell yet — and left out rather than called unanswered.

**Noise** (``noise``): the period's messages and replies by the same members, a message counted
once however many of these it is:

* empty: no text and nothing else either — a content type in ``EMPTY_TYPES`` (plain text,
  sticker, GIF, poke) with ``text_length`` 0; shares, questions and voice messages, locations,
  red packets … carry something and are never empty;
* flood: a member's messages beyond the ``FLOOD_MESSAGES``-th within ``FLOOD_SECONDS`` in one
  channel (the message whose ``FLOOD_MESSAGES``-th predecessor by the same member is less than
  ``FLOOD_SECONDS`` older);
* repeat: a stored text the same member already posted in the period (in any channel), when it
  has ``REPEAT_MIN_CHARS`` characters or more — "thanks" and "+1" are legitimately repeated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Max

from shequn.communities.models import Community
from shequn.insights.network import ADJACENCY_SECONDS, channels_with_replies
from shequn.insights.periods import STAFF, db_bounds, local_bounds
from shequn.insights.sql import db_moment, seconds_before, seconds_between
from shequn.interactions.models import MESSAGE_KINDS, EventKind, InteractionEvent
from shequn.members.models import Member
from shequn.tiers.inputs import among

# Thread roots: how many parent steps a chain is followed before it is keyed where it stands.
MAX_DEPTH = 50
# Conversations in channels without replies: a gap longer than this starts a new one.
BURST_SECONDS = ADJACENCY_SECONDS
# Unanswered: an answer within this many hours counts.
ANSWER_HOURS = 48
QUESTION_TYPE = "question"
QUESTION_MARKS = ("?", "？")
# Noise: content types that say nothing when they carry no text.
EMPTY_TYPES = ("", "text", "sticker", "animation", "emoji", "poke")
FLOOD_MESSAGES = 5
FLOOD_SECONDS = 60
REPEAT_MIN_CHARS = 10


@dataclass(frozen=True)
class Measure:
    """A share (None when it cannot be measured) and the counts behind it."""

    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)


def _own_thread(alias: str) -> str:
    """SQL for the thread an event opens or names itself, NULL when it only names a parent."""
    return (
        f"COALESCE({alias}.thread_source_id,"
        f" CASE WHEN {alias}.parent_source_id IS NULL THEN {alias}.source_id END)"
    )


def follows_sql(alias: str) -> str:
    """SQL: the event is posted in another message's thread (it replies, or names a thread
    that is not its own). Its first term is the condition of the partial index
    ``event_in_thread_time``, written the same way so that SQLite and PostgreSQL can prove the
    index applies and read only such events."""
    return (
        f"({alias}.parent_source_id IS NOT NULL OR {alias}.thread_source_id IS NOT NULL)"
        f" AND ({alias}.parent_source_id IS NOT NULL"
        f" OR {alias}.thread_source_id <> {alias}.source_id)"
    )


def opens_sql(alias: str) -> str:
    """SQL: the event opens a thread (it replies to nothing and names no other thread)."""
    return (
        f"{alias}.parent_source_id IS NULL"
        f" AND ({alias}.thread_source_id IS NULL OR {alias}.thread_source_id = {alias}.source_id)"
    )


def thread_roots_cte(
    where: str,
    params: Sequence[Any],
    *,
    silent: Collection[int] = (),
    carry: str = "0",
    carry_params: Sequence[Any] = (),
    follows_only: bool = False,
) -> tuple[str, list[Any]]:
    """CTE definitions (to follow ``WITH RECURSIVE``) that end in ``thread_roots(event_id,
    channel_id, member_id, occurred_at, thread)``: one row per event matched by ``where`` (SQL
    over the events table as ``e``), ``thread`` its resolved thread key, unique per channel.

    A thread key is the source id of the thread's root, or the thread the platform named. In
    the ``silent`` channels (no reply data at all: WeChat, WhatsApp) a conversation is a burst
    of messages, each within ``BURST_SECONDS`` of the one before (the window that also turns
    quick answers into ties); its key is ``burst:<n>``. ``carry`` is an SQL expression over
    ``e`` kept for each event as ``thread_roots.carried`` (so a caller counts something about
    the events in the same pass). With ``follows_only`` the chains start only from the events
    posted in another message's thread (``follows_sql``; a caller that looks the roots up
    itself), while the bursts still take every event of the silent channels.
    """
    events = InteractionEvent._meta.db_table
    chain_where, chain_params = where, list(params)
    if follows_only:
        chain_where = f"({where}) AND {follows_sql('e')}"
    bursts_sql, bursts_params = "", []
    if silent:
        marks = ", ".join(["%s"] * len(silent))
        chain_where = f"({chain_where}) AND e.channel_id NOT IN ({marks})"
        chain_params = [*params, *silent]
        gap = seconds_between("occurred_at", "previous_at")
        bursts_sql = (
            " conversation_bursts(event_id, channel_id, member_id, occurred_at, thread, carried)"
            " AS (SELECT id, channel_id, member_id, occurred_at, 'burst:' || CAST(SUM(opens)"
            " OVER (PARTITION BY channel_id ORDER BY occurred_at, id) AS TEXT), carried FROM ("
            " SELECT id, channel_id, member_id, occurred_at, carried, CASE WHEN previous_at IS"
            f" NULL OR {gap} > {BURST_SECONDS} THEN 1 ELSE 0 END AS opens FROM ("
            " SELECT e.id, e.channel_id, e.member_id, e.occurred_at, LAG(e.occurred_at) OVER"
            f" (PARTITION BY e.channel_id ORDER BY e.occurred_at, e.id) AS previous_at,"
            f" {carry} AS carried"
            f" FROM {events} AS e WHERE ({where}) AND e.channel_id IN ({marks})"
            ") AS turns) AS marked),"
        )
        bursts_params = [*carry_params, *params, *silent]
    sql = (
        "conversation_chain(event_id, channel_id, member_id, occurred_at, parent, thread, depth,"
        " carried) AS (SELECT e.id, e.channel_id, e.member_id, e.occurred_at,"
        f" CAST(e.parent_source_id AS TEXT), CAST({_own_thread('e')} AS TEXT), 0, {carry}"
        f" FROM {events} AS e WHERE {chain_where}"
        " UNION ALL"
        " SELECT c.event_id, c.channel_id, c.member_id, c.occurred_at,"
        " CAST(p.parent_source_id AS TEXT),"
        f" CAST(CASE WHEN p.id IS NULL THEN c.parent ELSE {_own_thread('p')} END AS TEXT),"
        " c.depth + 1, c.carried"
        f" FROM conversation_chain AS c LEFT JOIN {events} AS p"
        " ON p.channel_id = c.channel_id AND p.source_id = c.parent"
        f" WHERE c.thread IS NULL AND c.depth < {MAX_DEPTH}),"
        f"{bursts_sql}"
        " thread_roots(event_id, channel_id, member_id, occurred_at, thread, carried) AS ("
        " SELECT event_id, channel_id, member_id, occurred_at, COALESCE(thread, parent), carried"
        f" FROM conversation_chain WHERE thread IS NOT NULL OR depth = {MAX_DEPTH}"
        + (
            " UNION ALL SELECT event_id, channel_id, member_id, occurred_at, thread, carried"
            " FROM conversation_bursts)"
            if silent
            else ")"
        )
    )
    return sql, [*carry_params, *chain_params, *bursts_params]


def unanswered(
    community: Community,
    start: dt.date,
    end: dt.date,
    *,
    hours: int = ANSWER_HOURS,
    replying: set[int] | None = None,
) -> Measure:
    """Share of the period's questions (or, without any, thread openers) that nobody else
    answered within ``hours``; None where no channel carries reply data or nothing opened."""
    detail: dict[str, Any] = {"counted": None, "openers": 0, "unanswered": 0, "pending": 0}
    channels = sorted(channels_with_replies(community) if replying is None else replying)
    detail["channels"] = len(channels)
    latest = InteractionEvent.objects.filter(community=community).aggregate(at=Max("occurred_at"))
    if not channels or latest["at"] is None:
        return Measure(None, detail)
    window = dt.timedelta(hours=hours)
    since, until = local_bounds(community, start, end)
    events, members = InteractionEvent._meta.db_table, Member._meta.db_table
    in_channels, channel_params = among("e.channel_id", channels)
    answers_where = (
        f"e.community_id = %s AND {in_channels} AND e.kind IN (%s, %s)"
        " AND e.occurred_at >= %s AND e.occurred_at < %s"
        # only what sits in another message's thread can answer it
        f" AND {follows_sql('e')}"
        f" AND e.member_id IN (SELECT id FROM {members} WHERE community_id = %s AND NOT is_bot)"
    )
    answers_params = [
        community.pk,
        *channel_params,
        *MESSAGE_KINDS,
        db_moment(since),
        db_moment(until + window),
        community.pk,
    ]
    roots_sql, roots_params = thread_roots_cte(answers_where, answers_params)
    gap = seconds_between("t.occurred_at", "o.occurred_at")
    # The threads answered in time, as the ids of the messages that opened them (each answer
    # looks its thread's first message up by id), built once; then one pass over the period's
    # openers counts them by channel and kind, probing that set. Whether a channel has
    # questions of the platform's own type is decided from those counts.
    sql = (
        f"WITH RECURSIVE {roots_sql},"
        " answered AS MATERIALIZED (SELECT DISTINCT o.id"
        f" FROM thread_roots AS t CROSS JOIN {events} AS o"
        " WHERE o.channel_id = t.channel_id AND o.source_id = t.thread"
        f" AND t.member_id <> o.member_id AND {gap} >= 0 AND {gap} <= %s)"
        " SELECT channel_id, typed, marked, pending, answered, COUNT(*) FROM ("
        " SELECT e.channel_id, CASE WHEN e.content_type = %s THEN 1 ELSE 0 END AS typed,"
        " CASE WHEN e.text LIKE %s OR e.text LIKE %s THEN 1 ELSE 0 END AS marked,"
        " CASE WHEN e.occurred_at > %s THEN 1 ELSE 0 END AS pending,"
        " CASE WHEN e.id IN (SELECT id FROM answered) THEN 1 ELSE 0 END AS answered"
        f" FROM {events} AS e JOIN {members} AS m ON m.id = e.member_id"
        f" WHERE e.community_id = %s AND {in_channels} AND e.kind = %s AND {opens_sql('e')}"
        " AND e.occurred_at >= %s AND e.occurred_at < %s"
        " AND NOT m.is_bot AND m.role NOT IN (%s, %s)"
        ") AS flagged GROUP BY channel_id, typed, marked, pending, answered"
    )
    params = [
        *roots_params,
        window.total_seconds(),
        QUESTION_TYPE,
        *(f"%{mark}%" for mark in QUESTION_MARKS),
        db_moment(latest["at"] - window),
        community.pk,
        *channel_params,
        EventKind.MESSAGE.value,
        db_moment(since),
        db_moment(until),
        *STAFF,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        grouped = cursor.fetchall()
    typed_channels = {channel for channel, typed, *_rest in grouped if typed}
    rows = [
        (typed or (channel not in typed_channels and marked), pending, answered, count)
        for channel, typed, marked, pending, answered, count in grouped
    ]
    # (question, pending, answered) -> openers
    counts: dict[tuple[int, int, int], int] = {}
    for question, pending, answered, count in rows:
        key = (int(question), int(pending), int(answered))
        counts[key] = counts.get(key, 0) + int(count)
    questions = any(question for question, _pending, _answered in counts)
    counted = [(key, n) for key, n in counts.items() if key[0] or not questions]
    if counted:
        detail["counted"] = "questions" if questions else "threads"
    for (_question, pending, answered), n in counted:
        if pending:
            detail["pending"] += n
        else:
            detail["openers"] += n
            detail["unanswered"] += 0 if answered else n
    if not detail["openers"]:
        return Measure(None, detail)
    return Measure(detail["unanswered"] / detail["openers"], detail)


def noise(community: Community, start: dt.date, end: dt.date) -> Measure:
    """Share of the period's messages and replies that are empty, flood or repeats (each
    counted once); None when nobody said anything."""
    events, members = InteractionEvent._meta.db_table, Member._meta.db_table
    kinds = ", ".join(["%s"] * len(MESSAGE_KINDS))
    empty_types = ", ".join(["%s"] * len(EMPTY_TYPES))

    def in_period(alias: str) -> str:
        return (
            f"{alias}.community_id = %s AND {alias}.kind IN ({kinds})"
            f" AND {alias}.occurred_at >= %s AND {alias}.occurred_at < %s"
        )

    period_params = [community.pk, *MESSAGE_KINDS, *db_bounds(community, start, end)]
    # Floods in two steps. Each message's FLOOD_MESSAGES-th predecessor by the same member in
    # any channel comes from a window over the member's messages in time order — the order in
    # which the (member, time) index is walked, so nothing is sorted. Only where that one is
    # recent enough (compared as stored times, a second of slack: a message in one channel has
    # at least as many predecessors in all) are the member's messages in the same channel
    # counted, in the index, over the seconds before, with the exact gap.
    recent = (
        f"SELECT COUNT(*) FROM {events} AS p WHERE p.member_id = c.member_id"
        f" AND p.occurred_at >= {seconds_before('c.occurred_at', FLOOD_SECONDS + 1)}"
        " AND p.occurred_at <= c.occurred_at"
        " AND (p.occurred_at < c.occurred_at OR p.id < c.id)"
        f" AND p.channel_id = c.channel_id AND {in_period('p')}"
        f" AND {seconds_between('c.occurred_at', 'p.occurred_at')} < %s"
    )
    # On SQLite the members who count are a set through which the (member, time) index is
    # walked member by member, in order, so the window over each member's messages needs no
    # sort. PostgreSQL would then read the whole period along that index, one table lookup per
    # event; it scans the period once, joins the members by hash and sorts — so there the
    # window is the exact one (per channel) and the count below only confirms it.
    if connection.vendor == "postgresql":
        speakers = (
            f"JOIN {members} AS m ON m.id = e.member_id WHERE NOT m.is_bot"
            " AND m.role NOT IN (%s, %s) AND m.community_id = %s AND"
        )
        partition = "e.channel_id, e.member_id"
    else:
        speakers = (
            f"WHERE e.member_id IN (SELECT id FROM {members} WHERE NOT is_bot"
            " AND role NOT IN (%s, %s) AND community_id = %s) AND"
        )
        partition = "e.member_id"
    # Repeats are ranked apart, over the rows with a long enough text only (ranking every
    # message by (member, text) would sort the whole period for the few that can repeat), and
    # looked up as a set (``IN``: built once, probed per row).
    sql = (
        "SELECT COUNT(*), SUM(empty), SUM(flood), SUM(repeated),"
        " SUM(CASE WHEN empty + flood + repeated > 0 THEN 1 ELSE 0 END) FROM ("
        " SELECT empty, repeated, CASE WHEN previous_any IS NOT NULL"
        f" AND previous_any >= {seconds_before('c.occurred_at', FLOOD_SECONDS + 1)}"
        f" AND ({recent}) >= %s THEN 1 ELSE 0 END AS flood"
        " FROM ("
        " SELECT e.id, e.member_id, e.channel_id, e.occurred_at, CASE WHEN e.text_length = 0"
        f" AND e.content_type IN ({empty_types}) THEN 1 ELSE 0 END AS empty,"
        " CASE WHEN e.text IS NOT NULL AND LENGTH(e.text) >= %s AND e.id IN ("
        " SELECT id FROM (SELECT t.id, ROW_NUMBER() OVER ("
        " PARTITION BY t.member_id, t.text ORDER BY t.occurred_at, t.id) AS copy"
        f" FROM {events} AS t WHERE {in_period('t')}"
        " AND t.text IS NOT NULL AND LENGTH(t.text) >= %s) AS texts WHERE copy > 1)"
        " THEN 1 ELSE 0 END AS repeated,"
        f" LAG(e.occurred_at, {FLOOD_MESSAGES}) OVER (PARTITION BY {partition}"
        " ORDER BY e.occurred_at, e.id) AS previous_any"
        f" FROM {events} AS e {speakers} {in_period('e')}) AS c) AS messages"
    )
    params = [
        *period_params,
        FLOOD_SECONDS,
        FLOOD_MESSAGES,
        *EMPTY_TYPES,
        REPEAT_MIN_CHARS,
        *period_params,
        REPEAT_MIN_CHARS,
        *STAFF,
        community.pk,
        *period_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, empty, flood, repeated, noisy = (int(n or 0) for n in cursor.fetchone())
    detail = {
        "messages": total,
        "noise": noisy,
        "empty": empty,
        "flood": flood,
        "repeats": repeated,
    }
    return Measure(noisy / total if total else None, detail)
