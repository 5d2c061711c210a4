"""Registrations: places and the waitlist, fees, check-in, attendance files, feedback."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from shequn.accounts.models import AccessRole
from shequn.activities.csv_io import registrations_csv
from shequn.activities.selectors import (
    activity_registrations,
    fee_history,
)
from shequn.activities.services import (
    ActivityError,
    do_cancel_registration,
    do_check_in,
    do_import_attendance,
    do_leave_feedback,
    do_register,
    do_register_contact,
    do_set_fee_status,
)
from shequn.activities.web_selectors import (
    activity_feedback,
    waitlist_positions,
)
from shequn.api.access import community_or_404
from shequn.api.errors import Problem, problem
from shequn.api.pagination import Page
from shequn.api.routers.activities.common import (
    activity_or_404,
    fee_change_out,
    feedback_out,
    member_or_problem,
    refused,
    registration_or_404,
    registration_out,
    router,
)
from shequn.api.routers.activities.schemas import (
    CSV,
    AttendanceOut,
    CancelledOut,
    CheckInIn,
    CheckInOut,
    FeedbackIn,
    FeedbackOut,
    FeeIn,
    RegistrationDetail,
    RegistrationIn,
    RegistrationOut,
    path_id,
)
from shequn.interactions.importers.records import ImportFormatError


@router.get(
    "/communities/{slug}/activities/{activity_id}/registrations",
    response={200: list[RegistrationOut], 404: Problem},
    summary="Registrations: confirmed, then the waitlist in order, then cancelled",
)
@paginate(Page)
def list_registrations(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    slug: str,
    activity_id: int = path_id("The activity's id."),
    status: str = Query("", pattern="^(|confirmed|waitlisted|cancelled)$"),
):
    activity = activity_or_404(community_or_404(request, slug), activity_id)
    registrations = list(activity_registrations(activity))
    positions = waitlist_positions(registrations)
    return [
        registration_out(registration, positions.get(registration.pk))
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
    activity_id: int = path_id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = activity_or_404(community, activity_id)
    try:
        member = member_or_problem(community, payload.member_id, "member_id")
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
        return refused(request, exc)
    return Status(201, registration_out(registration))


@router.get(
    "/communities/{slug}/activities/{activity_id}/registrations.csv",
    response={200: str, 404: Problem},
    summary="The registrations as CSV (operators)",
    openapi_extra={"responses": CSV},
)
def export_registrations(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> HttpResponse:
    activity = activity_or_404(community_or_404(request, slug, AccessRole.OPERATOR), activity_id)
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
    activity_id: int = path_id("The activity's id."),
    registration_id: int = path_id("The registration's id."),
) -> dict[str, Any]:
    activity = activity_or_404(community_or_404(request, slug), activity_id)
    registration = registration_or_404(activity, registration_id)
    feedback = activity_feedback(activity).filter(registration=registration).first()
    return {
        **registration_out(registration),
        "fee_history": [fee_change_out(entry) for entry in fee_history(registration)],
        "feedback": feedback_out(feedback) if feedback else None,
    }


@router.post(
    "/communities/{slug}/activities/{activity_id}/registrations/{registration_id}/cancel",
    response={200: CancelledOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Cancel a registration (operators); a freed place goes to the waitlist",
)
def cancel_registration(
    request: HttpRequest,
    slug: str,
    activity_id: int = path_id("The activity's id."),
    registration_id: int = path_id("The registration's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    registration = registration_or_404(activity_or_404(community, activity_id), registration_id)
    try:
        promoted = do_cancel_registration(registration, actor=request.user)
    except ActivityError as exc:
        return refused(request, exc)
    return {
        "registration": registration_out(registration),
        "promoted": [registration_out(person) for person in promoted],
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
    activity_id: int = path_id("The activity's id."),
    registration_id: int = path_id("The registration's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    registration = registration_or_404(activity_or_404(community, activity_id), registration_id)
    try:
        do_set_fee_status(registration, payload.fee_status, actor=request.user, note=payload.note)
    except ActivityError as exc:
        return refused(request, exc)
    registration.refresh_from_db()
    return registration_out(registration)


@router.post(
    "/communities/{slug}/activities/{activity_id}/check-in",
    response={200: CheckInOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Check the holder of a code in (operators); again changes nothing",
)
def check_in(
    request: HttpRequest,
    slug: str,
    payload: CheckInIn,
    activity_id: int = path_id("The activity's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = activity_or_404(community, activity_id)
    try:
        result = do_check_in(activity, payload.code, actor=request.user)
    except ActivityError as exc:
        return refused(request, exc)
    return {"already": result.already, "registration": registration_out(result.registration)}


@router.post(
    "/communities/{slug}/activities/{activity_id}/attendance",
    response={200: AttendanceOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Import who attended from a CSV file: all of it or nothing (operators)",
)
def import_attendance(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    activity_id: int = path_id("The activity's id."),
    create_missing: Form[bool] = False,
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    activity = activity_or_404(community, activity_id)
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
        return refused(request, exc)
    return vars(result)


@router.get(
    "/communities/{slug}/activities/{activity_id}/feedback",
    response={200: list[FeedbackOut], 404: Problem},
    summary="The attendees' ratings and comments, newest first",
)
def list_feedback(
    request: HttpRequest, slug: str, activity_id: int = path_id("The activity's id.")
) -> list[dict[str, Any]]:
    activity = activity_or_404(community_or_404(request, slug), activity_id)
    return [feedback_out(feedback) for feedback in activity_feedback(activity)]


@router.post(
    "/communities/{slug}/activities/{activity_id}/registrations/{registration_id}/feedback",
    response={200: FeedbackOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Record an attendee's rating (1-5) and comment (operators, for the attendee)",
)
def leave_feedback(
    request: HttpRequest,
    slug: str,
    payload: FeedbackIn,
    activity_id: int = path_id("The activity's id."),
    registration_id: int = path_id("The registration's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    registration = registration_or_404(activity_or_404(community, activity_id), registration_id)
    try:
        feedback = do_leave_feedback(registration, rating=payload.rating, comment=payload.comment)
    except ActivityError as exc:
        return refused(request, exc)
    feedback.registration = registration
    return feedback_out(feedback)
