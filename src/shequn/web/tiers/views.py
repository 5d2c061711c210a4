"""The tiers page (funnel, monthly flows, members at risk) and the tier policy.

Everyone with access reads them; operators recompute and change the policy, through audited
services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.tiers.policy import TierPolicyError
from shequn.tiers.reasons import action_text, describe_risk, next_action, tier_label
from shequn.tiers.selectors import (
    latest_tier_run,
    members_at_risk,
    monthly_tier_flows,
    tier_funnel,
    tier_policy,
)
from shequn.tiers.services import do_recompute_tiers, do_update_tier_policy
from shequn.web.access import community_view
from shequn.web.tiers.forms import TierPolicyForm

FLOW_KINDS = ("new", "up", "came_back", "down", "lapsed")


def _flow_chart(flows: list[dict]) -> dict:
    """Per month, how many members moved in each way (for the stacked bar chart)."""
    months = sorted({row["month"] for row in flows})
    series = {kind: dict.fromkeys(months, 0) for kind in FLOW_KINDS}
    for row in flows:
        series[row["kind"]][row["month"]] += row["count"]
    return {"months": months, "series": {kind: list(v.values()) for kind, v in series.items()}}


@community_view()
def tiers(request: HttpRequest) -> HttpResponse:
    community = request.community
    flows = monthly_tier_flows(community)
    for row in flows:
        row["from_label"] = tier_label(None if row["from_tier"] == "new" else row["from_tier"])
        row["to_label"] = tier_label(row["to_tier"])
    at_risk = members_at_risk(community)
    for state in at_risk:
        state.risk_text = describe_risk(state.risk or {})
        state.action_label = action_text(next_action(state.tier, at_risk=True))
    funnel = tier_funnel(community)
    for row in funnel:
        if row["share"] is not None:
            row["action_label"] = action_text(next_action(row["tier"]))
            row["percent"] = round(row["share"] * 100, 1)
    return render(
        request,
        "web/tiers/index.html",
        {
            "community": community,
            "section": "tiers",
            "funnel": funnel,
            "flows": flows,
            "flow_chart": _flow_chart(flows),
            "flow_labels": {
                "new": _("new"),
                "up": _("moved up"),
                "came_back": _("came back"),
                "down": _("moved down"),
                "lapsed": _("lapsed"),
            },
            "at_risk": at_risk,
            "run": latest_tier_run(community),
            "can_write": can(request.access_role, AccessRole.OPERATOR),
        },
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    result = do_recompute_tiers(
        request.community, full=request.POST.get("full") == "1", actor=request.user
    )
    messages.success(
        request,
        _("Tiers recomputed as of %(day)s: %(evaluated)s members evaluated, %(changed)s changed.")
        % {"day": result.as_of, "evaluated": result.evaluated, "changed": result.changed},
    )
    return redirect("web:tiers", request.community.slug)


@community_view()
def policy(request: HttpRequest) -> HttpResponse:
    community = request.community
    can_write = can(request.access_role, AccessRole.OPERATOR)
    current = tier_policy(community)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        form = TierPolicyForm(request.POST, instance=tier_policy(community))
        if form.is_valid():
            try:
                do_update_tier_policy(community, actor=request.user, **form.values())
            except TierPolicyError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Tier policy saved; every member was re-evaluated."))
                return redirect("web:tiers_policy", community.slug)
    else:
        form = TierPolicyForm(instance=current)
    if not can_write:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "web/tiers/policy.html",
        {"community": community, "section": "tiers", "form": form, "can_write": can_write},
    )
