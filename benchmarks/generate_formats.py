#!/usr/bin/env python
"""Write a synthetic export of any size in any format shequn imports, streaming.

    python benchmarks/generate_formats.py --format slack --messages 200000 -o out/slack-200k

One function per format (``FORMATS``), all drawing from the same activity model (``synth.py``:
Zipf senders, replies to recent messages, mentions, reactions, three years of timestamps with a
day/night rhythm) and each writing the files the way that platform's exporter does, as documented
in ``docs/formats/<format>.md`` and exercised by ``tests/importers/test_<format>.py``:

============== ========================================================================= =====
format         what is written                                                            path
============== ========================================================================= =====
chatlab        ChatLab JSONL (``generate_chatlab.py``)                                    file
csv            the generic layout: a row per message, a row per mention and per reaction  file
discord        a folder of three DiscordChatExporter JSON files, one per channel          dir
telegram       ``result.json``, a single-chat export of a supergroup                      dir
slack          a workspace export folder: ``users.json``, ``channels.json``, day files     dir
whatsapp       an Android export (``WhatsApp Chat with <group>.txt``)                     file
qq             the classic QQ message-manager text export, UTF-8 with BOM, CRLF           file
stackexchange  a dump folder: ``Users.xml``, ``Posts.xml``, ``Comments.xml``, ``Votes.xml``  dir
============== ========================================================================= =====

Where the platform has them: 30 % replies (Discord, Telegram, CSV: to a recent message; Slack:
thread replies; Stack Exchange: answers and comments), 3 % mentions, 15 % of messages with
reactions (Slack, Discord, Telegram, CSV; Stack Exchange has votes instead). WhatsApp and QQ text
exports have no replies or reactions: their messages are plain, with mentions, some media
placeholders and multi-line bodies. Formats with local wall-clock times (WhatsApp, QQ, Telegram's
``date``) write UTC+8.

Memory is constant in ``--messages``: every file is written as its messages are drawn, a few
files at a time (Slack's and Discord's channels), and only bounded deques of recent messages are
kept. ``generate(format, path, ...)`` writes ``path`` (a file or a folder, see ``FORMATS``) and
returns counts; ``import_path(format, path)`` is what to hand to the importer.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape, quoteattr

import orjson

try:
    from generate_chatlab import generate as generate_chatlab
    from synth import DAY, REACTIONS, Activity, Person
except ImportError:  # imported as benchmarks.generate_formats
    from benchmarks.generate_chatlab import generate as generate_chatlab
    from benchmarks.synth import DAY, REACTIONS, Activity, Person

GROUP = "shequn 合成测试群"
LOCAL = dt.timezone(dt.timedelta(hours=8))  # the exporting phone's / computer's clock
REPLY_SHARE = 0.3
MENTION_SHARE = 0.03
REACTION_SHARE = 0.15
INDENT = orjson.OPT_INDENT_2
CHANNEL_WEIGHTS = (0.5, 0.3, 0.2)  # Slack and Discord: messages per channel


def _local(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, LOCAL)


def _channel_of(rng: random.Random, weights: tuple[float, ...]) -> int:
    x = rng.random()
    for position, weight in enumerate(weights):
        x -= weight
        if x < 0:
            return position
    return len(weights) - 1


class _Recent:
    """What a format remembers of the last messages (the targets of replies): index -> value,
    bounded like the activity model's own window."""

    def __init__(self, size: int = 512) -> None:
        self._values: dict[int, Any] = {}
        self._order: deque[int] = deque()
        self._size = size

    def __setitem__(self, index: int, value: Any) -> None:
        self._values[index] = value
        self._order.append(index)
        if len(self._order) > self._size:
            del self._values[self._order.popleft()]

    def __getitem__(self, index: int) -> Any:
        return self._values[index]


class _JsonArrayFile:
    """A JSON array written element by element; ``head``/``tail`` wrap it in an object."""

    def __init__(self, path: Path, head: bytes = b"", tail: bytes = b"") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "wb", buffering=1 << 18)  # noqa: SIM115 - closed in close()
        self.handle.write(head + b"[")
        self.tail = tail
        self.count = 0

    def write(self, element: bytes) -> None:
        self.handle.write(b"\n" + element if self.count == 0 else b",\n" + element)
        self.count += 1

    def close(self, tail: bytes | None = None) -> None:
        self.handle.write(b"\n]" + (self.tail if tail is None else tail) + b"\n")
        self.handle.close()


# ------------------------------------------------------------------------------------ CSV
CSV_COLUMNS = (
    "message_id",
    "member_id",
    "member_name",
    "time",
    "kind",
    "text",
    "reply_to",
    "target_member_id",
    "role",
)


def generate_csv(path: Path, *, messages: int, members: int, seed: int = 42, **kw: Any) -> dict:
    """shequn's generic layout (docs/formats/csv.md): a row per message (``reply`` with
    ``reply_to``), then a ``mention`` row per mention and a ``reaction`` row per reacting person,
    aimed by ``reply_to``. Times are ISO 8601 with +08:00; names on every row, roles on a few."""
    activity = Activity(members=members, seed=seed, **kw)
    counts = {"messages": messages, "replies": 0, "mentions": 0, "reactions": 0}
    roles = {0: "founder", 1: "operator", 2: "operator"}
    with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        row = writer.writerow
        for m in activity.messages(
            messages,
            reply_share=REPLY_SHARE,
            mention_share=MENTION_SHARE,
            reaction_share=REACTION_SHARE,
        ):
            sender = m.sender
            when = _local(m.ts).isoformat()
            message_id = f"m{m.index}"
            text = m.text
            if m.mention is not None:
                text = f"@{m.mention.display} {text}"
            reply_to = ""
            kind = "message"
            if m.reply_to is not None:
                kind, reply_to = "reply", f"m{m.reply_to}"
                counts["replies"] += 1
            role = roles.get(sender.index, "")
            row(
                (
                    message_id,
                    sender.platform_id,
                    sender.display,
                    when,
                    kind,
                    text,
                    reply_to,
                    "",
                    role,
                )
            )
            if m.mention is not None:
                counts["mentions"] += 1
                mention_id = f"{message_id}#mention"
                target = m.mention.platform_id
                row(
                    (
                        mention_id,
                        sender.platform_id,
                        "",
                        when,
                        "mention",
                        "",
                        message_id,
                        target,
                        "",
                    )
                )
            for emoji, who in m.reactions:
                counts["reactions"] += 1
                reaction_id = f"{message_id}#r:{emoji}:{who.index}"
                character = REACTIONS[emoji][1]
                row(
                    (
                        reaction_id,
                        who.platform_id,
                        who.display,
                        when,
                        "reaction",
                        character,
                        message_id,
                        "",
                        "",
                    )
                )
    return counts | {"members": members}


# -------------------------------------------------------------------------------- Discord
DISCORD_EPOCH_MS = 1_420_070_400_000
GUILD = {"id": "900000000000000001", "name": "shequn 合成测试服务器", "iconUrl": None}
DISCORD_CHANNELS = (
    ("800000000000000001", "general"),
    ("800000000000000002", "dev"),
    ("800000000000000003", "闲聊"),
)
DISCORD_ROLES = ({"id": "600000000000000001", "name": "Moderator", "color": "#1ABC9C"},)


def _discord_user(person: Person, *, roles: bool) -> dict[str, Any]:
    """DCE's WriteUserAsync: roles only for authors and mentions."""
    user: dict[str, Any] = {
        "id": str(300_000_000_000_000_000 + person.index),
        "name": f"user{person.index}",
        "discriminator": "0000",
        "nickname": person.display,
        "color": None,
        "isBot": False,
    }
    if roles:
        user["roles"] = list(DISCORD_ROLES) if person.index < 5 else []
    user["avatarUrl"] = "https://cdn.discordapp.com/embed/avatars/0.png"
    return user


def generate_discord(path: Path, *, messages: int, members: int, seed: int = 42, **kw) -> dict:
    """A folder of DiscordChatExporter JSON exports (``exportguild -f Json``), one per channel,
    written side by side; replies stay in their target's channel and ping its author (DCE lists
    the replied-to author among the mentions); written mentions are ``@nickname`` in the
    content; reactions list their users (recent DCE)."""
    activity = Activity(members=members, seed=seed, **kw)
    rng = random.Random(seed + 1)
    path.mkdir(parents=True, exist_ok=True)
    authors = [_discord_user(p, roles=True) for p in activity.people]
    reactors = [_discord_user(p, roles=False) for p in activity.people]
    exported = dt.datetime.fromtimestamp(activity.end + DAY, LOCAL).isoformat()
    files = []
    for channel_id, name in DISCORD_CHANNELS:
        header = {
            "guild": GUILD,
            "channel": {
                "id": channel_id,
                "type": "GuildTextChat",
                "categoryId": "700000000000000001",
                "category": "Text Channels",
                "name": name,
                "topic": None,
            },
            "dateRange": {"after": None, "before": None},
            "exportedAt": exported,
        }
        head = orjson.dumps(header, option=INDENT)[:-2] + b',\n  "messages": '
        file = path / f"{GUILD['name']} - Text Channels - {name} [{channel_id}].json"
        files.append(_JsonArrayFile(file, head))
    recent = _Recent()  # index -> (message id, channel)
    counts = {"messages": messages, "replies": 0, "mentions": 0, "reactions": 0}
    for m in activity.messages(
        messages,
        reply_share=REPLY_SHARE,
        mention_share=MENTION_SHARE,
        reaction_share=REACTION_SHARE,
    ):
        message_id = str(((m.ts * 1000 - DISCORD_EPOCH_MS) << 22) + (m.index & 0x3FFFFF))
        channel = _channel_of(rng, CHANNEL_WEIGHTS)
        content = m.text
        mentions = []
        reference = None
        if m.reply_to is not None:
            target_id, channel = recent[m.reply_to]
            reference = {
                "type": "Default",
                "messageId": target_id,
                "channelId": DISCORD_CHANNELS[channel][0],
                "guildId": GUILD["id"],
            }
            mentions.append(authors[m.reply_sender.index])  # the reply ping
            counts["replies"] += 1
        if m.mention is not None:
            content = f"@{m.mention.display} {content}"
            mentions.append(authors[m.mention.index])
            counts["mentions"] += 1
        recent[m.index] = (message_id, channel)
        reactions = []
        for emoji, who in m.reactions:
            character = REACTIONS[emoji][1]
            entry = next((r for r in reactions if r["emoji"]["name"] == character), None)
            if entry is None:
                entry = {
                    "emoji": {
                        "id": "",
                        "name": character,
                        "code": REACTIONS[emoji][0],
                        "isAnimated": False,
                        "imageUrl": "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/x.svg",
                    },
                    "count": 0,
                    "users": [],
                }
                reactions.append(entry)
            entry["count"] += 1
            entry["users"].append(reactors[who.index])
            counts["reactions"] += 1
        obj: dict[str, Any] = {
            "id": message_id,
            "type": "Reply" if reference else "Default",
            "timestamp": _local(m.ts).isoformat(timespec="milliseconds"),
            "timestampEdited": None,
            "callEndedTimestamp": None,
            "isPinned": False,
            "content": content,
            "author": authors[m.sender.index],
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": reactions,
            "mentions": mentions,
        }
        if reference:
            obj["reference"] = reference
        obj["inlineEmojis"] = []
        files[channel].write(orjson.dumps(obj, option=INDENT))
    for file in files:
        file.close(f',\n  "messageCount": {file.count}\n}}'.encode())
    return counts | {"members": members, "files": len(files)}


# ------------------------------------------------------------------------------- Telegram
def _wall(ts: int) -> str:
    return _local(ts).replace(tzinfo=None).isoformat()


def generate_telegram(path: Path, *, messages: int, members: int, seed: int = 42, **kw) -> dict:
    """``path``/result.json: a single-chat export (Export chat history → JSON) of a supergroup,
    as tdesktop writes it: ``date`` wall clock (UTC+8 here) and ``date_unixtime``; ``text`` a
    string, or parts with a ``mention_name`` entity for mentions; ``text_entities``; replies by
    ``reply_to_message_id``; reactions with their ``recent`` reactors."""
    activity = Activity(members=members, seed=seed, **kw)
    path.mkdir(parents=True, exist_ok=True)
    head = (
        orjson.dumps(
            {"name": GROUP, "type": "private_supergroup", "id": 1_987_654_321}, option=INDENT
        )[:-2]
        + b',\n  "messages": '
    )
    out = _JsonArrayFile(path / "result.json", head, b"\n}")
    counts = {"messages": messages, "replies": 0, "mentions": 0, "reactions": 0}

    def user_id(person: Person) -> int:
        return 500_000_000 + person.index

    for m in activity.messages(
        messages,
        reply_share=REPLY_SHARE,
        mention_share=MENTION_SHARE,
        reaction_share=REACTION_SHARE,
    ):
        sender = m.sender
        obj: dict[str, Any] = {
            "id": m.index + 1,
            "type": "message",
            "date": _wall(m.ts),
            "date_unixtime": str(m.ts),
            "from": sender.display,
            "from_id": f"user{user_id(sender)}",
        }
        if m.reply_to is not None:
            obj["reply_to_message_id"] = m.reply_to + 1
            counts["replies"] += 1
        if m.mention is not None:
            mention = {
                "type": "mention_name",
                "text": m.mention.display,
                "user_id": user_id(m.mention),
            }
            rest = f" {m.text}"
            obj["text"] = [mention, rest]
            obj["text_entities"] = [mention, {"type": "plain", "text": rest}]
            counts["mentions"] += 1
        else:
            obj["text"] = m.text
            obj["text_entities"] = [{"type": "plain", "text": m.text}]
        if m.reactions:
            by_emoji: dict[int, list[Person]] = {}
            for emoji, who in m.reactions:
                by_emoji.setdefault(emoji, []).append(who)
            when = _wall(m.ts + 60)
            obj["reactions"] = [
                {
                    "type": "emoji",
                    "count": len(people),
                    "emoji": REACTIONS[emoji][1],
                    "recent": [
                        {"from": p.display, "from_id": f"user{user_id(p)}", "date": when}
                        for p in people
                    ],
                }
                for emoji, people in by_emoji.items()
            ]
            counts["reactions"] += len(m.reactions)
        out.write(orjson.dumps(obj, option=INDENT))
    out.close()
    return counts | {"members": members}


# ---------------------------------------------------------------------------------- Slack
SLACK_CHANNELS = (("C0000000001", "general"), ("C0000000002", "dev"), ("C0000000003", "讨论"))
SLACK_TEAM = "T0000000001"


def _slack_id(person: Person) -> str:
    return f"U{person.index:08X}"


def _slack_profile(person: Person) -> dict[str, Any]:
    return {
        "avatar_hash": "g0a1b2c3d4e5",
        "image_72": "https://secure.gravatar.com/avatar/0a1b2c3d4e5.jpg?s=72",
        "first_name": person.name,
        "real_name": person.name,
        "display_name": person.nickname,
        "team": SLACK_TEAM,
        "name": f"member{person.index}",
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def generate_slack(path: Path, *, messages: int, members: int, seed: int = 42, **kw) -> dict:
    """An unpacked workspace export: ``users.json``, ``channels.json`` (three public channels:
    everyone in the first, a random 30 % in the others), and per channel one ``YYYY-MM-DD.json``
    (UTC day) array of messages as current exports write them (``client_msg_id``,
    ``user_profile``, ``blocks``). Replies are thread replies (``thread_ts``,
    ``parent_user_id``) in their target's thread and channel; mentions ``<@U…>``; reactions
    with their users. Thread parents are written without ``reply_count``/``replies`` (the
    writer does not look ahead)."""
    activity = Activity(members=members, seed=seed, **kw)
    rng = random.Random(seed + 1)
    path.mkdir(parents=True, exist_ok=True)
    people = activity.people
    users = []
    for person in people:
        users.append(
            {
                "id": _slack_id(person),
                "team_id": SLACK_TEAM,
                "name": f"member{person.index}",
                "deleted": False,
                "color": "9f69e7",
                "real_name": person.name,
                "tz": "Asia/Shanghai",
                "tz_label": "China Standard Time",
                "tz_offset": 28800,
                "profile": {
                    "title": "",
                    "real_name": person.name,
                    "display_name": person.nickname,
                    "email": f"member{person.index}@example.invalid",
                    "team": SLACK_TEAM,
                },
                "is_admin": person.index < 3,
                "is_owner": person.index < 2,
                "is_primary_owner": person.index == 0,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": False,
                "is_app_user": False,
            }
        )
    (path / "users.json").write_bytes(orjson.dumps(users, option=INDENT))
    del users
    channels = []
    for position, (channel_id, name) in enumerate(SLACK_CHANNELS):
        ids = [_slack_id(p) for p in people if position == 0 or rng.random() < 0.3]
        channels.append(
            {
                "id": channel_id,
                "name": name,
                "created": activity.start - DAY,
                "creator": _slack_id(people[0]),
                "is_archived": False,
                "is_general": position == 0,
                "members": ids,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": f"{name} channel", "creator": "", "last_set": 0},
                "pins": [],
            }
        )
    (path / "channels.json").write_bytes(orjson.dumps(channels, option=INDENT))
    del channels
    profiles = [_slack_profile(p) for p in people]
    day_files: list[_JsonArrayFile | None] = [None] * len(SLACK_CHANNELS)
    days = [-1] * len(SLACK_CHANNELS)
    recent = _Recent()  # index -> (channel, ts, thread ts, thread author)
    counts = {"messages": messages, "replies": 0, "mentions": 0, "reactions": 0, "day_files": 0}
    for m in activity.messages(
        messages,
        reply_share=REPLY_SHARE,
        mention_share=MENTION_SHARE,
        reaction_share=REACTION_SHARE,
    ):
        sender = m.sender
        ts = f"{m.ts}.{m.index % 1_000_000:06d}"
        text = m.text
        if m.mention is not None:
            text = f"<@{_slack_id(m.mention)}> {text}"
            counts["mentions"] += 1
        obj: dict[str, Any] = {
            "client_msg_id": f"{m.index:08x}-6a6f-40ee-9b0f-{m.ts:012x}",
            "type": "message",
            "text": text,
            "user": _slack_id(sender),
            "ts": ts,
            "team": SLACK_TEAM,
            "user_team": SLACK_TEAM,
            "source_team": SLACK_TEAM,
            "user_profile": profiles[sender.index],
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": f"b{m.index % 100000}",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                    ],
                }
            ],
        }
        if m.reply_to is not None:
            channel, _parent_ts, thread_ts, root_user = recent[m.reply_to]
            obj["thread_ts"] = thread_ts
            obj["parent_user_id"] = root_user
            counts["replies"] += 1
        else:
            channel = _channel_of(rng, CHANNEL_WEIGHTS)
            thread_ts, root_user = ts, obj["user"]
        recent[m.index] = (channel, ts, thread_ts, root_user)
        if m.reactions:
            by_emoji: dict[int, list[str]] = {}
            for emoji, who in m.reactions:
                by_emoji.setdefault(emoji, []).append(_slack_id(who))
            obj["reactions"] = [
                {"name": REACTIONS[emoji][0], "users": ids, "count": len(ids)}
                for emoji, ids in by_emoji.items()
            ]
            counts["reactions"] += len(m.reactions)
        day = m.ts // DAY
        if day != days[channel]:
            if day_files[channel] is not None:
                day_files[channel].close()
            days[channel] = day
            name = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + day).isoformat()
            day_files[channel] = _JsonArrayFile(path / SLACK_CHANNELS[channel][1] / f"{name}.json")
            counts["day_files"] += 1
        day_files[channel].write(orjson.dumps(obj, option=INDENT))
    for file in day_files:
        if file is not None:
            file.close()
    return counts | {"members": members}


# ------------------------------------------------------------------------------- WhatsApp
def _whatsapp_name(person: Person) -> str:
    """The name the exporting phone shows: the saved contact name, or for one member in ten
    (not saved) the phone number."""
    if person.index % 10 == 9:
        number = f"{138_0000_0000 + person.index * 7919 % 1_0000_0000:011d}"
        return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    return person.name


def generate_whatsapp(path: Path, *, messages: int, members: int, seed: int = 42, **kw) -> dict:
    """An Android export, like ``WhatsApp Chat with <group>.txt`` (``path`` is the file):
    ``dd/mm/yyyy, HH:MM - Name: text``, local time (UTC+8), the encryption notice and the group's
    creation first.
    No replies or reactions (the text export has none); 3 % ``@Name`` mentions (``@digits`` for a
    number), 4 % ``<Media omitted>``, 1 % deleted messages, 6 % with continuation lines."""
    activity = Activity(members=members, seed=seed, **kw)
    rng = random.Random(seed + 1)
    names = [_whatsapp_name(p) for p in activity.people]
    pool = activity.pool
    counts = {"messages": messages, "mentions": 0, "media": 0, "deleted": 0, "multiline": 0}

    def header(ts: int) -> str:
        return _local(ts).strftime("%d/%m/%Y, %H:%M - ")

    with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        out.write(
            f"{header(activity.start)}Messages and calls are end-to-end encrypted. No one outside"
            " of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n"
        )
        out.write(f'{header(activity.start)}{names[0]} created group "{GROUP}"\n')
        last_minute = -1
        prefix = ""
        for m in activity.messages(messages, reply_share=0.0, mention_share=MENTION_SHARE):
            minute = m.ts // 60
            if minute != last_minute:
                prefix, last_minute = header(m.ts), minute
            text = m.text
            x = rng.random()
            if x < 0.04:
                text = "<Media omitted>"
                counts["media"] += 1
            elif x < 0.05:
                text = "This message was deleted"
                counts["deleted"] += 1
            elif x < 0.11:
                text = f"{text}\n{pool[int(x * 10_000) % len(pool)]}"
                counts["multiline"] += 1
            if m.mention is not None and x >= 0.05:
                target = names[m.mention.index]
                if target.startswith("+"):
                    target = target.replace(" ", "")[1:]
                text = f"@{target} {text}"
                counts["mentions"] += 1
            out.write(f"{prefix}{names[m.sender.index]}: {text}\n")
    return counts | {"members": members}


# ------------------------------------------------------------------------------------- QQ
QQ_TITLE = "消息记录（此消息记录为文本格式，不支持重新导入）"
QQ_RULE = "=" * 64


def _qq_number(person: Person) -> str:
    return str(100_000_000 + person.index * 7919 % 800_000_000)


def generate_qq(path: Path, *, messages: int, members: int, seed: int = 42, **kw) -> dict:
    """The classic QQ message manager text export (``path`` is the file): UTF-8 with BOM, CRLF,
    one group chat (``消息对象:<name>(<group number>)``), headers ``YYYY-MM-DD HH:MM:SS
    [【badge】]nickname(QQ number)`` in local time (UTC+8), a blank line after each body. No
    replies or reactions (the export has none); 3 % ``@nickname`` mentions, 5 % ``[图片]`` /
    ``[表情]``, 6 % bodies of two paragraphs (a blank line inside); the founder and two admins
    carry their badge, a tenth of the members a level badge."""
    activity = Activity(members=members, seed=seed, **kw)
    rng = random.Random(seed + 1)
    badges = {0: "【群主】", 1: "【管理员】", 2: "【管理员】"}
    senders = []
    for person in activity.people:
        badge = badges.get(person.index, "【冒泡】" if person.index % 10 == 3 else "")
        senders.append(f"{badge}{person.display}({_qq_number(person)})")
    pool = activity.pool
    counts = {"messages": messages, "mentions": 0, "media": 0, "multiline": 0}
    with open(path, "w", encoding="utf-8-sig", newline="\r\n", buffering=1 << 20) as out:
        out.write(f"{QQ_TITLE}\n\n{QQ_RULE}\n消息分组:我的群聊\n{QQ_RULE}\n")
        out.write(f"消息对象:{GROUP}(612345678)\n{QQ_RULE}\n\n")
        last_second = -1
        stamp = ""
        for m in activity.messages(messages, reply_share=0.0, mention_share=MENTION_SHARE):
            if m.ts != last_second:
                stamp, last_second = _local(m.ts).strftime("%Y-%m-%d %H:%M:%S"), m.ts
            text = m.text
            x = rng.random()
            if x < 0.05:
                text = "[图片]" if x < 0.035 else "[表情]"
                counts["media"] += 1
            elif x < 0.11:
                text = f"{text}\n\n{pool[int(x * 10_000) % len(pool)]}"
                counts["multiline"] += 1
            if m.mention is not None:
                text = f"@{m.mention.display} {text}"
                counts["mentions"] += 1
            out.write(f"{stamp} {senders[m.sender.index]}\n{text}\n\n")
    return counts | {"members": members}


# -------------------------------------------------------------------------- Stack Exchange
SE_QUESTION_SHARE = 0.2
SE_ANSWER_SHARE = 0.35  # the rest are comments
SE_TAGS = ("python", "django", "postgresql", "sqlite", "performance", "json", "xml", "csv")


def _se_date(ts: int, *, date_only: bool = False) -> str:
    moment = dt.datetime.fromtimestamp(ts, dt.UTC)
    if date_only:
        return moment.strftime("%Y-%m-%dT00:00:00.000")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ts * 7) % 1000:03d}"


def _xml_file(path: Path, root: str) -> Any:
    handle = open(path, "w", encoding="utf-8", newline="\r\n", buffering=1 << 20)  # noqa: SIM115
    handle.write(f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n')
    return handle


def _row(attributes: dict[str, Any]) -> str:
    """A dump row; text values escaped (markup, quotes, line breaks as character references)."""
    parts = [
        f"{key}={quoteattr(value)}" if isinstance(value, str) else f'{key}="{value}"'
        for key, value in attributes.items()
    ]
    return f"  <row {' '.join(parts)} />\n"


def generate_stackexchange(
    path: Path, *, messages: int, members: int, seed: int = 42, **kw
) -> dict:
    """A site's dump folder (``path``): ``Users.xml`` (every member plus Community, Id -1),
    ``Posts.xml``, ``Comments.xml`` and ``Votes.xml``, written side by side in id and time order.
    ``messages`` counts posts and comments: 20 % questions, 35 % answers to a recent question,
    45 % comments on a recent post (question or answer). Votes: about one per post, mostly
    anonymous up-votes, 10 % down, 3 % favourites (with UserId), accept votes on 15 % of
    answers; date-only, as in the dumps."""
    activity = Activity(members=members, seed=seed, **kw)
    rng = random.Random(seed + 1)
    path.mkdir(parents=True, exist_ok=True)
    users = _xml_file(path / "Users.xml", "users")
    users.write(
        _row(
            {
                "Id": -1,
                "Reputation": 1,
                "CreationDate": _se_date(activity.start - 400 * DAY),
                "DisplayName": "Community",
                "AboutMe": "<p>Hi, I'm not really a person.</p>",
                "AccountId": -1,
            }
        )
    )
    for person in activity.people:
        users.write(
            _row(
                {
                    "Id": person.index + 1,
                    "Reputation": 1 + (person.index * 7919) % 5000,
                    "CreationDate": _se_date(activity.start - (person.index % 365) * DAY - 3600),
                    "DisplayName": person.display,
                    "LastAccessDate": _se_date(activity.end),
                    "Location": "Shanghai, China" if person.index % 3 else "",
                    "AboutMe": "",
                    "Views": person.index % 97,
                    "UpVotes": person.index % 31,
                    "DownVotes": person.index % 7,
                    "AccountId": 10_000 + person.index,
                }
            )
        )
    users.write("</users>\n")
    users.close()

    posts = _xml_file(path / "Posts.xml", "posts")
    comments = _xml_file(path / "Comments.xml", "comments")
    votes = _xml_file(path / "Votes.xml", "votes")
    counts = {"messages": messages, "questions": 0, "answers": 0, "comments": 0, "votes": 0}
    questions: deque[int] = deque(maxlen=64)  # recent question ids
    recent_posts: deque[int] = deque(maxlen=256)
    post_id = comment_id = vote_id = 0
    for m in activity.messages(messages, reply_share=0.0, mention_share=0.0):
        owner = m.sender.index + 1
        body = f"<p>{escape(m.text)}</p>\n"
        x = rng.random()
        if x < SE_QUESTION_SHARE or not questions:
            kind = "question"
        elif x < SE_QUESTION_SHARE + SE_ANSWER_SHARE:
            kind = "answer"
        else:
            kind = "comment"
        if kind == "comment":
            comment_id += 1
            back = min(len(recent_posts) - 1, int(rng.expovariate(0.2)))
            comments.write(
                _row(
                    {
                        "Id": comment_id,
                        "PostId": recent_posts[-1 - back],
                        "Score": int(rng.expovariate(1.5)),
                        "Text": m.text,
                        "CreationDate": _se_date(m.ts),
                        "UserId": owner,
                        "ContentLicense": "CC BY-SA 4.0",
                    }
                )
            )
            counts["comments"] += 1
            continue
        post_id += 1
        row: dict[str, Any] = {"Id": post_id}
        if kind == "question":
            tags = rng.sample(SE_TAGS, 1 + int(rng.random() * 3))
            row |= {
                "PostTypeId": 1,
                "CreationDate": _se_date(m.ts),
                "Score": int(rng.expovariate(0.5)),
                "ViewCount": 10 + int(rng.expovariate(0.01)),
                "Body": body,
                "OwnerUserId": owner,
                "LastActivityDate": _se_date(m.ts),
                "Title": m.text[:60],
                "Tags": "".join(f"<{tag}>" for tag in tags),
                "AnswerCount": 0,
                "CommentCount": 0,
                "ContentLicense": "CC BY-SA 4.0",
            }
            questions.append(post_id)
            counts["questions"] += 1
        else:
            back = min(len(questions) - 1, int(rng.expovariate(0.3)))
            row |= {
                "PostTypeId": 2,
                "ParentId": questions[-1 - back],
                "CreationDate": _se_date(m.ts),
                "Score": int(rng.expovariate(0.5)),
                "Body": body,
                "OwnerUserId": owner,
                "LastActivityDate": _se_date(m.ts),
                "CommentCount": 0,
                "ContentLicense": "CC BY-SA 4.0",
            }
            counts["answers"] += 1
        posts.write(_row(row))
        recent_posts.append(post_id)
        vote_date = _se_date(m.ts, date_only=True)
        for _ in range(int(rng.expovariate(0.75))):
            vote_id += 1
            y = rng.random()
            vote: dict[str, Any] = {"Id": vote_id, "PostId": post_id}
            if y < 0.03:
                vote |= {"VoteTypeId": 5, "UserId": activity.regular().index + 1}
            else:
                vote["VoteTypeId"] = 3 if y < 0.13 else 2
            vote["CreationDate"] = vote_date
            votes.write(_row(vote))
        if kind == "answer" and rng.random() < 0.15:
            vote_id += 1
            votes.write(
                _row({"Id": vote_id, "PostId": post_id, "VoteTypeId": 1, "CreationDate": vote_date})
            )
    counts["votes"] = vote_id
    for handle, root in ((posts, "posts"), (comments, "comments"), (votes, "votes")):
        handle.write(f"</{root}>\n")
        handle.close()
    return counts | {"members": members}


# ------------------------------------------------------------------------------- registry
class Format(NamedTuple):
    generate: Callable[..., dict]
    suffix: str  # of the generated file; "" for a folder
    inner: str = ""  # the file inside the folder to import, if not the folder itself
    options: dict[str, Any] | None = None  # do_import(options=...)


def _chatlab(path: Path, *, messages: int, members: int, seed: int = 42, **kw: Any) -> dict:
    return generate_chatlab(path, messages=messages, members=members, seed=seed, **kw)


FORMATS: dict[str, Format] = {
    "chatlab": Format(_chatlab, ".jsonl"),
    "stackexchange": Format(generate_stackexchange, ""),
    "csv": Format(generate_csv, ".csv"),
    "discord": Format(generate_discord, ""),
    "telegram": Format(generate_telegram, ""),
    "slack": Format(generate_slack, ""),
    # The phone's clock was in UTC+8 (WhatsApp's default zone is UTC); the date order is left
    # to the importer's detection, as on the command line.
    "whatsapp": Format(generate_whatsapp, ".txt", options={"time_zone": "Asia/Shanghai"}),
    "qq": Format(generate_qq, ".txt"),  # QQ's default zone is Asia/Shanghai already
}


def generate(format_name: str, path: Path, **kwargs: Any) -> dict:
    """Write ``format_name``'s export at ``path`` (a file, or a folder for folder formats)."""
    return FORMATS[format_name].generate(Path(path), **kwargs)


def import_path(format_name: str, path: Path) -> Path:
    """What to hand to the importer for an export generated at ``path``."""
    inner = FORMATS[format_name].inner
    return path / inner if inner else path


def output_name(format_name: str, messages: int, members: int, seed: int) -> str:
    """The cache name bench_import.py uses: ``<format>-<messages>-<members>-s<seed><suffix>``."""
    return f"{format_name}-{messages}-{members}-s{seed}{FORMATS[format_name].suffix}"


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, choices=sorted(FORMATS))
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="the file or folder to write"
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.members < 1:
        parser.error("--messages and --members must be positive")
    started = time.perf_counter()
    counts = generate(
        args.format,
        args.output,
        messages=args.messages,
        members=args.members,
        years=args.years,
        seed=args.seed,
    )
    seconds = time.perf_counter() - started
    summary = ", ".join(f"{value:,} {key}" for key, value in counts.items())
    print(
        f"wrote {args.output} ({args.format}): {summary}; "
        f"{size_of(args.output) / 1e6:.1f} MB in {seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
