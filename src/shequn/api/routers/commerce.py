"""/communities/{slug}/commerce/…: the business model (社群商业模式) — offers, purchases and
refunds, order files, paid activity registrations, monthly costs, and the figures.

Money is sent and returned as decimal text ("399.00"; a JSON number is accepted in requests)
with an ISO 4217 currency; currencies are never converted. Refusals answer 422 naming each
field at fault, and change nothing.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict, model_validator

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem, problem
from shequn.api.pagination import Page
from shequn.commerce.models import Cost, Offer, Purchase
from shequn.commerce.selectors import (
    PurchaseFilters,
    as_json,
    business_report,
    community_costs,
    community_offers,
    community_purchases,
    purchase_refunds,
    revenue_summary,
)
from shequn.commerce.services import (
    MAX_REPEAT,
    CommerceError,
    do_add_cost,
    do_create_offer,
    do_delete_cost,
    do_import_activity_tickets,
    do_import_purchases,
    do_record_purchase,
    do_refund_purchase,
    do_set_offer_active,
    do_update_offer,
)
from shequn.commerce.validation import MAX_YEAR, MIN_YEAR
from shequn.communities.models import Community
from shequn.interactions.importers.records import ImportFormatError

router = Router(tags=["commerce"])

MAX_ID = 2**62
MAX_MONTHS = 60
MAX_SUMMARY_DAYS = 3660
MONEY_HELP = 'Decimal text such as "399.00" (at most two decimals).'
MOMENT_HELP = "ISO 8601; without an offset, a clock time in the community's time zone."
Money = Decimal | str
START_QUERY = Query(None, description=f"Default: 30 days before end. {MOMENT_HELP}")
END_QUERY = Query(None, description=f"Exclusive; default: now. {MOMENT_HELP}")


def path_id(description: str) -> Any:
    return Path(..., ge=1, le=MAX_ID, description=description)


class Strict(Schema):
    """A request body: unknown fields are refused, and so are NUL characters."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def no_nul_characters(self) -> "Strict":
        for name, value in self:
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name}: NUL characters are not allowed")
        return self


# --------------------------------------------------------------------------- schemas
class OfferIn(Strict):
    kind: str = Field(..., max_length=16, description="membership, course, product, ticket, other")
    name: str = Field(..., max_length=200)
    code: str = Field("", max_length=100, description="The shop's product id or SKU.")
    description: str = Field("", max_length=10_000)
    price: Money = Field(..., description=MONEY_HELP)
    currency: str = Field(..., max_length=3, description="ISO 4217, e.g. CNY")
    duration_days: int | None = Field(None, ge=1, le=3660, description="Memberships only.")
    active: bool = True


class OfferPatch(Strict):
    kind: str | None = Field(None, max_length=16)
    name: str | None = Field(None, max_length=200)
    code: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=10_000)
    price: Money | None = Field(None, description=MONEY_HELP)
    currency: str | None = Field(None, max_length=3)
    duration_days: int | None = Field(None, ge=1, le=3660)
    active: bool | None = None


class OfferOut(Schema):
    id: int
    kind: str
    name: str
    code: str
    description: str
    price: Decimal
    currency: str
    duration_days: int | None
    active: bool
    activity_id: int | None
    sold: int = Field(description="Purchases that count (not refunded in full).")


class PurchaseIn(Strict):
    member_id: int = Field(..., ge=1, le=MAX_ID)
    offer_id: int = Field(..., ge=1, le=MAX_ID)
    amount: Money | None = Field(None, description=f"Empty: the list price. {MONEY_HELP}")
    currency: str = Field("", max_length=3, description="Empty: the offer's currency.")
    purchased_at: str | None = Field(None, max_length=64, description=f"Empty: now. {MOMENT_HELP}")
    source: str = Field("", max_length=200, description="The acquisition channel.")
    order_id: str = Field("", max_length=200)
    note: str = Field("", max_length=500)


class PurchaseOut(Schema):
    id: int
    order_id: str
    purchased_at: dt.datetime
    member_id: int
    display_name: str
    offer_id: int
    offer_name: str
    amount: Decimal
    refunded_amount: Decimal
    currency: str
    source: str
    origin: str
    note: str


class RefundOut(Schema):
    id: int
    amount: Decimal
    refunded_at: dt.datetime
    reason: str


class PurchaseDetail(PurchaseOut):
    refunds: list[RefundOut]


class RefundIn(Strict):
    amount: Money | None = Field(None, description=f"Empty: all that is left. {MONEY_HELP}")
    reason: str = Field("", max_length=500)
    refunded_at: str | None = Field(None, max_length=64, description=f"Empty: now. {MOMENT_HELP}")


class PurchaseQuery(Schema):
    offer_id: int | None = Field(None, ge=1, le=MAX_ID)
    member_id: int | None = Field(None, ge=1, le=MAX_ID)
    q: str = Field("", max_length=200, description="Found in the order id, source, note, buyer.")
    refunded: str = Field("", pattern="^(|yes|no)$")
    since: dt.datetime | None = Field(None, description="Purchases at or after this.")
    until: dt.datetime | None = Field(None, description="Purchases before this.")


class ImportOut(Schema):
    file: str
    rows: int
    added: int
    unchanged: int
    refunds_added: int
    not_paid: int
    members_created: int
    revenue_added: dict[str, str]
    ignored_columns: list[str]
    dry_run: bool


class TicketsOut(Schema):
    registrations: int
    added: int
    unchanged: int
    refunds_added: int
    offers_created: int


class CostIn(Strict):
    month: str = Field(..., max_length=10, description="e.g. 2024-03")
    category: str = Field(..., max_length=16, description="tools, venue, staff, marketing, …")
    description: str = Field("", max_length=200)
    amount: Money = Field(..., description=MONEY_HELP)
    currency: str = Field(..., max_length=3)
    repeat: int = Field(1, ge=1, le=MAX_REPEAT, description="The same cost for this many months.")


class CostOut(Schema):
    id: int
    month: dt.date
    category: str
    description: str
    amount: Decimal
    currency: str


class SummaryOut(Schema):
    purchases: int
    buyers: int
    revenue: dict[str, str] = Field(description="Currency -> revenue (paid minus refunded).")
    costs: dict[str, str] = Field(description="Currency -> costs (pro rata for part months).")
    repeat_rate: float | None = Field(description="Share of buyers with 2+ purchases.")


class ReportOut(Schema):
    period: dict[str, Any]
    currencies: list[str]
    purchases: int
    buyers: int
    repeat_buyers: int
    repeat_rate: float | None
    refunded_in_full: int
    tiers_known: bool
    totals: dict[str, dict[str, Any]]
    months: list[dict[str, Any]]
    by_tier: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    by_offer: list[dict[str, Any]]
    renewal_grace_days: int


# --------------------------------------------------------------------------- helpers
def refused(request: HttpRequest, error: CommerceError) -> HttpResponse:
    """422 problem details naming every field at fault; nothing was written."""
    from shequn.api.api import api

    errors = [
        {"loc": ["body", field] if field else ["body"], "msg": message}
        for field, message in error.problems.items()
    ]
    return problem(api, request, 422, _("Refused"), str(error), errors)


def offer_out(offer: Offer) -> dict[str, Any]:
    sold = getattr(offer, "sold", None)
    if sold is None:
        sold = community_offers(offer.community).get(pk=offer.pk).sold
    return {
        **{field: getattr(offer, field) for field in OfferOut.model_fields if field != "sold"},
        "sold": sold,
    }


def purchase_out(purchase: Purchase) -> dict[str, Any]:
    return {
        "id": purchase.pk,
        "order_id": purchase.order_id,
        "purchased_at": purchase.purchased_at,
        "member_id": purchase.member_id,
        "display_name": purchase.member.display_name,
        "offer_id": purchase.offer_id,
        "offer_name": purchase.offer.name,
        "amount": purchase.amount,
        "refunded_amount": purchase.refunded_amount,
        "currency": purchase.currency,
        "source": purchase.source,
        "origin": purchase.origin,
        "note": purchase.note,
    }


def purchase_detail(purchase: Purchase) -> dict[str, Any]:
    refunds = [
        {
            "id": refund.pk,
            "amount": refund.amount,
            "refunded_at": refund.refunded_at,
            "reason": refund.reason,
        }
        for refund in purchase_refunds(purchase)
    ]
    return {**purchase_out(purchase), "refunds": refunds}


def offer_or_404(community: Community, offer_id: int) -> Offer:
    return get_object_or_404(community_offers(community), pk=offer_id)


def purchase_or_404(community: Community, purchase_id: int) -> Purchase:
    return get_object_or_404(
        Purchase.objects.select_related("offer", "member", "community"),
        community=community,
        pk=purchase_id,
    )


def aware(value: dt.datetime | None, community: Community) -> dt.datetime | None:
    """A time given as a query parameter, in the community's time zone if it has no offset;
    422 for a year no purchase can have (far years overflow once converted to UTC)."""
    if value is None:
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise HttpError(
            422,
            _("must be between the years %(first)d and %(last)d")
            % {"first": MIN_YEAR, "last": MAX_YEAR},
        )
    return value.replace(tzinfo=community.zoneinfo) if value.tzinfo is None else value


# ---------------------------------------------------------------------------- offers
@router.get(
    "/communities/{slug}/commerce/offers",
    response={200: list[OfferOut], 404: Problem},
    summary="The offers the community sells (on sale first), with how many sold",
)
def list_offers(
    request: HttpRequest, slug: str, active: bool | None = Query(None)
) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [offer_out(offer) for offer in community_offers(community, active=active)]


@router.post(
    "/communities/{slug}/commerce/offers",
    response={201: OfferOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Put something on sale (operators); problems name each field",
)
def create_offer(request: HttpRequest, slug: str, payload: OfferIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        offer = do_create_offer(community, payload.dict(), actor=request.user)
    except CommerceError as exc:
        return refused(request, exc)
    return Status(201, offer_out(offer))


@router.get(
    "/communities/{slug}/commerce/offers/{offer_id}",
    response={200: OfferOut, 404: Problem},
    summary="One offer",
)
def get_offer(
    request: HttpRequest, slug: str, offer_id: int = path_id("The offer's id.")
) -> dict[str, Any]:
    return offer_out(offer_or_404(community_or_404(request, slug), offer_id))


@router.patch(
    "/communities/{slug}/commerce/offers/{offer_id}",
    response={200: OfferOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change an offer (operators); past purchases keep what they paid",
)
def patch_offer(
    request: HttpRequest,
    slug: str,
    payload: OfferPatch,
    offer_id: int = path_id("The offer's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    offer = offer_or_404(community, offer_id)
    values = payload.dict(exclude_unset=True)
    try:
        updated = do_update_offer(offer, values, actor=request.user)
    except CommerceError as exc:
        return refused(request, exc)
    return offer_out(offer_or_404(community, updated.pk))


@router.post(
    "/communities/{slug}/commerce/offers/{offer_id}/deactivate",
    response={200: OfferOut, 403: Problem, 404: Problem},
    summary="Take an offer off sale (operators); its purchases and figures stay",
)
def deactivate_offer(
    request: HttpRequest, slug: str, offer_id: int = path_id("The offer's id.")
) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_set_offer_active(offer_or_404(community, offer_id), False, actor=request.user)
    return offer_out(offer_or_404(community, offer_id))


@router.post(
    "/communities/{slug}/commerce/offers/{offer_id}/activate",
    response={200: OfferOut, 403: Problem, 404: Problem},
    summary="Put an offer back on sale (operators)",
)
def activate_offer(
    request: HttpRequest, slug: str, offer_id: int = path_id("The offer's id.")
) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_set_offer_active(offer_or_404(community, offer_id), True, actor=request.user)
    return offer_out(offer_or_404(community, offer_id))


# ------------------------------------------------------------------------- purchases
@router.get(
    "/communities/{slug}/commerce/purchases",
    response={200: list[PurchaseOut], 404: Problem},
    summary="Purchases, newest first (filter by offer, member, text, refund, time)",
)
@paginate(Page)
def list_purchases(request: HttpRequest, slug: str, filters: Query[PurchaseQuery]):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    purchases = community_purchases(
        community,
        PurchaseFilters(
            offer_id=filters.offer_id,
            member_id=filters.member_id,
            search=filters.q.strip(),
            refunded=filters.refunded,
            since=aware(filters.since, community),
            until=aware(filters.until, community),
        ),
    )
    return LazyRows(purchases, purchase_out)


class LazyRows:
    """A queryset the paginator counts and slices in the database, turned into rows only for
    the page it returns."""

    def __init__(self, queryset: Any, convert: Any) -> None:
        self.queryset, self.convert = queryset, convert

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, part: slice) -> list[dict[str, Any]]:
        return [self.convert(item) for item in self.queryset[part]]


@router.post(
    "/communities/{slug}/commerce/purchases",
    response={201: PurchaseDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Record a purchase (operators); empty amount and currency: the offer's",
)
def create_purchase(request: HttpRequest, slug: str, payload: PurchaseIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    values = payload.dict()
    # Ids: the service refuses another community's member or offer, naming the field.
    values["member"], values["offer"] = values.pop("member_id"), values.pop("offer_id")
    try:
        purchase = do_record_purchase(community, values, actor=request.user)
    except CommerceError as exc:
        return refused(request, exc)
    return Status(201, purchase_detail(purchase_or_404(community, purchase.pk)))


@router.post(
    "/communities/{slug}/commerce/purchases/import",
    response={200: ImportOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Import an order file (CSV): all of it or nothing; the same orders again add nothing",
)
def import_purchases(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    time_zone: Form[str] = "",
    create_members: Form[bool] = False,
    dry_run: Form[bool] = False,
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        result = do_import_purchases(
            community,
            file,
            name=file.name,
            time_zone_name=time_zone or None,
            create_members=create_members,
            dry_run=dry_run,
            actor=request.user,
        )
    except ImportFormatError as exc:
        from shequn.api.api import api

        errors = [{"loc": ["body", "file"], "msg": str(exc)}]
        return problem(api, request, 422, _("Refused"), str(exc), errors)
    except CommerceError as exc:
        return refused(request, exc)
    return vars(result)


@router.post(
    "/communities/{slug}/commerce/purchases/from-activities",
    response={200: TicketsOut, 403: Problem, 404: Problem},
    summary="Bring paid activity registrations in as ticket purchases (operators; idempotent)",
)
def import_tickets(request: HttpRequest, slug: str) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    return vars(do_import_activity_tickets(community, actor=request.user))


@router.get(
    "/communities/{slug}/commerce/purchases/{purchase_id}",
    response={200: PurchaseDetail, 404: Problem},
    summary="One purchase with its refunds",
)
def get_purchase(
    request: HttpRequest, slug: str, purchase_id: int = path_id("The purchase's id.")
) -> dict[str, Any]:
    return purchase_detail(purchase_or_404(community_or_404(request, slug), purchase_id))


@router.post(
    "/communities/{slug}/commerce/purchases/{purchase_id}/refunds",
    response={201: PurchaseDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Refund a purchase in part or in full (operators); never more than was paid",
)
def refund_purchase(
    request: HttpRequest,
    slug: str,
    payload: RefundIn,
    purchase_id: int = path_id("The purchase's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    purchase = purchase_or_404(community, purchase_id)
    try:
        do_refund_purchase(
            purchase,
            amount=payload.amount,
            reason=payload.reason,
            refunded_at=payload.refunded_at,
            actor=request.user,
        )
    except CommerceError as exc:
        return refused(request, exc)
    return Status(201, purchase_detail(purchase_or_404(community, purchase_id)))


# ----------------------------------------------------------------------------- costs
@router.get(
    "/communities/{slug}/commerce/costs",
    response={200: list[CostOut], 404: Problem},
    summary="Operating costs per month, latest first",
)
@paginate(Page)
def list_costs(request: HttpRequest, slug: str):  # type: ignore[no-untyped-def]
    return community_costs(community_or_404(request, slug))


@router.post(
    "/communities/{slug}/commerce/costs",
    response={201: list[CostOut], 403: Problem, 404: Problem, 422: Problem},
    summary="Record a month's cost, or the same cost for several months (operators)",
)
def create_cost(request: HttpRequest, slug: str, payload: CostIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    values = payload.dict()
    repeat = values.pop("repeat")
    try:
        costs = do_add_cost(community, values, repeat=repeat, actor=request.user)
    except CommerceError as exc:
        return refused(request, exc)
    return Status(201, costs)


@router.delete(
    "/communities/{slug}/commerce/costs/{cost_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Remove a cost entered by mistake (operators; the audit log keeps it)",
)
def delete_cost(request: HttpRequest, slug: str, cost_id: int = path_id("The cost's id.")) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_delete_cost(get_object_or_404(Cost, community=community, pk=cost_id), actor=request.user)
    return Status(204, None)


# --------------------------------------------------------------------------- figures
@router.get(
    "/communities/{slug}/commerce/report",
    response={200: ReportOut, 404: Problem},
    summary="Revenue per month, tier, channel and offer, repeat rate, renewals, costs",
)
def report(
    request: HttpRequest,
    slug: str,
    months: int = Query(12, ge=1, le=MAX_MONTHS, description="Calendar months, this one last."),
) -> dict[str, Any]:
    community = community_or_404(request, slug)
    return as_json(business_report(community, months=months))


@router.get(
    "/communities/{slug}/commerce/summary",
    response={200: SummaryOut, 404: Problem, 422: Problem},
    summary="Purchases, buyers, revenue, costs and repeat rate for a period [start, end)",
)
def summary(
    request: HttpRequest,
    slug: str,
    start: dt.datetime | None = START_QUERY,
    end: dt.datetime | None = END_QUERY,
) -> Any:
    community = community_or_404(request, slug)
    end = aware(end, community) or timezone.now()
    start = aware(start, community) or end - dt.timedelta(days=30)
    if not dt.timedelta(0) < end - start <= dt.timedelta(days=MAX_SUMMARY_DAYS):
        return refused(
            request,
            CommerceError(
                _("must be after start, and at most %(days)d days after it")
                % {"days": MAX_SUMMARY_DAYS},
                field="end",
            ),
        )
    return revenue_summary(community, start, end)
