"""The member network: ties from events, and what its shape says — validated on Zachary's
karate club, whose split in two is known."""

from __future__ import annotations

import json

import igraph as ig
import networkx as nx
import pytest

from shequn.communities.services import do_create_community
from shequn.insights.network import analyse, interaction_ties, member_graph
from shequn.interactions.services import do_import
from shequn.members.models import Member


def karate_ties() -> dict[tuple[int, int], float]:
    club = ig.Graph.Famous("Zachary")
    ties: dict[tuple[int, int], float] = {}
    for a, b in club.get_edgelist():
        ties[(a, b)] = 1.0
        ties[(b, a)] = 1.0
    return ties


def test_karate_club_names_its_two_centres_and_their_camps():
    known = nx.karate_club_graph()
    club = {member: known.nodes[member]["club"] for member in known.nodes}
    summary = analyse(member_graph(karate_ties()))

    # Member 0 is the instructor (Mr. Hi), member 33 the administrator (the Officer).
    assert set(summary.centres[:2]) == {0, 33}
    camps = summary.camps(2)
    name = {0: "Mr. Hi", 33: "Officer"}
    agree = sum(name[camps[member]] == club[member] for member in club)
    assert agree / len(club) >= 0.9
    assert summary.reciprocity == 1.0  # every tie of the club goes both ways
    assert len(summary.subgroups) >= 2 and summary.modularity > 0.3
    # Without its top person the club loses more of its connectivity than without nobody.
    assert 0 <= summary.fragmentation[1] <= summary.fragmentation[5] < 1
    assert summary.top_share == pytest.approx(17 / 78, abs=1e-3)


def test_an_empty_period_gives_an_empty_network():
    summary = analyse(member_graph({}))
    assert summary.members == 0 and summary.centres == [] and summary.camps(2) == {}


@pytest.mark.django_db
def test_ties_come_from_replies_and_mentions_weighted_by_kind(tmp_path):
    community = do_create_community(slug="net", name="Net")
    messages = [
        {"platformMessageId": "m1", "sender": "ann", "accountName": "Ann", "timestamp": 1704100000,
         "type": 0, "content": "a question"},
        {"platformMessageId": "m2", "sender": "bob", "accountName": "Bob", "timestamp": 1704100060,
         "type": 25, "replyToMessageId": "m1", "content": "an answer"},
        {"platformMessageId": "m3", "sender": "bob", "accountName": "Bob", "timestamp": 1704100120,
         "type": 25, "replyToMessageId": "m1", "content": "and more"},
        {"platformMessageId": "m4", "sender": "ann", "accountName": "Ann", "timestamp": 1704100180,
         "type": 25, "replyToMessageId": "m2", "content": "thanks"},
        {"platformMessageId": "m5", "sender": "bob", "accountName": "Bob", "timestamp": 1704100240,
         "type": 0, "content": "see you @Ann"},
    ]  # fmt: skip
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps(
            {
                "chatlab": {"version": "0.0.2", "exportedAt": 1704200000},
                "meta": {"name": "g", "platform": "wechat", "type": "group", "groupId": "g1"},
                "members": [],
                "messages": messages,
            }
        ),
        encoding="utf-8",
    )
    do_import(community, path)
    ann = Member.objects.get(community=community, display_name="Ann").pk
    bob = Member.objects.get(community=community, display_name="Bob").pk

    ties = interaction_ties(community)

    assert ties == {(bob, ann): 2.5, (ann, bob): 1.0}  # two replies and a mention; a reply
    summary = analyse(member_graph(ties))
    assert summary.reciprocity == 1.0
    assert summary.centres == sorted([ann, bob])  # equally central: by id
    assert summary.total_weight == 3.5


def _chatlab(tmp_path, messages) -> object:
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps(
            {
                "chatlab": {"version": "0.0.2", "exportedAt": 1704200000},
                "meta": {"name": "g", "platform": "whatsapp", "type": "group", "groupId": "g2"},
                "members": [],
                "messages": messages,
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.django_db
def test_without_replies_quick_turns_become_ties_that_fade_with_the_gap(tmp_path):
    """A WhatsApp group has no reply data: who speaks right after whom stands in for it."""
    community = do_create_community(slug="wa", name="WA")
    start = 1704100000
    turns = [("ann", 0), ("bob", 60), ("ann", 90), ("ann", 100), ("cid", 700), ("bob", 1000)]
    messages = [
        {"platformMessageId": f"w{n}", "sender": who, "accountName": who.title(),
         "timestamp": start + at, "type": 0, "content": "hello"}
        for n, (who, at) in enumerate(turns)
    ]  # fmt: skip
    do_import(community, _chatlab(tmp_path, messages))
    ids = dict(Member.objects.filter(community=community).values_list("display_name", "pk"))
    ann, bob, cid = ids["Ann"], ids["Bob"], ids["Cid"]

    ties = interaction_ties(community)

    # bob answers ann after 60 s, ann bob after 30 s; ann's second message is her own turn;
    # cid comes 600 s later and bob 300 s after cid: outside the 300 s window.
    assert ties == {
        (bob, ann): pytest.approx(0.5 * (1 - 60 / 300)),
        (ann, bob): pytest.approx(0.5 * (1 - 30 / 300)),
    }
    assert cid not in {member for pair in ties for member in pair}


@pytest.mark.django_db
def test_channels_with_replies_are_not_guessed_at(tmp_path):
    community = do_create_community(slug="re", name="RE")
    messages = [
        {"platformMessageId": "a", "sender": "ann", "accountName": "Ann", "timestamp": 1704100000,
         "type": 0, "content": "hi"},
        {"platformMessageId": "b", "sender": "bob", "accountName": "Bob", "timestamp": 1704100010,
         "type": 0, "content": "hi"},
        {"platformMessageId": "c", "sender": "cid", "accountName": "Cid", "timestamp": 1704100020,
         "type": 25, "replyToMessageId": "a", "content": "hi ann"},
    ]  # fmt: skip
    do_import(community, _chatlab(tmp_path, messages))
    ids = dict(Member.objects.filter(community=community).values_list("display_name", "pk"))

    assert interaction_ties(community) == {(ids["Cid"], ids["Ann"]): 1.0}


@pytest.mark.django_db
def test_a_period_is_cut_at_the_communitys_local_midnight(tmp_path):
    """Shanghai is UTC+8: a reply at 03:00 on 1 February local time (19:00 UTC the day
    before) belongs to February, not to January."""
    import datetime as dt

    from shequn.insights.periods import local_bounds

    community = do_create_community(slug="sh", name="SH", time_zone="Asia/Shanghai")
    evening = int(dt.datetime(2024, 1, 31, 12, tzinfo=dt.UTC).timestamp())  # 20:00 local
    late = int(dt.datetime(2024, 1, 31, 19, tzinfo=dt.UTC).timestamp())  # 03:00 local, Feb 1
    messages = [
        {"platformMessageId": "q", "sender": "ann", "accountName": "Ann", "timestamp": evening,
         "type": 0, "content": "anyone?"},
        {"platformMessageId": "a1", "sender": "bob", "accountName": "Bob",
         "timestamp": evening + 60, "type": 25, "replyToMessageId": "q", "content": "me"},
        {"platformMessageId": "a2", "sender": "cid", "accountName": "Cid", "timestamp": late,
         "type": 25, "replyToMessageId": "q", "content": "me too"},
    ]  # fmt: skip
    do_import(community, _chatlab(tmp_path, messages))
    names = dict(Member.objects.filter(community=community).values_list("pk", "display_name"))

    since, until = local_bounds(community, dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    january = interaction_ties(community, since=since, until=until)
    since, until = local_bounds(community, dt.date(2024, 2, 1), dt.date(2024, 3, 1))
    february = interaction_ties(community, since=since, until=until)

    assert {(names[a], names[b]) for a, b in january} == {("Bob", "Ann")}
    assert {(names[a], names[b]) for a, b in february} == {("Cid", "Ann")}


def test_only_people_cut_off_by_the_top_leaving_count_as_falling_apart():
    """Two separate groups: without the bigger one's hub its five members are scattered, but
    the other group was apart all along and does not count."""
    ties = {}
    for centre, others in ((1, range(10, 15)), (2, range(20, 24))):
        for other in others:
            ties[(centre, other)] = ties[(other, centre)] = 1.0
    summary = analyse(member_graph(ties))
    assert summary.centres[0] == 1
    # 5 scattered people, 4 of them cut off from the largest remaining piece, of 10 left.
    assert summary.fragmentation[1] == 0.4
    # Without the two hubs and member 10: the bigger group's four others are scattered, three
    # cut off, of eight left; the smaller group's members were never in the main part.
    assert summary.fragmentation[3] == 0.375


@pytest.mark.django_db
def test_an_introduction_through_the_exchange_ties_both_members():
    from shequn.exchange.services import do_confirm_connection, do_create_post
    from shequn.insights.network import CONNECTION_WEIGHT, conversation_ties

    community = do_create_community(slug="ex", name="Exchange")
    ann = Member.objects.create(community=community, display_name="Ann")
    bob = Member.objects.create(community=community, display_name="Bob")
    need = do_create_post(community, {"kind": "need", "title": "A logo"}, member=ann)
    offer = do_create_post(community, {"kind": "offer", "title": "Logo design"}, member=bob)
    do_confirm_connection(need, offer)

    ties = interaction_ties(community)
    assert ties == {(ann.pk, bob.pk): CONNECTION_WEIGHT, (bob.pk, ann.pk): CONNECTION_WEIGHT}
    # An introduction is no conversation: reciprocity and deep links do not see it.
    assert conversation_ties(community) == {}


def test_the_drawing_does_not_depend_on_the_order_the_ties_were_read_in():
    # The karate club's ties all weigh the same, so the drawn edges (and the layout they give)
    # must not follow the order SQLite or PostgreSQL happened to return the rows in.
    from shequn.insights.drawing import network_drawing

    ties = karate_ties()
    summary = analyse(member_graph(ties))
    reversed_ties = dict(reversed(list(ties.items())))
    drawn = network_drawing(ties, summary, limit=20)
    assert network_drawing(reversed_ties, summary, limit=20) == drawn
    assert len(drawn["nodes"]) == 20 and drawn["edges"]
