"""The business figures: revenue per month, per tier, per acquisition channel and per offer,
repeat purchases and renewals, revenue per paying member, concentration, costs and whether
the community pays for itself.

Definitions (docs/commerce.md explains them to operators):

* A purchase **counts** unless it was refunded in full; **revenue** is what was paid minus
  what was refunded, booked in the month of the purchase (in the community's time zone).
* Every sum is per currency: currencies are never converted (no invented exchange rates).
* A **buyer** is a member with a counted purchase in the period; the **repeat rate** is the
  share of buyers with two or more. For an offer, the share of its buyers who bought it again
  (for memberships: renewals). With a membership's duration, a **renewal** is a new
  membership bought by the same member no later than ``RENEWAL_GRACE_DAYS`` after a term ends.
* The **tier** is the buyer's tier on the day of the purchase, from the stored tier paths
  (the same data as ``shequn.tiers.selectors.tiers_on``); "unknown" before any tier run or for
  a day before the member's first tier.
* The **acquisition channel** is the purchase's own ``source``, else the channel the member
  was first seen on (their first event, else their first account), else "unknown".

All purchase rows of the period are read in one query (with the tier and first channel
computed by the database) and summed exactly as ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import pgettext

from shequn.commerce.models import Cost, Offer, OfferKind, Purchase
from shequn.communities.models import Channel, Community
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Identity
from shequn.tiers.models import Tier, TierChange
from shequn.tiers.selectors import latest_tier_run

CENT = Decimal("0.01")
UNKNOWN = "unknown"
TIER_ORDER = (Tier.ADVOCATE, Tier.PARTICIPANT, Tier.FOLLOWER, Tier.LAPSED, UNKNOWN)
# A membership bought again up to this many days after the last one ended is a renewal.
RENEWAL_GRACE_DAYS = 30
# The top share of buyers whose part of the revenue shows how concentrated it is.
TOP_SHARE = 0.10


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def next_month(month: dt.date) -> dt.date:
    return month_start(month, -1)


def local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone)


def counted() -> Q:
    """Purchases that count: not refunded in full (a free one counts, with no revenue)."""
    return Q(refunded_amount__lt=F("amount")) | Q(amount=0)


@dataclass(frozen=True)
class Row:
    """One counted purchase of the period, with what the breakdowns need."""

    member_id: int
    offer_id: int
    currency: str
    net: Decimal
    month: dt.date
    tier: str
    source: str
    channel_id: int | None


def _first_channel(purchases: Any) -> Any:
    """The channel of the member's first event, else of their first account (not the one
    made for order files), as a subquery per purchase."""
    from shequn.commerce.services.importing import PURCHASES_CHANNEL_ID

    first_event = (
        InteractionEvent.objects.filter(member_id=OuterRef("member_id"))
        .order_by("occurred_at", "id")
        .values("channel_id")[:1]
    )
    first_account = (
        Identity.objects.filter(member_id=OuterRef("member_id"))
        .exclude(channel__external_id=PURCHASES_CHANNEL_ID)
        .order_by("created_at", "id")
        .values("channel_id")[:1]
    )
    return purchases.annotate(
        first_channel=Coalesce(Subquery(first_event), Subquery(first_account))
    )


def _with_tier(purchases: Any, community: Community) -> Any:
    """The buyer's tier on the purchase's local day (the last step of their stored tier path
    on or before it), or nothing while the community has no finished tier run."""
    if latest_tier_run(community) is None:
        return purchases
    local_day = TruncDate("purchased_at", tzinfo=community.zoneinfo)
    step = (
        TierChange.objects.filter(member_id=OuterRef("member_id"), changed_on__lte=OuterRef("day"))
        .order_by("-changed_on", "-id")
        .values("to_tier")[:1]
    )
    return purchases.annotate(day=local_day).annotate(tier=Subquery(step))


def period_rows(community: Community, start: dt.datetime, end: dt.datetime) -> list[Row]:
    """The counted purchases in [start, end), in one query."""
    zone = community.zoneinfo
    purchases = Purchase.objects.filter(
        community=community, purchased_at__gte=start, purchased_at__lt=end
    ).filter(counted())
    purchases = _with_tier(_first_channel(purchases), community)
    fields = [
        "member_id",
        "offer_id",
        "currency",
        "amount",
        "refunded_amount",
        "purchased_at",
        "source",
        "first_channel",
    ]
    has_tier = "tier" in purchases.query.annotations
    if has_tier:
        fields.append("tier")
    rows = []
    for values in purchases.order_by().values(*fields).iterator(chunk_size=5000):
        rows.append(
            Row(
                member_id=values["member_id"],
                offer_id=values["offer_id"],
                currency=values["currency"],
                net=values["amount"] - values["refunded_amount"],
                month=values["purchased_at"].astimezone(zone).date().replace(day=1),
                tier=(values.get("tier") or UNKNOWN) if has_tier else UNKNOWN,
                source=values["source"],
                channel_id=values["first_channel"],
            )
        )
    return rows


def _sums(rows: list[Row]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row.currency] += row.net
    return {currency: money(total) for currency, total in sorted(totals.items())}


def repeat_rate(rows: list[Row]) -> tuple[float | None, int, int]:
    """(share of buyers with 2+ purchases, those buyers, all buyers)."""
    per_buyer = Counter(row.member_id for row in rows)
    buyers = len(per_buyer)
    repeat = sum(1 for count in per_buyer.values() if count >= 2)
    return (repeat / buyers if buyers else None), repeat, buyers


def costs_in(community: Community, start: dt.datetime, end: dt.datetime) -> dict[str, Decimal]:
    """Costs per currency for [start, end): each month's costs in full where the period
    covers the month, pro rata by time where it covers part of it."""
    zone = community.zoneinfo
    first = month_start(start.astimezone(zone).date())
    last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    if end <= start:
        return {}
    rows = Cost.objects.filter(community=community, month__gte=first, month__lte=last).values_list(
        "month", "amount", "currency"
    )
    for month, amount, currency in rows:
        month_begins = local_midnight(month, zone)
        month_ends = local_midnight(next_month(month), zone)
        overlap = min(end, month_ends) - max(start, month_begins)
        if overlap <= dt.timedelta(0):
            continue
        length = month_ends - month_begins
        if overlap >= length:
            totals[currency] += amount
        else:
            share = Decimal(overlap.total_seconds()) / Decimal(length.total_seconds())
            totals[currency] += amount * share
    return {currency: money(total) for currency, total in sorted(totals.items())}


def revenue_summary(community: Community, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The period's purchases, buyers, revenue and costs per currency (as text) and repeat
    rate, for purchases in [start, end): the diagnosis' "runs sustainably" top line."""
    rows = [
        (member_id, currency, amount - refunded)
        for member_id, currency, amount, refunded in Purchase.objects.filter(
            community=community, purchased_at__gte=start, purchased_at__lt=end
        )
        .filter(counted())
        .values_list("member_id", "currency", "amount", "refunded_amount")
        .iterator(chunk_size=5000)
    ]
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    per_buyer: Counter[int] = Counter()
    for member_id, currency, net in rows:
        revenue[currency] += net
        per_buyer[member_id] += 1
    buyers = len(per_buyer)
    return {
        "purchases": len(rows),
        "buyers": buyers,
        "revenue": {currency: str(money(total)) for currency, total in sorted(revenue.items())},
        "costs": {
            currency: str(total) for currency, total in costs_in(community, start, end).items()
        },
        "repeat_rate": (
            sum(1 for count in per_buyer.values() if count >= 2) / buyers if buyers else None
        ),
    }


def _paying(rows: list[Row]) -> dict[str, dict[int, Decimal]]:
    """Per currency, each paying buyer's net revenue."""
    per: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        per[row.currency][row.member_id] += row.net
    return {
        currency: {member: total for member, total in members.items() if total > 0}
        for currency, members in per.items()
    }


def top_share(amounts: list[Decimal]) -> float | None:
    """The part of the total brought by the top 10 % of buyers (at least one buyer)."""
    total = sum(amounts, Decimal(0))
    if total <= 0:
        return None
    ranked = sorted(amounts, reverse=True)
    top = ranked[: max(1, math.ceil(len(ranked) * TOP_SHARE))]
    return float(sum(top, Decimal(0)) / total)


def _shares(revenue: dict[str, Decimal], totals: dict[str, Decimal]) -> dict[str, float | None]:
    return {
        currency: (float(amount / totals[currency]) if totals.get(currency) else None)
        for currency, amount in revenue.items()
    }


def _group(rows: list[Row], key: Any) -> dict[Any, dict[str, Any]]:
    groups: dict[Any, dict[str, Any]] = {}
    for row in rows:
        name = key(row)
        group = groups.setdefault(
            name, {"purchases": 0, "buyers": set(), "revenue": defaultdict(Decimal)}
        )
        group["purchases"] += 1
        group["buyers"].add(row.member_id)
        group["revenue"][row.currency] += row.net
    return groups


def _group_out(group: dict[str, Any], totals: dict[str, Decimal]) -> dict[str, Any]:
    revenue = {currency: money(value) for currency, value in sorted(group["revenue"].items())}
    return {
        "purchases": group["purchases"],
        "buyers": len(group["buyers"]),
        "revenue": revenue,
        "share": _shares(revenue, totals),
    }


def tier_label(tier: str) -> str:
    if tier == UNKNOWN:
        return pgettext("tier", "unknown")
    return str(Tier(tier).label)


def by_tier(rows: list[Row], totals: dict[str, Decimal]) -> list[dict[str, Any]]:
    groups = _group(rows, lambda row: row.tier if row.tier in TIER_ORDER else UNKNOWN)
    return [
        {"tier": tier, "label": tier_label(tier), **_group_out(groups[tier], totals)}
        for tier in TIER_ORDER
        if tier in groups
    ]


def by_channel(
    rows: list[Row], totals: dict[str, Decimal], community: Community
) -> list[dict[str, Any]]:
    """Revenue per acquisition channel: the purchase's source (sources that differ only in
    case are one), else the member's first channel, else unknown; most purchases first."""
    channel_ids = {row.channel_id for row in rows if not row.source and row.channel_id}
    channels = {
        channel.pk: channel for channel in Channel.objects.filter(pk__in=sorted(channel_ids))
    }
    labels: dict[tuple[str, str], str] = {
        ("first_seen", str(pk)): str(channel) for pk, channel in channels.items()
    }
    labels[(UNKNOWN, "")] = pgettext("acquisition channel", "unknown")

    def key(row: Row) -> tuple[str, str]:
        if row.source:
            found = ("source", row.source.casefold())
            if found not in labels:
                labels[found] = row.source
            return found
        if row.channel_id in channels:
            return ("first_seen", str(row.channel_id))
        return (UNKNOWN, "")

    groups = _group(rows, key)
    result = [
        {"channel": labels[name], "origin": name[0], **_group_out(group, totals)}
        for name, group in groups.items()
    ]
    result.sort(key=lambda item: (-item["purchases"], item["channel"].casefold()))
    return result


def by_offer(
    rows: list[Row],
    totals: dict[str, Decimal],
    community: Community,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Per offer sold in the period: purchases, buyers, revenue, the share of its buyers who
    bought it again (for memberships: renewals) and, for memberships with a duration, how
    many terms ended in the period and how many were renewed."""
    groups = _group(rows, lambda row: row.offer_id)
    offers = Offer.objects.filter(community=community, pk__in=sorted(groups)).in_bulk()
    per_buyer: dict[int, Counter[int]] = defaultdict(Counter)
    for row in rows:
        per_buyer[row.offer_id][row.member_id] += 1
    renewals = membership_renewals(community, start, end, now)
    result = []
    for offer_id, group in groups.items():
        offer = offers[offer_id]
        counts = per_buyer[offer_id]
        again = sum(1 for count in counts.values() if count >= 2)
        result.append(
            {
                "offer_id": offer_id,
                "name": offer.name,
                "kind": offer.kind,
                "kind_label": str(OfferKind(offer.kind).label),
                "active": offer.active,
                **_group_out(group, totals),
                "repeat_buyers": again,
                "repurchase_rate": again / len(counts) if counts else None,
                "renewal": renewals.get(offer_id),
            }
        )
    result.sort(key=lambda item: (-item["purchases"], item["name"].casefold()))
    return result


def membership_renewals(
    community: Community, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> dict[int, dict[str, Any]]:
    """Per membership offer with a duration: terms that ended in [start, min(end, now)),
    how many were renewed (any membership bought by the same member after the term began and
    at most ``RENEWAL_GRACE_DAYS`` after it ended), how many may still be (grace not over),
    and the rate among those decided."""
    durations = dict(
        Offer.objects.filter(
            community=community, kind=OfferKind.MEMBERSHIP, duration_days__isnull=False
        ).values_list("pk", "duration_days")
    )
    if not durations:
        return {}
    grace = dt.timedelta(days=RENEWAL_GRACE_DAYS)
    longest = dt.timedelta(days=max(durations.values()))
    until = min(end, now)
    memberships = list(
        Purchase.objects.filter(
            community=community,
            offer__kind=OfferKind.MEMBERSHIP,
            purchased_at__gte=start - longest,
            purchased_at__lt=until + grace,
        )
        .filter(counted())
        .order_by("member_id", "purchased_at", "id")
        .values_list("member_id", "offer_id", "purchased_at")
    )
    bought: dict[int, list[dt.datetime]] = defaultdict(list)
    for member_id, _offer_id, when in memberships:
        bought[member_id].append(when)
    result: dict[int, dict[str, Any]] = {}
    for member_id, offer_id, when in memberships:
        days = durations.get(offer_id)
        if days is None:
            continue
        ends = when + dt.timedelta(days=days)
        if not start <= ends < until:
            continue
        figures = result.setdefault(offer_id, {"due": 0, "renewed": 0, "pending": 0})
        figures["due"] += 1
        if any(when < later <= ends + grace for later in bought[member_id]):
            figures["renewed"] += 1
        elif ends + grace > now:
            figures["pending"] += 1
    for figures in result.values():
        decided = figures["due"] - figures["pending"]
        figures["rate"] = figures["renewed"] / decided if decided else None
    return result


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime
    months: list[dt.date]


def report_period(community: Community, months: int, now: dt.datetime | None = None) -> Period:
    """The last ``months`` calendar months up to and including the current one, in the
    community's time zone (the current month so far)."""
    now = now or timezone.now()
    zone = community.zoneinfo
    this_month = month_start(now.astimezone(zone).date())
    firsts = [month_start(this_month, back) for back in range(months - 1, -1, -1)]
    return Period(
        start=local_midnight(firsts[0], zone),
        end=local_midnight(next_month(this_month), zone),
        months=firsts,
    )


def _month_costs(community: Community, months: list[dt.date]) -> dict[dt.date, dict[str, Decimal]]:
    found: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for month, amount, currency in Cost.objects.filter(
        community=community, month__gte=months[0], month__lte=months[-1]
    ).values_list("month", "amount", "currency"):
        found[month][currency] += amount
    return found


def business_report(
    community: Community, *, months: int = 12, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything the business page, ``shequn commerce report`` and the API show, per
    currency, for the last ``months`` months (see the module's definitions)."""
    now = now or timezone.now()
    period = report_period(community, months, now)
    rows = period_rows(community, period.start, period.end)
    refunds = list(
        Purchase.objects.filter(
            community=community,
            purchased_at__gte=period.start,
            purchased_at__lt=period.end,
            refunded_amount__gt=0,
        ).values_list("currency", "amount", "refunded_amount")
    )
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for currency, _amount, amount_refunded in refunds:
        refunded[currency] += amount_refunded
    refunded_in_full = sum(1 for _currency, amount, back in refunds if back >= amount > 0)
    revenue = _sums(rows)
    costs_by_month = _month_costs(community, period.months)
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for per_currency in costs_by_month.values():
        for currency, amount in per_currency.items():
            costs[currency] += amount
    currencies = sorted(set(revenue) | set(costs) | set(refunded))
    paying = _paying(rows)
    rate, repeat_buyers, buyers = repeat_rate(rows)
    month_rows = _month_rows(rows, costs_by_month, period.months, currencies)
    totals = {}
    for currency in currencies:
        earned = revenue.get(currency, Decimal("0.00"))
        spent = money(costs.get(currency, Decimal(0)))
        members = paying.get(currency, {})
        currency_rows = [row for row in rows if row.currency == currency]
        totals[currency] = {
            "revenue": earned,
            "refunded": money(refunded.get(currency, Decimal(0))),
            "gross": money(earned + refunded.get(currency, Decimal(0))),
            "costs": spent,
            "balance": earned - spent,
            "purchases": len(currency_rows),
            "buyers": len({row.member_id for row in currency_rows}),
            "paying_buyers": len(members),
            "revenue_per_paying_member": (money(earned / len(members)) if members else None),
            "top_buyers_share": top_share(list(members.values())),
            "pays_for_itself": earned >= spent if spent else None,
            "months_covered": sum(
                1
                for month in month_rows
                if month["currencies"][currency]["costs"]
                and month["currencies"][currency]["balance"] >= 0
            ),
            "months_with_costs": sum(
                1 for month in month_rows if month["currencies"][currency]["costs"]
            ),
        }
    return {
        "period": {
            "start": period.start,
            "end": period.end,
            "months": months,
            "time_zone": community.time_zone,
        },
        "currencies": currencies,
        "purchases": len(rows),
        "buyers": buyers,
        "repeat_buyers": repeat_buyers,
        "repeat_rate": rate,
        "refunded_in_full": refunded_in_full,
        "tiers_known": latest_tier_run(community) is not None,
        "totals": totals,
        "months": month_rows,
        "by_tier": by_tier(rows, revenue),
        "by_channel": by_channel(rows, revenue, community),
        "by_offer": by_offer(rows, revenue, community, period.start, period.end, now),
        "renewal_grace_days": RENEWAL_GRACE_DAYS,
    }


def _month_rows(
    rows: list[Row],
    costs_by_month: dict[dt.date, dict[str, Decimal]],
    months: list[dt.date],
    currencies: list[str],
) -> list[dict[str, Any]]:
    per: dict[tuple[dt.date, str], dict[str, Any]] = {}
    for row in rows:
        figures = per.setdefault(
            (row.month, row.currency), {"revenue": Decimal(0), "purchases": 0, "buyers": set()}
        )
        figures["revenue"] += row.net
        figures["purchases"] += 1
        figures["buyers"].add(row.member_id)
    result = []
    for month in months:
        by_currency = {}
        for currency in currencies:
            figures = per.get((month, currency), {"revenue": Decimal(0), "purchases": 0})
            earned = money(figures["revenue"])
            spent = money(costs_by_month.get(month, {}).get(currency, Decimal(0)))
            by_currency[currency] = {
                "revenue": earned,
                "costs": spent,
                "balance": earned - spent,
                "purchases": figures["purchases"],
                "buyers": len(figures.get("buyers", ())),
            }
        result.append({"month": month, "currencies": by_currency})
    return result


def as_json(value: Any) -> Any:
    """A report with its Decimals as text and its dates in ISO 8601, for JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value
