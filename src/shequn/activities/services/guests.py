"""Guests of an activity: outside speakers, or members invited as guests."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Guest
from shequn.activities.services.common import _announce
from shequn.activities.services.lifecycle import _record_hosting
from shequn.activities.validation import (
    ActivityError,
)
from shequn.audit import services as audit
from shequn.members.models import Member


def do_add_guest(
    activity: Activity,
    *,
    member: Member | None = None,
    name: str = "",
    affiliation: str = "",
    bio: str = "",
    role: str = Guest.Role.SPEAKER,
    actor: Any = None,
    recompute: bool = True,
) -> Guest:
    """Add a speaker, co-host or special guest: a member, or someone from outside by name."""
    name, affiliation, bio = name.strip(), affiliation.strip(), bio.strip()
    problems: dict[str, str] = {}
    if member is None and not name:
        problems["name"] = _("is required for a guest who is not a member")
    if member is not None and member.community_id != activity.community_id:
        problems["member"] = _("must be a member of this community")
    if role not in Guest.Role.values:
        problems["role"] = _("must be one of %(choices)s, not %(value)s") % {
            "choices": ", ".join(Guest.Role.values),
            "value": repr(role),
        }
    for field_name, value, limit in (("name", name, 200), ("affiliation", affiliation, 200)):
        if len(value) > limit:
            problems[field_name] = _("is too long (at most %(n)d characters)") % {"n": limit}
    if member is not None and activity.guests.filter(member=member).exists():
        problems["member"] = _("%(name)s is already a guest of this activity") % {
            "name": member.display_name
        }
    if problems:
        raise ActivityError(problems)
    with transaction.atomic():
        guest = Guest.objects.create(
            activity=activity,
            member=member,
            name="" if member is not None else name,
            affiliation=affiliation,
            bio=bio,
            role=role,
        )
        audit.record(
            "activity.guest_add",
            community=activity.community,
            actor=actor,
            target=activity,
            details={"guest": guest.pk, "name": guest.display_name, "role": role},
        )
        added = _record_hosting(activity) if activity.status == Activity.Status.DONE else 0
    if recompute:
        _announce(activity.community, do_add_guest, added)
    return guest


@transaction.atomic
def do_remove_guest(guest: Guest, *, actor: Any = None) -> None:
    """Remove a guest (events already recorded for a done activity stay: history)."""
    audit.record(
        "activity.guest_remove",
        community=guest.activity.community,
        actor=actor,
        target=guest.activity,
        details={"guest": guest.pk, "name": guest.display_name, "role": guest.role},
    )
    guest.delete()
