"""Registrations: places, the waitlist, cancellations and fee status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Registration
from shequn.activities.services.common import (
    _audit_promotions,
    _confirmed_count,
    _iso,
    _lock,
    _promote,
    _when,
    new_code,
)
from shequn.activities.validation import (
    RegistrationError,
)
from shequn.audit import services as audit
from shequn.members.models import Member


def check_registration_open(activity: Activity, now: dt.datetime) -> None:
    """Raise ``RegistrationError`` saying why registering is refused now (draft, cancelled,
    over, window not open yet or closed); the pages ask it before showing the form."""
    if activity.status != Activity.Status.PUBLISHED:
        messages = {
            Activity.Status.DRAFT: _("This activity is not published yet."),
            Activity.Status.CANCELLED: _("This activity was cancelled."),
            Activity.Status.DONE: _("This activity is over."),
        }
        raise RegistrationError(messages[Activity.Status(activity.status)])
    opens = activity.registration_opens_at
    closes = activity.registration_closes_at or activity.starts_at
    if opens is not None and now < opens:
        raise RegistrationError(
            _("Registration opens at %(when)s.") % {"when": _when(opens, activity)}
        )
    if now >= closes:
        raise RegistrationError(
            _("Registration closed at %(when)s.") % {"when": _when(closes, activity)}
        )


def _default_fee_status(activity: Activity) -> str:
    """Free activities have nothing to pay ("no fee"); paid ones start unpaid."""
    if activity.is_free:
        return Registration.FeeStatus.NOT_APPLICABLE
    return Registration.FeeStatus.UNPAID


def _new_registration(activity: Activity, member: Member, **values: Any) -> Registration:
    """Insert a registration with a fresh check-in code (a new code on the rare collision)."""
    for _attempt in range(5):
        registration = Registration(activity=activity, member=member, code=new_code(), **values)
        try:
            with transaction.atomic():
                registration.save()
            return registration
        except IntegrityError:
            if Registration.objects.filter(activity=activity, member=member).exists():
                raise RegistrationError(
                    _("%(name)s is already registered for this activity.")
                    % {"name": member.display_name},
                    field="member",
                ) from None
    raise RegistrationError(_("Could not create a check-in code; try again."))


def do_register(
    activity: Activity,
    member: Member,
    *,
    actor: Any = None,
    self_service: bool = False,
    override: bool = False,
) -> Registration:
    """Register ``member``: a confirmed place while there is one, else the end of the waitlist.

    Open only for a published activity within its registration window, unless an operator
    ``override``s (not for a cancelled one). A second registration of the same member is
    refused (``RegistrationError``), and the database refuses it too; a member who cancelled
    may register again (to the end of the waitlist if it is full). Paid activities keep a
    waitlist too; waitlisted people pay when they get a place.
    """
    if member.community_id != activity.community_id:
        raise RegistrationError(_("must be a member of this community"), field="member")
    with transaction.atomic():
        locked = _lock(activity)
        now = timezone.now()
        if not override:
            check_registration_open(locked, now)
        elif locked.status == Activity.Status.CANCELLED:
            raise RegistrationError(_("This activity was cancelled."))
        existing = Registration.objects.filter(activity=locked, member=member).first()
        if existing is not None and existing.status != Registration.Status.CANCELLED:
            raise RegistrationError(
                _("%(name)s is already registered for this activity (%(status)s).")
                % {"name": member.display_name, "status": existing.get_status_display()},
                field="member",
            )
        has_place = locked.capacity is None or _confirmed_count(locked) < locked.capacity
        status = Registration.Status.CONFIRMED if has_place else Registration.Status.WAITLISTED
        timing = {
            "status": status,
            "confirmed_at": now if has_place else None,
            "waitlisted_at": None if has_place else now,
            "cancelled_at": None,
        }
        source = Registration.Source.SELF if self_service else Registration.Source.OPERATOR
        if existing is None:
            registration = _new_registration(
                locked,
                member,
                fee_status=_default_fee_status(locked),
                source=source,
                registered_at=now,
                **timing,
            )
        else:
            registration = existing
            for name, value in timing.items():
                setattr(registration, name, value)
            if registration.fee_status == Registration.FeeStatus.REFUNDED:
                registration.fee_status = _default_fee_status(locked)
            registration.source = source
            registration.save()
        if not self_service:
            audit.record(
                "activity.register",
                community=locked.community,
                actor=actor,
                target=registration,
                details={
                    "activity": locked.pk,
                    "member": _iso(member),
                    "status": registration.status,
                    "fee_status": registration.fee_status,
                    "override": override,
                },
            )
    registration.activity = locked
    return registration


def do_register_contact(
    activity: Activity,
    *,
    name: str,
    email: str,
    actor: Any = None,
    self_service: bool = True,
    override: bool = False,
) -> Registration:
    """Register someone by name and e-mail (the public registration page): the member whose
    member key is that address, or a new member with it as their key."""
    name, email = (name or "").strip(), (email or "").strip().lower()
    problems: dict[str, str] = {}
    if not name:
        problems["name"] = _("is required")
    elif len(name) > Member._meta.get_field("display_name").max_length:
        problems["name"] = _("is too long (at most %(n)d characters)") % {
            "n": Member._meta.get_field("display_name").max_length
        }
    try:
        validate_email(email)
    except ValidationError:
        problems["email"] = _("is not a valid e-mail address")
    if problems:
        raise RegistrationError(problems)

    def by_email() -> Member | None:
        return (
            Member.objects.filter(community_id=activity.community_id, key__iexact=email)
            .order_by("pk")
            .first()
        )

    with transaction.atomic():
        # The same form sent twice at once: the activity's lock makes the second wait, find the
        # member the first made, and be told it is already registered.
        _lock(activity)
        member = by_email()
        if member is None:
            try:
                with transaction.atomic():
                    member = Member.objects.create(
                        community_id=activity.community_id, display_name=name, key=email
                    )
            except IntegrityError:  # made meanwhile, registering for another activity
                member = by_email()
                if member is None:
                    raise
        return do_register(
            activity, member, actor=actor, self_service=self_service, override=override
        )


def do_cancel_registration(
    registration: Registration, *, actor: Any = None, self_service: bool = False
) -> list[Registration]:
    """Cancel a registration; a confirmed place goes to the first on the waitlist. Returns
    the registrations moved up. The fee status stays as it was (refund explicitly)."""
    with transaction.atomic():
        locked = _lock(registration.activity)
        current = Registration.objects.select_related("member").get(pk=registration.pk)
        if current.status == Registration.Status.CANCELLED:
            raise RegistrationError(_("This registration is already cancelled."))
        if current.checked_in_at is not None:
            raise RegistrationError(_("This person has checked in; it can no longer be cancelled."))
        if locked.status == Activity.Status.DONE:
            raise RegistrationError(_("This activity is over."))
        before = current.status
        current.status = Registration.Status.CANCELLED
        current.cancelled_at = timezone.now()
        current.save(update_fields=["status", "cancelled_at"])
        promoted = _promote(locked) if before == Registration.Status.CONFIRMED else []
        if not self_service:
            audit.record(
                "activity.unregister",
                community=locked.community,
                actor=actor,
                target=current,
                details={
                    "activity": locked.pk,
                    "member": _iso(current.member),
                    "before": before,
                    "promoted": promoted,
                },
            )
        elif promoted:
            _audit_promotions(locked, promoted, None)
    registration.status, registration.cancelled_at = current.status, current.cancelled_at
    return list(Registration.objects.filter(pk__in=promoted).select_related("member"))


FEE_MOVES: dict[str, set[str]] = {
    Registration.FeeStatus.UNPAID: {Registration.FeeStatus.PAID, Registration.FeeStatus.WAIVED},
    Registration.FeeStatus.PAID: {Registration.FeeStatus.REFUNDED, Registration.FeeStatus.UNPAID},
    Registration.FeeStatus.WAIVED: {Registration.FeeStatus.UNPAID, Registration.FeeStatus.PAID},
    Registration.FeeStatus.REFUNDED: {Registration.FeeStatus.PAID, Registration.FeeStatus.UNPAID},
}


@transaction.atomic
def do_set_fee_status(
    registration: Registration, fee_status: str, *, actor: Any = None, note: str = ""
) -> Registration:
    """Record a payment, refund or waiver; every change is audited with before and after.

    Unpaid → paid or waived; paid → refunded (or back to unpaid, a mistake corrected);
    waived/refunded → paid or unpaid. A free activity's registrations have no fee to change.
    Setting the status it already has changes nothing.
    """
    current = Registration.objects.select_for_update().get(pk=registration.pk)
    if fee_status not in Registration.FeeStatus.values:
        raise RegistrationError(
            _("must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(Registration.FeeStatus.values), "value": repr(fee_status)},
            field="fee_status",
        )
    if current.fee_status == fee_status:
        return current
    if current.fee_status == Registration.FeeStatus.NOT_APPLICABLE:
        raise RegistrationError(_("This activity is free: there is no fee."), field="fee_status")
    if fee_status not in FEE_MOVES[current.fee_status]:
        raise RegistrationError(
            _("cannot go from %(before)s to %(after)s")
            % {
                "before": Registration.FeeStatus(current.fee_status).label,
                "after": Registration.FeeStatus(fee_status).label,
            },
            field="fee_status",
        )
    before = current.fee_status
    current.fee_status = fee_status
    current.save(update_fields=["fee_status"])
    after: dict[str, Any] = {"fee_status": fee_status}
    if note.strip():
        after["note"] = note.strip()
    audit.record(
        "activity.fee",
        community=current.activity.community,
        actor=actor,
        target=current,
        details={"before": {"fee_status": before}, "after": after},
    )
    registration.fee_status = fee_status
    return current
