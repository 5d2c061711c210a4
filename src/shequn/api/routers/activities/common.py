"""The activities router and what its endpoints share: refusals, lookups, serialisers."""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema

from shequn.activities.models import Activity, Guest, Registration, Ritual
from shequn.activities.selectors import (
    activity_guests,
)
from shequn.activities.services import (
    ActivityError,
)
from shequn.activities.web_selectors import (
    activity_with_counts,
    places_left,
)
from shequn.api.errors import problem
from shequn.api.routers.activities.schemas import RitualOut
from shequn.communities.models import Community
from shequn.members.models import Member

router = Router(tags=["activities"])


def refused(request: HttpRequest, error: ActivityError) -> HttpResponse:
    """422 problem details naming every field at fault; nothing was written."""
    from shequn.api.api import api

    errors = [
        {"loc": ["body", field] if field else ["body"], "msg": message}
        for field, message in error.problems.items()
    ]
    return problem(api, request, 422, _("Refused"), str(error), errors)


def activity_or_404(community: Community, activity_id: int) -> Activity:
    return get_object_or_404(
        Activity.objects.select_related("community"), community=community, pk=activity_id
    )


def registration_or_404(activity: Activity, registration_id: int) -> Registration:
    return get_object_or_404(
        Registration.objects.select_related("member", "activity__community"),
        activity=activity,
        pk=registration_id,
    )


def ritual_or_404(community: Community, ritual_id: int) -> Ritual:
    return get_object_or_404(Ritual, community=community, pk=ritual_id)


def payload_values(payload: Schema, community: Community, *, partial: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=partial)
    if "organiser_id" in values:
        organiser = values.pop("organiser_id")
        values["organiser"] = member_or_problem(community, organiser, "organiser")
    return values


def member_or_problem(community: Community, member_id: int | None, field: str) -> Member | None:
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


def activity_out(request: HttpRequest, activity: Activity) -> dict[str, Any]:
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


def activity_detail(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    return {
        **activity_out(request, activity),
        "guests": [guest_out(guest) for guest in activity_guests(activity)],
    }


def guest_out(guest: Guest) -> dict[str, Any]:
    return {
        "id": guest.pk,
        "member_id": guest.member_id,
        "display_name": guest.display_name,
        "affiliation": guest.affiliation,
        "bio": guest.bio,
        "role": guest.role,
    }


def registration_out(registration: Registration, position: int | None = None) -> dict[str, Any]:
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


def feedback_out(feedback: Any) -> dict[str, Any]:
    return {
        "registration_id": feedback.registration_id,
        "member_id": feedback.registration.member_id,
        "display_name": feedback.registration.member.display_name,
        "rating": feedback.rating,
        "comment": feedback.comment,
        "created_at": feedback.created_at,
        "updated_at": feedback.updated_at,
    }


def fee_change_out(entry: Any) -> dict[str, Any]:
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


def ritual_out(ritual: Ritual, occurrences: int | None = None) -> dict[str, Any]:
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


def calendar_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def until_value(text: str) -> dt.date | dt.datetime:
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
