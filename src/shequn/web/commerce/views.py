"""The business page (社群商业模式): revenue per month against costs, whether the community pays
for itself, revenue per tier, acquisition channel and offer, repeat purchases and renewals;
and for operators the order file import and the paid activity registrations.

Everyone with access reads; operators write, always through ``shequn.commerce.services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.commerce.selectors import RENEWAL_GRACE_DAYS, business_report
from shequn.commerce.services import (
    CommerceError,
    do_import_activity_tickets,
    do_import_purchases,
)
from shequn.interactions.importers.records import ImportFormatError
from shequn.web.access import community_view
from shequn.web.commerce import display
from shequn.web.commerce.common import SECTION, may_write, problems_text
from shequn.web.commerce.forms import ImportForm, ReportForm

DEFAULT_MONTHS = 12


@community_view()
def business(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = ReportForm(request.GET or None)
    months = DEFAULT_MONTHS
    if form.is_bound and form.is_valid() and form.cleaned_data["months"]:
        months = form.cleaned_data["months"]
    report = business_report(community, months=months)
    currencies = report["currencies"]
    return render(
        request,
        "web/commerce/index.html",
        {
            "community": community,
            "section": SECTION,
            "form": form if form.is_bound else ReportForm(initial={"months": months}),
            "months": months,
            "first_month": report["months"][0]["month"],
            "report": report,
            "currencies": currencies,
            "totals": [
                {
                    "currency": currency,
                    **report["totals"][currency],
                    "top_share": display.percent(report["totals"][currency]["top_buyers_share"]),
                }
                for currency in currencies
            ],
            "repeat_rate": display.percent(report["repeat_rate"]),
            "verdicts": display.verdicts(report),
            "charts": display.charts(report),
            "by_tier": display.table(report["by_tier"], currencies),
            "by_channel": display.table(report["by_channel"], currencies),
            "by_offer": display.offer_table(report["by_offer"], currencies),
            "grace_days": RENEWAL_GRACE_DAYS,
            "can_write": may_write(request),
        },
    )


@community_view(AccessRole.OPERATOR)
def import_orders(request: HttpRequest) -> HttpResponse:
    """Upload an order file: checked whole, imported all or nothing; the error names the file,
    the line and the problem, and the result reconciles with the shop's export."""
    community = request.community
    result = error = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = do_import_purchases(
                    community,
                    upload,
                    name=upload.name,
                    time_zone_name=form.cleaned_data["time_zone"],
                    create_members=form.cleaned_data["create_members"],
                    dry_run=form.cleaned_data["dry_run"],
                    actor=request.user,
                )
            except ImportFormatError as exc:
                error, status = str(exc), 400
            except CommerceError as exc:
                error, status = problems_text(exc), 400
        else:
            status = 400
    else:
        form = ImportForm(initial={"time_zone": community.time_zone})
    return render(
        request,
        "web/commerce/import.html",
        {
            "community": community,
            "section": SECTION,
            "form": form,
            "result": result,
            "error": error,
        },
        status=status,
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def import_tickets(request: HttpRequest) -> HttpResponse:
    """Bring the paid registrations of the community's activities in as ticket purchases."""
    result = do_import_activity_tickets(request.community, actor=request.user)
    messages.success(
        request,
        _(
            "Activity tickets: %(added)s purchases added, %(refunds)s refunds recorded, "
            "%(unchanged)s already there (from %(registrations)s paid registrations)."
        )
        % {
            "added": result.added,
            "refunds": result.refunds_added,
            "unchanged": result.unchanged,
            "registrations": result.registrations,
        },
    )
    return redirect("web:commerce_purchases", request.community.slug)
