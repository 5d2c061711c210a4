"""WhatsApp "Export chat" text: a ``.txt`` file, or the ``.zip`` the app shares with media.

Every message starts with a header line, e.g. ``31/12/2021, 21:05 - Ann: hi`` (Android),
``[31/12/2021, 21:05:12] Ann: hi`` (iOS) or ``7/1/16, 4:56:55 PM: Ann: hi`` (older iOS); lines
without a header continue the previous message; a header without ``Name:`` is a system line
(joined, added, left, …). Layouts follow the phone's locale, so the file is read twice: once to
learn the date order from every date in it (a first number above 12 proves day-first), once to
import. WhatsApp has no user or message ids: people are identified by the name (or phone number)
the export shows, and messages by a hash of time, author and text. Times are local wall-clock
times, read in the ``time_zone`` option (UTC by default). See docs/formats/whatsapp.md.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

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

# Byte-order mark, directional marks, embeddings and isolates: WhatsApp puts them around names,
# phone numbers, system notices and media placeholders; they carry no meaning for us.
LRM = "\u200e"
MARKS = "\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_STRIP_MARKS = str.maketrans("", "", MARKS)
# What ``_clean`` changes besides the ends: one search tells whether it has anything to do.
_UNCLEAN = re.compile(f"[{MARKS}\u00a0\u202f]")
_DATE = r"(?P<d1>\d{1,4})(?P<sep>[./-])\s?(?P<d2>\d{1,2})(?P=sep)\s?(?P<d3>\d{1,4})\.?"
_TIME = (
    r",?\s+(?P<pre>[^\d\[\]]{0,12}?)(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?:\s?(?P<ampm>[aApP]\.?\s?[mM]\.?))?"
)
# "[date, time] rest" (iOS), "date, time - rest" (Android) or "date, time: rest" (older iOS).
HEADER = re.compile(
    rf"^[{MARKS}]*(?P<open>\[)?{_DATE}{_TIME}(?(open)\]|(?P<tail>\s[-–]|:))\s(?P<rest>.*)$"
)
# Positions in HEADER's match.groups(), read in the hot loops without a name lookup.
OPEN, D1, SEP, D2, D3, TAIL, REST = (
    HEADER.groupindex[name] - 1 for name in ("open", "d1", "sep", "d2", "d3", "tail", "rest")
)
CLOCK = slice(HEADER.groupindex["pre"] - 1, HEADER.groupindex["ampm"])  # pre, h, mi, s, ampm
BRACKET_AND_DATE = slice(OPEN, D3 + 1)  # open, d1, sep, d2, d3
assert (OPEN, D1, SEP, D2, D3) == (0, 1, 2, 3, 4)
# 12-hour markers some locales write before the time instead of AM/PM after it.
PM_BEFORE = ("下午", "오후")
AM_BEFORE = ("上午", "오전")
ORDERS = ("DMY", "MDY", "YMD")
PASSES = 2  # the date-order scan, then the import
BLOCK = 1 << 16  # bytes read at a time, as the buffered stream reads them
CACHE_SIZE = 1 << 16  # entries kept by each per-value cache before it starts over
# Message lines (after the author) are cached when short, as short ones repeat; fewer of them,
# as they are larger than names and times: the caches stay a few MB whatever the file.
BODY_CACHE_SIZE = 1 << 14
MAX_CACHED = 100
SNIFF_BYTES = 4096

# The chat's name in the export's file name, by app language; the iOS archive is named
# "WhatsApp Chat - NAME.zip" and holds "_chat.txt".
CHAT_FILE_NAMES = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^WhatsApp Chat with (?P<name>.+)$",
        r"^WhatsApp Chat - (?P<name>.+)$",
        r"^WhatsApp Chat mit (?P<name>.+)$",
        r"^Chat de WhatsApp con (?P<name>.+)$",
        r"^Conversa do WhatsApp com (?P<name>.+)$",
        r"^与(?P<name>.+?)的\s*WhatsApp\s*聊天$",
    )
]
COPY_SUFFIX = re.compile(r"\s*\(\d+\)$")  # "… (1).txt" when saved twice

# Notices that are never a person's words, whoever the export names as their author.
ALWAYS_SYSTEM = re.compile(
    r"^(?:Messages and calls are end-to-end encrypted"
    r"|Messages (?:to this group|you send to this (?:group|chat)[^.]*) are now secured"
    r"|Your security code with .+ changed"
    r"|消息和通话(?:已进行|都进行)端到端加密"
    r"|Los mensajes y las llamadas están cifrados de extremo a extremo"
    r"|As mensagens e (?:as )?chamadas (?:são|estão)"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt)",
    re.IGNORECASE,
)
# A "Name:" part holding one of these is a system line whose text contains ": " (a new subject).
SYSTEM_VERBS = re.compile(
    r" (?:changed the subject|changed the group|changed this group|created group)\b"
    r"|更改了|cambió el asunto|mudou o assunto|hat den Betreff",
    re.IGNORECASE,
)
# How a line that ALWAYS_SYSTEM matches once cleaned (_clean) starts: spaces and marks, then
# the first two letters of one of its notices, marks allowed between them. A line that does not
# start so cannot be such a notice.
NOTICE_START = re.compile(
    rf"[\s{MARKS}]*(?:消|(?:M[{MARKS}]*e|Y[{MARKS}]*o|L[{MARKS}]*o|A[{MARKS}]*s|N[{MARKS}]*a))",
    re.IGNORECASE,
)
YOU = frozenset({"you", "du", "dich", "te", "tú", "você", "voce", "你", "您"})


class SystemPattern(NamedTuple):
    regex: re.Pattern[str]
    kind: str
    splitter: re.Pattern[str] | None = None  # how a list of added/removed people is joined
    created: bool = False


def _patterns() -> list[SystemPattern]:
    """System lines by app language. Groups: ``s`` the subject; or ``a`` who did it to ``o``.

    Case-sensitive: WhatsApp writes these verbs in lower case, names are capitalised at will.
    """
    join, leave, system = EventKind.JOIN, EventKind.LEAVE, EventKind.SYSTEM
    en = re.compile(r",\s*(?:and\s+)?|\s+and\s+")
    es = re.compile(r",\s*|\s+y\s+")
    pt = re.compile(r",\s*|\s+e\s+")
    de = re.compile(r",\s*|\s+und\s+")
    zh = re.compile(r"[、，,]\s*|\s*和\s*")
    table: list[tuple[str, str, re.Pattern[str] | None, bool]] = [
        # English (Android and iOS).
        (r"(?P<s>.+?) created (?:group\b.*|this group)", join, None, True),
        (
            r"(?P<s>.+?) (?:changed|updated|deleted|turned on|turned off|pinned|reset|revoked) .+",
            system,
            None,
            False,
        ),
        (r"(?P<s>.+?) joined\b.*", join, None, False),
        (r"(?P<s>.+?) (?:was|were) added\b.*", join, None, False),
        (r"(?P<a>.+?) added (?P<o>.+?)\.?", join, en, False),
        (r"(?P<s>.+?) (?:was|were) removed\b.*", leave, None, False),
        (r"(?P<a>.+?) removed (?P<o>.+?)\.?", leave, en, False),
        (r"(?P<s>.+?) left(?: the (?:group|community))?\.?", leave, None, False),
        # Chinese (Simplified).
        (r"(?P<s>.+?)\s*创建了(?:此)?群组.*", join, None, True),
        (r"(?P<s>.+?)\s*(?:已)?更改了.+", system, None, False),
        (r"(?P<s>.+?)\s*(?:通过.*)?加入(?:了)?(?:此)?群组.*", join, None, False),
        (r"(?P<a>.+?)\s*添加了\s*(?P<o>.+?)。?", join, zh, False),
        (r"(?P<s>.+?)\s*(?:已)?退出(?:了)?(?:此)?群组.*", leave, None, False),
        (r"(?P<a>.+?)\s*移除了\s*(?P<o>.+?)。?", leave, zh, False),
        # Spanish.
        (r"(?P<s>.+?) creó (?:el|este) grupo\b.*", join, None, True),
        (r"(?P<s>.+?) cambió .+", system, None, False),
        (r"(?P<s>.+?) se unió\b.*", join, None, False),
        (r"(?P<s>Te) uniste\b.*", join, None, False),
        (r"(?P<a>.+?) te añadió\.?(?P<o>)", join, None, False),
        (r"(?P<a>.+?) añadió a (?P<o>.+?)\.?", join, es, False),
        (r"(?P<a>.+?) eliminó a (?P<o>.+?)\.?", leave, es, False),
        (r"(?P<s>.+?) salió(?: del grupo)?\.?", leave, None, False),
        # Portuguese.
        (r"(?P<s>.+?) criou (?:o|este) grupo\b.*", join, None, True),
        (r"(?P<s>.+?) (?:mudou|alterou) .+", system, None, False),
        (r"(?P<s>.+?) entrou\b.*", join, None, False),
        (r"(?P<a>.+?) adicionou (?P<o>.+?)\.?", join, pt, False),
        (r"(?P<a>.+?) removeu (?P<o>.+?)\.?", leave, pt, False),
        (r"(?P<s>.+?) saiu\.?", leave, None, False),
        # German.
        (r"(?P<s>.+?) hat (?:die )?Gruppe .*erstellt\.?", join, None, True),
        (r"(?P<s>.+?) hat .+ geändert\.?", system, None, False),
        (r"(?P<s>.+?) (?:ist|bist) .*beigetreten\.?", join, None, False),
        (r"(?P<s>.+?) hat die Gruppe verlassen\.?", leave, None, False),
        (r"(?P<a>.+?) ha(?:t|st) (?P<o>.+?) hinzugefügt\.?", join, de, False),
        (r"(?P<a>.+?) ha(?:t|st) (?P<o>.+?) entfernt\.?", leave, de, False),
    ]
    return [
        SystemPattern(re.compile(f"^(?:{regex})$"), kind, splitter, created)
        for regex, kind, splitter, created in table
    ]


SYSTEM_PATTERNS = _patterns()

# Media placeholders (the export was made without media), whole first line, lower case, without
# the angle brackets: Android writes one for every kind, iOS one per kind.
MEDIA_PLACEHOLDERS = {
    "media omitted": "media",
    "medien ausgeschlossen": "media",
    "medien weggelassen": "media",
    "multimedia omitido": "media",
    "archivo omitido": "media",
    "mídia omitida": "media",
    "mídia oculta": "media",
    "省略影音内容": "media",
    "省略多媒体文件": "media",
    "image omitted": "image",
    "video omitted": "video",
    "audio omitted": "audio",
    "sticker omitted": "sticker",
    "gif omitted": "gif",
    "document omitted": "document",
    "contact card omitted": "contact",
    "imagen omitida": "image",
    "video omitido": "video",
    "audio omitido": "audio",
    "sticker omitido": "sticker",
    "gif omitido": "gif",
    "documento omitido": "document",
    "tarjeta de contacto omitida": "contact",
    "bild weggelassen": "image",
    "video weggelassen": "video",
    "audio weggelassen": "audio",
    "sticker weggelassen": "sticker",
    "gif weggelassen": "gif",
    "dokument weggelassen": "document",
    "kontaktkarte ausgelassen": "contact",
    "imagem ocultada": "image",
    "vídeo omitido": "video",
    "áudio ocultado": "audio",
    "figurinha omitida": "sticker",
    "cartão do contato omitido": "contact",
    "照片已忽略": "image",
    "视频已忽略": "video",
    "音频已忽略": "audio",
    "贴图已省略": "sticker",
    "gif 动态图已被忽略": "gif",
    "文档已省略": "document",
    "联系人卡片已忽略": "contact",
}
# iOS names a document before the placeholder: "Report.pdf • 2 pages document omitted".
DOCUMENT_OMITTED = re.compile(
    r"^(?P<file>.+?)\s+(?:document omitted|documento omitido|dokument weggelassen|文档已省略)$",
    re.IGNORECASE,
)
# The last letter of those placeholders (before an optional final line end, as "$" allows).
OMITTED_END = re.compile(r"[don略]\n?\Z", re.IGNORECASE)
# With media: iOS "<attached: 00000042-PHOTO-2020-06-07-15-13-20.jpg>" (label translated, e.g.
# "<附件：…>"); Android "IMG-20200319-WA0011.jpg (file attached)".
IOS_ATTACHMENT = re.compile(r"^<(?P<label>[^<>:：]{1,30})[:：]\s*(?P<file>[^<>]+?)\s*>$")
ANDROID_ATTACHMENT = re.compile(r"^(?P<file>.+?\.\w{2,5}) \((?P<label>[^()]{3,40})\)$")
ANDROID_ATTACHED = frozenset(
    {
        "file attached",
        "datei angehängt",
        "archivo adjunto",
        "arquivo anexado",
        "fichier joint",
        "file allegato",
        "文件附件",
    }
)
FILE_KINDS = (
    (re.compile(r"PHOTO|^IMG-|\.(?:jpe?g|png|heic)$", re.IGNORECASE), "image"),
    (re.compile(r"VIDEO|^VID-|\.(?:mp4|mov|3gp)$", re.IGNORECASE), "video"),
    (re.compile(r"AUDIO|^PTT-|^AUD-|\.(?:opus|m4a|mp3|aac|ogg)$", re.IGNORECASE), "audio"),
    (re.compile(r"STICKER|^STK-|\.webp$", re.IGNORECASE), "sticker"),
    (re.compile(r"GIF|\.gif$", re.IGNORECASE), "gif"),
)
DELETED = frozenset(
    {
        "this message was deleted",
        "you deleted this message",
        "se eliminó este mensaje",
        "este mensaje fue eliminado",
        "eliminaste este mensaje",
        "diese nachricht wurde gelöscht",
        "du hast diese nachricht gelöscht",
        "esta mensagem foi apagada",
        "mensagem apagada",
        "você apagou esta mensagem",
        "apagou esta mensagem",
        "这条消息已删除",
        "这条消息已被删除",
        "您已删除这条消息",
        "信息已删除",
    }
)
DELETED_BY_ADMIN = re.compile(r"^this message was deleted by (?:an )?admin\b", re.IGNORECASE)
EDITED_MARK = "<This message was edited>"
EDITED = re.compile(rf"\s*[{MARKS}]*{EDITED_MARK}\s*$")
LOCATION = re.compile(r"^(?:location|standort|ubicación|localização|位置): https?://", re.I)
URL = re.compile(r"https?://\S", re.IGNORECASE)
PHONE = re.compile(r"^\+[\d\s\-\u2010\u2011().]{6,}$")
MENTION_NUMBER = re.compile(r"\+?(\d[\d \-]{5,18}\d)")
MAX_MENTION_WORDS = 8
MAX_NAME = 100  # longer than any contact name: the colon belongs to a system line
NAME_PUNCTUATION = ".,;:!?，。！？、)]}\"'”’"


class Person(NamedTuple):
    """Someone as the export names them: the id is the name, or the number in +digits form."""

    puid: str
    display: str
    phone: str | None


def _clean(text: str) -> str:
    """Without marks and with plain spaces: for recognising names and notices."""
    if text.isascii() or _UNCLEAN.search(text) is None:
        return text.strip()
    return text.translate(_STRIP_MARKS).replace("\u00a0", " ").replace("\u202f", " ").strip()


@functools.lru_cache(maxsize=1 << 16)  # names repeat on every line; bounded
def _person(name: str) -> Person | None:
    """The account a name stands for; None for "you" (the exporter, whose name is not given)."""
    display = _clean(name).strip("“”\"'「」『』")
    if not display or display.casefold() in YOU:
        return None
    if PHONE.match(display):
        digits = re.sub(r"\D", "", display)
        if 7 <= len(digits) <= 15:
            return Person(f"+{digits}", display, f"+{digits}")
    return Person(display, display, None)


def _split_author(rest: str) -> tuple[str | None, str]:
    """``Name: text`` → (name, text); a system line → (None, line)."""
    index = rest.find(": ")
    if index <= 0:
        if rest.endswith(":") and ":" not in rest[:-1] and len(rest) > 1:
            return rest[:-1], ""  # an empty message
        return None, rest
    author = rest[:index]
    if len(author) > MAX_NAME or SYSTEM_VERBS.search(author) or not _clean(author):
        return None, rest
    return author, rest[index + 2 :]


def _chat_name(stem: str) -> str | None:
    stem = COPY_SUFFIX.sub("", stem.strip())
    for pattern in CHAT_FILE_NAMES:
        match = pattern.match(stem)
        if match:
            return match["name"].strip()
    return None


def _chat_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The chat text in an archive: iOS ``_chat.txt``, Android ``WhatsApp Chat with ….txt``."""
    texts = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith(".txt")
    ]
    for info in texts:
        if Path(info.filename).name == "_chat.txt":
            return info
    for info in texts:
        if _chat_name(Path(info.filename).stem):
            return info
    return texts[0] if len(texts) == 1 else None


def _media(first: str) -> tuple[str, str | None] | None:
    """(kind, file name) when a message's first line stands for a photo, video, file, …"""
    key = first.strip().strip("<>").strip().casefold()
    if key in MEDIA_PLACEHOLDERS:
        return MEDIA_PLACEHOLDERS[key], None
    # The patterns below walk the whole line; cheap tests first rule most lines out.
    match = DOCUMENT_OMITTED.match(first) if OMITTED_END.search(first[-2:]) else None
    if match:
        return "document", match["file"]
    match = IOS_ATTACHMENT.match(first)
    if match is None:
        match = ANDROID_ATTACHMENT.match(first) if " (" in first else None
        if match is None or match["label"].casefold() not in ANDROID_ATTACHED:
            return None
    name = match["file"]
    kind = next((kind for regex, kind in FILE_KINDS if regex.search(name)), "document")
    return kind, name


def _deleted(first: str) -> bool:
    key = first.strip().rstrip(".。").casefold()
    return key in DELETED or DELETED_BY_ADMIN.match(key) is not None


def _parse_system(text: str) -> tuple[SystemPattern, list[str], str | None] | None:
    """Match a system line: (pattern, the names it is about, who did it)."""
    for pattern in SYSTEM_PATTERNS:
        match = pattern.regex.match(text)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("s") is not None:
            return pattern, [groups["s"]], None
        objects = groups["o"] or "you"
        names = pattern.splitter.split(objects) if pattern.splitter else [objects]
        return pattern, [name for name in names if name.strip()], groups["a"]
    return None


class _Body(NamedTuple):
    """What the first line of a message (after its author) says, for WhatsAppSource._body."""

    first: str  # without marks at the start and spaces at either end
    key: str  # cleaned (_clean), for recognising placeholders and notices
    notice: bool  # a system line, whoever the export names as its author
    deleted: bool
    media: tuple[str, str | None] | None
    location: bool


@dataclass
class _Scan:
    """What the first pass learns: the header shape, the date order and everyone who writes."""

    signature: tuple[str, str, bool] | None = None
    headers: int = 0
    year_first: bool | None = None
    day_first_at: tuple[int, str] | None = None
    month_first_at: tuple[int, str] | None = None
    previous: tuple[int, int, int] | None = None
    first_decreases: int | None = None
    second_decreases: int | None = None
    system_author: str | None = None
    systemish: dict[str, bool] = field(default_factory=dict)  # author -> only notices so far
    names: dict[str, str] = field(default_factory=dict)  # display name -> account id
    people: dict[str, Person] = field(default_factory=dict)  # account id -> person


class WhatsAppSource(Source):
    OPTIONS = ("time_zone", "date_order")
    format_name = "whatsapp"
    label = gettext_lazy("WhatsApp chat export (.txt or .zip)")

    def __init__(
        self,
        path: Path | str,
        *,
        channel: str | None = None,
        time_zone: str | None = None,
        tz: str | None = None,
        date_order: str | None = None,
        **options: Any,
    ) -> None:
        """``time_zone`` (alias ``tz``): the IANA zone the phone's clock was in, default UTC.

        ``date_order``: DMY, MDY or YMD when the file's dates cannot tell (default: detected,
        else DMY). Other options are accepted and ignored, so one set of options can be passed
        to every format.
        """
        super().__init__(path, channel=channel)
        self.time_zone = self.zone_option(time_zone or tz, "UTC")
        self.date_order_option = None
        if date_order and date_order.lower() != "auto":
            if date_order.upper() not in ORDERS:
                raise ImportFormatError(
                    self.path,
                    "",
                    _("unknown date order %(order)s (one of: %(choices)s)")
                    % {"order": repr(date_order), "choices": ", ".join(ORDERS)},
                )
            self.date_order_option = date_order.upper()
        self.date_order = ""  # the order used, once records() has scanned the file
        self.date_order_evidence = ""
        self._member: zipfile.ZipInfo | None = None
        self._reader: CountingReader | None = None
        self._reader_size = 0
        self._passes_done = 0
        self._channel_key = ""
        self._seen: set[str] = set()
        self._system_names: set[str] = set()
        self._scan_result = _Scan()
        # The time of the last message, and how often each digest has occurred at that time.
        self._run_stamp = ""
        self._run_seen: dict[str, int] = {}
        self._line_label = ""
        self._line_parts: tuple[str, str] | None = None
        # Per-value caches of the second pass: raw author -> (name, person, a system name) or
        # None when the text before ": " is no author; message line -> what it is; time of
        # day -> numbers.
        self._authors: dict[str, tuple[str, Person | None, bool] | None] = {}
        self._bodies: dict[str, _Body] = {}
        self._times: dict[tuple[str | None, ...], tuple[dt.timedelta, str] | None] = {}

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        """The first non-empty line of the text (or of the archive's chat) is a message header."""
        if not path.is_file():
            return False
        try:
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    info = _chat_member(archive)
                    if info is None:
                        return False
                    with archive.open(info) as handle:
                        head = handle.read(SNIFF_BYTES)
            else:
                with path.open("rb") as handle:
                    head = handle.read(SNIFF_BYTES)
        except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
            return False
        text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
        first = next((line for line in text.split("\n") if line.strip()), "")
        return HEADER.match(first.rstrip("\r")) is not None

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        scan = self._scan()
        self._scan_result = scan
        self._decide_order(scan)
        name = self._name_of_chat(scan)
        self._channel_key = self.channel_override or name
        # The group's own name, when it is the author of notices only (iOS); in a one-to-one
        # chat the other person is named in the file name but also writes messages.
        self._system_names = {
            n for n in (name, scan.system_author) if n and scan.systemish.get(n) is True
        }
        for system_name in self._system_names:
            puid = scan.names.pop(system_name, None)
            scan.people.pop(puid or "", None)
        # Per-value caches of the second pass (names depend on the system names just found).
        self._authors = {}
        self._bodies = {}
        self._times = {}
        yield ChannelRecord(key=self._channel_key, platform=Platform.WHATSAPP, name=name)
        signature = scan.signature
        shapes: dict[tuple[str | None, ...], bool] = {}
        header = HEADER.match
        entry = self._entry
        # The last header's bracket, date and tail, and its date as _day reads it: a header
        # like the last one fits the file's shape and has that date.
        last: tuple[str | None, ...] = ()
        last_tail: str | None = None
        date: tuple[dt.datetime, str] | None = None
        # The message being read: its header line's number, match, groups and date, its lines.
        pending_number = 0
        pending_match: re.Match[str] | None = None
        pending_groups: tuple[str | None, ...] = ()
        pending_date = date
        pending_lines: list[str] = []
        number = 0
        with self._stream() as stream:
            for lines in self._batches(stream):
                for line in lines:
                    number += 1
                    match = header(line)
                    if match is not None:
                        groups = match.groups()
                        if groups[BRACKET_AND_DATE] != last or groups[TAIL] != last_tail:
                            shape = (groups[OPEN], groups[TAIL], groups[SEP], groups[D1])
                            fits = shapes.get(shape)
                            if fits is None:
                                if len(shapes) > CACHE_SIZE:
                                    shapes.clear()
                                fits = shapes[shape] = _signature(match) == signature
                            if not fits:  # a date quoted in a message
                                if pending_match is not None:
                                    pending_lines.append(line)
                                continue
                            date = self._day(groups[D1], groups[D2], groups[D3])
                            last, last_tail = groups[BRACKET_AND_DATE], groups[TAIL]
                        if pending_match is not None:
                            yield from entry(
                                pending_number,
                                pending_match,
                                pending_groups,
                                pending_date,
                                pending_lines,
                            )
                        pending_number, pending_match, pending_groups = number, match, groups
                        pending_date, pending_lines = date, [groups[REST]]
                    elif pending_match is not None:
                        pending_lines.append(line)
            if pending_match is not None:
                yield from entry(
                    pending_number, pending_match, pending_groups, pending_date, pending_lines
                )

    def progress(self) -> tuple[int, int]:
        """Each of the two passes over the file is half of the work."""
        total = self.total_bytes
        fraction = 0.0
        if self._reader is not None and self._reader_size:
            fraction = min(1.0, self._reader.count / self._reader_size)
        done = min(PASSES, self._passes_done + fraction)
        return int(total * done / PASSES), total

    @contextmanager
    def _stream(self) -> Iterator[io.BufferedReader]:
        """The chat text as bytes, from the file or streamed out of the archive, counted."""
        archive = None
        if self._member is not None:
            archive = zipfile.ZipFile(self.path)
            try:
                member = archive.open(self._member)
            except (RuntimeError, NotImplementedError, zipfile.BadZipFile) as exc:
                archive.close()  # e.g. a password-protected archive
                raise ImportFormatError(
                    self.path,
                    "",
                    _("cannot read %(file)s in the archive (%(error)s)")
                    % {"file": self._member.filename, "error": exc},
                ) from None
            self._reader = CountingReader(member)
            self._reader_size = self._member.file_size
        else:
            # the counter itself (``open_counted`` gives it buffered, without its count)
            self._reader = CountingReader(self.path.open("rb", buffering=0))
            self._reader_size = self.total_bytes
        try:
            with io.BufferedReader(self._reader, 1 << 16) as stream:
                yield stream
            self._passes_done += 1
        finally:
            self._reader.close()
            self._reader = None
            if archive is not None:
                archive.close()

    def _where(self, number: int) -> str:
        if not self._line_label:  # translated once, in the language active when reading starts
            if self._member is not None:
                self._line_label = _("%(file)s, line %(number)d").replace(
                    "%(file)s", self._member.filename.replace("%", "%%")
                )
            else:
                self._line_label = _("line %(number)d")
            self._line_parts = _number_parts(self._line_label)
        if self._line_parts is not None:
            before, after = self._line_parts
            return f"{before}{number}{after}"
        return self._line_label % {"number": number}

    def _batches(self, stream: io.BufferedReader) -> Iterator[list[str]]:
        """The text's lines without their line ends, a block's worth at a time.

        Blocks are read as line iteration reads them and decoded whole; a block that is not
        valid UTF-8 is decoded line by line, to name the line at fault.
        """
        done = 0  # lines yielded so far
        parts: list[bytes] = []  # the start of a line that continues in the next block
        first = True
        while True:
            try:
                block = stream.read(BLOCK)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged archive
                raise ImportFormatError(
                    self.path,
                    self._where(done + 1),
                    _("cannot read the archive (%(error)s)") % {"error": exc},
                ) from None
            if first:
                block = block.removeprefix(codecs.BOM_UTF8)
                first = False
            if not block:
                if parts:  # the last line has no line end
                    yield from self._decoded([b"".join(parts)], done)
                return
            end = block.rfind(b"\n")
            if end < 0:
                parts.append(block)
                continue
            if parts:
                parts.append(block[:end])
                data = b"".join(parts)
            else:
                data = block[:end]
            parts = [block[end + 1 :]] if end + 1 < len(block) else []
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                yield from self._decoded(data.split(b"\n"), done)
                raise AssertionError("_decoded raises") from None  # some line is not UTF-8
            lines = text.split("\n")
            if "\r" in text:
                lines = [line.rstrip("\r") for line in lines]
            done += len(lines)
            yield lines

    def _decoded(self, raws: list[bytes], done: int) -> Iterator[list[str]]:
        """Lines decoded one by one: those before the first that is not UTF-8, then an error
        naming that line (``done`` lines came before these).
        """
        lines: list[str] = []
        for raw in raws:
            try:
                lines.append(raw.decode("utf-8").rstrip("\r"))
            except UnicodeDecodeError as exc:
                if lines:
                    yield lines
                raise ImportFormatError(
                    self.path,
                    self._where(done + len(lines) + 1),
                    _(
                        "not valid UTF-8 (byte %(byte)s at byte %(position)d of the line);"
                        " WhatsApp writes UTF-8, so the file was re-saved in another encoding:"
                        " use the original export"
                    )
                    % {"byte": f"0x{raw[exc.start]:02x}", "position": exc.start + 1},
                ) from None
        yield lines

    # ------------------------------------------------------------ first pass
    def _scan(self) -> _Scan:
        if self.path.is_dir():
            raise ImportFormatError(
                self.path, "", _("expected a WhatsApp export (.txt or .zip), found a folder")
            )
        if zipfile.is_zipfile(self.path):
            try:
                with zipfile.ZipFile(self.path) as archive:
                    self._member = _chat_member(archive)
            except zipfile.BadZipFile as exc:
                raise ImportFormatError(
                    self.path, "", _("not a readable zip archive (%(error)s)") % {"error": exc}
                ) from None
            if self._member is None:
                raise ImportFormatError(
                    self.path,
                    "",
                    _("the archive holds no chat text (expected %(ios)s or %(android)s)")
                    % {"ios": "_chat.txt", "android": "WhatsApp Chat with ….txt"},
                )
        scan = _Scan()
        header = HEADER.match
        shapes: dict[tuple[str | None, ...], bool] = {}  # header parts -> in the file's shape
        # Authors known to write ordinary messages: their plain lines teach the scan nothing new
        # (they are remembered, and only a notice or a left-to-right mark could matter).
        quiet: set[str] = set()
        last: tuple[str | None, ...] = ()  # the last header's bracket and date, and its tail
        last_tail: str | None = None
        last_date: tuple[str | None, ...] = ()  # the last date observed
        headers = 0
        number = 0
        with self._stream() as stream:
            for lines in self._batches(stream):
                for line in lines:
                    number += 1
                    match = header(line)
                    if match is None:
                        if headers == 0 and _clean(line):
                            raise ImportFormatError(
                                self.path,
                                self._where(number),
                                _(
                                    "not a WhatsApp message line; an export starts with lines"
                                    " like %(android)s or %(ios)s"
                                )
                                % {
                                    "android": "'31/12/2021, 21:05 - Ann: hi'",
                                    "ios": "'[31/12/2021, 21:05:12] Ann: hi'",
                                },
                            )
                        continue
                    groups = match.groups()
                    # A header like the last one fits the file's shape, and its date (the
                    # same again) teaches nothing new.
                    if groups[BRACKET_AND_DATE] != last or groups[TAIL] != last_tail:
                        if headers == 0:
                            scan.signature = _signature(match)
                        else:
                            shape = (groups[OPEN], groups[TAIL], groups[SEP], groups[D1])
                            fits = shapes.get(shape)
                            if fits is None:
                                if len(shapes) > CACHE_SIZE:
                                    shapes.clear()
                                fits = shapes[shape] = _signature(match) == scan.signature
                            if not fits:  # a date quoted in a message
                                continue
                        date = groups[D1], groups[D2], groups[D3]
                        if date != last_date:
                            self._observe_date(scan, match, number)
                            last_date = date
                        last, last_tail = groups[BRACKET_AND_DATE], groups[TAIL]
                    headers += 1
                    rest = groups[REST]
                    index = rest.find(": ")
                    if index <= 0:
                        self._observe_author(scan, rest)
                        continue
                    author = rest[:index]
                    if (
                        author in quiet
                        and not rest.startswith(LRM, index + 2)
                        and (
                            NOTICE_START.match(rest, index + 2) is None
                            or ALWAYS_SYSTEM.match(_clean(rest[index + 2 :])) is None
                        )
                    ):
                        continue
                    self._observe_author(scan, rest)
                    if (
                        scan.systemish.get(_clean(author)) is False
                        and _split_author(rest)[0] is not None
                    ):
                        quiet.add(author)
        scan.headers = headers
        if scan.headers == 0:
            raise ImportFormatError(
                self.path, self._where(1), _("the file is empty; it holds no WhatsApp messages")
            )
        return scan

    def _observe_date(self, scan: _Scan, match: re.Match[str], number: int) -> None:
        shown = _date_text(match)
        if scan.year_first is None:
            scan.year_first = _year_first(match)
        if scan.year_first:
            return
        first, second, year = int(match["d1"]), int(match["d2"]), int(match["d3"])
        if first > 12 and scan.day_first_at is None:
            scan.day_first_at = (number, shown)
        if second > 12 and scan.month_first_at is None:
            scan.month_first_at = (number, shown)
        if scan.day_first_at and scan.month_first_at and self.date_order_option is None:
            self._disagreeing_dates(scan, number, shown)
        # A chat runs forward in time: within a year the month never decreases, the day does.
        if scan.previous and scan.previous[2] == year:
            if first < scan.previous[0] and scan.first_decreases is None:
                scan.first_decreases = number
            if second < scan.previous[1] and scan.second_decreases is None:
                scan.second_decreases = number
        scan.previous = (first, second, year)

    def _disagreeing_dates(self, scan: _Scan, number: int, shown: str) -> None:
        assert scan.day_first_at and scan.month_first_at
        if scan.day_first_at[0] < scan.month_first_at[0]:
            problem = _(
                "the dates disagree on their order: %(date)s has the month first but line"
                " %(line)d has the day first (%(other)s)"
            )
            line, other = scan.day_first_at
        else:
            problem = _(
                "the dates disagree on their order: %(date)s has the day first but line"
                " %(line)d has the month first (%(other)s)"
            )
            line, other = scan.month_first_at
        raise ImportFormatError(
            self.path,
            self._where(number),
            problem % {"date": repr(shown), "line": line, "other": repr(other)},
        )

    def _observe_author(self, scan: _Scan, rest: str) -> None:
        """Remember everyone named, so an @mention can find them before they first speak; and
        whether an author only ever posts notices (iOS writes system lines in the group's name).
        """
        author, body = _split_author(rest)
        key = _clean(body)
        name = _clean(author) if author is not None else ""
        if author is not None and ALWAYS_SYSTEM.match(key):
            scan.system_author = scan.system_author or name
            scan.systemish.setdefault(name, True)
            return
        parsed = None
        if author is None or body.startswith(LRM) or scan.systemish.get(name, True):
            parsed = _parse_system(key)
        if parsed is not None:
            for subject in (*parsed[1], parsed[2] or ""):
                self._remember(scan, _person(subject))
        if author is not None:
            if scan.systemish.get(name, True):
                scan.systemish[name] = parsed is not None or (
                    body.startswith(LRM) and not _deleted(key) and _media(key) is None
                )
            self._remember(scan, _person(author))

    @staticmethod
    def _remember(scan: _Scan, person: Person | None) -> None:
        if person is not None and person.puid not in scan.people:
            scan.people[person.puid] = person
            scan.names.setdefault(person.display, person.puid)

    def _decide_order(self, scan: _Scan) -> None:
        if self.date_order_option:
            self.date_order, self.date_order_evidence = self.date_order_option, "option"
        elif scan.year_first:
            self.date_order, self.date_order_evidence = "YMD", "year first"
        elif scan.day_first_at:
            self.date_order = "DMY"
            self.date_order_evidence = f"line {scan.day_first_at[0]} {scan.day_first_at[1]}"
        elif scan.month_first_at:
            self.date_order = "MDY"
            self.date_order_evidence = f"line {scan.month_first_at[0]} {scan.month_first_at[1]}"
        elif scan.first_decreases and not scan.second_decreases:
            self.date_order = "DMY"
            self.date_order_evidence = f"day decreases at line {scan.first_decreases}"
        elif scan.second_decreases and not scan.first_decreases:
            self.date_order = "MDY"
            self.date_order_evidence = f"day decreases at line {scan.second_decreases}"
        else:
            self.date_order, self.date_order_evidence = "DMY", "assumed"
        if self.date_order_evidence == "assumed":
            self.counts["dates_ambiguous"] = 1

    def _name_of_chat(self, scan: _Scan) -> str:
        stems = [self.path.stem]
        if self._member is not None:
            stems.insert(0, Path(self._member.filename).stem)
        for stem in stems:
            name = _chat_name(stem)
            if name:
                return name
        if scan.system_author:  # iOS names the group as the author of its notices
            return scan.system_author
        return COPY_SUFFIX.sub("", stems[-1]) or "WhatsApp"

    # ----------------------------------------------------------- second pass
    def _when(
        self, match: re.Match[str], date: tuple[dt.datetime, str] | None, where: str
    ) -> tuple[dt.datetime, str]:
        """The header's time, aware, and its local ISO text (for the message id).

        ``date`` is the header's day as ``_day`` reads it; times of day repeat, so they are
        cached (``_clock``). Anything unusual (and every error) takes the full path.
        """
        clock = match.groups()[CLOCK]
        time = self._times.get(clock, False)
        if time is False:
            if len(self._times) > CACHE_SIZE:
                self._times.clear()
            time = self._times[clock] = _clock(*clock)
        if date is None or time is None:
            return self._when_read(match, where)  # raises
        return date[0] + time[0], date[1] + time[1]

    def _day(self, d1: str, d2: str, d3: str) -> tuple[dt.datetime, str] | None:
        """Midnight of a header's date in the time zone, and the ISO date's text (with "T");
        None when ``_when_read`` would find no such date.
        """
        if self.date_order == "YMD":
            year, month, day = d1, d2, d3
        elif self.date_order == "MDY":
            month, day, year = d1, d2, d3
        else:
            day, month, year = d1, d2, d3
        if len(year) not in (2, 4):
            return None
        y, m, d = int(year) + (2000 if len(year) == 2 else 0), int(month), int(day)
        try:
            midnight = dt.datetime(y, m, d, tzinfo=self.time_zone)
        except ValueError:
            return None
        return midnight, f"{y:04d}-{m:02d}-{d:02d}T"

    def _when_read(self, match: re.Match[str], where: str) -> tuple[dt.datetime, str]:
        d1, d2, d3 = match["d1"], match["d2"], match["d3"]
        if self.date_order == "YMD":
            year, month, day = d1, d2, d3
        elif self.date_order == "MDY":
            month, day, year = d1, d2, d3
        else:
            day, month, year = d1, d2, d3
        hour = int(match["h"])
        marker = (match["ampm"] or "").lower().replace(".", "").replace(" ", "")
        before = match["pre"] or ""
        if any(word in before for word in PM_BEFORE):
            marker = "pm"
        elif any(word in before for word in AM_BEFORE):
            marker = "am"
        try:
            if len(year) not in (2, 4) or (marker and not 1 <= hour <= 12):
                raise ValueError
            if marker:
                hour = hour % 12 + (12 if marker.startswith("p") else 0)
            local = dt.datetime(
                int(year) + (2000 if len(year) == 2 else 0),
                int(month),
                int(day),
                hour,
                int(match["mi"]),
                int(match["s"] or 0),
            )
        except ValueError:
            raise ImportFormatError(
                self.path,
                where,
                _(
                    "%(value)s is not a valid date and time read as %(order)s; if the phone"
                    " writes dates in another order, name it with the date order option"
                    " (%(choices)s)"
                )
                % {
                    "value": repr(_date_text(match, with_time=True)),
                    "order": self.date_order,
                    "choices": ", ".join(ORDERS),
                },
            ) from None
        return local.replace(tzinfo=self.time_zone), local.isoformat()

    def _source_id(self, stamp: str, author: str, text: str) -> str:
        """A stable id: time, author, text and the order of identical messages at that time."""
        digest = hashlib.blake2b(
            f"{stamp}\x1f{author}\x1f{text}".encode(), digest_size=12
        ).hexdigest()
        if stamp != self._run_stamp:  # most messages start a new time
            self._run_stamp, self._run_seen = stamp, {digest: 1}
            return f"h:{digest}:0"
        seen = self._run_seen
        occurrence = seen.get(digest, 0)
        seen[digest] = occurrence + 1
        return f"h:{digest}:{occurrence}"

    def _member_record(self, person: Person, where: str) -> Iterator[MemberRecord]:
        if person.puid in self._seen:
            return
        self._seen.add(person.puid)
        self.counts["members"] += 1
        yield MemberRecord(
            channel=self._channel_key,
            platform_user_id=person.puid,
            display_name=person.display,
            handle=person.display,
            profile={"phone": person.phone} if person.phone else None,
            location=where,
        )

    def _entry(
        self,
        number: int,
        match: re.Match[str],
        groups: tuple[str | None, ...],
        date: tuple[dt.datetime, str] | None,
        lines: list[str],
    ) -> list[Record]:
        """The records of one message: its header's line number, match, groups and date (as
        _day reads it), and its lines.

        A list, not a generator: the only error, a bad date, comes before any record. Most
        messages are text, so that path is written out here; the rest go to _message.
        """
        line_parts = self._line_parts  # as _where
        where = (
            f"{line_parts[0]}{number}{line_parts[1]}"
            if line_parts is not None
            else self._where(number)
        )
        time = self._times.get(groups[CLOCK])  # as _when
        if time is None or date is None:
            occurred, stamp = self._when(match, date, where)
        else:
            occurred, stamp = date[0] + time[0], date[1] + time[1]
        head = lines[0]
        index = head.find(": ")
        if index > 0:  # as _split_author, with what an author string stands for cached
            known = self._authors.get(head[:index], False)
            if known is False:
                known = self._author(head[:index])
            body = head[index + 2 :] if known is not None else head
        else:
            author, body = _split_author(head)
            known = None if author is None else self._author_facts(author)
        facts = self._bodies.get(body)
        if facts is None:
            facts = self._body(body)
        first, key, notice, deleted, media, location = facts
        if len(lines) > 1:
            rest = "\n".join(lines[1:]).rstrip()
            text = f"{first}\n{rest}" if rest else first
        else:
            rest, text = "", first
        if known is None:
            return list(self._system(text, occurred, stamp, "", where))
        name, person, system_name = known
        if system_name or notice:
            return list(self._system(text, occurred, stamp, name, where))
        if deleted or media is not None:
            return self._message(
                person, name, key, rest, text, occurred, stamp, where, deleted, media, location
            )
        # A text message, as _message writes it.
        self.counts["messages"] += 1
        out: list[Record]
        if person is None:
            actor, out = None, []
        else:
            actor = person.puid
            out = [] if actor in self._seen else list(self._member_record(person, where))
        source_id = self._source_id(stamp, name, text)
        message: str | None = text
        attributes = None
        if EDITED_MARK in text and EDITED.search(text):
            message = EDITED.sub("", text) or None
            attributes = {"edited": True}
        out.append(
            EventRecord(
                channel=self._channel_key,
                source_id=source_id,
                kind=EventKind.MESSAGE,
                occurred_at=occurred,
                actor=actor,
                text=message,
                content_type=(
                    "location"
                    if location
                    else "link"
                    if "://" in text and URL.search(text)
                    else "text"
                ),
                attributes=attributes,
                actor_name=name,
                location=where,
            )
        )
        if message and "@" in message and actor is not None:
            out.extend(self._mentions(message, actor, name, source_id, occurred, where))
        return out

    def _body(self, body: str) -> _Body:
        """What a message's first line (after the author) is; cached when short."""
        first = body.lstrip(MARKS).strip()
        key = _clean(first)
        deleted = _deleted(key)
        media = None if deleted else _media(key)
        facts = _Body(
            first,
            key,
            # ALWAYS_SYSTEM notices; iOS marks notices with a left-to-right mark, media and
            # deletions too.
            ALWAYS_SYSTEM.match(key) is not None
            or (
                body.startswith(LRM)
                and not deleted
                and media is None
                and _parse_system(key) is not None
            ),
            deleted,
            media,
            "://" in key and LOCATION.match(key) is not None,
        )
        if len(body) <= MAX_CACHED:
            if len(self._bodies) > BODY_CACHE_SIZE:
                self._bodies.clear()
            self._bodies[body] = facts
        return facts

    def _author(self, author: str) -> tuple[str, Person | None, bool] | None:
        """What the text before a header's first ": " stands for; None: not an author."""
        if len(author) > MAX_NAME:
            return None
        authors = self._authors
        if len(authors) > CACHE_SIZE:
            authors.clear()
        if SYSTEM_VERBS.search(author) or not _clean(author):
            authors[author] = None
        else:
            authors[author] = self._author_facts(author)
        return authors[author]

    def _author_facts(self, author: str) -> tuple[str, Person | None, bool]:
        """An author's name without marks, the account they stand for, and whether the name is
        the group's own (its lines are notices).
        """
        name = _clean(author)
        return name, _person(author), name in self._system_names

    def _message(
        self,
        person: Person | None,
        author: str,
        first: str,
        rest: str,
        text: str,
        occurred: dt.datetime,
        stamp: str,
        where: str,
        deleted: bool,
        media: tuple[str, str | None] | None,
        location: bool,
    ) -> list[Record]:
        """A person's message: text, media (with its caption), or a deleted message.

        ``first`` is the first line cleaned of marks; ``deleted``, ``media`` and ``location``
        say what it is (see _body).
        """
        self.counts["messages"] += 1
        out: list[Record]
        if person is not None:
            actor = person.puid
            out = [] if actor in self._seen else list(self._member_record(person, where))
        else:
            actor, out = None, []
        attributes: dict[str, Any] = {}
        if deleted:
            self.counts["deleted"] += 1
            out.append(
                EventRecord(
                    channel=self._channel_key,
                    source_id=self._source_id(stamp, author, "\x00deleted"),
                    kind=EventKind.SYSTEM,
                    occurred_at=occurred,
                    actor=actor,
                    content_type="deleted",
                    attributes={"deleted": True},
                    actor_name=author,
                    location=where,
                )
            )
            return out
        if media is not None:
            self.counts["media"] += 1
            attributes["media"] = media[0]
            if media[1]:
                attributes["file"] = media[1]
            # With or without media, the same message keeps the same id.
            source_id = self._source_id(stamp, author, f"\x00media\x00{rest}")
            body, content_type = rest or None, "media"
        else:
            source_id = self._source_id(stamp, author, text)
            body = text
            # The pattern needs a "://", which most messages lack.
            content_type = "link" if "://" in text and URL.search(text) else "text"
            if location:
                content_type = "location"
        if body and EDITED_MARK in body and EDITED.search(body):
            body = EDITED.sub("", body) or None
            attributes["edited"] = True
        out.append(
            EventRecord(
                channel=self._channel_key,
                source_id=source_id,
                kind=EventKind.MESSAGE,
                occurred_at=occurred,
                actor=actor,
                text=body,
                content_type=content_type,
                attributes=attributes or None,
                actor_name=author,
                location=where,
            )
        )
        if body and "@" in body and actor is not None:
            out.extend(self._mentions(body, actor, author, source_id, occurred, where))
        return out

    def _mentions(
        self,
        text: str,
        actor: str,
        author: str,
        source_id: str,
        occurred: dt.datetime,
        where: str,
    ) -> Iterator[Record]:
        targets: list[str] = []
        for target in self._mentioned(text):
            if target != actor and target not in targets:
                targets.append(target)
        for position, target in enumerate(targets):
            self.counts["mentions"] += 1
            yield from self._member_record(self._scan_result.people[target], where)
            yield EventRecord(
                channel=self._channel_key,
                source_id=f"{source_id}#mention{position}",
                kind=EventKind.MENTION,
                occurred_at=occurred,
                actor=actor,
                target=target,
                parent=source_id,
                actor_name=author,
                location=where,
            )

    def _mentioned(self, text: str) -> Iterator[str]:
        """Accounts named after an ``@``: a known name (the longest that fits) or a number."""
        names = self._scan_result.names
        people = self._scan_result.people
        start = text.find("@")
        while start >= 0:
            after = text[start + 1 : start + 200]
            if after.startswith("\u2068") and "\u2069" in after:  # "@⁨Name⁩", newer exports
                person = _person(after[1 : after.index("\u2069")])
                if person and person.puid in people:
                    yield person.puid
            elif (number := MENTION_NUMBER.match(after)) is not None:
                puid = "+" + re.sub(r"\D", "", number[1])
                if puid in people:
                    yield puid
            else:
                words = after.split(None, MAX_MENTION_WORDS)[:MAX_MENTION_WORDS]
                for size in range(len(words), 0, -1):
                    candidate = " ".join(words[:size])
                    puid = names.get(candidate) or names.get(candidate.rstrip(NAME_PUNCTUATION))
                    if puid:
                        yield puid
                        break
            start = text.find("@", start + 1)

    def _system(
        self,
        text: str,
        occurred: dt.datetime,
        stamp: str,
        author: str,
        where: str,
    ) -> Iterator[Record]:
        """A system line: joins and leaves of the people it names; anything else is kept as is."""
        self.counts["system"] += 1
        source_id = self._source_id(stamp, author, text)
        key = _clean(text.split("\n", 1)[0])
        parsed = None if ALWAYS_SYSTEM.match(key) else _parse_system(key)
        if parsed is None:
            yield self._system_event(source_id, EventKind.SYSTEM, occurred, None, text, {}, where)
            return
        pattern, names, doer = parsed
        by = _person(doer) if doer else None
        if by is not None:
            yield from self._member_record(by, where)
        for position, name in enumerate(names):
            person = _person(name)
            attributes: dict[str, Any] = {}
            if person is None:
                attributes["subject_name"] = _clean(name)
            else:
                yield from self._member_record(person, where)
            if by is not None:
                attributes["removed_by" if pattern.kind == EventKind.LEAVE else "added_by"] = (
                    by.puid
                )
            if pattern.created:
                attributes["created_group"] = True
            yield self._system_event(
                source_id if position == 0 else f"{source_id}#{position}",
                pattern.kind,
                occurred,
                person,
                text,
                attributes,
                where,
            )

    def _system_event(
        self,
        source_id: str,
        kind: str,
        occurred: dt.datetime,
        person: Person | None,
        text: str,
        attributes: dict[str, Any],
        where: str,
    ) -> EventRecord:
        if kind != EventKind.SYSTEM:  # joins and leaves say what happened, as chatlab's do
            attributes = {"system_text": text[:500], **attributes}
        return EventRecord(
            channel=self._channel_key,
            source_id=source_id,
            kind=kind,
            occurred_at=occurred,
            actor=person.puid if person else None,
            text=text,
            content_type="system",
            attributes=attributes or None,
            actor_name=person.display if person else "",
            location=where,
        )


def _signature(match: re.Match[str]) -> tuple[str, str, bool]:
    """The header's shape: brackets or separator, date separator, and whether the year leads.

    Every header of one export has the same shape, so a line of another shape (a date quoted in
    a message) continues the message instead of starting one.
    """
    style = "[" if match["open"] else (match["tail"] or "").strip()
    return style, match["sep"], _year_first(match)


def _year_first(match: re.Match[str]) -> bool:
    return len(match["d1"]) >= 3 or int(match["d1"]) > 31


def _date_text(match: re.Match[str], *, with_time: bool = False) -> str:
    end = match.start("rest") if with_time else match.end("d3")
    return match.string[match.start("d1") : end].rstrip(" -–:]\u202f")


def _clock(
    pre: str | None, h: str, mi: str, s: str | None, ampm: str | None
) -> tuple[dt.timedelta, str] | None:
    """A header's time of day, as the time since midnight and its ISO text; None when
    ``_when_read`` would find no such time. Wall-clock arithmetic: midnight plus this is the
    same aware datetime as one built from all the numbers.
    """
    hour = int(h)
    if ampm or pre:
        marker = (ampm or "").lower().replace(".", "").replace(" ", "")
        before = pre or ""
        if any(word in before for word in PM_BEFORE):
            marker = "pm"
        elif any(word in before for word in AM_BEFORE):
            marker = "am"
        if marker:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if marker.startswith("p") else 0)
    minute, second = int(mi), int(s or 0)
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
        return None
    return (
        dt.timedelta(hours=hour, minutes=minute, seconds=second),
        f"{hour:02d}:{minute:02d}:{second:02d}",
    )


def _number_parts(label: str) -> tuple[str, str] | None:
    """``label`` (with one ``%(number)d``) as the text before and after the number, when
    formatting it is just putting the number between them.
    """
    probe = 9876543210
    text = label % {"number": probe}
    if text.count(str(probe)) != 1:
        return None
    before, after = text.split(str(probe))
    if any(label % {"number": n} != f"{before}{n}{after}" for n in (1, 10, 12345)):
        return None
    return before, after
