"""Slack workspace export: the zip that "Export data" writes, or that zip unpacked.

At the top: ``users.json`` (``org_users.json`` on Enterprise Grid), ``channels.json`` (public
channels), and when the export has them ``groups.json`` (private channels), ``mpims.json`` (group
DMs) and ``dms.json`` (DMs). Every conversation has a folder (channels, private channels and group
DMs under their name, DMs under their id) of ``YYYY-MM-DD.json`` files, each a JSON array of that
day's messages. Each Slack conversation becomes one shequn channel keyed by its id; a message's
``ts`` is its id within the channel.

Memory: the accounts of users.json are kept (bounded by the number of members); a JSON file of
at most ``WHOLE_FILE_BYTES`` (a day file nearly always) is read whole and parsed in one call, a
larger one is streamed element by element, conversation after conversation, so neither a long
conversation list nor a busy day file is ever held whole.

Speed: most messages are ordinary (no subtype, well-formed, by a known account), and
``SlackSource._plain_messages`` turns those into records in one tight loop; ``_Message`` reads
every other one, and says what is wrong with a malformed one. Both yield the same records.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.communities.models import Platform
from shequn.interactions.importers.base import CountingReader, Source
from shequn.interactions.importers.records import (
    EVENT_FIELDS as EVENT_FIELDS,  # the hot loop's order
)
from shequn.interactions.importers.records import (
    ChannelRecord,
    EventRecord,
    ImportFormatError,
    MemberRecord,
    Record,
)
from shequn.interactions.models import EventKind
from shequn.members.models import Role

USERS = "users.json"
ORG_USERS = "org_users.json"
CHANNELS = "channels.json"
GROUPS = "groups.json"
MPIMS = "mpims.json"
DMS = "dms.json"
METADATA = (USERS, ORG_USERS, CHANNELS, GROUPS, MPIMS, DMS)
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
# Seconds since 1970 and up to six digits of fraction: "1433558319.000002".
TIMESTAMP = re.compile(r"(\d{1,11})(?:\.(\d{1,6}))?")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
LINK = re.compile(r"<(?:https?://|mailto:)[^>]+>")
SLACKBOT = "USLACKBOT"
# Some exports name this non-existent user on channel renames (a Slack bug): nobody acted.
NOBODY = "U00"
JOINS = frozenset({"channel_join", "group_join"})
LEAVES = frozenset({"channel_leave", "group_leave"})
FILE_COMMENT = "file_comment"
# Subtypes that are something a person (or bot) said; every other subtype is a system event.
CONTENT_SUBTYPES = frozenset(
    {
        "bot_message",
        "me_message",
        "file_share",
        "file_mention",
        "thread_broadcast",
        "reply_broadcast",
        "slackbot_response",
    }
)
SNIFF_BYTES = 1024
HEAD_BYTES = 1 << 16  # a file's first read, where it must start with "["
# What a damaged, encrypted or oddly compressed zip member raises while it is opened or read.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError)
UTF8_BOM = b"\xef\xbb\xbf"
MESSAGE_KIND, REPLY_KIND = EventKind.MESSAGE, EventKind.REPLY
MENTION_KIND, REACTION_KIND = EventKind.MENTION, EventKind.REACTION
# Files up to this size are read whole and parsed in one call (a Slack day file is far smaller);
# larger ones are streamed, so memory stays bounded however large an export's files are.
WHOLE_FILE_BYTES = 4 << 20
# 19 digits in a row: where an integer literal may not fit in 64 bits (see _whole_array).
DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
LONG_DIGIT_RUN = b"0" * 19


@dataclass(slots=True)
class _Account:
    display_name: str
    handle: str = ""
    role: str | None = None
    is_bot: bool = False
    profile: dict[str, Any] = field(default_factory=dict)
    location: str = ""


class _Reader(CountingReader):
    """Counts the bytes read and tells its source when it is closed, so that several files can
    be open at once (a conversation list, and the day files of its current conversation)."""

    def __init__(self, raw: BinaryIO, source: SlackSource) -> None:
        super().__init__(raw)
        self._source = source

    def close(self) -> None:
        if not self.closed:
            self._source._finished(self)
        super().close()


# ----------------------------------------------------------------------------- export trees
class _FolderTree:
    """An unpacked export."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def display(self, name: str) -> Path:
        return self.root / name

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def open(self, name: str) -> BinaryIO:
        # Buffered once, above the counter; a plain join (no Path) for the many day files.
        return open(os.path.join(self.root, name), "rb", buffering=0)

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size

    @cached_property
    def days(self) -> dict[str, list[tuple[str, int]]]:
        """Folder name -> its day files (relative name, size), oldest first."""
        index: dict[str, list[tuple[str, int]]] = {}
        with os.scandir(self.root) as entries:
            folders = [entry.name for entry in entries if entry.is_dir()]
        for folder in folders:
            with os.scandir(self.root / folder) as entries:
                files = [
                    (f"{folder}/{entry.name}", entry.stat().st_size)
                    for entry in entries
                    if DAY_FILE.fullmatch(entry.name) and entry.is_file()
                ]
            if files:
                index[folder] = sorted(files)
        return index

    def close(self) -> None:
        pass


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name; names stored without the UTF-8 flag are tried as UTF-8 first."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


class _ZipTree:
    """A zipped export, read member by member; the export may sit in one top-level folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
        names = {_zip_name(info): info for info in self._zip.infolist() if not info.is_dir()}
        roots = sorted(
            (name[: -len(CHANNELS)] for name in names if name.rsplit("/", 1)[-1] == CHANNELS),
            key=lambda root: (root.count("/"), root),
        )
        self.prefix = roots[0] if roots else ""
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.days: dict[str, list[tuple[str, int]]] = {}
        for name, info in names.items():
            if not name.startswith(self.prefix):
                continue
            relative = name[len(self.prefix) :]
            folder, _slash, file_name = relative.rpartition("/")
            if not folder:
                self.members[relative] = info
            elif "/" not in folder and DAY_FILE.fullmatch(file_name):
                self.members[relative] = info
                self.days.setdefault(folder, []).append((relative, info.file_size))
        for files in self.days.values():
            files.sort()

    def display(self, name: str) -> Path:
        return self.path / (self.prefix + name)

    def has(self, name: str) -> bool:
        return name in self.members

    def open(self, name: str) -> BinaryIO:
        if self._zip is None:  # reading again after close()
            self._zip = zipfile.ZipFile(self.path)
        try:
            return self._zip.open(self.members[name])
        except ZIP_ERRORS as exc:
            raise _unreadable(self.display(name), exc) from None

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


_Tree = _FolderTree | _ZipTree


def _unreadable(path: Path, exc: BaseException) -> ImportFormatError:
    return ImportFormatError(
        path,
        "",
        _("not a readable zip archive (%(error)s)") % {"error": str(exc) or type(exc).__name__},
    )


def _open_tree(path: Path) -> _Tree:
    """The export at ``path``: a folder, a zip, or a file at the top of an unpacked export."""
    if path.is_dir():
        return _FolderTree(path)
    if zipfile.is_zipfile(path):
        try:
            return _ZipTree(path)
        except (*ZIP_ERRORS, OSError) as exc:
            raise _unreadable(path, exc) from None
    if path.name in METADATA:
        return _FolderTree(path.parent)
    raise ImportFormatError(
        path,
        "",
        _("expected a Slack export: a folder or zip file with %(first)s and %(second)s")
        % {"first": USERS, "second": CHANNELS},
    )


def _starts_array(tree: _Tree, name: str) -> bool:
    with tree.open(name) as handle:
        head = handle.read(SNIFF_BYTES)
    return head.removeprefix(UTF8_BOM).lstrip().startswith(b"[")


def _users_file(tree: _Tree) -> str | None:
    return next((name for name in (USERS, ORG_USERS) if tree.has(name)), None)


# ------------------------------------------------------------------------------- the source
class SlackSource(Source):
    OPTIONS = ("direct_messages",)
    format_name = "slack"
    label = gettext_lazy("Slack workspace export")

    def __init__(
        self,
        path: Path | str,
        *,
        channel: str | None = None,
        direct_messages: bool = False,
        **options: Any,
    ) -> None:
        """``direct_messages`` also imports DMs and group DMs (private talk: off by default).

        ``channel`` does not apply (every Slack record names its conversation); other options
        (such as a time zone) are accepted and ignored, since Slack's times are UTC.
        """
        super().__init__(path, channel=channel)
        self.direct_messages = direct_messages
        self._tree = _open_tree(self.path)
        users_file = _users_file(self._tree)
        for name, present in (
            (users_file or USERS, users_file),
            (CHANNELS, self._tree.has(CHANNELS)),
        ):
            if not present:
                self._tree.close()
                raise ImportFormatError(
                    self._tree.display(""),
                    "",
                    _("%(file)s is missing: a Slack export needs %(first)s and %(second)s")
                    % {"file": name, "first": USERS, "second": CHANNELS},
                )
        self._users_file = users_file or USERS
        self._users: dict[str, _Account] = {}
        self._bot_users: dict[str, str] = {}
        self._done = 0
        self._reading: list[_Reader] = []
        self._with_ts = ""

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        """A folder or zip whose top holds users.json and channels.json, both JSON arrays."""
        if path.is_file() and not zipfile.is_zipfile(path) and path.name not in METADATA:
            return False
        try:
            tree = _open_tree(path)
        except (ImportFormatError, OSError):
            return False
        try:
            users_file = _users_file(tree)
            return (
                users_file is not None
                and tree.has(CHANNELS)
                and _starts_array(tree, users_file)
                and _starts_array(tree, CHANNELS)
            )
        except (ImportFormatError, OSError, *ZIP_ERRORS):
            return False
        finally:
            tree.close()

    # -------------------------------------------------------------- progress
    @cached_property
    def total_bytes(self) -> int:
        tree = self._tree
        metadata = sum(tree.size(name) for name in METADATA if tree.has(name))
        return metadata + sum(size for files in tree.days.values() for _name, size in files)

    def progress(self) -> tuple[int, int]:
        return self._done + sum(reader.count for reader in self._reading), self.total_bytes

    def _open(self, name: str) -> _Reader:
        reader = _Reader(self._tree.open(name), self)
        self._reading.append(reader)
        return reader

    def _finished(self, reader: _Reader) -> None:
        self._reading.remove(reader)
        self._done += reader.count

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        # Translators: a record's location with its id, e.g. "messages[3] (ts 1433558319.000002)".
        self._with_ts = _("%(location)s (%(field)s %(value)s)")  # once, not per message
        try:
            self._read_users()
            # Records come in batches (a message's, a conversation's members), so that each
            # passes through one generator here rather than up a chain of them.
            for batch in self._conversations():
                yield from batch
            # Folders of skipped DMs and strays were never read: the whole export is done.
            self._done = self.total_bytes
        finally:
            self._tree.close()

    def _items(self, name: str, label: str) -> Iterator[tuple[str, Any]]:
        """Stream the elements of one JSON array file, each with its location."""
        for index, item in enumerate(self._elements(name, label)):
            yield label % {"index": index}, item

    def _elements(
        self, name: str, label: str, path: Path | None = None, size: int | None = None
    ) -> Iterable[Any]:
        """The elements of one JSON array file; ``label`` locates a broken one.

        A file of at most ``WHOLE_FILE_BYTES`` (a Slack day file nearly always) is read whole
        and parsed by orjson in one call; a larger one, and any that orjson would read
        differently from ijson (invalid JSON, a lone surrogate, an integer beyond 64 bits), is
        streamed by ijson, so errors and values are ijson's either way. ``path`` and ``size``
        (what the export's listing says) save looking them up again.
        """
        if path is None:
            path = self._tree.display(name)
        if size is None:
            size = self._tree.size(name)
        reader = self._open(name)
        try:
            try:
                # The first read is what a 64 KiB buffer's first fill held (ijson's stream used
                # one), so that what counts as the start of the file is as it was.
                head = reader.read(HEAD_BYTES)
                start = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
                if not head[start:].lstrip().startswith(b"["):
                    raise ImportFormatError(path, "", _("expected a JSON array"))
                data = head
                # Then what the listing says is left, and a byte to see the end (a file that
                # grew since it was listed is read on), up to the cap.
                while len(data) - start <= WHOLE_FILE_BYTES:
                    left = max(size - len(data), 0) + 1
                    chunk = reader.read(min(left, WHOLE_FILE_BYTES + 1 - (len(data) - start)))
                    if not chunk:
                        break
                    data += chunk
            except ZIP_ERRORS as exc:
                raise _unreadable(path, exc) from None
            if start:
                data = data[start:]
            if len(data) <= WHOLE_FILE_BYTES:
                items = _whole_array(data)
                if items is not None:
                    reader.close()
                    return items
                rest: Any = io.BytesIO(data)
            else:
                rest = _Prefixed(data, reader)
        except BaseException:
            reader.close()
            raise
        return self._streamed(reader, rest, path, label)

    def _streamed(self, reader: _Reader, rest: Any, path: Path, label: str) -> Iterator[Any]:
        """The elements ijson reads from ``rest`` (the rest of ``reader``), which it closes."""
        parsed = 0  # elements read whole: an error is in the next one
        with reader:
            try:
                for item in ijson.items(rest, "item", use_float=True):
                    yield item
                    parsed += 1
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    path, label % {"index": parsed}, _("invalid JSON (%(error)s)") % {"error": exc}
                ) from None
            except ZIP_ERRORS as exc:
                raise _unreadable(path, exc) from None

    # ----------------------------------------------------------------- users
    def _read_users(self) -> None:
        name = self._users_file
        path = self._tree.display(name)
        for where, user in self._items(name, _("users[%(index)d]")):
            _require_object(user, path, where)
            user_id = _string(user, "id", path, where, required=True)
            account = _account(user, path, where)
            self._users[user_id] = account
            bot_id = account.profile.get("bot_id")
            if account.is_bot and bot_id:
                self._bot_users[bot_id] = user_id
            self.counts["users"] += 1

    def _member(self, channel: str, user_id: str) -> MemberRecord:
        account = self._users.get(user_id)
        if account is None:
            is_bot = user_id == SLACKBOT or user_id.startswith("B")
            name = "Slackbot" if user_id == SLACKBOT else user_id
            return MemberRecord(
                channel=channel, platform_user_id=user_id, display_name=name, is_bot=is_bot
            )
        return MemberRecord(
            channel=channel,
            platform_user_id=user_id,
            display_name=account.display_name,
            handle=account.handle,
            role=account.role,
            is_bot=account.is_bot,
            profile=account.profile or None,
            location=account.location,
        )

    # --------------------------------------------------------- conversations
    def _conversation_files(self) -> Iterator[tuple[str, str]]:
        """(file, what it holds) for every conversation list in the export."""
        yield CHANNELS, "channels"
        if self._tree.has(GROUPS):
            yield GROUPS, "private_channels"
        if self._tree.has(MPIMS):
            yield MPIMS, "group_dms" if self.direct_messages else "group_dms_skipped"
        if self._tree.has(DMS):
            yield DMS, "direct_messages" if self.direct_messages else "direct_messages_skipped"

    def _conversations(self) -> Iterator[Iterable[Record]]:
        """Each conversation with its members, then its messages, one conversation at a time
        (so the pipeline stores a channel's members as its messages come, not all at once);
        in batches, each read lazily or already built."""
        label = _("channels[%(index)d]")
        for name, what in self._conversation_files():
            path = self._tree.display(name)
            is_dm = name == DMS
            for where, obj in self._items(name, label):
                _require_object(obj, path, where)
                key = _string(obj, "id", path, where, required=True)
                title = _string(obj, "name", path, where, required=not is_dm) or ""
                members = _string_list(obj, "members", path, where)
                self.counts[what] += 1
                if what.endswith("_skipped"):
                    continue
                if is_dm:
                    shown = ", ".join(f"@{self._handle(user)}" for user in members) or key
                else:
                    shown = f"#{title}" if name in (CHANNELS, GROUPS) else title
                yield (ChannelRecord(key=key, platform=Platform.SLACK, name=shown),)
                announced = set(members)
                yield [self._member(key, user) for user in dict.fromkeys(members)]
                yield from self._messages(key, key if is_dm else title, announced)

    def _handle(self, user_id: str) -> str:
        account = self._users.get(user_id)
        return (account.handle or account.display_name) if account else user_id

    # -------------------------------------------------------------- messages
    def _messages(
        self, channel: str, folder: str, announced: set[str]
    ) -> Iterator[Iterable[Record]]:
        """The day files of one conversation, oldest first, in batches of records: those of a
        file read whole, up to a message ``_Message`` reads (lazily, as before); one message's
        from a file read as a stream (an element there may yet be invalid JSON). ``announced``:
        accounts whose member record this channel has had."""
        label = _("messages[%(index)d]")
        located = _location_parts(self._with_ts, label)
        plain = self._plain_messages
        for name, size in self._tree.days.get(folder, ()):
            self.counts["day_files"] += 1
            path = self._tree.display(name)
            elements = self._elements(name, label, path, size)
            batch: list[Record] = []
            if type(elements) is list:
                position = 0
                while True:
                    position = plain(
                        channel, elements, position, 0, label, located, announced, batch
                    )
                    if position == len(elements):
                        break
                    if batch:
                        yield batch
                        batch = []
                    obj, elements[position] = elements[position], None
                    where = label % {"index": position}
                    yield _Message(self, channel, obj, path, where, announced).records()
                    position += 1
                if batch:
                    yield batch
                continue
            for index, obj in enumerate(elements):
                if plain(channel, [obj], 0, index, label, located, announced, batch):
                    yield batch
                    batch = []
                else:
                    where = label % {"index": index}
                    yield _Message(self, channel, obj, path, where, announced).records()

    def _plain_messages(
        self,
        channel: str,
        elements: list[Any],
        start: int,
        offset: int,
        label: str,
        located: tuple[str, str, str] | None,
        announced: set[str],
        records: list[Record],
    ) -> int:
        """Adds to ``records`` those of the ordinary messages of ``elements`` from ``start`` on
        (``offset`` is where ``elements`` begin in their file), the bulk of an export: no
        subtype, every field well-formed, written by a known account (or nobody). Stops at the
        first other message, having changed nothing for it, and returns its position (the
        length of ``elements`` when there is none): ``_Message`` reads those, and names what is
        wrong. A message read is taken out of ``elements``: it goes once read, not with its
        file, so fewer objects live on for the cyclic garbage collector to walk again and again.

        What this adds is exactly what ``_Message`` would yield; only the checks come first."""
        users = self._users
        counts = self.counts
        member = self._member
        append = records.append
        for position in range(start, len(elements)):
            obj = elements[position]
            index = offset + position
            if type(obj) is not dict:
                return position
            get = obj.get
            ts = get("ts")
            if type(ts) is not str or get("subtype") is not None:
                return position
            # TIMESTAMP without a regex (its \d is str.isdecimal): seconds, maybe a fraction.
            seconds, dot, fraction = ts.partition(".")
            if not (0 < len(seconds) <= 11 and seconds.isdecimal()) or (
                dot and not (0 < len(fraction) <= 6 and fraction.isdecimal())
            ):
                return position
            text = get("text")
            if text is None:
                text = ""
            elif type(text) is not str:
                return position
            actor = get("user")
            if type(actor) is str:
                if not actor or actor == NOBODY:
                    actor = None
            elif actor is not None:
                return position
            bot_id = get("bot_id")
            if bot_id is not None and type(bot_id) is not str:
                return position
            if actor is None:
                if bot_id:
                    return position  # a bot's message: its account may need making
            elif actor not in users:
                return position  # e.g. a guest from another workspace: its account may need making
            thread_ts = get("thread_ts")
            if thread_ts is not None and type(thread_ts) is not str:
                return position
            reply = bool(thread_ts) and thread_ts != ts
            target = None
            if reply:
                parent_user = get("parent_user_id")
                if type(parent_user) is str:
                    if parent_user == NOBODY:
                        parent_user = None
                elif parent_user is not None:
                    return position
                if not parent_user:
                    root = get("root")
                    if isinstance(root, dict):
                        parent_user = root.get("user")
                        if type(parent_user) is str:
                            if parent_user == NOBODY:
                                parent_user = None
                        elif parent_user is not None:
                            return position
                if parent_user and parent_user != actor:
                    target = parent_user
            reactions = get("reactions")
            if reactions is not None:
                if type(reactions) is not list:
                    return position
                for reaction in reactions:
                    if type(reaction) is not dict:
                        return position
                    name = reaction.get("name")
                    if type(name) is not str or not name:
                        return position
                    reacted = reaction.get("users")
                    if reacted is not None and (
                        type(reacted) is not list or not all(type(user) is str for user in reacted)
                    ):
                        return position

            # Well-formed: from here on nothing fails.
            elements[position] = None
            counts["messages"] += 1
            edited = get("edited")
            if edited:
                counts["edited"] += 1
            if located is None:
                location = self._with_ts % {
                    "location": label % {"index": index},
                    "field": "ts",
                    "value": ts,
                }
            else:
                location = f"{located[0]}{index}{located[1]}{ts}{located[2]}"
            occurred = EPOCH + dt.timedelta(
                0, int(seconds), int(fraction.ljust(6, "0")) if fraction else 0
            )
            source_id = f"ts:{ts}"
            if actor is not None and actor not in announced:
                announced.add(actor)
                append(member(channel, actor))
            kind = MESSAGE_KIND
            parent = thread = None
            file = get("file")
            file_id = file.get("id") if file is not None and isinstance(file, dict) else None
            if reply:
                kind = REPLY_KIND
                parent = thread = f"ts:{thread_ts}"
                if target is not None and target not in announced:
                    announced.add(target)
                    append(member(channel, target))
                counts["thread_replies"] += 1
            elif thread_ts:
                thread = source_id
            elif isinstance(file_id, str) and file_id:
                thread = f"file:{file_id}"
            attributes: dict[str, Any] = {}
            files = get("files")
            if files is None:
                file_count = int(file_id is not None)
            else:
                file_count = len(files) if isinstance(files, list) else int(file_id is not None)
            if file_count:
                attributes["files"] = file_count
            if edited:
                attributes["edited"] = True
            reply_count = get("reply_count")
            if reply_count is not None and isinstance(reply_count, int) and thread == source_id:
                attributes["reply_count"] = reply_count
            if file_count:
                content_type = "file"
            else:
                content_type = "link" if "<" in text and LINK.search(text) else "text"
            # Positional, in EVENT_FIELDS' order: far cheaper than a dozen keywords.
            append(
                EventRecord(
                    channel,
                    source_id,
                    kind,
                    occurred,
                    actor,
                    target,
                    text,
                    None,
                    parent,
                    thread,
                    content_type,
                    attributes or None,
                    "",
                    location,
                )
            )
            if "<@" in text:
                seen: set[str] = set()
                for mentioned in MENTION.findall(text):
                    if mentioned == actor or mentioned in seen:
                        continue
                    seen.add(mentioned)
                    counts["mentions"] += 1
                    if mentioned not in announced:
                        announced.add(mentioned)
                        append(member(channel, mentioned))
                    append(
                        EventRecord(
                            channel,
                            f"{source_id}#mention:{mentioned}",
                            MENTION_KIND,
                            occurred,
                            actor,
                            mentioned,
                            None,
                            None,
                            source_id,
                            thread,
                            "",
                            None,
                            "",
                            location,
                        )
                    )
            if reactions:
                listed = 0
                for reaction in reactions:
                    name = reaction["name"]
                    reacted = reaction.get("users")
                    if reacted is None:
                        reacted = []
                    count = reaction.get("count")
                    if isinstance(count, int) and count > len(reacted):
                        counts["reactions_not_listed"] += count - len(reacted)
                    for user in dict.fromkeys(reacted):
                        listed += 1
                        if user not in announced:
                            announced.add(user)
                            append(member(channel, user))
                        append(
                            EventRecord(
                                channel,
                                f"{source_id}#reaction:{name}:{user}",
                                REACTION_KIND,
                                occurred,
                                user,
                                None,
                                None,
                                None,
                                source_id,
                                thread,
                                "emoji",
                                {"emoji": name},
                                "",
                                location,
                            )
                        )
                if listed:
                    counts["reacted_messages"] += 1
                    counts["reactions"] += listed
        return len(elements)


class _Message:
    """One element of a day file, turned into its event and the mentions and reactions on it."""

    def __init__(
        self,
        source: SlackSource,
        channel: str,
        obj: Any,
        path: Path,
        where: str,
        announced: set[str],
    ) -> None:
        _require_object(obj, path, where)
        self.source = source
        self.channel = channel
        self.obj: dict[str, Any] = obj
        self.path = path
        self.ts = _string(obj, "ts", path, where, required=True) or ""
        self.where = source._with_ts % {
            "location": where,
            "field": "ts",
            "value": self.ts,
        }
        self.occurred = _time(self.ts, path, self.where)
        self.subtype = self.string("subtype")
        self.text = self.string("text") or ""
        self.announced = announced
        self.source_id = f"ts:{self.ts}"

    def string(self, key: str, obj: dict[str, Any] | None = None) -> str | None:
        return _string(self.obj if obj is None else obj, key, self.path, self.where)

    def user(self, key: str, obj: dict[str, Any] | None = None) -> str | None:
        user = self.string(key, obj)
        return None if user == NOBODY else user

    def announce(self, user_id: str | None) -> Iterator[MemberRecord]:
        """The account's member record, the first time it appears in this conversation."""
        if user_id is not None and user_id not in self.announced:
            self.announced.add(user_id)
            yield self.source._member(self.channel, user_id)

    def records(self) -> Iterator[Record]:
        counts = self.source.counts
        counts["messages"] += 1
        subtype = self.subtype
        if subtype:
            counts[f"messages:{subtype}"] += 1
        if self.obj.get("edited"):
            counts["edited"] += 1
        if subtype == FILE_COMMENT:
            yield from self._file_comment()
        elif subtype is None or subtype in CONTENT_SUBTYPES:
            yield from self._content()
        else:
            yield from self._system()

    # ------------------------------------------------------------------ kinds
    def _author(self) -> str | None:
        """Who wrote it: the user, or for a bot's message its bot user or bot id."""
        user = self.user("user")
        bot_id = self.string("bot_id")
        if user is None and bot_id:
            user = self.source._bot_users.get(bot_id, bot_id)
            if user not in self.source._users:
                self.source._users[user] = self._bot_account(bot_id)
        elif user is not None and user not in self.source._users:
            profile = self.obj.get("user_profile")
            if isinstance(profile, dict):  # e.g. a guest from another workspace
                self.source._users[user] = _account({"profile": profile}, self.path, self.where)
        return user

    def _bot_account(self, bot_id: str) -> _Account:
        bot_profile = self.obj.get("bot_profile")
        name = self.string("username") or ""
        if not name and isinstance(bot_profile, dict):
            name = str(bot_profile.get("name") or "")
        return _Account(
            display_name=name or bot_id, handle=name, is_bot=True, profile={"bot_id": bot_id}
        )

    def _content(self) -> Iterator[Record]:
        actor = self._author()
        yield from self.announce(actor)
        obj = self.obj
        kind = EventKind.MESSAGE
        parent = thread = target = None
        thread_ts = self.string("thread_ts")
        file = obj.get("file")
        file_id = file.get("id") if isinstance(file, dict) else None
        if thread_ts and thread_ts != self.ts:
            kind = EventKind.REPLY
            parent = thread = f"ts:{thread_ts}"
            root = obj.get("root")  # thread_broadcast: the thread's first message
            parent_user = self.user("parent_user_id") or (
                self.user("user", root) if isinstance(root, dict) else None
            )
            if parent_user and parent_user != actor:
                target = parent_user
                yield from self.announce(target)
            self.source.counts["thread_replies"] += 1
        elif thread_ts:
            thread = self.source_id
        elif isinstance(file_id, str) and file_id:
            thread = f"file:{file_id}"  # where the file's comments (old exports) are
        attributes: dict[str, Any] = {}
        files = obj.get("files")
        file_count = len(files) if isinstance(files, list) else int(file_id is not None)
        if self.subtype:
            attributes["subtype"] = self.subtype
        if file_count:
            attributes["files"] = file_count
        if obj.get("edited"):
            attributes["edited"] = True
        if isinstance(obj.get("reply_count"), int) and thread == self.source_id:
            attributes["reply_count"] = obj["reply_count"]
        if file_count or self.subtype == "file_share":
            content_type = "file"
        else:
            content_type = "link" if LINK.search(self.text) else "text"
        yield EventRecord(
            channel=self.channel,
            source_id=self.source_id,
            kind=kind,
            occurred_at=self.occurred,
            actor=actor,
            target=target,
            text=self.text,
            parent=parent,
            thread=thread,
            content_type=content_type,
            attributes=attributes or None,
            location=self.where,
        )
        yield from self._mentions(actor, thread)
        yield from self._reactions(obj.get("reactions"), actor, thread)
        if self.subtype == "file_share" and isinstance(file, dict) and isinstance(file_id, str):
            yield from self._file_reactions(file, file_id, thread)

    def _file_comment(self) -> Iterator[Record]:
        """A comment on a file (exports before 2018): a reply aimed at the file's owner."""
        comment = self.obj.get("comment")
        if not isinstance(comment, dict):
            raise ImportFormatError(
                self.path,
                self.where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": "comment", "expected": "object", "found": _found(comment)},
            )
        actor = self.user("user", comment) or self.user("user")
        file = self.obj.get("file")
        file = file if isinstance(file, dict) else {}
        owner = self.user("user", file)
        file_id = self.string("id", file)
        target = owner if owner and owner != actor else None
        thread = f"file:{file_id}" if file_id else None
        yield from self.announce(actor)
        yield from self.announce(target)
        attributes = {"subtype": FILE_COMMENT}
        if file_id:
            attributes["file_id"] = file_id
        yield EventRecord(
            channel=self.channel,
            source_id=self.source_id,
            kind=EventKind.REPLY,
            occurred_at=self.occurred,
            actor=actor,
            target=target,
            text=self.text,
            thread=thread,
            content_type="text",
            attributes=attributes,
            location=self.where,
        )
        yield from self._mentions(actor, thread)
        reactions = self.obj.get("reactions")
        yield from self._reactions(
            comment.get("reactions") if reactions is None else reactions, actor, thread
        )

    def _system(self) -> Iterator[Record]:
        actor = self.user("user")
        yield from self.announce(actor)
        subtype = self.subtype or ""
        kind = EventKind.SYSTEM
        if subtype in JOINS:
            kind = EventKind.JOIN
        elif subtype in LEAVES:
            kind = EventKind.LEAVE
        attributes: dict[str, Any] = {"subtype": subtype}
        inviter = self.user("inviter")
        if inviter:
            attributes["inviter"] = inviter
        yield EventRecord(
            channel=self.channel,
            source_id=self.source_id,
            kind=kind,
            occurred_at=self.occurred,
            actor=actor,
            text=self.text,
            content_type="system",
            attributes=attributes,
            location=self.where,
        )
        yield from self._reactions(self.obj.get("reactions"), actor, None)

    # -------------------------------------------------- mentions and reactions
    def _mentions(self, actor: str | None, thread: str | None) -> Iterator[Record]:
        if "<@" not in self.text:
            return
        seen: set[str] = set()
        for target in MENTION.findall(self.text):
            if target == actor or target in seen:
                continue
            seen.add(target)
            self.source.counts["mentions"] += 1
            yield from self.announce(target)
            yield EventRecord(
                channel=self.channel,
                source_id=f"{self.source_id}#mention:{target}",
                kind=EventKind.MENTION,
                occurred_at=self.occurred,
                actor=actor,
                target=target,
                parent=self.source_id,
                thread=thread,
                location=self.where,
            )

    def _reactions(self, reactions: Any, actor: str | None, thread: str | None) -> Iterator[Record]:
        """One reaction event per person, aimed (through ``parent``) at the message's author."""
        if reactions is None:
            return
        listed = 0
        for name, user in self._reaction_users(reactions, "reactions"):
            listed += 1
            yield from self.announce(user)
            yield EventRecord(
                channel=self.channel,
                source_id=f"{self.source_id}#reaction:{name}:{user}",
                kind=EventKind.REACTION,
                occurred_at=self.occurred,  # Slack does not export when a reaction was added
                actor=user,
                parent=self.source_id,
                thread=thread,
                content_type="emoji",
                attributes={"emoji": name},
                location=self.where,
            )
        if listed:
            self.source.counts["reacted_messages"] += 1
            self.source.counts["reactions"] += listed

    def _file_reactions(
        self, file: dict[str, Any], file_id: str, thread: str | None
    ) -> Iterator[Record]:
        """Reactions on a shared file (exports before 2018 keep them on the file, not the
        message): aimed at the file's owner; keyed by the file, so a second share of the same
        file adds nothing."""
        owner = self.user("user", file)
        for name, user in self._reaction_users(file.get("reactions"), "file.reactions"):
            self.source.counts["file_reactions"] += 1
            yield from self.announce(user)
            yield EventRecord(
                channel=self.channel,
                source_id=f"file:{file_id}#reaction:{name}:{user}",
                kind=EventKind.REACTION,
                occurred_at=self.occurred,
                actor=user,
                target=owner if owner and owner != user else None,
                parent=self.source_id,
                thread=thread,
                content_type="emoji",
                attributes={"emoji": name, "file_id": file_id},
                location=self.where,
            )

    def _reaction_users(self, reactions: Any, field_name: str) -> Iterator[tuple[str, str]]:
        """(emoji, user) pairs; counts reactions Slack counted but did not list."""
        if reactions is None:
            return
        if not isinstance(reactions, list):
            raise ImportFormatError(
                self.path,
                self.where,
                _("field '%(field)s' must be a %(expected)s, found %(found)s")
                % {"field": field_name, "expected": "list", "found": _found(reactions)},
            )
        for reaction in reactions:
            _require_object(reaction, self.path, self.where)
            name = _string(reaction, "name", self.path, self.where, required=True) or ""
            users = _string_list(reaction, "users", self.path, self.where)
            count = reaction.get("count")
            if isinstance(count, int) and count > len(users):
                self.source.counts["reactions_not_listed"] += count - len(users)
            for user in dict.fromkeys(users):
                yield name, user


class _Prefixed:
    """Bytes already read, then the rest of the stream: for ijson, which calls ``read(size)``."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size < 0 or size >= len(self._head):
            chunk = bytes(self._head)
            self._head = memoryview(b"")
            return chunk
        chunk = bytes(self._head[:size])
        self._head = self._head[size:]
        return chunk


def _location_parts(with_ts: str, label: str) -> tuple[str, str, str] | None:
    """``with_ts`` of ``label`` (both formats translated), as ``_Message`` locates a message,
    cut around the index and the ts: ``f"{before}{index}{between}{ts}{after}"`` is then the
    same text without two formattings per message. None where a translation has another
    shape (the two formats are then applied as they are)."""
    label_parts = label.split("%(index)d")
    outer_parts = re.split(r"%\((location|field|value)\)s", with_ts)
    texts = [*label_parts, *outer_parts[::2]]
    if (
        len(label_parts) != 2
        or outer_parts[1::2] != ["location", "field", "value"]
        or any("%" in text for text in texts)
    ):
        return None
    label_before, label_after = label_parts
    before, between, field_value, after = outer_parts[::2]
    return before + label_before, label_after + between + "ts" + field_value, after


def _whole_array(data: bytes) -> list[Any] | None:
    """The elements of a JSON array read whole, or None where only ijson may read it: orjson
    finds it invalid (ijson names the broken element), or it holds a run of 19 or more digits,
    where an integer literal could be beyond ijson's 64 bits (which ijson rejects and orjson
    does not). Lone surrogates (ijson writes "?") make orjson fail, so they go to ijson too."""
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if LONG_DIGIT_RUN in data.translate(DIGITS_AS_ZERO) or not isinstance(items, list):
        return None
    return items


# ------------------------------------------------------------------------------- helpers
def _found(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:200]


def _require_object(value: Any, path: Path, where: str) -> None:
    if not isinstance(value, dict):
        raise ImportFormatError(path, where, _("expected a JSON object"))


def _string(
    obj: dict[str, Any], key: str, path: Path, where: str, *, required: bool = False
) -> str | None:
    """A string field; absent, null or (unless required) empty means None."""
    value = obj.get(key)
    if isinstance(value, str) and (value or not required):
        return value or None
    if value is None and not required:
        return None
    if value is None or value == "":
        problem = _("field '%(field)s' must be a %(expected)s, found missing") % {
            "field": key,
            "expected": "string",
        }
    else:
        problem = _("field '%(field)s' must be a %(expected)s, found %(found)s") % {
            "field": key,
            "expected": "string",
            "found": _found(value),
        }
    raise ImportFormatError(path, where, problem)


def _string_list(obj: dict[str, Any], key: str, path: Path, where: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ImportFormatError(
            path,
            where,
            _("field '%(field)s' must be a %(expected)s, found %(found)s")
            % {"field": key, "expected": "list of strings", "found": _found(value)},
        )
    return value


def _time(ts: str, path: Path, where: str) -> dt.datetime:
    match = TIMESTAMP.fullmatch(ts)
    if match is None:
        raise ImportFormatError(
            path,
            where,
            _("field '%(field)s' is not a Slack timestamp (seconds since 1970, e.g. %(example)s)")
            % {"field": "ts", "example": "1433558319.000002"},
        )
    micro = int((match[2] or "").ljust(6, "0"))
    return EPOCH + dt.timedelta(seconds=int(match[1]), microseconds=micro)


def _account(user: dict[str, Any], path: Path, where: str) -> _Account:
    """A users.json entry: names, platform role, bot flag and the profile shequn keeps."""
    raw_profile = user.get("profile")
    profile_in: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
    if raw_profile is not None and not isinstance(raw_profile, dict):
        raise ImportFormatError(
            path,
            where,
            _("field '%(field)s' must be a %(expected)s, found %(found)s")
            % {"field": "profile", "expected": "object", "found": _found(raw_profile)},
        )
    handle = _string(user, "name", path, where) or _string(profile_in, "name", path, where) or ""
    real_name = _string(user, "real_name", path, where) or _string(
        profile_in, "real_name", path, where
    )
    display = _string(profile_in, "display_name", path, where)
    profile: dict[str, Any] = {}
    for key, value in (
        ("email", _string(profile_in, "email", path, where)),
        ("real_name", real_name),
        ("display_name", display),
        ("title", _string(profile_in, "title", path, where)),
        ("username", handle),
        ("time_zone", _string(user, "tz", path, where)),
        ("bot_id", _string(profile_in, "bot_id", path, where)),
    ):
        if value:
            profile[key] = value
    if user.get("deleted") is True:
        profile["deleted"] = True
    if user.get("is_ultra_restricted") is True:
        profile["guest"] = "single-channel"
    elif user.get("is_restricted") is True:
        profile["guest"] = "multi-channel"
    if user.get("is_primary_owner") is True:
        role: str | None = Role.FOUNDER
    elif user.get("is_owner") is True or user.get("is_admin") is True:
        role = Role.OPERATOR
    else:
        role = None
    is_bot = user.get("is_bot") is True or user.get("id") == SLACKBOT
    return _Account(
        display_name=real_name or display or handle or str(user.get("id") or ""),
        handle=handle,
        role=role,
        is_bot=is_bot,
        profile=profile,
        location=where,
    )
