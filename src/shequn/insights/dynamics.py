"""Group dynamics (群体动力) over a period: cohesion 凝聚力, driving force 驱动力 and dissipative
force 耗散力, each 0–100, the mean of its measured components (DESIGN.md "Group dynamics").

Every component keeps its raw value, the transform that made it a score and its status; a
component without data (no activities held, no tiers computed yet, no goals set, no charter rule
switched on) is ``no_data`` and left out of its force's mean, never counted as zero.
Members are the community's people: bots and founders/operators (active by office) are left
out, as everywhere in the community's figures.

Transforms (a value ``v`` to a score, clamped to 0–100):
* shares where more is better — retention, reciprocity, repeat attendance: ``100·v``;
* deep links: ``100·v/0.4`` (the audit asks for 20 %; 40 % is a full score);
* advocates' share: ``100·v/0.2`` (one member in five acting for the community is full);
* net inflow ``(new − lapsed)/active``: ``50 + 100·v`` (no net change is 50);
* participation growth ``active now / active before``: ``50·v`` (unchanged is 50, doubled 100);
* activities × turnout: ``100 · min(1, held/4) · turnout`` (a weekly rhythm, everyone coming);
* goal progress (the mean share of their targets that the community's goals reached by the
  period's last day, ``shequn.culture``): ``100·v``;
* churn: ``100·v``; concentration (the top 10 %'s share of contributions) ``100·(v−0.1)/0.9``,
  so an even spread scores 0 and one person doing everything 100; its detail gives the bus
  factor (CHAOSS: the fewest members who make half of all contributions);
* charter violations per 100 active members (open or upheld, not overturned; measured once a
  charter rule is switched on or a violation was reported, ``shequn.charter``): ``10·v`` — ten
  violations per hundred active members in a period is the full dissipative score;
* unanswered (the share of questions, or else thread openers, nobody else answered within 48 h;
  no data where no channel carries replies): ``100·v``;
* noise (the share of messages that are empty, flood or repeats): ``100·v/0.3`` — 30 % noise
  is the full dissipative score. Both are defined in ``shequn.insights.conversation``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from shequn.charter.selectors import charter_in_force, violation_count
from shequn.communities.models import Community
from shequn.culture.selectors import goal_progress_summary
from shequn.insights.conversation import Measure, noise, unanswered
from shequn.insights.network import (
    Ties,
    channels_with_replies,
    conversation_ties,
    member_graph,
)
from shequn.insights.periods import PERIOD_DAYS, active_members, local_bounds
from shequn.insights.sql import concurrently
from shequn.interactions.models import MemberDailyRollup
from shequn.interactions.rollups import ACTIVE_DAY
from shequn.tiers.inputs import among, day_param
from shequn.tiers.selectors import tiers_on

NO_DATA = "no_data"
MEASURED = "measured"


@dataclass
class Component:
    code: str
    value: float | None
    score: float | None
    status: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Force:
    code: str  # cohesion, driving, dissipative
    score: float | None
    components: list[Component]


@dataclass
class Dynamics:
    start: dt.date
    end: dt.date  # exclusive
    active: int
    forces: dict[str, Force]
    previous: Dynamics | None = None

    def change(self, force: str) -> float | None:
        """This period's score less the previous period's (None without both)."""
        if self.previous is None:
            return None
        now, before = self.forces[force].score, self.previous.forces[force].score
        return None if now is None or before is None else round(now - before, 1)


def _clamp(score: float) -> float:
    return round(max(0.0, min(100.0, score)), 1)


def _component(code: str, value: float | None, score: float | None, **detail: Any) -> Component:
    if value is None or score is None:
        return Component(code, None, None, NO_DATA, detail)
    return Component(code, round(value, 4), _clamp(score), MEASURED, detail)


def _first_active(member_ids: list[int]) -> dict[int, dt.date]:
    if not member_ids:
        return {}
    rollups = MemberDailyRollup._meta.db_table
    term, params = among("r.member_id", member_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.member_id, MIN(r.day) FROM {rollups} AS r"
            f" WHERE {term} AND ({ACTIVE_DAY}) GROUP BY r.member_id",
            params,
        )
        return {
            member: day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
            for member, day in cursor.fetchall()
        }


def _attended(community: Community, start: dt.date, end: dt.date) -> tuple[set[int], set[int]]:
    """Members who attended an activity in the period, and those of them who had before."""
    rollups = MemberDailyRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.member_id, MIN(r.day) FROM {rollups} AS r WHERE r.community_id = %s"
            " AND r.attended > 0 AND r.day < %s AND r.member_id IN ("
            f" SELECT member_id FROM {rollups} WHERE community_id = %s AND attended > 0"
            " AND day >= %s AND day < %s) GROUP BY r.member_id",
            [community.pk, day_param(end), community.pk, day_param(start), day_param(end)],
        )
        rows = cursor.fetchall()
    attendees = {member for member, _first in rows}
    start_text = day_param(start)
    returning = {member for member, first in rows if first < start_text}
    return attendees, returning


def _activities_held(community: Community, start: dt.date, end: dt.date) -> tuple[int, float]:
    """Activities held in the period and their mean turnout (attended / confirmed places)."""
    from shequn.activities.models import Activity
    from shequn.activities.selectors import HELD, with_counts

    since, until = local_bounds(community, start, end)
    held = list(
        with_counts(
            Activity.objects.filter(
                community=community, status__in=HELD, starts_at__gte=since, starts_at__lt=until
            )
        ).values_list("confirmed", "attended")
    )
    rates = [attended / confirmed for confirmed, attended in held if confirmed]
    return len(held), (sum(rates) / len(rates) if rates else 0.0)


def _deep_links(ties: dict[tuple[int, int], float], active: set[int]) -> int:
    """Active members with at least two reciprocated ties to ordinary members."""
    reciprocated: dict[int, set[int]] = {}
    for a, b in ties:
        if (b, a) in ties and a in active and b in active:
            reciprocated.setdefault(a, set()).add(b)
    return sum(1 for partners in reciprocated.values() if len(partners) >= 2)


def group_dynamics(
    community: Community,
    end: dt.date,
    *,
    days: int = PERIOD_DAYS,
    with_previous: bool = True,
    ties: Ties | None = None,
    replying: set[int] | None = None,
    active: dict[int, int] | None = None,
    silence: Measure | None = None,
    chatter: Measure | None = None,
) -> Dynamics:
    """The three forces over the ``days`` before ``end`` (exclusive), and the period before.
    ``ties`` (the period's conversation ties), ``replying`` (the channels with replies) and
    ``active`` (the period's active members), ``silence`` and ``chatter`` (the period's
    unanswered and noise measures): when the caller has read them already.
    Co-attendance is no conversation: reciprocity and deep links come from conversation ties
    only."""
    start = end - dt.timedelta(days=days)
    before = start - dt.timedelta(days=days)
    now = active if active is not None else active_members(community, start, end)
    prev = active_members(community, before, start)
    active, active_before = set(now), set(prev)
    tiers = tiers_on(community, end - dt.timedelta(days=1))
    if replying is None:
        replying = channels_with_replies(community)
    since, until = local_bounds(community, start, end)
    # What the caller has not read yet: the heaviest reads, two at a time.
    reads: dict[str, Callable[[], Any]] = {}
    if ties is None:
        reads["ties"] = lambda: conversation_ties(
            community, since=since, until=until, replying=replying
        )
    if silence is None:
        reads["silence"] = lambda: unanswered(community, start, end, replying=replying)
    if chatter is None:
        reads["chatter"] = lambda: noise(community, start, end)
    found = dict(zip(reads, concurrently(*reads.values()), strict=True))
    ties = found.get("ties", ties)
    silence = found.get("silence", silence)
    chatter = found.get("chatter", chatter)
    assert ties is not None and silence is not None and chatter is not None
    ties = {
        pair: weight for pair, weight in ties.items() if pair[0] in active and pair[1] in active
    }

    # Cohesion
    retention = len(active & active_before) / len(active_before) if active_before else None
    reciprocity = (
        member_graph(ties).reciprocity(ignore_loops=True, mode="default") if ties else None
    )
    deep_members = _deep_links(ties, active)
    deep = deep_members / len(active) if active else None
    attendees, returning = _attended(community, start, end)
    repeat = len(returning) / len(attendees) if attendees else None
    cohesion = [
        _component("retention", retention, None if retention is None else 100 * retention,
                   kept=len(active & active_before), before=len(active_before)),
        _component("reciprocity", reciprocity, None if reciprocity is None else 100 * reciprocity,
                   ties=len(ties)),
        _component("deep_links", deep, None if deep is None else 100 * deep / 0.4,
                   members=len(active), deep=deep_members),
        _component("repeat_attendance", repeat, None if repeat is None else 100 * repeat,
                   attendees=len(attendees), returning=len(returning)),
    ]  # fmt: skip

    # Driving force
    first = _first_active(sorted(active))
    new = sum(1 for member in active if first.get(member, start) >= start)
    lapsed = (
        None
        if tiers is None
        else sum(1 for member in active_before if tiers.get(member) == "lapsed")
    )
    inflow = None if lapsed is None or not active else (new - lapsed) / len(active)
    growth = len(active) / len(active_before) if active_before else None
    held, turnout = _activities_held(community, start, end)
    rhythm = min(1.0, held / 4) * turnout if held else None
    goals = goal_progress_summary(community, end - dt.timedelta(days=1))
    progress = goals["mean_progress"]
    advocates = (
        None
        if tiers is None or not active
        else sum(1 for member in active if tiers.get(member) == "advocate") / len(active)
    )
    driving = [
        _component("net_inflow", inflow, None if inflow is None else 50 + 100 * inflow,
                   new=new, lapsed=lapsed, active=len(active)),
        _component("participation_growth", growth, None if growth is None else 50 * growth,
                   active=len(active), before=len(active_before)),
        _component("activities_turnout", rhythm, None if rhythm is None else 100 * rhythm,
                   held=held, turnout=round(turnout, 4)),
        _component("goal_progress", progress, None if progress is None else 100 * progress,
                   goals=goals["goals"], achieved=goals["achieved"],
                   on_track=goals["on_track"]),
        _component("advocates_share", advocates,
                   None if advocates is None else 100 * advocates / 0.2),
    ]  # fmt: skip

    # Dissipative force

    churn = lapsed / len(active_before) if lapsed is not None and active_before else None
    violations = violation_count(community, since, until) if charter_in_force(community) else None
    per_hundred = None if violations is None or not active else 100 * violations / len(active)
    contributions = sorted(now.values(), reverse=True)
    total = sum(contributions)
    top = math.ceil(len(contributions) / 10) if contributions else 0
    concentration = sum(contributions[:top]) / total if total else None
    # CHAOSS's Contributor Absence Factor: the fewest members making half of all contributions.
    running, bus_factor = 0, 0
    for count in contributions:
        if running * 2 >= total:
            break
        running += count
        bus_factor += 1
    dissipative = [
        _component("churn", churn, None if churn is None else 100 * churn,
                   lapsed=lapsed, before=len(active_before)),
        _component("charter_violations", per_hundred,
                   None if per_hundred is None else 10 * per_hundred,
                   violations=violations, active=len(active)),
        _component("unanswered", silence.value,
                   None if silence.value is None else 100 * silence.value, **silence.detail),
        _component("concentration", concentration,
                   None if concentration is None else 100 * (concentration - 0.1) / 0.9,
                   top_members=top, contributions=total, bus_factor=bus_factor),
        _component("noise", chatter.value,
                   None if chatter.value is None else 100 * chatter.value / 0.3, **chatter.detail),
    ]  # fmt: skip

    forces = {
        code: Force(code, _mean(components), components)
        for code, components in (
            ("cohesion", cohesion),
            ("driving", driving),
            ("dissipative", dissipative),
        )
    }
    previous = (
        group_dynamics(
            community, start, days=days, with_previous=False, replying=replying, active=prev
        )
        if with_previous
        else None
    )
    return Dynamics(start, end, len(active), forces, previous)


def _mean(components: list[Component]) -> float | None:
    scores = [c.score for c in components if c.score is not None]
    return round(sum(scores) / len(scores), 1) if scores else None
