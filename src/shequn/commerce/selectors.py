"""Read queries of the business model: offers, purchases, refunds, costs, and the figures.

``revenue_summary`` is what the community diagnosis reads for its "runs sustainably" top line;
``business_report`` is what the business page, the API and ``shequn commerce report`` show.
Both are computed in ``reporting`` (see its definitions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from shequn.commerce.models import Cost, Offer, Purchase, Refund
from shequn.commerce.reporting import (
    RENEWAL_GRACE_DAYS,
    as_json,
    business_report,
    costs_in,
    report_period,
    revenue_summary,
)
from shequn.communities.models import Community

__all__ = [
    "RENEWAL_GRACE_DAYS",
    "PurchaseFilters",
    "as_json",
    "business_report",
    "community_costs",
    "community_offers",
    "community_purchases",
    "costs_in",
    "offer_of",
    "purchase_of",
    "purchase_refunds",
    "report_period",
    "revenue_summary",
]


def community_offers(community: Community, *, active: bool | None = None) -> QuerySet[Offer]:
    """The community's offers (on sale first), each with ``sold``: its purchases that count."""
    offers = Offer.objects.filter(community=community)
    if active is not None:
        offers = offers.filter(active=active)
    return offers.annotate(
        sold=Count(
            "purchases",
            filter=Q(purchases__refunded_amount__lt=F("purchases__amount"))
            | Q(purchases__amount=0),
        )
    )


def offer_of(community: Community, offer_id: int) -> Offer | None:
    return Offer.objects.filter(community=community, pk=offer_id).first()


@dataclass(frozen=True)
class PurchaseFilters:
    """What the purchases list is narrowed to: an offer, a member, a text found in the order
    id, source, note or buyer's name, refunded ("yes"/"no"/""), and a time span."""

    offer_id: int | None = None
    member_id: int | None = None
    search: str = ""
    refunded: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def community_purchases(
    community: Community, filters: PurchaseFilters | None = None
) -> QuerySet[Purchase]:
    """The community's purchases, newest first, with their offer and member."""
    filters = filters or PurchaseFilters()
    purchases = Purchase.objects.filter(community=community).select_related("offer", "member")
    if filters.offer_id is not None:
        purchases = purchases.filter(offer_id=filters.offer_id)
    if filters.member_id is not None:
        purchases = purchases.filter(member_id=filters.member_id)
    if filters.search:
        text = filters.search
        purchases = purchases.filter(
            Q(order_id__icontains=text)
            | Q(source__icontains=text)
            | Q(note__icontains=text)
            | Q(member__display_name__icontains=text)
            | Q(member__key__iexact=text)
        )
    if filters.refunded == "yes":
        purchases = purchases.filter(refunded_amount__gt=0)
    elif filters.refunded == "no":
        purchases = purchases.filter(refunded_amount=0)
    if filters.since is not None:
        purchases = purchases.filter(purchased_at__gte=filters.since)
    if filters.until is not None:
        purchases = purchases.filter(purchased_at__lt=filters.until)
    return purchases.order_by("-purchased_at", "-id")


def purchase_of(community: Community, purchase_id: int) -> Purchase | None:
    return (
        Purchase.objects.filter(community=community, pk=purchase_id)
        .select_related("offer", "member", "community")
        .first()
    )


def purchase_refunds(purchase: Purchase) -> QuerySet[Refund]:
    return Refund.objects.filter(purchase=purchase).order_by("refunded_at", "id")


def community_costs(
    community: Community, *, since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[Cost]:
    """The community's costs, latest month first; ``since``/``until`` are months included."""
    costs = Cost.objects.filter(community=community)
    if since is not None:
        costs = costs.filter(month__gte=since)
    if until is not None:
        costs = costs.filter(month__lte=until)
    return costs.order_by("-month", "category", "id")
