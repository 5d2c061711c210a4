"""Operating costs per month: the list, adding one (or the same for several months),
removing one entered by mistake."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.commerce.selectors import community_costs
from shequn.commerce.services import CommerceError, do_add_cost, do_delete_cost
from shequn.web.access import community_view
from shequn.web.commerce.common import SECTION, cost_or_404, may_write
from shequn.web.commerce.forms import CostForm

PAGE_SIZE = 50


def _page(request: HttpRequest, form: CostForm, status: int = 200) -> HttpResponse:
    community = request.community
    page = Paginator(community_costs(community), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/commerce/costs.html",
        {
            "community": community,
            "section": SECTION,
            "costs": page,
            "form": form,
            "can_write": may_write(request),
        },
        status=status,
    )


@community_view()
def costs(request: HttpRequest) -> HttpResponse:
    return _page(request, CostForm(initial={"repeat": 1}))


@community_view(AccessRole.OPERATOR)
@require_POST
def cost_new(request: HttpRequest) -> HttpResponse:
    form = CostForm(request.POST)
    if form.is_valid():
        values = form.values()
        repeat = values.pop("repeat") or 1
        try:
            added = do_add_cost(request.community, values, repeat=repeat, actor=request.user)
        except CommerceError as exc:
            form.add_problems(exc.problems)
        else:
            messages.success(
                request,
                ngettext(
                    "Cost recorded for %(n)d month.", "Cost recorded for %(n)d months.", len(added)
                )
                % {"n": len(added)},
            )
            return redirect("web:commerce_costs", request.community.slug)
    return _page(request, form, status=400)


@community_view(AccessRole.OPERATOR)
@require_POST
def cost_delete(request: HttpRequest, cost_id: int) -> HttpResponse:
    do_delete_cost(cost_or_404(request.community, cost_id), actor=request.user)
    messages.success(request, _("Cost removed."))
    return redirect("web:commerce_costs", request.community.slug)
