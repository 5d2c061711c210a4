"""Telegram Desktop export, machine-readable JSON (``result.json``).

Telegram Desktop writes two layouts (``export_output_json.cpp`` in tdesktop):

* a **single-chat export** (a chat's menu → Export chat history): one object ``{name, type, id,
  messages: [...]}``;
* a **full export** (Settings → Advanced → Export Telegram data): ``{about,
  personal_information, contacts, …, chats: {about, list: [chat, …]}, left_chats: {…}}``, every
  chat shaped like a single-chat export.

Each chat becomes one channel (platform ``telegram``) keyed by Telegram's own peer id — ``chat``
+ id for a basic group, ``channel`` + id for a supergroup or channel, ``user`` + id for a
personal chat — the same form as the messages' ``from_id``. A full export imports groups,
supergroups and channels (also those in ``left_chats``); personal, bot, saved-message and
replies chats are skipped and counted (a single-chat export of one is imported: it was asked
for). Messages: ``msg:{id}``; mentions ``msg:{id}#mention:{user}``; reactions
``msg:{id}#reaction:{emoji}:{user}``; further joins and leaves of one service message
``msg:{id}#join:{n}`` and ``msg:{id}#leave:{n}``.

Times: ``date_unixtime`` (seconds, UTC) when present; exports by older tdesktop versions carry
only ``date``, the exporting computer's wall clock, read in the ``tz`` option (default UTC).
Reactors' ``date`` is wall clock too; it is placed with the offset between the same message's
``date`` and ``date_unixtime`` (or ``tz``).

People: members are the senders, service-message actors, reactors and ``mention_name`` targets
seen in each chat. Telegram exports no usernames except the exporter's own
(``personal_information``), so an ``@handle`` mention resolves only to the exporter and is
otherwise counted in ``mentions_unresolved``; mentions in a forwarded message were written by
someone else and are only counted. Invitations and removals name people only by
display name: a name is resolved against the names seen in the chat; an invitee not seen yet is
held (one small record per pending name) and resolved when that name first appears, or imported
with no member and ``attributes.subject_name`` at the end of the chat. Two accounts sharing a name
make the name ambiguous and unresolvable.

Memory: the file is streamed in small chunks through ijson's C backend, which builds the
messages of one chunk at a time (see ``_Shape``), never a whole chat. A layout that reading
cannot follow, and malformed JSON, are read again with ``ijson.parse``, one message at a time
built with ``ijson.ObjectBuilder``: the reference, whose records and errors the fast reading
matches. Per chat the parser keeps maps bounded by its members (id → name, name → id, pending
invitations) and the ids of forum topics' opening messages (bounded by the number of topics),
used to tell a message posted in a topic — which the export shows as a reply to the topic's
first message — from a real reply.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import ijson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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

RESULT_FILE = "result.json"
CHAT_LISTS = {"chats.list.item": "chats.list", "left_chats.list.item": "left_chats.list"}
# Dialog type -> the peer kind Telegram prefixes ids with ("user123", "chat123", "channel123").
GROUP_TYPES = {
    "private_group": "chat",
    "private_supergroup": "channel",
    "public_supergroup": "channel",
    "private_channel": "channel",
    "public_channel": "channel",
}
PERSONAL_TYPES = {
    "personal_chat": "user",
    "bot_chat": "user",
    "saved_messages": "user",
    "replies": "user",
}
PEER_KINDS = {**GROUP_TYPES, **PERSONAL_TYPES}
# media_type -> content type (at most 16 characters).
MEDIA_TYPES = {
    "sticker": "sticker",
    "video_message": "video",
    "voice_message": "voice",
    "animation": "animation",
    "video_file": "video",
    "audio_file": "audio",
}
# Keys whose presence says what a message without media_type carries, checked in this order.
MEDIA_KEYS = (
    ("photo", "image"),
    ("file", "file"),
    ("contact_information", "contact"),
    ("location_information", "location"),
    ("place_name", "location"),
    ("poll", "poll"),
    ("game_title", "game"),
    ("invoice_information", "invoice"),
    ("giveaway_information", "giveaway"),
    ("paid_stars_amount", "paid_media"),
)
# Keys copied into an ordinary message's attributes, in this order.
ATTRIBUTE_KEYS = ("forwarded_from", "via_bot", "sticker_emoji", "media_type")
# Keys without which an ordinary message has no attribute (beyond a reply's), no edit and no
# media: its content type is "link", "text" or "".
RARE_KEYS = frozenset(
    (*ATTRIBUTE_KEYS, "edited_unixtime", "edited", *(key for key, _type in MEDIA_KEYS))
)
LINK_ENTITIES = frozenset({"link", "text_link"})
SELF_JOIN_ACTIONS = frozenset({"join_group_by_link", "join_group_by_request"})
INVITE_ACTIONS = frozenset({"invite_members", "create_group"})
SCALAR_EVENTS = frozenset({"string", "number", "null", "boolean"})
_fromtimestamp = dt.datetime.fromtimestamp
_MESSAGE, _REPLY, _REACTION = EventKind.MESSAGE, EventKind.REPLY, EventKind.REACTION
_fromisoformat = dt.datetime.fromisoformat
_UTC = dt.UTC
AMBIGUOUS = ""  # a name two accounts share in one chat: resolvable to neither
MAX_OFFSET = dt.timedelta(hours=18)  # the widest UTC offset there is
SNIFF_BYTES = 4096
WHERE_PROBE = 7_031_996_240_213  # an index no label has otherwise
_STRING = rb'"(?:[^"\\]|\\.)*"'
SINGLE_CHAT_HEAD = re.compile(
    rb'\{\s*(?:"name"\s*:\s*(?:null|' + _STRING + rb")\s*,\s*)?"
    rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in PEER_KINDS) + rb')"\s*,'
    rb'\s*"id"\s*:\s*-?\d+'
)
FULL_EXPORT_HEAD = re.compile(
    rb'\{\s*"about"\s*:\s*' + _STRING + rb'\s*,\s*"(?:personal_information|profile_pictures|'
    rb'stories|contacts|frequent_contacts|sessions|web_sessions|other_data|chats|left_chats)"'
    rb"\s*:"
)


@dataclass(slots=True)
class _Chat:
    """What the parser knows about the chat being read; dropped when the chat ends."""

    prefix: str  # the ijson prefix of the chat object: "" or "chats.list.item"
    label: str  # "chats.list" / "left_chats.list", or "" for a single-chat export
    index: int
    header: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    peer: str = ""
    message_index: int = 0
    seen: dict[str, str] = field(default_factory=dict)  # member id -> name last announced
    names: dict[str, str] = field(default_factory=dict)  # name -> member id, or AMBIGUOUS
    pending: dict[str, list[EventRecord]] = field(default_factory=dict)  # name -> joins
    topics: set[int] = field(default_factory=set)
    message_label: str = ""
    where_head: str | None = None  # message_where's text before the index, once translated
    where_tail: str | None = None  # and after it; None: format the label each time
    ordinary: int = 0  # ordinary messages read
    others: bool = False  # whether anyone but the exporter wrote one

    @property
    def messages_prefix(self) -> str:
        return f"{self.prefix}.messages" if self.prefix else "messages"

    def where(self) -> str:
        if not self.label:
            return _("top level")
        return _("%(list)s[%(chat)d]") % {"list": self.label, "chat": self.index}

    def message_where(self) -> str:
        if self.where_head is None:  # translated once per chat: this runs for every message
            self._message_label()
        if self.where_tail is None:
            return self.message_label % {
                "list": self.label,
                "chat": self.index,
                "index": self.message_index,
            }
        return f"{self.where_head}{self.message_index}{self.where_tail}"

    def _message_label(self) -> None:
        """Translate the label, and split it around the index where ``%(index)d`` is all
        that changes from message to message, so each message costs one concatenation."""
        self.message_label = label = (
            _("%(list)s[%(chat)d].messages[%(index)d]") if self.label else _("messages[%(index)d]")
        )
        self.where_head = ""
        if label.count("%(index)") == 1 and "%(index)d" in label:
            probe = label % {"list": self.label, "chat": self.index, "index": WHERE_PROBE}
            parts = probe.split(str(WHERE_PROBE))
            if len(parts) == 2:
                self.where_head, self.where_tail = parts


def _type_name(value: Any) -> str:
    return "missing" if value is None else f"{type(value).__name__} {value!r}"


# ------------------------------------------------------------------------------- fast reading
# ijson's C backend (yajl2_c) builds a whole message in C when it is an ``items`` prefix's
# match; feeding every parse event to a Python ObjectBuilder costs a Python call per JSON token.
# The fast reader chains the C coroutines itself with ``_Shape`` as the prefix: C compares the
# prefix with the path of every event outside a value being built, so ``_Shape.__eq__`` sees
# the document's structure (a few calls per chat) and answers True where C is to build the
# value: each message, and the small values around the messages. The calls carry only the
# path; the event is inferred from the order of the paths. Whatever the inference cannot be
# sure of (a layout no tdesktop writes, malformed JSON) raises ``_Replay``: the file is read
# again with the plain ijson.parse walk, whose records and errors are the reference.
try:
    from ijson.backends import yajl2_c as _yajl2_c
except ImportError:  # pragma: no cover - no C backend: the plain walk only
    _yajl2_c = None

CHUNK = 16 * 1024  # small enough that the messages C builds are still in cache
_TOP, _WRAPPER, _LIST, _CHAT, _MESSAGES = range(5)  # what a streamed container is
_UNKNOWN, _MAP, _ARRAY = range(3)
# Markers the shape puts in the log between the values C appends: (what, argument). The last
# three are followed by the value C built.
_TOP_START, _TOP_END, _CHAT_START, _CHAT_END, _BEGIN, _END = range(6)
_HEADER_VALUE, _PERSONAL_VALUE, _IGNORED_VALUE = range(6, 9)
HEADER_FIELDS = frozenset({"name", "type", "id"})
EMPTY_MESSAGES = re.compile(rb'"messages"\s*:\s*([\[{])\s*[\]}]')


class _Replay(Exception):
    """The fast reader cannot be sure what the document holds: read it the plain way."""


class _Frame:
    __slots__ = ("empty", "kind", "path", "pending", "role")

    def __init__(self, path: str, role: int) -> None:
        self.path = path
        self.role = role
        self.kind = _UNKNOWN
        self.pending = False  # the last call was at this path: a map key or this value's end
        self.empty: bytes | None = None  # "[" or "{" for an empty messages value


def _child(path: str, parent: str) -> str | None:
    """The key (or "item") under which ``path`` is a value directly in ``parent``."""
    if not parent:
        return path or None
    n = len(parent)
    if len(path) > n and path[n] == "." and path.startswith(parent):
        return path[n + 1 :]
    return None


class _Shape:
    """The ``items`` prefix of the fast reader: follows a Telegram export's structure.

    Each event outside a value being built calls ``==`` with its path: the start of a value,
    a map's key, or a container's end. A map's key and its end share the map's path and are
    told apart by the next call (the key's value is at a child path); an array's item is at
    ``path.item`` with no key before it. Containers that hold messages are streamed (False);
    every other value is built by C (True) and appended to ``log`` after a marker saying what
    it is, each message without one. An empty container could be ``[]`` or ``{}``: for
    ``messages`` the bytes read tell; elsewhere it replays.
    """

    __slots__ = ("active", "chunk", "frames", "item", "log", "lost", "previous", "started")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.frames: list[_Frame] = []
        self.item: str | None = None  # the path of the messages being read: hot
        self.active: str | None = None  # the prefix of the chat being read, as in _stream
        self.chunk = b""
        self.previous = b""
        self.started = False
        # Set instead of raising _Replay: yajl2_c's parse coroutine ignores an error from the
        # items coroutine it feeds (the call returns with the exception still set).
        self.lost = False

    def __eq__(self, path: object) -> bool:  # type: ignore[override]
        if path is self.item:  # the next message: C builds it
            return True
        if self.lost:
            return False
        try:
            return self._step(path)  # type: ignore[arg-type]
        except Exception:  # C would drop it (see lost): the reader replays instead
            self.lost = True
            self.item = None
            return False

    def _step(self, path: str) -> bool:
        frames = self.frames
        if not self.started:
            self.started = True
            frames.append(_Frame(path, _TOP))
            return False
        while frames:
            frame = frames[-1]
            key = _child(path, frame.path)
            if frame.pending:
                frame.pending = False
                if key is not None:  # the call before was this key's
                    if key == "item":  # a key "item" reads like an array's item
                        raise _Replay
                    if frame.kind == _UNKNOWN:
                        self._confirm(frame, _MAP)
                    return self._value(frame, path, key)
                if frame.kind == _UNKNOWN:  # the call before was the end of {} or []
                    self._empty(frame)
                else:
                    self._close(frame)
                frames.pop()
                continue  # this call belongs to the enclosing container
            if path == frame.path:
                if frame.kind == _ARRAY:
                    self._close(frame)
                    frames.pop()
                    return False
                frame.pending = True
                if frame.kind == _UNKNOWN and frame.role == _MESSAGES:
                    frame.empty = self._empty_messages()
                return False
            if key == "item" and frame.kind != _MAP:
                if frame.kind == _UNKNOWN:
                    self._confirm(frame, _ARRAY)
                return self._value(frame, path, key)
            raise _Replay
        raise _Replay  # something after the document's end

    def _value(self, frame: _Frame, path: str, key: str) -> bool:
        """The start of a value in ``frame``: stream it (False) or have C build it (True)."""
        role = frame.role
        log = self.log
        if role == _MESSAGES:
            self.item = path
            return True
        if role == _LIST:
            self.frames.append(_Frame(path, _CHAT))
            return False
        active = self.active
        if active is not None and path == (f"{active}.messages" if active else "messages"):
            self.frames.append(_Frame(path, _MESSAGES))
            return False
        if role == _TOP and path in ("chats", "left_chats"):
            self.frames.append(_Frame(path, _WRAPPER))
            return False
        if role == _WRAPPER and f"{path}.item" in CHAT_LISTS:
            self.frames.append(_Frame(path, _LIST))
            return False
        if path == "personal_information":
            log.append((_PERSONAL_VALUE, None))
            return True
        # What C builds is never looked into: nothing inside may be a chat or its messages.
        if key == "messages" or any(
            special.startswith(f"{path}.") or special == path
            for special in (*CHAT_LISTS, f"{active}.messages" if active else "messages")
        ):
            raise _Replay
        if (
            key in HEADER_FIELDS
            and active is not None
            and path == (f"{active}.{key}" if active else key)
        ):
            log.append((_HEADER_VALUE, key))
        else:
            log.append((_IGNORED_VALUE, None))
        return True

    def _confirm(self, frame: _Frame, kind: int) -> None:
        """The container's kind is now known: it must be the one a Telegram export has."""
        frame.kind = kind
        role = frame.role
        if kind != (_ARRAY if role in (_LIST, _MESSAGES) else _MAP):
            raise _Replay
        if role == _TOP:
            self.log.append((_TOP_START, None))
            self.active = ""
        elif role == _CHAT:
            self.log.append((_CHAT_START, frame.path))
            self.active = frame.path
        elif role == _MESSAGES:
            self.log.append((_BEGIN, None))

    def _close(self, frame: _Frame) -> None:
        role = frame.role
        if role == _MESSAGES:
            self.log.append((_END, None))
            self.item = None
        elif role == _CHAT:
            self.log.append((_CHAT_END, None))
            self.active = None
        elif role == _TOP:
            self.log.append((_TOP_END, None))
            self.active = None

    def _empty(self, frame: _Frame) -> None:
        """An empty container: ``[]`` and ``{}`` are alike for the wrappers around chats."""
        if frame.role == _MESSAGES and frame.empty == b"[":
            self.log.append((_BEGIN, None))
            self.log.append((_END, None))
        elif frame.role not in (_WRAPPER, _LIST):
            raise _Replay

    def _empty_messages(self) -> bytes | None:
        """Whether the ``messages`` value just closed was ``[]`` or ``{}``, from the bytes read.

        A match is outside every string (its closing quote is not escaped, and ``:`` follows):
        a key, "messages" or one ending in an escaped quote and "messages". Only when every
        match in the last two chunks is alike is the answer sure; otherwise None (replay)."""
        found = {m[1] for m in EMPTY_MESSAGES.finditer(self.previous + self.chunk)}
        return found.pop() if len(found) == 1 else None

    def finish(self) -> None:
        """The document ended (and parsed): what is left is the top-level object's end."""
        frames = self.frames
        if len(frames) != 1 or not frames[0].pending or frames[0].kind != _MAP:
            raise _Replay
        self._close(frames.pop())


class _Send:
    """A coroutine target as yajl2_c's wrappers take one: they pass on its ``send``."""

    __slots__ = ("send",)

    def __init__(self, send: Any) -> None:
        self.send = send


def _pipeline(log: list[Any], shape: _Shape) -> Any:
    """yajl2_c's basic_parse → parse → items coroutines chained C to C (ijson.items_coro would
    put a Python-level ``send`` between them), the items appended to ``log``."""
    items = _yajl2_c.items_basecoro(_Send(log), shape)
    parse = _yajl2_c.parse_basecoro(_Send(items))
    return _yajl2_c.basic_parse_basecoro(_Send(parse), use_float=True)


class TelegramSource(Source):
    """Reads a Telegram Desktop JSON export; see the module docstring for the mapping.

    Options: ``tz`` (a zone name or tzinfo) is the zone of the wall-clock ``date`` fields used
    when ``date_unixtime`` is absent (exports by older tdesktop versions); default UTC. Other
    options are accepted and ignored, so one set of options can be passed to every source.
    """

    OPTIONS = ("time_zone",)

    format_name = "telegram"
    label = gettext_lazy("Telegram Desktop export (JSON)")

    def __init__(
        self,
        path: Path | str,
        *,
        channel: str | None = None,
        tz: str | dt.tzinfo | None = None,
        time_zone: str | None = None,
        **options: Any,
    ) -> None:
        """``time_zone`` (alias ``tz``): only for old exports without ``date_unixtime``."""
        super().__init__(path, channel=channel)
        self.json_path = self.path / RESULT_FILE if self.path.is_dir() else self.path
        if not self.json_path.is_file():
            raise ImportFormatError(
                self.path,
                "",
                _("no %(file)s in this folder; name the export's %(file)s itself")
                % {"file": RESULT_FILE},
            )
        self.tz = self.zone_option(time_zone or tz, "UTC")
        self._self_id = ""  # the exporter, from personal_information
        self._self_handle = ""
        self._handles: dict[str, str] = {}  # lower-case username -> member id
        self._chats_seen = 0
        self._zones: dict[int, dt.tzinfo] = {}  # UTC offset in minutes -> zone

    @cached_property
    def total_bytes(self) -> int:
        """The JSON alone: an export folder's media are never read."""
        return self.json_path.stat().st_size

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        """An object opening like a Telegram single-chat or full export (or a folder with one)."""
        if path.is_dir():
            path = path / RESULT_FILE
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES).removeprefix(b"\xef\xbb\xbf")
        return bool(SINGLE_CHAT_HEAD.match(head) or FULL_EXPORT_HEAD.match(head))

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        yielded = 0
        state = (self._self_id, self._self_handle, dict(self._handles), self._chats_seen)
        counts = Counter(self.counts)
        replay = _yajl2_c is None
        if not replay:
            try:
                with self.open_counted(self.json_path) as reader:
                    for record in self._fast_records(reader):
                        yield record
                        yielded += 1
            except _Replay:
                replay = True
        if replay:  # from the start, as this call found the source
            self.counts.clear()
            self.counts.update(counts)
            self._self_id, self._self_handle, self._handles, self._chats_seen = state
            yield from self._plain_records(yielded)
        if not self._chats_seen:
            raise ImportFormatError(
                self.json_path,
                "",
                _(
                    "this Telegram export holds no chat; export a chat's history, or tick the"
                    " group and channel chats in %(menu)s"
                )
                % {"menu": "Settings → Advanced → Export Telegram data"},
            )

    def _plain_records(self, skip: int) -> Iterator[Record]:
        """Read the file with ijson.parse, yielding from the ``skip``-th record on: the
        reference for the layouts (and malformed JSON) the fast reader does not follow."""
        if self._readers:  # progress counts this pass instead of the abandoned one
            raw = CountingReader(self.json_path.open("rb", buffering=0))
            self._readers[-1] = raw
            reader = io.BufferedReader(raw, buffer_size=1 << 16)
        else:
            reader = self.open_counted(self.json_path)
        state: dict[str, Any] = {"chat": None}
        with reader:
            try:
                for record in self._stream(ijson.parse(reader, use_float=True), state):
                    if skip:
                        skip -= 1
                    else:
                        yield record
            except (ijson.JSONError, UnicodeDecodeError) as exc:
                chat: _Chat | None = state["chat"]
                where = "" if chat is None else chat.message_where() if chat.key else chat.where()
                raise ImportFormatError(
                    self.json_path, where, _("invalid JSON (%(error)s)") % {"error": exc}
                ) from None

    def _fast_records(self, reader: Any) -> Iterator[Record]:
        """The records of ``_stream``, the messages built by C (see ``_Shape``)."""
        log: list[Any] = []
        shape = _Shape(log)
        try:
            coro = _pipeline(log, shape)
        except Exception:  # an ijson whose C coroutines are made otherwise
            raise _Replay from None
        read = reader.read
        message = self._message
        chat: Any = None
        importing: bool | None = None  # whether the messages being read are imported
        marker: Any = None  # a marker whose value C has not finished building
        list_counts = dict.fromkeys(CHAT_LISTS, 0)
        data = b""
        while True:
            shape.previous = data
            shape.chunk = data = read(CHUNK)
            try:
                if data:
                    coro.send(data)
                else:
                    coro.close()
                    shape.finish()
            except (ijson.JSONError, UnicodeDecodeError):
                raise _Replay from None
            if shape.lost:
                raise _Replay
            for value in log:
                if marker is None:
                    if value.__class__ is not tuple:  # a message
                        if importing:
                            if value.__class__ is not dict:
                                raise ImportFormatError(
                                    self.json_path,
                                    chat.message_where(),
                                    _("expected a JSON object"),
                                )
                            yield from message(chat, value)
                            chat.message_index += 1
                        continue
                    what, argument = value
                    if what == _BEGIN:
                        importing = self._begin_chat(chat)
                        if importing:
                            yield ChannelRecord(
                                key=chat.key, platform=Platform.TELEGRAM, name=chat.header["name"]
                            )
                    elif what == _END:
                        if importing:
                            yield from self._end_chat(chat)
                        importing = None
                    elif what == _CHAT_START:
                        if self.channel_override:
                            raise ImportFormatError(
                                self.json_path,
                                "",
                                _(
                                    "a channel name can only be given for a single-chat export;"
                                    " this is a full export with one channel per chat"
                                ),
                            )
                        chat = _Chat(
                            prefix=argument, label=CHAT_LISTS[argument], index=list_counts[argument]
                        )
                        list_counts[argument] += 1
                    elif what == _TOP_START:
                        chat = _Chat(prefix="", label="", index=0)
                    elif what in (_CHAT_END, _TOP_END):
                        chat = None
                    else:  # the value follows
                        marker = value
                    continue
                what, argument = marker
                if what == _PERSONAL_VALUE:
                    if value.__class__ is dict:
                        self._personal(value)
                elif what == _HEADER_VALUE and value.__class__ not in (dict, list):
                    chat.header[argument] = value  # a scalar, as _stream takes
                marker = None
            log.clear()
            if not data:
                return

    def _stream(
        self, events: Iterator[tuple[str, str, Any]], state: dict[str, Any]
    ) -> Iterator[Record]:
        """Walk the parse events as one loop: the hot path (the events inside a message) goes
        first and costs two comparisons; the rarer structure events follow."""
        chat: _Chat | None = None
        item_prefix = None  # prefix of the messages of a chat being imported
        skip_prefix = None  # prefix of the messages of a chat being skipped
        builder: Any = None
        feed: Any = None  # builder.event while a message is being built
        personal: Any = None
        list_counts = dict.fromkeys(CHAT_LISTS, 0)
        for prefix, event, value in events:
            if feed is not None:
                feed(event, value)
                if event == "end_map" and prefix == item_prefix:
                    yield from self._message(chat, builder.value)
                    chat.message_index += 1
                    feed = None
                continue
            if prefix == item_prefix:
                if event != "start_map":
                    raise ImportFormatError(
                        self.json_path,
                        chat.message_where(),
                        _("expected a JSON object"),
                    )
                builder = ijson.ObjectBuilder()
                feed = builder.event
                feed(event, value)
                continue
            if skip_prefix is not None and prefix.startswith(skip_prefix):
                if prefix == skip_prefix and event == "end_array":
                    skip_prefix = None
                continue
            if personal is not None:
                personal.event(event, value)
                if prefix == "personal_information" and event == "end_map":
                    self._personal(personal.value)
                    personal = None
                continue
            if prefix == "":
                if event == "start_map":
                    chat = state["chat"] = _Chat(prefix="", label="", index=0)
                elif event == "end_map":
                    chat = state["chat"] = None
                elif event in ("start_array", *SCALAR_EVENTS):
                    raise ImportFormatError(
                        self.json_path, _("top level"), _("expected a JSON object")
                    )
                continue
            if prefix in CHAT_LISTS:
                if event == "start_map":
                    if self.channel_override:
                        raise ImportFormatError(
                            self.json_path,
                            "",
                            _(
                                "a channel name can only be given for a single-chat export; this"
                                " is a full export with one channel per chat"
                            ),
                        )
                    chat = state["chat"] = _Chat(
                        prefix=prefix, label=CHAT_LISTS[prefix], index=list_counts[prefix]
                    )
                    list_counts[prefix] += 1
                elif event == "end_map":
                    chat = state["chat"] = None
                elif event != "map_key":
                    where = _("%(list)s[%(chat)d]") % {
                        "list": CHAT_LISTS[prefix],
                        "chat": list_counts[prefix],
                    }
                    raise ImportFormatError(self.json_path, where, _("expected a JSON object"))
                continue
            if prefix == "personal_information" and event == "start_map":
                personal = ijson.ObjectBuilder()
                personal.event(event, value)
                continue
            if chat is None:
                continue
            messages = chat.messages_prefix
            if prefix == messages:
                if event == "start_array":
                    if self._begin_chat(chat):
                        yield ChannelRecord(
                            key=chat.key, platform=Platform.TELEGRAM, name=chat.header["name"]
                        )
                        item_prefix = f"{messages}.item"
                    else:
                        skip_prefix = messages
                elif event == "end_array":
                    yield from self._end_chat(chat)
                    item_prefix = None
                else:
                    raise ImportFormatError(
                        self.json_path,
                        chat.where(),
                        _("field '%(field)s' must be a %(expected)s, found %(found)s")
                        % {"field": "messages", "expected": "list", "found": _type_name(value)},
                    )
                continue
            if event in SCALAR_EVENTS and prefix.startswith(chat.prefix):
                name = prefix[len(chat.prefix) + 1 :] if chat.prefix else prefix
                if name in ("name", "type", "id"):
                    chat.header[name] = value

    # ------------------------------------------------------------------ chats
    def _personal(self, info: Any) -> None:
        """The exporter's own account: the one username a Telegram export contains."""
        if not isinstance(info, dict):
            return
        user_id = info.get("user_id")
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            self._self_id = f"user{user_id}"
            username = info.get("username")
            if isinstance(username, str) and username.strip("@"):
                self._self_handle = username.strip("@")
                self._handles[self._self_handle.lower()] = self._self_id

    def _begin_chat(self, chat: _Chat) -> bool:
        """Check the chat's header and say whether its messages are imported."""
        header = chat.header
        chat_id = header.get("id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ImportFormatError(
                self.json_path,
                chat.where(),
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "id", "expected": "int", "found": _type_name(chat_id)},
            )
        chat_type = header.get("type")
        if chat_type is not None and not isinstance(chat_type, str):
            raise ImportFormatError(
                self.json_path,
                chat.where(),
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "type", "expected": "str", "found": _type_name(chat_type)},
            )
        chat_type = chat_type or ""
        self._chats_seen += 1
        if chat.label and chat_type not in GROUP_TYPES:
            self.counts["chats_skipped"] += 1
            return False
        chat.peer = f"{PEER_KINDS.get(chat_type, 'peer')}{chat_id}"
        chat.key = self.channel_override or chat.peer
        name = header.get("name")
        header["name"] = name if isinstance(name, str) and name else chat.key
        self.counts["chats"] += 1
        return True

    def _end_chat(self, chat: _Chat) -> Iterator[Record]:
        """Invitations whose invitee never showed up: kept, with the name and no member.

        A group in which only the exporter speaks was most likely exported with tdesktop's
        default "Only my messages": counted, so the summary shows it.
        """
        if self._self_id and chat.ordinary and not chat.others:
            self.counts["chats_only_exporter_messages"] += 1
        for records in chat.pending.values():
            for record in records:
                self.counts["joins_unresolved"] += 1
                yield record
        chat.pending.clear()

    # ---------------------------------------------------------------- members
    def _member(self, chat: _Chat, puid: str, name: Any, where: str) -> Iterator[Record]:
        """Announce an account when first seen or renamed; learn its name for invitations.

        Telegram's export holds no roles: founder and operator are left to operators.
        """
        name = name if isinstance(name, str) else ""
        known = chat.seen.get(puid)
        if known is None:
            self.counts["members"] += 1
        if known is None or (name and name != known):
            chat.seen[puid] = name or known or ""
            yield MemberRecord(
                channel=chat.key,
                platform_user_id=puid,
                display_name=name,
                handle=self._self_handle if puid == self._self_id else "",
                location=where,
            )
        if name:
            current = chat.names.get(name)
            if current is None:
                chat.names[name] = puid
                for record in chat.pending.pop(name, ()):
                    record.actor = puid
                    yield record
            elif current != puid:
                chat.names[name] = AMBIGUOUS

    def _peer(self, value: Any, field_name: str, where: str) -> str | None:
        """A peer id as the export writes it ("user123"); old exports wrote a bare user number."""
        if value is None:
            return None
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return f"user{value}"
        raise ImportFormatError(
            self.json_path,
            where,
            _("field '%(field)s' must be a %(expected)s, found %(found)s")
            % {"field": field_name, "expected": "str", "found": _type_name(value)},
        )

    # --------------------------------------------------------------- messages
    def _message(self, chat: _Chat, obj: dict[str, Any]) -> Iterator[Record]:
        """One message. The hot path: checks that pass for every well-formed message are done
        inline, in the order the helpers did them; any other value goes to the helper, which
        accepts it the same way or raises the same error."""
        tail = chat.where_tail
        if tail is None:
            where = chat.message_where()
        else:
            where = f"{chat.where_head}{chat.message_index}{tail}"
        get = obj.get
        kind = get("type")
        if kind == "unsupported":  # tdesktop writes only the id of what it cannot show
            self.counts["unsupported"] += 1
            return
        msg_id = get("id")
        if msg_id.__class__ is not int:
            msg_id = self._int(obj, "id", where)
        raw = get("date_unixtime")
        if raw.__class__ is str and raw.isdigit():
            try:
                occurred = _fromtimestamp(int(raw), _UTC)
            except (OverflowError, OSError, ValueError):
                occurred = self._occurred(obj, where)  # raises as it always did
        else:
            occurred = self._occurred(obj, where)
        if kind == "service":
            self.counts["service_messages"] += 1
            yield from self._service(chat, obj, msg_id, occurred, where)
            return
        if kind != "message":
            if isinstance(kind, str):
                raise ImportFormatError(
                    self.json_path,
                    where,
                    _("unknown %(field)s %(value)s") % {"field": "type", "value": repr(kind)},
                )
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "type", "expected": "str", "found": _type_name(kind)},
            )
        # An ordinary message.
        self.counts["messages"] += 1
        actor = get("from_id")
        if actor.__class__ is not str or not actor:
            actor = self._peer(actor, "from_id", where)
        name = get("from")
        if name.__class__ is not str:
            name = ""
        chat.ordinary += 1
        if actor != self._self_id:
            chat.others = True
        if actor is not None:
            known = chat.seen.get(actor)
            # _member does nothing for an account seen under this name, which is its own.
            if known is None or (name and (name != known or chat.names.get(name) != actor)):
                yield from self._member(chat, actor, name, where)
        text = get("text", "")
        if text.__class__ is str:
            listed = get("text_entities")
            entities = []
            if listed.__class__ is list:
                for entity in listed:
                    if entity.__class__ is dict and entity.get("type") != "plain":
                        entities.append(entity)
        else:
            text, entities = self._text(obj, where)
        kind = _MESSAGE
        parent = thread = None
        attributes: dict[str, Any] = {}
        reply_to = get("reply_to_message_id")
        if reply_to is not None:
            if reply_to.__class__ is not int:
                reply_to = self._int(obj, "reply_to_message_id", where)
            other_chat = get("reply_to_peer_id")
            if other_chat is not None and other_chat != chat.peer:
                attributes["reply_to_peer_id"] = other_chat
                attributes["reply_to_message_id"] = reply_to
            elif reply_to in chat.topics:  # posted in a forum topic, not a reply to its opener
                thread = f"msg:{reply_to}"
            else:
                kind = _REPLY
                parent = f"msg:{reply_to}"
        if obj.keys().isdisjoint(RARE_KEYS):  # most messages: text, maybe with entities
            if entities and any(entity.get("type") in LINK_ENTITIES for entity in entities):
                content_type = "link"  # as _content_type says
            else:
                content_type = "text" if text else ""
        else:
            for key in ATTRIBUTE_KEYS:
                if key in obj:
                    attributes[key] = obj[key]
            edited = get("edited_unixtime")
            if isinstance(edited, str) and edited.isdigit():  # the last edit's moment, in UTC
                attributes["edited"] = _fromtimestamp(int(edited), _UTC).isoformat()
            elif "edited" in obj:  # older exports: wall clock only
                attributes["edited"] = obj["edited"]
            content_type = self._content_type(obj, text, entities)
        yield EventRecord(
            chat.key,
            f"msg:{msg_id}",
            kind,
            occurred,
            actor,
            None,
            text or None,
            len(text),
            parent,
            thread,
            content_type,
            attributes or None,
            name,
            where,
        )
        if entities and actor is not None:
            if "forwarded_from" in obj:  # someone else wrote those mentions
                self.counts["mentions_in_forwards"] += sum(
                    e.get("type") in ("mention", "mention_name") for e in entities
                )
            else:
                yield from self._mentions(chat, msg_id, actor, name, occurred, entities, where)
        reactions = get("reactions")
        if reactions is not None:
            yield from self._reactions(chat, obj, msg_id, occurred, reactions, where)

    def _int(self, obj: dict[str, Any], key: str, where: str) -> int:
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ImportFormatError(
            self.json_path,
            where,
            _("field '%(field)s' must be a %(expected)s, found %(found)s")
            % {"field": key, "expected": "int", "found": _type_name(value)},
        )

    def _occurred(self, obj: dict[str, Any], where: str) -> dt.datetime:
        raw = obj.get("date_unixtime")
        if raw is None:
            return self._wall_clock(obj.get("date"), "date", self.tz, where)
        if isinstance(raw, str) and raw.isdigit():
            seconds = int(raw)
        elif isinstance(raw, int) and not isinstance(raw, bool):
            seconds = raw
        else:
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' must be an integer, found %(value)s")
                % {"field": "date_unixtime", "value": repr(raw)},
            )
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ImportFormatError(
                self.json_path,
                where,
                _("%(field)s %(value)s is out of range")
                % {"field": "date_unixtime", "value": repr(raw)},
            ) from None

    def _wall_clock(self, value: Any, name: str, zone: dt.tzinfo, where: str) -> dt.datetime:
        """An ISO date as tdesktop writes it: the exporting computer's local time, no offset."""
        if not isinstance(value, str):
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": name, "expected": "str", "found": _type_name(value)},
            )
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' is not an ISO 8601 date: %(value)s")
                % {"field": name, "value": repr(value)},
            ) from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    def _text(self, obj: dict[str, Any], where: str) -> tuple[str, list[dict[str, Any]]]:
        """The plain text and the entity objects (``text_entities``, else those in ``text``)."""
        text = obj.get("text", "")
        if isinstance(text, str):
            parts: list[Any] = [text]
        elif isinstance(text, list):
            parts = text
        else:
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "text", "expected": "str or list", "found": _type_name(text)},
            )
        pieces = []
        entities = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
                entities.append(part)
            else:
                raise ImportFormatError(
                    self.json_path,
                    where,
                    _("field '%(field)s' must be a %(expected)s, found %(found)s")
                    % {
                        "field": "text",
                        "expected": "list of strings and entities",
                        "found": _type_name(part),
                    },
                )
        listed = obj.get("text_entities")
        if isinstance(listed, list):
            entities = [e for e in listed if isinstance(e, dict) and e.get("type") != "plain"]
        return "".join(pieces), entities

    @staticmethod
    def _content_type(obj: dict[str, Any], text: str, entities: list[dict[str, Any]]) -> str:
        media_type = obj.get("media_type")
        if media_type in MEDIA_TYPES:
            return MEDIA_TYPES[media_type]
        for key, content_type in MEDIA_KEYS:
            if key in obj:
                return content_type
        if any(entity.get("type") in LINK_ENTITIES for entity in entities):
            return "link"
        return "text" if text else ""

    def _mentions(
        self,
        chat: _Chat,
        msg_id: int,
        actor: str,
        actor_name: str,
        occurred: dt.datetime,
        entities: list[dict[str, Any]],
        where: str,
    ) -> Iterator[Record]:
        targets: list[str] = []
        for entity in entities:
            entity_type = entity.get("type")
            if entity_type == "mention_name":
                user_id = entity.get("user_id")
                if isinstance(user_id, str) and user_id.isdigit():
                    user_id = int(user_id)
                if not isinstance(user_id, int) or isinstance(user_id, bool):
                    raise ImportFormatError(
                        self.json_path,
                        where,
                        _("field '%(field)s' must be a %(expected)s, found %(found)s")
                        % {"field": "user_id", "expected": "int", "found": _type_name(user_id)},
                    )
                target: str | None = f"user{user_id}"
                if target not in chat.seen:  # named as written in the message until they speak
                    self.counts["members"] += 1
                    chat.seen[target] = ""
                    yield MemberRecord(
                        channel=chat.key,
                        platform_user_id=target,
                        display_name=entity.get("text") or "",
                        location=where,
                    )
            elif entity_type == "mention":
                handle = str(entity.get("text") or "").lstrip("@").lower()
                target = self._handles.get(handle)
                if target is None:
                    self.counts["mentions_unresolved"] += 1
                    continue
            else:
                continue
            self.counts["mentions"] += 1
            if target == actor or target in targets:
                continue
            targets.append(target)
            yield EventRecord(
                channel=chat.key,
                source_id=f"msg:{msg_id}#mention:{target}",
                kind=EventKind.MENTION,
                occurred_at=occurred,
                actor=actor,
                target=target,
                parent=f"msg:{msg_id}",
                actor_name=actor_name,
                location=where,
            )

    def _reactions(
        self,
        chat: _Chat,
        obj: dict[str, Any],
        msg_id: int,
        occurred: dt.datetime,
        reactions: Any,
        where: str,
    ) -> Iterator[Record]:
        """Only the reactors Telegram lists (``recent``) are known; the rest are counted.

        Values every export has are checked inline; others go to the helpers, which accept
        them or raise as they always did."""
        if not isinstance(reactions, list):
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "reactions", "expected": "list", "found": _type_name(reactions)},
            )
        zone: dt.tzinfo | None = None
        counts = self.counts
        seen = chat.seen
        names = chat.names
        parent = f"msg:{msg_id}"
        for reaction in reactions:
            if not isinstance(reaction, dict):
                raise ImportFormatError(self.json_path, where, _("expected a JSON object"))
            count = reaction.get("count")
            if count.__class__ is not int:
                count = self._int(reaction, "count", where)
            key = reaction.get("emoji") if reaction.get("type") == "emoji" else None
            if key.__class__ is not str:
                key = self._reaction_key(reaction)
            recent = reaction.get("recent") or []
            if not isinstance(recent, list):
                raise ImportFormatError(
                    self.json_path,
                    where,
                    _("field '%(field)s' must be a %(expected)s, found %(found)s")
                    % {"field": "recent", "expected": "list", "found": _type_name(recent)},
                )
            counts["reactions"] += count
            listed = 0
            for entry in recent:
                if not isinstance(entry, dict):
                    raise ImportFormatError(self.json_path, where, _("expected a JSON object"))
                who = entry.get("from_id")
                if who.__class__ is not str or not who:
                    who = self._peer(who, "from_id", where)
                    if who is None:
                        continue
                listed += 1
                when = occurred
                date = entry.get("date")
                if date is not None:
                    if zone is None:
                        zone = self._export_zone(obj, occurred, where)
                    try:
                        when = _fromisoformat(date)
                    except (TypeError, ValueError):
                        when = self._wall_clock(date, "date", zone, where)  # raises
                    else:
                        if when.tzinfo is None:
                            when = when.replace(tzinfo=zone)
                name = entry.get("from")
                if name.__class__ is not str:
                    name = ""
                known = seen.get(who)
                if known is None or (name and (name != known or names.get(name) != who)):
                    yield from self._member(chat, who, name, where)
                yield EventRecord(
                    chat.key,
                    f"{parent}#reaction:{key}:{who}",
                    _REACTION,
                    when,
                    who,
                    None,
                    None,
                    None,
                    parent,
                    None,
                    "",
                    {"reaction": key},
                    name,
                    where,
                )
            counts["reactions_unlisted"] += max(count - listed, 0)

    @staticmethod
    def _reaction_key(reaction: dict[str, Any]) -> str:
        kind = reaction.get("type")
        if kind == "emoji" and isinstance(reaction.get("emoji"), str):
            return reaction["emoji"]
        if kind == "custom_emoji" and reaction.get("document_id") is not None:
            return f"custom:{reaction['document_id']}"
        return str(kind or "unknown")

    def _export_zone(self, obj: dict[str, Any], occurred: dt.datetime, where: str) -> dt.tzinfo:
        """The exporting computer's UTC offset at this message: ``date`` − ``date_unixtime``."""
        date = obj.get("date")
        if obj.get("date_unixtime") is None or not isinstance(date, str):
            return self.tz
        try:
            local = _fromisoformat(date)
        except ValueError:
            local = self._wall_clock(date, "date", dt.UTC, where)  # raises
        offset = local.replace(tzinfo=None) - occurred.replace(tzinfo=None)
        minutes = round(offset.total_seconds() / 60)
        zone = self._zones.get(minutes)
        if zone is None:  # one zone object per offset
            offset = dt.timedelta(minutes=minutes)
            zone = self._zones[minutes] = (
                self.tz if abs(offset) > MAX_OFFSET else dt.timezone(offset)
            )
        return zone

    # ---------------------------------------------------------------- service
    def _service(
        self, chat: _Chat, obj: dict[str, Any], msg_id: int, occurred: dt.datetime, where: str
    ) -> Iterator[Record]:
        action = obj.get("action")
        action = action if isinstance(action, str) else None
        actor = self._peer(obj.get("actor_id"), "actor_id", where)
        actor_name = obj.get("actor") if isinstance(obj.get("actor"), str) else ""
        if actor is not None:
            yield from self._member(chat, actor, actor_name, where)
        source_id = f"msg:{msg_id}"
        common = {
            "channel": chat.key,
            "occurred_at": occurred,
            "content_type": "system",
            "location": where,
        }
        if action in SELF_JOIN_ACTIONS:
            attributes = {"action": action}
            if isinstance(obj.get("inviter"), str):
                attributes["inviter"] = obj["inviter"]
            yield EventRecord(
                source_id=source_id,
                kind=EventKind.JOIN,
                actor=actor,
                attributes=attributes,
                actor_name=actor_name,
                **common,
            )
            return
        if action == "remove_members":
            yield from self._removals(chat, obj, source_id, actor, actor_name, where, common)
            return
        parent = thread = None
        attributes = {"action": action or "custom_action"}
        for key in ("title", "information_text"):
            if isinstance(obj.get(key), str):
                attributes[key] = obj[key][:500]
        if action == "topic_created":
            chat.topics.add(msg_id)
            thread = source_id
        elif action == "pin_message" and isinstance(obj.get("message_id"), int):
            parent = f"msg:{obj['message_id']}"
        names = self._names(obj, where) if action in INVITE_ACTIONS else []
        if action != "invite_members" or not names:
            yield EventRecord(
                source_id=source_id,
                kind=EventKind.SYSTEM,
                actor=actor,
                parent=parent,
                thread=thread,
                attributes=attributes,
                actor_name=actor_name,
                **common,
            )
        if names:
            yield from self._invitations(chat, names, action, msg_id, actor, actor_name, common)

    def _names(self, obj: dict[str, Any], where: str) -> list[str | None]:
        names = obj.get("members") or []
        if not isinstance(names, list) or not all(
            name is None or isinstance(name, str) for name in names
        ):
            raise ImportFormatError(
                self.json_path,
                where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "members", "expected": "list of names", "found": _type_name(names)},
            )
        return names

    def _invitations(
        self,
        chat: _Chat,
        names: list[str | None],
        action: str,
        msg_id: int,
        actor: str | None,
        actor_name: str,
        common: dict[str, Any],
    ) -> Iterator[Record]:
        """One join per invited name; "X invited X" is how a supergroup shows X joining."""
        for position, name in enumerate(names):
            source_id = (
                f"msg:{msg_id}"
                if position == 0 and action == "invite_members"
                else f"msg:{msg_id}#join:{position}"
            )
            attributes: dict[str, Any] = {"action": action}
            if actor is not None and name == actor_name:
                subject: str | None = actor
            else:
                attributes["subject_name"] = name
                if actor is not None:
                    attributes["invited_by"] = actor
                subject = chat.names.get(name) if name else None
            record = EventRecord(
                source_id=source_id,
                kind=EventKind.JOIN,
                actor=subject or None,
                attributes=attributes,
                actor_name=name or "",
                **common,
            )
            if subject is None and name:  # not seen yet: wait for them to speak
                chat.pending.setdefault(name, []).append(record)
                continue
            if not subject:
                self.counts["joins_unresolved"] += 1
            yield record

    def _removals(
        self,
        chat: _Chat,
        obj: dict[str, Any],
        source_id: str,
        actor: str | None,
        actor_name: str,
        where: str,
        common: dict[str, Any],
    ) -> Iterator[Record]:
        """Leaving is "X removed X"; removal by someone else is a leave with ``removed_by``."""
        for position, name in enumerate(self._names(obj, where)):
            attributes: dict[str, Any] = {"action": "remove_members"}
            if actor is not None and name == actor_name:
                subject: str | None = actor
            else:
                subject = chat.names.get(name) if name else None
                attributes["subject_name"] = name
                if actor is not None:
                    attributes["removed_by"] = actor
            if not subject:
                self.counts["leaves_unresolved"] += 1
            yield EventRecord(
                source_id=source_id if position == 0 else f"{source_id}#leave:{position}",
                kind=EventKind.LEAVE,
                actor=subject or None,
                attributes=attributes,
                actor_name=name or "",
                **common,
            )
