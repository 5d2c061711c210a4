"""Small reads that the web pages, the API and the command line share on top of ``selectors``:
whether registration is open now (in the words the service would refuse with), finding a member
by what an operator types, an activity's feedback, and the waitlist positions of a list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from shequn.activities.models import Activity, Feedback, Registration
from shequn.activities.selectors import with_counts
from shequn.activities.validation import RegistrationError
from shequn.communities.models import Community
from shequn.members.models import Member


def registration_refusal(activity: Activity, now: dt.datetime | None = None) -> str | None:
    """Why registering for ``activity`` is refused right now (draft, cancelled, over, window
    not open yet or closed), or ``None`` when it is open. The same check and words as
    ``services.do_register``, which stays the one that decides."""
    from shequn.activities.services import check_registration_open

    try:
        check_registration_open(activity, now or timezone.now())
    except RegistrationError as exc:
        return exc.message
    return None


def activity_with_counts(activity: Activity) -> Activity:
    """The activity again, annotated with ``confirmed``, ``waitlisted`` and ``attended``."""
    return with_counts(Activity.objects.filter(pk=activity.pk)).get()


def places_left(activity: Activity) -> int | None:
    """Free places of an activity annotated by ``with_counts``; ``None``: unlimited."""
    if activity.capacity is None:
        return None
    return max(0, activity.capacity - activity.confirmed)


def find_member(community: Community, text: str | int) -> list[Member]:
    """The members an operator may mean by ``text``: an id, a member key (any case, e.g. an
    e-mail address), an exact display name, handle or platform user id. Several when the
    text is ambiguous, none when nobody matches."""
    members = Member.objects.filter(community=community)
    value = str(text).strip()
    if not value:
        return []
    if value.isdigit():
        found = members.filter(pk=int(value)).first()
        if found is not None:
            return [found]
    by_key = list(members.filter(key__iexact=value).order_by("pk")[:2])
    if by_key:
        return by_key[:1]
    return list(
        members.filter(
            Q(display_name=value)
            | Q(identities__handle=value)
            | Q(identities__platform_user_id=value)
        )
        .distinct()
        .order_by("pk")[:10]
    )


def activity_feedback(activity: Activity) -> QuerySet[Feedback]:
    """The ratings and comments of an activity's attendees, newest first."""
    return (
        Feedback.objects.filter(registration__activity=activity)
        .select_related("registration__member")
        .order_by("-updated_at", "-id")
    )


def waitlist_positions(registrations: Iterable[Registration]) -> dict[int, int]:
    """Registration id -> place on the waitlist (1 is next), for registrations of one activity
    listed in waitlist order (as ``selectors.activity_registrations`` lists them)."""
    positions: dict[int, int] = {}
    for registration in registrations:
        if registration.status == Registration.Status.WAITLISTED:
            positions[registration.pk] = len(positions) + 1
    return positions
