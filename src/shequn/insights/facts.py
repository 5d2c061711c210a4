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
from typing import Any

from django.db import connection

from shequn.charter.selectors import charter_status
from shequn.communities.models import Community
from shequn.culture.selectors import culture_status
from shequn.exchange.selectors import connections_summary
from shequn.insights.conversation import noise, unanswered
from shequn.insights.dynamics import Dynamics, group_dynamics
from shequn.insights.network import (
    NetworkSummary,
    Ties,
    addressed,
    analyse,
    attendance_ties,
    channels_with_replies,
    connection_ties,
    conversation_ties,
    member_graph,
    merge_ties,
)
from shequn.insights.periods import STAFF, active_members, db_bounds, local_bounds
from shequn.insights.shirky import Ladder, shirky_ladder
from shequn.insights.sql import concurrently
from shequn.interactions.models import EventKind, InteractionEvent, MemberDailyRollup
from shequn.interactions.rollups import ACTIVE_DAY
from shequn.members.models import Member, Role
from shequn.tiers.inputs import day_param, ordinal_sql

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
    goals: int = 0  # goals the community has set (shequn.culture)
    testimonials: int = 0  # published testimonials (the benefit showcase)
    # shequn.charter's status at the period's end: text, version, rules on, violations, …
    charter: dict[str, Any] = field(default_factory=dict)
    # shequn.exchange: connections confirmed in the period, their outcomes and value
    connections: dict[str, Any] = field(default_factory=dict)
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


def _helpers(counts: dict[tuple[int, int, str], int], active: set[int], bots: set[int]) -> set[int]:
    """Active members who replied to someone else (not to a bot): the seed's altruism in what
    members do. From the counts the ties are made of: no read of its own."""
    reply = EventKind.REPLY.value
    return {
        source for source, target, kind in counts if kind == reply and target not in bots
    } & active


def _moderation_events(community: Community, start: dt.date, end: dt.date) -> int:
    """Moderation actions imported for the period. The kind is written into the SQL (a
    constant, not a parameter) so that the partial index ``event_moderation_time`` serves it
    on SQLite too, rather than a walk over every event of the period."""
    events = InteractionEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {events} WHERE community_id = %s"
            f" AND kind = '{EventKind.MODERATION.value}'"
            " AND occurred_at >= %s AND occurred_at < %s",
            [community.pk, *db_bounds(community, start, end)],
        )
        return int(cursor.fetchone()[0])


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
    """Active members in each of the ``TREND_MONTHS`` 30-day periods before ``end``, oldest
    first: one grouped pass over the daily rollups."""
    rollups, members = MemberDailyRollup._meta.db_table, Member._meta.db_table
    first = end - dt.timedelta(days=TREND_DAYS * TREND_MONTHS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (%s - 1 - {ordinal_sql('r.day')}) / %s AS back,"
            " COUNT(DISTINCT r.member_id) FROM "
            f"{rollups} AS r JOIN {members} AS m ON m.id = r.member_id"
            " WHERE r.community_id = %s AND r.day >= %s AND r.day < %s"
            f" AND ({ACTIVE_DAY}) AND NOT m.is_bot AND m.role NOT IN (%s, %s) GROUP BY back",
            [
                end.toordinal(),
                TREND_DAYS,
                community.pk,
                day_param(first),
                day_param(end),
                *STAFF,
            ],
        )
        counts = {int(back): int(count) for back, count in cursor.fetchall()}
    return [counts.get(back, 0) for back in range(TREND_MONTHS - 1, -1, -1)]


def gather_facts(community: Community, end: dt.date, *, days: int = 30) -> Facts:
    """Read everything a diagnosis of the ``days`` before ``end`` looks at, each query once:
    the checks are then pure functions of these facts."""
    start = end - dt.timedelta(days=days)
    names, staff, bots, founders, operators = _members(community)
    contributions = active_members(community, start, end)
    active = set(contributions)
    since, until = local_bounds(community, start, end)
    replying = channels_with_replies(community)

    def human(ties: Ties) -> Ties:
        return {pair: w for pair, w in ties.items() if pair[0] not in bots and pair[1] not in bots}

    # The four heaviest reads, each a pass over the period's events, two at a time.
    chatter, silence, counts, ladder = concurrently(
        lambda: noise(community, start, end),
        lambda: unanswered(community, start, end, replying=replying),
        lambda: addressed(community, since=since, until=until),
        lambda: shirky_ladder(community, end, days=days, replying=replying, active=active),
    )
    talk = human(
        conversation_ties(community, since=since, until=until, replying=replying, counts=counts)
    )
    ties = merge_ties(
        talk,
        human(attendance_ties(community, since=since, until=until)),
        human(connection_ties(counts)),
    )
    network = analyse(member_graph(ties), camps=(2,))
    # Reciprocity is about answering: being in the same room is not an answer.
    network.reciprocity = (
        round(member_graph(talk).reciprocity(ignore_loops=True, mode="default"), 4) if talk else 0.0
    )
    mission = bool(community.mission.strip())
    values = len(community.values_advocated or []) + len(community.values_opposed or [])
    rituals, occurrences, ritual_attendees = _rituals(community, end, active)
    culture = culture_status(community, now=until)
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
        dynamics=group_dynamics(
            community,
            end,
            days=days,
            ties=talk,
            replying=replying,
            active=contributions,
            silence=silence,
            chatter=chatter,
        ),
        ladder=ladder,
        helpers=len(_helpers(counts, active, bots)),
        has_reply_data=bool(replying),
        thread_people=len(ladder.participants & active),
        partners=_partners(talk, active),
        monthly_active=_monthly_active(community, end),
        mission=mission,
        positioning=bool(community.positioning.strip()),
        values=values,
        rituals=rituals,
        ritual_occurrences=occurrences,
        ritual_attendees=ritual_attendees,
        moderation_events=_moderation_events(community, start, end),
        goals=culture["goals"],
        testimonials=culture["testimonials"],
        charter=charter_status(community, end=until),
        connections=connections_summary(community, since, until),
        names={member: names.get(member, "") for member in network.centres[:100]},
    )
