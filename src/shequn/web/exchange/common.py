"""What the exchange pages share: lookups, the member an operator typed, the chart rows."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.activities.web_selectors import find_member
from shequn.communities.models import Community
from shequn.exchange.models import Connection, Post
from shequn.exchange.selectors import (
    MonthReport,
    community_connection,
    community_post,
    report_currencies,
)
from shequn.exchange.validation import ExchangeError
from shequn.members.models import Member


def may_write(request: HttpRequest) -> bool:
    return can(request.access_role, AccessRole.OPERATOR)


def post_or_404(community: Community, post_id: int, *, reviewed_only: bool = False) -> Post:
    """The community's post, or 404 (another community's answers as if it did not exist;
    ``reviewed_only``: so does a submission not let in, for viewers)."""
    found = community_post(community, post_id, reviewed_only=reviewed_only)
    if found is None:
        raise Http404
    return found


def connection_or_404(community: Community, connection_id: int) -> Connection:
    found = community_connection(community, connection_id)
    if found is None:
        raise Http404
    return found


def resolve_member(community: Community, text: str) -> Member | None:
    """The member an operator typed (id, key, name or handle); ``ExchangeError`` on field
    ``member`` when nobody or several people match; ``None`` for an empty text."""
    text = (text or "").strip()
    if not text:
        return None
    found = find_member(community, text)
    if not found:
        raise ExchangeError(
            _("no member %(member)s in this community") % {"member": repr(text)}, field="member"
        )
    if len(found) > 1:
        choices = ", ".join(f"#{member.pk} {member.display_name}" for member in found)
        raise ExchangeError(
            _("%(member)s matches several members (%(choices)s); use the id")
            % {"member": repr(text), "choices": choices},
            field="member",
        )
    return found[0]


def problems_text(error: ExchangeError) -> str:
    return "; ".join(
        f"{field}: {message}" if field else message for field, message in error.problems.items()
    )


def back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (``next``, same site only), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def index_url(community: Community, anchor: str = "") -> str:
    url = reverse("web:exchange", args=[community.slug])
    return f"{url}#{anchor}" if anchor else url


def chart_data(months: list[MonthReport]) -> dict[str, Any]:
    """The rows of the monthly chart: connections stacked by outcome, and the value in the
    currency with the largest total (one line; other currencies are in the table)."""
    currencies = report_currencies(months)
    currency = currencies[0] if currencies else ""
    return {
        "months": [month.month.strftime("%Y-%m") for month in months],
        "deals": [month.deals for month in months],
        "helped": [month.helped for month in months],
        "no_result": [month.no_result for month in months],
        "not_reported": [month.not_reported for month in months],
        "currency": currency,
        "value": [float(month.value.get(currency, 0)) for month in months] if currency else [],
    }
