"""Stack Exchange data dump (the quarterly XML dump of one site, e.g. ``history.meta``).

Input is the folder of one site's dump, or the path of ``Posts.xml`` inside it. ``Users.xml`` and
``Posts.xml`` are required; ``Comments.xml``, ``Votes.xml`` and ``Badges.xml`` are read when present
(other files such as ``PostHistory.xml``, ``PostLinks.xml`` and ``Tags.xml`` are ignored). Every
file is one root element (``<users>``, ``<posts>`` …) holding one ``<row .../>`` per record, every
field an attribute; dates are UTC without a zone (``2021-04-27T15:06:44.553``, votes date-only).

Mapping (one channel per import, platform ``stackexchange``, keyed by the folder name unless the
caller names the channel; every ``source_id`` is prefixed by its file so ids never collide):

* ``Users.xml`` → a member per row (``platform_user_id`` = ``Id``; ``Id`` -1 "Community" is a bot;
  reputation, account id, location, website, votes cast, views and last access in the identity's
  profile) and a ``join`` event ``user:{Id}:join`` at ``CreationDate``.
* ``Posts.xml`` → ``post:{Id}``. Questions are messages and open their own thread; answers are
  replies whose parent and thread are the question; other post types (tag wikis, nominations …)
  are messages that are their own thread. The author is ``OwnerUserId``; a post of a deleted
  account that only carries ``OwnerDisplayName`` is credited to the pseudo-account
  ``name:{OwnerDisplayName}``; a post with neither has no actor.
* ``Comments.xml`` → replies ``comment:{Id}`` to ``post:{PostId}``, in the thread of that post's
  question. Author as for posts (``UserId``, else ``name:{UserDisplayName}``).
* ``Votes.xml`` → ``vote:{Id}`` on ``post:{PostId}``: accept, up, down, favourite and bounty votes
  are reactions, every other vote type (close, deletion, spam, moderator review, approved edit …)
  is a moderation event. Voters are anonymous in the dump except for favourites and bounties
  (an accept vote is always the asker's, but the dump does not say so and neither do we). Votes
  carry no thread, so they never count as turns of a conversation. Date-only votes are at 00:00 UTC.
* ``Badges.xml`` → badge events ``badge:{Id}``.

Not imported: edits (``LastEditorUserId``; ``PostHistory.xml``), post links, tags as entities.
Two deleted accounts that show the same display name become one ``name:`` pseudo-account.

Reply and reaction targets (the author of the parent post) are resolved by the pipeline in SQL
once everything is in, so votes and comments on deleted posts simply keep no target.

Memory: every file is fed in 64 KiB chunks to an lxml parser whose target keeps the attributes of
the rows of one chunk until they have been mapped, so a multi-gigabyte ``Posts.xml`` needs no more
memory than one chunk's rows. The one structure that grows with the dump is the answer → question
index used to put comments on answers into their question's thread: two flat ``array`` columns
holding only the answers (8 bytes per answer while ids fit in 32 bits, e.g. ~280 MB for all of
Stack Overflow's 35 million answers, against ~100 bytes per entry for a dict). When the answer ids
are dense (the largest below twice their number, as on most sites) the columns are replaced, once
``Posts.xml`` has been read, by one column indexed by post id that is no bigger and needs no
search (both exist while it is built). A comment on a post that is not a known answer (a
question, a tag wiki, a deleted post) is put in that post's own thread.
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from functools import cached_property
from itertools import chain, repeat
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

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

USERS, POSTS, COMMENTS, VOTES, BADGES = (
    "Users.xml",
    "Posts.xml",
    "Comments.xml",
    "Votes.xml",
    "Badges.xml",
)
REQUIRED_FILES = (POSTS, USERS)
FILES = (USERS, POSTS, COMMENTS, VOTES, BADGES)  # also the order they are read in
COMMUNITY_USER_ID = "-1"

QUESTION, ANSWER = 1, 2
# PostTypeId -> (name kept in attributes, content type: at most 16 characters).
POST_TYPES: dict[int, tuple[str, str]] = {
    1: ("question", "question"),
    2: ("answer", "answer"),
    3: ("orphaned_tag_wiki", "tag_wiki"),
    4: ("tag_wiki_excerpt", "tag_excerpt"),
    5: ("tag_wiki", "tag_wiki"),
    6: ("moderator_nomination", "nomination"),
    7: ("wiki_placeholder", "wiki"),
    8: ("privilege_wiki", "wiki"),
    9: ("article", "article"),
    10: ("help_article", "help"),
    12: ("collection", "collection"),
    13: ("moderator_questionnaire_response", "questionnaire"),
    14: ("announcement", "announcement"),
    15: ("collective_discussion", "discussion"),
    17: ("collective_collection", "collection"),
}
# VoteTypeId -> name, as in the data dump's schema documentation (meta.stackexchange.com/q/2677).
REACTION_VOTES: dict[int, str] = {
    1: "accept",
    2: "up",
    3: "down",
    5: "favorite",
    8: "bounty_start",
    9: "bounty_close",
}
MODERATION_VOTES: dict[int, str] = {
    4: "offensive",
    6: "close",
    7: "reopen",
    10: "deletion",
    11: "undeletion",
    12: "spam",
    15: "moderator_review",
    16: "approve_edit_suggestion",
}
TAG_PATTERN = re.compile(r"<([^<>]+)>")
LXML_POSITION = re.compile(r", line \d+, column \d+$")  # already in the location
NAME_WORDS = {
    "se": "Stack Exchange",
    "stackexchange": "Stack Exchange",
    "so": "Stack Overflow",
    "stackoverflow": "Stack Overflow",
    "superuser": "Super User",
    "serverfault": "Server Fault",
    "askubuntu": "Ask Ubuntu",
    "mathoverflow": "MathOverflow",
}
INT32 = 2**31


def find_dump_file(folder: Path, name: str) -> Path | None:
    """``folder/name``, matching the name without regard to case as some unpackers change it."""
    exact = folder / name
    if exact.is_file():
        return exact
    wanted = name.lower()
    try:
        for child in folder.iterdir():
            if child.name.lower() == wanted and child.is_file():
                return child
    except OSError:
        return None
    return None


def readable_site_name(key: str) -> str:
    """A readable name: ``history.meta.stackexchange.com`` -> "History Meta Stack Exchange"."""
    words = [w for w in re.split(r"[-_.\s]+", key) if w and w.lower() not in ("com", "net")]
    named = [NAME_WORDS.get(w.lower(), w if not w.islower() else w.capitalize()) for w in words]
    return " ".join(named) or key


def parse_tags(value: str | None) -> list[str]:
    """``<a><b>`` (older dumps) or ``|a|b|`` (newer dumps) -> ``["a", "b"]``."""
    if not value:
        return []
    if value.startswith("<"):
        return TAG_PATTERN.findall(value)
    return [tag for tag in value.split("|") if tag]


class _AnswerIndex:
    """Answer id -> question id in two flat integer arrays, searched by bisection.

    Dumps list posts in id order, so appending keeps the arrays sorted; if they come out of
    order they are sorted once after ``Posts.xml`` has been read. Dense answer ids are then
    moved to ``by_post``, looked up without a search.
    """

    def __init__(self) -> None:
        self.answers = array("i")
        self.questions = array("i")
        # Post id -> its question, 0 for a post that is not an answer; set by ``finish`` when
        # the answer ids are dense enough, and then the two columns above are emptied.
        self.by_post: array | None = None
        self._count = 0
        self._sorted = True

    def add(self, answer: int, question: int) -> None:
        fits = -INT32 <= answer < INT32 and -INT32 <= question < INT32
        if self.answers.typecode == "i" and not fits:
            self.answers = array("q", self.answers)
            self.questions = array("q", self.questions)
        if self.answers and answer <= self.answers[-1]:
            self._sorted = False
        self.answers.append(answer)
        self.questions.append(question)

    def finish(self) -> None:
        if not self._sorted:
            pairs = sorted(zip(self.answers, self.questions, strict=True))
            self.answers = array(self.answers.typecode, (a for a, _ in pairs))
            self.questions = array(self.questions.typecode, (q for _, q in pairs))
            self._sorted = True
        answers, questions = self.answers, self.questions
        self._count = len(answers)
        if (
            self.by_post is None
            and answers
            and answers[0] >= 0
            and answers[-1] < 2 * len(answers)
            and not questions.count(0)
        ):
            by_post = array(questions.typecode, bytes(questions.itemsize * (answers[-1] + 1)))
            # Backwards, so that of an answer listed twice the first (as sorted) is kept, the
            # one a search of the columns finds.
            for answer, question in zip(reversed(answers), reversed(questions), strict=True):
                by_post[answer] = question
            self.by_post = by_post
            self.answers = array(answers.typecode)
            self.questions = array(questions.typecode)

    def question_of(self, post: int) -> int:
        """The question an answer belongs to; any other post is its own thread."""
        by_post = self.by_post
        if by_post is not None:
            return (by_post[post] or post) if 0 <= post < len(by_post) else post
        i = bisect_left(self.answers, post)
        if i < len(self.answers) and self.answers[i] == post:
            return self.questions[i]
        return post

    def __len__(self) -> int:
        return self._count if self.by_post is not None else len(self.answers)


class _Row:
    """One ``<row>``'s attributes with typed accessors that raise ImportFormatError."""

    __slots__ = ("attrib", "file", "location", "number", "path")

    def __init__(self, path: Path, file: str, number: int, attrib: Any, location: str) -> None:
        self.path = path
        self.file = file
        self.number = number
        self.attrib = attrib
        self.location = location  # "Posts.xml row 9", translated

    def fail(self, problem: str) -> ImportFormatError:
        row_id = self.attrib.get("Id")
        where = self.location
        if row_id:
            # Translators: a row and its id attribute, e.g. "Posts.xml row 9 (Id 12)".
            where = _("%(location)s (%(field)s %(value)s)") % {
                "location": self.location,
                "field": "Id",
                "value": row_id,
            }
        return ImportFormatError(self.path, where, problem)

    def text(self, field: str) -> str | None:
        value = self.attrib.get(field)
        return value if value else None

    def int(self, field: str, *, required: bool = False) -> int | None:
        value = self.attrib.get(field)
        if value is None or value == "":
            if required:
                raise self.fail(_("field '%(field)s' is missing") % {"field": field})
            return None
        try:
            return int(value)
        except ValueError:
            raise self.fail(
                _("field '%(field)s' must be an integer, found %(value)s")
                % {"field": field, "value": repr(value)}
            ) from None

    def id(self, field: str = "Id") -> str:
        """A required integer id, kept as its canonical string."""
        return str(self.int(field, required=True))

    def date(self, field: str, *, required: bool = True) -> dt.datetime | None:
        value = self.attrib.get(field)
        if not value:
            if required:
                raise self.fail(_("field '%(field)s' is missing") % {"field": field})
            return None
        try:
            # Dumps write UTC without a zone; appending it is several times faster than
            # ``.replace(tzinfo=...)``. Values with a zone of their own take the slow path.
            parsed = dt.datetime.fromisoformat(value + "+00:00")
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(
                    _("field '%(field)s' is not an ISO 8601 date: %(value)s")
                    % {"field": field, "value": repr(value)}
                ) from None
        if parsed.tzinfo is dt.UTC:
            return parsed
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return parsed.replace(tzinfo=dt.UTC)  # e.g. a date without a time
        return parsed.astimezone(dt.UTC)

    def flag(self, field: str) -> bool:
        value = (self.attrib.get(field) or "").strip().lower()
        if value in ("", "false", "0"):
            return False
        if value in ("true", "1"):
            return True
        raise self.fail(
            _("field '%(field)s' must be %(true)s or %(false)s, found %(value)s")
            % {"field": field, "true": "True", "false": "False", "value": repr(value)}
        )


def _account(row: _Row, id_field: str, name_field: str) -> tuple[str | None, str]:
    """(platform user id, display name) of a row's author; deleted accounts go by their name."""
    name = row.text(name_field) or ""
    if row.attrib.get(id_field):
        return row.id(id_field), name
    if name:
        return f"name:{name}"[:255], name
    return None, ""


# Fast path. Each file is fed in chunks to an lxml parser whose target keeps a plain dict of
# attributes per <row> (no element tree, no attribute proxy), and each row is mapped by inline
# code that assumes it is well formed. When that code meets anything unexpected (a missing or
# non-integer field, a date with a zone of its own …) it hands the row to the ``_Row`` based
# ``_*_row`` methods, which map it or raise the precise error; malformed XML and files with a
# DOCTYPE are read by ``_iterparse_batches``, the element tree reader, so errors and entity
# expansion stay exactly what they are there.
CHUNK = 1 << 16  # bytes fed to the parser at a time; a batch holds the rows of one chunk
PROLOG_CHUNKS = 16  # chunks kept before the root element, to be read again after a DOCTYPE
CACHE_LIMIT = 1 << 16  # entries a per-file cache may hold before it is emptied
ROW_SLOW_PATH = (KeyError, ValueError, TypeError)  # what the inline code raises on odd rows
_NOT_SEEN = object()
_OTHER = object()  # an element other than <row> started
# An id that is a canonical decimal (ASCII digits, no leading zero, fewer digits than the 640
# that ``int()`` may at the least be limited to) is its own ``str(int(id))``.
_DIGITS = 640
_UTC = dt.UTC
_UTC_SUFFIX = "+00:00"
# Without entity substitution libxml2 hands a parser target every "&" of an attribute value
# (written ``&amp;`` or ``&#38;``) as the character reference "&#38;", and no "&" otherwise; the
# element tree decodes it. Batches keep that form (so a value is decoded exactly once) and every
# text taken from a row is decoded where it is used.
_AMP = "&#38;"
_fromisoformat = dt.datetime.fromisoformat
MESSAGE, REPLY, REACTION = EventKind.MESSAGE, EventKind.REPLY, EventKind.REACTION
MODERATION, BADGE, JOIN = EventKind.MODERATION, EventKind.BADGE, EventKind.JOIN
# VoteTypeId -> (event kind, vote name) for the known types.
VOTE_KINDS: dict[int, tuple[str, str]] = {
    **{vote: (MODERATION, name) for vote, name in MODERATION_VOTES.items()},
    **{vote: (REACTION, name) for vote, name in REACTION_VOTES.items()},
}
# The text of a known type -> what the inline code needs of it.
POST_TYPES_BY_TEXT = {str(t): (t, name, content) for t, (name, content) in POST_TYPES.items()}
VOTE_KINDS_BY_TEXT = {str(vote): kind_and_name for vote, kind_and_name in VOTE_KINDS.items()}
# Small integers by their canonical text, for fields with few distinct values (scores, badge
# classes): a dict lookup costs a fraction of ``int()``, which still reads any other text.
SMALL_INTS = {str(n): n for n in range(-256, 4096)}
# ``_Row.flag`` of the usual values; others go through it.
FLAGS = {None: False, "": False, "False": False, "false": False, "0": False}
FLAGS |= {"True": True, "true": True, "1": True}
USER_INTS = (
    ("reputation", "Reputation"),
    ("account_id", "AccountId"),
    ("up_votes", "UpVotes"),
    ("down_votes", "DownVotes"),
    ("views", "Views"),
)
USER_TEXTS = (("location", "Location"), ("website", "WebsiteUrl"))

# EventRecords are made by ``object.__new__`` and the dataclass ``__init__`` given every field in
# order (records.EVENT_FIELDS, checked there), a good third cheaper than keywords.
_new_event = EventRecord.__new__
_init_event: Callable[..., None] = EventRecord.__init__


class _RowTarget:
    """lxml parser target noting, in order, what starts and ends, for ``_RowSorter``.

    ``events`` gets a row's attribute dict (a plain dict) when a ``<row>`` starts, ``_OTHER``
    when another element starts (its tag and attributes go to ``others``) and the tag when any
    element ends: ``end`` is the list's own ``append``, so that costs no Python call.
    """

    def __init__(self) -> None:
        events: list[Any] = []
        others: list[tuple[str, dict[str, str]]] = []
        append = events.append

        def start(tag: str, attrib: dict[str, str]) -> None:
            if tag == "row":
                append(attrib)
            else:
                append(_OTHER)
                others.append((tag, attrib))

        self.events = events
        self.others = others
        self.start = start
        self.end = append
        self.doctype_seen = False

    def doctype(self, *_args: Any) -> None:
        self.doctype_seen = True

    def close(self) -> None:
        return None


class _RowSorter:
    """The rows in the order an element tree reader finishes them, from a target's events."""

    def __init__(self, target: _RowTarget) -> None:
        self.events = target.events
        self.others = target.others
        self.open: list[tuple[str, dict[str, str]]] = []  # elements started and not ended
        self.first_parent: object = _NOT_SEEN  # tag around the first row; None: it is the root

    def rows(self) -> list[dict[str, str]]:
        """The rows that ended since the last call, in the order they ended."""
        events = self.events
        count = len(events)
        starts = events[0::2]
        if (
            not count & 1
            and events[1::2].count("row") == count >> 1
            and all(map(isinstance, starts, repeat(dict)))
        ):
            # Every event pair is a row that started and ended at once (``<row .../>``), the
            # usual case: the rows are the starts, and what is open stays as it was.
            if starts and self.first_parent is _NOT_SEEN:
                self.first_parent = self.open[-1][0] if self.open else None
            events.clear()
            return starts
        rows = []
        open_elements = self.open
        others = iter(self.others)
        for event in events:
            if event.__class__ is str:  # an end
                attrib = open_elements.pop()[1]
                if event == "row":
                    if self.first_parent is _NOT_SEEN:
                        self.first_parent = open_elements[-1][0] if open_elements else None
                    rows.append(attrib)
            elif event is _OTHER:
                open_elements.append(next(others))
            else:
                open_elements.append(("row", event))
        events.clear()
        self.others.clear()
        return rows


class _Replay:
    """A file read again from its start: the chunks already read, then the rest of it."""

    def __init__(self, chunks: list[bytes], rest: Any) -> None:
        self.chunks = chunks
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        while self.chunks:
            data = self.chunks.pop(0)
            if data:
                return data
        return self.rest.read(size)


def _row_label_parts(name: str) -> tuple[str, str] | None:
    """(head, tail) with ``head + str(n) + tail`` equal to the translated "Posts.xml row n"."""
    label = _("%(file)s row %(row)d")
    probe = 918273645
    head, found, tail = (label % {"file": name, "row": probe}).partition(str(probe))
    if found and all(
        label % {"file": name, "row": n} == f"{head}{n}{tail}" for n in (0, 1, 42, 10**12)
    ):
        return head, tail
    return None


class StackExchangeSource(Source):
    format_name = "stackexchange"
    label = gettext_lazy("Stack Exchange data dump")

    def __init__(self, path: Path | str, *, channel: str | None = None) -> None:
        super().__init__(path, channel=channel)
        self.folder = self.path if self.path.is_dir() else self.path.parent
        self.files: dict[str, Path] = {}
        for name in FILES:
            found = find_dump_file(self.folder, name)
            if found is not None:
                self.files[name] = found
        for name in REQUIRED_FILES:
            if name not in self.files:
                found = ", ".join(self.files) or _("none of the dump files")
                first, second = REQUIRED_FILES
                raise ImportFormatError(
                    self.folder,
                    "",
                    _(
                        "%(file)s is missing: a Stack Exchange dump needs %(first)s and"
                        " %(second)s (found: %(found)s)"
                    )
                    % {"file": name, "first": first, "second": second, "found": found},
                )
        site = self.folder.resolve().name or "stackexchange"
        self.channel_key = channel or site
        self.channel_name = readable_site_name(channel or site)
        self.answers = _AnswerIndex()
        self._ids: dict[str, str] = {}  # author id attribute -> canonical id, bounded

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        if path.is_dir():
            return find_dump_file(path, POSTS) is not None
        return path.is_file() and path.name.lower() == POSTS.lower()

    @cached_property
    def total_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files.values())

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        # Chained rather than delegated to with ``yield from``: one frame less per record.
        # The generators start in turn, so comments are read once the answers are indexed.
        channel = ChannelRecord(
            key=self.channel_key, platform=Platform.STACKEXCHANGE, name=self.channel_name
        )
        parts: list[Iterator[Record]] = [iter((channel,)), self._users(), self._posts()]
        if COMMENTS in self.files:
            parts.append(self._comments())
        if VOTES in self.files:
            parts.append(self._votes())
        if BADGES in self.files:
            parts.append(self._badges())
        return chain.from_iterable(parts)

    def _batches(self, name: str) -> Iterator[tuple[int, list[dict[str, str]]]]:
        """Stream one file's rows: (rows before the batch, the batch's attribute dicts).

        A batch holds the rows of one chunk read, so memory stays that of one chunk's rows.
        """
        path = self.files[name]
        target = _RowTarget()
        sorter = _RowSorter(target)
        parser = etree.XMLParser(
            target=target,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
        number = 0
        head: list[bytes] | None = []  # chunks read before the root element opened
        reader = self.open_counted(path)
        with reader:
            while True:
                data = reader.read(CHUNK)
                failed = False
                try:
                    if data:
                        parser.feed(data)
                    else:
                        parser.close()
                except Exception:
                    failed = True
                if target.doctype_seen:
                    # A DTD may declare entities, which the element tree expands inside
                    # attributes and a parser target does not: read the file as a tree.
                    if head is not None:
                        head.append(data)
                        yield from self._iterparse_batches(name, _Replay(head, reader), number)
                    else:  # after an unusually long prolog
                        with path.open("rb") as again:
                            yield from self._iterparse_batches(name, again, number)
                    return
                if head is not None:
                    head.append(data)
                    if target.events or failed or len(head) > PROLOG_CHUNKS:
                        head = None
                if target.events:
                    rows = sorter.rows()
                    if rows:
                        if number == 0:
                            self._check_root(name, sorter.first_parent)
                        yield number, rows
                        number += len(rows)
                if failed:
                    # Malformed XML: the element tree reader names the error (and reads
                    # whatever rows it still can first), exactly as it always has.
                    with path.open("rb") as again:
                        yield from self._iterparse_batches(name, again, number)
                    return
                if not data:
                    return

    def _check_root(self, name: str, parent: object) -> None:
        root_tag = name.removesuffix(".xml").lower()
        if parent is None or parent != root_tag:
            found = _("no root element") if parent is None else f"<{parent}>"
            raise ImportFormatError(
                self.files[name],
                _("%(file)s row %(row)d") % {"file": name, "row": 1},
                _("expected rows inside %(root)s, found %(found)s: is this %(file)s?")
                % {"root": f"<{root_tag}>", "found": found, "file": name},
            )

    def _iterparse_batches(
        self, name: str, stream: Any, skip: int
    ) -> Iterator[tuple[int, list[dict[str, str]]]]:
        """The element tree reader: one-row batches after the first ``skip`` rows."""
        path = self.files[name]
        root_tag = name.removesuffix(".xml").lower()
        number = 0
        row_label = _("%(file)s row %(row)d")
        context = etree.iterparse(
            stream,
            events=("end",),
            tag="row",
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for _kind, elem in context:
                number += 1
                parent = elem.getparent()
                if number == 1 and (parent is None or parent.tag != root_tag):
                    self._check_root(name, None if parent is None else parent.tag)
                if number > skip:
                    # In the parser target's form (see ``_AMP``).
                    attrib = {key: value.replace("&", _AMP) for key, value in elem.attrib.items()}
                    yield number - 1, [attrib]
                elem.clear(keep_tail=False)
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (exc.lineno, 0)
            raise ImportFormatError(
                path,
                # Translators: e.g. "Posts.xml row 9 (line 12, column 3)".
                _("%(location)s (line %(line)s, column %(column)s)")
                % {
                    "location": row_label % {"file": name, "row": number + 1},
                    "line": line,
                    "column": column,
                },
                _("malformed XML: %(error)s") % {"error": LXML_POSITION.sub("", exc.msg)},
            ) from None

    def _row(self, name: str, number: int, attrib: dict[str, str], location: str) -> _Row:
        """A row for the ``_Row`` based path, its attributes decoded (see ``_AMP``)."""
        decoded = {key: value.replace(_AMP, "&") for key, value in attrib.items()}
        return _Row(self.files[name], name, number, decoded, location)

    def _actor_id(self, value: str) -> str:
        """``str(int(value))`` through a bounded cache: the same authors come back all along."""
        ids = self._ids
        if len(ids) >= CACHE_LIMIT:
            ids.clear()
        actor = ids[value] = str(int(value))
        return actor

    # ------------------------------------------------------------------ users
    def _users(self) -> Iterator[Record]:
        channel = self.channel_key
        counts = self.counts
        label = _("%(file)s row %(row)d")
        parts = _row_label_parts(USERS)
        exact, (before, after) = parts is not None, parts or ("", "")
        for start, rows in self._batches(USERS):
            read = 0  # added to counts once per batch
            try:
                for number, attrib in enumerate(rows, start + 1):
                    location = (
                        f"{before}{number}{after}"
                        if exact
                        else label % {"file": USERS, "row": number}
                    )
                    try:
                        user_id = str(int(attrib["Id"]))
                        joined = _fromisoformat(attrib["CreationDate"] + _UTC_SUFFIX)
                        if joined.tzinfo is not _UTC:
                            raise ValueError
                        name = attrib.get("DisplayName") or ""
                        if "&" in name:
                            name = name.replace(_AMP, "&")
                        profile: dict[str, Any] = {}
                        for key, field in USER_INTS:
                            value = attrib.get(field)
                            if value:
                                profile[key] = int(value)
                        for key, field in USER_TEXTS:
                            value = attrib.get(field)
                            if value:
                                if "&" in value:
                                    value = value.replace(_AMP, "&")
                                profile[key] = value[:500]
                        value = attrib.get("LastAccessDate")
                        if value:
                            last_access = _fromisoformat(value + _UTC_SUFFIX)
                            if last_access.tzinfo is not _UTC:
                                raise ValueError
                            profile["last_access"] = last_access.isoformat()
                    except ROW_SLOW_PATH:
                        yield from self._user_row(self._row(USERS, number, attrib, location))
                        continue
                    read += 1
                    yield MemberRecord(
                        channel=channel,
                        platform_user_id=user_id,
                        display_name=name,
                        handle=name,
                        is_bot=user_id == COMMUNITY_USER_ID,
                        joined_at=joined,
                        profile=profile,
                        location=location,
                    )
                    record = _new_event(EventRecord)
                    _init_event(
                        record,
                        channel,
                        f"user:{user_id}:join",
                        JOIN,
                        joined,
                        user_id,
                        None,
                        None,
                        None,
                        None,
                        None,
                        "",
                        None,
                        name,
                        location,
                    )
                    yield record
            finally:
                if read:
                    counts["users"] += read

    def _user_row(self, row: _Row) -> tuple[MemberRecord, EventRecord]:
        """One user, or the error that names what is wrong with the row."""
        user_id = row.id()
        joined = row.date("CreationDate")
        name = row.text("DisplayName") or ""
        profile: dict[str, Any] = {}
        for key, field in USER_INTS:
            value = row.int(field)
            if value is not None:
                profile[key] = value
        for key, field in USER_TEXTS:
            text = row.text(field)
            if text:
                profile[key] = text[:500]
        last_access = row.date("LastAccessDate", required=False)
        if last_access is not None:
            profile["last_access"] = last_access.isoformat()
        self.counts["users"] += 1
        return (
            MemberRecord(
                channel=self.channel_key,
                platform_user_id=user_id,
                display_name=name,
                handle=name,
                is_bot=user_id == COMMUNITY_USER_ID,
                joined_at=joined,
                profile=profile,
                location=row.location,
            ),
            EventRecord(
                channel=self.channel_key,
                source_id=f"user:{user_id}:join",
                kind=EventKind.JOIN,
                occurred_at=joined,
                actor=user_id,
                actor_name=name,
                location=row.location,
            ),
        )

    # ------------------------------------------------------------------ posts
    def _posts(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        counts = self.counts
        answers = self.answers
        ids = self._ids
        tag_lists: dict[str, list[str]] = {}  # Tags attribute -> tags; the same sets recur
        label = _("%(file)s row %(row)d")
        parts = _row_label_parts(POSTS)
        exact, (before, after) = parts is not None, parts or ("", "")
        for start, rows in self._batches(POSTS):
            questions = answered = others = 0  # added to counts once per batch
            # Answers in id order that fit the index's 32-bit columns are appended here
            # directly (what ``_AnswerIndex.add`` would do); any other goes through ``add``.
            append_answer = answers.answers.append
            append_question = answers.questions.append
            last_answer = answers.answers[-1] if answers.answers else -INT32 - 1
            small = answers.answers.typecode == "i"
            try:
                for number, attrib in enumerate(rows, start + 1):
                    location = (
                        f"{before}{number}{after}"
                        if exact
                        else label % {"file": POSTS, "row": number}
                    )
                    try:
                        id_text = attrib["Id"]
                        if (
                            id_text.isascii()
                            and id_text.isdigit()
                            and id_text[0] != "0"
                            and len(id_text) < _DIGITS
                        ):
                            source_id = "post:" + id_text
                        else:
                            source_id = f"post:{int(id_text)}"
                        value = attrib["PostTypeId"]
                        known = POST_TYPES_BY_TEXT.get(value)
                        if known is None:
                            post_type = int(value)
                            type_name, content_type = POST_TYPES.get(post_type) or (
                                f"type_{post_type}",
                                "post",
                            )
                        else:
                            post_type, type_name, content_type = known
                        occurred = _fromisoformat(attrib["CreationDate"] + _UTC_SUFFIX)
                        if occurred.tzinfo is not _UTC:
                            raise ValueError
                        # The author, as ``_account`` finds it.
                        actor_name = attrib.get("OwnerDisplayName") or ""
                        if "&" in actor_name:
                            actor_name = actor_name.replace(_AMP, "&")
                        owner = attrib.get("OwnerUserId")
                        if owner:
                            actor = ids.get(owner) or self._actor_id(owner)
                        else:
                            actor = f"name:{actor_name}"[:255] if actor_name else None
                        value = attrib["Score"]
                        score = SMALL_INTS.get(value)
                        if score is None and value:
                            score = int(value)
                        attributes: dict[str, Any] = (
                            {"post_type": type_name}
                            if score is None
                            else {"post_type": type_name, "score": score}
                        )
                        if attrib.get("CommunityOwnedDate"):
                            attributes["community_wiki"] = True
                        if post_type == ANSWER:
                            post_id = int(id_text)
                            question = int(attrib["ParentId"])
                            kind = REPLY
                            parent = thread = f"post:{question}"
                            if (
                                small
                                and last_answer < post_id < INT32
                                and -INT32 <= question < INT32
                            ):
                                append_answer(post_id)
                                append_question(question)
                                last_answer = post_id
                            else:
                                answers.add(post_id, question)
                                append_answer = answers.answers.append
                                append_question = answers.questions.append
                                last_answer = answers.answers[-1]
                                small = answers.answers.typecode == "i"
                            answered += 1
                        elif post_type == QUESTION:
                            kind = MESSAGE
                            parent = None
                            thread = source_id
                            value = attrib.get("Title")
                            if value:
                                if "&" in value:
                                    value = value.replace(_AMP, "&")
                                attributes["title"] = value
                            value = attrib.get("Tags")
                            if value:
                                tags = tag_lists.get(value)
                                if tags is None:
                                    decoded = value.replace(_AMP, "&") if "&" in value else value
                                    tags = parse_tags(decoded)
                                    if len(tag_lists) >= CACHE_LIMIT:
                                        tag_lists.clear()
                                    tag_lists[value] = tags
                                if tags:
                                    attributes["tags"] = tags.copy()
                            value = attrib.get("AcceptedAnswerId")
                            if value:
                                attributes["accepted_answer"] = int(value)
                            value = attrib.get("ViewCount")
                            if value:
                                views = SMALL_INTS.get(value)
                                attributes["views"] = int(value) if views is None else views
                            if attrib.get("ClosedDate"):
                                attributes["closed"] = True
                            questions += 1
                        else:
                            kind = MESSAGE
                            parent = None
                            thread = source_id
                            value = attrib.get("Title")
                            if value:
                                if "&" in value:
                                    value = value.replace(_AMP, "&")
                                attributes["title"] = value
                            others += 1
                    except ROW_SLOW_PATH:
                        yield self._post_row(self._row(POSTS, number, attrib, location))
                        append_answer = answers.answers.append
                        append_question = answers.questions.append
                        last_answer = answers.answers[-1] if answers.answers else -INT32 - 1
                        small = answers.answers.typecode == "i"
                        continue
                    body = attrib.get("Body") or ""
                    if "&" in body:
                        body = body.replace(_AMP, "&")
                    record = _new_event(EventRecord)
                    _init_event(
                        record,
                        channel,
                        source_id,
                        kind,
                        occurred,
                        actor,
                        None,
                        body,
                        len(body),
                        parent,
                        thread,
                        content_type,
                        attributes,
                        actor_name,
                        location,
                    )
                    yield record
            finally:
                if questions or answered or others:
                    counts["posts"] += questions + answered + others
                if questions:
                    counts["questions"] += questions
                if answered:
                    counts["answers"] += answered
                if others:
                    counts["other_posts"] += others
        answers.finish()

    def _post_row(self, row: _Row) -> EventRecord:
        """One post, or the error that names what is wrong with the row."""
        post_id = row.id()
        post_type = row.int("PostTypeId", required=True)
        occurred = row.date("CreationDate")
        actor, actor_name = _account(row, "OwnerUserId", "OwnerDisplayName")
        type_name, content_type = POST_TYPES.get(post_type, (f"type_{post_type}", "post"))
        attributes: dict[str, Any] = {"post_type": type_name}
        score = row.int("Score")
        if score is not None:
            attributes["score"] = score
        if row.attrib.get("CommunityOwnedDate"):
            attributes["community_wiki"] = True
        body = row.attrib.get("Body") or ""
        source_id = f"post:{post_id}"
        parent = None
        thread = source_id
        kind = EventKind.MESSAGE
        if post_type == QUESTION:
            title = row.text("Title")
            if title:
                attributes["title"] = title
            tags = parse_tags(row.text("Tags"))
            if tags:
                attributes["tags"] = tags
            accepted = row.int("AcceptedAnswerId")
            if accepted is not None:
                attributes["accepted_answer"] = accepted
            views = row.int("ViewCount")
            if views is not None:
                attributes["views"] = views
            if row.attrib.get("ClosedDate"):
                attributes["closed"] = True
            self.counts["questions"] += 1
        elif post_type == ANSWER:
            question = row.int("ParentId", required=True)
            self.answers.add(int(post_id), question)
            kind = EventKind.REPLY
            parent = thread = f"post:{question}"
            self.counts["answers"] += 1
        else:
            title = row.text("Title")
            if title:
                attributes["title"] = title
            self.counts["other_posts"] += 1
        self.counts["posts"] += 1
        return EventRecord(
            channel=self.channel_key,
            source_id=source_id,
            kind=kind,
            occurred_at=occurred,
            actor=actor,
            text=body,
            text_length=len(body),
            parent=parent,
            thread=thread,
            content_type=content_type,
            attributes=attributes,
            actor_name=actor_name,
            location=row.location,
        )

    # --------------------------------------------------------------- comments
    def _comments(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        counts = self.counts
        ids = self._ids
        # The answer index, read inline as ``_AnswerIndex.question_of`` does; it is complete
        # and sorted (or indexed by post, then ``dense`` is its size) now that Posts.xml has
        # been read.
        by_post = self.answers.by_post
        dense = -1 if by_post is None else len(by_post)
        answer_ids = self.answers.answers
        question_ids = self.answers.questions
        indexed = len(answer_ids)
        label = _("%(file)s row %(row)d")
        parts = _row_label_parts(COMMENTS)
        exact, (before, after) = parts is not None, parts or ("", "")
        for start, rows in self._batches(COMMENTS):
            read = 0  # added to counts once per batch
            try:
                for number, attrib in enumerate(rows, start + 1):
                    location = (
                        f"{before}{number}{after}"
                        if exact
                        else label % {"file": COMMENTS, "row": number}
                    )
                    try:
                        id_text = attrib["Id"]
                        if (
                            id_text.isascii()
                            and id_text.isdigit()
                            and id_text[0] != "0"
                            and len(id_text) < _DIGITS
                        ):
                            source_id = "comment:" + id_text
                        else:
                            source_id = f"comment:{int(id_text)}"
                        post_id = int(attrib["PostId"])
                        occurred = _fromisoformat(attrib["CreationDate"] + _UTC_SUFFIX)
                        if occurred.tzinfo is not _UTC:
                            raise ValueError
                        # The author, as ``_account`` finds it.
                        actor_name = attrib.get("UserDisplayName") or ""
                        if "&" in actor_name:
                            actor_name = actor_name.replace(_AMP, "&")
                        user = attrib.get("UserId")
                        if user:
                            actor = ids.get(user) or self._actor_id(user)
                        else:
                            actor = f"name:{actor_name}"[:255] if actor_name else None
                        value = attrib["Score"]
                        score = SMALL_INTS.get(value)
                        if score is None and value:
                            score = int(value)
                        attributes: dict[str, Any] = (
                            {"post_type": "comment"}
                            if score is None
                            else {"post_type": "comment", "score": score}
                        )
                    except ROW_SLOW_PATH:
                        yield self._comment_row(self._row(COMMENTS, number, attrib, location))
                        continue
                    parent = f"post:{post_id}"
                    if 0 <= post_id < dense:
                        question = by_post[post_id]
                        thread = f"post:{question}" if question else parent
                    elif dense >= 0:
                        thread = parent
                    else:
                        i = bisect_left(answer_ids, post_id)
                        if i < indexed and answer_ids[i] == post_id:
                            thread = f"post:{question_ids[i]}"
                        else:
                            thread = parent
                    text = attrib.get("Text") or ""
                    if "&" in text:
                        text = text.replace(_AMP, "&")
                    read += 1
                    record = _new_event(EventRecord)
                    _init_event(
                        record,
                        channel,
                        source_id,
                        REPLY,
                        occurred,
                        actor,
                        None,
                        text,
                        len(text),
                        parent,
                        thread,
                        "comment",
                        attributes,
                        actor_name,
                        location,
                    )
                    yield record
            finally:
                if read:
                    counts["comments"] += read

    def _comment_row(self, row: _Row) -> EventRecord:
        """One comment, or the error that names what is wrong with the row."""
        comment_id = row.id()
        post_id = row.int("PostId", required=True)
        occurred = row.date("CreationDate")
        actor, actor_name = _account(row, "UserId", "UserDisplayName")
        attributes: dict[str, Any] = {"post_type": "comment"}
        score = row.int("Score")
        if score is not None:
            attributes["score"] = score
        text = row.attrib.get("Text") or ""
        self.counts["comments"] += 1
        return EventRecord(
            channel=self.channel_key,
            source_id=f"comment:{comment_id}",
            kind=EventKind.REPLY,
            occurred_at=occurred,
            actor=actor,
            text=text,
            text_length=len(text),
            parent=f"post:{post_id}",
            thread=f"post:{self.answers.question_of(post_id)}",
            content_type="comment",
            attributes=attributes,
            actor_name=actor_name,
            location=row.location,
        )

    # ------------------------------------------------------------------ votes
    def _votes(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        counts = self.counts
        ids = self._ids
        dates: dict[str, dt.datetime] = {}  # votes are dated to the day: few distinct values
        label = _("%(file)s row %(row)d")
        parts = _row_label_parts(VOTES)
        exact, (before, after) = parts is not None, parts or ("", "")
        for start, rows in self._batches(VOTES):
            read = 0  # added to counts once per batch
            try:
                for number, attrib in enumerate(rows, start + 1):
                    location = (
                        f"{before}{number}{after}"
                        if exact
                        else label % {"file": VOTES, "row": number}
                    )
                    try:
                        id_text = attrib["Id"]
                        if (
                            id_text.isascii()
                            and id_text.isdigit()
                            and id_text[0] != "0"
                            and len(id_text) < _DIGITS
                        ):
                            source_id = "vote:" + id_text
                        else:
                            source_id = f"vote:{int(id_text)}"
                        value = attrib["VoteTypeId"]
                        known = VOTE_KINDS_BY_TEXT.get(value)
                        if known is None:
                            vote_type = int(value)
                            known = VOTE_KINDS.get(vote_type) or (MODERATION, f"type_{vote_type}")
                        value = attrib.get("PostId")
                        if not value:
                            parent = None
                        elif (
                            value.isascii()
                            and value.isdigit()
                            and value[0] != "0"
                            and len(value) < _DIGITS
                        ):
                            parent = "post:" + value
                        else:
                            parent = f"post:{int(value)}"
                        value = attrib["CreationDate"]
                        occurred = dates.get(value)
                        if occurred is None:
                            occurred = _fromisoformat(value + _UTC_SUFFIX)
                            if occurred.tzinfo is not _UTC:
                                raise ValueError
                            if len(dates) >= CACHE_LIMIT:
                                dates.clear()
                            dates[value] = occurred
                        value = attrib.get("UserId")
                        actor = (ids.get(value) or self._actor_id(value)) if value else None
                        value = attrib.get("BountyAmount")
                        bounty = int(value) if value else None
                    except ROW_SLOW_PATH:
                        yield self._vote_row(self._row(VOTES, number, attrib, location))
                        continue
                    kind, vote = known
                    read += 1
                    record = _new_event(EventRecord)
                    _init_event(
                        record,
                        channel,
                        source_id,
                        kind,
                        occurred,
                        actor,
                        None,
                        None,
                        None,
                        parent,
                        None,
                        "vote",
                        {"vote": vote} if bounty is None else {"vote": vote, "bounty": bounty},
                        "",
                        location,
                    )
                    yield record
            finally:
                if read:
                    counts["votes"] += read

    def _vote_row(self, row: _Row) -> EventRecord:
        """One vote, or the error that names what is wrong with the row."""
        vote_id = row.id()
        vote_type = row.int("VoteTypeId", required=True)
        post_id = row.int("PostId")
        occurred = row.date("CreationDate")
        actor = row.id("UserId") if row.attrib.get("UserId") else None
        if vote_type in REACTION_VOTES:
            kind = EventKind.REACTION
            name = REACTION_VOTES[vote_type]
        else:
            kind = EventKind.MODERATION
            name = MODERATION_VOTES.get(vote_type, f"type_{vote_type}")
        attributes: dict[str, Any] = {"vote": name}
        bounty = row.int("BountyAmount")
        if bounty is not None:
            attributes["bounty"] = bounty
        self.counts["votes"] += 1
        return EventRecord(
            channel=self.channel_key,
            source_id=f"vote:{vote_id}",
            kind=kind,
            occurred_at=occurred,
            actor=actor,
            parent=f"post:{post_id}" if post_id is not None else None,
            content_type="vote",
            attributes=attributes,
            location=row.location,
        )

    # ----------------------------------------------------------------- badges
    def _badges(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        counts = self.counts
        ids = self._ids
        label = _("%(file)s row %(row)d")
        parts = _row_label_parts(BADGES)
        exact, (before, after) = parts is not None, parts or ("", "")
        for start, rows in self._batches(BADGES):
            read = 0  # added to counts once per batch
            try:
                for number, attrib in enumerate(rows, start + 1):
                    location = (
                        f"{before}{number}{after}"
                        if exact
                        else label % {"file": BADGES, "row": number}
                    )
                    try:
                        id_text = attrib["Id"]
                        if (
                            id_text.isascii()
                            and id_text.isdigit()
                            and id_text[0] != "0"
                            and len(id_text) < _DIGITS
                        ):
                            source_id = "badge:" + id_text
                        else:
                            source_id = f"badge:{int(id_text)}"
                        value = attrib["UserId"]
                        user_id = ids.get(value) or self._actor_id(value)
                        occurred = _fromisoformat(attrib["Date"] + _UTC_SUFFIX)
                        if occurred.tzinfo is not _UTC:
                            raise ValueError
                        value = attrib.get("Name") or ""
                        if "&" in value:
                            value = value.replace(_AMP, "&")
                        attributes: dict[str, Any] = {"badge": value}
                        value = attrib.get("Class")
                        if value:
                            known_class = SMALL_INTS.get(value)
                            attributes["class"] = int(value) if known_class is None else known_class
                        attributes["tag_based"] = FLAGS[attrib.get("TagBased")]
                    except ROW_SLOW_PATH:
                        yield self._badge_row(self._row(BADGES, number, attrib, location))
                        continue
                    read += 1
                    record = _new_event(EventRecord)
                    _init_event(
                        record,
                        channel,
                        source_id,
                        BADGE,
                        occurred,
                        user_id,
                        None,
                        None,
                        None,
                        None,
                        None,
                        "badge",
                        attributes,
                        "",
                        location,
                    )
                    yield record
            finally:
                if read:
                    counts["badges"] += read

    def _badge_row(self, row: _Row) -> EventRecord:
        """One badge, or the error that names what is wrong with the row."""
        badge_id = row.id()
        user_id = row.id("UserId")
        occurred = row.date("Date")
        attributes: dict[str, Any] = {"badge": row.text("Name") or ""}
        badge_class = row.int("Class")
        if badge_class is not None:
            attributes["class"] = badge_class
        attributes["tag_based"] = row.flag("TagBased")
        self.counts["badges"] += 1
        return EventRecord(
            channel=self.channel_key,
            source_id=f"badge:{badge_id}",
            kind=EventKind.BADGE,
            occurred_at=occurred,
            actor=user_id,
            content_type="badge",
            attributes=attributes,
            location=row.location,
        )
