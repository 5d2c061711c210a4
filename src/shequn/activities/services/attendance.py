"""Importing attendance from an event platform's CSV, with the importer guarantees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Registration
from shequn.activities.services.common import (
    _announce,
    _event,
    _insert_events,
    _lock,
    _user,
    activity_channel,
    new_code,
)
from shequn.activities.services.registrations import _default_fee_status
from shequn.activities.validation import (
    ActivityError,
)
from shequn.audit import services as audit
from shequn.interactions.models import EventKind


@dataclass
class AttendanceImportResult:
    rows: int = 0
    attended: int = 0
    checked_in: int = 0  # newly checked in by this import
    already_checked_in: int = 0
    registered: int = 0  # registrations this import created
    members_created: int = 0
    no_shows: int = 0
    ignored_columns: list[str] = field(default_factory=list)


def do_import_attendance(
    activity: Activity,
    source: Path | str | IO[bytes],
    *,
    name: str | None = None,
    actor: Any = None,
    create_missing: bool = False,
    recompute: bool = True,
) -> AttendanceImportResult:
    """Import who attended from an event platform's CSV (see ``csv_io.read_attendance``).

    The whole file is read and checked first: a problem raises ``ImportFormatError`` naming
    the file, the line and the problem, and nothing is written. Then, in one transaction,
    people without a registration get a confirmed one (capacity and window do not apply: they
    came), those who attended are checked in (an ``attend`` event each, as at the door), and
    "no" rows leave an earlier check-in in place. Importing the same file again changes
    nothing. With ``create_missing``, people matching no member become members (their e-mail
    as member key); otherwise they are an error.
    """
    from shequn.activities.csv_io import read_attendance, resolve_members

    parsed = read_attendance(source, activity, name=name)
    result = AttendanceImportResult(rows=len(parsed.rows), ignored_columns=parsed.ignored)
    with transaction.atomic():
        locked = _lock(activity)
        if locked.status not in (Activity.Status.PUBLISHED, Activity.Status.DONE):
            raise ActivityError(
                _("Attendance can only be imported for a published or done activity."),
                field="activity",
            )
        members, created = resolve_members(parsed, locked, create_missing=create_missing)
        result.members_created = created
        # One row per member: attended if any of their rows says so, at the earliest time.
        wanted: dict[int, dt.datetime | None] = {}
        attended: set[int] = set()
        for row, member in zip(parsed.rows, members, strict=True):
            if row.attended:
                attended.add(member.pk)
                earlier = wanted.get(member.pk)
                moment = row.checked_in_at or locked.starts_at
                wanted[member.pk] = moment if earlier is None else min(earlier, moment)
            else:
                wanted.setdefault(member.pk, None)
        existing = {
            registration.member_id: registration
            for registration in Registration.objects.filter(
                activity=locked, member_id__in=list(wanted)
            )
        }
        now = timezone.now()
        new_rows = []
        for member_id, moment in wanted.items():
            if member_id in existing:
                continue
            registered = min(locked.starts_at, moment) if moment else locked.starts_at
            new_rows.append(
                Registration(
                    activity=locked,
                    member_id=member_id,
                    status=Registration.Status.CONFIRMED,
                    fee_status=_default_fee_status(locked),
                    source=Registration.Source.IMPORT,
                    code=new_code(),
                    registered_at=registered,
                    confirmed_at=registered,
                )
            )
        Registration.objects.bulk_create(new_rows, batch_size=1000)
        result.registered = len(new_rows)
        registrations = {
            registration.member_id: registration
            for registration in Registration.objects.filter(
                activity=locked, member_id__in=list(wanted)
            )
        }
        to_check_in = []
        for member_id in attended:
            registration = registrations[member_id]
            if registration.checked_in_at is not None:
                result.already_checked_in += 1
                continue
            registration.status = Registration.Status.CONFIRMED
            registration.confirmed_at = registration.confirmed_at or now
            registration.cancelled_at = None
            registration.checked_in_at = wanted[member_id]
            registration.checked_in_by = _user(actor)
            to_check_in.append(registration)
        Registration.objects.bulk_update(
            to_check_in,
            ["status", "confirmed_at", "cancelled_at", "checked_in_at", "checked_in_by"],
            batch_size=1000,
        )
        result.checked_in = len(to_check_in)
        result.attended = len(attended)
        result.no_shows = len(wanted) - len(attended)
        channel = activity_channel(locked.community)
        added = _insert_events(
            locked,
            [
                _event(
                    locked,
                    channel,
                    registration.member_id,
                    EventKind.ATTEND,
                    registration.checked_in_at,
                    {"registration": registration.pk},
                )
                for registration in to_check_in
            ],
        )
        # A waitlisted person who came holds a place now, even beyond the capacity: they were
        # there.
        audit.record(
            "activity.attendance_import",
            community=locked.community,
            actor=actor,
            target=locked,
            details={
                "file": parsed.name,
                "rows": result.rows,
                "registered": result.registered,
                "checked_in": result.checked_in,
                "already_checked_in": result.already_checked_in,
                "no_shows": result.no_shows,
                "members_created": result.members_created,
            },
        )
    if recompute:
        _announce(activity.community, do_import_attendance, added)
    return result
