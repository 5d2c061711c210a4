"""The network as a picture: the most central members placed by igraph's force-directed layout
(Fruchterman–Reingold, weighted, from a seeded start so the same ties draw the same picture),
scaled into a unit square for an SVG drawn by the report's template.

Only the ``LIMIT`` most central members and the ``EDGE_LIMIT`` heaviest ties among them are
drawn: a picture of 50,000 people shows nothing, the core shows who holds the community.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection
from typing import Any

import igraph as ig

from shequn.insights.network import NetworkSummary, Ties, seeded

LIMIT = 80
EDGE_LIMIT = 400
LAYOUT_SEED = 7
PALETTE_SIZE = 8  # the largest sub-groups get a colour each, the rest share grey


def network_drawing(
    ties: Ties,
    summary: NetworkSummary,
    *,
    staff: Collection[int] = (),
    hubs: Collection[int] = (),
    limit: int = LIMIT,
) -> dict[str, Any]:
    """Nodes (member, x, y in 0–1, radius in 0–1, sub-group colour index or -1, staff, hub)
    and edges (two node indexes, weight in 0–1 of the heaviest drawn)."""
    chosen = summary.centres[:limit]
    if len(chosen) < 2:
        return {"nodes": [], "edges": []}
    index = {member: position for position, member in enumerate(chosen)}
    weights: dict[tuple[int, int], float] = {}
    for (a, b), weight in ties.items():
        if a in index and b in index:
            key = (min(index[a], index[b]), max(index[a], index[b]))
            weights[key] = weights.get(key, 0.0) + weight
    # heaviest first, equal weights by position: the same ties draw the same picture whatever
    # order the database returned them in
    edges = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:EDGE_LIMIT]
    graph = ig.Graph(n=len(chosen), edges=[pair for pair, _ in edges])
    rng = random.Random(LAYOUT_SEED)
    start = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in chosen]
    with seeded(LAYOUT_SEED):
        layout = graph.layout_fruchterman_reingold(
            weights=[math.log1p(weight) for _, weight in edges] or None, seed=start, niter=500
        )
    xs, ys = zip(*layout.coords, strict=True)
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    group = {
        member: position
        for position, members in enumerate(summary.subgroups[:PALETTE_SIZE])
        for member in members
    }
    strongest = summary.strength[chosen[0]] or 1.0
    heaviest = edges[0][1] if edges else 1.0
    return {
        "nodes": [
            {
                "member": member,
                "x": round((x - min(xs)) / span, 4),
                "y": round((y - min(ys)) / span, 4),
                "r": round(math.sqrt(summary.strength[member] / strongest), 4),
                "group": group.get(member, -1),
                "staff": member in staff,
                "hub": member in hubs,
            }
            for member, x, y in zip(chosen, xs, ys, strict=True)
        ],
        "edges": [[a, b, round(weight / heaviest, 4)] for (a, b), weight in edges],
    }
