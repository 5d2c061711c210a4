"""/communities/{slug}/events: the raw interactions, filtered, in stable id order.

Keyset pagination (``after_id``): events tables hold millions of rows, and an offset would
rescan them on every page.
"""

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.interactions.models import EventKind, InteractionEvent

router = Router(tags=["events"])


class EventOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    day: dt.date
    channel_id: int
    member_id: int | None
    target_member_id: int | None
    source_id: str
    parent_source_id: str | None
    thread_source_id: str | None
    content_type: str
    text_length: int
    text: str | None


class EventPage(Schema):
    items: list[EventOut]
    next_after_id: int | None = Field(
        description="Pass as after_id for the next page; null on the last page."
    )


class EventFilters(Schema):
    since: dt.datetime | None = Field(None, description="Events at or after this time.")
    until: dt.datetime | None = Field(None, description="Events before this time.")
    kind: list[EventKind] | None = Field(None, description="One or more kinds.")
    member_id: int | None = Field(None, ge=1, le=2**62, description="Acting member.")
    target_member_id: int | None = Field(None, ge=1, le=2**62)
    channel_id: int | None = Field(None, ge=1, le=2**62)
    after_id: int = Field(0, ge=0, le=2**62, description="Only events with a larger id.")
    limit: int = Field(100, ge=1, le=1000)


@router.get(
    "/communities/{slug}/events",
    response={200: EventPage, 404: Problem},
    summary="Events, filtered by time, kind, member and channel",
)
def list_events(request: HttpRequest, slug: str, filters: Query[EventFilters]) -> dict:
    community = community_or_404(request, slug)
    events = InteractionEvent.objects.filter(community=community, id__gt=filters.after_id)
    if filters.since:
        events = events.filter(occurred_at__gte=filters.since)
    if filters.until:
        events = events.filter(occurred_at__lt=filters.until)
    if filters.kind:
        events = events.filter(kind__in=filters.kind)
    for field in ("member_id", "target_member_id", "channel_id"):
        value = getattr(filters, field)
        if value:
            events = events.filter(**{field: value})
    items = list(events.order_by("id")[: filters.limit + 1])
    more = len(items) > filters.limit
    items = items[: filters.limit]
    return {"items": items, "next_after_id": items[-1].id if more else None}
