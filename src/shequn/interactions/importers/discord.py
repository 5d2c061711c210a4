"""DiscordChatExporter JSON exports: one channel per file, or a folder of them.

DiscordChatExporter (github.com/Tyrrrz/DiscordChatExporter, "DCE") writes one JSON document per
channel: ``guild``, ``channel``, ``dateRange`` and ``exportedAt`` first, then ``messages``, then
``messageCount``. Each Discord channel (or thread) becomes a shequn channel keyed by its id, so
re-exports of overlapping date ranges dedupe on the message ids. Messages are streamed with
ijson; only a dict of the accounts seen in the current file is kept.

Field names follow DCE's ``JsonMessageWriter.cs``. Older DCE versions leave out ``nickname``,
``roles``, ``mentions``, ``reference`` and reaction ``users``; all of these are optional here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

import ijson
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
        done = 0
        reader = self.open_counted(path)
        with reader:
            try:
                for message in ijson.items(reader, "messages.item", use_float=True):
                    where = label % {"index": done}
                    if not isinstance(message, dict):
                        raise ImportFormatError(path, where, _("expected a JSON object"))
                    yield from self._message(message, target, where)
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
    def _message(self, obj: dict[str, Any], ch: _Channel, where: str) -> Iterator[Record]:
        message_id = self._id(obj, "id", ch.path, where)
        msg_type = self._text(obj, "type", ch.path, where, required=True)
        occurred = self._time(obj, "timestamp", ch.path, where)
        author = obj.get("author")
        if not isinstance(author, dict):
            raise ImportFormatError(
                ch.path, where, _("missing the '%(field)s' object") % {"field": "author"}
            )
        actor = yield from self._user(author, ch, where, prefix="author.", complete=True)
        content = obj.get("content")
        if content is not None and not isinstance(content, str):
            raise ImportFormatError(
                ch.path,
                where,
                _("field '%(field)s' must be a string or null") % {"field": "content"},
            )
        source_id = f"msg:{message_id}"
        kind = KIND_BY_TYPE.get(msg_type, EventKind.SYSTEM)
        reactions = self._reactions(obj, ch, where)
        attributes = self._attributes(obj, msg_type, kind, ch, reactions)
        self.counts["messages"] += 1
        base = {
            "channel": ch.key,
            "occurred_at": occurred,
            "thread": ch.thread,
            "location": where,
        }
        mentions = self._list(obj, "mentions", ch.path, where)
        if kind in (EventKind.JOIN, EventKind.LEAVE):
            yield from self._membership(
                msg_type, kind, source_id, actor, mentions, content, attributes, ch, base
            )
        else:
            parent = None
            if kind == EventKind.REPLY:
                reference = obj.get("reference")
                referenced = reference.get("messageId") if isinstance(reference, dict) else None
                parent = f"msg:{referenced}" if referenced else None
                self.counts["replies"] += 1
            elif kind == EventKind.SYSTEM:
                self.counts["system_messages"] += 1
            yield EventRecord(
                source_id=source_id,
                kind=kind,
                actor=actor,
                text=content,
                parent=parent,
                content_type=self._content_type(obj, content, kind, attributes),
                attributes=attributes or None,
                actor_name=self._display_name(author),
                **base,
            )
            if kind != EventKind.SYSTEM:
                yield from self._mentions(mentions, msg_type, content, actor, source_id, ch, base)
        yield from self._reaction_events(reactions, source_id, ch, base)

    def _attributes(
        self,
        obj: dict[str, Any],
        msg_type: str,
        kind: str,
        ch: _Channel,
        reactions: list[tuple[str, str, int, list[dict[str, Any]] | None]],
    ) -> dict[str, Any]:
        """What is worth keeping beyond the event itself, only when present (rows are many)."""
        attributes: dict[str, Any] = {}
        if msg_type not in ("Default", "Reply"):
            attributes["type"] = msg_type
        if obj.get("isPinned") is True:
            attributes["pinned"] = True
        if obj.get("timestampEdited"):
            attributes["edited"] = True
        for field in ("attachments", "embeds", "stickers"):
            items = obj.get(field)
            if isinstance(items, list) and items:
                attributes[field] = len(items)
        if reactions:
            totals: dict[str, int] = {}
            for _key, emoji, count, _users in reactions:
                totals[emoji] = totals.get(emoji, 0) + count
            attributes["reactions"] = totals
        reference = obj.get("reference")
        if kind != EventKind.REPLY and isinstance(reference, dict):
            if reference.get("type") == "Forward":
                attributes["forwarded"] = True
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
        if ch.parent_id:
            attributes["parent_channel_id"] = ch.parent_id
        return attributes

    @staticmethod
    def _content_type(
        obj: dict[str, Any], content: str | None, kind: str, attributes: dict[str, Any]
    ) -> str:
        if kind == EventKind.SYSTEM:
            return "system"
        attachments = obj.get("attachments")
        if isinstance(attachments, list) and attachments:
            return _attachment_type(attachments)
        if attributes.get("forwarded"):
            return "forward"
        if attributes.get("stickers") and not content:
            return "sticker"
        if attributes.get("embeds") or (content and URL.search(content)):
            return "link"
        return "text"

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

    def _mentions(
        self,
        mentions: list[Any],
        msg_type: str,
        content: str | None,
        actor: str,
        source_id: str,
        ch: _Channel,
        base: dict[str, Any],
    ) -> Iterator[Record]:
        done: set[str] = set()
        for index, mention in enumerate(mentions):
            where, prefix = base["location"], f"mentions[{index}]."
            target = yield from self._user(mention, ch, where, prefix=prefix)
            if target == actor or target in done:
                continue
            # A reply pings the replied-to author by default and Discord lists them among the
            # mentions; the reply already points at them, so only mentions written out count.
            if msg_type == "Reply" and not self._written_out(mention, content):
                continue
            done.add(target)
            self.counts["mentions"] += 1
            yield EventRecord(
                source_id=f"{source_id}#mention:{target}",
                kind=EventKind.MENTION,
                actor=actor,
                target=target,
                parent=source_id,
                **base,
            )

    @staticmethod
    def _written_out(user: dict[str, Any], content: str | None) -> bool:
        """DCE renders a mention as ``@display name`` (or ``<@id>`` without markdown rendering)."""
        if not content:
            return False
        user_id = user.get("id")
        if f"<@{user_id}>" in content or f"<@!{user_id}>" in content:
            return True
        names = (user.get("nickname"), user.get("name"))
        return any(isinstance(name, str) and name and f"@{name}" in content for name in names)

    def _reactions(
        self, obj: dict[str, Any], ch: _Channel, where: str
    ) -> list[tuple[str, str, int, list[dict[str, Any]] | None]]:
        """(emoji key, emoji name, count, users or None) for each reaction, checked."""
        parsed = []
        for index, reaction in enumerate(self._list(obj, "reactions", ch.path, where)):
            field = f"reactions[{index}]"
            emoji = reaction.get("emoji") if isinstance(reaction, dict) else None
            if not isinstance(emoji, dict):
                raise ImportFormatError(
                    ch.path,
                    where,
                    _("missing the '%(field)s' object") % {"field": f"{field}.emoji"},
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
                    % {"field": field},
                )
            users = reaction.get("users")
            if users is not None and not isinstance(users, list):
                raise ImportFormatError(
                    ch.path,
                    where,
                    _("field '%(field)s' must be a list") % {"field": f"{field}.users"},
                )
            self.counts["reactions"] += count
            parsed.append((key, name if isinstance(name, str) and name else key, count, users))
        return parsed

    def _reaction_events(
        self,
        reactions: list[tuple[str, str, int, list[dict[str, Any]] | None]],
        source_id: str,
        ch: _Channel,
        base: dict[str, Any],
    ) -> Iterator[Record]:
        """One reaction event per reacting user; Discord keeps no reaction times: the message's."""
        for index, (key, emoji, _count, users) in enumerate(reactions):
            for position, user in enumerate(users or ()):
                prefix = f"reactions[{index}].users[{position}]."
                reactor = yield from self._user(user, ch, base["location"], prefix=prefix)
                self.counts["reaction_users"] += 1
                yield EventRecord(
                    source_id=f"{source_id}#reaction:{key}:{reactor}",
                    kind=EventKind.REACTION,
                    actor=reactor,
                    parent=source_id,
                    content_type="reaction",
                    attributes={"emoji": emoji},
                    **base,
                )

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
