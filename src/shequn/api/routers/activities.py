"""/communities/{slug}/activities and /rituals: activities with their guests, registrations
(waitlist, fees, check-in), feedback, report, calendar files and CSV; rituals and their
occurrences. Operators change, everyone with access reads; every change goes through
``shequn.activities.services``. A refused change answers 422 with one ``errors`` item per field
at fault (``loc: ["body", field]``) and nothing is written."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict, model_validator

from shequn.accounts.models import AccessRole
from shequn.activities.csv_io import registrations_csv
from shequn.activities.ical import activity_ics, community_ics
from shequn.activities.models import Activity, Guest, Registration, Ritual
from shequn.activities.selectors import (
    activity_guests,
    activity_registrations,
    activity_report,
    community_activities,
    community_rituals,
    fee_history,
    ritual_attendance,
)
from shequn.activities.services import (
    ActivityError,
    do_add_guest,
    do_cancel_activity,
    do_cancel_registration,
    do_check_in,
    do_complete_activity,
    do_create_activity,
    do_create_ritual,
    do_delete_activity,
    do_generate_occurrences,
    do_import_attendance,
    do_leave_feedback,
    do_publish_activity,
    do_register,
    do_register_contact,
    do_remove_guest,
    do_set_fee_status,
    do_update_activity,
    do_update_ritual,
)
from shequn.activities.web_selectors import (
    activity_feedback,
    activity_with_counts,
    places_left,
    waitlist_positions,
)
from shequn.api.access import community_or_404
from shequn.api.errors import Problem, problem
from shequn.api.pagination import Page
from shequn.communities.models import Community
from shequn.interactions.importers.records import ImportFormatError
from shequn.members.models import Member

router = Router(tags=["activities"])

MAX_ID = 2**62
CALENDAR = {"200": {"description": "An iCalendar file.", "content": {"text/calendar": {}}}}
CSV = {"200": {"description": "A CSV file.", "content": {"text/csv": {}}}}
MOMENT_HELP = (
    "ISO 8601 date and time; without an offset it is a clock time in the activity's time zone, "
    "e.g. 2024-03-07T19:30."
)


def _id(description: str) -> Any:
    return Path(..., ge=1, le=MAX_ID, description=description)


# ------------------------------------------------------------------------------ schemas
class Strict(Schema):
    """A request body: unknown fields are refused, and so are NUL characters (a database
    cannot store them in text)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def no_nul_characters(self) -> "Strict":
        for name, value in self:
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name}: NUL characters are not allowed")
        return self


class ActivityOut(Schema):
    id: int
    title: str
    description: str
    status: str
    mode: str
    content_type: str
    organiser_id: int | None
    organised_by_staff: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    place: str
    link: str
    capacity: int | None
    fee_amount: Decimal
    currency: str
    registration_opens_at: dt.datetime | None
    registration_closes_at: dt.datetime | None
    ritual_id: int | None
    public_url: str
    confirmed: int
    waitlisted: int
    attended: int
    places_left: int | None


class GuestOut(Schema):
    id: int
    member_id: int | None
    display_name: str
    affiliation: str
    bio: str
    role: str


class ActivityDetail(ActivityOut):
    guests: list[GuestOut]


class ActivityIn(Strict):
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=100_000)
    mode: str = Field(..., max_length=16, description="online or offline")
    content_type: str = Field(..., max_length=16, description="learning, social or game")
    starts_at: str = Field(..., max_length=64, description=MOMENT_HELP)
    ends_at: str = Field(..., max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64, description="e.g. Asia/Shanghai")
    place: str = Field("", max_length=500, description="Required offline.")
    link: str = Field("", max_length=500)
    capacity: int | None = Field(None, ge=0, le=10_000_000, description="Required offline.")
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str = Field("", max_length=3, description="ISO 4217, e.g. CNY")
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    registration_opens_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    registration_closes_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)


class ActivityPatch(Strict):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=100_000)
    mode: str | None = Field(None, max_length=16)
    content_type: str | None = Field(None, max_length=16)
    starts_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    ends_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64)
    place: str | None = Field(None, max_length=500)
    link: str | None = Field(None, max_length=500)
    capacity: int | None = Field(None, ge=0, le=10_000_000)
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str | None = Field(None, max_length=3)
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    registration_opens_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    registration_closes_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)


class ActivityFilters(Schema):
    status: str = Field("", pattern="^(|draft|published|cancelled|done)$")
    since: dt.datetime | None = Field(None, description="Activities still running after this.")
    until: dt.datetime | None = Field(None, description="Activities starting before this.")


class CancelIn(Strict):
    reason: str = Field("", max_length=500)


class GuestIn(Strict):
    member_id: int | None = Field(None, ge=1, le=MAX_ID, description="A member, or a name.")
    name: str = Field("", max_length=200, description="A guest from outside.")
    affiliation: str = Field("", max_length=200)
    bio: str = Field("", max_length=10_000)
    role: str = Field("speaker", max_length=16, description="speaker, host or guest")


class RegistrationOut(Schema):
    id: int
    activity_id: int
    member_id: int
    display_name: str
    member_key: str
    status: str
    fee_status: str
    source: str
    code: str
    registered_at: dt.datetime
    waitlisted_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    waitlist_position: int | None


class FeeChangeOut(Schema):
    at: dt.datetime
    actor: str
    before: str | None
    after: str | None
    note: str


class FeedbackOut(Schema):
    registration_id: int
    member_id: int
    display_name: str
    rating: int
    comment: str
    created_at: dt.datetime
    updated_at: dt.datetime


class RegistrationDetail(RegistrationOut):
    fee_history: list[FeeChangeOut]
    feedback: FeedbackOut | None


class RegistrationIn(Strict):
    member_id: int | None = Field(None, ge=1, le=MAX_ID, description="A member, or name+email.")
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    override: bool = Field(False, description="Even outside the registration window.")


class CancelledOut(Schema):
    registration: RegistrationOut
    promoted: list[RegistrationOut]


class FeeIn(Strict):
    fee_status: str = Field(..., max_length=16, description="unpaid, paid, refunded, waived")
    note: str = Field("", max_length=500)


class CheckInIn(Strict):
    code: str = Field(..., max_length=64)


class CheckInOut(Schema):
    already: bool
    registration: RegistrationOut


class FeedbackIn(Strict):
    rating: int = Field(..., ge=-1000, le=1000, description="1 to 5")
    comment: str = Field("", max_length=10_000)


class ReportOut(Schema):
    registered: int
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    capacity: int | None
    no_shows: int | None
    no_show_rate: float | None
    first_time: int
    returning: int
    rating_mean: float | None
    rating_count: int
    fee_statuses: dict[str, int]
    stay_days: int
    newcomers: list[int]
    stayed: list[int]
    pending: list[int]
    newcomers_stayed_rate: float | None


class AttendanceOut(Schema):
    rows: int
    attended: int
    checked_in: int
    already_checked_in: int
    registered: int
    members_created: int
    no_shows: int
    ignored_columns: list[str]


class RitualOut(Schema):
    id: int
    name: str
    description: str
    frequency: str
    rule: str
    first_starts_at: dt.datetime
    time_zone: str
    title: str
    duration_minutes: int
    mode: str
    content_type: str
    capacity: int | None
    fee_amount: Decimal
    currency: str
    place: str
    link: str
    organiser_id: int | None
    active: bool
    occurrences: int


class OccurrenceOut(Schema):
    activity_id: int
    title: str
    starts_at: dt.datetime
    status: str
    capacity: int | None
    registered: int
    attended: int


class RitualDetail(RitualOut):
    attendance: list[OccurrenceOut]


class RitualIn(Strict):
    name: str = Field(..., max_length=200)
    description: str = Field("", max_length=100_000)
    frequency: str = Field(..., max_length=16, description="weekly, monthly or custom")
    rule: str = Field("", max_length=500, description="An RFC 5545 RRULE (custom only).")
    first_starts_at: str = Field(..., max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64)
    title: str = Field("", max_length=200)
    duration_minutes: int = Field(60, ge=-10_000_000, le=10_000_000)
    mode: str = Field(..., max_length=16)
    content_type: str = Field(..., max_length=16)
    capacity: int | None = Field(None, ge=0, le=10_000_000)
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str = Field("", max_length=3)
    place: str = Field("", max_length=500)
    link: str = Field("", max_length=500)
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool = True


class RitualPatch(Strict):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=100_000)
    frequency: str | None = Field(None, max_length=16)
    rule: str | None = Field(None, max_length=500)
    first_starts_at: str | None = Field(None, max_length=64, description=MOMENT_HELP)
    time_zone: str | None = Field(None, max_length=64)
    title: str | None = Field(None, max_length=200)
    duration_minutes: int | None = Field(None, ge=-10_000_000, le=10_000_000)
    mode: str | None = Field(None, max_length=16)
    content_type: str | None = Field(None, max_length=16)
    capacity: int | None = Field(None, ge=0, le=10_000_000)
    fee_amount: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))
    currency: str | None = Field(None, max_length=3)
    place: str | None = Field(None, max_length=500)
    link: str | None = Field(None, max_length=500)
    organiser_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool | None = None


class GenerateIn(Strict):
    until: str = Field(
        ..., max_length=64, description="The last local day (2024-12-31) or a moment, included."
    )
    publish: bool = Field(True, description="Publish the new occurrences (else drafts).")


class GeneratedOut(Schema):
    created: list[ActivityOut]


# ------------------------------------------------------------------------------ helpers
def _refused(request: HttpRequest, error: ActivityError) -> HttpResponse:
    """422 problem details naming every field at fault; nothing was written."""
    from shequn.api.api import api

    errors = [
        {"loc": ["body", field] if field else ["body"], "msg": message}
        for field, message in error.problems.items()
    ]
    return problem(api, request, 422, _("Refused"), str(error), errors)


def _activity(community: Community, activity_id: int) -> Activity:
    return get_object_or_404(
        Activity.objects.select_related("community"), community=community, pk=activity_id
    )


def _registration(activity: Activity, registration_id: int) -> Registration:
    return get_object_or_404(
        Registration.objects.select_related("member", "activity__community"),
        activity=activity,
        pk=registration_id,
    )


def _ritual(community: Community, ritual_id: int) -> Ritual:
    return get_object_or_404(Ritual, community=community, pk=ritual_id)


def _values(payload: Schema, community: Community, *, partial: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=partial)
    if "organiser_id" in values:
        organiser = values.pop("organiser_id")
        values["organiser"] = _member_or_problem(community, organiser, "organiser")
    return values


def _member_or_problem(community: Community, member_id: int | None, field: str) -> Member | None:
    if member_id is None:
        return None
    member = Member.objects.filter(community=community, pk=member_id).first()
    if member is None:
        raise ActivityError(_("must be a member of this community"), field=field)
    return member


ACTIVITY_FIELDS = (
    "title",
    "description",
    "status",
    "mode",
    "content_type",
    "organiser_id",
    "organised_by_staff",
    "starts_at",
    "ends_at",
    "time_zone",
    "place",
    "link",
    "capacity",
    "fee_amount",
    "currency",
    "registration_opens_at",
    "registration_closes_at",
    "ritual_id",
)


def _activity_out(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    from shequn.web.views.activities_public import public_url

    counted = activity if hasattr(activity, "confirmed") else activity_with_counts(activity)
    return {
        "id": counted.pk,
        **{field: getattr(counted, field) for field in ACTIVITY_FIELDS},
        "public_url": request.build_absolute_uri(public_url(counted)),
        "confirmed": counted.confirmed,
        "waitlisted": counted.waitlisted,
        "attended": counted.attended,
        "places_left": places_left(counted),
    }


def _activity_detail(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    return {
        **_activity_out(request, activity),
        "guests": [_guest_out(guest) for guest in activity_guests(activity)],
    }


def _guest_out(guest: Guest) -> dict[str, Any]:
    return {
        "id": guest.pk,
        "member_id": guest.member_id,
        "display_name": guest.display_name,
        "affiliation": guest.affiliation,
        "bio": guest.bio,
        "role": guest.role,
    }


def _registration_out(registration: Registration, position: int | None = None) -> dict[str, Any]:
    if position is None and registration.status == Registration.Status.WAITLISTED:
        from shequn.activities.selectors import waitlist_position

        position = waitlist_position(registration)
    return {
        "id": registration.pk,
        "activity_id": registration.activity_id,
        "member_id": registration.member_id,
        "display_name": registration.member.display_name,
        "member_key": registration.member.key,
        "status": registration.status,
        "fee_status": registration.fee_status,
        "source": registration.source,
        "code": registration.code,
        "registered_at": registration.registered_at,
        "waitlisted_at": registration.waitlisted_at,
        "confirmed_at": registration.confirmed_at,
        "cancelled_at": registration.cancelled_at,
        "checked_in_at": registration.checked_in_at,
        "waitlist_position": position,
    }


def _feedback_out(feedback: Any) -> dict[str, Any]:
    return {
        "registration_id": feedback.registration_id,
        "member_id": feedback.registration.member_id,
        "display_name": feedback.registration.member.display_name,
        "rating": feedback.rating,
        "comment": feedback.comment,
        "created_at": feedback.created_at,
        "updated_at": feedback.updated_at,
    }


def _fee_change(entry: Any) -> dict[str, Any]:
    details = entry.details if isinstance(entry.details, dict) else {}
    before = details.get("before") or {}
    after = details.get("after") or {}
    return {
        "at": entry.created_at,
        "actor": entry.actor_label,
        "before": before.get("fee_status"),
        "after": after.get("fee_status"),
        "note": after.get("note", ""),
    }


def _ritual_out(ritual: Ritual, occurrences: int | None = None) -> dict[str, Any]:
    if occurrences is None:
        occurrences = getattr(ritual, "occurrences_count", None)
    if occurrences is None:
        occurrences = ritual.occurrences.count()
    return {
        **{
            field: getattr(ritual, field)
            for field in RitualOut.model_fields
            if field not in ("occurrences",)
        },
        "occurrences": occurrences,
    }


def _calendar(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _until(text: str) -> dt.date | dt.datetime:
    value = text.strip()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ActivityError(
            _("must be a day like %(example)s, not %(value)s")
            % {"example": "2024-12-31", "value": repr(text)},
            field="until",
        ) from None
    return moment


# ---------------------------------------------------------------------------- activities
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
    return [_activity_out(request, activity) for activity in activities]


@router.post(
    "/communities/{slug}/activities",
    response={201: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Create an activity, as a draft (operators); problems name each field",
)
def create_activity(request: HttpRequest, slug: str, payload: ActivityIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_create_activity(
            community, _values(payload, community, partial=False), actor=request.user
        )
    except ActivityError as exc:
        return _refused(request, exc)
    return Status(201, _activity_detail(request, activity))


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
    return _calendar(data, f"{community.slug}.ics")


@router.get(
    "/communities/{slug}/activities/{activity_id}",
    response={200: ActivityDetail, 404: Problem},
    summary="One activity with its counts and guests",
)
def get_activity(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> dict[str, Any]:
    community = community_or_404(request, slug)
    return _activity_detail(request, _activity(community, activity_id))


@router.patch(
    "/communities/{slug}/activities/{activity_id}",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Change an activity (operators); a larger capacity moves the waitlist up",
)
def patch_activity(
    request: HttpRequest,
    slug: str,
    payload: ActivityPatch,
    activity_id: int = _id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = _activity(community, activity_id)
    try:
        activity = do_update_activity(
            activity, _values(payload, community, partial=True), actor=request.user
        )
    except ActivityError as exc:
        return _refused(request, exc)
    return _activity_detail(request, activity)


@router.delete(
    "/communities/{slug}/activities/{activity_id}",
    response={204: None, 403: Problem, 404: Problem, 422: Problem},
    summary="Delete a draft nobody registered for (operators); cancel anything else",
)
def delete_activity(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        do_delete_activity(_activity(community, activity_id), actor=request.user)
    except ActivityError as exc:
        return _refused(request, exc)
    return Status(204, None)


@router.post(
    "/communities/{slug}/activities/{activity_id}/publish",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Publish a draft: it appears in calendars and registration can open (operators)",
)
def publish_activity(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_publish_activity(_activity(community, activity_id), actor=request.user)
    except ActivityError as exc:
        return _refused(request, exc)
    return _activity_detail(request, activity)


@router.post(
    "/communities/{slug}/activities/{activity_id}/cancel",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Call an activity off (operators); registrations are kept",
)
def cancel_activity(
    request: HttpRequest,
    slug: str,
    payload: CancelIn,
    activity_id: int = _id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_cancel_activity(
            _activity(community, activity_id), actor=request.user, reason=payload.reason
        )
    except ActivityError as exc:
        return _refused(request, exc)
    return _activity_detail(request, activity)


@router.post(
    "/communities/{slug}/activities/{activity_id}/complete",
    response={200: ActivityDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Mark a published activity that has started as done (operators)",
)
def complete_activity(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        activity = do_complete_activity(_activity(community, activity_id), actor=request.user)
    except ActivityError as exc:
        return _refused(request, exc)
    return _activity_detail(request, activity)


@router.get(
    "/communities/{slug}/activities/{activity_id}/activity.ics",
    response={200: str, 404: Problem},
    summary="One activity as an iCalendar file",
    openapi_extra={"responses": CALENDAR},
)
def activity_calendar(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> HttpResponse:
    from shequn.web.views.activities_public import public_url

    activity = _activity(community_or_404(request, slug), activity_id)
    url = request.build_absolute_uri(public_url(activity))
    return _calendar(activity_ics(activity, url=url), f"activity-{activity.pk}.ics")


@router.get(
    "/communities/{slug}/activities/{activity_id}/report",
    response={200: ReportOut, 404: Problem},
    summary="Registered, attended, no-shows, first-time and returning, rating, newcomers",
)
def get_report(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> dict[str, Any]:
    activity = _activity(community_or_404(request, slug), activity_id)
    report = activity_report(activity)
    return {**vars(report), "newcomers_stayed_rate": report.newcomers_stayed_rate}


# -------------------------------------------------------------------------------- guests
@router.post(
    "/communities/{slug}/activities/{activity_id}/guests",
    response={201: GuestOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Add a speaker, co-host or special guest: a member or someone from outside",
)
def add_guest(
    request: HttpRequest,
    slug: str,
    payload: GuestIn,
    activity_id: int = _id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = _activity(community, activity_id)
    try:
        guest = do_add_guest(
            activity,
            member=_member_or_problem(community, payload.member_id, "member_id"),
            name=payload.name,
            affiliation=payload.affiliation,
            bio=payload.bio,
            role=payload.role,
            actor=request.user,
        )
    except ActivityError as exc:
        return _refused(request, exc)
    return Status(201, _guest_out(guest))


@router.delete(
    "/communities/{slug}/activities/{activity_id}/guests/{guest_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Remove a guest (operators)",
)
def remove_guest(
    request: HttpRequest,
    slug: str,
    activity_id: int = _id("The activity's id."),
    guest_id: int = _id("The guest's id."),
) -> Status:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = _activity(community, activity_id)
    guest = get_object_or_404(
        Guest.objects.select_related("member"), activity=activity, pk=guest_id
    )
    do_remove_guest(guest, actor=request.user)
    return Status(204, None)


# ------------------------------------------------------------------------- registrations
@router.get(
    "/communities/{slug}/activities/{activity_id}/registrations",
    response={200: list[RegistrationOut], 404: Problem},
    summary="Registrations: confirmed, then the waitlist in order, then cancelled",
)
@paginate(Page)
def list_registrations(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    slug: str,
    activity_id: int = _id("The activity's id."),
    status: str = Query("", pattern="^(|confirmed|waitlisted|cancelled)$"),
):
    activity = _activity(community_or_404(request, slug), activity_id)
    registrations = list(activity_registrations(activity))
    positions = waitlist_positions(registrations)
    return [
        _registration_out(registration, positions.get(registration.pk))
        for registration in registrations
        if not status or registration.status == status
    ]


@router.post(
    "/communities/{slug}/activities/{activity_id}/registrations",
    response={201: RegistrationOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Register a member (member_id) or someone by name and e-mail (operators)",
)
def create_registration(
    request: HttpRequest,
    slug: str,
    payload: RegistrationIn,
    activity_id: int = _id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = _activity(community, activity_id)
    try:
        member = _member_or_problem(community, payload.member_id, "member_id")
        if member is not None:
            registration = do_register(
                activity, member, actor=request.user, override=payload.override
            )
        elif payload.name or payload.email:
            registration = do_register_contact(
                activity,
                name=payload.name,
                email=payload.email,
                actor=request.user,
                self_service=False,
                override=payload.override,
            )
        else:
            raise ActivityError(
                _("Give a member, or a name and an e-mail address."), field="member_id"
            )
    except ActivityError as exc:
        return _refused(request, exc)
    return Status(201, _registration_out(registration))


@router.get(
    "/communities/{slug}/activities/{activity_id}/registrations.csv",
    response={200: str, 404: Problem},
    summary="The registrations as CSV (operators)",
    openapi_extra={"responses": CSV},
)
def export_registrations(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> HttpResponse:
    activity = _activity(community_or_404(request, slug, AccessRole.OPERATOR), activity_id)
    response = HttpResponse(registrations_csv(activity), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="activity-{activity.pk}-registrations.csv"'
    )
    return response


@router.get(
    "/communities/{slug}/activities/{activity_id}/registrations/{registration_id}",
    response={200: RegistrationDetail, 404: Problem},
    summary="One registration with its fee history and feedback",
)
def get_registration(
    request: HttpRequest,
    slug: str,
    activity_id: int = _id("The activity's id."),
    registration_id: int = _id("The registration's id."),
) -> dict[str, Any]:
    activity = _activity(community_or_404(request, slug), activity_id)
    registration = _registration(activity, registration_id)
    feedback = activity_feedback(activity).filter(registration=registration).first()
    return {
        **_registration_out(registration),
        "fee_history": [_fee_change(entry) for entry in fee_history(registration)],
        "feedback": _feedback_out(feedback) if feedback else None,
    }


@router.post(
    "/communities/{slug}/activities/{activity_id}/registrations/{registration_id}/cancel",
    response={200: CancelledOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Cancel a registration (operators); a freed place goes to the waitlist",
)
def cancel_registration(
    request: HttpRequest,
    slug: str,
    activity_id: int = _id("The activity's id."),
    registration_id: int = _id("The registration's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    registration = _registration(_activity(community, activity_id), registration_id)
    try:
        promoted = do_cancel_registration(registration, actor=request.user)
    except ActivityError as exc:
        return _refused(request, exc)
    return {
        "registration": _registration_out(registration),
        "promoted": [_registration_out(person) for person in promoted],
    }


@router.post(
    "/communities/{slug}/activities/{activity_id}/registrations/{registration_id}/fee",
    response={200: RegistrationOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Record a payment, refund or waiver with a note (operators; audited)",
)
def set_fee(
    request: HttpRequest,
    slug: str,
    payload: FeeIn,
    activity_id: int = _id("The activity's id."),
    registration_id: int = _id("The registration's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    registration = _registration(_activity(community, activity_id), registration_id)
    try:
        do_set_fee_status(registration, payload.fee_status, actor=request.user, note=payload.note)
    except ActivityError as exc:
        return _refused(request, exc)
    registration.refresh_from_db()
    return _registration_out(registration)


@router.post(
    "/communities/{slug}/activities/{activity_id}/check-in",
    response={200: CheckInOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Check the holder of a code in (operators); again changes nothing",
)
def check_in(
    request: HttpRequest,
    slug: str,
    payload: CheckInIn,
    activity_id: int = _id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = _activity(community, activity_id)
    try:
        result = do_check_in(activity, payload.code, actor=request.user)
    except ActivityError as exc:
        return _refused(request, exc)
    return {"already": result.already, "registration": _registration_out(result.registration)}


@router.post(
    "/communities/{slug}/activities/{activity_id}/attendance",
    response={200: AttendanceOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Import who attended from a CSV file: all of it or nothing (operators)",
)
def import_attendance(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    activity_id: int = _id("The activity's id."),
    create_missing: Form[bool] = False,
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = _activity(community, activity_id)
    try:
        result = do_import_attendance(
            activity,
            file,
            name=file.name,
            actor=request.user,
            create_missing=create_missing,
        )
    except ImportFormatError as exc:
        from shequn.api.api import api

        errors = [{"loc": ["body", "file"], "msg": str(exc)}]
        return problem(api, request, 422, _("Refused"), str(exc), errors)
    except ActivityError as exc:
        return _refused(request, exc)
    return vars(result)


# ------------------------------------------------------------------------------ feedback
@router.get(
    "/communities/{slug}/activities/{activity_id}/feedback",
    response={200: list[FeedbackOut], 404: Problem},
    summary="The attendees' ratings and comments, newest first",
)
def list_feedback(
    request: HttpRequest, slug: str, activity_id: int = _id("The activity's id.")
) -> list[dict[str, Any]]:
    activity = _activity(community_or_404(request, slug), activity_id)
    return [_feedback_out(feedback) for feedback in activity_feedback(activity)]


@router.post(
    "/communities/{slug}/activities/{activity_id}/registrations/{registration_id}/feedback",
    response={200: FeedbackOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Record an attendee's rating (1-5) and comment (operators, for the attendee)",
)
def leave_feedback(
    request: HttpRequest,
    slug: str,
    payload: FeedbackIn,
    activity_id: int = _id("The activity's id."),
    registration_id: int = _id("The registration's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    registration = _registration(_activity(community, activity_id), registration_id)
    try:
        feedback = do_leave_feedback(registration, rating=payload.rating, comment=payload.comment)
    except ActivityError as exc:
        return _refused(request, exc)
    feedback.registration = registration
    return _feedback_out(feedback)


# ------------------------------------------------------------------------------- rituals
@router.get(
    "/communities/{slug}/rituals",
    response={200: list[RitualOut], 404: Problem},
    summary="The community's rituals (recurring activities)",
)
def list_rituals(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [_ritual_out(ritual) for ritual in community_rituals(community)]


@router.post(
    "/communities/{slug}/rituals",
    response={201: RitualDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Create a ritual: weekly, monthly or a custom RRULE, and its template (operators)",
)
def create_ritual(request: HttpRequest, slug: str, payload: RitualIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        ritual = do_create_ritual(
            community, _values(payload, community, partial=False), actor=request.user
        )
    except ActivityError as exc:
        return _refused(request, exc)
    return Status(201, {**_ritual_out(ritual, 0), "attendance": []})


@router.get(
    "/communities/{slug}/rituals/{ritual_id}",
    response={200: RitualDetail, 404: Problem},
    summary="A ritual with its attendance per occurrence",
)
def get_ritual(
    request: HttpRequest, slug: str, ritual_id: int = _id("The ritual's id.")
) -> dict[str, Any]:
    ritual = _ritual(community_or_404(request, slug), ritual_id)
    attendance = ritual_attendance(ritual)
    return {**_ritual_out(ritual, len(attendance)), "attendance": [vars(row) for row in attendance]}


@router.patch(
    "/communities/{slug}/rituals/{ritual_id}",
    response={200: RitualDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a ritual (operators); occurrences already generated keep their values",
)
def patch_ritual(
    request: HttpRequest,
    slug: str,
    payload: RitualPatch,
    ritual_id: int = _id("The ritual's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    ritual = _ritual(community, ritual_id)
    try:
        ritual = do_update_ritual(
            ritual, _values(payload, community, partial=True), actor=request.user
        )
    except ActivityError as exc:
        return _refused(request, exc)
    attendance = ritual_attendance(ritual)
    return {**_ritual_out(ritual, len(attendance)), "attendance": [vars(row) for row in attendance]}


@router.post(
    "/communities/{slug}/rituals/{ritual_id}/generate",
    response={200: GeneratedOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Create the ritual's occurrences up to a day; existing ones are kept (operators)",
)
def generate(
    request: HttpRequest,
    slug: str,
    payload: GenerateIn,
    ritual_id: int = _id("The ritual's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    ritual = _ritual(community, ritual_id)
    try:
        created = do_generate_occurrences(
            ritual, until=_until(payload.until), publish=payload.publish, actor=request.user
        )
    except ActivityError as exc:
        return _refused(request, exc)
    return {"created": [_activity_out(request, activity) for activity in created]}
