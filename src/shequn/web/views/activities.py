"""Activities (社群互动) of a community: the calendar and the figures, one activity with its
guests, registrations, fees, report and feedback, the check-in page at the door, CSV in and
out and the calendar files.

Everyone with access reads; operators create and change, always through
``shequn.activities.services`` (validated, one transaction, audited). Views only parse what
was sent, check the role and call a service or a selector.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.activities.ical import activity_ics, community_ics
from shequn.activities.models import Activity, ContentKind, Guest, Mode, Registration
from shequn.activities.selectors import (
    activity_guests,
    activity_mix,
    activity_registrations,
    activity_report,
    community_activities,
    turnout_by_month,
    upcoming_activities,
)
from shequn.activities.services import (
    FEE_MOVES,
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
from shequn.activities.validation import activity_values
from shequn.activities.web_selectors import (
    activity_feedback,
    activity_with_counts,
    places_left,
    registration_refusal,
    waitlist_positions,
)
from shequn.web.access import community_view
from shequn.web.views.activities_common import (
    activity_or_404,
    agenda,
    detail_redirect,
    form_values,
    may_write,
    problems_text,
    resolve_member,
    share_rows,
    turnout_chart,
)
from shequn.web.views.activities_forms import (
    ActivityForm,
    CancelActivityForm,
    GuestForm,
    RegisterForm,
    local_text,
)
from shequn.web.views.activities_public import (
    feed_url,
    public_url,
)

PAST_PAGE_SIZE = 20


TURNOUT_MONTHS = 12


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

    can_write = may_write(request)
    return render(
        request,
        "web/activities/index.html",
        {
            "community": community,
            "section": "activities",
            "weeks": agenda(coming, community),
            "past": page,
            "mix": mix,
            "by_mode": share_rows(mix.by_mode, dict(Mode.choices)),
            "by_content_type": share_rows(mix.by_content_type, dict(ContentKind.choices)),
            "by_organiser": share_rows(
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
                    community, form_values(form, community), actor=request.user
                )
            except ActivityError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(
                    request,
                    _("Activity created as a draft: publish it to open registration."),
                )
                return detail_redirect(created)
        return _activity_form_page(request, form, None, status=400)
    initial = {"time_zone": community.time_zone, "mode": "offline", "fee_amount": "0"}
    return _activity_form_page(request, ActivityForm(initial=initial), None)


@community_view(AccessRole.OPERATOR)
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    community = request.community
    activity = activity_or_404(community, activity_id)
    if request.method == "POST":
        form = ActivityForm(request.POST)
        if form.is_valid():
            try:
                do_update_activity(activity, form_values(form, community), actor=request.user)
            except ActivityError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("Activity saved."))
                return detail_redirect(activity)
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
    found = activity_with_counts(activity_or_404(community, activity_id))
    registrations = list(activity_registrations(found))
    positions = waitlist_positions(registrations)
    can_write = may_write(request)
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


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_publish(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    try:
        do_publish_activity(found, actor=request.user)
    except ActivityError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(request, _("Published: registration is open on the public page."))
    return detail_redirect(found)


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    form = CancelActivityForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        do_cancel_activity(found, actor=request.user, reason=reason)
    except ActivityError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(
            request,
            _("Cancelled. Registrations are kept; refund paid fees one by one."),
        )
    return detail_redirect(found)


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_complete(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    try:
        do_complete_activity(found, actor=request.user)
    except ActivityError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(
            request,
            _("Marked as done; attendance, hosting and speaking now count for points and tiers."),
        )
    return detail_redirect(found)


@community_view(AccessRole.OPERATOR)
@require_POST
def activity_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    try:
        do_delete_activity(found, actor=request.user)
    except ActivityError as exc:
        messages.error(request, problems_text(exc))
        return detail_redirect(found)
    messages.success(request, _("Draft deleted."))
    return redirect("web:activities", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def guest_add(request: HttpRequest, activity_id: int) -> HttpResponse:
    community = request.community
    found = activity_or_404(community, activity_id)
    form = GuestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the guest's details."))
        return detail_redirect(found, "guests")
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
        messages.error(request, problems_text(exc))
    else:
        messages.success(request, _("Guest added."))
    return detail_redirect(found, "guests")


@community_view(AccessRole.OPERATOR)
@require_POST
def guest_remove(request: HttpRequest, activity_id: int, guest_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    guest = Guest.objects.filter(activity=found, pk=guest_id).select_related("member").first()
    if guest is None:
        raise Http404
    do_remove_guest(guest, actor=request.user)
    messages.success(request, _("Guest removed."))
    return detail_redirect(found, "guests")


@community_view()
def activity_calendar(request: HttpRequest, activity_id: int) -> HttpResponse:
    found = activity_or_404(request.community, activity_id)
    url = request.build_absolute_uri(public_url(found))
    response = HttpResponse(
        activity_ics(found, url=url), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="activity-{found.pk}.ics"'
    return response
