"""A community's diagnosis (社群诊断) for one period: the top line, the audit of the seed's rules,
Linton's check, the group dynamics, Shirky's ladder and the network — as one plain dictionary
(codes and numbers, no sentences) that is stored, compared with earlier periods, served as JSON
and drawn as HTML in either language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.utils import timezone

from shequn.communities.models import Community
from shequn.insights import audit
from shequn.insights.checks import CHECK_GROUPS, Check
from shequn.insights.drawing import network_drawing
from shequn.insights.dynamics import Dynamics
from shequn.insights.facts import Facts, gather_facts
from shequn.insights.linton import linton_check
from shequn.insights.periods import PERIOD_DAYS

FORMAT_VERSION = 1
CENTRES_SHOWN = 10
SUBGROUPS_SHOWN = 10


def _checks(checks: list[Check]) -> list[dict[str, Any]]:
    return [check.as_dict() for check in checks]


def _dynamics(dynamics: Dynamics) -> dict[str, Any]:
    previous = dynamics.previous
    return {
        "active": dynamics.active,
        "previous_period": None
        if previous is None
        else {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "forces": {
            code: {
                "score": force.score,
                "previous": None if previous is None else previous.forces[code].score,
                "change": dynamics.change(code),
                "components": [asdict(component) for component in force.components],
            }
            for code, force in dynamics.forces.items()
        },
    }


def _network(facts: Facts, hubs: set[int]) -> dict[str, Any]:
    network = facts.network
    total = network.total_weight
    return {
        "members": network.members,
        "ties": network.ties,
        "total_weight": network.total_weight,
        "reciprocity": network.reciprocity,
        "top_share": network.top_share,
        "modularity": network.modularity,
        "max_core": network.max_core,
        "core_size": len(network.core),
        "subgroup_count": len(network.subgroups),
        "subgroups": [len(group) for group in network.subgroups[:SUBGROUPS_SHOWN]],
        "fragmentation": {str(k): v for k, v in network.fragmentation.items()},
        "ordinary_share": audit.ordinary_share(facts),
        "centres": [
            {
                "member": member,
                "name": facts.names.get(member, ""),
                "strength": network.strength[member],
                "share": round(network.strength[member] / total, 4) if total else 0.0,
                "staff": member in facts.staff,
                "hub": member in hubs,
            }
            for member in network.centres[:CENTRES_SHOWN]
        ],
    }


def diagnose(community: Community, end: dt.date, *, days: int = PERIOD_DAYS) -> dict[str, Any]:
    """The diagnosis of the ``days`` before ``end`` (exclusive), as stored and served."""
    facts = gather_facts(community, end, days=days)
    rules = audit.iron_rules(facts)
    misconceptions = audit.misconceptions(facts)
    linton = linton_check(facts)
    top = audit.top_line(facts, rules)
    hubs = set(audit.hubs(facts))
    ladder = facts.ladder
    drawing = network_drawing(facts.ties, facts.network, staff=facts.staff, hubs=hubs)
    for node in drawing["nodes"]:
        node["name"] = facts.names.get(node["member"], "")
    return {
        "version": FORMAT_VERSION,
        "community": {"slug": community.slug, "name": community.name},
        "period": {
            "start": facts.start.isoformat(),
            "end": facts.end.isoformat(),
            "days": days,
        },
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "active": len(facts.active),
        "verdict": audit.overall(top),
        "top_line": _checks(top),
        "iron_rules": _checks(rules),
        "misconceptions": _checks(misconceptions),
        "linton": _checks(linton),
        "dynamics": _dynamics(facts.dynamics),
        "ladder": {
            "stage": ladder.stage,
            "contributions": ladder.contributions,
            "rungs": [asdict(rung) for rung in ladder.rungs],
        },
        "network": _network(facts, hubs),
        "drawing": drawing,
    }


def status_changes(data: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks whose status differs from an earlier diagnosis: (code, before, after)."""
    before = {check["code"]: check["status"] for group in CHECK_GROUPS for check in previous[group]}
    return [
        {"code": check["code"], "before": before[check["code"]], "after": check["status"]}
        for group in CHECK_GROUPS
        for check in data[group]
        if check["code"] in before and before[check["code"]] != check["status"]
    ]
