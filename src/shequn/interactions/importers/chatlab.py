"""ChatLab standard format v0.0.x, JSON and JSONL.

ChatLab (chatlab.fun) defines a chat-export exchange format that many WeChat, QQ, LINE and
WhatsApp export tools write: a ``chatlab`` header, ``meta``, ``members`` and ``messages``; in JSONL
one object per line typed by ``_type`` (header, member, message), ``#`` lines are comments.
Owner/admin roles map to founder/operator; type 25 (or any message with ``replyToMessageId``)
is a reply; system messages (type 80) become join/leave when their text says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
import orjson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.communities.models import Platform
from shequn.interactions.importers.base import Source
from shequn.interactions.importers.records import (
    ChannelRecord,
    EventRecord,
    ImportFormatError,
    MemberRecord,
    Record,
)
from shequn.interactions.models import EventKind
from shequn.members.models import Role

CONTENT_TYPES = {
    0: "text",
    1: "image",
    2: "voice",
    3: "video",
    4: "file",
    5: "sticker",
    7: "link",
    8: "location",
    20: "red_packet",
    21: "transfer",
    22: "poke",
    23: "call",
    24: "share",
    25: "text",
    26: "forward",
    27: "contact",
    80: "system",
    81: "recall",
    99: "other",
}
SYSTEM_TYPE = 80
RECALL_TYPE = 81
ROLE_MAP = {"owner": Role.FOUNDER, "admin": Role.OPERATOR}
KNOWN_PLATFORMS = set(Platform.values)

JOIN_PATTERN = re.compile(
    r"加入了?(群聊|本群|该群|群)|进群|入群|joined|added|was added|邀请.+加入", re.IGNORECASE
)
LEAVE_PATTERN = re.compile(
    r"退出了?(群聊|本群|该群|群)|退群|离开了?(群聊|本群|群)|移出|踢出|\bleft\b|removed",
    re.IGNORECASE,
)
QUOTED_NAME = re.compile(r"[\"“「『]([^\"”」』]+)[\"”」』]")
MENTION = re.compile(r"@([^\s@\u2005\u00a0,，:：]+)")
# Seconds since 1970 for any date before year 5138; larger numbers are milliseconds.
MILLISECONDS_THRESHOLD = 100_000_000_000


def _require(
    obj: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path, where: str
) -> Any:
    value = obj.get(key)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        names = [kind.__name__] if isinstance(kind, type) else [k.__name__ for k in kind]
        expected = names[0]
        for name in names[1:]:
            # Translators: type names, e.g. "str or int".
            expected = _("%(first)s or %(second)s") % {"first": expected, "second": name}
        if value is None:
            problem = _("field '%(field)s' must be a %(expected)s, found missing") % {
                "field": key,
                "expected": expected,
            }
        else:
            problem = _("field '%(field)s' must be a %(expected)s, found %(found)s") % {
                "field": key,
                "expected": expected,
                "found": f"{type(value).__name__} {value!r}",
            }
        raise ImportFormatError(path, where, problem)
    return value


class ChatLabSource(Source):
    format_name = "chatlab"
    label = gettext_lazy("ChatLab JSON / JSONL")

    def __init__(self, path: Path | str, *, channel: str | None = None) -> None:
        super().__init__(path, channel=channel)
        self._names: dict[str, str] = {}
        self._channel_key = ""
        self._hash_run: tuple[Any, dict[str, int]] = (None, {})

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        """A JSON document or JSONL file whose opening declares ChatLab."""
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
        while head.startswith(b"#"):  # JSONL comment lines
            head = head.partition(b"\n")[2].lstrip()
        if not head.startswith(b"{"):
            return False
        return b'"chatlab"' in head or (b'"_type"' in head and b'"header"' in head)

    def _is_jsonl(self) -> bool:
        if self.path.suffix.lower() == ".jsonl":
            return True
        if self.path.suffix.lower() == ".json":
            return False
        with self.path.open("rb") as handle:
            for line in handle:
                stripped = line.strip()
                if stripped and not stripped.startswith(b"#"):
                    return stripped.startswith(b"{") and b'"_type"' in stripped
        return False

    def records(self) -> Iterator[Record]:
        return self._jsonl_records() if self._is_jsonl() else self._json_records()

    # ------------------------------------------------------------------ JSONL
    def _jsonl_records(self) -> Iterator[Record]:
        header_seen = False
        line_label = _("line %(number)d")
        reader = self.open_counted(self.path)
        with reader:
            for number, line in enumerate(reader, start=1):
                stripped = line.strip()
                if not stripped or stripped.startswith(b"#"):
                    continue
                where = line_label % {"number": number}
                try:
                    obj = orjson.loads(stripped)
                except orjson.JSONDecodeError as exc:
                    raise ImportFormatError(
                        self.path, where, _("invalid JSON (%(error)s)") % {"error": exc}
                    ) from None
                if not isinstance(obj, dict):
                    raise ImportFormatError(self.path, where, _("expected a JSON object"))
                line_type = obj.get("_type")
                if not header_seen:
                    if line_type != "header":
                        raise ImportFormatError(
                            self.path,
                            where,
                            _("the first line must be the header (%(example)s)")
                            % {"example": '{"_type": "header", ...}'},
                        )
                    header_seen = True
                    yield from self._header(obj.get("chatlab"), obj.get("meta"), where)
                elif line_type == "message":
                    yield from self._message(obj, where)
                elif line_type == "member":
                    yield self._member(obj, where)
                elif line_type == "header":
                    raise ImportFormatError(self.path, where, _("a second header line"))
                else:
                    raise ImportFormatError(
                        self.path,
                        where,
                        # Translators: e.g. "unknown _type 'note'".
                        _("unknown %(field)s %(value)s")
                        % {"field": "_type", "value": repr(line_type)},
                    )
        if not header_seen:
            raise ImportFormatError(
                self.path, line_label % {"number": 1}, _("the file has no header line")
            )

    # ------------------------------------------------------------------- JSON
    def _json_records(self) -> Iterator[Record]:
        """Two streaming passes: header, meta and members first, then the messages."""
        chatlab: Any = None
        meta: Any = None
        members_seen = False
        builders: dict[str, Any] = {}
        member_index = 0
        member_label = _("members[%(index)d]")
        # The first pass usually stops where the messages start; only the second one, which
        # reads the whole file, drives the progress bar.
        reader = self.path.open("rb")
        with reader:
            try:
                for prefix, event, value in ijson.parse(reader, use_float=True):
                    if prefix == "" and event == "start_map":
                        continue
                    if prefix in ("chatlab", "meta", "members.item") and event == "start_map":
                        builders[prefix] = ijson.ObjectBuilder()
                    if prefix == "messages" and event == "start_array" and members_seen:
                        break
                    if prefix == "members" and event == "start_array":
                        members_seen = True
                    active = next(
                        (p for p in builders if prefix == p or prefix.startswith(p + ".")), None
                    )
                    if active is None:
                        continue
                    builders[active].event(event, value)
                    if prefix == active and event == "end_map":
                        built = builders.pop(active).value
                        if active == "chatlab":
                            chatlab = built
                        elif active == "meta":
                            meta = built
                        else:
                            where = member_label % {"index": member_index}
                            yield from self._pending_header(chatlab, meta, where)
                            yield self._member(built, where)
                            member_index += 1
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    self.path, "", _("invalid JSON (%(error)s)") % {"error": exc}
                ) from None
        yield from self._pending_header(chatlab, meta, _("top level"))
        message_label = _("messages[%(index)d]")
        reader = self.open_counted(self.path)
        index = 0
        with reader:
            try:
                for index, message in enumerate(
                    ijson.items(reader, "messages.item", use_float=True)
                ):
                    where = message_label % {"index": index}
                    if not isinstance(message, dict):
                        raise ImportFormatError(self.path, where, _("expected a JSON object"))
                    yield from self._message(message, where)
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    self.path,
                    message_label % {"index": index},
                    _("invalid JSON (%(error)s)") % {"error": exc},
                ) from None

    def _pending_header(self, chatlab: Any, meta: Any, where: str) -> Iterator[Record]:
        if self._channel_key:
            return
        if chatlab is None or meta is None:
            raise ImportFormatError(
                self.path,
                where,
                _("the '%(header)s' header and '%(meta)s' must come first")
                % {"header": "chatlab", "meta": "meta"},
            )
        yield from self._header(chatlab, meta, where)

    # ----------------------------------------------------------------- shared
    def _header(self, chatlab: Any, meta: Any, where: str) -> Iterator[Record]:
        if not isinstance(chatlab, dict):
            raise ImportFormatError(
                self.path, where, _("missing the '%(field)s' header object") % {"field": "chatlab"}
            )
        version = _require(chatlab, "version", str, self.path, where)
        if not version.startswith("0.0."):
            raise ImportFormatError(
                self.path,
                where,
                _("ChatLab format version %(version)s is not supported (%(supported)s is)")
                % {"version": version, "supported": "0.0.x"},
            )
        if not isinstance(meta, dict):
            raise ImportFormatError(
                self.path, where, _("missing the '%(field)s' object") % {"field": "meta"}
            )
        name = _require(meta, "name", str, self.path, where)
        platform = str(meta.get("platform") or "other").lower()
        self._channel_key = self.channel_override or str(meta.get("groupId") or name)
        self.counts["chat"] += 1
        yield ChannelRecord(
            key=self._channel_key,
            platform=platform if platform in KNOWN_PLATFORMS else Platform.OTHER,
            name=name,
        )

    def _member(self, obj: dict[str, Any], where: str) -> MemberRecord:
        if not self._channel_key:
            raise ImportFormatError(self.path, where, _("a member before the header"))
        platform_id = _require(obj, "platformId", (str, int), self.path, where)
        account = _require(obj, "accountName", str, self.path, where)
        nickname = obj.get("groupNickname") or ""
        role = None
        custom_roles = []
        for role_obj in obj.get("roles") or []:
            role_id = role_obj.get("id") if isinstance(role_obj, dict) else None
            if role_id in ROLE_MAP:
                mapped = ROLE_MAP[role_id]
                role = mapped if role is None or mapped == Role.FOUNDER else role
            elif role_id:
                custom_roles.append(role_obj.get("name") or role_id)
        for name in (account, nickname, *(obj.get("aliases") or [])):
            if isinstance(name, str) and name:
                self._names[name] = str(platform_id)
        profile = {"accountName": account}
        if nickname:
            profile["groupNickname"] = nickname
        if obj.get("aliases"):
            profile["aliases"] = obj["aliases"]
        if custom_roles:
            profile["roles"] = custom_roles
        self.counts["members"] += 1
        return MemberRecord(
            channel=self._channel_key,
            platform_user_id=str(platform_id),
            display_name=nickname or account,
            handle=account,
            role=role,
            profile=profile,
            location=where,
        )

    def _timestamp(self, obj: dict[str, Any], where: str) -> dt.datetime:
        value = _require(obj, "timestamp", (int, float), self.path, where)
        seconds = value / 1000 if value > MILLISECONDS_THRESHOLD else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ImportFormatError(
                self.path,
                where,
                _("%(field)s %(value)s is out of range")
                % {"field": "timestamp", "value": repr(value)},
            ) from None

    def _synthetic_id(
        self, sender: str | None, timestamp: Any, msg_type: int, content: str | None
    ) -> str:
        """A stable id for messages without ``platformMessageId``, so re-imports still dedupe.

        Identical messages in the same second are told apart by their order within that second.
        """
        digest = hashlib.blake2b(
            f"{sender or ''}\x1f{timestamp}\x1f{msg_type}\x1f{content or ''}".encode(),
            digest_size=12,
        ).hexdigest()
        run_timestamp, seen = self._hash_run
        if run_timestamp != timestamp:
            seen = {}
            self._hash_run = (timestamp, seen)
        occurrence = seen.get(digest, 0)
        seen[digest] = occurrence + 1
        return f"h:{digest}:{occurrence}"

    def _message(self, obj: dict[str, Any], where: str) -> Iterator[EventRecord]:
        if not self._channel_key:
            raise ImportFormatError(self.path, where, _("a message before the header"))
        # Fast paths for well-formed records; _require explains what is wrong otherwise.
        sender = obj.get("sender")
        if type(sender) is not str:
            sender = str(_require(obj, "sender", (str, int), self.path, where))
        # Some tools write system messages with an empty sender: nobody in particular.
        sender = sender or None
        account = obj.get("accountName")
        if type(account) is not str:
            raise ImportFormatError(
                self.path,
                where,
                _("field '%(field)s' must be a %(expected)s")
                % {"field": "accountName", "expected": "str"},
            )
        timestamp = obj.get("timestamp")
        if type(timestamp) is int and 0 <= timestamp < MILLISECONDS_THRESHOLD:
            occurred = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
        else:
            occurred = self._timestamp(obj, where)
        msg_type = obj.get("type")
        if type(msg_type) is not int:
            msg_type = _require(obj, "type", int, self.path, where)
        content = obj.get("content")
        if content is not None and not isinstance(content, str):
            raise ImportFormatError(
                self.path,
                where,
                _("field '%(field)s' must be a string or null") % {"field": "content"},
            )
        message_id = obj.get("platformMessageId")
        source_id = (
            str(message_id)
            if message_id not in (None, "")
            else self._synthetic_id(sender, obj["timestamp"], msg_type, content)
        )
        reply_to = obj.get("replyToMessageId")
        reply_to = str(reply_to) if reply_to not in (None, "") else None
        nickname = obj.get("groupNickname") or ""
        display = nickname or account
        if sender and display and display not in self._names:
            self._names[display] = sender
        self.counts["messages"] += 1
        channel = self._channel_key

        if msg_type in (SYSTEM_TYPE, RECALL_TYPE):
            yield from self._system(
                obj, sender, display, occurred, source_id, msg_type, content, where
            )
            return
        kind = EventKind.REPLY if reply_to else EventKind.MESSAGE
        yield EventRecord(
            channel=channel,
            source_id=source_id,
            kind=kind,
            occurred_at=occurred,
            actor=sender,
            text=content,
            parent=reply_to,
            content_type=CONTENT_TYPES.get(msg_type, "other"),
            actor_name=display,
            location=where,
        )
        if sender and content and "@" in content:
            targets = []
            for name in MENTION.findall(content):
                target = self._names.get(name)
                if target and target != sender and target not in targets:
                    targets.append(target)
            for position, target in enumerate(targets):
                yield EventRecord(
                    channel=channel,
                    source_id=f"{source_id}#mention{position}",
                    kind=EventKind.MENTION,
                    occurred_at=occurred,
                    actor=sender,
                    target=target,
                    parent=source_id,
                    actor_name=display,
                    location=where,
                )

    def _system(
        self,
        obj: dict[str, Any],
        sender: str,
        display: str,
        occurred: dt.datetime,
        source_id: str,
        msg_type: int,
        content: str | None,
        where: str,
    ) -> Iterator[EventRecord]:
        text = content or ""
        kind = EventKind.SYSTEM
        if msg_type == SYSTEM_TYPE:
            if LEAVE_PATTERN.search(text):
                kind = EventKind.LEAVE
            elif JOIN_PATTERN.search(text):
                kind = EventKind.JOIN
        # (platform id or None, name): '"A"邀请"B、C"加入了群聊' and '你将"B"移出了群聊' are about
        # the later names, not the sender. A name matching no account is kept as a name.
        subjects: list[tuple[str | None, str]] = [(sender, display)]
        if kind in (EventKind.JOIN, EventKind.LEAVE):
            quoted = QUOTED_NAME.findall(text)
            named = quoted[1:] if len(quoted) > 1 else quoted
            names = [part for q in named for part in re.split(r"[、,，]", q) if part]
            if names:
                subjects = [(self._names.get(name), name) for name in names]
        for position, (subject, name) in enumerate(subjects):
            attributes = {"system_text": text[:500]}
            if subject is None:
                attributes["subject_name"] = name
            yield EventRecord(
                channel=self._channel_key,
                source_id=source_id if position == 0 else f"{source_id}#{position}",
                kind=kind,
                occurred_at=occurred,
                actor=subject,
                text=content,
                content_type=CONTENT_TYPES[msg_type],
                actor_name=name if subject == sender else "",
                attributes=attributes if kind != EventKind.SYSTEM else None,
                location=where,
            )
