"""Check-in at the door: attendance becomes ``attend`` events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Registration
from shequn.activities.services.common import (
    _announce,
    _event,
    _insert_events,
    _iso,
    _user,
    _when,
    activity_channel,
    normalise_code,
)
from shequn.activities.validation import (
    CheckInError,
)
from shequn.audit import services as audit
from shequn.interactions.models import EventKind


@dataclass(frozen=True)
class CheckInResult:
    registration: Registration
    already: bool  # checked in before: nothing changed


def do_check_in(
    activity: Activity,
    code: str,
    *,
    actor: Any = None,
    at: dt.datetime | None = None,
    recompute: bool = True,
) -> CheckInResult:
    """Let the holder of a check-in code in: their attendance becomes an ``attend`` event,
    their rollups follow, and points rules for attending apply (after the commit).

    Checking the same code in again changes nothing (``already``). A code that is unknown, of
    another activity, or of a waitlisted or cancelled registration raises ``CheckInError``.
    ``recompute=False`` leaves points and tiers for later (a busy door, where each update would
    wait for them): ``do_complete_activity`` brings them up to date for every check-in.
    """
    wanted = normalise_code(code)
    found = (
        Registration.objects.select_related("member", "activity").filter(code=wanted).first()
        if wanted
        else None
    )
    if found is None:
        raise CheckInError(_("No registration has this check-in code."), field="code")
    if found.activity_id != activity.pk:
        raise CheckInError(
            _("This code is for another activity: %(title)s (%(when)s).")
            % {
                "title": found.activity.title,
                "when": _when(found.activity.starts_at, found.activity),
            },
            field="code",
        )
    if activity.status not in (Activity.Status.PUBLISHED, Activity.Status.DONE):
        raise CheckInError(
            _("Check-in is only possible for a published activity."), field="activity"
        )
    if found.status == Registration.Status.CANCELLED:
        raise CheckInError(_("This registration was cancelled."), field="code")
    if found.status == Registration.Status.WAITLISTED:
        raise CheckInError(
            _("%(name)s is on the waitlist, without a confirmed place.")
            % {"name": found.member.display_name},
            field="code",
        )
    if found.checked_in_at is not None:
        return CheckInResult(found, already=True)
    moment = at or timezone.now()
    with transaction.atomic():
        updated = Registration.objects.filter(
            pk=found.pk, checked_in_at__isnull=True, status=Registration.Status.CONFIRMED
        ).update(checked_in_at=moment, checked_in_by=_user(actor))
        found.refresh_from_db()
        if not updated:
            if found.checked_in_at is not None:
                return CheckInResult(found, already=True)
            raise CheckInError(_("This registration was cancelled."), field="code")
        channel = activity_channel(activity.community)
        added = _insert_events(
            activity,
            [
                _event(
                    activity,
                    channel,
                    found.member_id,
                    EventKind.ATTEND,
                    moment,
                    {"registration": found.pk},
                )
            ],
        )
        audit.record(
            "activity.check_in",
            community=activity.community,
            actor=actor,
            target=found,
            details={"activity": activity.pk, "member": _iso(found.member)},
        )
    if recompute:
        _announce(activity.community, do_check_in, added)
    return CheckInResult(found, already=False)
