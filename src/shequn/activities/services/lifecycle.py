"""Creating, changing, publishing, cancelling, completing and deleting activities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Guest, Registration, Ritual
from shequn.activities.services.common import (
    _announce,
    _audit_promotions,
    _confirmed_count,
    _event,
    _insert_events,
    _is_staff,
    _jsonable,
    _lock,
    _promote,
    _user,
    activity_channel,
    new_token,
)
from shequn.activities.validation import (
    ActivityError,
    clean_activity,
)
from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.interactions.models import EventKind


@transaction.atomic
def do_create_activity(
    community: Community,
    values: Mapping[str, Any],
    *,
    actor: Any = None,
    ritual: Ritual | None = None,
) -> Activity:
    """Create an activity (a draft) from ``values`` (see ``validation.ACTIVITY_FIELDS``).

    Raises ``ActivityError`` naming every wrong field; nothing is written then. Whether staff
    or a member organised it is taken from the organiser's role now, so later role changes do
    not rewrite history.
    """
    cleaned = clean_activity(community, values)
    activity = Activity(
        community=community,
        ritual=ritual,
        organised_by_staff=_is_staff(cleaned["organiser"]),
        public_token=new_token(),
        created_by=_user(actor),
        **cleaned,
    )
    activity.save()
    audit.record(
        "activity.create",
        community=community,
        actor=actor,
        target=activity,
        details=_jsonable({"title": activity.title, "starts_at": activity.starts_at}),
    )
    return activity


@transaction.atomic
def do_update_activity(
    activity: Activity, values: Mapping[str, Any], *, actor: Any = None
) -> Activity:
    """Change some of an activity's values; audited with each field's before and after.

    Refused (``ActivityError``): a capacity below the places already confirmed, and turning a
    free activity into a paid one or back while people are registered (their fee status would
    no longer mean anything). A larger capacity moves people up from the waitlist.
    """
    locked = _lock(activity)
    if locked.status == Activity.Status.CANCELLED:
        raise ActivityError(_("A cancelled activity cannot be changed."))
    cleaned = clean_activity(locked.community, values, current=locked)
    changed = {name: value for name, value in cleaned.items() if getattr(locked, name) != value}
    if not changed:
        return locked
    active = Registration.objects.filter(activity=locked).exclude(
        status=Registration.Status.CANCELLED
    )
    if "capacity" in changed and cleaned["capacity"] is not None:
        confirmed = _confirmed_count(locked)
        if cleaned["capacity"] < confirmed:
            raise ActivityError(
                _("cannot be below the %(count)d places already confirmed") % {"count": confirmed},
                field="capacity",
            )
    if (cleaned["fee_amount"] == 0) != locked.is_free and active.exists():
        raise ActivityError(
            _("cannot change between free and paid while people are registered"),
            field="fee_amount",
        )
    before = {name: getattr(locked, name) for name in changed}
    for name, value in changed.items():
        setattr(locked, name, value)
    if "organiser" in changed:
        locked.organised_by_staff = _is_staff(cleaned["organiser"])
    locked.save()
    promoted = _promote(locked) if "capacity" in changed else []
    audit.record(
        "activity.update",
        community=locked.community,
        actor=actor,
        target=locked,
        details={"before": _jsonable(before), "after": _jsonable(changed)},
    )
    if promoted:
        _audit_promotions(locked, promoted, actor)
    return locked


def _set_status(
    activity: Activity, allowed_from: Iterable[str], status: str, *, actor: Any, **details: Any
) -> Activity:
    locked = _lock(activity)
    if locked.status not in allowed_from:
        raise ActivityError(
            _("A %(status)s activity cannot become %(new)s.")
            % {
                "status": locked.get_status_display(),
                "new": Activity.Status(status).label,
            },
            field="status",
        )
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    audit.record(
        f"activity.{status}",
        community=locked.community,
        actor=actor,
        target=locked,
        details={"before": {"status": before}, "after": {"status": status, **details}},
    )
    return locked


@transaction.atomic
def do_publish_activity(activity: Activity, *, actor: Any = None) -> Activity:
    """Make a draft public: it appears in the calendar and registration can open."""
    return _set_status(activity, [Activity.Status.DRAFT], Activity.Status.PUBLISHED, actor=actor)


@transaction.atomic
def do_cancel_activity(activity: Activity, *, actor: Any = None, reason: str = "") -> Activity:
    """Call an activity off. Registrations stay as they were (fees are refunded one by one
    with ``do_set_fee_status``); calendars show it as cancelled."""
    return _set_status(
        activity,
        [Activity.Status.DRAFT, Activity.Status.PUBLISHED],
        Activity.Status.CANCELLED,
        actor=actor,
        reason=reason.strip(),
    )


def do_complete_activity(
    activity: Activity, *, actor: Any = None, recompute: bool = True
) -> Activity:
    """Mark a published activity that has started as done, and record its organiser's and
    co-hosts' hosting and its member speakers' speaking as events (for points rules).

    Points and tiers are then brought up to date for everything the activity recorded,
    including check-ins made with ``recompute=False`` (the quick way at a busy door).
    """
    with transaction.atomic():
        if activity.starts_at > timezone.now():
            raise ActivityError(_("An activity can be marked done once it has started."))
        done = _set_status(activity, [Activity.Status.PUBLISHED], Activity.Status.DONE, actor=actor)
        added = _record_hosting(done)
        attended = done.registrations.filter(checked_in_at__isnull=False).count()
    if recompute:
        _announce(done.community, do_complete_activity, added, force=attended > 0)
    return done


def _record_hosting(activity: Activity) -> int:
    channel = activity_channel(activity.community)
    people: dict[tuple[int, str], None] = {}
    if activity.organiser_id:
        people[(activity.organiser_id, EventKind.HOST)] = None
    for member_id, role in activity.guests.filter(member__isnull=False).values_list(
        "member_id", "role"
    ):
        if role == Guest.Role.HOST:
            people[(member_id, EventKind.HOST)] = None
        elif role == Guest.Role.SPEAKER:
            people[(member_id, EventKind.SPEAK)] = None
    events = [
        _event(activity, channel, member_id, kind, activity.starts_at, {})
        for member_id, kind in people
    ]
    return _insert_events(activity, events)


@transaction.atomic
def do_delete_activity(activity: Activity, *, actor: Any = None) -> None:
    """Delete a draft nobody registered for (anything else is cancelled, never deleted)."""
    locked = _lock(activity)
    if locked.status != Activity.Status.DRAFT or locked.registrations.exists():
        raise ActivityError(
            _("Only a draft without registrations can be deleted; cancel it instead.")
        )
    audit.record(
        "activity.delete",
        community=locked.community,
        actor=actor,
        target=locked,
        details=_jsonable({"title": locked.title, "starts_at": locked.starts_at}),
    )
    locked.delete()
