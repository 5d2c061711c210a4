"""/communities/{slug}/activities: activities, their guests, calendar files and reports."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Status
from ninja.pagination import paginate

from shequn.accounts.models import AccessRole
from shequn.activities.ical import activity_ics, community_ics
from shequn.activities.models import Guest
from shequn.activities.selectors import (
    activity_report,
    community_activities,
)
from shequn.activities.services import (
    ActivityError,
    do_add_guest,
    do_cancel_activity,
    do_complete_activity,
    do_create_activity,
    do_delete_activity,
    do_publish_activity,
    do_remove_guest,
    do_update_activity,
)
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.pagination import Page
from shequn.api.routers.activities.common import (
    activity_detail,
    activity_or_404,
    activity_out,
    calendar_response,
    guest_out,
    member_or_problem,
    payload_values,
    refused,
    router,
)
from shequn.api.routers.activities.schemas import (
    CALENDAR,
    ActivityDetail,
    ActivityFilters,
    ActivityIn,
    ActivityOut,
    ActivityPatch,
    CancelIn,
    GuestIn,
    GuestOut,
    ReportOut,
    path_id,
)


@router.get(
    "/communities/{slug}/activities",
    response={200: list[ActivityOut], 404: Problem},
    summary="Activities, by start (filter by status and time)",
)
@paginate(Page)
def list_activities(request: HttpRequest, slug: str, filters: Query[ActivityFilters]):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    zone = community.zoneinfo
    since, until = (
        value.replace(tzinfo=zone) if value is not None and value.tzinfo is None else value
        for value in (filters.since, filters.until)
    )
    activities = community_activities(
        community,
        statuses=(filters.status,) if filters.status else None,
        since=since,
        until=until,
    )
    return [activity_out(request, activity) for activity in activities]


@router.post(
    "/communities/{slug}/activities",
    response={201: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Create an activity, as a draft (operators); problems name each field",
)
def create_activity(request: HttpRequest, slug: str, payload: ActivityIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_create_activity(
            community, payload_values(payload, community, partial=False), actor=request.user
        )
    except ActivityError as exc:
        return refused(request, exc)
    return Status(201, activity_detail(request, activity))


@router.get(
    "/communities/{slug}/activities.ics",
    response={200: str, 404: Problem},
    summary="The community's calendar (published, done and cancelled activities)",
    openapi_extra={"responses": CALENDAR},
)
def community_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    community = community_or_404(request, slug)
    from shequn.web.views.activities_public import public_url

    data = community_ics(
        community, url_for=lambda activity: request.build_absolute_uri(public_url(activity))
    )
    return calendar_response(data, f"{community.slug}.ics")


@router.get(
    "/communities/{slug}/activities/{activity_id}",
    response={200: ActivityDetail, 404: Problem},
    summary="One activity with its counts and guests",
)
def get_activity(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> dict[str, Any]:
    community = community_or_404(request, slug)
    return activity_detail(request, activity_or_404(community, activity_id))


@router.patch(
    "/communities/{slug}/activities/{activity_id}",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Change an activity (operators); a larger capacity moves the waitlist up",
)
def patch_activity(
    request: HttpRequest,
    slug: str,
    payload: ActivityPatch,
    activity_id: int = path_id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = activity_or_404(community, activity_id)
    try:
        activity = do_update_activity(
            activity, payload_values(payload, community, partial=True), actor=request.user
        )
    except ActivityError as exc:
        return refused(request, exc)
    return activity_detail(request, activity)


@router.delete(
    "/communities/{slug}/activities/{activity_id}",
    response={204: None, 403: Problem, 404: Problem, 422: Problem},
    summary="Delete a draft nobody registered for (operators); cancel anything else",
)
def delete_activity(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        do_delete_activity(activity_or_404(community, activity_id), actor=request.user)
    except ActivityError as exc:
        return refused(request, exc)
    return Status(204, None)


@router.post(
    "/communities/{slug}/activities/{activity_id}/publish",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Publish a draft: it appears in calendars and registration can open (operators)",
)
def publish_activity(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_publish_activity(activity_or_404(community, activity_id), actor=request.user)
    except ActivityError as exc:
        return refused(request, exc)
    return activity_detail(request, activity)


@router.post(
    "/communities/{slug}/activities/{activity_id}/cancel",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Call an activity off (operators); registrations are kept",
)
def cancel_activity(
    request: HttpRequest,
    slug: str,
    payload: CancelIn,
    activity_id: int = path_id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_cancel_activity(
            activity_or_404(community, activity_id), actor=request.user, reason=payload.reason
        )
    except ActivityError as exc:
        return refused(request, exc)
    return activity_detail(request, activity)


@router.post(
    "/communities/{slug}/activities/{activity_id}/complete",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Mark a published activity that has started as done (operators)",
)
def complete_activity(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_complete_activity(activity_or_404(community, activity_id), actor=request.user)
    except ActivityError as exc:
        return refused(request, exc)
    return activity_detail(request, activity)


@router.get(
    "/communities/{slug}/activities/{activity_id}/activity.ics",
    response={200: str, 404: Problem},
    summary="One activity as an iCalendar file",
    openapi_extra={"responses": CALENDAR},
)
def activity_calendar(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> HttpResponse:
    from shequn.web.views.activities_public import public_url

    activity = activity_or_404(community_or_404(request, slug), activity_id)
    url = request.build_absolute_uri(public_url(activity))
    return calendar_response(activity_ics(activity, url=url), f"activity-{activity.pk}.ics")


@router.get(
    "/communities/{slug}/activities/{activity_id}/report",
    response={200: ReportOut, 404: Problem},
    summary="Registered, attended, no-shows, first-time and returning, rating, newcomers",
)
def get_report(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> dict[str, Any]:
    activity = activity_or_404(community_or_404(request, slug), activity_id)
    report = activity_report(activity)
    return {**vars(report), "newcomers_stayed_rate": report.newcomers_stayed_rate}


@router.post(
    "/communities/{slug}/activities/{activity_id}/guests",
    response={201: GuestOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Add a speaker, co-host or special guest: a member or someone from outside",
)
def add_guest(
    request: HttpRequest,
    slug: str,
    payload: GuestIn,
    activity_id: int = path_id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = activity_or_404(community, activity_id)
    try:
        guest = do_add_guest(
            activity,
            member=member_or_problem(community, payload.member_id, "member_id"),
            name=payload.name,
            affiliation=payload.affiliation,
            bio=payload.bio,
            role=payload.role,
            actor=request.user,
        )
    except ActivityError as exc:
        return refused(request, exc)
    return Status(201, guest_out(guest))


@router.delete(
    "/communities/{slug}/activities/{activity_id}/guests/{guest_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Remove a guest (operators)",
)
def remove_guest(
    request: HttpRequest,
    slug: str,
    activity_id: int = path_id("The activity's id."),
    guest_id: int = path_id("The guest's id."),
) -> Status:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = activity_or_404(community, activity_id)
    guest = get_object_or_404(
        Guest.objects.select_related("member"), activity=activity, pk=guest_id
    )
    do_remove_guest(guest, actor=request.user)
    return Status(204, None)
