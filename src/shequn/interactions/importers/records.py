"""The normalised records every source format is turned into.

A format parser yields these; the pipeline alone touches the database. Each record carries a
``location`` ("line 17", "Posts.xml row 4") so an error can name the record it came from.
Locations and problems are shown to people, so parsers build them with ``gettext`` in the
active language (the CLI activates the user's); the file path itself is never translated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any


class ImportFormatError(ValueError):
    """Malformed input. Names the file, the record and the problem; nothing was written.

    ``location`` and ``problem`` arrive already translated.
    """

    def __init__(self, path: Path | str, location: str, problem: str) -> None:
        self.path = str(path)
        self.location = location
        self.problem = problem
        super().__init__(
            f"{self.path}: {location}: {problem}" if location else f"{self.path}: {problem}"
        )


@dataclass(slots=True)
class ChannelRecord:
    """Announces a channel; later records refer to it by ``key``."""

    key: str
    platform: str
    name: str = ""


@dataclass(slots=True)
class MemberRecord:
    channel: str
    platform_user_id: str
    display_name: str = ""
    handle: str = ""
    role: str | None = None
    is_bot: bool = False
    joined_at: datetime | None = None
    left_at: datetime | None = None
    profile: dict[str, Any] | None = None
    location: str = ""


@dataclass(slots=True)
class EventRecord:
    """One interaction. ``actor``/``target`` are platform user ids on ``channel``.

    When ``target`` is None and ``parent`` is set, a reply or reaction is aimed at the parent's
    author: at once when the pipeline remembers the parent, otherwise in the database once the
    whole source is in, so a parent may come before or after its replies, from an earlier
    import, or from a later one.
    """

    channel: str
    source_id: str
    kind: str
    occurred_at: datetime
    actor: str | None
    target: str | None = None
    text: str | None = None
    text_length: int | None = None
    parent: str | None = None
    thread: str | None = None
    content_type: str = ""
    attributes: dict[str, Any] | None = None
    actor_name: str = ""
    location: str = ""


Record = ChannelRecord | MemberRecord | EventRecord

# EventRecord's fields in declaration order. Hot parser loops build records positionally (far
# cheaper than keywords) in this order; it is checked here, once, so no parser has to.
EVENT_FIELDS = (
    "channel",
    "source_id",
    "kind",
    "occurred_at",
    "actor",
    "target",
    "text",
    "text_length",
    "parent",
    "thread",
    "content_type",
    "attributes",
    "actor_name",
    "location",
)
if tuple(f.name for f in fields(EventRecord)) != EVENT_FIELDS:  # pragma: no cover
    raise TypeError("EventRecord's fields changed: update EVENT_FIELDS and the parsers' hot loops")
