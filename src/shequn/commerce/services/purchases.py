"""Purchases recorded by operators, and refunds. A purchase is never edited or deleted: a
mistake or money given back is a refund (its own row), so the figures can always be traced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.commerce.models import Offer, Purchase, Refund
from shequn.commerce.services.common import jsonable, lock_purchase, user_or_none
from shequn.commerce.validation import (
    CommerceError,
    Problems,
    parse_amount,
    parse_currency,
    parse_moment,
    text,
)
from shequn.communities.models import Community
from shequn.members.models import Member

PURCHASE_FIELDS = (
    "member",
    "offer",
    "amount",
    "currency",
    "purchased_at",
    "source",
    "order_id",
    "note",
)
# A purchase or refund may be dated a little ahead (clocks, time zones), not into the future.
FUTURE_SLACK = dt.timedelta(days=1)


def _member(community: Community, value: Any, problems: Problems) -> Member | None:
    if value in (None, ""):
        problems.add("member", _("is required"))
        return None
    member = value if isinstance(value, Member) else None
    if member is None:
        try:
            member = Member.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            member = None
    if member is None or member.community_id != community.pk:
        problems.add("member", _("must be a member of this community"))
        return None
    return member


def _offer(community: Community, value: Any, problems: Problems) -> Offer | None:
    if value in (None, ""):
        problems.add("offer", _("is required"))
        return None
    offer = value if isinstance(value, Offer) else None
    if offer is None:
        try:
            offer = Offer.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            offer = None
    if offer is None or offer.community_id != community.pk:
        problems.add("offer", _("must be an offer of this community"))
        return None
    return offer


def clean_purchase(community: Community, values: dict[str, Any]) -> dict[str, Any]:
    """Check a purchase an operator records; raise ``CommerceError`` naming every wrong field.
    Empty amount and currency: the offer's list price and currency; empty time: now."""
    problems = Problems()
    for field in sorted(set(values) - set(PURCHASE_FIELDS)):
        problems.add(
            field,
            _("unknown field (known: %(fields)s)") % {"fields": ", ".join(PURCHASE_FIELDS)},
        )
    cleaned: dict[str, Any] = {
        "member": _member(community, values.get("member"), problems),
        "offer": _offer(community, values.get("offer"), problems),
    }
    offer = cleaned["offer"]
    amount = values.get("amount")
    if amount in (None, ""):
        cleaned["amount"] = offer.price if offer is not None else None
    else:
        try:
            cleaned["amount"] = parse_amount(amount)
        except ValueError as exc:
            problems.add("amount", str(exc))
    currency = values.get("currency")
    if currency in (None, ""):
        cleaned["currency"] = offer.currency if offer is not None else ""
    else:
        try:
            cleaned["currency"] = parse_currency(currency)
        except ValueError as exc:
            problems.add("currency", str(exc))
    moment = values.get("purchased_at")
    now = timezone.now()
    if moment in (None, ""):
        cleaned["purchased_at"] = now
    else:
        try:
            cleaned["purchased_at"] = parse_moment(moment, community.zoneinfo)
        except ValueError as exc:
            problems.add("purchased_at", str(exc))
        else:
            if cleaned["purchased_at"] > now + FUTURE_SLACK:
                problems.add("purchased_at", _("cannot be in the future"))
    cleaned["source"] = text(values, "source", 200, problems)
    cleaned["order_id"] = text(values, "order_id", 200, problems)
    cleaned["note"] = text(values, "note", 500, problems)
    if cleaned["order_id"] and "order_id" not in problems.items:
        taken = (
            Purchase.objects.filter(community=community, order_id=cleaned["order_id"])
            .values_list("pk", flat=True)
            .first()
        )
        if taken is not None:
            problems.add(
                "order_id",
                _("order %(order)s is already recorded (purchase #%(id)d)")
                % {"order": repr(cleaned["order_id"]), "id": taken},
            )
    problems.raise_if_any()
    return cleaned


@transaction.atomic
def do_record_purchase(
    community: Community, values: dict[str, Any], *, actor: Any = None
) -> Purchase:
    """Record one sale an operator knows of (paid at the door, by bank transfer, …)."""
    cleaned = clean_purchase(community, values)
    purchase = Purchase(
        community=community,
        origin=Purchase.Origin.OPERATOR,
        created_by=user_or_none(actor),
        **cleaned,
    )
    try:
        with transaction.atomic():
            purchase.save()
    except IntegrityError:  # the same order id recorded at the same moment by someone else
        raise CommerceError(
            _("order %(order)s is already recorded") % {"order": repr(cleaned["order_id"])},
            field="order_id",
        ) from None
    audit.record(
        "commerce.purchase.record",
        community=community,
        actor=actor,
        target=purchase,
        details={"after": jsonable(cleaned)},
    )
    return purchase


@transaction.atomic
def do_refund_purchase(
    purchase: Purchase,
    *,
    amount: Any = None,
    reason: str = "",
    refunded_at: Any = None,
    actor: Any = None,
) -> Refund:
    """Give money back for a purchase: all that is left of it (``amount`` empty) or part of
    it. Refunds add up to at most what was paid; a purchase refunded in full stays on record
    but no longer counts as a purchase or as revenue."""
    current = lock_purchase(purchase)
    community = current.community
    problems = Problems()
    left = current.amount - current.refunded_amount
    if left <= 0:
        raise CommerceError(_("this purchase is already refunded in full"), field="amount")
    value: Decimal | None = left
    if amount not in (None, ""):
        try:
            value = parse_amount(amount)
        except ValueError as exc:
            problems.add("amount", str(exc))
            value = None
    if value is not None and value <= 0:
        problems.add("amount", _("must be more than 0"))
    elif value is not None and value > left:
        problems.add(
            "amount",
            _("is more than is left to refund (%(left)s %(currency)s)")
            % {"left": left, "currency": current.currency},
        )
    when = timezone.now()
    if refunded_at not in (None, ""):
        try:
            when = parse_moment(refunded_at, community.zoneinfo)
        except ValueError as exc:
            problems.add("refunded_at", str(exc))
    if when < current.purchased_at:
        problems.add("refunded_at", _("cannot be before the purchase"))
    elif when > timezone.now() + FUTURE_SLACK:
        problems.add("refunded_at", _("cannot be in the future"))
    reason = text({"reason": reason}, "reason", 500, problems)
    problems.raise_if_any()
    refund = Refund.objects.create(
        purchase=current,
        amount=value,
        refunded_at=when,
        reason=reason,
        created_by=user_or_none(actor),
    )
    current.refunded_amount += value
    current.save(update_fields=["refunded_amount"])
    purchase.refunded_amount = current.refunded_amount
    audit.record(
        "commerce.purchase.refund",
        community=community,
        actor=actor,
        target=current,
        details={
            "refund": refund.pk,
            "amount": str(value),
            "currency": current.currency,
            "refunded_in_total": str(current.refunded_amount),
            "reason": reason,
        },
    )
    return refund
