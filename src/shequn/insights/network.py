"""The member interaction network (DESIGN.md "Network"): who addresses whom, how strongly, and
what the shape says — centres, sub-groups (Leiden), reciprocity, k-core, and how much the
community hangs on its top people.

Ties come from the events in a period, weighted by kind (``KIND_WEIGHTS``): a reply is a
conversation, a mention a call, a reaction a nod; attending the same activities ties people by
the activities' co-attendance weight (a small meetup ties more than a conference). The graph is
an igraph ``Graph``: every measure here is igraph's, none is written by hand. An introduction
the needs-and-offers exchange made (a ``connection`` event) ties the two members both ways with
``CONNECTION_WEIGHT``; like co-attendance it counts for centres and sub-groups, not as a
conversation.

Where a channel has no reply data at all (WeChat and WhatsApp exports carry none), ties are
inferred from temporal adjacency: a message within ``ADJACENCY_SECONDS`` of another member's
previous message in the channel answers it, with a weight falling linearly from
``ADJACENCY_WEIGHT`` at no gap to 0 at the window's end (a quick answer is likelier a reply than a
late one; linear, so the database computes it on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import igraph as ig
from django.db import connection

from shequn.communities.models import Channel, Community
from shequn.insights.sql import db_moment, seconds_between
from shequn.interactions.models import EventKind, InteractionEvent

# How much one event of a kind ties its author to the member it addresses.
KIND_WEIGHTS: dict[str, float] = {
    EventKind.REPLY: 1.0,
    EventKind.MENTION: 0.5,
    EventKind.REACTION: 0.25,
}
# A confirmed introduction between a member with a need and one with an offer.
CONNECTION_WEIGHT = 1.0
# Temporal adjacency (channels without replies): the window and the weight of an instant answer.
ADJACENCY_SECONDS = 300
ADJACENCY_WEIGHT = 0.5
# Leiden is randomised: a fixed seed gives the same sub-groups for the same ties.
LEIDEN_SEED = 20240301
# The "what if they left" check removes the top 1, 3 and 5 people.
REMOVALS = (1, 3, 5)

Ties = dict[tuple[int, int], float]


def interaction_ties(
    community: Community, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> Ties:
    """Every tie of ``[since, until)``: conversation, co-attendance and introductions."""
    counts = addressed(community, since=since, until=until)
    return merge_ties(
        conversation_ties(community, since=since, until=until, counts=counts),
        attendance_ties(community, since=since, until=until),
        connection_ties(counts),
    )


def addressed(
    community: Community, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[tuple[int, int, str], int]:
    """(author, addressed member, kind) -> events of ``[since, until)``: replies, mentions and
    reactions between two members, counted by the database in one pass."""
    events = InteractionEvent._meta.db_table
    kinds = [*KIND_WEIGHTS, EventKind.CONNECTION]
    where = [
        "community_id = %s",
        f"kind IN ({', '.join(['%s'] * len(kinds))})",
        "member_id IS NOT NULL",
        "target_member_id IS NOT NULL",
        "member_id <> target_member_id",
    ]
    params: list[object] = [community.pk, *kinds]
    if since is not None:
        where.append("occurred_at >= %s")
        params.append(db_moment(since))
    if until is not None:
        where.append("occurred_at < %s")
        params.append(db_moment(until))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, target_member_id, kind, COUNT(*) FROM {events}"
            f" WHERE {' AND '.join(where)} GROUP BY member_id, target_member_id, kind",
            params,
        )
        return {(source, target, kind): count for source, target, kind, count in cursor}


def conversation_ties(
    community: Community,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    replying: set[int] | None = None,
    counts: Mapping[tuple[int, int, str], int] | None = None,
) -> Ties:
    """Directed ties (author, addressed member) -> weight from replies, mentions, reactions
    and, in channels without replies, answering turns. ``replying`` (the channels with
    replies) and ``counts`` (``addressed``'s): when the caller has read them already."""
    if counts is None:
        counts = addressed(community, since=since, until=until)
    ties: Ties = defaultdict(float)
    for (source, target, kind), count in counts.items():
        if kind in KIND_WEIGHTS:
            ties[(source, target)] += KIND_WEIGHTS[kind] * count
    turns = adjacency_ties(community, since=since, until=until, replying=replying)
    return merge_ties(ties, turns)


def attendance_ties(
    community: Community, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> Ties:
    """Attending the same activities, the same weight both ways. Being in one room is not a
    conversation: these ties count for centres and sub-groups, not for reciprocity or depth."""
    from shequn.activities.selectors import co_attendance

    ties: Ties = defaultdict(float)
    for pair in co_attendance(community, since=since, until=until):
        ties[(pair.member_a, pair.member_b)] += pair.weight
        ties[(pair.member_b, pair.member_a)] += pair.weight
    return dict(ties)


def connection_ties(counts: Mapping[tuple[int, int, str], int]) -> Ties:
    """Introductions the exchange made (from ``addressed``'s counts), the same weight both
    ways: the two members now know each other, whoever had the need."""
    ties: Ties = defaultdict(float)
    for (source, target, kind), count in counts.items():
        if kind == EventKind.CONNECTION:
            ties[(source, target)] += CONNECTION_WEIGHT * count
            ties[(target, source)] += CONNECTION_WEIGHT * count
    return dict(ties)


def merge_ties(*parts: Mapping[tuple[int, int], float]) -> Ties:
    merged: Ties = defaultdict(float)
    for part in parts:
        for pair, weight in part.items():
            merged[pair] += weight
    return dict(merged)


def channels_with_replies(community: Community) -> set[int]:
    """The community's channels with at least one reply event (one index probe per channel):
    where answers can be seen; the others get ties from temporal adjacency."""
    events, channels = InteractionEvent._meta.db_table, Channel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id FROM {channels} AS c WHERE c.community_id = %s AND EXISTS ("
            f" SELECT 1 FROM {events} AS r WHERE r.channel_id = c.id AND r.kind = %s)",
            [community.pk, EventKind.REPLY.value],
        )
        return {channel for (channel,) in cursor.fetchall()}


def silent_channels(community: Community, replying: set[int] | None = None) -> list[int]:
    """The community's channels without any reply event (``replying``: those with, when the
    caller has found them)."""
    if replying is None:
        replying = channels_with_replies(community)
    channels = Channel.objects.filter(community=community).values_list("pk", flat=True)
    return sorted(pk for pk in channels if pk not in replying)


def adjacency_ties(
    community: Community,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    replying: set[int] | None = None,
) -> Ties:
    """Ties inferred from who speaks right after whom, in the community's channels that have
    no reply events at all; one window-function pass in the database."""
    events = InteractionEvent._meta.db_table
    if replying is None:
        replying = channels_with_replies(community)
    silent = [
        pk
        for pk in Channel.objects.filter(community=community).values_list("pk", flat=True)
        if pk not in replying
    ]
    if not silent:
        return {}
    where = [
        "e.community_id = %s",
        "e.kind = %s",
        "e.member_id IS NOT NULL",
        f"e.channel_id IN ({', '.join(['%s'] * len(silent))})",
    ]
    params: list[object] = [community.pk, EventKind.MESSAGE.value, *silent]
    if since is not None:
        where.append("e.occurred_at >= %s")
        params.append(db_moment(since))
    if until is not None:
        where.append("e.occurred_at < %s")
        params.append(db_moment(until))
    gap = seconds_between("occurred_at", "previous_at")
    sql = (
        f"SELECT member_id, previous_member, SUM({ADJACENCY_WEIGHT} * (1.0 - gap / %s))"
        f" FROM (SELECT member_id, previous_member, {gap} AS gap FROM ("
        " SELECT e.member_id, e.occurred_at,"
        " LAG(e.member_id) OVER turn AS previous_member,"
        " LAG(e.occurred_at) OVER turn AS previous_at"
        f" FROM {events} AS e WHERE {' AND '.join(where)}"
        " WINDOW turn AS (PARTITION BY e.channel_id ORDER BY e.occurred_at, e.id)"
        ") AS turns WHERE previous_member IS NOT NULL AND previous_member <> member_id"
        ") AS answers WHERE gap >= 0 AND gap < %s GROUP BY member_id, previous_member"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ADJACENCY_SECONDS, *params, ADJACENCY_SECONDS])
        return {(a, b): float(weight) for a, b, weight in cursor.fetchall()}


def member_graph(ties: Mapping[tuple[int, int], float]) -> ig.Graph:
    """A directed, weighted graph with a vertex per member (attribute ``member``)."""
    members = sorted({member for pair in ties for member in pair})
    index = {member: position for position, member in enumerate(members)}
    graph = ig.Graph(
        n=len(members),
        edges=[(index[a], index[b]) for a, b in ties],
        directed=True,
        vertex_attrs={"member": members},
        edge_attrs={"weight": [float(weight) for weight in ties.values()]},
    )
    return graph


@dataclass
class NetworkSummary:
    members: int
    ties: int
    total_weight: float
    reciprocity: float  # share of directed ties answered by a tie the other way
    centres: list[int]  # members, most central first (weighted degree)
    strength: dict[int, float]  # member -> weight of the ties they take part in
    top_share: float  # share of all tie weight that involves the top person
    subgroups: list[list[int]]  # Leiden communities, largest first
    modularity: float
    max_core: int  # the deepest k-core
    core: list[int]  # its members
    # k -> share of the remaining members newly cut off from the largest connected part once
    # the top k people are gone (how much falls apart without them)
    fragmentation: dict[int, float] = field(default_factory=dict)

    def camps(self, centres: int = 2) -> dict[int, int]:
        """Each member's camp: the sub-groups gathered around the ``centres`` most central
        people who sit in different sub-groups, each sub-group joining the centre it is most
        tied to (the karate club's split into the instructor's and the administrator's)."""
        return dict(self._camps.get(centres, {}))

    _camps: dict[int, dict[int, int]] = field(default_factory=dict, repr=False)


def _undirected(graph: ig.Graph) -> ig.Graph:
    undirected = graph.copy()
    undirected.to_undirected(mode="collapse", combine_edges={"weight": "sum"})
    return undirected


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """igraph's random choices from a fixed seed (same ties, same result), restoring the
    process's random state after."""
    previous = random.getstate()
    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)
        random.setstate(previous)


def _leiden(graph: ig.Graph) -> ig.VertexClustering:
    with seeded(LEIDEN_SEED):
        return graph.community_leiden(
            objective_function="modularity", weights="weight", n_iterations=-1
        )


def _fragmentation(graph: ig.Graph, ranked: list[int]) -> dict[int, float]:
    """k -> the share of the remaining people cut off once the top k leave: those of the main
    connected part who are no longer in its largest remaining piece (people already apart
    before they left do not count)."""
    membership = graph.connected_components().membership
    main = Counter(membership).most_common(1)[0][0] if membership else None
    out = {}
    for k in REMOVALS:
        if len(ranked) <= k:
            continue
        gone = set(ranked[:k])
        remaining = graph.vcount() - k
        kept = [v for v in range(graph.vcount()) if membership[v] == main and v not in gone]
        pieces = graph.induced_subgraph(kept).connected_components().sizes() if kept else []
        cut = len(kept) - max(pieces, default=0)
        out[k] = round(cut / remaining, 4) if remaining else 0.0
    return out


def _camps(
    graph: ig.Graph, membership: list[int], ranked: list[int], centres: int
) -> dict[int, int]:
    leaders: list[int] = []
    for vertex in ranked:
        if all(membership[vertex] != membership[leader] for leader in leaders):
            leaders.append(vertex)
        if len(leaders) == centres:
            break
    if not leaders:
        return {}
    # Tie weight from each sub-group to each leader's sub-group.
    pull: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for edge in graph.es:
        a, b = edge.tuple
        for one, other in ((a, b), (b, a)):
            for leader in leaders:
                if membership[other] == membership[leader]:
                    pull[membership[one]][leader] += edge["weight"]
    camp_of_group: dict[int, int] = {}
    for group in set(membership):
        own = [leader for leader in leaders if membership[leader] == group]
        if own:
            camp_of_group[group] = own[0]
        else:
            weights = pull.get(group, {})
            camp_of_group[group] = max(leaders, key=lambda leader: weights.get(leader, 0.0))
    members = graph.vs["member"]
    return {members[v]: members[camp_of_group[membership[v]]] for v in range(graph.vcount())}


def analyse(graph: ig.Graph, *, camps: tuple[int, ...] = (2, 3)) -> NetworkSummary:
    """The measures of one period's graph."""
    members = graph.vs["member"] if graph.vcount() else []
    if graph.vcount() == 0:
        return NetworkSummary(0, 0, 0.0, 0.0, [], {}, 0.0, [], 0.0, 0, [])
    undirected = _undirected(graph)
    strength = undirected.strength(weights="weight")
    ranked = sorted(range(graph.vcount()), key=lambda v: (-strength[v], members[v]))
    total = sum(undirected.es["weight"]) if undirected.ecount() else 0.0
    clusters = _leiden(undirected)
    groups = sorted(
        ([members[v] for v in cluster] for cluster in clusters), key=lambda g: (-len(g), g)
    )
    coreness = undirected.coreness()
    max_core = max(coreness)
    summary = NetworkSummary(
        members=graph.vcount(),
        ties=graph.ecount(),
        total_weight=round(total, 4),
        reciprocity=round(graph.reciprocity(ignore_loops=True, mode="default"), 4)
        if graph.ecount()
        else 0.0,
        centres=[members[v] for v in ranked],
        strength={members[v]: round(strength[v], 4) for v in range(graph.vcount())},
        top_share=round(strength[ranked[0]] / total, 4) if total else 0.0,
        subgroups=groups,
        modularity=round(clusters.modularity, 4),
        max_core=max_core,
        core=sorted(members[v] for v in range(graph.vcount()) if coreness[v] == max_core),
        fragmentation=_fragmentation(undirected, ranked),
    )
    summary._camps = {k: _camps(undirected, clusters.membership, ranked, k) for k in camps}
    return summary
