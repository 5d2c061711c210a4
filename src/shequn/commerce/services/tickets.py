"""Paid activity registrations as ticket purchases, so the business page counts the fees
``shequn.activities`` records (``Registration.fee_status``) without typing them in twice.

Each paid activity gets a ticket offer (linked to it); each registration marked paid becomes
a purchase whose order id is ``activity-registration-<id>`` (so running it again adds
nothing), at the activity's fee, dated when the place was confirmed. A registration marked
refunded is a purchase refunded in full; one that is no longer paid (set back to unpaid or
waived, or gone) has its purchase refunded in full, as a correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.activities.models import Activity, Registration
from shequn.audit import services as audit
from shequn.commerce.models import Offer, OfferKind, Purchase, Refund
from shequn.commerce.services.common import user_or_none
from shequn.communities.models import Community

ORDER_PREFIX = "activity-registration-"
PAID = Registration.FeeStatus.PAID
REFUNDED = Registration.FeeStatus.REFUNDED


@dataclass
class TicketImportResult:
    registrations: int = 0  # paid or refunded registrations of paid activities
    added: int = 0
    unchanged: int = 0
    refunds_added: int = 0
    offers_created: int = 0


def _ticket_offers(community: Community, activities: dict[int, Activity]) -> tuple[dict, int]:
    """Each activity's ticket offer, created where missing (named after the activity and its
    day; the id is added when another offer has that name)."""
    offers = {
        offer.activity_id: offer
        for offer in Offer.objects.filter(community=community, activity_id__in=list(activities))
    }
    names = Offer.objects.filter(community=community).values_list("name", flat=True)
    taken = {name.lower() for name in names}
    created = []
    for activity_id, activity in activities.items():
        if activity_id in offers:
            continue
        day = activity.starts_at.astimezone(community.zoneinfo).date()
        name = f"{activity.title[:170]} · {day.isoformat()}"
        if name.lower() in taken:
            name = f"{name} · #{activity_id}"
        taken.add(name.lower())
        offer = Offer(
            community=community,
            kind=OfferKind.TICKET,
            name=name,
            price=activity.fee_amount,
            currency=activity.currency,
            activity=activity,
            active=activity.status == Activity.Status.PUBLISHED,
        )
        created.append(offer)
        offers[activity_id] = offer
    Offer.objects.bulk_create(created)
    return offers, len(created)


@transaction.atomic
def do_import_activity_tickets(community: Community, *, actor: Any = None) -> TicketImportResult:
    """Bring the paid registrations of the community's activities in as ticket purchases (and
    their refunds); running it again changes nothing unless fees changed meanwhile."""
    result = TicketImportResult()
    registrations = list(
        Registration.objects.filter(
            activity__community=community,
            activity__fee_amount__gt=0,
            fee_status__in=(PAID, REFUNDED),
        )
        .select_related("activity")
        .order_by("pk")
    )
    result.registrations = len(registrations)
    stored = {
        purchase.order_id: purchase
        for purchase in Purchase.objects.filter(
            community=community, origin=Purchase.Origin.ACTIVITY
        )
    }
    activities = {row.activity_id: row.activity for row in registrations}
    offers, result.offers_created = _ticket_offers(community, activities)
    user = user_or_none(actor)
    new: list[Purchase] = []
    corrected: list[Purchase] = []
    refunds: list[tuple[str, Any, Any, str]] = []  # order id, amount, when, reason
    was_refunded = _("the registration's fee was refunded")
    for registration in registrations:
        order_id = f"{ORDER_PREFIX}{registration.pk}"
        activity = registration.activity
        when = registration.confirmed_at or registration.registered_at
        refunded = registration.fee_status == REFUNDED
        purchase = stored.get(order_id)
        if purchase is None:
            new.append(
                Purchase(
                    community=community,
                    offer=offers[activity.pk],
                    member_id=registration.member_id,
                    amount=activity.fee_amount,
                    currency=activity.currency,
                    purchased_at=when,
                    order_id=order_id,
                    origin=Purchase.Origin.ACTIVITY,
                    refunded_amount=activity.fee_amount if refunded else 0,
                    created_by=user,
                )
            )
            if refunded:
                refunds.append(
                    (order_id, activity.fee_amount, registration.cancelled_at or when, was_refunded)
                )
        elif refunded and purchase.refunded_amount < purchase.amount:
            left = purchase.amount - purchase.refunded_amount
            refunds.append(
                (order_id, left, registration.cancelled_at or purchase.purchased_at, was_refunded)
            )
            purchase.refunded_amount = purchase.amount
            corrected.append(purchase)
        else:
            result.unchanged += 1
    paid_orders = {f"{ORDER_PREFIX}{registration.pk}" for registration in registrations}
    no_longer_paid = _("the registration is no longer marked paid")
    for order_id, purchase in stored.items():
        if order_id not in paid_orders and purchase.refunded_amount < purchase.amount:
            left = purchase.amount - purchase.refunded_amount
            refunds.append((order_id, left, purchase.purchased_at, no_longer_paid))
            purchase.refunded_amount = purchase.amount
            corrected.append(purchase)
    Purchase.objects.bulk_create(new)
    Purchase.objects.bulk_update(corrected, ["refunded_amount"])
    result.added = len(new)
    if refunds:
        ids = dict(
            Purchase.objects.filter(
                community=community, order_id__in=[refund[0] for refund in refunds]
            ).values_list("order_id", "pk")
        )
        Refund.objects.bulk_create(
            Refund(
                purchase_id=ids[order_id],
                amount=amount,
                refunded_at=when,
                reason=reason,
                created_by=user,
            )
            for order_id, amount, when, reason in refunds
        )
        result.refunds_added = len(refunds)
    if result.added or result.refunds_added or result.offers_created:
        audit.record(
            "commerce.tickets.import",
            community=community,
            actor=actor,
            details={
                "registrations": result.registrations,
                "added": result.added,
                "refunds_added": result.refunds_added,
                "offers_created": result.offers_created,
            },
        )
    return result
