"""CSV in and out for activities: the registrations list, and attendance from an event platform.

Attendance files: UTF-8 (a BOM is fine), a header row, comma-separated; column names are
matched case-insensitively, spaces and dashes read as underscores. A person is found by
``member_key`` (the member key), else ``email`` (a member key that is that address, in any
case), else ``name`` (the display name, which must be unique); ``attended`` says yes or no
(yes/no, true/false, 1/0, x, 是/否; empty is no) and ``checked_in_at`` when (ISO 8601, a clock
time without offset read in the activity's time zone, or Unix seconds; empty: the start).
Without an ``attended`` column a ``checked_in_at`` value means they came. Other columns
(ticket type, phone, …) are ignored and listed in the result, so a misspelt column shows.
Every problem names the file, the line and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Registration
from shequn.activities.validation import zone_of
from shequn.interactions.importers.csv_files import decode_utf8, line_label, read_bytes
from shequn.interactions.importers.records import ImportFormatError
from shequn.members.models import Member

ALIASES = {
    "member_key": "member_key",
    "key": "member_key",
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "邮箱": "email",
    "name": "name",
    "display_name": "name",
    "member_name": "name",
    "姓名": "name",
    "attended": "attended",
    "attendance": "attended",
    "checked_in": "attended",
    "出席": "attended",
    "签到": "attended",
    "checked_in_at": "checked_in_at",
    "check_in_time": "checked_in_at",
    "checkin_time": "checked_in_at",
    "签到时间": "checked_in_at",
}
WHO = ("member_key", "email", "name")
YES = {"yes", "y", "true", "1", "x", "attended", "checked in", "是", "已签到", "出席"}
NO = {"", "no", "n", "false", "0", "absent", "no-show", "否", "未签到", "缺席"}
MAX_TEXT = 255
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class AttendanceRow:
    line: int
    member_key: str
    email: str
    name: str
    attended: bool
    checked_in_at: dt.datetime | None


@dataclass
class ParsedAttendance:
    name: str
    rows: list[AttendanceRow] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _moment(value: str, zone: dt.tzinfo, label: str, line: int) -> dt.datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise ImportFormatError(
            label,
            line_label(line),
            _("%(field)s %(value)s is not a time (use e.g. %(example)s or Unix seconds)")
            % {
                "field": "checked_in_at",
                "value": repr(text),
                "example": "2024-03-07T19:05:00+08:00",
            },
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def read_attendance(
    source: Path | str | IO[bytes], activity: Activity, *, name: str | None = None
) -> ParsedAttendance:
    """Read and check a whole attendance file; raise ``ImportFormatError`` at its first
    problem. Nothing is looked up in the database yet."""
    data, label = read_bytes(source, name, "attendance.csv")
    text = decode_utf8(data, label)
    zone = zone_of(activity.time_zone) or dt.UTC
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    parsed = ParsedAttendance(name=label)
    start = 1
    columns: dict[str, int] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFormatError(
                label,
                line_label(start),
                _("malformed CSV (%(error)s; is a double quote left open?)") % {"error": exc},
            ) from None
        line, start = start, reader.line_num + 1
        if columns is None:
            columns = _header(row, label, line, parsed)
            continue
        if not any(cell.strip() for cell in row):
            continue
        parsed.rows.append(_row(row, columns, zone, label, line))
    if columns is None:
        raise ImportFormatError(
            label,
            line_label(1),
            _("the file is empty; the first line must be the header (e.g. %(example)s)")
            % {"example": "email,name,attended,checked_in_at"},
        )
    return parsed


def _header(row: list[str], label: str, line: int, parsed: ParsedAttendance) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(row):
        key = raw.strip().lower().replace(" ", "_").replace("-", "_")
        column = ALIASES.get(key)
        if column is None:
            parsed.ignored.append(raw.strip())
        elif column in columns:
            raise ImportFormatError(
                label, line_label(line), _("column %(name)s appears twice") % {"name": repr(column)}
            )
        else:
            columns[column] = index
    if not any(column in columns for column in WHO):
        raise ImportFormatError(
            label,
            line_label(line),
            _("the header needs a column that says who: %(columns)s") % {"columns": ", ".join(WHO)},
        )
    if "attended" not in columns and "checked_in_at" not in columns:
        raise ImportFormatError(
            label,
            line_label(line),
            _("the header needs a column that says who came: %(columns)s")
            % {"columns": "attended, checked_in_at"},
        )
    return columns


def _row(
    row: list[str], columns: dict[str, int], zone: dt.tzinfo, label: str, line: int
) -> AttendanceRow:
    def cell(column: str) -> str:
        index = columns.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    values = {column: cell(column) for column in (*WHO, "attended", "checked_in_at")}
    for column in WHO:
        if len(values[column]) > MAX_TEXT:
            raise ImportFormatError(
                label,
                line_label(line),
                _("%(field)s is longer than %(limit)d characters")
                % {"field": column, "limit": MAX_TEXT},
            )
    if not any(values[column] for column in WHO):
        raise ImportFormatError(
            label,
            line_label(line),
            _("says nobody: %(columns)s are all empty") % {"columns": ", ".join(WHO)},
        )
    checked_in_at = _moment(values["checked_in_at"], zone, label, line)
    if "attended" in columns:
        word = values["attended"].lower()
        if word in YES:
            attended = True
        elif word in NO:
            attended = False
        else:
            raise ImportFormatError(
                label,
                line_label(line),
                _("%(field)s %(value)s is neither yes nor no")
                % {"field": "attended", "value": repr(values["attended"])},
            )
    else:
        attended = checked_in_at is not None
    return AttendanceRow(
        line=line,
        member_key=values["member_key"],
        email=values["email"].lower(),
        name=values["name"],
        attended=attended,
        checked_in_at=checked_in_at if attended else None,
    )


def resolve_members(
    parsed: ParsedAttendance, activity: Activity, *, create_missing: bool
) -> tuple[list[Member], int]:
    """The member of every row, in order, and how many were created (``create_missing``);
    a row matching nobody (or, by name, several people) raises ``ImportFormatError``. Looked
    up in three queries whatever the number of rows."""
    community_id = activity.community_id
    keys = {row.member_key.lower() for row in parsed.rows if row.member_key}
    keys |= {row.email for row in parsed.rows if row.email}
    by_key: dict[str, Member] = {}
    if keys:
        for member in (
            Member.objects.filter(community_id=community_id)
            .annotate(lower_key=Lower("key"))
            .filter(lower_key__in=sorted(keys))
            .order_by("pk")
        ):
            by_key.setdefault(member.lower_key, member)
    names = {row.name for row in parsed.rows if row.name and not row.member_key and not row.email}
    by_name: dict[str, list[Member]] = {}
    if names:
        for member in Member.objects.filter(
            community_id=community_id, display_name__in=sorted(names)
        ).order_by("pk"):
            by_name.setdefault(member.display_name, []).append(member)
    found: list[Member | None] = []
    missing: dict[tuple[str, str], Member] = {}
    for row in parsed.rows:
        if row.member_key or row.email:
            key = (row.member_key or row.email).lower()
            member = by_key.get(key)
            if member is None and not create_missing:
                raise ImportFormatError(
                    parsed.name,
                    line_label(row.line),
                    _("no member has the member key %(key)s; allow new members to add them")
                    % {"key": repr(row.member_key or row.email)},
                )
            identity = ("key", key)
        else:
            people = by_name.get(row.name, [])
            if len(people) > 1:
                raise ImportFormatError(
                    parsed.name,
                    line_label(row.line),
                    _("%(count)d members are called %(name)s; add an email or member_key column")
                    % {"count": len(people), "name": repr(row.name)},
                )
            member = people[0] if people else None
            if member is None and not create_missing:
                raise ImportFormatError(
                    parsed.name,
                    line_label(row.line),
                    _("no member is called %(name)s; allow new members to add them")
                    % {"name": repr(row.name)},
                )
            identity = ("name", row.name)
        if member is None:
            member = missing.get(identity)
            if member is None:
                member = missing[identity] = Member(
                    community_id=community_id,
                    display_name=row.name or row.email or row.member_key,
                    key=(row.member_key or row.email) if identity[0] == "key" else "",
                )
        found.append(member)
    if missing:
        Member.objects.bulk_create(list(missing.values()))
    return [member for member in found if member is not None], len(missing)


# ------------------------------------------------------------------------------- export
EXPORT_COLUMNS = (
    "member_id",
    "member_key",
    "display_name",
    "status",
    "fee_status",
    "source",
    "registered_at",
    "waitlisted_at",
    "cancelled_at",
    "checked_in_at",
    "rating",
    "comment",
)


def _cell(value: Any, zone: dt.tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    text = str(value)
    # A name like "=HYPERLINK(…)" must stay text in a spreadsheet.
    return "'" + text if text.startswith(FORMULA_START) else text


def registrations_csv(activity: Activity) -> str:
    """The activity's registrations as CSV (times in its time zone, with their offset): who,
    status, fee status, how they registered, when they checked in, their rating. Cells that
    a spreadsheet would run as formulas are prefixed with an apostrophe."""
    zone = zone_of(activity.time_zone) or dt.UTC
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    rows = (
        Registration.objects.filter(activity=activity)
        .order_by("registered_at", "id")
        .values_list(
            "member_id",
            "member__key",
            "member__display_name",
            "status",
            "fee_status",
            "source",
            "registered_at",
            "waitlisted_at",
            "cancelled_at",
            "checked_in_at",
            "feedback__rating",
            "feedback__comment",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        writer.writerow([_cell(value, zone) for value in row])
    return out.getvalue()
