"""The exchange page (需求与供给: 连接): needs and offers with filters, submissions waiting for
approval, suggested introductions with their evidence, connections with their outcomes and
the value created per month; the full list of connections; the settings.

Everyone with access reads; operators change, always through ``shequn.exchange.services``
(validated, one transaction, audited). Views only parse, check the role and call.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.exchange.selectors import (
    PostFilters,
    community_connections,
    community_posts,
    connections_summary,
    exchange_settings,
    monthly_report,
    pending_posts,
    popular_tags,
    post_counts,
    report_currencies,
    suggestions,
)
from shequn.exchange.services import (
    ExchangeError,
    do_close_public_form,
    do_open_public_form,
    do_update_settings,
)
from shequn.web.access import community_view
from shequn.web.exchange.common import chart_data, may_write
from shequn.web.exchange.forms import (
    ApproveForm,
    FilterForm,
    OutcomeForm,
    PairForm,
    ReasonForm,
    SettingsForm,
)

POSTS_PAGE = 25
CONNECTIONS_PAGE = 50
SUGGESTIONS_SHOWN = 15
RECENT_CONNECTIONS = 10
REPORT_MONTHS = 12


def _filters(form: FilterForm, *, can_write: bool) -> PostFilters:
    if not form.is_valid():
        return PostFilters(status="open")
    data = form.cleaned_data
    return PostFilters(
        kind=data["kind"],
        status=data["status"],
        tag=data["tag"].strip(),
        search=data["q"],
        reviewed_only=not can_write,
    )


@community_view()
def exchange(request: HttpRequest) -> HttpResponse:
    community = request.community
    can_write = may_write(request)
    query = request.GET.copy()
    if "status" not in query:
        query["status"] = "open"
    form = FilterForm(query)
    filters = _filters(form, can_write=can_write)
    page = Paginator(community_posts(community, filters), POSTS_PAGE).get_page(
        request.GET.get("page")
    )
    months = monthly_report(community, months=REPORT_MONTHS)
    now = timezone.now()
    start = min(month.month for month in months)
    since = dt.datetime.combine(start, dt.time(), community.zoneinfo)
    year = connections_summary(community, since, now)
    return render(
        request,
        "web/exchange/index.html",
        {
            "community": community,
            "section": "exchange",
            "can_write": can_write,
            "counts": post_counts(community),
            "year": year,
            "year_values": sorted(year["value"].items()),
            "form": form,
            "filters": filters,
            "page": page,
            "tags": popular_tags(community),
            "pending": list(pending_posts(community)[:50]) if can_write else [],
            "suggestions": suggestions(community, limit=SUGGESTIONS_SHOWN),
            "connections": list(community_connections(community)[:RECENT_CONNECTIONS]),
            "months": months,
            "currencies": report_currencies(months),
            "has_connections": any(month.connections for month in months),
            "chart": chart_data(months),
            "chart_labels": {
                "deals": _("deal made"),
                "helped": _("helped"),
                "no_result": _("no result"),
                "not_reported": _("not reported yet"),
                "value": _("value"),
            },
            "approve_form": ApproveForm(),
            "reason_form": ReasonForm(),
            "pair_form": PairForm(),
            "outcome_form": OutcomeForm(),
        },
    )


@community_view()
def connections(request: HttpRequest) -> HttpResponse:
    """Every connection, newest first, with its evidence and outcome."""
    community = request.community
    page = Paginator(community_connections(community), CONNECTIONS_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/exchange/connections.html",
        {
            "community": community,
            "section": "exchange",
            "can_write": may_write(request),
            "page": page,
            "outcome_form": OutcomeForm(),
        },
    )


@community_view(AccessRole.OPERATOR)
def settings(request: HttpRequest) -> HttpResponse:
    """Points per connection, the suggestion threshold and the public form's link."""
    community = request.community
    current = exchange_settings(community)
    status = 200
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                do_update_settings(community, form.cleaned_data, actor=request.user)
            except ExchangeError as exc:
                form.add_problems(exc)
            else:
                messages.success(request, _("Exchange settings saved."))
                return redirect("web:exchange_settings", community.slug)
        status = 400
    else:
        form = SettingsForm(
            initial={
                "points_for_offer": current.points_for_offer,
                "points_for_need": current.points_for_need,
                "min_score": current.min_score,
            }
        )
    public_link = ""
    if current.public_form_on:
        public_link = request.build_absolute_uri(
            reverse("web:exchange_public", args=[current.public_token])
        )
    return render(
        request,
        "web/exchange/settings.html",
        {
            "community": community,
            "section": "exchange",
            "form": form,
            "current": current,
            "public_link": public_link,
        },
        status=status,
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def public_form(request: HttpRequest) -> HttpResponse:
    """Turn the public form on (a new link) or off (the link stops working)."""
    community = request.community
    if request.POST.get("action") == "open":
        do_open_public_form(community, actor=request.user)
        messages.success(request, _("The public form is on: share its new link."))
    else:
        do_close_public_form(community, actor=request.user)
        messages.success(request, _("The public form is off: its link no longer works."))
    return redirect("web:exchange_settings", community.slug)
