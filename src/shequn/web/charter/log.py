"""The appealable log: violations with filters and decide buttons, one violation with its
message and ledger entries, operator reports, mute recommendations to act on, and the rewards
rules gave. Writes go through ``shequn.charter.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.charter.detectors import detector_for
from shequn.charter.models import CharterRule
from shequn.charter.selectors import (
    ViolationFilters,
    community_rules,
    events_by_reference,
    mute_recommendations,
    rewards,
    violations,
    violations_by_week,
)
from shequn.charter.services import (
    CharterError,
    do_act_on_mute,
    do_decide_violation,
    do_report_violation,
)
from shequn.web.access import community_view
from shequn.web.charter.common import (
    find_member,
    member_or_404,
    page,
    violation_or_404,
)
from shequn.web.charter.forms import DecideForm, MuteForm, ReportForm, ViolationFilterForm

PAGE_SIZE = 50
CHART_WEEKS = 12


def _why(violation: Any) -> str:
    detector = detector_for(violation.rule.kind)
    return detector.describe(violation.detail) if detector is not None else ""


def _reportable(community) -> list[CharterRule]:
    return [
        rule
        for rule in CharterRule.objects.filter(community=community, enabled=True).order_by("key")
        if (detector := detector_for(rule.kind)) is not None and not detector.reward
    ]


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the form was on (the filtered log), else ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(fallback, request.community.slug)


@community_view()
def violations_page(request: HttpRequest) -> HttpResponse:
    community = request.community
    rules = [rule for rule in community_rules(community) if rule.consequence != "reward"]
    filters_form = ViolationFilterForm(rules, request.GET or None)
    filters = ViolationFilters()
    if filters_form.is_valid():
        data = filters_form.cleaned_data
        filters = ViolationFilters(
            status=data["status"],
            rule_id=int(data["rule"]) if data["rule"] else None,
            member_id=data["member"],
            consequence=data["consequence"],
        )
    rows = Paginator(violations(community, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    weeks = violations_by_week(community, weeks=CHART_WEEKS)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/charter/violations.html",
        page(
            request,
            "web:charter_violations",
            filters_form=filters_form,
            page_obj=rows,
            rows=[(violation, _why(violation)) for violation in rows],
            query=query.urlencode(),
            chart=[
                {
                    "period": week["week"].isoformat(),
                    "messages": week["standing"],
                    "reactions": week["overturned"],
                }
                for week in weeks
            ],
            has_chart=any(week["standing"] or week["overturned"] for week in weeks),
            weeks=weeks,
            report_form=ReportForm(_reportable(community)),
            decide_form=DecideForm(),
        ),
    )


@community_view()
def violation_page(request: HttpRequest, violation_id: int) -> HttpResponse:
    violation = violation_or_404(request.community, violation_id)
    return render(
        request,
        "web/charter/violation.html",
        page(
            request,
            "web:charter_violations",
            violation=violation,
            why=_why(violation),
            text=violation.event.text if violation.event is not None else None,
            decide_form=DecideForm(),
        ),
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def decide(request: HttpRequest, violation_id: int) -> HttpResponse:
    violation = violation_or_404(request.community, violation_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose uphold or overturn."))
        return _back(request, "web:charter_violations")
    try:
        decided = do_decide_violation(
            violation, form.cleaned_data["decision"], form.cleaned_data["note"], request.user
        )
    except CharterError as exc:
        messages.error(request, _("Not decided: %(problem)s") % {"problem": exc})
    else:
        if decided.reversal_entry_id:
            messages.success(
                request,
                _("Violation #%(id)d overturned; %(points)d points given back.")
                % {"id": decided.pk, "points": decided.reversal_entry.amount},
            )
        else:
            messages.success(
                request,
                _("Violation #%(id)d is now %(status)s.")
                % {"id": decided.pk, "status": decided.get_status_display()},
            )
    return _back(request, "web:charter_violations")


@community_view(AccessRole.OPERATOR)
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    community = request.community
    rules = _reportable(community)
    form = ReportForm(rules, request.POST)
    if not form.is_valid():
        problems = "; ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, _("Not reported: %(problem)s") % {"problem": problems})
        return redirect("web:charter_violations", community.slug)
    rule = next(rule for rule in rules if str(rule.pk) == form.cleaned_data["rule"])
    try:
        member = find_member(community, form.cleaned_data["member"])
        event = None
        if form.cleaned_data["event"]:
            found = events_by_reference(community, form.cleaned_data["event"])
            if len(found) != 1:
                raise CharterError(
                    _("no such message in this community")
                    if not found
                    else _("several messages have this id; use shequn's event id"),
                    "event",
                )
            event = found[0]
        violation = do_report_violation(
            rule, member, event, form.cleaned_data["note"], actor=request.user
        )
    except CharterError as exc:
        messages.error(request, _("Not reported: %(problem)s") % {"problem": exc})
        return redirect("web:charter_violations", community.slug)
    messages.success(request, _("Violation #%(id)d recorded.") % {"id": violation.pk})
    return redirect("web:charter_violation", community.slug, violation.pk)


@community_view()
def mutes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/charter/mutes.html",
        page(
            request,
            "web:charter_mutes",
            recommendations=mute_recommendations(request.community),
            mute_form=MuteForm(),
        ),
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def mute_act(request: HttpRequest, member_id: int) -> HttpResponse:
    member = member_or_404(request.community, member_id)
    form = MuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what you did."))
        return redirect("web:charter_mutes", request.community.slug)
    try:
        closed = do_act_on_mute(
            member, form.cleaned_data["action"], form.cleaned_data["note"], request.user
        )
    except CharterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(n)d mute recommendations for %(member)s closed.")
            % {"n": closed, "member": member.display_name},
        )
    return redirect("web:charter_mutes", request.community.slug)


@community_view()
def rewards_page(request: HttpRequest) -> HttpResponse:
    rows = Paginator(rewards(request.community), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/charter/rewards.html",
        page(
            request,
            "web:charter_rewards",
            page_obj=rows,
            rows=[
                (reward, detector.describe(reward.detail) if detector else "")
                for reward in rows
                for detector in [detector_for(reward.rule.kind)]
            ],
        ),
    )
