"""Activities (社群互动) of a community: the calendar and the figures, one activity with its
guests, registrations, fees, report and feedback, the check-in page at the door, CSV in and
out and the calendar files.

Everyone with access reads; operators create and change, always through
``shequn.activities.services`` (validated, one transaction, audited). Views only parse what
was sent, check the role and call a service or a selector.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.activities.csv_io import registrations_csv
from shequn.activities.ical import activity_ics, community_ics
from shequn.activities.models import Activity, ContentKind, Guest, Mode, Registration
from shequn.activities.selectors import (
    activity_guests,
    activity_mix,
    activity_registrations,
    activity_report,
    community_activities,
    fee_history,
    registration_by_code,
    turnout_by_month,
    upcoming_activities,
)
from shequn.activities.services import (
    FEE_MOVES,
    ActivityError,
    CheckInError,
    do_add_guest,
    do_cancel_activity,
    do_cancel_registration,
    do_check_in,
    do_complete_activity,
    do_create_activity,
    do_delete_activity,
    do_import_attendance,
    do_publish_activity,
    do_register,
    do_register_contact,
    do_remove_guest,
    do_set_fee_status,
    do_update_activity,
)
from shequn.activities.validation import activity_values
from shequn.activities.web_selectors import (
    activity_feedback,
    activity_with_counts,
    find_member,
    places_left,
    registration_refusal,
    waitlist_positions,
)
from shequn.audit.selectors import describe_details
from shequn.communities.models import Community
from shequn.interactions.importers.records import ImportFormatError
from shequn.members.models import Member
from shequn.web.access import community_view
from shequn.web.views.activities_forms import (
    ActivityForm,
    AttendanceForm,
    CancelActivityForm,
    CheckInForm,
    FeeForm,
    GuestForm,
    RegisterForm,
    local_text,
)
from shequn.web.views.activities_public import (
    check_in_url,
    feed_url,
    feedback_url,
    public_url,
    qr_for,
    ticket_url,
)

PAST_PAGE_SIZE = 20
TURNOUT_MONTHS = 12


# ------------------------------------------------------------------------------ helpers
def _can_write(request: HttpRequest) -> bool:
    return can(request.access_role, AccessRole.OPERATOR)


def _activity(community: Community, activity_id: int) -> Activity:
    """The community's activity, or 404 (another community's answers as if it did not exist)."""
    found = (
        Activity.objects.filter(community=community, pk=activity_id)
        .select_related("community", "organiser", "ritual")
        .first()
    )
    if found is None:
        raise Http404
    return found


def _registration(activity: Activity, registration_id: int) -> Registration:
    found = (
        Registration.objects.filter(activity=activity, pk=registration_id)
        .select_related("member", "activity__community")
        .first()
    )
    if found is None:
        raise Http404
    return found


def _detail(activity: Activity, anchor: str = "") -> HttpResponse:
    url = reverse("web:activity", args=[activity.community.slug, activity.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _problems_text(error: ActivityError) -> str:
    """Every problem of a refused operation on one line, each with the field it concerns."""
    return "; ".join(
        f"{field}: {message}" if field and field not in ("code", "member", "activity") else message
        for field, message in error.problems.items()
    )


def resolve_member(community: Community, text: str, field: str = "member") -> Member | None:
    """The member an operator typed (id, key, name or handle); ``ActivityError`` naming
    ``field`` when nobody or several people match. Empty text: ``None``."""
    text = (text or "").strip()
    if not text:
        return None
    found = find_member(community, text)
    if not found:
        raise ActivityError(
            _("no member %(member)s in this community") % {"member": repr(text)}, field=field
        )
    if len(found) > 1:
        raise ActivityError(
            _("%(member)s matches several members (%(choices)s); use the member's id")
            % {
                "member": repr(text),
                "choices": ", ".join(f"#{m.pk} {m.display_name}" for m in found),
            },
            field=field,
        )
    return found[0]


def _form_values(form: ActivityForm, community: Community) -> dict[str, Any]:
    values = form.values()
    values["organiser"] = resolve_member(community, values.get("organiser") or "", "organiser")
    return values


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def agenda(activities: list[Activity], community: Community) -> list[dict[str, Any]]:
    """Activities grouped by the week (Monday, in the community's time zone) they start in."""
    zone = community.zoneinfo
    weeks: list[dict[str, Any]] = []
    for activity in activities:
        start = _week_start(activity.starts_at.astimezone(zone).date())
        if not weeks or weeks[-1]["start"] != start:
            weeks.append({"start": start, "end": start + dt.timedelta(days=6), "activities": []})
        weeks[-1]["activities"].append(activity)
    return weeks


def _share_rows(shares: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    total = sum(share.activities for share in shares.values())
    return [
        {
            "key": key,
            "label": labels.get(key, key),
            "activities": share.activities,
            "attended": share.attended,
            "percent": round(100 * share.activities / total, 1) if total else None,
        }
        for key, share in shares.items()
    ]


def turnout_chart(months: list[Any]) -> list[dict[str, Any]]:
    """Rows for the stacked bar chart of ``charts.js`` (kind ``activity``): per month, people
    who came (``messages``, the first series) and people with a place who did not come
    (``reactions``), so each bar is as high as the places confirmed."""
    return [
        {
            "period": month.month.strftime("%Y-%m"),
            "messages": month.attended,
            "reactions": max(0, month.confirmed - month.attended),
        }
        for month in months
    ]


# ------------------------------------------------------------------------------- pages
@community_view()
def activities(request: HttpRequest) -> HttpResponse:
    """The calendar (coming activities, week by week), past activities, the mix of kinds and
    organisers, and turnout per month."""
    community = request.community
    now = timezone.now()
    coming = upcoming_activities(community, now=now, include_drafts=True)
    past = community_activities(community).filter(ends_at__lte=now).order_by("-starts_at", "-id")
    page = Paginator(past, PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    mix = activity_mix(community)
    months = turnout_by_month(community, months=TURNOUT_MONTHS, now=now)

    can_write = _can_write(request)
    return render(
        request,
        "web/activities/index.html",
        {
            "community": community,
            "section": "activities",
            "weeks": agenda(coming, community),
            "past": page,
            "mix": mix,
            "by_mode": _share_rows(mix.by_mode, dict(Mode.choices)),
            "by_content_type": _share_rows(mix.by_content_type, dict(ContentKind.choices)),
            "by_organiser": _share_rows(
                mix.by_organiser, {"staff": _("founders and operators"), "members": _("members")}
            ),
            "months": months,
            "has_turnout": any(month.activities for month in months),
            "turnout_chart": turnout_chart(months),
            "can_write": can_write,
            "feed_link": request.build_absolute_uri(feed_url(community)) if can_write else "",
        },
    )


@community_view()
def calendar_ics(request: HttpRequest) -> HttpResponse:
    """The community's calendar as an .ics file, for the people with access."""
    community = request.community

    def url_for(activity: Activity) -> str:
        return request.build_absolute_uri(public_url(activity))

    response = HttpResponse(
        community_ics(community, url_for=url_for), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{community.slug}.ics"'
    return response


def _activity_form_page(
    request: HttpRequest, form: ActivityForm, activity: Activity | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/activities/form.html",
        {
            "community": request.community,
            "section": "activities",
            "form": form,
            "activity": activity,
        },
        status=status,
    )


@community_view(AccessRole.OPERATOR)
def activity_new(request: HttpRequest) -> HttpResponse:
    community = request.community
    if request.method == "POST":
        form = ActivityForm(request.POST)
        if form.is_valid():
            try:
                created = do_create_activity(
                    community, _form_values(form, community), actor=request.user
                )
            except ActivityError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(
                    request,
                    _("Activity created as a draft: publish it to open registration."),
                )
                return _detail(created)
        return _activity_form_page(request, form, None, status=400)
    initial = {"time_zone": community.time_zone, "mode": "offline", "fee_amount": "0"}
    return _activity_form_page(request, ActivityForm(initial=initial), None)


@community_view(AccessRole.OPERATOR)
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    community = request.community
    activity = _activity(community, activity_id)
    if request.method == "POST":
        form = ActivityForm(request.POST)
        if form.is_valid():
            try:
                do_update_activity(activity, _form_values(form, community), actor=request.user)
            except ActivityError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("Activity saved."))
                return _detail(activity)
        return _activity_form_page(request, form, activity, status=400)
    values = activity_values(activity)
    initial = {
        **values,
        "organiser": str(activity.organiser_id or ""),
        "capacity": "" if activity.capacity is None else str(activity.capacity),
        "fee_amount": str(activity.fee_amount),
    }
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        initial[name] = local_text(values[name], activity.time_zone)
    return _activity_form_page(request, ActivityForm(initial=initial), activity)


@community_view()
def activity_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    """One activity: what and when, guests, registrations (with fees and check-in), the
    report and the feedback."""
    community = request.community
    found = activity_with_counts(_activity(community, activity_id))
    registrations = list(activity_registrations(found))
    positions = waitlist_positions(registrations)
    can_write = _can_write(request)
    for registration in registrations:
        registration.position = positions.get(registration.pk)
        registration.fee_moves = sorted(FEE_MOVES.get(registration.fee_status, ()))
    now = timezone.now()
    return render(
        request,
        "web/activities/detail.html",
        {
            "community": community,
            "section": "activities",
            "activity": found,
            "places_left": places_left(found),
            "refusal": registration_refusal(found, now),
            "started": found.starts_at <= now,
            "guests": list(activity_guests(found)),
            "registrations": registrations,
            "report": activity_report(found, as_of=now),
            "feedback": list(activity_feedback(found)),
            "public_link": request.build_absolute_uri(public_url(found)),
            "can_write": can_write,
            "guest_form": GuestForm(),
            "register_form": RegisterForm(),
            "cancel_form": CancelActivityForm(),
            "fee_labels": dict(Registration.FeeStatus.choices),
        },
    )


# ----------------------------------------------------------------------- status changes
@community_view(AccessRole.OPERATOR)
@require_POST
def activity_publish(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    try:
        do_publish_activity(found, actor=request.user)
    except ActivityError as exc:
        messages.error(request, _problems_text(exc))
    else:
        messages.success(request, _("Published: registration is open on the public page."))
    return _detail(found)


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    form = CancelActivityForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        do_cancel_activity(found, actor=request.user, reason=reason)
    except ActivityError as exc:
        messages.error(request, _problems_text(exc))
    else:
        messages.success(
            request,
            _("Cancelled. Registrations are kept; refund paid fees one by one."),
        )
    return _detail(found)


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_complete(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    try:
        do_complete_activity(found, actor=request.user)
    except ActivityError as exc:
        messages.error(request, _problems_text(exc))
    else:
        messages.success(
            request,
            _("Marked as done; attendance, hosting and speaking now count for points and tiers."),
        )
    return _detail(found)


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    try:
        do_delete_activity(found, actor=request.user)
    except ActivityError as exc:
        messages.error(request, _problems_text(exc))
        return _detail(found)
    messages.success(request, _("Draft deleted."))
    return redirect("web:activities", request.community.slug)


# ------------------------------------------------------------------------------ guests
@community_view(AccessRole.OPERATOR)
@require_POST
def guest_add(request: HttpRequest, activity_id: int) -> HttpResponse:
    community = request.community
    found = _activity(community, activity_id)
    form = GuestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the guest's details."))
        return _detail(found, "guests")
    data = form.cleaned_data
    try:
        do_add_guest(
            found,
            member=resolve_member(community, data["member"]),
            name=data["name"],
            affiliation=data["affiliation"],
            bio=data["bio"],
            role=data["role"],
            actor=request.user,
        )
    except ActivityError as exc:
        messages.error(request, _problems_text(exc))
    else:
        messages.success(request, _("Guest added."))
    return _detail(found, "guests")


@community_view(AccessRole.OPERATOR)
@require_POST
def guest_remove(request: HttpRequest, activity_id: int, guest_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    guest = Guest.objects.filter(activity=found, pk=guest_id).select_related("member").first()
    if guest is None:
        raise Http404
    do_remove_guest(guest, actor=request.user)
    messages.success(request, _("Guest removed."))
    return _detail(found, "guests")


# ----------------------------------------------------------------------- registrations
@community_view(AccessRole.OPERATOR)
@require_POST
def registration_add(request: HttpRequest, activity_id: int) -> HttpResponse:
    """An operator registers a member (or someone by name and e-mail)."""
    community = request.community
    found = _activity(community, activity_id)
    form = RegisterForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "; ".join(str(error) for errors in form.errors.values() for error in errors),
        )
        return _detail(found, "registrations")
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
        messages.error(request, _problems_text(exc))
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
    return _detail(found, "registrations")


@community_view(AccessRole.OPERATOR)
def registration_page(request: HttpRequest, activity_id: int, registration_id: int) -> HttpResponse:
    """One registration: the ticket (code, QR code, private links), fee and its history."""
    found = _activity(request.community, activity_id)
    current = _registration(found, registration_id)
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
    found = _activity(request.community, activity_id)
    current = _registration(found, registration_id)
    try:
        promoted = do_cancel_registration(current, actor=request.user)
    except ActivityError as exc:
        messages.error(request, _problems_text(exc))
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
    return _detail(found, "registrations")


@community_view(AccessRole.OPERATOR)
@require_POST
def registration_fee(request: HttpRequest, activity_id: int, registration_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    current = _registration(found, registration_id)
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
            messages.error(request, _problems_text(exc))
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
    return _detail(found, "registrations")


@community_view(AccessRole.OPERATOR)
def registration_qr(request: HttpRequest, activity_id: int, registration_id: int) -> HttpResponse:
    """The registration's QR code (SVG) holding its check-in URL, to print or show."""
    found = _activity(request.community, activity_id)
    current = _registration(found, registration_id)
    svg = qr_for(request, current, scale=8)
    if "xmlns=" not in svg:
        svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return HttpResponse(svg, content_type="image/svg+xml")


# --------------------------------------------------------------------------- check-in
@community_view(AccessRole.OPERATOR)
def check_in(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The door: type (or scan) a code, see at once whether that person may come in.

    A scanned QR code opens this page with ``?code=``: the person is shown, and the operator
    checks them in with one tap (a GET never changes anything)."""
    found = _activity(request.community, activity_id)
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


# ------------------------------------------------------------------- files in and out
@community_view(AccessRole.OPERATOR)
def registrations_export(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    response = HttpResponse(registrations_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="activity-{found.pk}-registrations.csv"'
    )
    return response


@community_view(AccessRole.OPERATOR)
def attendance_import(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Who came, from an event platform's CSV: checked whole first; any problem names the
    file, the line and what is wrong, and nothing is changed."""
    found = _activity(request.community, activity_id)
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
                error = {"file": upload.name, "line": "", "problem": _problems_text(exc)}
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
                return _detail(found, "registrations")
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


@community_view()
def activity_calendar(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = _activity(request.community, activity_id)
    url = request.build_absolute_uri(public_url(found))
    response = HttpResponse(
        activity_ics(found, url=url), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="activity-{found.pk}.ics"'
    return response
