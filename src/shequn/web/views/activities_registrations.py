"""Registrations of an activity (operators): registering, cancelling, fees, tickets and their
QR codes, the check-in page at the door, and the files in and out."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.activities.csv_io import registrations_csv
from shequn.activities.models import Registration
from shequn.activities.selectors import (
    activity_registrations,
    fee_history,
    registration_by_code,
)
from shequn.activities.services import (
    FEE_MOVES,
    ActivityError,
    CheckInError,
    do_cancel_registration,
    do_check_in,
    do_import_attendance,
    do_register,
    do_register_contact,
    do_set_fee_status,
)
from shequn.activities.web_selectors import (
    activity_feedback,
    activity_with_counts,
    waitlist_positions,
)
from shequn.audit.selectors import describe_details
from shequn.interactions.importers.records import ImportFormatError
from shequn.web.access import community_view
from shequn.web.views.activities_common import (
    activity_or_404,
    detail_redirect,
    problems_text,
    registration_or_404,
    resolve_member,
)
from shequn.web.views.activities_forms import (
    AttendanceForm,
    CheckInForm,
    FeeForm,
    RegisterForm,
)
from shequn.web.views.activities_public import (
    check_in_url,
    feedback_url,
    qr_for,
    ticket_url,
)


@community_view(AccessRole.OPERATOR)
@require_POST
def registration_add(request: HttpRequest, activity_id: int) -> HttpResponse:
    """An operator registers a member (or someone by name and e-mail)."""
    community = request.community
    found = activity_or_404(community, activity_id)
    form = RegisterForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "; ".join(str(error) for errors in form.errors.values() for error in errors),
        )
        return detail_redirect(found, "registrations")
    data = form.cleaned_data
    try:
        member = resolve_member(community, data["member"])
        if member is not None:
            registration = do_register(found, member, actor=request.user, override=data["override"])
        elif data["name"] or data["email"]:
            registration = do_register_contact(
                found,
                name=data["name"],
                email=data["email"],
                actor=request.user,
                self_service=False,
                override=data["override"],
            )
        else:
            raise ActivityError(
                _("Give a member, or a name and an e-mail address."), field="member"
            )
    except ActivityError as exc:
        messages.error(request, problems_text(exc))
    else:
        if registration.status == Registration.Status.CONFIRMED:
            messages.success(
                request,
                _("%(name)s is registered with a confirmed place.")
                % {"name": registration.member.display_name},
            )
        else:
            messages.warning(
                request,
                _("The activity is full: %(name)s is on the waitlist.")
                % {"name": registration.member.display_name},
            )
    return detail_redirect(found, "registrations")


@community_view(AccessRole.OPERATOR)
def registration_page(request: HttpRequest, activity_id: int, registration_id: int) -> HttpResponse:
    """One registration: the ticket (code, QR code, private links), fee and its history."""
    found = activity_or_404(request.community, activity_id)
    current = registration_or_404(found, registration_id)
    history = [
        {"entry": entry, "details": describe_details(entry.details)}
        for entry in fee_history(current)
    ]
    positions = waitlist_positions(activity_registrations(found, status="waitlisted"))
    return render(
        request,
        "web/activities/registration.html",
        {
            "community": request.community,
            "section": "activities",
            "activity": found,
            "registration": current,
            "position": positions.get(current.pk),
            "qr": qr_for(request, current, scale=6)
            if current.status == Registration.Status.CONFIRMED
            else "",
            "fee_moves": sorted(FEE_MOVES.get(current.fee_status, ())),
            "fee_labels": dict(Registration.FeeStatus.choices),
            "fee_history": history,
            "feedback_entry": activity_feedback(found).filter(registration=current).first(),
            "ticket_link": request.build_absolute_uri(ticket_url(current)),
            "feedback_link": request.build_absolute_uri(feedback_url(current)),
            "check_in_link": check_in_url(current),
            "fee_form": FeeForm(),
        },
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def registration_cancel(
    request: HttpRequest, activity_id: int, registration_id: int
) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    current = registration_or_404(found, registration_id)
    try:
        promoted = do_cancel_registration(current, actor=request.user)
    except ActivityError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(
            request,
            _("Registration of %(name)s cancelled.") % {"name": current.member.display_name},
        )
        for person in promoted:
            messages.info(
                request,
                _("%(name)s moved up from the waitlist and has a place now.")
                % {"name": person.member.display_name},
            )
    return detail_redirect(found, "registrations")


@community_view(AccessRole.OPERATOR)
@require_POST
def registration_fee(request: HttpRequest, activity_id: int, registration_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    current = registration_or_404(found, registration_id)
    form = FeeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a fee status."))
    else:
        try:
            do_set_fee_status(
                current,
                form.cleaned_data["fee_status"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ActivityError as exc:
            messages.error(request, problems_text(exc))
        else:
            messages.success(
                request,
                _("Fee status of %(name)s: %(status)s.")
                % {
                    "name": current.member.display_name,
                    "status": Registration.FeeStatus(form.cleaned_data["fee_status"]).label,
                },
            )
    if request.POST.get("next") == "registration":
        return redirect("web:activity_registration", request.community.slug, found.pk, current.pk)
    return detail_redirect(found, "registrations")


@community_view(AccessRole.OPERATOR)
def registration_qr(request: HttpRequest, activity_id: int, registration_id: int) -> HttpResponse:
    """The registration's QR code (SVG) holding its check-in URL, to print or show."""
    found = activity_or_404(request.community, activity_id)
    current = registration_or_404(found, registration_id)
    svg = qr_for(request, current, scale=8)
    if "xmlns=" not in svg:
        svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return HttpResponse(svg, content_type="image/svg+xml")


@community_view(AccessRole.OPERATOR)
def check_in(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The door: type (or scan) a code, see at once whether that person may come in.

    A scanned QR code opens this page with ``?code=``: the person is shown, and the operator
    checks them in with one tap (a GET never changes anything)."""
    found = activity_or_404(request.community, activity_id)
    result: dict[str, Any] | None = None
    preview = None
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["code"]
            try:
                outcome = do_check_in(found, code, actor=request.user)
            except CheckInError as exc:
                known = registration_by_code(found, code)
                state = "wrong"
                if known is not None and known.status == Registration.Status.WAITLISTED:
                    state = "waitlisted"
                elif known is not None and known.status == Registration.Status.CANCELLED:
                    state = "cancelled"
                result = {"state": state, "message": exc.message, "registration": known}
            else:
                result = {
                    "state": "already" if outcome.already else "ok",
                    "registration": outcome.registration,
                }
            form = CheckInForm()
    else:
        code = request.GET.get("code", "")
        form = CheckInForm(initial={"code": code})
        if code:
            preview = registration_by_code(found, code)
    counted = activity_with_counts(found)
    return render(
        request,
        "web/activities/check_in.html",
        {
            "community": request.community,
            "section": "activities",
            "activity": counted,
            "form": form,
            "result": result,
            "preview": preview,
        },
        status=422 if result and result["state"] not in ("ok", "already") else 200,
    )


@community_view(AccessRole.OPERATOR)
def registrations_export(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    response = HttpResponse(registrations_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="activity-{found.pk}-registrations.csv"'
    )
    return response


@community_view(AccessRole.OPERATOR)
def attendance_import(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Who came, from an event platform's CSV: checked whole first; any problem names the
    file, the line and what is wrong, and nothing is changed."""
    found = activity_or_404(request.community, activity_id)
    error: dict[str, str] | None = None
    status = 200
    if request.method == "POST":
        form = AttendanceForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = do_import_attendance(
                    found,
                    upload,
                    name=upload.name,
                    actor=request.user,
                    create_missing=form.cleaned_data["create_missing"],
                )
            except ImportFormatError as exc:
                error = {"file": exc.path, "line": exc.location, "problem": exc.problem}
            except ActivityError as exc:
                error = {"file": upload.name, "line": "", "problem": problems_text(exc)}
            else:
                messages.success(
                    request,
                    _(
                        "%(file)s imported: %(rows)s rows, %(checked_in)s checked in now "
                        "(%(already)s already were), %(registered)s registered, %(created)s new "
                        "members, %(no_shows)s did not come."
                    )
                    % {
                        "file": upload.name,
                        "rows": result.rows,
                        "checked_in": result.checked_in,
                        "already": result.already_checked_in,
                        "registered": result.registered,
                        "created": result.members_created,
                        "no_shows": result.no_shows,
                    },
                )
                if result.ignored_columns:
                    messages.info(
                        request,
                        _("Columns ignored: %(columns)s.")
                        % {"columns": ", ".join(result.ignored_columns)},
                    )
                return detail_redirect(found, "registrations")
        status = 400
    else:
        form = AttendanceForm()
    return render(
        request,
        "web/activities/attendance.html",
        {
            "community": request.community,
            "section": "activities",
            "activity": found,
            "form": form,
            "error": error,
        },
        status=status,
    )
