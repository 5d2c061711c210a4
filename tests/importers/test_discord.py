"""DiscordChatExporter JSON: files are written as DCE's JsonMessageWriter.cs writes them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import table_counts

from shequn.communities.models import Channel
from shequn.interactions.importers import detect_format, source_class
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.models import ImportRun, InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

GUILD = {"id": "900000000000000001", "name": "Club", "iconUrl": "https://cdn.example/icon.png"}
GENERAL = {
    "id": "800000000000000001",
    "type": "GuildTextChat",
    "categoryId": "700000000000000001",
    "category": "Text Channels",
    "name": "general",
    "topic": None,
}
ROLES = [{"id": "600000000000000001", "name": "Moderator", "color": "#1ABC9C", "position": 3}]


def user(
    uid: str,
    name: str,
    nickname: str | None = None,
    *,
    discriminator: str = "0000",
    bot: bool = False,
    roles: list[dict[str, Any]] | None = None,
    with_roles: bool = True,
) -> dict[str, Any]:
    """WriteUserAsync: roles are written for authors and mentions, not for reaction users."""
    obj: dict[str, Any] = {
        "id": uid,
        "name": name,
        "discriminator": discriminator,
        "nickname": nickname or name,
        "color": None,
        "isBot": bot,
    }
    if with_roles:
        obj["roles"] = roles or []
    obj["avatarUrl"] = f"https://cdn.discordapp.com/avatars/{uid}/abc.png?size=512"
    return obj


ALICE = user("1001", "alice", "Alice A.", roles=ROLES)
BOB = user("1002", "bob", discriminator="4821")
CAROL = user("1003", "carol", "Carol")
HELPER = user("1009", "HelperBot", bot=True)


def emoji(name: str, emoji_id: str = "") -> dict[str, Any]:
    return {
        "id": emoji_id,  # Snowflake?.ToString(): "" for a standard emoji
        "name": name,
        "code": "thumbsup" if name == "👍" else name,
        "isAnimated": False,
        "imageUrl": "https://cdn.example/emoji.svg",
    }


def reaction(name: str, users: list[dict[str, Any]] | None, *, emoji_id: str = "", count=None):
    obj: dict[str, Any] = {"emoji": emoji(name, emoji_id)}
    obj["count"] = count if count is not None else len(users or [])
    if users is not None:
        obj["users"] = [{k: v for k, v in u.items() if k != "roles"} for u in users]
    return obj


def message(
    mid: str,
    author: dict[str, Any],
    content: str,
    timestamp: str,
    *,
    kind: str = "Default",
    mentions: list[dict[str, Any]] | None = None,
    reactions: list[dict[str, Any]] | None = None,
    reference: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": mid,
        "type": kind,
        "timestamp": timestamp,
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": author,
        "attachments": [],
        "components": [],
        "embeds": [],
        "stickers": [],
        "reactions": reactions or [],
        "mentions": mentions or [],
    }
    if reference:
        obj["reference"] = {
            "type": "Default",
            "messageId": reference,
            "channelId": GENERAL["id"],
            "guildId": GUILD["id"],
        }
    obj.update(extra)
    obj["inlineEmojis"] = []
    return obj


def export(messages: list[dict[str, Any]], channel: dict[str, Any] | None = None) -> dict:
    return {
        "guild": GUILD,
        "channel": channel or GENERAL,
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-03-05T10:00:00.1234567+08:00",
        "messages": messages,
        "messageCount": len(messages),
    }


def write(path: Path, document: dict[str, Any]) -> Path:
    # Utf8JsonWriter, Indented, UnsafeRelaxedJsonEscaping: two-space indent, raw non-ASCII.
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


MESSAGES = [
    message(
        "5001",
        ALICE,
        "Welcome everyone! @bob please read the rules",
        "2024-03-01T09:30:00.123+08:00",
        mentions=[BOB],
        reactions=[
            reaction("👍", [BOB, CAROL, ALICE]),
            reaction("partyparrot", [BOB], emoji_id="400000000000000001"),
        ],
    ),
    message(
        "5002",
        BOB,
        "Thanks! cc @Carol",
        "2024-03-01T09:31:00+08:00",
        kind="Reply",
        mentions=[ALICE, CAROL],  # Alice is only the reply ping
        reference="5001",
    ),
    message(
        "5003", CAROL, "Joined the server.", "2024-03-01T01:32:00+00:00", kind="GuildMemberJoin"
    ),
    message(
        "5004",
        ALICE,
        "Pinned a message.",
        "2024-03-01T09:33:00+08:00",
        kind="ChannelPinnedMessage",
        reference="5001",
    ),
    message(
        "5005",
        HELPER,
        "Your rank is 3",
        "2024-03-01T09:34:00+08:00",
        kind="20",
        interaction={"id": "300000000000000001", "name": "rank", "user": CAROL},
    ),
    message(
        "5006",
        CAROL,
        "",
        "2024-03-01T09:35:00+08:00",
        attachments=[
            {
                "id": "200000000000000001",
                "url": "https://cdn.discordapp.com/attachments/1/2/cat.png",
                "fileName": "cat.png",
                "fileSizeBytes": 12345,
            }
        ],
    ),
]


@pytest.fixture
def general(tmp_path: Path) -> Path:
    return write(
        tmp_path / "Club - Text Channels - general [800000000000000001].json", export(MESSAGES)
    )


def events() -> dict[str, InteractionEvent]:
    rows = InteractionEvent.objects.select_related("member", "target_member")
    return {event.source_id: event for event in rows}


def test_import_maps_messages_replies_mentions_reactions_joins_and_members(community, general):
    assert detect_format(general) == "discord"

    summary = do_import(community, general)

    # 6 messages, 1 mention by Alice + 1 by Bob, 4 reactions with users.
    assert summary.events_added == summary.events_read == 12
    assert summary.members_new == 4
    assert summary.source_counts == {
        "channels": 1,
        "files": 1,
        "members": 4,
        "messages": 6,
        "replies": 1,
        "joins": 1,
        "system_messages": 1,
        "mentions": 2,
        "reactions": 4,
        "reaction_users": 4,
    }
    channel = Channel.objects.get()
    assert (channel.platform, channel.external_id, channel.name) == (
        "discord",
        "800000000000000001",
        "general",
    )

    found = events()
    assert found["msg:5001"].kind == "message"
    assert found["msg:5001"].occurred_at == dt.datetime(2024, 3, 1, 1, 30, 0, 123000, tzinfo=dt.UTC)
    assert found["msg:5001"].attributes == {"reactions": {"👍": 3, "partyparrot": 1}}
    reply = found["msg:5002"]
    assert reply.kind == "reply" and reply.parent_source_id == "msg:5001"
    assert reply.target_member.display_name == "Alice A."
    # The reply ping to Alice is not a second interaction; the written-out @Carol is.
    assert "msg:5002#mention:1001" not in found
    assert found["msg:5002#mention:1003"].target_member.display_name == "Carol"
    assert found["msg:5001#mention:1002"].target_member.display_name == "bob"
    assert found["msg:5003"].kind == "join" and found["msg:5003"].member.display_name == "Carol"
    assert found["msg:5004"].kind == "system"
    assert found["msg:5004"].attributes == {
        "type": "ChannelPinnedMessage",
        "reference": {"messageId": "5001", "channelId": GENERAL["id"]},
    }
    bot_reply = found["msg:5005"]
    assert bot_reply.kind == "message" and bot_reply.member.is_bot
    assert bot_reply.attributes["interaction"] == {"name": "rank", "user": "1003"}
    assert found["msg:5006"].content_type == "image"

    thumbs = found["msg:5001#reaction:👍:1002"]
    assert thumbs.kind == "reaction" and thumbs.member.display_name == "bob"
    assert thumbs.target_member.display_name == "Alice A."
    assert found["msg:5001#reaction:👍:1001"].target_member is None  # own message
    parrot = found["msg:5001#reaction:400000000000000001:1002"]
    assert parrot.attributes == {"emoji": "partyparrot"}

    alice = Identity.objects.get(platform_user_id="1001")
    assert alice.profile == {"username": "alice", "discord_roles": ["Moderator"]}
    assert alice.member.role == "member"  # Discord roles never become shequn roles
    assert Identity.objects.get(platform_user_id="1002").handle == "bob#4821"
    assert alice.handle == "alice"
    assert Member.objects.get(identities__platform_user_id="1009").is_bot

    rollup = MemberDailyRollup.objects.get(member=alice.member)
    assert (rollup.messages, rollup.replies_received, rollup.mentions_given) == (1, 1, 1)
    assert rollup.reactions_received == 3  # bob twice, carol once; not her own
    assert rollup.characters == len(MESSAGES[0]["content"])


def test_reimport_adds_nothing(community, general):
    do_import(community, general)
    before = table_counts()
    rollups = list(MemberDailyRollup.objects.order_by("id").values())

    again = do_import(community, general)

    assert again.events_added == 0 and again.duplicates_skipped == again.events_read == 12
    assert again.members_new == 0 and again.members_updated == 0
    after = table_counts()
    assert after["interactions.InteractionEvent"] == before["interactions.InteractionEvent"]
    assert after["members.Member"] == before["members.Member"]
    assert list(MemberDailyRollup.objects.order_by("id").values()) == rollups


def test_reactions_without_users_keep_only_their_counts(community, tmp_path):
    """Exports from DCE versions before reaction users were written."""
    old = message(
        "5101",
        ALICE,
        "hi",
        "2024-03-01T09:30:00+00:00",
        reactions=[reaction("👍", None, count=7), reaction("🎉", None, count=2)],
    )
    summary = do_import(community, write(tmp_path / "old.json", export([old])))
    assert summary.events_added == 1
    assert summary.source_counts["reactions"] == 9
    assert "reaction_users" not in summary.source_counts
    assert InteractionEvent.objects.get().attributes == {"reactions": {"👍": 7, "🎉": 2}}


def test_a_reaction_user_does_not_erase_roles_stored_earlier(community, tmp_path):
    do_import(community, write(tmp_path / "a.json", export(MESSAGES[:1])))
    later = message(
        "5201", CAROL, "hello", "2024-03-02T09:30:00+00:00", reactions=[reaction("👍", [ALICE])]
    )
    do_import(community, write(tmp_path / "b.json", export([later])))
    profile = Identity.objects.get(platform_user_id="1001").profile
    assert profile["discord_roles"] == ["Moderator"]


def test_oldest_export_layout_without_nickname_roles_mentions_or_reference(community, tmp_path):
    """DiscordChatExporter.Domain's writer: no categoryId, nickname, roles, mentions, stickers."""
    author = {
        "id": "1001",
        "name": "alice",
        "discriminator": "1234",
        "isBot": False,
        "avatarUrl": "https://cdn.discordapp.com/avatars/1001/abc.png",
    }
    old = {
        "id": "5301",
        "type": "Default",
        "timestamp": "2020-07-04T15:49:15.02+00:00",
        "timestampEdited": "2020-07-04T15:49:19.756+00:00",
        "callEndedTimestamp": None,
        "isPinned": True,
        "content": "see https://example.org",
        "author": author,
        "attachments": [],
        "embeds": [],
        "reactions": [
            {
                "emoji": {"id": None, "name": "👍", "isAnimated": False, "imageUrl": "x.svg"},
                "count": 1,
            }
        ],
    }
    channel = {
        "id": "800",
        "type": "GuildTextChat",
        "category": "Text",
        "name": "old",
        "topic": None,
    }
    document = {
        "guild": {"id": "9", "name": "Old", "iconUrl": "i.png"},
        "channel": channel,
        "dateRange": {"after": None, "before": None},
        "messages": [old],
        "messageCount": 1,
    }
    path = write(tmp_path / "old.json", document)
    assert detect_format(path) == "discord"
    do_import(community, path)
    event = InteractionEvent.objects.get()
    assert event.content_type == "link"
    assert event.attributes == {"pinned": True, "edited": True, "reactions": {"👍": 1}}
    identity = Identity.objects.get()
    assert (identity.handle, identity.member.display_name) == ("alice#1234", "alice")
    assert identity.profile == {"username": "alice"}


def test_thread_is_a_channel_of_its_own_noting_its_parent(community, tmp_path):
    thread = {
        "id": "810000000000000001",
        "type": "GuildPublicThread",
        "categoryId": GENERAL["id"],  # DCE: a thread's "category" is its parent channel
        "category": "general",
        "name": "Rules discussion",
        "topic": None,
    }
    messages = [
        message("5401", BOB, "first", "2024-03-01T10:00:00+00:00"),
        message(
            "5402", CAROL, "agreed", "2024-03-01T10:01:00+00:00", kind="Reply", reference="5401"
        ),
    ]
    summary = do_import(community, write(tmp_path / "thread.json", export(messages, thread)))
    assert summary.source_counts["threads"] == 1
    channel = Channel.objects.get()
    assert (channel.external_id, channel.name) == (
        "810000000000000001",
        "general › Rules discussion",
    )
    found = events()
    assert {e.thread_source_id for e in found.values()} == {"thread:810000000000000001"}
    assert found["msg:5401"].attributes == {"parent_channel_id": GENERAL["id"]}
    assert found["msg:5402"].target_member.display_name == "bob"


def test_group_dm_recipients_added_and_removed(community, tmp_path):
    group = {
        "id": "820",
        "type": "DirectGroupTextChat",
        "categoryId": None,
        "category": None,
        "name": "friends",
        "topic": None,
    }
    messages = [
        message(
            "5501",
            ALICE,
            "Added a recipient.",
            "2024-03-01T10:00:00Z",
            kind="RecipientAdd",
            mentions=[BOB],
        ),
        message(
            "5502",
            BOB,
            "Removed a recipient.",
            "2024-03-02T10:00:00Z",
            kind="RecipientRemove",
            mentions=[BOB],
        ),
        message(
            "5503",
            ALICE,
            "Removed a recipient.",
            "2024-03-03T10:00:00Z",
            kind="RecipientRemove",
            mentions=[CAROL],
        ),
    ]
    do_import(community, write(tmp_path / "dm.json", export(messages, group)))
    found = events()
    added = found["msg:5501"]
    assert added.kind == "join" and added.member.display_name == "bob"
    assert added.attributes == {"type": "RecipientAdd", "added_by": "1001"}
    assert found["msg:5502"].kind == "leave" and "removed_by" not in found["msg:5502"].attributes
    assert found["msg:5503"].attributes["removed_by"] == "1001"
    assert not InteractionEvent.objects.filter(kind="mention").exists()
    bob = Member.objects.get(identities__platform_user_id="1002")
    assert bob.left_at == dt.datetime(2024, 3, 2, 10, tzinfo=dt.UTC)


def test_folder_of_exports_is_one_channel_each_and_skips_other_json(community, tmp_path):
    folder = tmp_path / "Club"
    (folder / "general.json_Files").mkdir(parents=True)
    write(folder / "general.json", export(MESSAGES[:2]))
    random = {**GENERAL, "id": "800000000000000002", "name": "random"}
    write(
        folder / "random.json", export([message("5601", BOB, "hi", "2024-03-01T10:00:00Z")], random)
    )
    (folder / "general.json_Files" / "config.json").write_text('{"theme": "dark"}')
    assert detect_format(folder) == "discord"

    summary = do_import(community, folder)

    assert summary.source_counts["files"] == 2 and summary.source_counts["skipped_files"] == 1
    assert sorted(Channel.objects.values_list("name", flat=True)) == ["general", "random"]
    # One member per account and channel, as for every multi-channel platform.
    assert Identity.objects.filter(platform_user_id="1002").count() == 2


def test_channel_option_puts_a_folder_into_one_channel(community, tmp_path):
    write(tmp_path / "a.json", export(MESSAGES[:2]))
    random = {**GENERAL, "id": "800000000000000002", "name": "random"}
    write(tmp_path / "b.json", export([message("5601", BOB, "hi", "2024-03-01T10:00:00Z")], random))
    summary = do_import(community, tmp_path, channel="club-discord")
    assert Channel.objects.get().external_id == "club-discord"
    assert summary.source_counts["members"] == 3
    assert Identity.objects.filter(platform_user_id="1002").count() == 1


def test_progress_reaches_the_whole_folder(community, tmp_path):
    write(tmp_path / "a.json", export(MESSAGES))
    write(tmp_path / "b.json", export(MESSAGES[:1], {**GENERAL, "id": "2", "name": "b"}))
    source = source_class("discord")(tmp_path)
    for _record in source.records():
        pass
    done, total = source.progress()
    assert done == total == sum(p.stat().st_size for p in tmp_path.glob("*.json"))


def test_detection_tells_discord_from_other_json(tmp_path, write_chatlab):
    chatlab = write_chatlab([])
    assert detect_format(chatlab) == "chatlab"
    assert not source_class("discord").sniff(chatlab)
    other = tmp_path / "other.json"
    other.write_text('{"channel": {"id": "1"}, "guild": {}, "messages": []}')
    assert not source_class("discord").sniff(other)
    dce = write(tmp_path / "dce.json", export([]))
    assert not source_class("chatlab").sniff(dce)
    assert not source_class("csv").sniff(dce)


def _without(obj: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != field}


BAD = message("5999", BOB, "bad", "2024-03-01T10:00:00Z")
MALFORMED = [
    ("no author", _without(BAD, "author"), "missing the 'author' object"),
    ("no id", _without(BAD, "id"), "field 'id' must be a non-empty string"),
    ("bad date", {**BAD, "timestamp": "yesterday"}, "field 'timestamp' is not an ISO 8601 date"),
    ("no offset", {**BAD, "timestamp": "2024-03-01T10:00:00"}, "has no time zone offset"),
    ("author id", {**BAD, "author": _without(BOB, "id")}, "field 'author.id' must be"),
    ("content", {**BAD, "content": 5}, "field 'content' must be a string or null"),
    ("mentions", {**BAD, "mentions": "bob"}, "field 'mentions' must be a list"),
    ("reaction", {**BAD, "reactions": [{"emoji": emoji("👍"), "count": "3"}]}, "reactions[0]"),
    (
        "reaction user",
        {**BAD, "reactions": [{"emoji": emoji("👍"), "count": 1, "users": [{"name": "x"}]}]},
        "field 'reactions[0].users[0].id' must be a non-empty string",
    ),
    ("mention", {**BAD, "mentions": [None]}, "missing the 'mentions[0]' object"),
    ("message", "just text", "expected a JSON object"),
]


@pytest.mark.parametrize(("label", "bad", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_message_names_file_record_and_problem_and_changes_nothing(
    community, tmp_path, settings, label, bad, problem
):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # good rows are flushed before the bad one
    path = write(tmp_path / "bad.json", export([*MESSAGES[:4], bad]))
    before = table_counts()

    with pytest.raises(ImportFormatError) as error:
        do_import(community, path)

    assert error.value.path == str(path)
    assert error.value.location == "messages[4]"
    assert problem in error.value.problem
    assert table_counts() == before
    assert not ImportRun.objects.exists()


def test_truncated_file_in_a_folder_names_that_file(community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    write(tmp_path / "a.json", export(MESSAGES))
    broken = write(tmp_path / "b.json", export(MESSAGES, {**GENERAL, "id": "2", "name": "b"}))
    broken.write_bytes(broken.read_bytes()[:-300])
    before = table_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import(community, tmp_path, format_name="discord")
    assert error.value.path == str(broken)
    assert "invalid JSON" in error.value.problem
    assert error.value.location.startswith("messages[")
    assert table_counts() == before


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"guild": GUILD, "messages": []}, "missing the 'channel' object"),
        ({"guild": GUILD, "channel": {**GENERAL, "id": ""}, "messages": []}, "field 'channel.id'"),
        ({"guild": GUILD, "channel": GENERAL}, "no 'messages' array"),
        ([1, 2], "expected a JSON object"),
    ],
    ids=["no channel", "channel id", "no messages", "array"],
)
def test_malformed_header_is_rejected(community, tmp_path, document, problem):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ImportFormatError) as error:
        do_import(community, path, format_name="discord")
    assert error.value.path == str(path)
    assert error.value.location == "top level"
    assert problem in error.value.problem
    assert not InteractionEvent.objects.exists()


def test_folder_without_exports_is_rejected(community, tmp_path):
    (tmp_path / "notes.json").write_text("{}")
    with pytest.raises(ImportFormatError, match="no DiscordChatExporter JSON export"):
        do_import(community, tmp_path, format_name="discord")


def _records(path: Path) -> list[str]:
    return [repr(record) for record in source_class("discord")(path).records()]


@pytest.mark.parametrize("indent", [None, 4, "\t", 0], ids=["compact", "4", "tab", "0"])
def test_any_json_layout_and_long_messages_read_the_same(tmp_path, indent):
    # Messages are read in batches cut between messages; a long message spans several reads,
    # and braces, commas and line breaks in strings must not cut a batch.
    long = message("5100", BOB, "x" * 40_000 + '},\n{"id": "1"}\n}', "2024-03-01T09:40:00+08:00")
    messages = [*MESSAGES, long] * 40
    dce = write(tmp_path / "dce.json", export(messages))
    other = tmp_path / "other.json"
    other.write_text(json.dumps(export(messages), indent=indent, ensure_ascii=False), "utf-8")
    expected = _records(dce)
    assert len(expected) > 40 * len(MESSAGES)
    assert _records(other) == expected


def test_integer_beyond_64_bits_is_invalid_json_at_its_message(tmp_path):
    huge = message(
        "5101",
        BOB,
        "big",
        "2024-03-01T09:40:00+08:00",
        attachments=[{"fileName": "a.png", "fileSizeBytes": 2**64}],
    )
    path = write(tmp_path / "big.json", export([*MESSAGES, huge, *MESSAGES]))
    with pytest.raises(ImportFormatError) as error:
        _records(path)
    assert error.value.location == f"messages[{len(MESSAGES)}]"
    assert "invalid JSON" in error.value.problem
