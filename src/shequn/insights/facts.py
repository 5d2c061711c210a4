"""What a diagnosis looks at, read once per period: the network, the forces, the ladder, and the
few extra figures the seed's rules ask about (who helps others, who operates the community,
whether its culture is written down and its rituals attended, how participation trends).

The checks in ``linton`` and ``audit`` are pure functions of these facts, so each is tested with
hand-made facts and the database is read in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from shequn.communities.models import Community
from shequn.insights.conversation import thread_roots_cte
from shequn.insights.dynamics import Dynamics, group_dynamics
from shequn.insights.network import (
    NetworkSummary,
    Ties,
    analyse,
    channels_with_replies,
    interaction_ties,
    member_graph,
)
from shequn.insights.periods import STAFF, active_members, db_bounds, local_bounds
from shequn.insights.shirky import COOPERATION_PEOPLE, Ladder, shirky_ladder
from shequn.interactions.models import MESSAGE_KINDS, EventKind, InteractionEvent
from shequn.members.models import Member, Role

# Rituals count as the community's culture in practice when attended in this many days.
RITUAL_DAYS = 90
# The participation trend looks at this many months (rule 4: interest alone fades with time).
TREND_MONTHS = 6
TREND_DAYS = 30


@dataclass
class Facts:
    community: Community
    start: dt.date
    end: dt.date  # exclusive
    active: set[int]  # members (not staff, not bots) active in the period
    staff: set[int]  # founders and operators
    operators: int  # operators who are not founders (someone besides the founder runs it)
    founders: int
    ties: Ties  # every member's ties in the period (bots left out), staff included
    network: NetworkSummary
    dynamics: Dynamics
    ladder: Ladder
    helpers: int  # active members who replied to someone else
    has_reply_data: bool  # any channel of the community carries reply events
    thread_people: int  # active members who took part in a thread with 3+ people
    partners: dict[int, int] = field(default_factory=dict)  # active member -> people tied to
    monthly_active: list[int] = field(default_factory=list)  # oldest first, TREND_MONTHS long
    mission: bool = False
    positioning: bool = False
    values: int = 0  # values advocated and opposed, written down
    rituals: int = 0  # rituals defined
    ritual_occurrences: int = 0  # ritual occurrences held in the RITUAL_DAYS before the end
    ritual_attendees: int = 0  # active members who attended one of them
    moderation_events: int = 0  # moderation actions imported in the period
    names: dict[int, str] = field(default_factory=dict)  # member -> display name (network)


def _members(community: Community) -> tuple[dict[int, str], set[int], set[int], int, int]:
    """(names of members who are not bots, staff, bots, founders, operators)."""
    names: dict[int, str] = {}
    staff: set[int] = set()
    bots: set[int] = set()
    founders = operators = 0
    for pk, name, role, is_bot in Member.objects.filter(community=community).values_list(
        "pk", "display_name", "role", "is_bot"
    ):
        if is_bot:
            bots.add(pk)
            continue
        names[pk] = name
        if role in STAFF:
            staff.add(pk)
            founders += role == Role.FOUNDER
            operators += role == Role.OPERATOR
    return names, staff, bots, founders, operators


def _scalar(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def _helpers(community: Community, start: dt.date, end: dt.date, active: set[int]) -> set[int]:
    events = InteractionEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT member_id FROM {events} WHERE community_id = %s AND kind = %s"
            " AND occurred_at >= %s AND occurred_at < %s AND target_member_id IS NOT NULL"
            " AND target_member_id <> member_id",
            [community.pk, EventKind.REPLY.value, *db_bounds(community, start, end)],
        )
        return {member for (member,) in cursor.fetchall()} & active


def _thread_people(community: Community, start: dt.date, end: dt.date, active: set[int]) -> int:
    """Active members who took part in a thread (reply chains followed to their root) where
    three or more people spoke."""
    members = Member._meta.db_table
    scope = (
        "e.community_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s"
        " AND e.kind IN (%s, %s) AND e.member_id IN (SELECT id FROM "
        f"{members} WHERE community_id = %s AND NOT is_bot AND role NOT IN (%s, %s))"
    )
    params = [community.pk, *db_bounds(community, start, end), *MESSAGE_KINDS, community.pk]
    roots, roots_params = thread_roots_cte(scope, [*params, *STAFF])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE {roots}, shared AS (SELECT channel_id, thread FROM thread_roots"
            " GROUP BY channel_id, thread HAVING COUNT(DISTINCT member_id) >= %s)"
            " SELECT DISTINCT r.member_id FROM thread_roots AS r JOIN shared AS s"
            " ON s.channel_id = r.channel_id AND s.thread = r.thread",
            [*roots_params, COOPERATION_PEOPLE],
        )
        people = {member for (member,) in cursor.fetchall()}
    return len(people & active)


def _partners(ties: Ties, active: set[int]) -> dict[int, int]:
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in ties:
        partners[a].add(b)
        partners[b].add(a)
    return {member: len(partners.get(member, ())) for member in active}


def _rituals(community: Community, end: dt.date, active: set[int]) -> tuple[int, int, int]:
    """(rituals defined, ritual occurrences held lately, active members who attended one)."""
    from shequn.activities.models import Activity, Registration, Ritual
    from shequn.activities.selectors import HELD

    since, until = local_bounds(community, end - dt.timedelta(days=RITUAL_DAYS), end)
    occurrences = Activity.objects.filter(
        community=community,
        ritual__isnull=False,
        status__in=HELD,
        starts_at__gte=since,
        starts_at__lt=until,
    )
    attendees = set(
        Registration.objects.filter(
            activity__in=occurrences, checked_in_at__isnull=False
        ).values_list("member_id", flat=True)
    )
    return (
        Ritual.objects.filter(community=community).count(),
        occurrences.count(),
        len(attendees & active),
    )


def _monthly_active(community: Community, end: dt.date) -> list[int]:
    counts = []
    for back in range(TREND_MONTHS, 0, -1):
        until = end - dt.timedelta(days=TREND_DAYS * (back - 1))
        counts.append(len(active_members(community, until - dt.timedelta(days=TREND_DAYS), until)))
    return counts


def gather_facts(community: Community, end: dt.date, *, days: int = 30) -> Facts:
    start = end - dt.timedelta(days=days)
    names, staff, bots, founders, operators = _members(community)
    active = set(active_members(community, start, end))
    since, until = local_bounds(community, start, end)
    ties = {
        pair: weight
        for pair, weight in interaction_ties(community, since=since, until=until).items()
        if pair[0] not in bots and pair[1] not in bots
    }
    network = analyse(member_graph(ties), camps=(2,))
    events = InteractionEvent._meta.db_table
    mission = bool(community.mission.strip())
    values = len(community.values_advocated or []) + len(community.values_opposed or [])
    rituals, occurrences, ritual_attendees = _rituals(community, end, active)
    return Facts(
        community=community,
        start=start,
        end=end,
        active=active,
        staff=staff,
        operators=operators,
        founders=founders,
        ties=ties,
        network=network,
        dynamics=group_dynamics(community, end, days=days, ties=ties),
        ladder=shirky_ladder(community, end, days=days),
        helpers=len(_helpers(community, start, end, active)),
        has_reply_data=bool(channels_with_replies(community)),
        thread_people=_thread_people(community, start, end, active),
        partners=_partners(ties, active),
        monthly_active=_monthly_active(community, end),
        mission=mission,
        positioning=bool(community.positioning.strip()),
        values=values,
        rituals=rituals,
        ritual_occurrences=occurrences,
        ritual_attendees=ritual_attendees,
        moderation_events=_scalar(
            f"SELECT COUNT(*) FROM {events} WHERE community_id = %s AND kind = %s"
            " AND occurred_at >= %s AND occurred_at < %s",
            [community.pk, EventKind.MODERATION.value, *db_bounds(community, start, end)],
        ),
        names={member: names.get(member, "") for member in network.centres[:100]},
    )
