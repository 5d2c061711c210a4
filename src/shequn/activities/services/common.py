"""Helpers shared by the activity services: codes, locking, the activities channel, events."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from shequn.activities.models import Activity, Registration
from shequn.activities.validation import (
    zone_of,
)
from shequn.audit import services as audit
from shequn.communities.models import Channel, Community, Platform
from shequn.communities.services import get_or_create_channel
from shequn.interactions.models import InteractionEvent
from shequn.interactions.rollups import add_rollups_for_events
from shequn.interactions.signals import events_imported
from shequn.members.models import Member, Role

# The channel attendance, hosting and speaking events are recorded on (one per community).
ACTIVITY_CHANNEL_ID = "shequn-activities"
ACTIVITY_CHANNEL_NAME = "Activities"
# Check-in codes: no 0/O or 1/I, so a code read out or typed at the door is not misread.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
# Attendees may rate an activity from its start until this many days after its end.
FEEDBACK_DAYS = 14
COMMENT_MAX = 5_000
# Occurrences one generation may create (a ritual is generated some months ahead at a time).
MAX_OCCURRENCES = 500
STAFF_ROLES = (Role.FOUNDER, Role.OPERATOR)


def _user(actor: Any) -> Any:
    """The account to store on a row (the CLI acts without one)."""
    return actor if getattr(actor, "pk", None) else None


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Member):
        return {"id": value.pk, "display_name": value.display_name}
    return value


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _iso(value) for key, value in values.items()}


def new_token() -> str:
    """An activity's public token: unguessable, short enough for a URL."""
    return secrets.token_urlsafe(12)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """A code as typed or scanned: any case, with spaces or dashes between groups."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def _is_staff(member: Member | None) -> bool:
    return member is None or member.role in STAFF_ROLES


def _when(value: dt.datetime, activity: Activity) -> str:
    """A moment as people at the activity read it: local clock time and the zone."""
    zone = zone_of(activity.time_zone) or dt.UTC
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} {activity.time_zone}"


def _lock(activity: Activity) -> Activity:
    """Serialise the writers of one activity's places and return it as stored now.

    PostgreSQL: ``SELECT … FOR UPDATE`` on its row. SQLite has no row locks: an UPDATE of the
    row takes the database's write lock (RESERVED), so no other writer can count or insert
    until this transaction ends, even inside a transaction that began deferred.
    """
    if connection.features.has_select_for_update:
        return Activity.objects.select_for_update().get(pk=activity.pk)
    Activity.objects.filter(pk=activity.pk).update(status=F("status"))
    return Activity.objects.get(pk=activity.pk)


def _confirmed_count(activity: Activity) -> int:
    return Registration.objects.filter(
        activity=activity, status=Registration.Status.CONFIRMED
    ).count()


def activity_channel(community: Community) -> Channel:
    """The community's channel for activity events (created on first use)."""
    channel, _created = get_or_create_channel(
        community,
        platform=Platform.OTHER,
        external_id=ACTIVITY_CHANNEL_ID,
        name=ACTIVITY_CHANNEL_NAME,
    )
    return channel


def _event(
    activity: Activity,
    channel: Channel,
    member_id: int,
    kind: str,
    at: dt.datetime,
    attributes: dict[str, Any],
) -> InteractionEvent:
    community = activity.community
    return InteractionEvent(
        community=community,
        channel=channel,
        member_id=member_id,
        kind=kind,
        occurred_at=at,
        day=at.astimezone(community.zoneinfo).date(),
        source_id=f"activity-{activity.pk}-{kind}-{member_id}",
        thread_source_id=activity.event_thread,
        content_type=activity.content_type,
        attributes={"activity": activity.pk, "mode": activity.mode, **attributes},
    )


def _insert_events(activity: Activity, events: list[InteractionEvent]) -> int:
    """Insert the events not stored yet (source ids are per activity, kind and member, so
    recording twice adds nothing), bring their members' rollups up to date; return how many
    were added."""
    if not events:
        return 0
    channel_id = events[0].channel_id
    wanted = {event.source_id: event for event in events}
    existing = set(
        InteractionEvent.objects.filter(
            channel_id=channel_id, source_id__in=list(wanted)
        ).values_list("source_id", flat=True)
    )
    new = [event for source_id, event in wanted.items() if source_id not in existing]
    if not new:
        return 0
    InteractionEvent.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    added = list(
        InteractionEvent.objects.filter(
            channel_id=channel_id, source_id__in=[event.source_id for event in new]
        ).values_list("pk", flat=True)
    )
    add_rollups_for_events(added)
    return len(added)


def _announce(community: Community, sender: Any, added: int, *, force: bool = False) -> None:
    """Tell the apps built on events (points, tiers) that events were added, as an import
    does once it has committed (``force``: also when this call added none, for events that
    earlier calls recorded without announcing them)."""
    if not added and not force:
        return
    from shequn.interactions.importers.pipeline import ImportSummary

    summary = ImportSummary(
        import_run_id=0,
        format="activities",
        source=ACTIVITY_CHANNEL_ID,
        community=community.slug,
        events_read=added,
        events_added=added,
    )
    events_imported.send(sender=sender, community=community, summary=summary)


def _promote(activity: Activity) -> list[int]:
    """Give free places to the waitlist in order; the caller holds the activity's lock."""
    if activity.status not in (Activity.Status.PUBLISHED, Activity.Status.DRAFT):
        return []
    waiting = Registration.objects.filter(
        activity=activity, status=Registration.Status.WAITLISTED
    ).order_by("waitlisted_at", "id")
    if activity.capacity is not None:
        free = activity.capacity - _confirmed_count(activity)
        if free <= 0:
            return []
        waiting = waiting[:free]
    ids = list(waiting.values_list("id", flat=True))
    if ids:
        Registration.objects.filter(pk__in=ids).update(
            status=Registration.Status.CONFIRMED, confirmed_at=timezone.now()
        )
    return ids


def _audit_promotions(activity: Activity, ids: list[int], actor: Any) -> None:
    audit.record(
        "activity.promote",
        community=activity.community,
        actor=actor,
        target=activity,
        details={"registrations": ids},
    )
