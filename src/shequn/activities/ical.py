"""iCalendar (RFC 5545) files: one activity, or a community's feed, built with ``icalendar``.

Times carry the activity's own time zone (``DTSTART;TZID=…`` with its VTIMEZONE), so a
calendar shows a 19:30 Shanghai meetup at 19:30 Shanghai time whatever the reader's zone. The
UID is stable (the activity's public token), so a changed or cancelled activity updates the
entry already in people's calendars instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import icalendar

from shequn.activities.models import Activity, Mode
from shequn.activities.selectors import PUBLIC
from shequn.activities.validation import zone_of
from shequn.communities.models import Community

PRODUCT_ID = "-//shequn//activities//EN"
STATUS = {
    Activity.Status.PUBLISHED: "CONFIRMED",
    Activity.Status.DONE: "CONFIRMED",
    Activity.Status.CANCELLED: "CANCELLED",
    Activity.Status.DRAFT: "TENTATIVE",
}


def activity_uid(activity: Activity) -> str:
    return f"{activity.public_token}@shequn"


def _event(activity: Activity, url: str | None) -> icalendar.Event:
    zone = zone_of(activity.time_zone) or dt.UTC
    event = icalendar.Event()
    event.add("uid", activity_uid(activity))
    event.add("dtstamp", activity.updated_at or dt.datetime.now(dt.UTC))
    if activity.updated_at:
        event.add("last-modified", activity.updated_at)
    event.add("dtstart", activity.starts_at.astimezone(zone))
    event.add("dtend", activity.ends_at.astimezone(zone))
    event.add("summary", activity.title)
    if activity.description:
        event.add("description", activity.description)
    if activity.mode == Mode.OFFLINE and activity.place:
        event.add("location", activity.place)
    elif activity.link:
        event.add("location", activity.link)
    if url or activity.link:
        event.add("url", url or activity.link)
    event.add("status", STATUS[Activity.Status(activity.status)])
    event.add("categories", [activity.content_type])
    return event


def _calendar(
    activities: Iterable[Activity], url_for: Callable[[Activity], str] | None, name: str = ""
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    days = []
    for activity in activities:
        calendar.add_component(_event(activity, url_for(activity) if url_for else None))
        days += [activity.starts_at.date(), activity.ends_at.date()]
    if days:
        # Only the transitions around these activities, not every one since 1970.
        calendar.add_missing_timezones(
            first_date=min(days) - dt.timedelta(days=366),
            last_date=max(days) + dt.timedelta(days=366),
        )
    return calendar.to_ical()


def activity_ics(activity: Activity, *, url: str | None = None) -> bytes:
    """One activity as an .ics file; ``url`` is its public page (else its online link)."""
    return _calendar([activity], (lambda _a: url) if url else None)


def community_ics(
    community: Community, *, url_for: Callable[[Activity], str] | None = None
) -> bytes:
    """The community's published, done and cancelled activities (cancelled ones marked
    ``STATUS:CANCELLED`` so subscribed calendars drop them), for a subscription URL."""
    activities = Activity.objects.filter(community=community, status__in=PUBLIC).order_by(
        "starts_at", "id"
    )
    return _calendar(activities.iterator(), url_for, name=community.name)
