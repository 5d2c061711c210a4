"""shequn's generic CSV layout: one interaction per row, for any platform without its own importer.

The layout is documented in ``docs/formats/csv.md``. In short: UTF-8 (a BOM is fine), a header
row, comma-separated, column names case-insensitive; ``member_id`` and ``time`` are required,
``message_id``, ``member_name``, ``kind``, ``text``, ``reply_to``, ``target_member_id``,
``channel`` and ``role`` are optional. Unknown columns are rejected, because a misspelt column
would otherwise silently drop its data.

The file is read as a stream (memory grows with the number of members and channels, never with
the number of rows) and every error names the physical line where the offending record starts.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.communities.models import Channel, Platform
from shequn.interactions.importers.base import Source
from shequn.interactions.importers.records import (
    ChannelRecord,
    EventRecord,
    ImportFormatError,
    MemberRecord,
    Record,
)
from shequn.interactions.models import EventKind, InteractionEvent
from shequn.members.models import ROLE_RANK, Identity, Role

# The layout, in the order the row getter returns the values.
COLUMNS = (
    "message_id",
    "member_id",
    "member_name",
    "time",
    "kind",
    "text",
    "reply_to",
    "target_member_id",
    "channel",
    "role",
)
REQUIRED = ("member_id", "time")
KIND_NAMES = ("message", "reply", "mention", "reaction", "join", "leave", "mute")
assert set(KIND_NAMES) <= set(EventKind.values)
KINDS = {name: name for name in KIND_NAMES}
MESSAGE, REPLY = EventKind.MESSAGE.value, EventKind.REPLY.value
ROLES = {
    "founder": Role.FOUNDER.value,
    "主导者": Role.FOUNDER.value,
    "operator": Role.OPERATOR.value,
    "运营者": Role.OPERATOR.value,
    "member": Role.MEMBER.value,
    "成员": Role.MEMBER.value,
}
# Seconds since 1970 for any date before year 5138; larger numbers are milliseconds.
MILLISECONDS_THRESHOLD = 100_000_000_000
NUMBER = re.compile(r"-?\d+(\.\d*)?")
MAX_ID = InteractionEvent._meta.get_field("source_id").max_length
MAX_PARENT = InteractionEvent._meta.get_field("parent_source_id").max_length
MAX_USER_ID = Identity._meta.get_field("platform_user_id").max_length
MAX_CHANNEL = Channel._meta.get_field("external_id").max_length
# Identical rows without a message_id are told apart by how often the same row was seen among
# the last this-many distinct rows; bounded so memory never grows with the file.
OCCURRENCE_WINDOW = 10_000
SNIFF_BYTES = 64 * 1024


def _header_names(header: list[str]) -> list[str]:
    return [name.strip().lower() for name in header]


def _utf8_hint() -> str:
    return _("save it as UTF-8 (in Excel: '%(excel)s'; or convert it, e.g. %(command)s)") % {
        "excel": "CSV UTF-8",
        "command": "iconv -f GBK -t UTF-8",
    }


def _time_formats() -> str:
    return _(
        "ISO 8601 with an offset (e.g. %(local)s or %(utc)s) or Unix seconds (e.g. %(unix)s)"
    ) % {
        "local": "2024-03-01T09:30:00+08:00",
        "utc": "2024-03-01T01:30:00Z",
        "unix": "1709256600",
    }


class CsvSource(Source):
    format_name = "csv"
    label = gettext_lazy("CSV (shequn generic layout)")

    def __init__(self, path: Path | str, *, channel: str | None = None) -> None:
        super().__init__(path, channel=channel)
        self._default_channel = channel or self.path.stem
        self._channels: set[str] = set()
        # (channel, member id) -> (name, role) last announced in a MemberRecord.
        self._members: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._actors: set[tuple[str, str]] = set()
        self._occurrences: dict[str, int] = {}

    # ------------------------------------------------------------- detection
    @classmethod
    def sniff(cls, path: Path) -> bool:
        if not path.is_file() or path.suffix.lower() != ".csv":
            return False
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        first_line = head.decode("utf-8-sig", errors="replace").splitlines()[:1]
        if not first_line:
            return False
        try:
            names = _header_names(next(csv.reader(first_line)))
        except (csv.Error, StopIteration):
            return False
        return all(column in names for column in REQUIRED)

    # --------------------------------------------------------------- reading
    def records(self) -> Iterator[Record]:
        if not self.path.is_file():
            raise ImportFormatError(self.path, "", _("expected a CSV file, found a folder"))
        raw = self.open_counted(self.path)
        with io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8-sig", newline="") as stream:
            rows = self._rows(csv.reader(stream, strict=True))
            first = next(rows, None)
            if first is None:
                raise ImportFormatError(
                    self.path,
                    _("line %(number)d") % {"number": 1},
                    _("the file is empty; the first line must be the header (e.g. %(example)s)")
                    % {"example": "member_id,time,text"},
                )
            header_line, header = first
            positions = self._columns(header_line, header)
            width = len(header)
            # Absent columns read the empty string appended to every row, at index ``width``.
            values = itemgetter(*(positions.get(column, width) for column in COLUMNS))
            yield from self._events(rows, width, values)

    def _events(
        self, rows: Iterator[tuple[int, list[str]]], width: int, values: itemgetter
    ) -> Iterator[Record]:
        path = self.path
        counts = self.counts
        channels = self._channels
        members = self._members
        actors = self._actors
        default_channel = self._default_channel
        line_label = _("line %(number)d")
        for line, row in rows:
            if len(row) != width:
                if not any(row):
                    continue  # a blank line
                raise ImportFormatError(
                    path,
                    line_label % {"number": line},
                    _(
                        "expected %(expected)d fields like the header, found %(found)d"
                        " (a field with a comma, quote or line break must be in double quotes)"
                    )
                    % {"expected": width, "found": len(row)},
                )
            row.append("")
            fields = values(row)
            message_id, member, name, when, kind, text, reply_to, target, channel, role = fields
            member = member.strip()
            if not member:
                if not any(row):
                    continue  # a row of empty fields, as spreadsheets write them
                raise ImportFormatError(
                    path,
                    line_label % {"number": line},
                    _("%(field)s is empty") % {"field": "member_id"},
                )
            occurred = self._time(when.strip(), line)

            kind = kind.strip()
            if kind:
                kind = KINDS.get(kind) or KINDS.get(kind.lower())
                if kind is None:
                    raise ImportFormatError(
                        path,
                        line_label % {"number": line},
                        _("unknown %(field)s %(value)s (one of: %(choices)s)")
                        % {
                            "field": "kind",
                            "value": repr(fields[4].strip()),
                            "choices": ", ".join(KIND_NAMES),
                        },
                    )
            else:
                kind = MESSAGE
            reply_to = reply_to.strip() or None
            if reply_to is not None and kind == MESSAGE:
                kind = REPLY
            target = target.strip() or None
            message_id = message_id.strip()
            channel = channel.strip() or default_channel
            name = name.strip()
            if (
                len(member) > MAX_USER_ID
                or len(message_id) > MAX_ID
                or len(channel) > MAX_CHANNEL
                or (target and len(target) > MAX_USER_ID)
                or (reply_to and len(reply_to) > MAX_PARENT)
            ):
                self._check_lengths(member, target, reply_to, message_id, channel, line)
            role = role.strip()
            if role:
                role = self._role(role, line)

            if channel not in channels:
                channels.add(channel)
                counts["channels"] += 1
                yield ChannelRecord(key=channel, platform=Platform.CSV, name=channel)
            key = (channel, member)
            if key not in actors:
                actors.add(key)
                counts["members"] += 1
            if name or role:
                known = members.get(key)
                if known is None or (name and name != known[0]) or (role and role != known[1]):
                    record = self._member(key, known, name, role, line)
                    if record is not None:
                        yield record
            if not message_id:
                message_id = self._synthetic_id(member, occurred, kind, text, reply_to, target)
            counts[kind] += 1
            yield EventRecord(
                channel=channel,
                source_id=message_id,
                kind=kind,
                occurred_at=occurred,
                actor=member,
                target=target,
                text=text or None,
                parent=reply_to,
                content_type="text" if text and kind in (MESSAGE, REPLY) else "",
                actor_name=name,
                location=line_label % {"number": line},
            )
            counts["rows"] += 1

    def _rows(self, reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
        """The rows with the physical line each starts on; decoding and quoting errors named."""
        start = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFormatError(
                    self.path,
                    _("line %(number)d") % {"number": start},
                    _("malformed CSV (%(error)s; is a double quote left open?)") % {"error": exc},
                ) from None
            except UnicodeDecodeError:
                raise self._encoding_error() from None
            yield start, row
            start = reader.line_num + 1  # type: ignore[attr-defined]

    def _encoding_error(self) -> ImportFormatError:
        """Find the first line that is not UTF-8 (a second pass, only when decoding failed)."""
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return ImportFormatError(
                        self.path,
                        _("line %(number)d") % {"number": number},
                        _(
                            "not valid UTF-8 (byte %(byte)s at byte %(position)d of the line);"
                            " %(hint)s"
                        )
                        % {
                            "byte": f"0x{line[exc.start]:02x}",
                            "position": exc.start + 1,
                            "hint": _utf8_hint(),
                        },
                    )
        return ImportFormatError(
            self.path, "", _("not valid UTF-8; %(hint)s") % {"hint": _utf8_hint()}
        )

    def _columns(self, line: int, header: list[str]) -> dict[str, int]:
        where = _("line %(number)d") % {"number": line}
        known = ", ".join(COLUMNS)
        names = _header_names(header)
        if not any(names):
            raise ImportFormatError(
                self.path,
                where,
                _("the first line must be the header row naming the columns (%(columns)s)")
                % {"columns": known},
            )
        for position, name in enumerate(names, start=1):
            if not name:
                raise ImportFormatError(
                    self.path,
                    where,
                    _("column %(position)d of the header has no name; name it or remove it")
                    % {"position": position},
                )
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ImportFormatError(
                self.path,
                where,
                _("column %(columns)s appears more than once in the header")
                % {"columns": ", ".join(duplicates)},
            )
        unknown = [name for name in names if name not in COLUMNS]
        if unknown:
            raise ImportFormatError(
                self.path,
                where,
                _("unknown column %(columns)s (known columns: %(known)s)")
                % {
                    "columns": ", ".join(repr(name) for name in unknown),
                    "known": known,
                },
            )
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise ImportFormatError(
                self.path,
                where,
                _("missing required column %(columns)s (the header has: %(header)s)")
                % {
                    "columns": ", ".join(missing),
                    "header": ", ".join(names),
                },
            )
        return {name: position for position, name in enumerate(names)}

    # ---------------------------------------------------------------- fields
    def _time(self, value: str, line: int) -> dt.datetime:
        if value.isdigit() or NUMBER.fullmatch(value):
            number = int(value) if value.isdigit() else float(value)
            seconds = number / 1000 if abs(number) > MILLISECONDS_THRESHOLD else number
            try:
                return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
            except (OverflowError, OSError, ValueError):
                raise ImportFormatError(
                    self.path,
                    _("line %(number)d") % {"number": line},
                    _("%(field)s %(value)s is out of range")
                    % {"field": "time", "value": repr(value)},
                ) from None
        if not value:
            raise ImportFormatError(
                self.path,
                _("line %(number)d") % {"number": line},
                _("%(field)s is empty") % {"field": "time"},
            )
        try:
            occurred = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ImportFormatError(
                self.path,
                _("line %(number)d") % {"number": line},
                # Translators: %(formats)s is the sentence "ISO 8601 with an offset ...".
                _("%(field)s %(value)s is not %(formats)s")
                % {"field": "time", "value": repr(value), "formats": _time_formats()},
            ) from None
        if occurred.tzinfo is None or occurred.utcoffset() is None:
            raise ImportFormatError(
                self.path,
                _("line %(number)d") % {"number": line},
                _(
                    "%(field)s %(value)s has no UTC offset, so the moment is ambiguous; add one"
                    " (e.g. %(example)s, or Z for UTC)"
                )
                % {
                    "field": "time",
                    "value": repr(value),
                    "example": f"{occurred.isoformat()}+08:00",
                },
            )
        return occurred

    def _role(self, value: str, line: int) -> str:
        role = ROLES.get(value.lower())
        if role is None:
            raise ImportFormatError(
                self.path,
                _("line %(number)d") % {"number": line},
                _("unknown %(field)s %(value)s (one of: %(choices)s)")
                % {
                    "field": "role",
                    "value": repr(value),
                    "choices": "founder, operator, member",
                },
            )
        return role

    def _check_lengths(
        self,
        member: str,
        target: str | None,
        reply_to: str | None,
        message_id: str,
        channel: str,
        line: int,
    ) -> None:
        for column, value, limit in (
            ("member_id", member, MAX_USER_ID),
            ("target_member_id", target, MAX_USER_ID),
            ("reply_to", reply_to, MAX_PARENT),
            ("message_id", message_id, MAX_ID),
            ("channel", channel, MAX_CHANNEL),
        ):
            if value is not None and len(value) > limit:
                raise ImportFormatError(
                    self.path,
                    _("line %(number)d") % {"number": line},
                    _("%(field)s is longer than %(limit)d characters")
                    % {"field": column, "limit": limit},
                )

    def _member(
        self,
        key: tuple[str, str],
        known: tuple[str, str | None] | None,
        name: str,
        role: str | None,
        line: int,
    ) -> MemberRecord | None:
        """A MemberRecord when this row tells something new about the member, else None.

        What was learnt before is carried forward (the pipeline keeps only the latest record of a
        member it has not stored yet), and a role only ever rises, as in the pipeline.
        """
        known_name, known_role = known or ("", None)
        new_name = name or known_name
        new_role = known_role
        if role and (known_role is None or ROLE_RANK[Role(role)] > ROLE_RANK[Role(known_role)]):
            new_role = role
        if known is not None and (new_name, new_role) == known:
            return None
        self._members[key] = (new_name, new_role)
        return MemberRecord(
            channel=key[0],
            platform_user_id=key[1],
            display_name=new_name,
            role=new_role,
            location=_("line %(number)d") % {"number": line},
        )

    def _synthetic_id(
        self,
        member: str,
        occurred: dt.datetime,
        kind: str,
        text: str,
        reply_to: str | None,
        target: str | None,
    ) -> str:
        """A stable id for a row without ``message_id``, so that re-imports still deduplicate.

        Identical rows are told apart by their order: the first is ``...:0``, the next ``...:1``.
        """
        instant = occurred.astimezone(dt.UTC).isoformat()
        fields = (member, instant, kind, text, reply_to or "", target or "")
        digest = hashlib.blake2b("\x1f".join(fields).encode(), digest_size=12).hexdigest()
        occurrences = self._occurrences
        seen = occurrences.get(digest, 0)
        occurrences[digest] = seen + 1
        if seen == 0 and len(occurrences) > OCCURRENCE_WINDOW:
            del occurrences[next(iter(occurrences))]
        return f"h:{digest}:{seen}"
