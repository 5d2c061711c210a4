"""DiscordChatExporter JSON exports: one channel per file, or a folder of them.

DiscordChatExporter (github.com/Tyrrrz/DiscordChatExporter, "DCE") writes one JSON document per
channel: ``guild``, ``channel``, ``dateRange`` and ``exportedAt`` first, then ``messages``, then
``messageCount``. Each Discord channel (or thread) becomes a shequn channel keyed by its id, so
re-exports of overlapping date ranges dedupe on the message ids. Messages are streamed in small
batches parsed by orjson (or by ijson, where a batch cannot be cut safely); only a dict of the
accounts seen in the current file is kept.

Field names follow DCE's ``JsonMessageWriter.cs``. Older DCE versions leave out ``nickname``,
``roles``, ``mentions``, ``reference`` and reaction ``users``; all of these are optional here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import ijson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from orjson import JSONDecodeError, loads

from shequn.communities.models import Platform
from shequn.interactions.importers.base import CountingReader, Source
from shequn.interactions.importers.records import (
    ChannelRecord,
    EventRecord,
    ImportFormatError,
    MemberRecord,
    Record,
)
from shequn.interactions.models import EventKind

# DCE writes ``MessageKind.ToString()``: a name for the kinds it knows, the number otherwise.
KIND_BY_TYPE = {
    "Default": EventKind.MESSAGE,
    "Reply": EventKind.REPLY,
    "GuildMemberJoin": EventKind.JOIN,
    "RecipientAdd": EventKind.JOIN,
    "RecipientRemove": EventKind.LEAVE,
    # Replies of apps to slash commands (20) and context-menu commands (23): the app's message.
    "20": EventKind.MESSAGE,
    "23": EventKind.MESSAGE,
}
# Their subjects are the mentioned users; the author is who added or removed them.
RECIPIENT_TYPES = ("RecipientAdd", "RecipientRemove")
THREAD_TYPES = frozenset({"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread"})
NO_DISCRIMINATOR = ("", "0", "0000")
EXPORT_HEAD = re.compile(rb'\A\s*\{\s*"guild"\s*:\s*\{')
# ijson events that complete a top-level value (a map or array ends, or a scalar).
VALUE_END = frozenset({"end_map", "end_array", "string", "number", "boolean", "null"})
SNIFF_BYTES = 4096
SNIFF_FILES = 50  # a folder is a DCE export when one of its first JSON files is one
URL = re.compile(r"https?://", re.IGNORECASE)
IMAGE = frozenset(["png", "jpg", "jpeg", "gif", "webp", "bmp", "heic", "avif", "svg"])
VIDEO = frozenset(["mp4", "mov", "webm", "mkv", "avi", "m4v"])
AUDIO = frozenset(["mp3", "ogg", "oga", "opus", "wav", "m4a", "flac", "aac"])

# Batched reading of the messages array (see DiscordSource._fast_file).
CHUNK = 1 << 14
HEAD_LIMIT = 1 << 20  # the "messages" key is further in: read the file with ijson alone
TAIL_LIMIT = 1 << 20  # as much after the messages array
CUT_ATTEMPTS = 3
MESSAGE_LIMIT = 64 << 20  # no cut found in this much: leave the rest to ijson
MESSAGES_KEY = re.compile(rb'"messages"[ \t\r\n]*:[ \t\r\n]*\[')
WS = re.compile(rb"[ \t\r\n]*")
JSON_WS = b" \t\r\n"
OPEN_BRACE, CLOSE_BRACKET, COMMA, MINUS = b"{],-"
NUMBER_START = frozenset(b":,[")
# Bytes to "D" (digit), "Q" (quote) or "x": a run of 19 digits or more that is not a string's
# end is a number ijson may reject (yajl's integers stop at 64 bits, orjson's do not).
DIGIT_CLASSES = bytes(68 if 48 <= byte <= 57 else 81 if byte == 34 else 120 for byte in range(256))
LONG_NUMBER = b"D" * 19 + b"x"

# The fields read from every message, in one C call (pick) while none is missing.
MESSAGE_FIELDS = (
    "id",
    "type",
    "timestamp",
    "author",
    "content",
    "reactions",
    "isPinned",
    "timestampEdited",
    "attachments",
    "embeds",
    "stickers",
    "mentions",
)
pick = itemgetter(*MESSAGE_FIELDS)

REPLY = EventKind.REPLY
SYSTEM = EventKind.SYSTEM
MENTION = EventKind.MENTION
REACTION = EventKind.REACTION
JOIN_LEAVE = (EventKind.JOIN, EventKind.LEAVE)


def looks_like_export(path: Path) -> bool:
    """DCE starts every export with ``{"guild": {…}`` and names the channel right after."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES).removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return False
    return bool(EXPORT_HEAD.match(head)) and b'"channel"' in head


def _attachment_type(attachments: list[Any]) -> str:
    first = attachments[0] if isinstance(attachments[0], dict) else {}
    name = first.get("fileName") or first.get("url") or ""
    extension = str(name).rpartition(".")[2].lower() if "." in str(name) else ""
    if extension in IMAGE:
        return "image"
    if extension in VIDEO:
        return "video"
    if extension in AUDIO:
        return "audio"
    return "file"


def _parse_batch(buf: bytes, start: int, end: int) -> list[Any] | None:
    """The values of ``[buf[start:end]]`` as ijson reads them; None when that is not JSON."""
    batch = b"".join((b"[", memoryview(buf)[start:end], b"]"))
    if _long_number(batch):
        try:
            return list(ijson.items(io.BytesIO(batch), "item", use_float=True))
        except ijson.JSONError:
            return None
    try:
        return loads(batch)
    except JSONDecodeError:
        return None


def _named(name: Any, content: str) -> bool:
    return name.__class__ is str and bool(name) and f"@{name}" in content


def _top_level(head: bytes) -> bool:
    """Whether a ``"messages"`` key after ``head`` (the file's start) is a top-level key."""
    head = head.rstrip(JSON_WS)
    if head.lstrip(JSON_WS) == b"{":
        return True
    if not head.endswith(b","):
        return False
    try:
        before = loads(head[:-1] + b"}")
    except JSONDecodeError:
        return False
    return isinstance(before, dict) and "messages" not in before


def _long_number(batch: bytes) -> bool:
    """Whether ``batch`` may hold a number of 19 digits or more (outside strings)."""
    classes = batch.translate(DIGIT_CLASSES)
    found = classes.find(LONG_NUMBER)
    while found >= 0:
        start = found
        while start and classes[start - 1] == 68:
            start -= 1
        if start and batch[start - 1] == MINUS:
            start -= 1
        while start and batch[start - 1] in JSON_WS:
            start -= 1
        if start and batch[start - 1] in NUMBER_START:
            return True
        found = classes.find(LONG_NUMBER, found + 20)
    return False


@dataclass(slots=True)
class _Channel:
    """The shequn channel a file's messages go to, and the thread they belong to, if any."""

    path: Path
    key: str
    thread: str | None = None
    parent_id: str | None = None


class DiscordSource(Source):
    format_name = "discord"
    label = gettext_lazy("DiscordChatExporter JSON")

    def __init__(self, path: Path | str, *, channel: str | None = None, **options: Any) -> None:
        """``options`` is accepted for interface parity and unused: DCE dates carry offsets."""
        super().__init__(path, channel=channel)
        self.files = self._export_files()
        # For the current channel: user id -> whether a complete profile (with roles) was
        # yielded. Bounded by the channel's members; cleared when the channel changes.
        self._seen: dict[str, bool] = {}
        self._seen_key = ""

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        """A DCE JSON export, or a folder holding at least one."""
        if path.is_dir():
            candidates = (p for p in path.rglob("*.json") if p.is_file())
            return any(looks_like_export(p) for p in islice(candidates, SNIFF_FILES))
        return path.is_file() and looks_like_export(path)

    def _export_files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        # Other JSON files (attachments saved with --media, notes) are not exports: skip them.
        candidates = sorted(p for p in self.path.rglob("*.json") if p.is_file())
        files = [p for p in candidates if looks_like_export(p)]
        if not files:
            raise ImportFormatError(
                self.path, "", _("the folder holds no DiscordChatExporter JSON export")
            )
        if len(files) < len(candidates):
            self.counts["skipped_files"] = len(candidates) - len(files)
        return files

    @cached_property
    def total_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        for path in self.files:
            yield from self._file_records(path)

    def _file_records(self, path: Path) -> Iterator[Record]:
        record, target = self._declare(path, self._header(path))
        yield record
        if target.key != self._seen_key:
            self._seen, self._seen_key = {}, target.key
        self.counts["files"] += 1
        label = _("messages[%(index)d]")
        with self.open_counted(path) as reader:
            done = yield from self._fast_file(reader, target, label)
        if done is not None:
            yield from self._ijson_file(path, target, label, done)

    def _fast_file(
        self, reader: BinaryIO, ch: _Channel, label: str
    ) -> Generator[Record, None, int | None]:
        """Parse ``messages`` in batches of whole messages with orjson; None when all is read.

        A batch is cut after a ``}`` on a line of its own at the indentation of the first
        message: JSON strings hold no raw line breaks, and orjson only accepts ``[batch]`` when
        the cut falls between two messages, so a wrong cut cannot go unnoticed. Memory is
        bounded by the chunk size and the largest message. Anything unexpected (a compact or
        odd layout, malformed JSON, numbers that ijson treats differently, a large tail) returns
        the number of messages done, and ``_ijson_file`` reads the file again the original way
        from there, so records and error messages are exactly those of ijson.
        """
        buf = reader.read(CHUNK)
        # The top-level "messages" key: the first candidate after a valid object head.
        search = 0
        while True:
            found = MESSAGES_KEY.search(buf, search)
            if found is None:
                if len(buf) > HEAD_LIMIT:
                    return 0
                more = reader.read(CHUNK)
                if not more:
                    return 0
                buf += more
                continue
            if _top_level(buf[: found.start()]):
                break
            search = found.start() + 1
        pos = found.end()
        while True:
            first = WS.match(buf, pos).end()
            if first < len(buf):
                break
            more = reader.read(CHUNK)
            if not more:
                return 0
            buf += more
        opening = buf[first]
        if opening != OPEN_BRACE and opening != CLOSE_BRACKET:
            return 0
        indent = buf[pos:first]
        if opening == OPEN_BRACE:
            if b"\n" not in indent:
                return 0  # not indented: no safe place to cut batches
            close = b"\n" + indent[indent.rfind(b"\n") + 1 :] + b"}"
        done = 0
        pos = first
        scanned = pos  # no cut before this point (for messages longer than a chunk)
        while opening == OPEN_BRACE:
            end = buf.rfind(close, scanned)
            if end < 0:
                more = reader.read(CHUNK)
                if not more or len(buf) - pos > MESSAGE_LIMIT:
                    return done
                buf = buf[pos:] + more
                scanned = max(0, len(buf) - len(more) - len(close))
                pos = 0
                continue
            # The last candidate may close the document rather than a message (when both have
            # the same indentation): then try the one before.
            for _attempt in range(CUT_ATTEMPTS):
                messages = _parse_batch(buf, pos, end + len(close))
                if messages is not None:
                    break
                end = buf.rfind(close, pos, end)
                if end < 0:
                    break
            if messages is None:
                return done
            end += len(close)
            yield from self._messages(messages, ch, label, done)
            done += len(messages)
            # What follows the batch: a comma and more messages, or the end of the array.
            buf = buf[end:]
            while True:
                pos = WS.match(buf).end()
                if pos < len(buf):
                    break
                more = reader.read(CHUNK)
                if not more:
                    return done
                buf += more
            scanned = pos
            opening = buf[pos]
            if opening == COMMA:
                pos += 1
                opening = OPEN_BRACE
            elif opening != CLOSE_BRACKET:
                return done
        # The rest of the document after the array must be valid, small and hold no more
        # messages (ijson would go on to items of a second "messages" key).
        tail = buf[pos + 1 :]
        while more := reader.read(CHUNK):
            tail += more
            if len(tail) > TAIL_LIMIT:
                return done
        try:
            rest = loads(b'{"messages":[]' + tail)
        except JSONDecodeError:
            return done
        if rest.get("messages") != []:
            return done
        return None

    def _ijson_file(self, path: Path, ch: _Channel, label: str, skip: int) -> Iterator[Record]:
        """Read the file again with ijson, from its ``skip``-th message on."""
        raw = CountingReader(path.open("rb", buffering=0))
        self._readers[-1] = raw  # progress counts this pass instead of the abandoned one
        done = 0
        with io.BufferedReader(raw, buffer_size=1 << 16) as reader:
            try:
                for message in ijson.items(reader, "messages.item", use_float=True):
                    if done >= skip:
                        yield from self._messages((message,), ch, label, done)
                    done += 1
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    path, label % {"index": done}, _("invalid JSON (%(error)s)") % {"error": exc}
                ) from None

    def _header(self, path: Path) -> dict[str, Any]:
        """The objects before ``messages``, read from the head of the file only."""
        found: dict[str, Any] = {}
        builders: dict[str, ijson.ObjectBuilder] = {}
        has_messages = False
        with path.open("rb") as handle:
            try:
                for prefix, event, value in ijson.parse(handle, use_float=True):
                    if prefix == "":
                        if event == "map_key" and value == "messages":
                            has_messages = True
                            break
                        if event not in ("start_map", "map_key", "end_map"):
                            raise ImportFormatError(
                                path, _("top level"), _("expected a JSON object")
                            )
                        continue
                    top = prefix.partition(".")[0]
                    if top not in ("guild", "channel"):
                        continue
                    if top not in builders:
                        builders[top] = ijson.ObjectBuilder()
                    builders[top].event(event, value)
                    if prefix == top and event in VALUE_END:
                        found[top] = builders[top].value
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    path, _("top level"), _("invalid JSON (%(error)s)") % {"error": exc}
                ) from None
        if not has_messages:
            raise ImportFormatError(
                path,
                _("top level"),
                _("no '%(field)s' array after the '%(header)s' object")
                % {"field": "messages", "header": "channel"},
            )
        return found

    def _declare(self, path: Path, header: dict[str, Any]) -> tuple[ChannelRecord, _Channel]:
        """A Discord channel or thread is a shequn channel; ``--channel`` puts all in one."""
        where = _("top level")
        channel = header.get("channel")
        if not isinstance(channel, dict):
            raise ImportFormatError(
                path, where, _("missing the '%(field)s' object") % {"field": "channel"}
            )
        if "guild" in header and not isinstance(header["guild"], dict):
            raise ImportFormatError(
                path, where, _("missing the '%(field)s' object") % {"field": "guild"}
            )
        channel_id = self._id(channel, "id", path, where, prefix="channel.")
        name = self._text(channel, "name", path, where, prefix="channel.")
        is_thread = channel.get("type") in THREAD_TYPES
        # DCE's "category" of a thread is its parent channel (see JsonMessageWriter.cs).
        parent_id = channel.get("categoryId") if is_thread else None
        parent_name = channel.get("category") if is_thread else None
        if parent_name:
            name = f"{parent_name} › {name}"
        self.counts["channels"] += 1
        if is_thread:
            self.counts["threads"] += 1
        key = self.channel_override or channel_id
        record = ChannelRecord(
            key=key, platform=Platform.DISCORD, name=self.channel_override or name or key
        )
        target = _Channel(
            path=path,
            key=key,
            thread=f"thread:{channel_id}" if is_thread else None,
            parent_id=str(parent_id) if parent_id else None,
        )
        return record, target

    # -------------------------------------------------------------- messages
    def _messages(
        self, messages: Iterable[Any], ch: _Channel, label: str, done: int
    ) -> Iterator[Record]:
        """The records of ``messages``, the first being ``messages[done]`` of the file.

        Inlines what is done per message (ids, author, attributes, mentions, reaction events)
        and leaves rarer cases (membership events, checking reactions, problems) to the helpers
        below; the checks and their order are those of the helpers.
        """
        path, key, thread, parent_id = ch.path, ch.key, ch.thread, ch.parent_id
        seen = self._seen
        counts = self.counts
        member = self._member
        fromisoformat = dt.datetime.fromisoformat
        before, percent, after = label.partition("%(index)d")
        simple = percent and "%" not in before and "%" not in after
        for index, obj in enumerate(messages, done):
            where = f"{before}{index}{after}" if simple else label % {"index": index}
            if not isinstance(obj, dict):
                raise ImportFormatError(path, where, _("expected a JSON object"))
            try:
                (
                    value,
                    msg_type,
                    stamp,
                    author,
                    content,
                    listed,
                    pinned,
                    edited,
                    attachments,
                    embeds,
                    stickers,
                    mentions,
                ) = pick(obj)
            except KeyError:  # a field left out (older DCE versions): None, as with get()
                (
                    value,
                    msg_type,
                    stamp,
                    author,
                    content,
                    listed,
                    pinned,
                    edited,
                    attachments,
                    embeds,
                    stickers,
                    mentions,
                ) = map(obj.get, MESSAGE_FIELDS)
            message_id = value.strip() if value.__class__ is str else ""
            if not message_id:
                message_id = self._id(obj, "id", path, where)
            if msg_type.__class__ is not str or not msg_type:
                msg_type = self._text(obj, "type", path, where, required=True)
            try:
                occurred = fromisoformat(stamp)
            except (TypeError, ValueError):
                occurred = None
            if occurred is None or occurred.tzinfo is None:
                occurred = self._time(obj, "timestamp", path, where)
            if not isinstance(author, dict):
                raise ImportFormatError(
                    path, where, _("missing the '%(field)s' object") % {"field": "author"}
                )
            value = author.get("id")
            actor = value.strip() if value.__class__ is str else ""
            if not actor:
                actor = self._id(author, "id", path, where, prefix="author.")
            known = seen.get(actor)
            if known is not True:
                seen[actor] = True
                if known is None:
                    counts["members"] += 1
                yield member(author, actor, ch, where, True)
            if content is not None and content.__class__ is not str:
                raise ImportFormatError(
                    path,
                    where,
                    _("field '%(field)s' must be a string or null") % {"field": "content"},
                )
            source_id = f"msg:{message_id}"
            kind = KIND_BY_TYPE.get(msg_type, SYSTEM)
            reactions = (
                self._reactions(obj, ch, where) if listed or listed.__class__ is not list else ()
            )
            # What is worth keeping beyond the event itself, only when present (rows are many).
            attributes: dict[str, Any] = {}
            if msg_type != "Default" and msg_type != "Reply":
                attributes["type"] = msg_type
            if pinned is True:
                attributes["pinned"] = True
            if edited:
                attributes["edited"] = True
            if attachments and attachments.__class__ is list:
                attributes["attachments"] = len(attachments)
            else:
                attachments = None
            if embeds and embeds.__class__ is list:
                attributes["embeds"] = len(embeds)
            else:
                embeds = None
            if stickers and stickers.__class__ is list:
                attributes["stickers"] = len(stickers)
            else:
                stickers = None
            if reactions:
                totals: dict[str, int] = {}
                for _key, emoji, count, _users in reactions:
                    totals[emoji] = totals.get(emoji, 0) + count
                attributes["reactions"] = totals
            reference = obj.get("reference")
            forwarded = False
            if kind is not REPLY and isinstance(reference, dict):
                if reference.get("type") == "Forward":
                    attributes["forwarded"] = forwarded = True
                kept = {k: reference[k] for k in ("messageId", "channelId") if reference.get(k)}
                if kept:
                    attributes["reference"] = kept
            interaction = obj.get("interaction")
            if isinstance(interaction, dict):
                user = interaction.get("user")
                attributes["interaction"] = {
                    "name": interaction.get("name"),
                    "user": user.get("id") if isinstance(user, dict) else None,
                }
            if parent_id:
                attributes["parent_channel_id"] = parent_id
            counts["messages"] += 1
            if mentions is None:
                mentions = ()
            elif mentions.__class__ is not list:
                mentions = self._list(obj, "mentions", path, where)
            if kind in JOIN_LEAVE:
                base = {
                    "channel": key,
                    "occurred_at": occurred,
                    "thread": thread,
                    "location": where,
                }
                yield from self._membership(
                    msg_type, kind, source_id, actor, mentions, content, attributes, ch, base
                )
            else:
                parent = None
                if kind is REPLY:
                    referenced = reference.get("messageId") if isinstance(reference, dict) else None
                    parent = f"msg:{referenced}" if referenced else None
                    counts["replies"] += 1
                elif kind is SYSTEM:
                    counts["system_messages"] += 1
                if kind is SYSTEM:
                    content_type = "system"
                elif attachments:
                    content_type = _attachment_type(attachments)
                elif forwarded:
                    content_type = "forward"
                elif stickers and not content:
                    content_type = "sticker"
                elif embeds or (content and "://" in content and URL.search(content)):
                    content_type = "link"
                else:
                    content_type = "text"
                name = author.get("nickname")
                if not name or name.__class__ is not str:
                    name = author.get("name")
                    if not name or name.__class__ is not str:
                        name = ""
                yield EventRecord(
                    key,
                    source_id,
                    kind,
                    occurred,
                    actor,
                    None,
                    content,
                    None,
                    parent,
                    thread,
                    content_type,
                    attributes or None,
                    name,
                    where,
                )
                if mentions and kind is not SYSTEM:
                    written: set[str] = set()
                    for position, mention in enumerate(mentions):
                        if not isinstance(mention, dict):
                            raise ImportFormatError(
                                path,
                                where,
                                _("missing the '%(field)s' object")
                                % {"field": f"mentions[{position}]"},
                            )
                        value = mention.get("id")
                        target = value.strip() if value.__class__ is str else ""
                        if not target:
                            target = self._id(
                                mention, "id", path, where, prefix=f"mentions[{position}]."
                            )
                        complete = isinstance(mention.get("roles"), list)
                        known = seen.get(target)
                        if known is None or (complete and not known):
                            seen[target] = complete
                            if known is None:
                                counts["members"] += 1
                            yield member(mention, target, ch, where, complete)
                        if target == actor or target in written:
                            continue
                        # A reply pings the replied-to author by default and Discord lists them
                        # among the mentions; the reply already points at them, so only
                        # mentions written out count. DCE renders a mention as ``@display
                        # name`` (or ``<@id>`` without markdown rendering).
                        if msg_type == "Reply" and not (
                            content
                            and (
                                (
                                    "<@" in content
                                    and (f"<@{value}>" in content or f"<@!{value}>" in content)
                                )
                                or _named(mention.get("nickname"), content)
                                or _named(mention.get("name"), content)
                            )
                        ):
                            continue
                        written.add(target)
                        counts["mentions"] += 1
                        yield EventRecord(
                            key,
                            f"{source_id}#mention:{target}",
                            MENTION,
                            occurred,
                            actor,
                            target,
                            None,
                            None,
                            source_id,
                            thread,
                            "",
                            None,
                            "",
                            where,
                        )
            # One reaction event per reacting user; Discord keeps no reaction times: the
            # message's.
            if not reactions:
                continue
            for index, (emoji_key, emoji, _count, users) in enumerate(reactions):
                if not users:
                    continue
                for position, user in enumerate(users):
                    if not isinstance(user, dict):
                        raise ImportFormatError(
                            path,
                            where,
                            _("missing the '%(field)s' object")
                            % {"field": f"reactions[{index}].users[{position}]"},
                        )
                    value = user.get("id")
                    reactor = value.strip() if value.__class__ is str else ""
                    if not reactor:
                        reactor = self._id(
                            user,
                            "id",
                            path,
                            where,
                            prefix=f"reactions[{index}].users[{position}].",
                        )
                    complete = isinstance(user.get("roles"), list)
                    known = seen.get(reactor)
                    if known is None or (complete and not known):
                        seen[reactor] = complete
                        if known is None:
                            counts["members"] += 1
                        yield member(user, reactor, ch, where, complete)
                    counts["reaction_users"] += 1
                    yield EventRecord(
                        key,
                        f"{source_id}#reaction:{emoji_key}:{reactor}",
                        REACTION,
                        occurred,
                        reactor,
                        None,
                        None,
                        None,
                        source_id,
                        thread,
                        "reaction",
                        {"emoji": emoji},
                        "",
                        where,
                    )

    def _membership(
        self,
        msg_type: str,
        kind: str,
        source_id: str,
        actor: str,
        mentions: list[Any],
        content: str | None,
        attributes: dict[str, Any],
        ch: _Channel,
        base: dict[str, Any],
    ) -> Iterator[Record]:
        """Join/leave of the author, or, for recipient add/remove, of the users it names."""
        subjects = [actor]
        if msg_type in RECIPIENT_TYPES and mentions:
            subjects = []
            for index, mention in enumerate(mentions):
                where, prefix = base["location"], f"mentions[{index}]."
                subject = yield from self._user(mention, ch, where, prefix=prefix)
                if subject not in subjects:
                    subjects.append(subject)
        self.counts["joins" if kind == EventKind.JOIN else "leaves"] += len(subjects)
        by = "added_by" if kind == EventKind.JOIN else "removed_by"
        for position, subject in enumerate(subjects):
            extra = {by: actor} if subject != actor else {}
            yield EventRecord(
                source_id=source_id if position == 0 else f"{source_id}#{subject}",
                kind=kind,
                actor=subject,
                text=content,
                content_type="system",
                attributes={**attributes, **extra},
                **base,
            )

    def _reactions(
        self, obj: dict[str, Any], ch: _Channel, where: str
    ) -> list[tuple[str, str, int, list[dict[str, Any]] | None]]:
        """(emoji key, emoji name, count, users or None) for each reaction, checked."""
        parsed = []
        for index, reaction in enumerate(self._list(obj, "reactions", ch.path, where)):
            emoji = reaction.get("emoji") if isinstance(reaction, dict) else None
            if not isinstance(emoji, dict):
                raise ImportFormatError(
                    ch.path,
                    where,
                    _("missing the '%(field)s' object") % {"field": f"reactions[{index}].emoji"},
                )
            emoji_id = emoji.get("id")
            name = emoji.get("name")
            # Custom emoji go by their id (names change); standard ones by the character itself.
            key = str(emoji_id) if emoji_id else (name if isinstance(name, str) else "")
            count = reaction.get("count")
            if not key or not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ImportFormatError(
                    ch.path,
                    where,
                    _("%(field)s needs an emoji id or name and a whole-number count")
                    % {"field": f"reactions[{index}]"},
                )
            users = reaction.get("users")
            if users is not None and not isinstance(users, list):
                raise ImportFormatError(
                    ch.path,
                    where,
                    _("field '%(field)s' must be a list") % {"field": f"reactions[{index}].users"},
                )
            self.counts["reactions"] += count
            parsed.append((key, name if isinstance(name, str) and name else key, count, users))
        return parsed

    # ----------------------------------------------------------------- users
    def _user(
        self,
        obj: Any,
        ch: _Channel,
        where: str,
        *,
        prefix: str,
        complete: bool = False,
    ) -> Iterator[Record]:
        """Yield a MemberRecord the first time an account is seen in this file; return its id.

        Only author objects and objects with ``roles`` carry a profile: a reaction's user has no
        roles, and would otherwise erase the roles an earlier import stored.
        """
        if not isinstance(obj, dict):
            raise ImportFormatError(
                ch.path, where, _("missing the '%(field)s' object") % {"field": prefix.rstrip(".")}
            )
        user_id = self._id(obj, "id", ch.path, where, prefix=prefix)
        complete = complete or isinstance(obj.get("roles"), list)
        seen = self._seen.get(user_id)
        if seen is None or (complete and not seen):
            self._seen[user_id] = complete
            if seen is None:
                self.counts["members"] += 1
            yield self._member(obj, user_id, ch, where, complete)
        return user_id

    def _member(
        self, obj: dict[str, Any], user_id: str, ch: _Channel, where: str, complete: bool
    ) -> MemberRecord:
        name = obj.get("name") if isinstance(obj.get("name"), str) else ""
        discriminator = obj.get("discriminator")
        handle = name
        if name and isinstance(discriminator, str) and discriminator not in NO_DISCRIMINATOR:
            handle = f"{name}#{discriminator}"
        profile = None
        if complete:
            profile = {"username": name}
            roles = obj.get("roles")
            if isinstance(roles, list):
                profile["discord_roles"] = [
                    role["name"]
                    for role in roles
                    if isinstance(role, dict) and isinstance(role.get("name"), str)
                ]
        return MemberRecord(
            channel=ch.key,
            platform_user_id=user_id,
            display_name=self._display_name(obj),
            handle=handle,
            is_bot=obj.get("isBot") is True,
            profile=profile,
            location=where,
        )

    @staticmethod
    def _display_name(obj: dict[str, Any]) -> str:
        for field in ("nickname", "name"):
            value = obj.get(field)
            if isinstance(value, str) and value:
                return value
        return ""

    # ---------------------------------------------------------------- fields
    @staticmethod
    def _id(obj: dict[str, Any], field: str, path: Path, where: str, prefix: str = "") -> str:
        """Discord ids are snowflakes that DCE writes as strings; plain numbers are accepted."""
        value = obj.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            raise ImportFormatError(
                path,
                where,
                _("field '%(field)s' must be a non-empty string, found %(found)s")
                % {"field": prefix + field, "found": repr(value)},
            )
        return value.strip()

    @staticmethod
    def _text(
        obj: dict[str, Any],
        field: str,
        path: Path,
        where: str,
        *,
        prefix: str = "",
        required: bool = False,
    ) -> str:
        value = obj.get(field)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            raise ImportFormatError(
                path,
                where,
                _("field '%(field)s' must be a non-empty string, found %(found)s")
                % {"field": prefix + field, "found": repr(value)},
            )
        return value

    @staticmethod
    def _list(obj: dict[str, Any], field: str, path: Path, where: str) -> list[Any]:
        value = obj.get(field)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ImportFormatError(
                path, where, _("field '%(field)s' must be a list") % {"field": field}
            )
        return value

    @staticmethod
    def _time(obj: dict[str, Any], field: str, path: Path, where: str) -> dt.datetime:
        """DCE writes ISO 8601 with the exporting machine's offset (or UTC with ``--utc``)."""
        value = obj.get(field)
        try:
            parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise ImportFormatError(
                path,
                where,
                _("field '%(field)s' is not an ISO 8601 date: %(value)s")
                % {"field": field, "value": repr(value)},
            )
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise ImportFormatError(
                path,
                where,
                _("field '%(field)s' has no time zone offset: %(value)s")
                % {"field": field, "value": repr(value)},
            )
        return parsed
