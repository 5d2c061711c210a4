"""QQ message manager text export (消息管理器 → 导出消息记录 → 文本文件 .txt), the classic format.

The PC QQ message manager writes one or many chats into one text file::

    消息记录（此消息记录为文本格式，不支持重新导入）

    ================================================================
    消息分组:我的群聊
    ================================================================
    消息对象:某某交流群
    ================================================================

    2016-01-02 12:34:56 张三(123456789)
    消息正文第一行
    第二行

    2016-01-02 12:35:10 李四<lisi@example.com>
    …

Each ``消息分组``/``消息对象`` block opens a chat; each chat becomes one channel. A message is a
header line (local date and time, then the sender: ``nickname(QQ number)`` or
``nickname<email>``; nicknames may hold parentheses, the *last* bracket group is the id; a
``【管理员】``-style badge may lead the nickname) and the lines up to the next header. Blank lines
separate messages but also occur inside them, so only a header line starts a new message. Some
exports write 12-hour times (``8:43:38 PM``). ``系统消息(10000)``/``系统消息(1000000)`` is QQ's
system account (joins, leaves, recalls); ``80000000`` is the shared id of anonymous posts.

Private chats (groupings without 群/多人聊天/讨论组 whose headers carry no QQ number) are not
community data and are skipped unless ``include_private=True``; discussion groups have no numbers
either, so their members are identified by nickname.

The file is read twice as a stream: the first pass learns each chat's kind and every account's
nicknames (so ``@name`` and join lines resolve even to people who speak later), the second yields
the records. The file has no message ids, so ids are derived from sender, time and text (see
``_synthetic_id``). Times are local wall-clock times without a zone: they are read in
``time_zone`` (default Asia/Shanghai). Encoding: a BOM decides (UTF-8, UTF-16); otherwise the
first 64 KB decide between UTF-8 and GB18030 (a superset of GBK, which older QQ versions wrote).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from shequn.members.models import ROLE_RANK, Role

DEFAULT_TIME_ZONE = "Asia/Shanghai"
ENCODING_PROBE_BYTES = 64 * 1024
SNIFF_BYTES = 1024
TITLE = "消息记录"
SEPARATOR = re.compile(r"^={16,}\s*$")
SECTION = re.compile(r"^消息(分组|对象)[:：](.*)$")
HEADER = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})(?: ([AP]M))? (.*)$", re.IGNORECASE
)
# The sender's id is the last bracket group: "(B)(456456)" is "(B)" with QQ number 456456.
SENDER_ID = re.compile(r"^(.*)(?:\((\d+)\)|<([^<>\s]+)>)\s*$")
BADGES = re.compile(r"^((?:【[^】]*】)+)\s*")
CHAT_NUMBER = re.compile(r"^(.+?)\s*\((\d{5,})\)$")
HEADER_EXAMPLE = "2016-01-02 12:34:56 张三(123456789)"
GROUP_WORDS = ("群", "多人聊天", "讨论组")
SYSTEM_IDS = frozenset({"10000", "1000000"})
ANONYMOUS_ID = "80000000"
BADGE_ROLES = {"群主": Role.FOUNDER, "管理员": Role.OPERATOR}

PLACEHOLDER = re.compile(r"\[(图片|表情|文件|语音|视频)\]")
PLACEHOLDER_TYPES = {
    "图片": "image",
    "表情": "sticker",
    "文件": "file",
    "语音": "voice",
    "视频": "video",
}
PREFIX_TYPES = (("[QQ红包]", "red_packet"), ("[戳一戳]", "poke"))
URL = re.compile(r"https?://", re.IGNORECASE)
RECALL = re.compile(r"撤回了一条(?:成员)?消息")
JOIN = re.compile(r"加入(?:了)?(?:本群|群聊|该群)|入群")
LEAVE = re.compile(r"退出(?:了)?(?:本群|群聊|该群)|退群|(?:移出|踢出)")
JOIN_SUBJECT = re.compile(r"^(?:.+?邀请)?(?P<names>.+?)\s*加入(?:了)?(?:本群|群聊|该群)")
LEAVE_SUBJECT = re.compile(
    r"^(?P<names>.+?)\s*(?:退出(?:了)?(?:本群|群聊|该群)|已?被.*?(?:移出|踢出))"
)
NAME_WITH_NUMBER = re.compile(r"^(.*?)\s*\((\d{5,})\)$")
NAME_SPLIT = re.compile(r"[、,，]")
QUOTES = "\"'“”‘’「」『』"
MAX_MENTION_NAME = 64


@dataclass(slots=True)
class _Chat:
    """One 消息分组/消息对象 block."""

    ordinal: int
    grouping: str | None = None
    name: str | None = None
    key: str = ""
    number: str | None = None
    with_ids: bool | None = None  # whether senders carry QQ numbers: its first non-system header
    included: bool = True


@dataclass(slots=True)
class _Message:
    chat: _Chat
    line: int
    local: dt.datetime
    uid: str | None
    name: str
    badges: list[str]
    lines: list[str] = field(default_factory=list)


class QQTextSource(Source):
    OPTIONS = ("time_zone", "include_private")
    format_name = "qq"
    label = gettext_lazy("QQ message manager text export (.txt)")

    def __init__(
        self,
        path: Path | str,
        *,
        channel: str | None = None,
        time_zone: str | None = None,
        tz: str | None = None,
        include_private: bool = False,
        **options: Any,
    ) -> None:
        """``time_zone`` (alias ``tz``): the IANA zone QQ's local times were written in, default
        Asia/Shanghai. ``include_private``: also import one-to-one chats (skipped by default: they
        are not community conversations). Other options are accepted and ignored, so one set of
        options can be passed to every format."""
        super().__init__(path, channel=channel)
        self.zone = self.zone_option(time_zone or tz, DEFAULT_TIME_ZONE)
        self.include_private = include_private
        self._line_label = ""
        # channel -> {name: user id}, and the longest name, for resolving @mentions and the
        # names in system lines; filled by a first pass over the whole file.
        self._names: dict[str, dict[str, str]] = {}
        self._longest: dict[str, int] = {}
        # chat ordinal -> whether its senders carry QQ numbers; settled by the first pass.
        self._modes: dict[int, bool] = {}
        self._reset(indexing=True)

    def _reset(self, *, indexing: bool) -> None:
        self._indexing = indexing
        self._ordinal = 0
        self.counts.clear()
        self._chats: set[str] = set()  # channel keys of the chats seen, before any override
        self._announced: set[str] = set()
        # (channel, user id) -> (display name, badges) last announced in a MemberRecord.
        self._members: dict[tuple[str, str], tuple[str, str]] = {}
        self._hash_run: tuple[object, dict[str, int]] = (None, {})

    def progress(self) -> tuple[int, int]:
        """The file is read twice (names first, then records); each pass is half the work."""
        done, total = super().progress()
        return done // 2, total

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        """The export's title line or chat block, or a first line that is a QQ message header."""
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        text = head.decode(_encoding_of(head), errors="ignore")
        lines = [line.strip() for line in text.splitlines()]
        if len(head) == SNIFF_BYTES:
            lines = lines[:-1]  # possibly cut short
        lines = [line for line in lines if line]
        if not lines:
            return False
        first = lines[0]
        has_block = any(SECTION.match(line) for line in lines)
        if first.startswith(TITLE) and ("文本格式" in first or has_block):
            return True
        if SEPARATOR.match(first) and has_block:
            return True
        header = HEADER.match(first)
        return bool(header and SENDER_ID.match(header[8]))

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        """Two passes: the first learns every account's names (so a mention or a join line can
        name someone who speaks only later), the second yields the records."""
        if not self.path.is_file():
            raise ImportFormatError(
                self.path, "", _("expected a QQ text export (.txt), found a folder")
            )
        self._reset(indexing=True)
        for _record in self._parse():
            pass
        self._reset(indexing=False)
        yield from self._parse()

    def _parse(self) -> Iterator[Record]:
        chat: _Chat | None = None
        message: _Message | None = None
        held: str | None = None  # a separator line: a chat block follows, or message text
        for number, line in self._lines():
            first = line[:1]  # cheap tests first: most lines are message text
            if first == "=" and SEPARATOR.match(line):
                if held is not None and message is not None:
                    message.lines.append(held)
                held = line
                continue
            section = SECTION.match(line) if first == "消" else None
            if section and (held is not None or message is None):
                yield from self._finish(message)
                message, held = None, None
                chat = self._chat_line(chat, section[1], section[2].strip(), number)
                continue
            if held is not None:
                if message is not None:
                    message.lines.append(held)
                held = None
            if chat is None:
                chat = self._implicit_chat()
            started = self._start(line, number, chat) if "0" <= first <= "9" else None
            if started is not None:
                yield from self._finish(message)
                message = started
            elif message is not None:
                message.lines.append(line)
            elif line.strip() and not line.startswith(TITLE):
                raise ImportFormatError(
                    self.path,
                    self._where(number),
                    _("expected a message header such as %(example)s, found %(found)s")
                    % {"example": HEADER_EXAMPLE, "found": repr(line[:80])},
                )
        if held is not None and message is not None:
            message.lines.append(held)
        yield from self._finish(message)
        self._close(chat)

    def _where(self, number: int) -> str:
        if not self._line_label:
            self._line_label = _("line %(number)d")
        return self._line_label % {"number": number}

    def _lines(self) -> Iterator[tuple[int, str]]:
        """Numbered lines without their line ends, decoded one by one so an error names its line.

        UTF-8 and GB18030 never use the byte 0x0A inside a character, so splitting the raw bytes
        at newlines is safe; UTF-16 is decoded as a text stream instead.
        """
        with self.path.open("rb") as handle:
            encoding = _encoding_of(handle.read(ENCODING_PROBE_BYTES))
        reader = self.open_counted(self.path)
        if not isinstance(reader, io.BufferedIOBase):  # line iteration needs a buffered stream
            reader = io.BufferedReader(reader, 1 << 16)
        if encoding == "utf-16":
            with io.TextIOWrapper(reader, encoding=encoding) as stream:
                number = 0
                try:
                    for number, line in enumerate(stream, start=1):
                        yield number, line.rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    raise self._undecodable(number + 1, encoding, exc) from None
            return
        with reader as stream:
            decode = encoding
            for number, raw in enumerate(stream, start=1):
                try:
                    line = raw.decode(decode)
                except UnicodeDecodeError as exc:
                    raise self._undecodable(number, encoding, exc) from None
                decode = "utf-8" if encoding == "utf-8-sig" else encoding  # the BOM opens line 1
                yield number, line.rstrip("\r\n")

    def _undecodable(
        self, number: int, encoding: str, exc: UnicodeDecodeError
    ) -> ImportFormatError:
        name = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16"}.get(encoding, "GB18030")
        return ImportFormatError(
            self.path,
            self._where(number),
            _("the text is not valid %(encoding)s (%(error)s); save the file as UTF-8 and retry")
            % {"encoding": name, "error": exc.reason},
        )

    # ----------------------------------------------------------------- chats
    def _chat_line(self, chat: _Chat | None, kind: str, value: str, number: int) -> _Chat:
        """A 消息分组 line opens a chat; a 消息对象 line names it (or opens one of its own)."""
        if kind == "分组":
            return self._new_chat(chat, grouping=value)
        if not value:
            raise ImportFormatError(
                self.path, self._where(number), _("%(field)s is empty") % {"field": "消息对象"}
            )
        if chat is None or chat.name is not None:
            chat = self._new_chat(chat)
        numbered = CHAT_NUMBER.match(value)
        chat.name, chat.number = (numbered[1], numbered[2]) if numbered else (value, None)
        return chat

    def _implicit_chat(self) -> _Chat:
        """A file without a 消息对象 line (e.g. edited by hand) is one chat named after the file."""
        return self._new_chat(None, name=self.path.stem)

    def _new_chat(
        self, previous: _Chat | None, *, grouping: str | None = None, name: str | None = None
    ) -> _Chat:
        self._close(previous)
        self._ordinal += 1
        return _Chat(self._ordinal, grouping, name)

    def _close(self, chat: _Chat | None) -> None:
        """A chat whose only messages came from the system account: its grouping decides."""
        if self._indexing and chat is not None and chat.ordinal not in self._modes:
            grouping = chat.grouping
            self._modes[chat.ordinal] = not grouping or any(w in grouping for w in GROUP_WORDS)

    def _decide(self, chat: _Chat, with_ids: bool, number: int) -> None:
        """Settle, at a chat's first message, whether it carries QQ numbers and is imported."""
        chat.with_ids = with_ids
        if self._indexing:
            self._modes[chat.ordinal] = with_ids
        if chat.name is None:
            raise ImportFormatError(
                self.path,
                self._where(number),
                _("a message before the chat's '%(field)s' line") % {"field": "消息对象"},
            )
        grouping = chat.grouping or ""
        is_group = with_ids or any(word in grouping for word in GROUP_WORDS)
        chat.included = is_group or self.include_private
        if not chat.included:
            self.counts["private_chats_skipped"] += 1
            return
        prefix = "qq-group" if is_group else "qq-private"
        key = f"{prefix}:{chat.number or chat.name}"
        if key not in self._chats:
            if self.channel_override and self._chats:
                raise ImportFormatError(
                    self.path,
                    self._where(number),
                    _(
                        "the file holds several chats (%(first)s, %(second)s) but one channel "
                        "was named; import it without naming a channel"
                    )
                    % {"first": next(iter(self._chats)), "second": key},
                )
            self._chats.add(key)
            self.counts["chats"] += 1
        chat.key = self.channel_override or key
        self._names.setdefault(chat.key, {})
        self._longest.setdefault(chat.key, 0)

    # -------------------------------------------------------------- messages
    def _start(self, line: str, number: int, chat: _Chat) -> _Message | None:
        """The message a header line opens, or None when the line is message text."""
        header = HEADER.match(line)
        if header is None:
            return None
        rest = header[8]
        sender = SENDER_ID.match(rest)
        system = sender is not None and sender[2] in SYSTEM_IDS
        if chat.with_ids is None:
            with_ids = self._modes.get(chat.ordinal)
            if with_ids is None:  # the first pass: the first sender decides
                if not rest.strip():
                    return None
                if system:  # the system account has a number in every kind of chat
                    return self._message(header, number, chat, sender[1].strip(), sender[2])
                with_ids = sender is not None
            self._decide(chat, with_ids, number)
        if system:
            name, uid = sender[1].strip(), sender[2]
        elif chat.with_ids:
            if sender is None:
                return None
            name, uid = sender[1].strip(), sender[2] or sender[3]
        else:
            name, uid = rest.strip(), None
            if not name:
                return None
        return self._message(header, number, chat, name, uid)

    def _message(
        self, header: re.Match[str], number: int, chat: _Chat, name: str, uid: str | None
    ) -> _Message:
        badges: list[str] = []
        if badge_match := BADGES.match(name):
            badges = [b for b in badge_match[1].strip("【】").split("】【") if b]
            name = name[badge_match.end() :].strip() or name
        return _Message(chat, number, self._local_time(header, number), uid, name, badges)

    def _local_time(self, header: re.Match[str], number: int) -> dt.datetime:
        year, month, day, hour, minute, second = map(int, header.group(1, 2, 3, 4, 5, 6))
        meridiem = (header[7] or "").upper()
        try:
            if meridiem:
                if not 1 <= hour <= 12:
                    raise ValueError
                hour = hour % 12 + (12 if meridiem == "PM" else 0)
            return dt.datetime(year, month, day, hour, minute, second)
        except ValueError:
            raise ImportFormatError(
                self.path,
                self._where(number),
                _("%(value)s is not a valid date and time")
                % {"value": repr(_written_time(header))},
            ) from None

    def _finish(self, message: _Message | None) -> Iterator[Record]:
        if message is None:
            return
        chat = message.chat
        uid = message.uid
        if self._indexing:
            named = uid not in SYSTEM_IDS and uid != ANONYMOUS_ID and message.name != uid
            if chat.included and chat.with_ids and uid and message.name and named:
                self._remember_name(chat.key, message.name, uid)
            return
        if not chat.included:
            self.counts["private_messages_skipped"] += 1
            return
        lines = message.lines
        while lines and not lines[-1].strip():
            lines.pop()
        text = "\n".join(lines)
        self.counts["messages"] += 1
        if chat.key not in self._announced:
            self._announced.add(chat.key)
            yield ChannelRecord(key=chat.key, platform=Platform.QQ, name=chat.name or chat.key)
        occurred = message.local.replace(tzinfo=self.zone)
        where = self._where(message.line)
        if uid is None:  # a chat without QQ numbers: nicknames identify people
            uid = message.name
        source_id = self._synthetic_id(chat.key, uid, message.local.isoformat(), text)
        if message.uid in SYSTEM_IDS:
            self.counts["system_messages"] += 1
            yield from self._system(chat.key, source_id, occurred, text, where)
            return
        if chat.with_ids and uid == ANONYMOUS_ID:
            self.counts["anonymous_messages"] += 1
            yield self._event(chat.key, source_id, occurred, None, text, where)
            return
        display = yield from self._member(chat.key, uid, message, where)
        attributes = {"badges": message.badges} if message.badges else None
        yield self._event(chat.key, source_id, occurred, uid, text, where, display, attributes)
        for target in self._mentions(chat.key, text, uid):
            yield EventRecord(
                channel=chat.key,
                source_id=f"{source_id}#mention:{target}",
                kind=EventKind.MENTION,
                occurred_at=occurred,
                actor=uid,
                target=target,
                parent=source_id,
                actor_name=display,
                location=where,
            )

    def _event(
        self,
        channel: str,
        source_id: str,
        occurred: dt.datetime,
        actor: str | None,
        text: str,
        where: str,
        display: str = "",
        attributes: dict | None = None,
    ) -> EventRecord:
        return EventRecord(
            channel=channel,
            source_id=source_id,
            kind=EventKind.MESSAGE,
            occurred_at=occurred,
            actor=actor,
            text=text,
            content_type=_content_type(text),
            attributes=attributes,
            actor_name=display,
            location=where,
        )

    def _member(
        self, channel: str, uid: str, message: _Message, where: str
    ) -> Iterator[MemberRecord]:
        """Announce an account when first seen and whenever its name or badge changes.

        Returns the name to show: an empty nickname, or one equal to the id (QQ writes that when
        it lacks the name), keeps the name seen before.
        """
        key = (channel, uid)
        known = self._members.get(key)
        name = message.name
        if not name or name == uid:
            name = known[0] if known else uid
        badges = "".join(f"【{b}】" for b in message.badges)
        if known is None:
            self.counts["members"] += 1
        if known != (name, badges):
            self._members[key] = (name, badges)
            profile: dict[str, str] = {}
            if message.uid is None:
                pass  # a nickname standing in for an id
            elif "@" in uid:
                profile["email"] = uid
            elif uid.isdigit():
                profile["qq"] = uid
            if badges:
                profile["badge"] = badges
            role = None
            for badge in message.badges:
                mapped = BADGE_ROLES.get(badge)
                if mapped and (role is None or ROLE_RANK[mapped] > ROLE_RANK[role]):
                    role = mapped
            yield MemberRecord(
                channel=channel,
                platform_user_id=uid,
                display_name=name,
                handle=name,
                role=role,
                profile=profile or None,
                location=where,
            )
        self._remember_name(channel, name, uid)
        return name

    def _remember_name(self, channel: str, name: str, uid: str) -> None:
        if not name or len(name) > MAX_MENTION_NAME:
            return
        self._names[channel][name] = uid
        if len(name) > self._longest[channel]:
            self._longest[channel] = len(name)

    def _mentions(self, channel: str, text: str, sender: str) -> list[str]:
        """Accounts named by ``@nickname``: the longest known name right after each ``@``.

        Nicknames may hold spaces and punctuation, so the text is matched against known names
        rather than cut at the first space.
        """
        names = self._names[channel]
        longest = self._longest[channel]
        targets: list[str] = []
        at = text.find("@")
        while at != -1:
            after = text[at + 1 : at + 1 + longest]
            for end in range(len(after), 0, -1):
                target = names.get(after[:end])
                if target is not None:
                    if target != sender and target not in targets:
                        targets.append(target)
                    break
            at = text.find("@", at + 1)
        return targets

    def _system(
        self, channel: str, source_id: str, occurred: dt.datetime, text: str, where: str
    ) -> Iterator[EventRecord]:
        """QQ's system account: joins and leaves of the members the text names, else a system
        event. The system account itself never becomes a member."""
        kind, content_type, subject = EventKind.SYSTEM, "system", None
        if RECALL.search(text):
            content_type = "recall"
        elif LEAVE.search(text):
            kind, subject = EventKind.LEAVE, LEAVE_SUBJECT.match(text)
        elif JOIN.search(text):
            kind, subject = EventKind.JOIN, JOIN_SUBJECT.match(text)
        names = (
            [n.strip(QUOTES + " ") for n in NAME_SPLIT.split(subject["names"])] if subject else []
        )
        subjects = [self._subject(channel, name) for name in names if name] or [(None, "")]
        for position, (uid, name) in enumerate(subjects):
            attributes: dict[str, str] = {"system_text": text[:500]}
            if uid is None and name:
                attributes["subject_name"] = name
            yield EventRecord(
                channel=channel,
                source_id=source_id if position == 0 else f"{source_id}#{position}",
                kind=kind,
                occurred_at=occurred,
                actor=uid,
                text=text,
                content_type=content_type,
                attributes=attributes,
                actor_name=name if uid is not None else "",
                location=where,
            )

    def _subject(self, channel: str, name: str) -> tuple[str | None, str]:
        """(user id or None, name) for a name in a system text: ``name(QQ number)`` or a known
        nickname; a name matching no account is kept as a name."""
        numbered = NAME_WITH_NUMBER.match(name)
        if numbered:
            return numbered[2], numbered[1] or numbered[2]
        return self._names[channel].get(name), name

    def _synthetic_id(self, channel: str, sender: str, local: str, text: str) -> str:
        """A stable id (the export has none), so re-importing the same or a longer export dedupes.

        Hash of sender, local time and text; identical messages in the same second are told apart
        by their order within that second.
        """
        digest = hashlib.blake2b(
            f"{sender}\x1f{local}\x1f{text}".encode(), digest_size=12
        ).hexdigest()
        run, seen = self._hash_run
        if run != (channel, local):
            seen = {}
            self._hash_run = ((channel, local), seen)
        occurrence = seen.get(digest, 0)
        seen[digest] = occurrence + 1
        return f"h:{digest}:{occurrence}"


def _written_time(header: re.Match[str]) -> str:
    """The date and time as written in a header line."""
    return header[0][: header.start(8) - 1]


def _encoding_of(head: bytes) -> str:
    """BOM first; else UTF-8 if ``head`` decodes as UTF-8 (a cut final character is fine); else
    GB18030, the superset of the GBK that older QQ versions wrote."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _content_type(text: str) -> str:
    """``[图片]``-style placeholders alone make an image (sticker, file …) message; red packets
    and pokes are recognised by their prefix; any URL makes a link (sharing)."""
    stripped = text.strip()
    for prefix, content_type in PREFIX_TYPES:
        if stripped.startswith(prefix):
            return content_type
    placeholders = PLACEHOLDER.findall(stripped)
    if placeholders and not PLACEHOLDER.sub("", stripped).strip():
        return PLACEHOLDER_TYPES[placeholders[0]]
    if URL.search(stripped):
        return "link"
    return "text"
