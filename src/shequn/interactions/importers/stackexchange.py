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

Memory: every file is streamed with ``lxml.etree.iterparse`` and each row is cleared (and detached
from the root) as soon as it has been read, so a multi-gigabyte ``Posts.xml`` needs no more memory
than one row. The one structure that grows with the dump is the answer → question index used to
put comments on answers into their question's thread: two flat ``array`` columns holding only the
answers (8 bytes per answer while ids fit in 32 bits, e.g. ~280 MB for all of Stack Overflow's 35
million answers, against ~100 bytes per entry for a dict). A comment on a post that is not a known
answer (a question, a tag wiki, a deleted post) is put in that post's own thread.
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from functools import cached_property
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
    order they are sorted once after ``Posts.xml`` has been read.
    """

    def __init__(self) -> None:
        self.answers = array("i")
        self.questions = array("i")
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
        if self._sorted:
            return
        pairs = sorted(zip(self.answers, self.questions, strict=True))
        self.answers = array(self.answers.typecode, (a for a, _ in pairs))
        self.questions = array(self.questions.typecode, (q for _, q in pairs))
        self._sorted = True

    def question_of(self, post: int) -> int:
        """The question an answer belongs to; any other post is its own thread."""
        i = bisect_left(self.answers, post)
        if i < len(self.answers) and self.answers[i] == post:
            return self.questions[i]
        return post

    def __len__(self) -> int:
        return len(self.answers)


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
        yield ChannelRecord(
            key=self.channel_key, platform=Platform.STACKEXCHANGE, name=self.channel_name
        )
        yield from self._users()
        yield from self._posts()
        if COMMENTS in self.files:
            yield from self._comments()
        if VOTES in self.files:
            yield from self._votes()
        if BADGES in self.files:
            yield from self._badges()

    def _rows(self, name: str) -> Iterator[_Row]:
        """Stream one file's ``<row>`` elements, freeing each as soon as the next is asked for."""
        path = self.files[name]
        root_tag = name.removesuffix(".xml").lower()
        number = 0
        row_label = _("%(file)s row %(row)d")
        reader = self.open_counted(path)
        with reader:
            context = etree.iterparse(
                reader,
                events=("end",),
                tag="row",
                resolve_entities=False,
                load_dtd=False,
                no_network=True,
                remove_comments=True,
                remove_pis=True,
            )
            try:
                for _event, elem in context:
                    number += 1
                    parent = elem.getparent()
                    if number == 1 and (parent is None or parent.tag != root_tag):
                        found = _("no root element") if parent is None else f"<{parent.tag}>"
                        raise ImportFormatError(
                            path,
                            row_label % {"file": name, "row": 1},
                            _("expected rows inside %(root)s, found %(found)s: is this %(file)s?")
                            % {"root": f"<{root_tag}>", "found": found, "file": name},
                        )
                    location = row_label % {"file": name, "row": number}
                    yield _Row(path, name, number, elem.attrib, location)
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

    def _users(self) -> Iterator[Record]:
        channel = self.channel_key
        for row in self._rows(USERS):
            user_id = row.id()
            joined = row.date("CreationDate")
            name = row.text("DisplayName") or ""
            profile: dict[str, Any] = {}
            for key, field in (
                ("reputation", "Reputation"),
                ("account_id", "AccountId"),
                ("up_votes", "UpVotes"),
                ("down_votes", "DownVotes"),
                ("views", "Views"),
            ):
                value = row.int(field)
                if value is not None:
                    profile[key] = value
            for key, field in (("location", "Location"), ("website", "WebsiteUrl")):
                text = row.text(field)
                if text:
                    profile[key] = text[:500]
            last_access = row.date("LastAccessDate", required=False)
            if last_access is not None:
                profile["last_access"] = last_access.isoformat()
            self.counts["users"] += 1
            yield MemberRecord(
                channel=channel,
                platform_user_id=user_id,
                display_name=name,
                handle=name,
                is_bot=user_id == COMMUNITY_USER_ID,
                joined_at=joined,
                profile=profile,
                location=row.location,
            )
            yield EventRecord(
                channel=channel,
                source_id=f"user:{user_id}:join",
                kind=EventKind.JOIN,
                occurred_at=joined,
                actor=user_id,
                actor_name=name,
                location=row.location,
            )

    def _posts(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        answers = self.answers
        for row in self._rows(POSTS):
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
                answers.add(int(post_id), question)
                kind = EventKind.REPLY
                parent = thread = f"post:{question}"
                self.counts["answers"] += 1
            else:
                title = row.text("Title")
                if title:
                    attributes["title"] = title
                self.counts["other_posts"] += 1
            self.counts["posts"] += 1
            yield EventRecord(
                channel=channel,
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
        answers.finish()

    def _comments(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        question_of = self.answers.question_of
        for row in self._rows(COMMENTS):
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
            yield EventRecord(
                channel=channel,
                source_id=f"comment:{comment_id}",
                kind=EventKind.REPLY,
                occurred_at=occurred,
                actor=actor,
                text=text,
                text_length=len(text),
                parent=f"post:{post_id}",
                thread=f"post:{question_of(post_id)}",
                content_type="comment",
                attributes=attributes,
                actor_name=actor_name,
                location=row.location,
            )

    def _votes(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        for row in self._rows(VOTES):
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
            yield EventRecord(
                channel=channel,
                source_id=f"vote:{vote_id}",
                kind=kind,
                occurred_at=occurred,
                actor=actor,
                parent=f"post:{post_id}" if post_id is not None else None,
                content_type="vote",
                attributes=attributes,
                location=row.location,
            )

    def _badges(self) -> Iterator[EventRecord]:
        channel = self.channel_key
        for row in self._rows(BADGES):
            badge_id = row.id()
            user_id = row.id("UserId")
            occurred = row.date("Date")
            attributes: dict[str, Any] = {"badge": row.text("Name") or ""}
            badge_class = row.int("Class")
            if badge_class is not None:
                attributes["class"] = badge_class
            attributes["tag_based"] = row.flag("TagBased")
            self.counts["badges"] += 1
            yield EventRecord(
                channel=channel,
                source_id=f"badge:{badge_id}",
                kind=EventKind.BADGE,
                occurred_at=occurred,
                actor=user_id,
                content_type="badge",
                attributes=attributes,
                location=row.location,
            )
