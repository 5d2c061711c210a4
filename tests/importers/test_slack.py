"""Slack workspace exports, written as Slack writes them: a 2016-era day file (with Slack's
``\\/`` escaping, ``file`` objects, ``file_comment``) and a current one (threads, ``files``,
``user_profile``, ``blocks``), as a folder and as a zip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import SHARED_DATA, table_counts
from django.utils import translation

from shequn.communities.models import Channel
from shequn.interactions.importers import detect_format, slack, source_class
from shequn.interactions.importers.pipeline import ImportPipeline
from shequn.interactions.importers.records import EventRecord, ImportFormatError
from shequn.interactions.importers.slack import SlackSource
from shequn.interactions.models import EventKind, ImportRun, InteractionEvent, MemberDailyRollup
from shequn.interactions.selectors import member_totals
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

pytestmark = pytest.mark.django_db

HOUSTON = SHARED_DATA / "houstondatavis-slack-2016"
UTC = dt.UTC


def profile(name: str, real: str, **extra: Any) -> dict[str, Any]:
    return {
        "avatar_hash": "g78dc7b2e1bf",
        "real_name": real,
        "real_name_normalized": real,
        "email": f"{name}@example.invalid",
        "image_24": "https://secure.gravatar.com/avatar/78dc.jpg?s=24",
        "image_72": "https://secure.gravatar.com/avatar/78dc.jpg?s=72",
        **extra,
    }


def slack_user(uid: str, name: str, real: str, **flags: Any) -> dict[str, Any]:
    """A users.json entry with the keys and order of a 2016 export."""
    return {
        "id": uid,
        "team_id": "T1",
        "name": name,
        "deleted": False,
        "status": None,
        "color": "43761b",
        "real_name": real,
        "tz": "America/Chicago",
        "tz_label": "Central Daylight Time",
        "tz_offset": -18000,
        "profile": profile(name, real, **flags.pop("profile", {})),
        "is_admin": flags.get("is_admin", False),
        "is_owner": flags.get("is_owner", False),
        "is_primary_owner": flags.get("is_primary_owner", False),
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": flags.get("is_bot", False),
    }


USERS = [
    slack_user(
        "U1",
        "alice",
        "Alice Zhang",
        is_admin=True,
        is_owner=True,
        is_primary_owner=True,
        profile={"title": "Organiser", "display_name": "alice"},
    ),
    slack_user("U2", "bob", "Bob Li", is_admin=True),
    slack_user("U3", "carol", ""),
    # A deleted account keeps only these keys (as in the 2016 export).
    {
        "id": "U4",
        "team_id": "T1",
        "name": "dave",
        "deleted": True,
        "profile": {"avatar_hash": "x", "email": "dave@example.invalid"},
    },
    slack_user("UB1", "githubbot", "GitHub", is_bot=True, profile={"bot_id": "B1"}),
]


def topic(value: str = "", creator: str = "", last_set: str = "0") -> dict[str, str]:
    return {"value": value, "creator": creator, "last_set": last_set}


def conversation(cid: str, name: str, members: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "created": "1433558319",
        "creator": "U1",
        "is_archived": extra.pop("is_archived", False),
        "is_general": extra.pop("is_general", False),
        "members": members,
        "topic": topic(),
        "purpose": topic("a place to talk", "U1", "1433558320"),
        **extra,
    }


CHANNELS = [
    conversation("C1", "general", ["U1", "U2", "U3", "U4"], is_general=True),
    conversation("C2", "meetup-", ["U1", "U3"]),
    conversation("C3", "meetup", [], is_archived=True),
    conversation("C4", "讨论", ["U1"]),
]
GROUPS = [conversation("G1", "secret", ["U1", "U2"])]
MPIMS = [conversation("G2", "mpdm-alice--bob--carol-1", ["U1", "U2", "U3"])]
DMS = [{"id": "D1", "created": 1452873600, "members": ["U1", "U2"]}]

FILE_URL = "https://club.slack.com/files/bob/F1/chart.png"


def file_object(**extra: Any) -> dict[str, Any]:
    return {
        "id": "F1",
        "created": 1452873800,
        "timestamp": 1452873800,
        "name": "chart.png",
        "title": "chart.png",
        "mimetype": "image/png",
        "filetype": "png",
        "pretty_type": "PNG",
        "user": "U2",
        "editable": False,
        "size": 1234,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": True,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": "https://files.slack.com/files-pri/T1-F1/chart.png?t=xoxe-REDACTED",
        "permalink": FILE_URL,
        "channels": ["C1"],
        "groups": [],
        "ims": [],
        "comments_count": 1,
        **extra,
    }


FILE_REACTIONS = [{"name": "clap", "users": ["U1", "U3"], "count": 2}]
HELLO = "Hello <@U2|bob> and <@U3>, slides at <http://example.com/s|example.com/s> &amp; more"
DAY_2016 = [
    {
        "user": "U3",
        "type": "message",
        "subtype": "channel_join",
        "text": "<@U3|carol> has joined the channel",
        "ts": "1452873600.000002",
    },
    {
        "type": "message",
        "user": "U1",
        "text": HELLO,
        "ts": "1452873700.000003",
        "edited": {"user": "U1", "ts": "1452873710.000000"},
        "reactions": [
            {"name": "+1", "users": ["U2", "U3"], "count": 2},
            {"name": "clap::skin-tone-2", "users": ["U1"], "count": 1},
        ],
    },
    {
        "type": "message",
        "subtype": "file_share",
        "text": f"<@U2|bob> uploaded a file: <{FILE_URL}|chart.png>",
        "file": file_object(reactions=FILE_REACTIONS),
        "user": "U2",
        "upload": True,
        "display_as_bot": False,
        "username": "<@U2|bob>",
        "bot_id": None,
        "ts": "1452873800.000004",
    },
    {
        "type": "message",
        "subtype": "file_comment",
        "text": f"<@U1|alice> commented on U2's file <{FILE_URL}|chart.png>: Nice chart",
        "file": file_object(reactions=FILE_REACTIONS),
        "comment": {
            "id": "Fc1",
            "created": 1452873900,
            "timestamp": 1452873900,
            "user": "U1",
            "is_intro": False,
            "comment": "Nice chart",
            "channel": "",
        },
        "is_intro": False,
        "ts": "1452873900.000005",
    },
    {
        "text": "New commit pushed",
        "username": "github",
        "bot_id": "B1",
        "type": "message",
        "subtype": "bot_message",
        "ts": "1452874000.000006",
    },
    {
        "text": "Zap!",
        "username": "Zapier",
        "icons": {"image_48": "https://zapier.example/i.png"},
        "bot_id": "B9",
        "type": "message",
        "subtype": "bot_message",
        "ts": "1452874100.000007",
    },
    {
        "text": "added an integration to this channel: <https://club.slack.com/services/B1|github>",
        "bot_id": "B1",
        "type": "message",
        "subtype": "bot_add",
        "user": "U1",
        "ts": "1452874200.000008",
    },
    {
        "user": "U1",
        "topic": "Meetup Feb 13",
        "type": "message",
        "subtype": "channel_topic",
        "text": "<@U1|alice> set the channel topic: Meetup Feb 13",
        "ts": "1452874300.000009",
    },
    {
        "type": "message",
        "subtype": "pinned_item",
        "user": "U1",
        "item_type": "C",
        "attachments": [
            {
                "fallback": "[January 15th, 2016] alice: Hello",
                "ts": "1452873700.000003",
                "channel_id": "C1",
                "channel_name": "general",
                "is_msg_unfurl": True,
                "text": "Hello",
            }
        ],
        "text": "<@U1|alice> pinned a message to this channel.",
        "ts": "1452874400.000010",
    },
    # Some exports name a user "U00" on renames (a Slack bug): nobody acted.
    {
        "user": "U00",
        "old_name": "random",
        "name": "general",
        "type": "message",
        "subtype": "channel_name",
        "text": 'has renamed the channel from "random" to "general"',
        "ts": "1452874500.000011",
    },
    {
        "user": "U4",
        "type": "message",
        "subtype": "channel_leave",
        "text": "<@U4|dave> has left the channel",
        "ts": "1452874600.000012",
    },
]


def user_profile(name: str, real: str) -> dict[str, Any]:
    return {
        "avatar_hash": "g123",
        "image_72": "https://a.slack-edge.com/x.png",
        "first_name": real.split()[0],
        "real_name": real,
        "display_name": name,
        "team": "T1",
        "name": name,
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def rich_text(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "rich_text",
            "block_id": "Ab1",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


def modern(uid: str, ts: str, text: str, **extra: Any) -> dict[str, Any]:
    """A message as current exports write it."""
    return {
        "client_msg_id": f"5c905e3c-6a6f-40ee-9b0f-{ts[-6:]:0>12}",
        "type": "message",
        "text": text,
        "user": uid,
        "ts": ts,
        "team": "T1",
        "user_team": "T1",
        "source_team": "T1",
        "user_profile": user_profile(uid.lower(), f"{uid} Person"),
        "blocks": rich_text(text),
        **extra,
    }


PARENT_TS = "1452960000.000100"
DAY_MODERN = [
    modern(
        "U1",
        PARENT_TS,
        "Who comes to the meetup?",
        thread_ts=PARENT_TS,
        reply_count=3,
        reply_users_count=3,
        latest_reply="1452960180.000400",
        reply_users=["U2", "U1", "U3"],
        replies=[
            {"user": "U2", "ts": "1452960060.000200"},
            {"user": "U1", "ts": "1452960120.000300"},
        ],
        is_locked=False,
        subscribed=False,
    ),
    modern(
        "U2",
        "1452960060.000200",
        "<@U1> me, see you there",
        thread_ts=PARENT_TS,
        parent_user_id="U1",
    ),
    modern("U1", "1452960120.000300", "Great", thread_ts=PARENT_TS, parent_user_id="U1"),
    {
        "type": "message",
        "subtype": "thread_broadcast",
        "text": "me too",
        "user": "U3",
        "ts": "1452960180.000400",
        "thread_ts": PARENT_TS,
        "root": {
            "text": "Who comes to the meetup?",
            "user": "U1",
            "thread_ts": PARENT_TS,
            "ts": PARENT_TS,
            "reply_count": 3,
        },
    },
    {
        "type": "message",
        "text": "",
        "files": [file_object(id="F2", user="U3", name="map.png")],
        "upload": False,
        "user": "U3",
        "display_as_bot": False,
        "ts": "1452960240.000500",
    },
    {
        "user": "USLACKBOT",
        "type": "message",
        "text": "Reminder: meetup tonight.",
        "ts": "1452960300.000600",
    },
    # Someone from another workspace in a shared channel: only the message knows their name.
    {
        **modern("U9", "1452960360.000700", "hello from next door"),
        "user_profile": user_profile("eve", "Eve Ext"),
    },
]
DAY_ME = [
    {
        "type": "message",
        "subtype": "me_message",
        "user": "U3",
        "text": "waves",
        "ts": "1453118152.744641",
    }
]


def write_json(path: Path, value: Any, *, escape_slashes: bool = False) -> None:
    """JSON as Slack's exporter writes it: 4-space indent; 2016 exports escape "/" as "\\/"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(value, indent=4, ensure_ascii=False)
    path.write_text(text.replace("/", "\\/") if escape_slashes else text, encoding="utf-8")


def write_export(
    folder: Path, days: dict[str, list[dict[str, Any]]] | None = None, **files: list[dict[str, Any]]
) -> Path:
    """An unpacked export: metadata files (users, channels, groups, ...) and day files."""
    metadata = {
        "users": USERS,
        "channels": CHANNELS,
        "groups": GROUPS,
        "mpims": MPIMS,
        "dms": DMS,
        **files,
    }
    for name, value in metadata.items():
        if value is not None:
            write_json(folder / f"{name}.json", value, escape_slashes=True)
    write_json(
        folder / "integration_logs.json",
        [
            {
                "user_id": "U1",
                "user_name": "alice",
                "date": "1445146852",
                "change_type": "added",
                "service_type": "GitHub",
            }
        ],
    )
    for name, messages in (days if days is not None else DAYS).items():
        write_json(folder / name, messages, escape_slashes=name.startswith("general/2016-01-15"))
    return folder


DAYS = {
    "general/2016-01-15.json": DAY_2016,
    "general/2016-01-16.json": DAY_MODERN,
    "general/2016-01-18.json": DAY_ME,
    "meetup-/2016-01-15.json": [
        {"type": "message", "user": "U3", "text": "hi from meetup-", "ts": "1452873650.000001"}
    ],
    "meetup/2015-06-10.json": [
        {"type": "message", "user": "U1", "text": "old channel", "ts": "1433937600.000002"}
    ],
    "讨论/2016-01-15.json": [
        {"type": "message", "user": "U1", "text": "你好", "ts": "1452873660.000001"}
    ],
    "secret/2016-01-15.json": [
        {"type": "message", "user": "U2", "text": "private hello", "ts": "1452873660.000001"}
    ],
    "mpdm-alice--bob--carol-1/2016-01-15.json": [
        {"type": "message", "user": "U1", "text": "group dm", "ts": "1452873670.000001"}
    ],
    "D1/2016-01-15.json": [
        {"type": "message", "user": "U2", "text": "dm", "ts": "1452873680.000001"}
    ],
}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = write_export(tmp_path / "club-slack")
    # Canvases sit in channel folders too; they are not day files.
    (folder / "general" / "canvas_in_the_conversation.json").write_text("{}", encoding="utf-8")
    return folder


class _UnflaggedName(zipfile.ZipInfo):
    """Writes its name's UTF-8 bytes without the UTF-8 flag, as Slack's exporter does."""

    __slots__ = ()

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("cp437"), self.flag_bits


def zip_export(
    folder: Path,
    target: Path,
    *,
    prefix: str = "",
    utf8_flag: bool = True,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Zip a folder; without the UTF-8 flag, names are stored as Slack's exporter stores them:
    UTF-8 bytes that readers decode as cp437 unless told otherwise."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            name = prefix + path.relative_to(folder).as_posix()
            if utf8_flag or name.isascii():
                info = zipfile.ZipInfo(name, date_time=(2016, 7, 31, 0, 0, 0))
            else:
                info = _UnflaggedName(name.encode("utf-8").decode("cp437"), (2016, 7, 31, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, path.read_bytes())
    return target


def events(community) -> dict[tuple[str, str], InteractionEvent]:
    return {
        (e.channel.external_id, e.source_id): e
        for e in InteractionEvent.objects.filter(community=community).select_related(
            "member", "target_member", "channel"
        )
    }


def member(channel_id: str, uid: str) -> Member:
    return Identity.objects.get(channel__external_id=channel_id, platform_user_id=uid).member


SOURCE_COUNTS = {
    "users": 5,
    "channels": 4,
    "private_channels": 1,
    "group_dms_skipped": 1,
    "direct_messages_skipped": 1,
    "day_files": 7,
    "messages": 23,
    "edited": 1,
    "mentions": 3,
    "reactions": 3,
    "reacted_messages": 1,
    "file_reactions": 2,
    "thread_replies": 3,
    "messages:channel_join": 1,
    "messages:file_share": 1,
    "messages:file_comment": 1,
    "messages:bot_message": 2,
    "messages:bot_add": 1,
    "messages:channel_topic": 1,
    "messages:pinned_item": 1,
    "messages:channel_name": 1,
    "messages:channel_leave": 1,
    "messages:thread_broadcast": 1,
    "messages:me_message": 1,
}
GENERAL_KINDS = {
    "join": 1,
    "leave": 1,
    "message": 9,
    "reply": 4,
    "system": 4,
    "mention": 3,
    "reaction": 5,
}


def test_export_maps_channels_members_messages_threads_mentions_and_reactions(community, export):
    summary = do_import(community, export, format_name="slack")

    assert summary.source_counts == SOURCE_COUNTS
    assert summary.channels["C1"].added_by_kind == GENERAL_KINDS
    for key in ("C2", "C3", "C4", "G1"):
        assert summary.channels[key].added_by_kind == {"message": 1}
    assert summary.events_read == summary.events_added == 27 + 4
    names = dict(Channel.objects.values_list("external_id", "name"))
    assert names == {
        "C1": "#general",
        "C2": "#meetup-",
        "C3": "#meetup",
        "C4": "#讨论",
        "G1": "#secret",
    }
    assert set(Channel.objects.values_list("platform", flat=True)) == {"slack"}
    # One identity per channel (members listed in channels.json, and whoever acted there), and
    # one member per Slack account: user ids name one person across the workspace's channels.
    assert Identity.objects.count() == 8 + 2 + 1 + 1 + 2
    assert summary.members_new == Member.objects.count() == 8

    alice, bob, carol = (member("C1", uid) for uid in ("U1", "U2", "U3"))
    assert (alice.display_name, alice.role) == ("Alice Zhang", "founder")
    assert (bob.role, carol.role) == ("operator", "member")
    assert carol.display_name == "carol"  # no real name: the user name
    assert Identity.objects.get(channel__external_id="C1", platform_user_id="U1").profile == {
        "email": "alice@example.invalid",
        "real_name": "Alice Zhang",
        "display_name": "alice",
        "title": "Organiser",
        "username": "alice",
        "time_zone": "America/Chicago",
    }
    dave = Identity.objects.get(channel__external_id="C1", platform_user_id="U4")
    assert dave.profile == {"email": "dave@example.invalid", "username": "dave", "deleted": True}
    assert member("C2", "U1").role == "founder"  # the same account in another channel
    github, zapier, slackbot = (member("C1", uid) for uid in ("UB1", "B9", "USLACKBOT"))
    assert github.is_bot and zapier.is_bot and slackbot.is_bot and not alice.is_bot
    assert (github.display_name, zapier.display_name, slackbot.display_name) == (
        "GitHub",
        "Zapier",
        "Slackbot",
    )
    assert member("C1", "U9").display_name == "Eve Ext"
    assert not Identity.objects.filter(platform_user_id="U00").exists()

    by_id = events(community)
    join = by_id[("C1", "ts:1452873600.000002")]
    assert (join.kind, join.member, join.content_type) == (EventKind.JOIN, carol, "system")
    assert join.occurred_at == dt.datetime(2016, 1, 15, 16, 0, 0, 2, tzinfo=UTC)
    hello = by_id[("C1", "ts:1452873700.000003")]
    assert (hello.kind, hello.member, hello.content_type) == (EventKind.MESSAGE, alice, "link")
    assert hello.text == HELLO and hello.attributes == {"edited": True}
    assert hello.thread_source_id is None and hello.parent_source_id is None
    for uid, who in (("U2", bob), ("U3", carol)):
        mention = by_id[("C1", f"ts:1452873700.000003#mention:{uid}")]
        assert (mention.kind, mention.member, mention.target_member) == (
            EventKind.MENTION,
            alice,
            who,
        )
        reaction = by_id[("C1", f"ts:1452873700.000003#reaction:+1:{uid}")]
        assert (reaction.kind, reaction.member, reaction.target_member) == (
            EventKind.REACTION,
            who,
            alice,
        )
        assert reaction.attributes == {"emoji": "+1"} and reaction.content_type == "emoji"
    own = by_id[("C1", "ts:1452873700.000003#reaction:clap::skin-tone-2:U1")]
    assert (own.member, own.target_member) == (alice, None)  # reacting to oneself

    share = by_id[("C1", "ts:1452873800.000004")]
    assert (share.kind, share.member, share.content_type) == (EventKind.MESSAGE, bob, "file")
    assert share.thread_source_id == "file:F1"
    assert share.attributes == {"subtype": "file_share", "files": 1}
    for uid, who in (("U1", alice), ("U3", carol)):
        clap = by_id[("C1", f"file:F1#reaction:clap:{uid}")]
        assert (clap.kind, clap.member, clap.target_member) == (EventKind.REACTION, who, bob)
        assert clap.parent_source_id == "ts:1452873800.000004"
    comment = by_id[("C1", "ts:1452873900.000005")]
    assert (comment.kind, comment.member, comment.target_member) == (EventKind.REPLY, alice, bob)
    assert (comment.thread_source_id, comment.parent_source_id) == ("file:F1", None)
    assert comment.attributes == {"subtype": "file_comment", "file_id": "F1"}

    assert by_id[("C1", "ts:1452874000.000006")].member == github
    assert by_id[("C1", "ts:1452874100.000007")].member == zapier
    for ts, subtype in (
        ("1452874200.000008", "bot_add"),
        ("1452874300.000009", "channel_topic"),
        ("1452874400.000010", "pinned_item"),
    ):
        system = by_id[("C1", f"ts:{ts}")]
        assert (system.kind, system.member, system.attributes) == (
            EventKind.SYSTEM,
            alice,
            {"subtype": subtype},
        )
    assert by_id[("C1", "ts:1452874500.000011")].member is None
    leave = by_id[("C1", "ts:1452874600.000012")]
    assert (leave.kind, leave.member.display_name) == (EventKind.LEAVE, "dave")

    parent = by_id[("C1", f"ts:{PARENT_TS}")]
    assert (parent.kind, parent.thread_source_id) == (EventKind.MESSAGE, f"ts:{PARENT_TS}")
    assert parent.attributes == {"reply_count": 3}
    answer = by_id[("C1", "ts:1452960060.000200")]
    assert (answer.kind, answer.member, answer.target_member) == (EventKind.REPLY, bob, alice)
    assert answer.parent_source_id == answer.thread_source_id == f"ts:{PARENT_TS}"
    assert by_id[("C1", "ts:1452960060.000200#mention:U1")].target_member == alice
    self_reply = by_id[("C1", "ts:1452960120.000300")]
    assert (self_reply.kind, self_reply.target_member) == (EventKind.REPLY, None)
    broadcast = by_id[("C1", "ts:1452960180.000400")]
    assert (broadcast.kind, broadcast.member, broadcast.target_member) == (
        EventKind.REPLY,
        carol,
        alice,
    )
    upload = by_id[("C1", "ts:1452960240.000500")]
    assert (upload.content_type, upload.attributes) == ("file", {"files": 1})
    assert by_id[("C1", "ts:1452960300.000600")].member == slackbot
    waves = by_id[("C1", "ts:1453118152.744641")]
    assert waves.occurred_at == dt.datetime(2016, 1, 18, 11, 55, 52, 744641, tzinfo=UTC)
    assert (waves.kind, waves.attributes) == (EventKind.MESSAGE, {"subtype": "me_message"})
    assert by_id[("C4", "ts:1452873660.000001")].text == "你好"

    totals = member_totals(alice)
    # In #general: hello, the file comment, the thread start and "Great"; one in #meetup, one
    # in #讨论 (one member across the workspace's channels).
    assert totals["messages"] == 6
    assert totals["replies_received"] == 2 and totals["replies_given"] == 2
    assert totals["mentions_given"] == 2 and totals["mentions_received"] == 1
    assert totals["reactions_received"] == 2 and totals["reactions_given"] == 2
    assert totals["joins"] == 0
    rollup = MemberDailyRollup.objects.get(member=alice, day=dt.date(2016, 1, 15))
    # Hello and the file comment in #general, 你好 in #讨论.
    assert (rollup.messages, rollup.mentions_given, rollup.reactions_received) == (3, 2, 2)
    assert member_totals(bob)["reactions_received"] == 2  # the claps on his file
    carol.refresh_from_db()
    assert carol.joined_at == join.occurred_at
    assert member("C1", "U4").left_at == leave.occurred_at


def test_reimport_adds_nothing(community, export):
    do_import(community, export, format_name="slack")
    before = table_counts()
    rollups = list(MemberDailyRollup.objects.order_by("id").values())

    again = do_import(community, export, format_name="slack")

    assert again.events_added == 0 and again.members_new == 0
    assert again.duplicates_skipped == again.events_read == 31
    after = table_counts()
    assert after.pop("interactions.ImportRun") == before.pop("interactions.ImportRun") + 1
    after.pop("audit.AuditEntry", None), before.pop("audit.AuditEntry", None)
    assert after == before
    assert list(MemberDailyRollup.objects.order_by("id").values()) == rollups


@pytest.mark.parametrize(
    ("prefix", "utf8_flag"),
    [("", True), ("club-slack/", False)],
    ids=["flat", "in-a-folder-without-utf8-flag"],
)
def test_zip_imports_the_same_as_the_folder(community, export, tmp_path, prefix, utf8_flag):
    archive = zip_export(export, tmp_path / "club.zip", prefix=prefix, utf8_flag=utf8_flag)
    assert detect_format(archive) == "slack"
    source = SlackSource(archive)
    summary = ImportPipeline(community, source).run()
    assert summary.source_counts == SOURCE_COUNTS
    assert summary.channels["C1"].added_by_kind == GENERAL_KINDS
    assert summary.channels["C4"].added_by_kind == {"message": 1}
    assert summary.events_added == 31
    assert source.progress() == (source.total_bytes, source.total_bytes)
    assert ImportRun.objects.get().source == str(archive)


def test_direct_messages_are_imported_only_when_asked(community, export):
    summary = ImportPipeline(community, SlackSource(export, direct_messages=True)).run()
    counts = summary.source_counts
    assert (counts["group_dms"], counts["direct_messages"]) == (1, 1)
    assert "group_dms_skipped" not in counts and "direct_messages_skipped" not in counts
    assert summary.events_added == 31 + 2
    names = dict(Channel.objects.values_list("external_id", "name"))
    assert (names["G2"], names["D1"]) == ("mpdm-alice--bob--carol-1", "@alice, @bob")
    assert InteractionEvent.objects.get(channel__external_id="D1").member == member("D1", "U2")


def test_progress_reaches_every_byte_of_the_export(export):
    source = SlackSource(export)
    seen = [source.progress()[0] for _record in source.records()]
    done, total = source.progress()
    assert seen == sorted(seen)
    metadata = ("users", "channels", "groups", "mpims", "dms")
    expected = sum((export / f"{name}.json").stat().st_size for name in metadata)
    expected += sum(path.stat().st_size for path in export.glob("*/????-??-??.json"))
    assert done == total == expected


def test_detection(export, tmp_path, write_chatlab):
    assert detect_format(export) == "slack"
    assert SlackSource.sniff(export / "users.json")
    assert SlackSource.sniff(export / "channels.json")
    summary_path = export / "channels.json"
    assert SlackSource(summary_path).total_bytes == SlackSource(export).total_bytes
    chatlab = write_chatlab([])
    assert not SlackSource.sniff(chatlab)
    assert not SlackSource.sniff(export / "general" / "2016-01-15.json")
    assert not source_class("chatlab").sniff(export / "users.json")
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "users.json").write_text("[]")
    assert not SlackSource.sniff(incomplete)
    (incomplete / "channels.json").write_text('{"channels": []}')
    assert not SlackSource.sniff(incomplete)  # not Slack's arrays
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("result.json", "{}")
    assert not SlackSource.sniff(other_zip)
    csv = tmp_path / "users.csv"
    csv.write_text("member_id,time\nu1,1709256600\n")
    assert not SlackSource.sniff(csv)


# ------------------------------------------------------------------------------ malformed
def day_with(bad: Any) -> dict[str, list[Any]]:
    """#general's 2016 day with one bad message appended (index 11)."""
    return {**DAYS, "general/2016-01-15.json": [*DAY_2016, bad]}


BAD = {"type": "message", "user": "U1", "text": "bad", "ts": "1452874700.000013"}
MALFORMED = [
    ("not an object", "hello", "messages[11]", "expected a JSON object"),
    (
        "no ts",
        {k: v for k, v in BAD.items() if k != "ts"},
        "messages[11]",
        "field 'ts' must be a string, found missing",
    ),
    (
        "ts as number",
        {**BAD, "ts": 1452874700.5},
        "messages[11]",
        "field 'ts' must be a string, found float",
    ),
    (
        "bad ts",
        {**BAD, "ts": "yesterday"},
        "messages[11] (ts yesterday)",
        "field 'ts' is not a Slack timestamp",
    ),
    (
        "user",
        {**BAD, "user": ["U1"]},
        "messages[11] (ts 1452874700.000013)",
        "field 'user' must be a string, found list",
    ),
    (
        "reactions",
        {**BAD, "reactions": {"name": "+1"}},
        "messages[11] (ts 1452874700.000013)",
        "field 'reactions' must be a list",
    ),
    (
        "reaction users",
        {**BAD, "reactions": [{"name": "+1", "users": "U2", "count": 1}]},
        "messages[11] (ts 1452874700.000013)",
        "field 'users' must be a list of strings",
    ),
    (
        "reaction name",
        {**BAD, "reactions": [{"users": ["U2"], "count": 1}]},
        "messages[11] (ts 1452874700.000013)",
        "field 'name' must be a string, found missing",
    ),
    (
        "file comment",
        {**BAD, "subtype": "file_comment", "user": None},
        "messages[11] (ts 1452874700.000013)",
        "field 'comment' must be a object, found NoneType",
    ),
]


@pytest.mark.parametrize(
    ("label", "bad", "location", "problem"), MALFORMED, ids=[case[0] for case in MALFORMED]
)
def test_malformed_message_names_file_record_and_problem_and_changes_nothing(
    community, tmp_path, settings, label, bad, location, problem
):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # good rows are flushed before the bad one
    folder = write_export(tmp_path / "export", day_with(bad))
    before = table_counts()

    with pytest.raises(ImportFormatError) as error:
        do_import(community, folder, format_name="slack")

    assert error.value.path == str(folder / "general" / "2016-01-15.json")
    assert error.value.location == location
    assert problem in error.value.problem
    assert table_counts() == before
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("files", "path", "location", "problem"),
    [
        (
            {"users": [*USERS, {"name": "nobody"}]},
            "users.json",
            "users[5]",
            "field 'id' must be a string, found missing",
        ),
        (
            {"users": [{**USERS[0], "profile": "alice"}]},
            "users.json",
            "users[0]",
            "field 'profile' must be a object",
        ),
        (
            {"channels": [*CHANNELS, {"id": "C9"}]},
            "channels.json",
            "channels[4]",
            "field 'name' must be a string, found missing",
        ),
        (
            {"groups": [{**GROUPS[0], "members": "U1"}]},
            "groups.json",
            "channels[0]",
            "field 'members' must be a list of strings",
        ),
        ({"channels": {"general": CHANNELS[0]}}, "channels.json", "", "expected a JSON array"),
    ],
    ids=["user without id", "profile", "channel without name", "members", "not an array"],
)
def test_malformed_metadata_is_rejected(community, tmp_path, files, path, location, problem):
    folder = write_export(tmp_path / "export", **files)
    before = table_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import(community, folder, format_name="slack")
    assert (error.value.path, error.value.location) == (str(folder / path), location)
    assert problem in error.value.problem
    assert table_counts() == before


def test_truncated_day_file_in_a_zip_names_the_member(community, export, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    day = export / "general" / "2016-01-16.json"
    day.write_bytes(day.read_bytes()[:-400])
    archive = zip_export(export, tmp_path / "club.zip")
    before = table_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import(community, archive, format_name="slack")
    assert error.value.path == str(archive / "general" / "2016-01-16.json")
    assert error.value.location.startswith("messages[")
    assert "invalid JSON" in error.value.problem
    assert table_counts() == before


def test_invalid_json_names_the_element_it_breaks_in(community, export, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    broken = export / "general" / "2016-01-17.json"
    broken.write_text(
        '[\n    {"type": "message", "user": "U1", "text": "ok", "ts": "1452960400.1"},'
        '\n    {"type": "message", "user": ',
        encoding="utf-8",
    )
    before = table_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import(community, export, format_name="slack")
    assert (error.value.path, error.value.location) == (str(broken), "messages[1]")
    assert "invalid JSON" in error.value.problem
    assert table_counts() == before


def test_damaged_zip_member_is_rejected(community, export, tmp_path):
    """A stored (uncompressed) member whose bytes changed: still JSON, but its CRC is wrong."""
    archive = zip_export(export, tmp_path / "club.zip", compression=zipfile.ZIP_STORED)
    data = archive.read_bytes()
    assert b"Who comes to the meetup?" in data  # only in general/2016-01-16.json
    archive.write_bytes(data.replace(b"Who comes to the meetup?", b"Who comes to the meetUp?"))
    before = table_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import(community, archive, format_name="slack")
    assert error.value.path == str(archive / "general" / "2016-01-16.json")
    assert "not a readable zip archive" in error.value.problem
    assert table_counts() == before


@pytest.mark.parametrize("missing", ["users", "channels"])
def test_missing_users_or_channels_is_rejected(community, tmp_path, missing):
    folder = write_export(tmp_path / "export", **{missing: None})
    with pytest.raises(ImportFormatError) as error:
        do_import(community, folder, format_name="slack")
    assert error.value.path == str(folder)
    assert f"{missing}.json is missing" in error.value.problem


def test_a_file_that_is_no_export_is_rejected(community, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ImportFormatError, match="expected a Slack export"):
        do_import(community, path, format_name="slack")


def test_day_files_are_streamed_in_constant_memory(tmp_path):
    """One 30 MB day file: messages must not pile up (they would take far more than that)."""
    text = "x" * 1500
    day = [
        {"type": "message", "user": "U1", "text": text, "ts": f"1452873600.{i:06d}"}
        for i in range(20_000)
    ]
    folder = write_export(tmp_path / "big", {"general/2016-01-15.json": day})
    assert (folder / "general" / "2016-01-15.json").stat().st_size > 30_000_000
    del day
    source = SlackSource(folder)
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    seen = 0
    for record in source.records():
        if isinstance(record, EventRecord):
            seen += 1
            if seen % 1000 == 0:
                peak = max(peak, process.memory_info().rss)
    assert seen == 20_000
    assert peak - baseline < 15_000_000


# -------------------------------------------------------------------------- the fast path
def records_of(source: SlackSource) -> tuple[list[str], list[tuple[str, int]]]:
    """What a source yields, as text, and its counts in the order they first came."""
    return [repr(record) for record in source.records()], list(source.counts.items())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_ordinary_messages_read_fast_yield_what_the_general_path_yields(
    export, monkeypatch, language
):
    """Day files read whole, through the fast path for ordinary messages, yield exactly what
    every message read by ``_Message`` yields, and what day files streamed by ijson yield."""
    with translation.override(language):
        fast = records_of(SlackSource(export, direct_messages=True))
        with monkeypatch.context() as patch:
            patch.setattr(SlackSource, "_plain_messages", lambda self, c, e, start, *a: start)
            general = records_of(SlackSource(export, direct_messages=True))
        with monkeypatch.context() as patch:
            patch.setattr(slack, "WHOLE_FILE_BYTES", 0)  # every file streamed
            streamed = records_of(SlackSource(export, direct_messages=True))
    assert fast == general == streamed
    assert len(fast[0]) > 40
    if language == "zh-hans":
        assert "（ts 为 1452873650.000001）" in "".join(fast[0])


def test_the_fast_path_passes_event_fields_in_their_order():
    fields = tuple(field.name for field in dataclasses.fields(EventRecord))
    assert fields == slack.EVENT_FIELDS


def test_values_ijson_reads_its_own_way_are_read_as_before(tmp_path):
    """An integer beyond 64 bits is invalid JSON to ijson, and a lone surrogate reads as "?":
    files with them are left to ijson, although orjson would read them otherwise."""
    big = [
        {"type": "message", "user": "U1", "text": "ok", "ts": "1452960400.000001"},
        {"type": "message", "user": "U1", "text": "ok", "ts": "1452960401.000001", "n": 2**64},
    ]
    folder = write_export(tmp_path / "big", {"general/2016-01-17.json": big})
    with pytest.raises(ImportFormatError) as error:
        list(SlackSource(folder).records())
    assert error.value.location == "messages[1]"
    assert "invalid JSON" in error.value.problem

    folder = write_export(tmp_path / "surrogate", {})
    day = folder / "general" / "2016-01-17.json"
    day.parent.mkdir(parents=True, exist_ok=True)
    day.write_text(
        '[{"type": "message", "user": "U1", "text": "a\\ud800b", "ts": "1452960400.000001"}]',
        encoding="utf-8",
    )
    texts = [r.text for r in SlackSource(folder).records() if isinstance(r, EventRecord)]
    assert texts == ["a?b"]


# ------------------------------------------------------------------------------ real data
def houston_messages() -> list[tuple[str, dict[str, Any]]]:
    return [
        (day.parent.name, message)
        for day in sorted(HOUSTON.glob("*/*.json"))
        for message in json.loads(day.read_text(encoding="utf-8"))
    ]


def check_houston(community, summary) -> None:
    """Everything SOURCE.md counts, reconciled with what was imported."""
    counts = summary.source_counts
    # 1,382 message records: 1,032 content messages (964 plain + 61 file_share + 6 file_comment
    # + 1 pinned_item) and 350 system records.
    assert counts["messages"] == 1_382
    assert counts["day_files"] == 375
    assert (counts["users"], counts["channels"]) == (71, 16)
    subtypes = {
        key.removeprefix("messages:"): value
        for key, value in counts.items()
        if key.startswith("messages:")
    }
    assert subtypes == {
        "file_share": 61,
        "file_comment": 6,
        "pinned_item": 1,
        "channel_join": 320,
        "channel_purpose": 13,
        "channel_archive": 9,
        "channel_leave": 3,
        "channel_name": 2,
        "channel_topic": 2,
        "bot_add": 1,
    }
    assert counts["messages"] - sum(subtypes.values()) == 964  # plain messages
    assert (counts["reacted_messages"], counts["edited"]) == (89, 37)
    assert "thread_replies" not in counts  # no threads in 2016

    kinds: Counter[str] = Counter()
    for channel in summary.channels.values():
        kinds.update(channel.added_by_kind)
    # The 1,032 content messages: 964 + 61 file_share are messages, the 6 file comments are
    # replies to the file's owner; the one pinned_item is a system event (pinning is curation,
    # not a contribution), so it moves from SOURCE.md's 1,032 content to the system side.
    assert kinds["message"] == 964 + 61
    assert kinds["reply"] == 6
    assert kinds["system"] == 13 + 9 + 2 + 2 + 1 + 1
    assert (kinds["join"], kinds["leave"]) == (320, 3)
    assert kinds["message"] + kinds["reply"] + kinds["system"] + 320 + 3 == 1_382
    # Reactions: one event per reacting person. 199 on the 89 messages; 37 more on 7 shared
    # files (2016 Slack kept reactions to an upload on its file object).
    assert (counts["reactions"], counts["file_reactions"]) == (199, 37)
    assert kinds["reaction"] == 199 + 37
    assert kinds["mention"] == counts["mentions"] == 155
    assert summary.events_read == summary.events_added == sum(kinds.values())

    raw = houston_messages()
    listed = sum(len(r["users"]) for _c, m in raw for r in m.get("reactions", []))
    on_files = sum(
        len(r["users"])
        for _c, m in raw
        if m.get("subtype") == "file_share"
        for r in m["file"].get("reactions", [])
    )
    assert (sum(1 for _c, m in raw if m.get("reactions")), listed, on_files) == (89, 199, 37)

    channels = dict(Channel.objects.filter(community=community).values_list("external_id", "name"))
    assert len(channels) == 16 and {"#meetup", "#meetup-"} <= set(channels.values())
    per_channel = Counter(folder for folder, _m in raw)
    for channel_id, name in channels.items():
        stored = InteractionEvent.objects.filter(channel__external_id=channel_id)
        assert stored.exclude(source_id__contains="#").count() == per_channel[name[1:]], name
    assert per_channel["meetup-"] == 147 and per_channel["general"] == 476

    # 71 users, one of them deleted; everyone is a member of #general (is_general).
    assert Member.objects.filter(community=community).count() == 71
    assert Identity.objects.values("platform_user_id").distinct().count() == 71
    assert Identity.objects.filter(channel__name="#general").count() == 71
    assert Identity.objects.filter(channel__name="#general", profile__deleted=True).count() == 1
    javier = member(next(k for k, v in channels.items() if v == "#general"), "U061A3E0G")
    assert javier.role == "founder"
    assert (
        Member.objects.filter(role="operator")
        .values("identities__platform_user_id")
        .distinct()
        .count()
        == 4
    )

    # SOURCE.md's 33 distinct posters count the missing top-level `user` of the file comments as
    # one poster; their authors (comment.user) are 3 people who also post elsewhere: 32 people.
    posters = {
        m.get("user")
        for _c, m in raw
        if m.get("subtype") in (None, "file_share", "file_comment", "pinned_item")
    }
    assert len(posters) == 33 and None in posters
    authors = set(
        InteractionEvent.objects.filter(
            community=community, kind__in=(EventKind.MESSAGE, EventKind.REPLY)
        ).values_list("identity__platform_user_id", flat=True)
    ) | set(
        InteractionEvent.objects.filter(
            community=community, kind=EventKind.SYSTEM, attributes__subtype="pinned_item"
        ).values_list("identity__platform_user_id", flat=True)
    )
    assert authors == posters - {None} and len(authors) == 32
    comments = InteractionEvent.objects.filter(community=community, kind=EventKind.REPLY)
    assert comments.filter(member__isnull=True).count() == 0


@pytest.mark.slow
def test_houston_data_vis_export_imports_completely(community, tmp_path):
    assert detect_format(HOUSTON) == "slack"
    reports: list[tuple[int, int, int]] = []
    summary = do_import(community, HOUSTON, progress=lambda *report: reports.append(report))
    check_houston(community, summary)
    done, total, _records = reports[-1]
    read = [p for p in HOUSTON.rglob("*.json") if p.name != "integration_logs.json"]
    assert done == total == sum(p.stat().st_size for p in read)

    again = do_import(community, HOUSTON, format_name="slack")
    assert again.events_added == 0 and again.members_new == 0
    assert again.events_read == summary.events_read

    archive = zip_export(HOUSTON, tmp_path / "houstondatavis.zip")
    assert detect_format(archive) == "slack"
    other = do_import(community, archive)
    assert other.events_added == 0  # the same messages, already imported from the folder
    assert other.source_counts == summary.source_counts


@pytest.mark.slow
def test_houston_data_vis_zip_imports_the_same_counts(community, tmp_path):
    archive = zip_export(HOUSTON, tmp_path / "houstondatavis.zip", utf8_flag=False)
    summary = do_import(community, archive)
    assert summary.format == "slack"
    check_houston(community, summary)
