"""The seed's seven iron rules (七大社群铁规), four misconceptions (四大认知误区) and its test of
whether an organisation should exist at all — it creates value and runs sustainably — as checks
on the period's facts (DESIGN.md "Audit"). Thresholds, with the reason for each:

1. multi-centre (多中心): nobody carries more than ``CENTRE_MAX`` of all interaction and at least
   ``HUBS_MET`` people are hubs (a hub carries ``HUB_SHARE`` of it or more — one exchange in
   twenty passes through them — and twice an average member's share). Both one centre and
   none at all (the seed: decentralisation is a fantasy) fail; losing the top person must not
   split off ``SPLIT_MAX`` of the rest. A network of fewer than ``SMALL_GROUP`` people cannot
   meet all three at once: it is at risk (not met if one person carries over half).
2. deep links (深度链接) between ordinary members: the deep-link share of the group dynamics
   (members with two or more reciprocated ties to members who are not staff), ``DEEP_MET``.
3. altruism (利他): ``HELP_MET`` of the active members answered someone else.
4. beyond interest (兴趣社团会消逝): a positioning or mission beyond a hobby is written down, and
   participation over six months is not falling by more than ``DECLINE_MAX``.
5. activity is not health (活跃不说明什么): much talk with little cooperation (under 10 % of
   contributions in threads of three people), a few people doing most of it (the top 10 % make
   over ``CONCENTRATION_MAX``) or noise over ``NOISE_MAX`` each count as a problem.
6. a charter (规章制度) that is enforced: its text written down in shequn (``shequn.charter``)
   and enforcement seen — a rule switched on, a violation decided in the last 30 days, or
   moderation actions imported for the period. Moderation without a written charter, or a
   charter nobody enforces, is at risk; neither is not met.
7. a culture (文化): a mission, values advocated or opposed, and rituals people attend.

Misconceptions: not just a chat group (a common goal — a mission or a goal set — cooperation and
collective action), not a fan club (``ORDINARY_MET`` of the interaction runs between ordinary
members, neither staff nor the top person), not a venue (relationships: ``RECIPROCITY_MET`` of
ties answered), not a crowd (a mission and a positioning, values or goals). The top line:
creates value (help given, cooperation, activities attended, connections made through the
needs-and-offers exchange) and runs sustainably (cohesion at least the dissipative force,
multi-centre, no net outflow, someone besides the founder operating it).
"""

from __future__ import annotations

from shequn.insights.checks import (
    AT_RISK,
    MET,
    NO_DATA,
    NOT_MET,
    Check,
    by_count,
    combine,
    grade,
    share,
)
from shequn.insights.dynamics import Component, Dynamics
from shequn.insights.facts import Facts

CENTRE_MAX = 0.30
CENTRE_FAIL = 0.50
SMALL_GROUP = 14  # below it 3 hubs (each twice an average share) cannot all stay under 30 %
HUB_SHARE = 0.05
HUBS_MET = 3
SPLIT_MAX = 0.30
DEEP_MET = 0.20
HELP_MET = 0.10
DECLINE_MAX = 0.10
COOPERATION_MIN = 0.10
CONCENTRATION_MAX = 0.60
NOISE_MAX = 0.20
ORDINARY_MET = 0.50
RECIPROCITY_MET = 0.25


def component(dynamics: Dynamics, force: str, code: str) -> Component:
    return next(c for c in dynamics.forces[force].components if c.code == code)


def hubs(facts: Facts) -> list[int]:
    """Members carrying ``HUB_SHARE`` of the interaction and twice an average member's share
    (in a group of eight, everyone carries far more than 5 %)."""
    network = facts.network
    if not network.total_weight or not network.members:
        return []
    # Every tie counts at both its ends: the members' shares add up to 2.
    need = max(HUB_SHARE, 2 * 2 / network.members) * network.total_weight
    return [member for member in network.centres if network.strength[member] >= need]


def multi_centre(facts: Facts) -> Check:
    network = facts.network
    found = hubs(facts)
    split = network.fragmentation.get(1)
    concentration = component(facts.dynamics, "dissipative", "concentration")
    evidence = {
        "members": network.members,
        "top_share": network.top_share,
        "top_member": network.centres[0] if network.centres else None,
        "hubs": len(found),
        "split_without_top": split,
        "bus_factor": concentration.detail.get("bus_factor"),
    }
    if network.members < 3:
        return Check("multi_centre", NO_DATA, evidence, "no_network")
    if network.members < SMALL_GROUP:
        # Too few people for several centres with followings: only one person carrying
        # most of it fails.
        status = NOT_MET if network.top_share > CENTRE_FAIL else AT_RISK
        return Check("multi_centre", status, evidence, "small_group")
    if network.top_share > CENTRE_FAIL or len(found) < 2:
        status = NOT_MET
    elif network.top_share > CENTRE_MAX or len(found) < HUBS_MET or (split or 0) > SPLIT_MAX:
        status = AT_RISK
    else:
        status = MET
    reason = "no_centre" if not found else ("one_centre" if len(found) == 1 else "")
    return Check("multi_centre", status, evidence, reason)


def deep_links(facts: Facts) -> Check:
    deep = component(facts.dynamics, "cohesion", "deep_links")
    evidence = {
        "deep_share": deep.value,
        "deep_members": deep.detail.get("deep", 0),
        "active": deep.detail.get("members", 0),
    }
    if deep.value is None:
        return Check("deep_links", NO_DATA, evidence, "no_active")
    return Check("deep_links", grade(deep.value, DEEP_MET, DEEP_MET / 2), evidence)


def altruism(facts: Facts) -> Check:
    active = len(facts.active)
    value = share(facts.helpers, active)
    evidence = {"helpers": facts.helpers, "active": active, "help_share": value}
    if not facts.has_reply_data:
        return Check("altruism", NO_DATA, evidence, "no_reply_data")
    if not active:
        return Check("altruism", NO_DATA, evidence, "no_active")
    return Check("altruism", grade(value, HELP_MET, HELP_MET / 2), evidence)


def _trend(monthly: list[int]) -> float | None:
    half = len(monthly) // 2
    before, after = sum(monthly[:half]), sum(monthly[half:])
    return round((after - before) / before, 4) if before else None


def beyond_interest(facts: Facts) -> Check:
    trend = _trend(facts.monthly_active)
    declared = facts.mission or facts.positioning
    evidence = {
        "declared": declared,
        "monthly_active": facts.monthly_active,
        "trend": trend,
    }
    if not any(facts.monthly_active):
        return Check("beyond_interest", NO_DATA, evidence, "no_active")
    holding = trend is None or trend >= -DECLINE_MAX
    return Check("beyond_interest", by_count(declared + holding, 2), evidence)


def activity_not_health(facts: Facts) -> Check:
    cooperation = next(r for r in facts.ladder.rungs if r.code == "cooperation").share
    concentration = component(facts.dynamics, "dissipative", "concentration").value
    noise = component(facts.dynamics, "dissipative", "noise").value
    problems = [
        name
        for name, bad in (
            ("low_cooperation", cooperation is not None and cooperation < COOPERATION_MIN),
            ("concentrated", concentration is not None and concentration > CONCENTRATION_MAX),
            ("noisy", noise is not None and noise > NOISE_MAX),
        )
        if bad
    ]
    evidence = {
        "contributions": facts.ladder.contributions,
        "cooperation_share": None if cooperation is None else round(cooperation, 4),
        "concentration": concentration,
        "noise_share": noise,
        "problems": problems,
    }
    if not facts.ladder.contributions:
        return Check("activity_not_health", NO_DATA, evidence, "no_active")
    status = MET if not problems else AT_RISK if len(problems) == 1 else NOT_MET
    return Check("activity_not_health", status, evidence)


def charter(facts: Facts) -> Check:
    status = facts.charter
    evidence = {
        "version": status.get("version"),
        "acknowledged": status.get("acknowledged", 0),
        "rules_enabled": status.get("rules_enabled", 0),
        "violations_30d": status.get("violations_30d", 0),
        "decided_30d": status.get("decided_30d", 0),
        "moderation_events": facts.moderation_events,
    }
    enforced = bool(evidence["rules_enabled"] or evidence["decided_30d"] or facts.moderation_events)
    if status.get("has_text"):
        if enforced:
            return Check("charter", MET, evidence)
        return Check("charter", AT_RISK, evidence, "not_enforced")
    if enforced:
        return Check("charter", AT_RISK, evidence, "unwritten")
    return Check("charter", NOT_MET, evidence, "no_charter")


def culture(facts: Facts) -> Check:
    evidence = {
        "mission": facts.mission,
        "values": facts.values,
        "rituals": facts.rituals,
        "ritual_attendees": facts.ritual_attendees,
        "goals": facts.goals,
        "testimonials": facts.testimonials,
    }
    passed = facts.mission + (facts.values > 0) + (facts.ritual_attendees > 0)
    return Check("culture", by_count(passed, 3), evidence)


def iron_rules(facts: Facts) -> list[Check]:
    return [
        multi_centre(facts),
        deep_links(facts),
        altruism(facts),
        beyond_interest(facts),
        activity_not_health(facts),
        charter(facts),
        culture(facts),
    ]


def _rung(facts: Facts, code: str) -> bool:
    return next(r for r in facts.ladder.rungs if r.code == code).reached


def not_chat_group(facts: Facts) -> Check:
    evidence = {
        "common_goal": facts.mission or facts.goals > 0,
        "cooperation": _rung(facts, "cooperation"),
        "collective_action": _rung(facts, "collective_action"),
    }
    return Check("not_chat_group", by_count(sum(evidence.values()), 3), evidence)


def ordinary_share(facts: Facts) -> float | None:
    """Share of tie weight between members who are neither staff nor the top person."""
    total = sum(facts.ties.values())
    top = facts.network.centres[0] if facts.network.centres else None
    leaders = facts.staff | ({top} if top is not None else set())
    ordinary = sum(
        weight for (a, b), weight in facts.ties.items() if a not in leaders and b not in leaders
    )
    return round(ordinary / total, 4) if total else None


def not_fan_club(facts: Facts) -> Check:
    value = ordinary_share(facts)
    evidence = {"ordinary_share": value, "staff": len(facts.staff)}
    if value is None:
        return Check("not_fan_club", NO_DATA, evidence, "no_network")
    return Check("not_fan_club", grade(value, ORDINARY_MET, ORDINARY_MET * 0.6), evidence)


def not_venue(facts: Facts) -> Check:
    evidence = {"reciprocity": facts.network.reciprocity, "ties": facts.network.ties}
    if not facts.network.ties:
        return Check("not_venue", NO_DATA, evidence, "no_network")
    return Check(
        "not_venue",
        grade(facts.network.reciprocity, RECIPROCITY_MET, RECIPROCITY_MET / 2),
        evidence,
    )


def not_crowd(facts: Facts) -> Check:
    evidence = {
        "mission": facts.mission,
        "positioning": facts.positioning,
        "values": facts.values,
        "goals": facts.goals,
    }
    defined = facts.mission + (facts.positioning or facts.values > 0 or facts.goals > 0)
    return Check("not_crowd", by_count(defined, 2), evidence)


def misconceptions(facts: Facts) -> list[Check]:
    return [not_chat_group(facts), not_fan_club(facts), not_venue(facts), not_crowd(facts)]


def creates_value(facts: Facts) -> Check:
    """Value shows as help given, cooperation, activities attended and connections made; a
    signal that cannot be seen (no reply data for help) is left out rather than counted as
    absent, and so are connections in a period without any (the exchange may not be in use)."""
    active = len(facts.active)
    help_share = share(facts.helpers, active)
    connections = facts.connections.get("connections", 0)
    signals = {
        "help": None if not facts.has_reply_data else (help_share or 0) >= HELP_MET,
        "cooperation": _rung(facts, "cooperation"),
        "activities": _rung(facts, "collective_action") or facts.ritual_attendees > 0,
        "connections": True if connections else None,
    }
    evidence = {
        **signals,
        "connections_made": connections,
        "connections_helped": facts.connections.get("helped", 0)
        + facts.connections.get("deals", 0),
        "help_share": help_share if facts.has_reply_data else None,
        "cooperative_threads": next(
            r for r in facts.ladder.rungs if r.code == "cooperation"
        ).detail.get("threads", 0),
        "attendees": next(
            r for r in facts.ladder.rungs if r.code == "collective_action"
        ).detail.get("members", 0),
    }
    if not active:
        return Check("creates_value", NO_DATA, evidence, "no_active")
    measured = [found for found in signals.values() if found is not None]
    found = sum(measured)
    status = MET if found >= min(2, len(measured)) else AT_RISK if found else NOT_MET
    return Check("creates_value", status, evidence, "" if facts.has_reply_data else "no_help_data")


def runs_sustainably(facts: Facts, multi: Check) -> Check:
    forces = facts.dynamics.forces
    cohesion, dissipative = forces["cohesion"].score, forces["dissipative"].score
    inflow = component(facts.dynamics, "driving", "net_inflow").value
    conditions = {
        "cohesion_holds": None
        if cohesion is None or dissipative is None
        else cohesion >= dissipative,
        "multi_centre": None if multi.status == NO_DATA else multi.status == MET,
        "no_net_outflow": None if inflow is None else inflow >= 0,
        "operated": facts.operators > 0,
    }
    evidence = {
        **conditions,
        "cohesion": cohesion,
        "dissipative": dissipative,
        "net_inflow": inflow,
        "operators": facts.operators,
    }
    measured = [ok for ok in conditions.values() if ok is not None]
    if not facts.active:
        return Check("runs_sustainably", NO_DATA, evidence, "no_active")
    return Check("runs_sustainably", by_count(sum(measured), len(measured)), evidence)


def top_line(facts: Facts, rules: list[Check]) -> list[Check]:
    multi = next(check for check in rules if check.code == "multi_centre")
    return [creates_value(facts), runs_sustainably(facts, multi)]


def overall(checks: list[Check]) -> str:
    return combine([check.status for check in checks])
