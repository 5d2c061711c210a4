"""Purchases: the list (filtered, paged, as CSV), recording one, one purchase with its refunds,
and refunding it. A purchase is never edited or deleted; a refund corrects it."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.commerce.models import Purchase
from shequn.commerce.selectors import (
    PurchaseFilters,
    community_offers,
    community_purchases,
    purchase_refunds,
)
from shequn.commerce.services import CommerceError, do_record_purchase, do_refund_purchase
from shequn.communities.models import Community
from shequn.web.access import community_view
from shequn.web.commerce.common import (
    SECTION,
    may_write,
    problems_text,
    purchase_or_404,
    resolve_member,
)
from shequn.web.commerce.forms import PurchaseForm, RefundForm

PAGE_SIZE = 50
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = (
    "purchase_id",
    "order_id",
    "time",
    "member_id",
    "member_key",
    "member",
    "offer",
    "kind",
    "amount",
    "refunded",
    "currency",
    "source",
    "recorded_as",
    "note",
)


def _filters(request: HttpRequest) -> PurchaseFilters:
    offer = request.GET.get("offer", "")
    refunded = request.GET.get("refunded", "")
    return PurchaseFilters(
        offer_id=int(offer) if offer.isdigit() and len(offer) < 19 else None,
        search=request.GET.get("q", "").strip()[:200],
        refunded=refunded if refunded in ("yes", "no") else "",
    )


@community_view()
def purchases(request: HttpRequest) -> HttpResponse:
    community = request.community
    filters = _filters(request)
    page = Paginator(community_purchases(community, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/commerce/purchases.html",
        {
            "community": community,
            "section": SECTION,
            "purchases": page,
            "filters": filters,
            "query": query.urlencode(),
            "offers": list(community_offers(community)),
            "can_write": may_write(request),
        },
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@community_view()
def purchases_csv(request: HttpRequest) -> HttpResponse:
    """The purchases (as filtered) as CSV, times in the community's time zone."""
    community = request.community
    zone = community.zoneinfo
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for purchase in community_purchases(community, _filters(request)).iterator(chunk_size=2000):
        writer.writerow(
            [
                _cell(value)
                for value in (
                    purchase.pk,
                    purchase.order_id,
                    purchase.purchased_at.astimezone(zone).isoformat(timespec="seconds"),
                    purchase.member_id,
                    purchase.member.key,
                    purchase.member.display_name,
                    purchase.offer.name,
                    purchase.offer.kind,
                    purchase.amount,
                    purchase.refunded_amount,
                    purchase.currency,
                    purchase.source,
                    purchase.origin,
                    purchase.note,
                )
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{community.slug}-purchases.csv"'
    return response


def _offers(community: Community) -> list[Any]:
    return list(community_offers(community).order_by("-active", "name"))


def _form_page(request: HttpRequest, form: PurchaseForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "web/commerce/purchase_form.html",
        {"community": request.community, "section": SECTION, "form": form},
        status=status,
    )


@community_view(AccessRole.OPERATOR)
def purchase_new(request: HttpRequest) -> HttpResponse:
    community = request.community
    offers = _offers(community)
    if request.method == "POST":
        form = PurchaseForm(request.POST, offers=offers)
        if form.is_valid():
            values = form.values()
            try:
                values["member"] = resolve_member(community, values.get("member") or "")
                purchase = do_record_purchase(community, values, actor=request.user)
            except CommerceError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("Purchase recorded."))
                return redirect("web:commerce_purchase", community.slug, purchase.pk)
        return _form_page(request, form, status=400)
    if not offers:
        messages.warning(request, _("Create an offer first: a purchase is of an offer."))
        return redirect("web:commerce_offer_new", community.slug)
    return _form_page(request, PurchaseForm(offers=offers))


def _detail(
    request: HttpRequest, purchase: Purchase, form: RefundForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/commerce/purchase.html",
        {
            "community": request.community,
            "section": SECTION,
            "purchase": purchase,
            "refunds": list(purchase_refunds(purchase).select_related("created_by")),
            "left": purchase.amount - purchase.refunded_amount,
            "form": form,
            "can_write": may_write(request),
        },
        status=status,
    )


@community_view()
def purchase_page(request: HttpRequest, purchase_id: int) -> HttpResponse:
    return _detail(request, purchase_or_404(request.community, purchase_id), RefundForm())


@community_view(AccessRole.OPERATOR)
@require_POST
def purchase_refund(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = purchase_or_404(request.community, purchase_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            refund = do_refund_purchase(
                purchase,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except CommerceError as exc:
            form.add_problems(exc.problems)
            messages.error(request, problems_text(exc))
        else:
            messages.success(
                request,
                _("Refund of %(amount)s %(currency)s recorded.")
                % {"amount": refund.amount, "currency": purchase.currency},
            )
            return redirect("web:commerce_purchase", request.community.slug, purchase.pk)
    return _detail(request, purchase_or_404(request.community, purchase_id), form, status=400)
