"""Telegram Desktop JSON export (result.json), written here as tdesktop's exporter writes it.

Field names, order and value forms follow Telegram/SourceFiles/export/output/
export_output_json.cpp: ``date`` is the exporting computer's wall clock without an offset,
``date_unixtime`` a string of seconds, ``from_id`` "user123"/"channel123", ``text`` a string or an
array of strings and entity objects, ``text_entities`` every part as an object, reactors'
``date`` wall clock only. The exporting computer here is in UTC+8, so the wall-clock ``date``
and the real moment differ by eight hours.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import table_counts

from shequn.interactions.importers import detect_format, telegram
from shequn.interactions.importers.pipeline import ImportPipeline
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.importers.telegram import TelegramSource
from shequn.interactions.models import ImportRun, InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import
from shequn.members.models import Member

T0 = 1703001600  # 2023-12-19 16:00 UTC
EXPORTER_ZONE = dt.timezone(dt.timedelta(hours=8))
ALICE = ("Alice Wang", "user101")
BOB = ("Bob Li", "user102")
CAROL = ("Carol", "user103")
ERIN = ("Erin", "user105")


def wall(ts: int) -> str:
    """A moment as tdesktop's SerializeDate writes it: local time, ISO, no offset."""
    return dt.datetime.fromtimestamp(ts, EXPORTER_ZONE).replace(tzinfo=None).isoformat()


def text_fields(*parts: str | dict[str, Any]) -> dict[str, Any]:
    """``text`` (plain parts as strings) and ``text_entities`` (every part an object)."""
    if not parts:
        return {"text": "", "text_entities": []}
    entities = [{"type": "plain", "text": p} if isinstance(p, str) else p for p in parts]
    text: Any = parts[0] if len(parts) == 1 and isinstance(parts[0], str) else list(parts)
    return {"text": text, "text_entities": entities}


def message(
    msg_id: int, ts: int, who: tuple[str, str], *parts: str | dict[str, Any], **extra: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": msg_id,
        "type": "message",
        "date": wall(ts),
        "date_unixtime": str(ts),
        "from": who[0],
        "from_id": who[1],
    }
    reactions = extra.pop("reactions", None)
    fields.update(extra)
    fields.update(text_fields(*parts))
    if reactions is not None:
        fields["reactions"] = reactions
    return fields


def service(
    msg_id: int, ts: int, who: tuple[str, str], action: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": msg_id,
        "type": "service",
        "date": wall(ts),
        "date_unixtime": str(ts),
        "actor": who[0],
        "actor_id": who[1],
        "action": action,
        **extra,
        **text_fields(),
    }


def reaction(emoji: str, count: int, *who: tuple[str, str], at: int) -> dict[str, Any]:
    return {
        "type": "emoji",
        "count": count,
        "emoji": emoji,
        "recent": [{"from": w[0], "from_id": w[1], "date": wall(at)} for w in who],
    }


def chat(
    messages: list[dict[str, Any]],
    *,
    name: str = "Book club",
    chat_type: str = "private_group",
    chat_id: int = 4242,
) -> dict[str, Any]:
    return {"name": name, "type": chat_type, "id": chat_id, "messages": messages}


def full_export(
    chats: list[dict[str, Any]], left: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "about": "Here is the data you requested. Remember: Telegram is ad free, ...",
        "personal_information": {
            "user_id": 101,
            "first_name": "Alice",
            "last_name": "Wang",
            "phone_number": "+86 138 0000 0000",
            "username": "@alice_w",
            "bio": "reader",
        },
        "contacts": {"about": "This is your contact list.", "list": []},
        "chats": {"about": "This page lists all chats from this export.", "list": chats},
    }
    if left is not None:
        document["left_chats"] = {"about": "Chats you have left.", "list": left}
    return document


@pytest.fixture
def write_export(tmp_path: Path):
    def write(document: dict[str, Any], name: str = "result.json") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # tdesktop indents by one space and writes UTF-8 as is.
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    return write


GROUP = [
    service(1, T0, ALICE, "create_group", title="Book club", members=["Bob Li"]),
    message(
        2,
        T0 + 10,
        ALICE,
        "Welcome ",
        {"type": "mention_name", "text": "Carol", "user_id": 103},
        " and ",
        {"type": "mention", "text": "@somebody"},
        "! ",
        {"type": "bold", "text": "Read chapter 1"},
    ),
    message(
        3,
        T0 + 20,
        BOB,
        "Thanks!",
        reply_to_message_id=2,
        edited=wall(T0 + 25),
        edited_unixtime=str(T0 + 25),
    ),
    message(
        4,
        T0 + 30,
        CAROL,
        photo="photos/photo_1@19-12-2023_16-00-30.jpg",
        width=800,
        height=600,
        reactions=[reaction("👍", 3, ALICE, BOB, at=T0 + 90)],
    ),
    service(5, T0 + 40, ALICE, "invite_members", members=["Dave"]),
    service(6, T0 + 50, ERIN, "join_group_by_link", inviter="Alice Wang"),
    service(7, T0 + 60, ALICE, "remove_members", members=["Bob Li"]),
    service(8, T0 + 70, ERIN, "remove_members", members=["Erin"]),
    service(9, T0 + 80, ALICE, "pin_message", message_id=2),
    {"id": 10, "type": "unsupported"},
]


def events_by_id() -> dict[str, InteractionEvent]:
    rows = InteractionEvent.objects.select_related("member", "target_member", "channel")
    return {event.source_id: event for event in rows}


def test_single_chat_export_maps_people_replies_mentions_reactions_and_service_messages(
    community, write_export
):
    path = write_export(chat(GROUP))
    assert detect_format(path) == "telegram"

    summary = do_import(community, path)

    assert summary.source_counts == {
        "chats": 1,
        "members": 4,  # Alice, Bob, Carol (mentioned, then speaking), Erin
        "messages": 3,
        "service_messages": 6,
        "unsupported": 1,
        "mentions": 1,
        "mentions_unresolved": 1,  # @somebody: Telegram exports no usernames
        "reactions": 3,
        "reactions_unlisted": 1,
        "joins_unresolved": 1,  # Dave never spoke
    }
    # 3 messages, 1 mention, 2 reactions, create + pin, 2 joins of invitees, 1 join by link,
    # 2 leaves.
    assert summary.events_added == summary.events_read == 13
    channel = summary.channels["chat4242"]
    assert (channel.name, channel.platform) == ("Book club", "telegram")

    events = events_by_id()
    assert events["msg:1"].kind == "system"
    assert events["msg:1"].member.display_name == "Alice Wang"
    # The export holds no roles: founder and operator are for operators to assign.
    assert set(Member.objects.values_list("role", flat=True)) == {"member"}
    # Bob, named in create_group before he ever spoke, is resolved once he does.
    assert events["msg:1#join:0"].kind == "join"
    assert events["msg:1#join:0"].member.display_name == "Bob Li"
    assert events["msg:1#join:0"].attributes["invited_by"] == "user101"

    assert events["msg:2"].kind == "message"
    assert events["msg:2"].text == "Welcome Carol and @somebody! Read chapter 1"
    mention = events["msg:2#mention:user103"]
    assert (mention.kind, mention.member.display_name) == ("mention", "Alice Wang")
    assert mention.target_member.display_name == "Carol"  # her own name once she spoke

    assert events["msg:3"].kind == "reply"
    assert events["msg:3"].target_member.display_name == "Alice Wang"
    edited = dt.datetime.fromtimestamp(T0 + 25, dt.UTC).isoformat()
    assert events["msg:3"].attributes["edited"] == edited

    assert events["msg:4"].content_type == "image"
    assert events["msg:4"].text is None
    liked = events["msg:4#reaction:👍:user102"]
    assert (liked.kind, liked.member.display_name) == ("reaction", "Bob Li")
    assert liked.target_member.display_name == "Carol"
    # Reactors' dates are wall clock: placed with the message's own offset (UTC+8).
    assert liked.occurred_at == dt.datetime.fromtimestamp(T0 + 90, dt.UTC)

    dave = events["msg:5"]
    assert (dave.kind, dave.member, dave.attributes["subject_name"]) == ("join", None, "Dave")
    assert events["msg:6"].kind == "join"
    assert events["msg:6"].member.display_name == "Erin"
    assert events["msg:6"].attributes == {"action": "join_group_by_link", "inviter": "Alice Wang"}

    removed = events["msg:7"]
    assert (removed.kind, removed.member.display_name) == ("leave", "Bob Li")
    assert removed.attributes["removed_by"] == "user101"
    left = events["msg:8"]
    assert (left.kind, left.member.display_name) == ("leave", "Erin")
    assert "removed_by" not in left.attributes
    assert Member.objects.get(display_name="Erin").left_at == dt.datetime.fromtimestamp(
        T0 + 70, dt.UTC
    )

    assert events["msg:9"].kind == "system"
    assert events["msg:9"].parent_source_id == "msg:2"

    alice = Member.objects.get(display_name="Alice Wang")
    rollup = MemberDailyRollup.objects.get(member=alice)
    assert (rollup.messages, rollup.replies_received, rollup.mentions_given) == (1, 1, 1)
    assert (rollup.reactions_given, rollup.characters) == (1, len(events["msg:2"].text))
    carol = MemberDailyRollup.objects.get(member__display_name="Carol")
    assert (carol.mentions_received, carol.reactions_received) == (1, 2)


def test_reimport_adds_nothing(community, write_export):
    path = write_export(chat(GROUP))
    do_import(community, path)
    before = table_counts()
    rollups = list(MemberDailyRollup.objects.order_by("id").values())

    again = do_import(community, path)

    assert again.events_added == 0
    assert again.duplicates_skipped == again.events_read == 13
    assert again.members_new == 0
    after = table_counts()
    assert after["interactions.InteractionEvent"] == before["interactions.InteractionEvent"]
    assert after["members.Member"] == before["members.Member"]
    assert list(MemberDailyRollup.objects.order_by("id").values()) == rollups


def test_full_export_imports_groups_and_left_channels_and_skips_personal_chats(
    community, write_export
):
    supergroup = chat(
        [
            message(
                1,
                T0,
                BOB,
                "ping ",
                {"type": "mention", "text": "@Alice_W"},  # the exporter: the one known handle
                " ",
                {"type": "mention", "text": "@stranger"},
            ),
            message(2, T0 + 5, ALICE, "pong", reply_to_message_id=1),
            message(
                3,
                T0 + 6,
                ALICE,
                {"type": "mention_name", "text": "Bob", "user_id": 102},
                " said so",
                forwarded_from="Somebody else",
            ),
        ],
        name="Readers",
        chat_type="public_supergroup",
        chat_id=777,
    )
    personal = chat([message(1, T0, BOB, "secret")], name="Bob Li", chat_type="personal_chat")
    left_channel = chat(
        [message(5, T0, ("News", "channel888"), "Issue 1 is out", views=10)],
        name="News",
        chat_type="public_channel",
        chat_id=888,
    )
    path = write_export(full_export([personal, supergroup], left=[left_channel]))
    assert detect_format(path) == "telegram"

    summary = do_import(community, path)

    assert set(summary.channels) == {"channel777", "channel888"}
    assert summary.source_counts["chats"] == 2
    assert summary.source_counts["chats_skipped"] == 1
    assert summary.source_counts["mentions_unresolved"] == 1
    assert summary.source_counts["mentions_in_forwards"] == 1  # the forwarder did not write it
    events = events_by_id()
    assert not InteractionEvent.objects.filter(text="secret").exists()
    mention = InteractionEvent.objects.get(kind="mention")
    assert mention.source_id == "msg:1#mention:user101"
    assert mention.target_member.display_name == "Alice Wang"
    assert events["msg:2"].target_member.display_name == "Bob Li"
    alice = Member.objects.get(display_name="Alice Wang")
    assert alice.identities.get().handle == "alice_w"
    news = InteractionEvent.objects.get(channel__external_id="channel888")
    assert news.member.display_name == "News"
    assert "chats_only_exporter_messages" not in summary.source_counts


def test_a_group_exported_with_only_my_messages_is_pointed_out(community, write_export):
    """tdesktop's full export defaults to "Only my messages" for private groups."""
    mine = chat([message(1, T0, ALICE, "me"), message(2, T0 + 1, ALICE, "me again")])
    summary = do_import(community, write_export(full_export([mine])))
    assert summary.source_counts["chats_only_exporter_messages"] == 1


def test_errors_in_a_full_export_name_the_chat_and_message(community, write_export, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    good = chat([message(1, T0, BOB, "a"), message(2, T0 + 1, ALICE, "b")], chat_id=1)
    bad = chat(
        [message(1, T0, BOB, "a"), message(2, T0 + 1, ALICE, "b"), {"id": 3, "type": "message"}],
        chat_id=2,
    )
    path = write_export(full_export([good, bad]))
    before = table_counts()

    with pytest.raises(ImportFormatError) as error:
        do_import(community, path)

    assert error.value.location == "chats.list[1].messages[2]"
    assert "date" in error.value.problem
    assert str(path) in str(error.value)
    assert table_counts() == before


BASE = [message(1, T0, ALICE, "one"), message(2, T0 + 1, BOB, "two")]
MALFORMED = [
    ("no id", {"type": "message", "date_unixtime": str(T0)}, "field 'id' must be a int"),
    ("bad unixtime", {**BASE[0], "id": 9, "date_unixtime": "soon"}, "'date_unixtime'"),
    ("no date at all", {"id": 9, "type": "message", "from_id": "user1"}, "field 'date'"),
    ("bad wall clock", {"id": 9, "type": "message", "date": "19.12.2023"}, "ISO 8601"),
    ("unknown type", {**BASE[0], "id": 9, "type": "story"}, "unknown type 'story'"),
    ("text", {**BASE[0], "id": 9, "text": {"a": 1}, "text_entities": []}, "field 'text'"),
    ("from_id", {**BASE[0], "id": 9, "from_id": ["x"]}, "field 'from_id'"),
    ("reply to", {**BASE[0], "id": 9, "reply_to_message_id": "2"}, "'reply_to_message_id'"),
    ("reactions", {**BASE[0], "id": 9, "reactions": {"👍": 1}}, "field 'reactions'"),
    ("count", {**BASE[0], "id": 9, "reactions": [{"type": "emoji"}]}, "field 'count'"),
    (
        "mention id",
        {**BASE[0], "id": 9, "text_entities": [{"type": "mention_name", "text": "x"}]},
        "field 'user_id'",
    ),
    ("members", {**service(9, T0, ALICE, "invite_members"), "members": "Bob"}, "'members'"),
    ("not an object", ["a list"], "expected a JSON object"),
]


@pytest.mark.parametrize(("label", "bad", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_message_names_file_record_and_problem_and_changes_nothing(
    community, write_export, settings, label, bad, problem
):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # good messages are flushed before the bad one
    path = write_export(chat([*BASE, message(3, T0 + 2, CAROL, "three"), bad]))
    before = table_counts()

    with pytest.raises(ImportFormatError) as error:
        do_import(community, path)

    assert str(path) in str(error.value)
    assert error.value.location == "messages[3]"
    assert problem in error.value.problem
    assert table_counts() == before
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("document", "location", "problem"),
    [
        (chat(BASE, chat_id="4242"), "top level", "field 'id' must be a int"),  # type: ignore[arg-type]
        ({**chat(BASE), "messages": {"1": BASE[0]}}, "top level", "field 'messages'"),
        ([chat(BASE)], "top level", "expected a JSON object"),
    ],
    ids=["chat id", "messages", "array"],
)
def test_malformed_chat_is_rejected(community, write_export, document, location, problem):
    path = write_export(document)  # type: ignore[arg-type]
    with pytest.raises(ImportFormatError) as error:
        do_import(community, path, format_name="telegram")
    assert (error.value.location, problem in error.value.problem) == (location, True)
    assert InteractionEvent.objects.count() == 0


def test_truncated_json_is_rejected_and_nothing_is_kept(community, write_export, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    path = write_export(chat(GROUP))
    path.write_bytes(path.read_bytes()[:-200])
    before = table_counts()
    with pytest.raises(ImportFormatError, match="invalid JSON"):
        do_import(community, path)
    assert table_counts() == before


def test_a_full_export_without_chats_says_what_to_tick(community, write_export):
    document = full_export([])
    del document["chats"]
    with pytest.raises(ImportFormatError, match="holds no chat"):
        do_import(community, write_export(document))


def test_detection_is_specific(tmp_path, write_export):
    single = write_export(chat(BASE), "single/result.json")
    full = write_export(full_export([chat(BASE)]), "full/result.json")
    assert TelegramSource.sniff(single) and TelegramSource.sniff(full)
    assert detect_format(single.parent) == "telegram"  # the export folder itself
    others = {
        "chatlab.json": {"chatlab": {"version": "0.0.2"}, "meta": {"name": "g"}, "messages": []},
        "other.json": {"name": "x", "type": "group", "id": 1, "messages": []},
        "array.json": [{"name": "x"}],
    }
    for name, document in others.items():
        assert not TelegramSource.sniff(write_export(document, name)), name
    (tmp_path / "rows.csv").write_text("member_id,time\nu1,1703001600\n", encoding="utf-8")
    assert not TelegramSource.sniff(tmp_path / "rows.csv")
    assert not TelegramSource.sniff(tmp_path / "missing")


def test_an_export_folder_imports_its_result_json_and_progress_ends_at_the_json(
    community, write_export
):
    path = write_export(chat(GROUP), "ChatExport_2023-12-20/result.json")
    (path.parent / "photos").mkdir()
    (path.parent / "photos" / "photo_1.jpg").write_bytes(b"\0" * 100_000)
    seen: list[tuple[int, int]] = []

    source = TelegramSource(path.parent)
    ImportPipeline(
        community, source, progress=lambda done, total, n: seen.append((done, total))
    ).run()

    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert InteractionEvent.objects.count() == 13


def test_channel_name_replaces_a_single_chats_key_but_not_a_full_exports(community, write_export):
    summary = do_import(community, write_export(chat(BASE)), channel="club")
    assert set(summary.channels) == {"club"}
    with pytest.raises(ImportFormatError, match="single-chat export"):
        do_import(community, write_export(full_export([chat(BASE)]), "full.json"), channel="x")


def test_old_exports_are_read_in_the_given_zone_with_numeric_ids_and_no_entity_list(
    community, write_export
):
    """Older tdesktop versions wrote no date_unixtime, no text_entities, numeric from_id."""
    old = [
        {
            "id": 1,
            "type": "message",
            "date": wall(T0),
            "from": "Alice Wang",
            "from_id": 101,
            "text": ["hi ", {"type": "mention_name", "text": "Bob", "user_id": 102}],
        },
        {
            "id": 2,
            "type": "message",
            "date": wall(T0 + 60),
            "from": "Bob Li",
            "from_id": 102,
            "text": "hello",
            "reply_to_message_id": 1,
        },
    ]
    path = write_export(chat(old))

    ImportPipeline(community, TelegramSource(path, tz="Asia/Shanghai")).run()

    events = events_by_id()
    assert events["msg:1"].occurred_at == dt.datetime.fromtimestamp(T0, dt.UTC)
    assert events["msg:1#mention:user102"].target_member.display_name == "Bob Li"
    assert events["msg:2"].target_member.display_name == "Alice Wang"
    with pytest.raises(ImportFormatError, match="unknown time zone"):
        TelegramSource(path, tz="Mars/Olympus")
    # Without a zone the wall clock is read as UTC, eight hours off: hence the option.
    source = TelegramSource(path)
    first = next(r for r in source.records() if getattr(r, "source_id", "") == "msg:1")
    assert first.occurred_at == dt.datetime.fromtimestamp(T0 + 8 * 3600, dt.UTC)


def test_messages_in_forum_topics_are_not_replies_to_the_topic_opener(community, write_export):
    forum = [
        service(1, T0, ALICE, "topic_created", title="Chapter 1"),
        message(2, T0 + 1, BOB, "first thoughts", reply_to_message_id=1),
        message(3, T0 + 2, CAROL, "agreed", reply_to_message_id=2),
        message(4, T0 + 3, CAROL, "elsewhere", reply_to_message_id=99, reply_to_peer_id="channel9"),
    ]
    do_import(community, write_export(chat(forum, chat_type="private_supergroup")))
    events = events_by_id()
    assert (events["msg:2"].kind, events["msg:2"].thread_source_id) == ("message", "msg:1")
    assert events["msg:2"].target_member is None
    assert events["msg:3"].kind == "reply"
    assert events["msg:3"].target_member.display_name == "Bob Li"
    assert events["msg:4"].kind == "message"  # answers a message in another chat
    assert events["msg:4"].attributes["reply_to_peer_id"] == "channel9"


def test_self_joins_names_and_ambiguous_names(community, write_export):
    twin = ("Sam", "user201")
    other_twin = ("Sam", "user202")
    messages = [
        # A supergroup shows someone joining by themselves as "X invited X".
        service(1, T0, CAROL, "invite_members", members=["Carol"]),
        message(2, T0 + 1, twin, "hi"),
        message(3, T0 + 2, other_twin, "hi too"),
        service(4, T0 + 3, ALICE, "invite_members", members=["Sam", "Zoe"]),
        message(5, T0 + 4, ("Zoe", "user300"), "thanks for the invite"),
        service(6, T0 + 5, ALICE, "remove_members", members=["Sam"]),
        service(7, T0 + 6, ALICE, "invite_members", members=[None]),  # a deleted account
    ]
    summary = do_import(community, write_export(chat(messages, chat_type="private_supergroup")))
    events = events_by_id()
    assert events["msg:1"].member.display_name == "Carol"
    assert "subject_name" not in events["msg:1"].attributes
    assert Member.objects.get(display_name="Carol").joined_at == dt.datetime.fromtimestamp(
        T0, dt.UTC
    )
    # Two accounts are called Sam: the name resolves to neither.
    assert events["msg:4"].member is None
    assert events["msg:4#join:1"].member.display_name == "Zoe"
    assert events["msg:6"].member is None
    assert events["msg:7"].member is None
    assert summary.source_counts["joins_unresolved"] == 2
    assert summary.source_counts["leaves_unresolved"] == 1


def plain_walk(path: Path, **options: Any) -> tuple[list[str], dict[str, int], Any]:
    """Records, counts and error of the reference reader (every parse event in Python)."""
    source = TelegramSource(path, **options)
    records: list[str] = []
    try:
        records.extend(repr(record) for record in source._plain_records(0))
    except ImportFormatError as exc:
        return records, dict(source.counts), (exc.location, exc.problem)
    return records, dict(source.counts), None


def fast_read(path: Path, **options: Any) -> tuple[list[str], dict[str, int], Any]:
    source = TelegramSource(path, **options)
    records: list[str] = []
    try:
        records.extend(repr(record) for record in source.records())
    except ImportFormatError as exc:
        return records, dict(source.counts), (exc.location, exc.problem)
    return records, dict(source.counts), None


FULL_EXPORT = full_export(
    [
        chat(GROUP, chat_id=1),
        chat([], name="Quiet", chat_type="private_supergroup", chat_id=2),  # "messages": []
        chat(BASE, name="Bob Li", chat_type="personal_chat", chat_id=102),  # skipped
        chat(
            [message(1, T0, BOB, "hi", reactions=[reaction("👍", 2, ALICE, at=T0 + 5)])],
            chat_id=3,
        ),
    ],
    left=[chat(BASE, name="News", chat_type="public_channel", chat_id=888)],
)


@pytest.mark.parametrize("document", [chat(GROUP), FULL_EXPORT], ids=["single chat", "full export"])
def test_exports_are_read_in_one_pass_with_the_records_of_the_plain_walk(
    write_export, monkeypatch, document
):
    """The messages are built by ijson's C backend; only the structure around them is seen in
    Python. A tdesktop export never needs the plain walk (every event in Python)."""
    path = write_export(document)
    expected = plain_walk(path)
    assert expected[0] and expected[2] is None

    def no_replay(self, skip):
        raise AssertionError("read again with the plain walk")

    monkeypatch.setattr(TelegramSource, "_plain_records", no_replay)
    assert fast_read(path) == expected


@pytest.mark.parametrize("chunk", [5, 16, 64, 1000])
def test_reading_in_any_chunks_gives_the_same_records(write_export, monkeypatch, chunk):
    """Values, keys and empty arrays split between chunks (small ones may replay)."""
    path = write_export(FULL_EXPORT)
    expected = plain_walk(path)
    monkeypatch.setattr(telegram, "CHUNK", chunk)
    assert fast_read(path) == expected


@pytest.mark.parametrize(
    "document",
    [
        {**chat(BASE), "messages": {}},  # an empty map is not an empty array
        full_export([chat(BASE, chat_id=1), {**chat(BASE, chat_id=2), "messages": {}}]),
        full_export([chat(BASE, chat_id=1), []]),  # a chat that is no object
        full_export([chat(BASE, chat_id=1), {}]),
        {**chat(BASE), "name": {"nested": "object"}},
        {"messages": BASE, **chat([]), "id": 5},  # messages before the header, twice
        [chat(BASE)],
        {"item": 1, **chat(BASE)},
        {"chats.list": [chat(BASE)], "about": "a chats.list key reads like a chat list"},
    ],
)
def test_unusual_layouts_give_the_records_and_errors_of_the_plain_walk(write_export, document):
    path = write_export(document)
    assert fast_read(path) == plain_walk(path)


def test_malformed_json_in_a_full_export_names_the_same_message(write_export, settings):
    path = write_export(FULL_EXPORT)
    text = path.read_text(encoding="utf-8")
    cut = text.rindex('"reactions"')  # in chats.list[3]'s first message
    path.write_text(text[:cut] + "}" + text[cut:], encoding="utf-8")
    expected = plain_walk(path)
    assert expected[2][0] == "chats.list[3].messages[0]"
    assert "invalid JSON" in expected[2][1]
    assert fast_read(path) == expected
