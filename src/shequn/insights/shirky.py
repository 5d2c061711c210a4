"""Shirky's ladder (DESIGN.md): how much of a community's behaviour is sharing, cooperation and
collective action, and the highest rung it reaches.

* **sharing**: contributions that share something — a link, a file, an image, a video, a
  forwarded or shared post, or a long text (``LONG_TEXT`` characters or more);
* **cooperation**: contributions made in threads where at least ``COOPERATION_PEOPLE`` people
  took ``COOPERATION_TURNS`` turns or more (a thread is a root message and every reply that
  leads back to it: the thread the platform names, or, in exports without thread ids, the root
  reached by following reply-to-reply chains — ``conversation.thread_roots_cte``; in channels
  without any reply, a burst of messages close in time);
* **collective action**: activities in the period attended by at least ``COLLECTIVE_SHARE`` of the
  active members (and ``COLLECTIVE_MIN`` people): the share of active members who took part.

A rung is reached when its share reaches ``RUNG_THRESHOLD`` (collective action: any qualifying
activity); the stage is the highest rung reached. Bots and founders/operators are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from shequn.communities.models import Community
from shequn.insights.conversation import opens_sql, thread_roots_cte
from shequn.insights.network import silent_channels
from shequn.insights.periods import STAFF, active_members, db_bounds, local_bounds
from shequn.interactions.models import MESSAGE_KINDS, InteractionEvent
from shequn.members.models import Member

SHARING_TYPES = ("link", "file", "image", "video", "share", "forward")
LONG_TEXT = 280
COOPERATION_PEOPLE = 3
COOPERATION_TURNS = 3
COLLECTIVE_SHARE = 0.10
COLLECTIVE_MIN = 3
RUNG_THRESHOLD = 0.10
RUNGS = ("sharing", "cooperation", "collective_action")


@dataclass
class Rung:
    code: str
    share: float | None
    reached: bool
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ladder:
    start: dt.date
    end: dt.date
    contributions: int
    rungs: list[Rung]
    stage: str | None  # the highest rung reached, None when none is
    # members who took part in a cooperative thread (Linton's shared interest reads them)
    participants: set[int] = field(default_factory=set)


def _contribution_counts(
    community: Community, start: dt.date, end: dt.date, silent: list[int]
) -> tuple[int, int, int, int, set[int]]:
    """(contributions, sharing ones, ones in cooperative threads, cooperative threads, the
    members who made those).

    Only threads that something joined can be cooperative, so the chains are followed for
    the events posted in another message's thread (and the bursts of channels without
    replies), and each such thread's root is looked up by its id: the rest of the period's
    contributions are counted, never grouped."""
    events, members = InteractionEvent._meta.db_table, Member._meta.db_table
    kinds = list(MESSAGE_KINDS)
    sharing = ", ".join(["%s"] * len(SHARING_TYPES))

    def scope(alias: str) -> str:
        return (
            f"{alias}.community_id = %s AND {alias}.occurred_at >= %s"
            f" AND {alias}.occurred_at < %s"
            f" AND {alias}.kind IN ({', '.join(['%s'] * len(kinds))})"
            f" AND {alias}.member_id IN (SELECT id FROM {members} WHERE community_id = %s"
            " AND NOT is_bot AND role NOT IN (%s, %s))"
        )

    scope_params = [
        community.pk,
        *db_bounds(community, start, end),
        *kinds,
        community.pk,
        *STAFF,
    ]
    roots, roots_params = thread_roots_cte(
        scope("e"), scope_params, silent=silent, follows_only=True
    )
    spoken = ""
    if silent:
        spoken = f" WHERE channel_id NOT IN ({', '.join(['%s'] * len(silent))})"
    sql = (
        f"WITH RECURSIVE {roots},"
        # every turn in a thread that something joined: the joiners and, when it is one of
        # the period's contributions, the message that opened the thread
        " turns AS (SELECT channel_id, thread, member_id FROM thread_roots"
        " UNION ALL SELECT o.channel_id, o.source_id, o.member_id FROM ("
        f" SELECT DISTINCT channel_id, thread FROM thread_roots{spoken}) AS k"
        f" CROSS JOIN {events} AS o WHERE o.channel_id = k.channel_id"
        f" AND o.source_id = k.thread AND {opens_sql('o')} AND {scope('o')}),"
        " cooperative AS MATERIALIZED (SELECT channel_id, thread FROM turns"
        " GROUP BY channel_id, thread HAVING COUNT(DISTINCT member_id) >= %s AND COUNT(*) >= %s)"
        " SELECT 'all', COUNT(*), COALESCE(SUM(CASE WHEN e.content_type IN"
        f" ({sharing}) OR e.text_length >= %s THEN 1 ELSE 0 END), 0)"
        f" FROM {events} AS e WHERE {scope('e')}"
        " UNION ALL SELECT 'member', t.member_id, COUNT(*) FROM turns AS t"
        " JOIN cooperative AS c ON c.channel_id = t.channel_id AND c.thread = t.thread"
        " GROUP BY t.member_id"
        " UNION ALL SELECT 'threads', COUNT(*), 0 FROM cooperative"
    )
    params = [
        *roots_params,
        *silent,
        *scope_params,
        COOPERATION_PEOPLE,
        COOPERATION_TURNS,
        *SHARING_TYPES,
        LONG_TEXT,
        *scope_params,
    ]
    total = shared = cooperative = threads = 0
    participants: set[int] = set()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for tag, first, second in cursor.fetchall():
            if tag == "all":
                total, shared = int(first), int(second)
            elif tag == "threads":
                threads = int(first)
            else:
                participants.add(first)
                cooperative += int(second)
    return total, shared, cooperative, threads, participants


def _collective(
    community: Community, start: dt.date, end: dt.date, active: set[int]
) -> tuple[int, int]:
    """(qualifying activities, active members who attended one)."""
    from shequn.activities.models import Registration
    from shequn.activities.selectors import HELD

    since, until = local_bounds(community, start, end)
    attendance: dict[int, set[int]] = {}
    for activity_id, member_id in Registration.objects.filter(
        activity__community=community,
        activity__status__in=HELD,
        activity__starts_at__gte=since,
        activity__starts_at__lt=until,
        checked_in_at__isnull=False,
    ).values_list("activity_id", "member_id"):
        attendance.setdefault(activity_id, set()).add(member_id)
    need = max(COLLECTIVE_MIN, COLLECTIVE_SHARE * len(active))
    qualifying = [people & active for people in attendance.values() if len(people & active) >= need]
    return len(qualifying), len(set().union(*qualifying)) if qualifying else 0


def shirky_ladder(
    community: Community,
    end: dt.date,
    *,
    days: int = 30,
    replying: set[int] | None = None,
    active: set[int] | None = None,
) -> Ladder:
    """The ladder over the ``days`` before ``end``; ``replying`` (the channels with replies)
    and ``active`` (the period's active members) when the caller has them already."""
    start = end - dt.timedelta(days=days)
    if active is None:
        active = set(active_members(community, start, end))
    silent = silent_channels(community, replying)
    total, shared, cooperative, threads, participants = _contribution_counts(
        community, start, end, silent
    )
    held, took_part = _collective(community, start, end, active)
    sharing = shared / total if total else None
    cooperation = cooperative / total if total else None
    collective = took_part / len(active) if active else None
    rungs = [
        Rung("sharing", sharing, sharing is not None and sharing >= RUNG_THRESHOLD,
             {"contributions": total, "sharing": shared}),
        Rung("cooperation", cooperation,
             cooperation is not None and cooperation >= RUNG_THRESHOLD,
             {"contributions": cooperative, "threads": threads}),
        Rung("collective_action", collective, held > 0,
             {"activities": held, "members": took_part, "active": len(active)}),
    ]  # fmt: skip
    reached = [rung.code for rung in rungs if rung.reached]
    return Ladder(start, end, total, rungs, reached[-1] if reached else None, participants)
