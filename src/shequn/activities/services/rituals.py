"""Rituals: recurring series and the occurrences they generate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Ritual
from shequn.activities.recurrence import rule_for
from shequn.activities.services.common import (
    MAX_OCCURRENCES,
    _is_staff,
    _iso,
    _jsonable,
    _user,
    new_token,
)
from shequn.activities.validation import (
    RitualError,
    clean_ritual,
    zone_of,
)
from shequn.audit import services as audit
from shequn.communities.models import Community


@transaction.atomic
def do_create_ritual(
    community: Community, values: Mapping[str, Any], *, actor: Any = None
) -> Ritual:
    """Create a recurring series; ``frequency`` weekly or monthly repeats the first start's
    weekday or day of the month, custom takes an RFC 5545 ``rule`` (e.g.
    ``FREQ=MONTHLY;BYDAY=-1FR``). Raises ``RitualError`` naming every wrong field."""
    cleaned = clean_ritual(community, values)
    ritual = Ritual.objects.create(community=community, **cleaned)
    audit.record(
        "ritual.create",
        community=community,
        actor=actor,
        target=ritual,
        details=_jsonable({"name": ritual.name, "rule": ritual.rule}),
    )
    return ritual


@transaction.atomic
def do_update_ritual(ritual: Ritual, values: Mapping[str, Any], *, actor: Any = None) -> Ritual:
    """Change a ritual; occurrences already generated keep their own values."""
    cleaned = clean_ritual(ritual.community, values, current=ritual)
    changed = {name: value for name, value in cleaned.items() if getattr(ritual, name) != value}
    if not changed:
        return ritual
    before = {name: getattr(ritual, name) for name in changed}
    for name, value in changed.items():
        setattr(ritual, name, value)
    ritual.save()
    audit.record(
        "ritual.update",
        community=ritual.community,
        actor=actor,
        target=ritual,
        details={"before": _jsonable(before), "after": _jsonable(changed)},
    )
    return ritual


def _end_of(value: dt.date | dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time.max, zone)


@transaction.atomic
def do_generate_occurrences(
    ritual: Ritual,
    *,
    until: dt.date | dt.datetime,
    since: dt.datetime | None = None,
    actor: Any = None,
    publish: bool = True,
) -> list[Activity]:
    """Create the ritual's occurrences that start from ``since`` (default: its first start)
    up to ``until`` (a local day, included, or a moment) as activities, published unless
    ``publish`` is false. Idempotent: a start that already has an occurrence (even a cancelled
    one) gets none again, so running it weekly only adds the new ones. Returns those created."""
    zone = zone_of(ritual.time_zone) or dt.UTC
    start = max(since, ritual.first_starts_at) if since else ritual.first_starts_at
    end = _end_of(until, zone)
    if end < start:
        return []
    try:
        recurrence = rule_for(ritual.rule, ritual.first_starts_at, zone)
    except ValueError as exc:
        raise RitualError(str(exc), field="rule") from None
    starts = recurrence.between(start, end)
    if len(starts) > MAX_OCCURRENCES:
        raise RitualError(
            _("would create %(count)d occurrences; generate at most %(max)d at a time")
            % {"count": len(starts), "max": MAX_OCCURRENCES},
            field="until",
        )
    existing = {
        value.astimezone(dt.UTC)
        for value in Activity.objects.filter(
            ritual=ritual, starts_at__gte=start, starts_at__lte=end
        ).values_list("starts_at", flat=True)
    }
    duration = dt.timedelta(minutes=ritual.duration_minutes)
    status = Activity.Status.PUBLISHED if publish else Activity.Status.DRAFT
    staff = _is_staff(ritual.organiser)
    new = [
        Activity(
            community=ritual.community,
            ritual=ritual,
            title=ritual.title or ritual.name,
            description=ritual.description,
            mode=ritual.mode,
            content_type=ritual.content_type,
            organiser=ritual.organiser,
            organised_by_staff=staff,
            starts_at=moment.astimezone(dt.UTC),
            ends_at=(moment + duration).astimezone(dt.UTC),
            time_zone=ritual.time_zone,
            place=ritual.place,
            link=ritual.link,
            capacity=ritual.capacity,
            fee_amount=ritual.fee_amount,
            currency=ritual.currency,
            status=status,
            public_token=new_token(),
            created_by=_user(actor),
        )
        for moment in starts
        if moment.astimezone(dt.UTC) not in existing
    ]
    if not new:
        return []
    Activity.objects.bulk_create(new, ignore_conflicts=True)
    created = list(
        Activity.objects.filter(
            ritual=ritual, public_token__in=[activity.public_token for activity in new]
        ).order_by("starts_at")
    )
    audit.record(
        "ritual.generate",
        community=ritual.community,
        actor=actor,
        target=ritual,
        details={
            "until": _iso(end),
            "created": len(created),
            "first": _iso(created[0].starts_at) if created else None,
            "last": _iso(created[-1].starts_at) if created else None,
        },
    )
    return created
