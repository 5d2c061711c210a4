"""Conversations: reply chains resolved to their thread roots, questions nobody answered, and
noise (empty, flood, repeats) — from real import formats, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest

from shequn.communities.services import do_create_community
from shequn.insights.conversation import noise, unanswered
from shequn.insights.dynamics import MEASURED, NO_DATA, group_dynamics
from shequn.insights.shirky import shirky_ladder
from shequn.interactions.services import do_import
from shequn.members.models import Member

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 2, 1, 4, tzinfo=dt.UTC)
FEB, MARCH = dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def at(hours: float) -> str:
    return (START + dt.timedelta(hours=hours)).isoformat()


def import_csv(community, tmp_path: Path, rows: list[dict[str, Any]], **options: Any) -> None:
    """Rows with message_id, member_id, time, and optionally text, reply_to, channel, role."""
    path = tmp_path / "chat.csv"
    columns = ["message_id", "member_id", "member_name", "time", "text", "reply_to"]
    columns += ["channel", "role"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({"member_name": row["member_id"].title(), **row})
    do_import(community, path, format_name="csv", **options)


def say(key: str, who: str, hours: float, text: str = "", reply_to: str = "", **more: str) -> dict:
    return {"message_id": key, "member_id": who, "time": at(hours), "text": text,
            "reply_to": reply_to, **more}  # fmt: skip


def import_chatlab(community, tmp_path: Path, rows, members=()) -> None:
    """Rows of (sender, seconds after START, ChatLab type, content)."""
    messages = [
        {"platformMessageId": f"c{n}", "sender": who, "accountName": who.title(), "type": kind,
         "timestamp": int((START + dt.timedelta(seconds=second)).timestamp()), "content": text}
        for n, (who, second, kind, text) in enumerate(rows)
    ]  # fmt: skip
    path = tmp_path / "chatlab.json"
    path.write_text(
        json.dumps(
            {
                "chatlab": {"version": "0.0.2", "exportedAt": 1707000000},
                "meta": {"name": "g", "platform": "wechat", "type": "group", "groupId": "g"},
                "members": list(members),
                "messages": messages,
            }
        ),
        encoding="utf-8",
    )
    do_import(community, path)


def make_bot(community, name: str) -> None:
    assert Member.objects.filter(community=community, display_name=name).update(is_bot=True) == 1


# --------------------------------------------------------------------------- thread roots


def test_a_reply_to_a_reply_joins_its_roots_thread_for_cooperation(tmp_path):
    community = do_create_community(slug="chains", name="Chains")
    import_csv(
        community,
        tmp_path,
        [
            # Ann asked in January; in February Bob answers, Cid answers Bob, Dee answers Cid.
            # Only the first names the root: without following the chain, no thread has 3 people
            say("m0", "ann", -24 * 10, "Which editor do you use?"),
            say("m1", "bob", 1, "vim", "m0"),
            say("m2", "cid", 2, "vim? emacs!", "m1"),
            say("m3", "dee", 3, "both are fine", "m2"),
            # replies to a message that is not in the data still share its thread
            say("x1", "eve", 4, "agreed", "gone"),
            say("x2", "fay", 5, "me too", "x1"),
            say("x3", "gus", 6, "same here", "gone"),
            # two people chatting back and forth are not cooperation
            say("p0", "ann", 7, "lunch?"),
            say("p1", "bob", 8, "sure", "p0"),
            say("p2", "ann", 9, "great", "p1"),
        ],
    )

    ladder = shirky_ladder(community, MARCH)

    cooperation = {rung.code: rung for rung in ladder.rungs}["cooperation"]
    # Ann's January question is outside the period: the thread's February turns are 3 people's
    assert cooperation.detail == {"contributions": 6, "threads": 2}
    assert ladder.contributions == 9
    assert cooperation.share == pytest.approx(6 / 9)


def test_a_reply_cycle_in_bad_data_ends(tmp_path):
    community = do_create_community(slug="cycle", name="Cycle")
    import_csv(
        community,
        tmp_path,
        [say("a", "ann", 1, "x", "c"), say("b", "bob", 2, "y", "a"), say("c", "cid", 3, "z", "b")],
    )
    ladder = shirky_ladder(community, MARCH)
    assert ladder.contributions == 3  # the recursion is bounded: the query returns


# --------------------------------------------------------------------------- unanswered


def test_a_question_answered_after_49_hours_is_unanswered(tmp_path):
    community = do_create_community(slug="late", name="Late")
    import_csv(
        community,
        tmp_path,
        [
            say("q1", "ann", 0, "How do I join the meetup?"),
            say("a1", "bob", 49, "Sign up on the page", "q1"),  # too late
            say("q2", "cid", 1, "Where is it？"),  # a full-width question mark
            say("a2", "dee", 3, "At the library", "q2"),
            say("s1", "eve", 2, "Hello everyone"),  # not a question: not counted
            say("later", "fay", 24 * 10, "done"),
        ],
    )

    result = unanswered(community, FEB, MARCH)

    assert result.value == pytest.approx(0.5)
    assert result.detail == {
        "counted": "questions",
        "openers": 2,
        "unanswered": 1,
        "pending": 0,
        "channels": 1,
    }
    assert unanswered(community, FEB, MARCH, hours=50).value == 0.0


def test_only_another_member_answers_even_through_a_reply_chain(tmp_path):
    community = do_create_community(slug="self", name="Self")
    import_csv(
        community,
        tmp_path,
        [
            # Ann answers her own question: still unanswered
            say("q1", "ann", 0, "Does anyone know a good venue?"),
            say("r1", "ann", 1, "Found one myself", "q1"),
            # Bob follows up on his question; Cid answers the follow-up (a reply to a reply)
            say("q2", "bob", 0, "Any tips for newcomers?"),
            say("r2", "bob", 1, "Especially about the rules?", "q2"),
            say("r3", "cid", 5, "Read the charter", "r2"),
            say("later", "dee", 24 * 10, "bye"),
        ],
    )

    result = unanswered(community, FEB, MARCH)

    assert (result.detail["openers"], result.detail["unanswered"]) == (2, 1)
    assert result.value == pytest.approx(0.5)


def test_recent_openers_are_pending_not_unanswered(tmp_path):
    community = do_create_community(slug="recent", name="Recent")
    import_csv(
        community,
        tmp_path,
        [
            say("q1", "ann", 0, "Anyone around?"),
            say("a1", "bob", 1, "yes", "q1"),
            # asked a day before the last imported event: nobody can know yet
            say("q2", "cid", 24 * 5, "What time tomorrow?"),
            say("x", "dee", 24 * 6, "hi"),
        ],
    )
    result = unanswered(community, FEB, MARCH)
    assert result.detail["pending"] == 1
    assert (result.detail["openers"], result.detail["unanswered"]) == (1, 0)
    assert result.value == 0.0


def test_channels_without_reply_data_are_left_out(tmp_path):
    community = do_create_community(slug="mixed", name="Mixed")
    import_csv(
        community,
        tmp_path,
        [
            # a WhatsApp-like channel without replies: nobody can tell what was answered
            say("w1", "ann", 0, "Who has the slides?", channel="chat"),
            say("w2", "bob", 1, "I do", channel="chat"),
            say("f1", "cid", 0, "Is the forum working?", channel="forum"),
            say("f2", "dee", 2, "Yes", "f1", channel="forum"),
            say("later", "eve", 24 * 10, "bye", channel="chat"),
        ],
    )
    result = unanswered(community, FEB, MARCH)
    assert result.detail["channels"] == 1
    assert (result.detail["openers"], result.detail["unanswered"]) == (1, 0)

    quiet = do_create_community(slug="no-replies", name="No replies")
    import_csv(quiet, tmp_path, [say("w1", "ann", 0, "Anyone?"), say("w2", "bob", 80, "no")])
    assert unanswered(quiet, FEB, MARCH).value is None
    dissipative = group_dynamics(quiet, MARCH).forces["dissipative"].components
    assert {c.code: c.status for c in dissipative}["unanswered"] == NO_DATA


def test_without_questions_or_stored_text_every_thread_opener_counts(tmp_path):
    community = do_create_community(slug="threads", name="Threads")
    rows = [
        say("t1", "ann", 0, "Photos from Saturday"),
        say("t2", "bob", 1, "Lovely?", "t1"),  # a question in a reply opens nothing
        say("t3", "cid", 2, "New member here"),
        say("t4", "dee", 3, "Meeting notes"),
        say("t5", "ann", 4, "Thanks all", "t4"),
        say("later", "eve", 24 * 10, "bye"),
    ]
    import_csv(community, tmp_path, rows)
    result = unanswered(community, FEB, MARCH)
    # bob answered ann's photos and ann dee's notes; nobody welcomed cid (eve's is pending)
    assert result.detail["counted"] == "threads"
    assert (result.detail["openers"], result.detail["unanswered"]) == (3, 1)
    assert result.detail["pending"] == 1

    hidden = do_create_community(slug="no-text", name="No text")
    import_csv(hidden, tmp_path, [{**row, "text": "Really?"} for row in rows], store_text=False)
    # texts were not stored: no question can be recognised, the openers are counted
    assert unanswered(hidden, FEB, MARCH).detail["counted"] == "threads"


def test_staff_and_bots_neither_open_threads_nor_bots_answer(tmp_path):
    community = do_create_community(slug="staffed", name="Staffed")
    import_csv(
        community,
        tmp_path,
        [
            say("o1", "org", 0, "Who is coming on Friday?", role="founder"),  # not counted
            say("q1", "ann", 1, "How do I get a badge?"),
            say("b1", "bot", 1.01, "See the FAQ!", "q1"),  # a bot's auto-reply answers nothing
            say("q2", "bob", 2, "Can I bring a friend?"),
            say("r2", "org", 3, "Of course", "q2"),  # the founder's answer counts
            say("later", "cid", 24 * 10, "bye"),
        ],
    )
    make_bot(community, "Bot")
    result = unanswered(community, FEB, MARCH)
    assert (result.detail["openers"], result.detail["unanswered"]) == (2, 1)


def write_dump(folder: Path, **files: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<{name.lower()}>"]
        for row in rows:
            attributes = " ".join(f"{key}={quoteattr(str(value))}" for key, value in row.items())
            lines.append(f"  <row {attributes} />")
        lines.append(f"</{name.lower()}>")
        (folder / f"{name}.xml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_stack_exchange_questions_are_its_question_posts(tmp_path):
    community = do_create_community(slug="se", name="SE")

    def post(post_id: int, owner: int, kind: int, hours: float, body: str, **extra) -> dict:
        when = (START + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000")
        return {"Id": post_id, "PostTypeId": kind, "CreationDate": when, "Score": 0,
                "OwnerUserId": owner, "Body": body, **extra}  # fmt: skip

    users = [
        {"Id": n, "DisplayName": name, "CreationDate": "2024-01-01T00:00:00.000"}
        for n, name in enumerate(["A", "B", "C", "D"], 1)
    ]
    posts = [
        post(10, 1, 1, 0, "<p>Staking rewards are late.</p>", Title="Late rewards"),
        post(11, 2, 2, 2, "<p>Wait an epoch.</p>", ParentId=10),
        post(12, 3, 1, 1, "<p>My wallet will not sync.</p>", Title="Sync"),
        post(13, 3, 2, 3, "<p>Fixed it by restarting.</p>", ParentId=12),  # her own answer
        post(14, 4, 5, 4, "<p>What is this tag for?</p>"),  # a tag wiki: not a question
        post(15, 4, 1, 24 * 10, "<p>Later question</p>", Title="Later"),
    ]
    do_import(community, write_dump(tmp_path / "site", Users=users, Posts=posts))

    result = unanswered(community, FEB, MARCH)

    assert result.detail["counted"] == "questions"
    assert (result.detail["openers"], result.detail["unanswered"]) == (2, 1)


# --------------------------------------------------------------------------- noise


def test_flood_repeats_and_empty_messages_are_noise_each_counted_once(tmp_path):
    community = do_create_community(slug="noisy", name="Noisy")
    spam = "Buy cheap followers now at example.shop"
    text, sticker, voice = 0, 5, 2
    rows = [("ann", 5 * n, text, spam) for n in range(7)]  # 7 in 30 s: 6 repeats, 2 flood
    rows += [("bob", 20 * n, text, f"point number {n}") for n in range(6)]  # 6 in 100 s: fine
    rows += [("cid", 3600 * n, text, "thanks") for n in range(3)]  # short texts repeat freely
    rows += [("cid", 7200, text, "See you at the meetup on Friday")]
    rows += [("cid", 9000, text, "See you at the meetup on Friday")]  # a repeat
    rows += [("dee", 600, sticker, ""), ("dee", 700, voice, "")]  # a sticker is empty, a voice not
    rows += [("org", n, text, "WELCOME WELCOME") for n in range(8)]  # staff: left out
    rows += [("bot", n, sticker, "") for n in range(4)]  # a bot: left out
    import_chatlab(
        community,
        tmp_path,
        rows,
        members=[{"platformId": "org", "accountName": "Org", "roles": [{"id": "owner"}]}],
    )
    make_bot(community, "Bot")

    result = noise(community, FEB, MARCH)

    assert result.detail == {
        "messages": 7 + 6 + 3 + 2 + 2,
        "noise": 6 + 1 + 1,  # ann's 6 (repeats, 2 of them flood too), cid's repeat, the sticker
        "empty": 1,
        "flood": 2,
        "repeats": 7,
    }
    assert result.value == pytest.approx(8 / 20)


def test_a_flood_is_counted_per_channel_and_strictly_within_the_minute(tmp_path):
    community = do_create_community(slug="channels", name="Channels")

    def burst(who: str, seconds: list[float], channel: str, tag: str) -> list[dict]:
        return [
            say(f"{tag}{n}", who, (3600 + second) / 3600, f"{tag} {n}", channel=channel)
            for n, second in enumerate(seconds)
        ]

    rows = []
    # ann: 8 messages in 40 s, alternating between two channels: 4 in each, no flood
    rows += burst("ann", [0, 10, 20, 30], "general", "a") + burst(
        "ann", [5, 15, 25, 35], "dev", "b"
    )
    # bob: 6 in one channel within 50 s, 5 in another in between: the 6th is a flood
    rows += burst("bob", [0, 10, 20, 30, 40, 50], "general", "c")
    rows += burst("bob", [5, 15, 25, 35, 45], "dev", "d")
    # cid: the 6th message exactly 60 s after the 1st is no flood; dee's, 59 s after, is
    rows += burst("cid", [0, 12, 24, 36, 48, 60], "general", "e")
    rows += burst("dee", [0, 12, 24, 36, 48, 59], "general", "f")
    import_csv(community, tmp_path, rows)

    result = noise(community, FEB, MARCH)

    assert result.detail["messages"] == 8 + 11 + 6 + 6
    assert result.detail["flood"] == 2  # bob's 6th in general, dee's 6th


def test_a_flood_is_measured_to_the_microsecond(db):
    # Slack keeps message times to the microsecond: a sixth message 59.9996 s after the first
    # is a flood (julianday() keeps milliseconds only and had made it 60 s on SQLite).
    from shequn.communities.models import Channel
    from shequn.interactions.models import InteractionEvent

    community = do_create_community(slug="subms", name="Sub ms")
    channel = Channel.objects.create(community=community, platform="slack", external_id="c")
    ann = Member.objects.create(community=community, display_name="Ann")
    first = dt.datetime(2024, 2, 10, 12, 0, 0, 400, tzinfo=dt.UTC)
    moments = [first] + [first.replace(microsecond=0) + dt.timedelta(seconds=s)
                         for s in (10, 20, 30, 40, 60)]  # fmt: skip
    InteractionEvent.objects.bulk_create(
        InteractionEvent(
            community=community, channel=channel, member=ann, kind="message", occurred_at=at,
            day=at.date(), source_id=f"s{n}", content_type="text", text_length=9,
        )
        for n, at in enumerate(moments)
    )  # fmt: skip
    assert noise(community, FEB, MARCH).detail["flood"] == 1


def test_noise_counts_the_period_in_the_communitys_own_time_zone(tmp_path):
    community = do_create_community(slug="shanghai", name="Shanghai", time_zone="Asia/Shanghai")
    # 1 February, 01:00 in Shanghai is still 31 January in UTC
    first_hour = dt.datetime(2024, 2, 1, 1, tzinfo=community.zoneinfo)
    offset = (first_hour - START).total_seconds()
    import_chatlab(community, tmp_path, [("ann", offset, 0, "Happy new month"), ("ann", 0, 5, "")])
    result = noise(community, FEB, MARCH)
    assert result.detail["messages"] == 2 and result.detail["empty"] == 1
    assert shirky_ladder(community, MARCH, days=29).contributions == 2  # from 1 February too


def test_group_dynamics_scores_unanswered_and_noise(tmp_path):
    community = do_create_community(slug="dissipation", name="Dissipation")
    import_csv(
        community,
        tmp_path,
        [
            say("q1", "ann", 0, "Who runs the next session?"),
            say("a1", "bob", 1, "I can", "q1"),
            say("q2", "cid", 2, "Is there parking?"),
            say("e1", "dee", 3, ""),  # empty
            say("later", "eve", 24 * 10, "See you all next month"),
        ],
    )
    dissipative = {
        c.code: c for c in group_dynamics(community, MARCH).forces["dissipative"].components
    }
    assert dissipative["unanswered"].status == MEASURED
    assert dissipative["unanswered"].value == 0.5 and dissipative["unanswered"].score == 50.0
    assert dissipative["unanswered"].detail["counted"] == "questions"
    # one message in five is noise: two thirds of the 30 % that scores full
    assert dissipative["noise"].value == pytest.approx(0.2)
    assert dissipative["noise"].score == pytest.approx(66.7)
    assert dissipative["noise"].detail["empty"] == 1
