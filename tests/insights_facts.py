"""Hand-made diagnosis facts, so each check is tested on exactly the situation it judges."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shequn.communities.models import Community
from shequn.insights.dynamics import Component, Dynamics, Force
from shequn.insights.facts import Facts
from shequn.insights.network import analyse, member_graph
from shequn.insights.shirky import Ladder, Rung

END = dt.date(2024, 3, 1)
START = END - dt.timedelta(days=30)

COMPONENTS = {
    "cohesion": ("retention", "reciprocity", "deep_links", "repeat_attendance"),
    "driving": (
        "net_inflow",
        "participation_growth",
        "activities_turnout",
        "goal_progress",
        "advocates_share",
    ),
    "dissipative": ("churn", "charter_violations", "unanswered", "concentration", "noise"),
}


def dynamics(scores: dict[str, float | None] | None = None, **values: Any) -> Dynamics:
    """Forces with the given scores; components measured where ``values`` names them
    (``deep_links=(0.3, {"members": 10})``)."""
    scores = scores or {}
    forces = {}
    for force, codes in COMPONENTS.items():
        components = []
        for code in codes:
            value, detail = values.get(code, (None, {}))
            components.append(
                Component(code, value, None if value is None else 50.0,
                          "no_data" if value is None else "measured", detail)
            )  # fmt: skip
        forces[force] = Force(force, scores.get(force), components)
    return Dynamics(START, END, 10, forces)


def ladder(contributions: int = 100, **rungs: tuple[float | None, bool]) -> Ladder:
    return Ladder(
        START,
        END,
        contributions,
        [
            Rung(code, *rungs.get(code, (None, False)), detail={})
            for code in ("sharing", "cooperation", "collective_action")
        ],
        None,
    )


def facts(ties: dict[tuple[int, int], float] | None = None, **overrides: Any) -> Facts:
    ties = ties or {}
    values: dict[str, Any] = {
        "community": Community(slug="hand", name="Hand-made", mission="", positioning=""),
        "start": START,
        "end": END,
        "active": set(range(1, 11)),
        "staff": set(),
        "operators": 0,
        "founders": 0,
        "ties": ties,
        "network": analyse(member_graph(ties), camps=()),
        "dynamics": dynamics(),
        "ladder": ladder(),
        "helpers": 0,
        "has_reply_data": True,
        "thread_people": 0,
    }
    values.update(overrides)
    return Facts(**values)


def both_ways(pairs: list[tuple[int, int]], weight: float = 1.0) -> dict[tuple[int, int], float]:
    ties = {}
    for a, b in pairs:
        ties[(a, b)] = weight
        ties[(b, a)] = weight
    return ties
