"""The pages of activities that open without a login.

* ``a/<token>/``: an activity's registration page, by its unguessable public token. People give
  a name and an e-mail and get a place (or a place on the waitlist) and their ticket.
* ``t/<signed>/``: a registration's ticket (check-in code and QR code, waitlist position); its
  holder may cancel there. ``f/<signed>/``: where an attendee rates the activity.
* ``cal/<signed>.ics``: the community's calendar feed, for calendar apps that subscribe by URL.

The last three carry a signature of the registration's (or community's) id, like the member's
progress page (``progress.py``): they open that one object only, cannot be guessed or altered,
and rotating the secret key (SHEQUN_SECRET_KEY) invalidates them all. Communities have no
"public" switch, so the feed's link is only shown to the community's operators.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shequn.activities.ical import activity_ics, community_ics
from shequn.activities.models import Activity, Feedback, Registration
from shequn.activities.qr import qr_svg
from shequn.activities.selectors import activity_guests, public_activity, waitlist_position
from shequn.activities.services import (
    FEEDBACK_DAYS,
    RegistrationError,
    do_cancel_registration,
    do_leave_feedback,
    do_register_contact,
)
from shequn.activities.web_selectors import (
    activity_with_counts,
    places_left,
    registration_refusal,
)
from shequn.communities.models import Community
from shequn.web.views.activities_forms import FeedbackForm, PublicRegisterForm

TICKET_SALT = "shequn.activity-ticket"
FEEDBACK_SALT = "shequn.activity-feedback"
FEED_SALT = "shequn.activity-feed"


# ------------------------------------------------------------------------- signed links
def _sign(registration: Registration, salt: str) -> str:
    return signing.dumps(
        {"r": registration.pk, "a": registration.activity_id}, salt=salt, compress=True
    )


def _registration_for(token: str, salt: str) -> Registration | None:
    try:
        data = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return (
        Registration.objects.select_related("activity__community", "member")
        .filter(pk=data.get("r"), activity_id=data.get("a"))
        .first()
    )


def ticket_url(registration: Registration) -> str:
    return reverse("web:activity_ticket", args=[_sign(registration, TICKET_SALT)])


def feedback_url(registration: Registration) -> str:
    return reverse("web:activity_feedback", args=[_sign(registration, FEEDBACK_SALT)])


def feed_url(community: Community) -> str:
    token = signing.dumps({"c": community.pk}, salt=FEED_SALT, compress=True)
    return reverse("web:activities_feed", args=[token])


def public_url(activity: Activity) -> str:
    return reverse("web:activity_public", args=[activity.public_token])


def check_in_url(registration: Registration) -> str:
    """The operators' check-in page with this code filled in (what the QR code holds)."""
    activity = registration.activity
    path = reverse("web:activity_check_in", args=[activity.community.slug, activity.pk])
    return f"{path}?code={registration.code}"


def qr_for(request: HttpRequest, registration: Registration, *, scale: int = 5) -> str:
    """The registration's QR code as inline SVG, holding the absolute check-in URL."""
    return qr_svg(
        registration, url=request.build_absolute_uri(check_in_url(registration)), scale=scale
    )


def _private(response: HttpResponse) -> HttpResponse:
    """Keep token-bearing pages out of search engines and their addresses from other sites.
    ``same-origin``, not ``no-referrer``: with no referrer a browser sends ``Origin: null``
    with the page's forms, which Django's CSRF check refuses."""
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response


def _ics_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ------------------------------------------------------------------------ public page
def _public_context(activity: Activity) -> dict:
    counted = activity_with_counts(activity)
    return {
        "activity": counted,
        "community_name": activity.community.name,
        "guests": list(activity_guests(activity)),
        "places_left": places_left(counted),
        "refusal": registration_refusal(activity),
    }


@never_cache
def activity_public(request: HttpRequest, token: str) -> HttpResponse:
    """The registration page: what, when, where, at what fee, places left; a name and an
    e-mail register (a place or the waitlist), then the ticket page shows the result."""
    draft = Activity.objects.filter(public_token=token, status=Activity.Status.DRAFT).first()
    if draft is not None:
        # The link exists but is not public yet: say so, and show nothing of the activity.
        return _private(
            render(
                request,
                "web/activities/public_closed.html",
                {"message": _("This activity is not published yet.")},
                status=404,
            )
        )
    activity = public_activity(token)
    if activity is None:
        raise Http404
    form = PublicRegisterForm()
    status = 200
    if request.method == "POST":
        form = PublicRegisterForm(request.POST)
        if form.is_valid():
            try:
                registration = do_register_contact(
                    activity,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    self_service=True,
                )
            except RegistrationError as exc:
                for field, message in exc.problems.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                if registration.status == Registration.Status.CONFIRMED:
                    messages.success(request, _("You are registered: your place is confirmed."))
                else:
                    messages.warning(
                        request,
                        _("The activity is full: you are on the waitlist (number %(position)s).")
                        % {"position": waitlist_position(registration)},
                    )
                return redirect(ticket_url(registration))
        status = 400
    context = _public_context(activity)
    context["form"] = form
    return _private(render(request, "web/activities/public.html", context, status=status))


def activity_public_ics(request: HttpRequest, token: str) -> HttpResponse:
    activity = public_activity(token)
    if activity is None:
        raise Http404
    url = request.build_absolute_uri(public_url(activity))
    return _ics_response(activity_ics(activity, url=url), f"activity-{activity.pk}.ics")


def activities_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The community's calendar (published, done and cancelled activities) for a
    subscription: a signed link that operators hand out."""
    try:
        data = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        raise Http404 from None
    community = Community.objects.filter(pk=data.get("c") if isinstance(data, dict) else None)
    community = community.first()
    if community is None:
        raise Http404

    def url_for(activity: Activity) -> str:
        return request.build_absolute_uri(public_url(activity))

    response = _ics_response(community_ics(community, url_for=url_for), f"{community.slug}.ics")
    response["Content-Disposition"] = f'inline; filename="{community.slug}.ics"'
    return response


# ----------------------------------------------------------------------------- ticket
@never_cache
def ticket(request: HttpRequest, token: str) -> HttpResponse:
    registration = _registration_for(token, TICKET_SALT)
    if registration is None:
        raise Http404
    activity = registration.activity
    confirmed = registration.status == Registration.Status.CONFIRMED
    now = timezone.now()
    can_cancel = (
        registration.status != Registration.Status.CANCELLED
        and registration.checked_in_at is None
        and activity.status == Activity.Status.PUBLISHED
        and now < activity.starts_at
    )
    feedback_open = (
        registration.checked_in_at is not None
        and activity.starts_at <= now
        and now <= activity.ends_at + dt.timedelta(days=FEEDBACK_DAYS)
    )
    context = {
        "activity": activity,
        "community_name": activity.community.name,
        "registration": registration,
        "position": waitlist_position(registration),
        "qr": qr_for(request, registration) if confirmed else "",
        "can_cancel": can_cancel,
        "feedback_link": feedback_url(registration) if feedback_open else "",
        "ics_url": reverse("web:activity_public_ics", args=[activity.public_token]),
        "public_link": public_url(activity),
        "cancel_url": reverse("web:activity_ticket_cancel", args=[token]),
    }
    return _private(render(request, "web/activities/ticket.html", context))


@require_POST
def ticket_cancel(request: HttpRequest, token: str) -> HttpResponse:
    registration = _registration_for(token, TICKET_SALT)
    if registration is None:
        raise Http404
    try:
        do_cancel_registration(registration, self_service=True)
    except RegistrationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your registration is cancelled."))
    return redirect(ticket_url(registration))


# --------------------------------------------------------------------------- feedback
@never_cache
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """An attendee's rating (1-5) and comment; they may change it while feedback is open."""
    registration = _registration_for(token, FEEDBACK_SALT)
    if registration is None:
        raise Http404
    existing = Feedback.objects.filter(registration=registration).first()
    initial = {"rating": existing.rating, "comment": existing.comment} if existing else None
    form = FeedbackForm(initial=initial)
    status = 200
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                do_leave_feedback(
                    registration,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except RegistrationError as exc:
                for field, message in exc.problems.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("Thank you: your feedback is saved."))
                return redirect(feedback_url(registration))
        status = 400
    context = {
        "activity": registration.activity,
        "community_name": registration.activity.community.name,
        "registration": registration,
        "attended": registration.checked_in_at is not None,
        "existing": existing,
        "form": form,
    }
    return _private(render(request, "web/activities/feedback.html", context, status=status))
