"""Shirky's ladder: sharing, cooperation and collective action, and the stage reached."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shequn.communities.services import do_create_community
from shequn.insights.shirky import shirky_ladder
from shequn.interactions.services import do_import

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 2, 1, 4, tzinfo=dt.UTC)


def import_chatlab(community, tmp_path, messages: list[dict]) -> None:
    """Import ChatLab messages as one WeChat group export."""
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps(
            {
                "chatlab": {"version": "0.0.2", "exportedAt": 1707000000},
                "meta": {"name": "g", "platform": "wechat", "type": "group", "groupId": "g"},
                "members": [],
                "messages": messages,
            }
        ),
        encoding="utf-8",
    )
    do_import(community, path)


def test_a_thread_of_three_people_is_cooperation_and_links_are_sharing(tmp_path):
    community = do_create_community(slug="ladder", name="Ladder")
    rows = [
        ("m0", "ann", 7, None, "https://example.org/talk"),  # a link: sharing, opens a thread
        ("m1", "bob", 25, "m0", "good one"),
        ("m2", "cid", 25, "m0", "agreed"),
        ("m3", "ann", 25, "m0", "see you there"),
        ("m4", "dee", 0, None, "hi"),
        ("m5", "dee", 0, None, "anyone?"),
        ("m6", "bob", 0, None, "x" * 300),  # a long text: sharing
    ]
    messages = [
        {"platformMessageId": key, "sender": who, "accountName": who.title(), "type": kind,
         "timestamp": int((START + dt.timedelta(minutes=n)).timestamp()), "content": text,
         **({"replyToMessageId": parent} if parent else {})}
        for n, (key, who, kind, parent, text) in enumerate(rows)
    ]  # fmt: skip
    import_chatlab(community, tmp_path, messages)

    ladder = shirky_ladder(community, dt.date(2024, 3, 1))

    rungs = {rung.code: rung for rung in ladder.rungs}
    assert ladder.contributions == 7
    assert rungs["sharing"].share == pytest.approx(2 / 7) and rungs["sharing"].reached
    assert rungs["cooperation"].detail == {"contributions": 4, "threads": 1}
    assert rungs["cooperation"].share == pytest.approx(4 / 7) and rungs["cooperation"].reached
    assert not rungs["collective_action"].reached  # no activity drew the members together
    assert ladder.stage == "cooperation"


def test_nothing_said_reaches_no_rung():
    community = do_create_community(slug="empty-ladder", name="Empty")
    ladder = shirky_ladder(community, dt.date(2024, 3, 1))
    assert ladder.stage is None and all(rung.share is None for rung in ladder.rungs)


def test_an_activity_drawing_a_tenth_of_the_members_is_collective_action():
    from shequn.activities.services import (
        do_check_in,
        do_create_activity,
        do_publish_activity,
        do_register,
    )
    from shequn.members.models import Member

    community = do_create_community(slug="together", name="Together")
    people = [Member.objects.create(community=community, display_name=f"P{n}") for n in range(4)]
    start = START + dt.timedelta(days=3)
    meetup = do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Clean-up day",
                "mode": "offline",
                "content_type": "social",
                "place": "Park",
                "capacity": 10,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=3),
            },
        )
    )
    for person in people[:3]:
        registration = do_register(meetup, person, override=True)
        do_check_in(meetup, registration.code, at=start, recompute=False)

    ladder = shirky_ladder(community, dt.date(2024, 3, 1))

    collective = {rung.code: rung for rung in ladder.rungs}["collective_action"]
    # the three who came are the active members (attending is activity)
    assert collective.detail == {"activities": 1, "members": 3, "active": 3}
    assert collective.reached and ladder.stage == "collective_action"


@pytest.mark.parametrize(("gap", "cooperative"), [(300, 1), (301, 0)])
def test_without_replies_a_conversation_holds_turns_up_to_five_minutes_apart(
    tmp_path, gap, cooperative
):
    # A WeChat-style chat (no reply data): turns exactly five minutes apart are one
    # conversation; a second more, and each turn stands alone. (SQLite's julianday() had made
    # some exact five-minute gaps 300.0000036 s.)
    community = do_create_community(slug=f"burst{gap}", name="Bursts")
    messages = [
        {"platformMessageId": f"b{n}", "sender": who, "accountName": who.title(), "type": 0,
         "timestamp": int((START + dt.timedelta(days=1, seconds=n * gap)).timestamp()),
         "content": "hello there"}
        for n, who in enumerate(["ann", "bob", "cid", "ann", "bob", "cid"] * 3)
    ]  # fmt: skip
    import_chatlab(community, tmp_path, messages)

    ladder = shirky_ladder(community, dt.date(2024, 3, 1))

    rungs = {rung.code: rung for rung in ladder.rungs}
    assert rungs["cooperation"].detail["threads"] == cooperative
