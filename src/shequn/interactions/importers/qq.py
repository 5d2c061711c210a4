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
from dataclasses import dataclass
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
# HEADER, grouped for the parser: date, time, AM/PM, sender.
HEADER_LINE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}) (\d{1,2}:\d{2}:\d{2})(?: ([AP]M))? (.*)$", re.IGNORECASE
)
TIME_FROM_ISO = dt.time.fromisoformat
COMBINE = dt.datetime.combine
ID_HASH = hashlib.blake2b(digest_size=12)  # copied per message: cheaper than a new one
# HEADER_LINE's lines in a block (_blocks): ASCII digit first, as the parser tests that first.
HEADERS = re.compile(
    r"\n([0-9]\d{3}-\d{1,2}-\d{1,2}) (\d{1,2}:\d{2}:\d{2})(?: ((?i:[AP]M)))? ([^\n]*)"
)
# Header lines (as HEADERS finds them) whose date and time are not plainly valid: other than
# YYYY-MM-DD HH:MM:SS (hours 00-23) without AM/PM, or on a day that not every month or year has.
ODD_HEADER = re.compile(
    r"\n(?!(?!0000)[0-9]{4}-"
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    r" (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] (?!(?i:[AP]M) ))"
    r"[0-9]\d{3}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2} "
)
# The sender of header lines without AM/PM.
HEADER_SENDER = re.compile(r"\n[0-9]\d{3}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2} ([^\n]*)")
CR_BEFORE_NEWLINE = re.compile(r"\r+\n")
CHUNK_BYTES = 1 << 18  # read and decoded at a time
UTF16_BATCH = 4096  # lines
CACHE_LIMIT = 1 << 13  # distinct senders or dates remembered, so memory stays bounded
MESSAGE = EventKind.MESSAGE  # (an enum member: looked up once)
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
        self._line_affixes: tuple[str, ...] | None = None  # the label around its number
        self._senders: dict[str, tuple] = {}  # header sender text -> _sender()
        self._days: dict[str, tuple[dt.date, str] | bool] = {}  # header date -> _day()
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
        # The (channel, local time) whose synthetic ids are being numbered, and their counts
        # (see _synthetic_id).
        self._run_channel: str | None = None
        self._run_local: str | None = None
        self._run_seen: dict[str, int] | str = {}

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
        """One pass over the file. Indexing, a message only teaches its sender's name (and its
        header is checked); otherwise a finished message becomes records.

        The file comes a block of lines at a time. While a message is open, in lines without
        separators or chat lines, only the header lines matter (the other lines are that
        message's text): they are found with one search over the block. Other lines are read
        one by one, up to the first header after them.
        """
        indexing = self._indexing
        emit = self._emit
        find_headers = HEADERS.finditer
        senders = self._senders
        days = self._days
        zone = self.zone
        chat: _Chat | None = None
        message: tuple | None = None  # see _start; indexing, only whether one is open
        text: list[str] = []  # the open message's lines (a list, or with its block read)
        held: str | None = None  # a separator line: a chat block follows, or message text
        base = 0  # lines before the block
        # Indexing, headers alone are read in most blocks, and a "\r" that ends a header line
        # changes nothing there (senders are read without their trailing blanks).
        for block in self._blocks(exact=not indexing):
            while block:
                if message is not None and held is None and not _has_chat_lines(block):
                    break
                # Line by line up to the first header after the last line that may be a chat
                # line; the rest of the block is searched for headers below.
                cut = _settled(block)
                lines, block = block[1:cut], (block[cut:] if cut + 1 < len(block) else "")
                if indexing and "\r" in lines:
                    lines = _without_crs(lines + "\n")[:-1]
                number = base
                for line in lines.split("\n"):
                    number += 1
                    first = line[:1]  # cheap tests first: most lines are message text
                    if held is not None or chat is None or first == "=" or first == "消":
                        if first == "=" and SEPARATOR.match(line):
                            if held is not None and message is not None:
                                text.append(held)
                            held = line
                            continue
                        section = SECTION.match(line) if first == "消" else None
                        if section and (held is not None or message is None):
                            if (
                                message is not None
                                and not indexing
                                and (records := emit(message, text))
                            ):
                                yield from records
                            message, held, text = None, None, []
                            chat = self._chat_line(chat, section[1], section[2].strip(), number)
                            continue
                        if held is not None:
                            if message is not None:
                                text.append(held)
                            held = None
                        if chat is None:
                            chat = self._implicit_chat()
                    if "0" <= first <= "9" and (header := HEADER_LINE.match(line)) is not None:
                        date, clock, meridiem, rest = header.groups()
                        sender = senders.get(rest) or self._sender(rest)
                        started = self._start(date, clock, meridiem, number, chat, sender)
                        if started is not None:
                            if indexing:
                                self._learn(started)
                            elif message is not None and (records := emit(message, text)):
                                yield from records
                            message, text = started, []
                            continue
                    if message is not None:
                        text.append(line)
                    elif line.strip() and not line.startswith(TITLE):
                        raise ImportFormatError(
                            self.path,
                            self._where(number),
                            _("expected a message header such as %(example)s, found %(found)s")
                            % {"example": HEADER_EXAMPLE, "found": repr(line[:80])},
                        )
                base = number
            if not block:
                continue
            # A message is open and the block's lines are message text or headers.
            if indexing and chat.with_ids is not None and self._index_block(block, chat):
                base += block.count("\n") - 1
                continue
            plain = not indexing and not ODD_HEADER.search(block)  # every header HH:MM:SS
            number, counted = base, 0  # the line number at position ``counted``
            opened = 1  # where the open message's text in the block starts
            for header in find_headers(block):
                date, clock, meridiem, rest = header.groups()
                sender = senders.get(rest) or self._sender(rest)
                position, end = header.span()
                position += 1
                if chat.with_ids is None:  # the chat's first message: settle its kind
                    number += block.count("\n", counted, position)
                    counted = position
                    started = self._start(date, clock, meridiem, number, chat, sender)
                    if started is None:
                        continue
                    if indexing:
                        self._learn(started)
                elif (fields := sender[1] if sender[0] or chat.with_ids else sender[2]) is None:
                    continue  # no QQ number where the chat's headers have one, or blank
                elif indexing:
                    if not (
                        meridiem is None
                        and len(clock) == 8
                        and clock < "24"
                        and clock[3] < "6"
                        and clock[6] < "6"
                        and clock.isascii()
                        and days.get(date)
                    ):  # not plainly valid: look closer
                        number += block.count("\n", counted, position)
                        counted = position
                        self._when(date, clock, meridiem, number)  # raises if invalid
                    if fields[5] and chat.with_ids and chat.included:
                        self._remember_name(chat.key, fields[1], fields[0])
                    continue
                else:
                    number += block.count("\n", counted, position)
                    counted = position
                    if plain:  # YYYY-MM-DD HH:MM:SS, valid
                        day = days.get(date) or self._day(date)
                        occurred = COMBINE(day[0], TIME_FROM_ISO(clock), zone)
                        started = (chat, number, occurred, f"{date}T{clock}", fields)
                    else:
                        started = (
                            chat,
                            number,
                            *self._when(date, clock, meridiem, number),
                            fields,
                        )
                if not indexing:
                    if text:  # the message began in an earlier block
                        text += block[opened:position].split("\n")
                        text.pop()
                        lines, text = text, []
                    else:
                        lines = block[opened : position - 1]
                    if records := emit(message, lines):
                        yield from records
                message = started
                opened = end + 1
            if indexing:
                text = []  # (not read when indexing)
            else:
                text += block[opened:].split("\n")
                text.pop()
            base += block.count("\n") - 1
        if held is not None and message is not None:
            text.append(held)
        if message is not None and not indexing and (records := emit(message, text)):
            yield from records
        self._close(chat)

    def _index_block(self, block: str, chat: _Chat) -> bool:
        """The first pass over a block of one chat's message lines (see _parse), at once when
        every header in it has a plainly valid time (so none is an error): learns the names.
        False, having done nothing, when some header needs a closer look."""
        if ODD_HEADER.search(block):
            return False
        if chat.with_ids and chat.included:
            names = self._names[chat.key]
            longest = self._longest[chat.key]
            senders = self._senders
            rests = HEADER_SENDER.findall(block)
            # A name's last header decides whom it names, so each sender once, by its last one.
            for rest in reversed(dict.fromkeys(reversed(rests))):
                fields = (senders.get(rest) or self._sender(rest))[1]
                if fields is not None and fields[5]:
                    names[fields[1]] = fields[0]
                    longest = max(longest, len(fields[1]))
            self._longest[chat.key] = longest
        return True

    def _where(self, number: int) -> str:
        if not self._line_label:
            self._line_label = _("line %(number)d")
            # "line %(number)d" in any language: built by concatenation when that is the same.
            label = self._line_label
            if label.count("%") == 1 and label.count("%(number)d") == 1:
                self._line_affixes = tuple(label.split("%(number)d"))
        if self._line_affixes is not None:
            prefix, suffix = self._line_affixes
            return f"{prefix}{number}{suffix}"
        return self._line_label % {"number": number}

    def _blocks(self, *, exact: bool = True) -> Iterator[str]:
        """The file's text, CHUNK_BYTES at a time: whole lines, each line end made "\\n",
        after a "\\n" (so every line starts after one); not ``exact``, a "\\r" before a line
        end may remain. An undecodable line is reported, with its number, once the lines before
        it have been read.

        UTF-8 and GB18030 never use the byte 0x0A inside a character, so the raw bytes are cut
        at newlines and decoded a block at a time (a block that fails is decoded again line by
        line to find the culprit); UTF-16 is decoded as a text stream instead.
        """
        with self.path.open("rb") as handle:
            encoding = _encoding_of(handle.read(ENCODING_PROBE_BYTES))
        reader = self.open_counted(self.path)
        if not isinstance(reader, io.BufferedIOBase):  # line iteration needs a buffered stream
            reader = io.BufferedReader(reader, 1 << 16)
        if encoding == "utf-16":
            yield from self._utf16_blocks(reader)
            return
        with reader as stream:
            number = 0  # lines before the block
            decode = encoding  # the BOM opens line 1
            tail: list[bytes] = []  # a line not yet ended: the rest of a read
            while True:
                data = stream.read(CHUNK_BYTES)
                if data:
                    cut = data.rfind(b"\n") + 1
                    if not cut:
                        tail.append(data)
                        continue
                    whole = data[:cut] if cut < len(data) else data
                    if tail:
                        tail.append(whole)
                        whole = b"".join(tail)
                        tail = []
                    if cut < len(data):
                        tail.append(data[cut:])
                elif tail:  # the last line, without a line end
                    whole = b"".join(tail)
                    tail = []
                else:
                    break
                block, error = self._decoded(whole, decode, encoding, number, exact)
                decode = "utf-8" if encoding == "utf-8-sig" else encoding
                number += whole.count(b"\n")
                if len(block) > 1:  # not just the "\n" before the first line
                    yield block
                if error is not None:
                    raise error

    def _decoded(
        self, data: bytes, decode: str, encoding: str, number: int, exact: bool
    ) -> tuple[str, ImportFormatError | None]:
        """``data`` (whole lines; the last one's line end is missing only at the end of the file)
        as a block (not ``exact``: "\\r" may remain before "\\n"); if some line does not
        decode, the block of the lines before it and its error, to be raised once they are read
        (they may hold an earlier error)."""
        try:
            text = data.decode(decode)
        except UnicodeDecodeError:
            lines = [""]
            for raw in io.BytesIO(data):  # line by line, as a line's error names its line
                try:
                    line = raw.decode(decode)
                except UnicodeDecodeError as exc:
                    error = self._undecodable(number + len(lines), encoding, exc)
                    return "\n".join(lines) + "\n", error
                decode = "utf-8" if encoding == "utf-8-sig" else encoding
                lines.append(line.rstrip("\r\n"))
            return "\n".join(lines) + "\n", None  # (the lines decode one by one after all)
        if exact and "\r" in text:
            text = _without_crs(text)
        if text.endswith("\n"):
            return "\n" + text, None
        return "\n" + text.rstrip("\r") + "\n", None  # the file's last line

    def _utf16_blocks(self, reader: io.BufferedIOBase) -> Iterator[str]:
        with io.TextIOWrapper(reader, encoding="utf-16") as stream:
            lines = [""]
            error: ImportFormatError | None = None
            number = 0  # lines before ``lines``
            try:
                for line in stream:
                    lines.append(line.rstrip("\r\n"))
                    if len(lines) > UTF16_BATCH:
                        number += len(lines) - 1
                        yield "\n".join(lines) + "\n"
                        lines = [""]
            except UnicodeDecodeError as exc:
                error = self._undecodable(number + len(lines), "utf-16", exc)
            if len(lines) > 1:
                yield "\n".join(lines) + "\n"
            if error is not None:
                raise error

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
    def _start(
        self, date: str, clock: str, meridiem: str | None, number: int, chat: _Chat, sender: tuple
    ) -> tuple | None:
        """The message a header line opens, or None when the line is message text. ``date``,
        ``clock``, ``meridiem`` are the header's, ``sender`` is ``_sender()`` of its sender.
        Settles the chat's kind at its first message.

        A message is (chat, line number, time, local time in ISO format, sender) where sender
        is (uid or None, name, badges, badge text, role, whether the name is learnt).
        """
        system, with_id, without_id = sender
        if chat.with_ids is None:
            with_ids = self._modes.get(chat.ordinal)
            if with_ids is None:  # the first pass: the first sender decides
                if without_id is None:  # a blank sender
                    return None
                if system:  # the system account has a number in every kind of chat
                    return (chat, number, *self._when(date, clock, meridiem, number), with_id)
                with_ids = with_id is not None
            self._decide(chat, with_ids, number)
        fields = with_id if system or chat.with_ids else without_id
        if fields is None:
            return None
        return (chat, number, *self._when(date, clock, meridiem, number), fields)

    def _sender(self, rest: str) -> tuple[bool, tuple | None, tuple | None]:
        """A header's sender text, parsed once per distinct text: (whether it is the system
        account, the sender read as ``nickname(id)``, the sender read as a bare nickname);
        a reading is None when the text is not of that form."""
        if len(self._senders) >= CACHE_LIMIT:
            self._senders.clear()
        matched = SENDER_ID.match(rest)
        system = matched is not None and matched[2] in SYSTEM_IDS
        with_id = None
        if matched is not None:
            with_id = _sender_fields(matched[2] or matched[3], matched[1].strip())
        name = rest.strip()
        without_id = _sender_fields(None, name) if name else None
        parsed = (system, with_id, without_id)
        self._senders[rest] = parsed
        return parsed

    def _when(
        self, date: str, clock: str, meridiem: str | None, number: int
    ) -> tuple[dt.datetime, str]:
        """A header's time in the chat's zone, and its local time in ISO format."""
        day = self._days.get(date)
        if day is None:
            day = self._day(date)
        if day and meridiem is None and len(clock) == 8 and clock < "24" and clock.isascii():
            try:  # HH:MM:SS
                time = TIME_FROM_ISO(clock)
            except ValueError:
                pass
            else:
                return COMBINE(day[0], time, self.zone), f"{day[1]}T{clock}"
        local = self._local_time(date, clock, meridiem, number)
        return local.replace(tzinfo=self.zone), local.isoformat()

    def _day(self, written: str) -> tuple[dt.date, str] | bool:
        """A header's date, once per distinct date: the date and its ISO form, or False."""
        if len(self._days) >= CACHE_LIMIT:
            self._days.clear()
        year, month, day = map(int, written.split("-"))
        try:
            date = dt.date(year, month, day)
        except ValueError:
            self._days[written] = False
            return False
        self._days[written] = parsed = (date, date.isoformat())
        return parsed

    def _local_time(self, date: str, clock: str, meridiem: str | None, number: int) -> dt.datetime:
        year, month, day = map(int, date.split("-"))
        hour, minute, second = map(int, clock.split(":"))
        half = (meridiem or "").upper()
        try:
            if half:
                if not 1 <= hour <= 12:
                    raise ValueError
                hour = hour % 12 + (12 if half == "PM" else 0)
            return dt.datetime(year, month, day, hour, minute, second)
        except ValueError:
            written = f"{date} {clock} {meridiem}" if meridiem else f"{date} {clock}"  # as written
            raise ImportFormatError(
                self.path,
                self._where(number),
                _("%(value)s is not a valid date and time") % {"value": repr(written)},
            ) from None

    def _learn(self, message: tuple) -> None:
        """The first pass: a message teaches its sender's name."""
        chat, fields = message[0], message[4]
        if fields[5] and chat.with_ids and chat.included:
            self._remember_name(chat.key, fields[1], fields[0])

    def _emit(self, message: tuple, lines: list[str] | str) -> list[Record] | None:
        """The second pass: the records of a finished message; ``lines`` is its text, as a list
        of lines or as lines joined with "\\n"."""
        chat, number, occurred, local, (uid, name, badges, badge_text, role, _) = message
        if not chat.included:
            self.counts["private_messages_skipped"] += 1
            return None
        if lines.__class__ is str:  # lines joined already
            text = lines.rstrip()
            if len(text) != len(lines):  # without the blank lines at the end
                end = lines.find("\n", len(text)) if text else 0
                text = lines if end < 0 else lines[:end]
            else:
                text = lines
        else:
            while lines and not lines[-1].strip():
                lines.pop()
            text = "\n".join(lines)
        self.counts["messages"] += 1
        key = chat.key
        records: list[Record] = []
        if key not in self._announced:
            self._announced.add(key)
            records.append(ChannelRecord(key=key, platform=Platform.QQ, name=chat.name or key))
        affixes = self._line_affixes
        where = f"{affixes[0]}{number}{affixes[1]}" if affixes else self._where(number)
        sender = uid if uid is not None else name  # without QQ numbers nicknames identify people
        source_id = self._synthetic_id(key, sender, local, text)
        if uid in SYSTEM_IDS:
            self.counts["system_messages"] += 1
            records.extend(self._system(key, source_id, occurred, text, where))
            return records
        if chat.with_ids and sender == ANONYMOUS_ID:
            self.counts["anonymous_messages"] += 1
            records.append(
                EventRecord(
                    channel=key,
                    source_id=source_id,
                    kind=EventKind.MESSAGE,
                    occurred_at=occurred,
                    actor=None,
                    text=text,
                    content_type=_content_type(text),
                    location=where,
                )
            )
            return records
        known = self._members.get((key, sender))
        if known is not None and known[0] == name and known[1] == badge_text and name != sender:
            display = name  # the member as announced before: _member() in short
            if len(name) <= MAX_MENTION_NAME:  # (a known name is not empty)
                self._names[key][name] = sender
                if len(name) > self._longest[key]:
                    self._longest[key] = len(name)
        else:
            display = self._member(key, sender, uid, name, badges, badge_text, role, where, records)
        records.append(
            EventRecord(  # by position, much cheaper than by keyword: see EVENT_FIELDS
                key,
                source_id,
                MESSAGE,
                occurred,
                sender,
                None,  # target
                text,
                None,  # text_length
                None,  # parent
                None,  # thread
                _content_type(text) if "[" in text or "://" in text else "text",
                {"badges": list(badges)} if badges else None,
                display,
                where,
            )
        )
        if "@" in text:
            for target in self._mentions(key, text, sender):
                records.append(
                    EventRecord(
                        channel=key,
                        source_id=f"{source_id}#mention:{target}",
                        kind=EventKind.MENTION,
                        occurred_at=occurred,
                        actor=sender,
                        target=target,
                        parent=source_id,
                        actor_name=display,
                        location=where,
                    )
                )
        return records

    def _member(
        self,
        channel: str,
        uid: str,
        written_uid: str | None,
        name: str,
        badges: tuple[str, ...],
        badge_text: str,
        role: str | None,
        where: str,
        records: list[Record],
    ) -> str:
        """Announce an account when first seen and whenever its name or badge changes.

        Returns the name to show: an empty nickname, or one equal to the id (QQ writes that when
        it lacks the name), keeps the name seen before.
        """
        key = (channel, uid)
        known = self._members.get(key)
        if not name or name == uid:
            name = known[0] if known else uid
        if known is None:
            self.counts["members"] += 1
        if known != (name, badge_text):
            self._members[key] = (name, badge_text)
            profile: dict[str, str] = {}
            if written_uid is None:
                pass  # a nickname standing in for an id
            elif "@" in uid:
                profile["email"] = uid
            elif uid.isdigit():
                profile["qq"] = uid
            if badge_text:
                profile["badge"] = badge_text
            records.append(
                MemberRecord(
                    channel=channel,
                    platform_user_id=uid,
                    display_name=name,
                    handle=name,
                    role=role,
                    profile=profile or None,
                    location=where,
                )
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
        hasher = ID_HASH.copy()
        hasher.update(f"{sender}\x1f{local}\x1f{text}".encode())
        digest = hasher.hexdigest()
        if local != self._run_local or channel != self._run_channel:
            # Most seconds hold one message: its digest alone, until a second one comes.
            self._run_channel, self._run_local, self._run_seen = channel, local, digest
            return f"h:{digest}:0"
        seen = self._run_seen
        if seen.__class__ is str:
            seen = self._run_seen = {seen: 1}
        occurrence = seen.get(digest, 0)
        seen[digest] = occurrence + 1
        return f"h:{digest}:{occurrence}"


def _settled(block: str) -> int:
    """Where, in a block, the lines that may be separators or chat lines are over: the line end
    of the first header after the last of them (else the block's last line end)."""
    last = max(
        block.rfind("\n================"), block.rfind("\n消息分组"), block.rfind("\n消息对象")
    )
    header = HEADERS.search(block, max(last, 0))
    return len(block) - 1 if header is None else header.end()


def _without_crs(text: str) -> str:
    """``text`` with the "\\r"s before each "\\n" removed."""
    text = text.replace("\r\n", "\n")
    if "\r" in text and "\r\n" in text:
        text = CR_BEFORE_NEWLINE.sub("\n", text)
    return text


def _has_chat_lines(block: str) -> bool:
    """Whether a block holds a line that may be a separator or open a chat."""
    return "\n================" in block or "\n消息分组" in block or "\n消息对象" in block


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
    if stripped[:1] == "[":  # every prefix and placeholder opens with "["
        for prefix, content_type in PREFIX_TYPES:
            if stripped.startswith(prefix):
                return content_type
        placeholders = PLACEHOLDER.findall(stripped)
        if placeholders and not PLACEHOLDER.sub("", stripped).strip():
            return PLACEHOLDER_TYPES[placeholders[0]]
    if "://" in stripped and URL.search(stripped):
        return "link"
    return "text"


def _sender_fields(uid: str | None, name: str) -> tuple:
    """(uid, nickname without its leading ``【管理员】``-style badges, the badges, their text as
    written, the highest role they grant, whether the first pass learns the nickname)."""
    badges: list[str] = []
    if badge_match := BADGES.match(name):
        badges = [b for b in badge_match[1].strip("【】").split("】【") if b]
        name = name[badge_match.end() :].strip() or name
    role = None
    for badge in badges:
        mapped = BADGE_ROLES.get(badge)
        if mapped and (role is None or ROLE_RANK[mapped] > ROLE_RANK[role]):
            role = mapped
    learnt = bool(
        uid
        and name
        and uid not in SYSTEM_IDS
        and uid != ANONYMOUS_ID
        and name != uid
        and len(name) <= MAX_MENTION_NAME
    )
    return uid, name, tuple(badges), "".join(f"【{b}】" for b in badges), role, learnt
