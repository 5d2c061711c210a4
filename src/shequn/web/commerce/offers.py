"""Offers: the list with what each sold, creating and editing one, taking it off sale."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.commerce.models import Offer
from shequn.commerce.selectors import community_offers
from shequn.commerce.services import (
    CommerceError,
    do_create_offer,
    do_set_offer_active,
    do_update_offer,
)
from shequn.commerce.validation import offer_values
from shequn.web.access import community_view
from shequn.web.commerce.common import SECTION, may_write, offer_or_404
from shequn.web.commerce.forms import OfferForm


@community_view()
def offers(request: HttpRequest) -> HttpResponse:
    community = request.community
    return render(
        request,
        "web/commerce/offers.html",
        {
            "community": community,
            "section": SECTION,
            "offers": list(community_offers(community).select_related("activity")),
            "can_write": may_write(request),
        },
    )


def _form_page(
    request: HttpRequest, form: OfferForm, offer: Offer | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/commerce/offer_form.html",
        {"community": request.community, "section": SECTION, "form": form, "offer": offer},
        status=status,
    )


def _values(form: OfferForm) -> dict[str, Any]:
    values = form.values()
    values["duration_days"] = values.get("duration_days") or None
    return values


@community_view(AccessRole.OPERATOR)
def offer_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                do_create_offer(request.community, _values(form), actor=request.user)
            except CommerceError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("Offer created."))
                return redirect("web:commerce_offers", request.community.slug)
        return _form_page(request, form, None, status=400)
    return _form_page(request, OfferForm(initial={"kind": "membership", "active": True}), None)


@community_view(AccessRole.OPERATOR)
def offer_edit(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = offer_or_404(request.community, offer_id)
    if request.method == "POST":
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                do_update_offer(offer, _values(form), actor=request.user)
            except CommerceError as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("Offer saved."))
                return redirect("web:commerce_offers", request.community.slug)
        return _form_page(request, form, offer, status=400)
    initial = {**offer_values(offer), "price": str(offer.price)}
    initial["duration_days"] = "" if offer.duration_days is None else str(offer.duration_days)
    return _form_page(request, OfferForm(initial=initial), offer)


@community_view(AccessRole.OPERATOR)
@require_POST
def offer_active(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Take an offer off sale or put it back (its purchases and figures stay)."""
    offer = offer_or_404(request.community, offer_id)
    active = request.POST.get("active") == "1"
    do_set_offer_active(offer, active, actor=request.user)
    if active:
        messages.success(request, _("%(name)s is on sale again.") % {"name": offer.name})
    else:
        messages.success(request, _("%(name)s is off sale.") % {"name": offer.name})
    return redirect("web:commerce_offers", request.community.slug)
