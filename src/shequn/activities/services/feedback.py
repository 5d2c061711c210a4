"""Feedback from attendees: a rating and a comment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.activities.models import Feedback, Registration
from shequn.activities.services.common import COMMENT_MAX, FEEDBACK_DAYS, _when
from shequn.activities.validation import (
    RegistrationError,
)


def _rating(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def do_leave_feedback(registration: Registration, *, rating: Any, comment: str = "") -> Feedback:
    """An attendee rates the activity (1-5) with an optional comment, or changes their
    rating: from its start until ``FEEDBACK_DAYS`` after its end. Only people who checked in
    may rate it: the rating says how the activity was, which only they know."""
    activity = registration.activity
    now = timezone.now()
    if registration.checked_in_at is None:
        raise RegistrationError(_("Only people who attended can give feedback."))
    if now < activity.starts_at:
        raise RegistrationError(_("Feedback opens when the activity starts."))
    closes = activity.ends_at + dt.timedelta(days=FEEDBACK_DAYS)
    if now > closes:
        raise RegistrationError(
            _("Feedback closed at %(when)s.") % {"when": _when(closes, activity)}
        )
    value = _rating(rating)
    problems: dict[str, str] = {}
    if value is None or not 1 <= value <= 5:
        problems["rating"] = _("must be a whole number from 1 to 5")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        problems["comment"] = _("is too long (at most %(n)d characters)") % {"n": COMMENT_MAX}
    if problems:
        raise RegistrationError(problems)
    with transaction.atomic():
        feedback, _created = Feedback.objects.update_or_create(
            registration=registration, defaults={"rating": value, "comment": comment}
        )
    return feedback
