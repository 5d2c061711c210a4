"""The charter's machine rules: the list with switches, the rule form with its dry-run preview
(what the rule would have flagged over the last days, before it is switched on), and running a
check now. Writes go through ``shequn.charter.services``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.charter.detectors import KINDS, REGISTRY, detector_for
from shequn.charter.models import CharterRule
from shequn.charter.selectors import community_rules, dry_run
from shequn.charter.services import (
    CharterError,
    do_check,
    do_delete_rule,
    do_disable_rule,
    do_enable_rule,
    do_save_rule,
    rule_values,
)
from shequn.web.access import community_view
from shequn.web.charter.common import may_write, page, rule_or_404
from shequn.web.charter.forms import RuleForm, add_problems


@community_view()
def rules(request: HttpRequest) -> HttpResponse:
    community = request.community
    found = list(community_rules(community))
    return render(
        request,
        "web/charter/rules.html",
        page(
            request,
            "web:charter_rules",
            rules=[(rule, detector_for(rule.kind)) for rule in found],
            kinds=[REGISTRY[kind] for kind in KINDS],
        ),
    )


def _rule_page(
    request: HttpRequest, form: RuleForm, rule: CharterRule | None, preview=None, status=200
) -> HttpResponse:
    return render(
        request,
        "web/charter/rule.html",
        page(
            request,
            "web:charter_rules",
            form=form,
            rule=rule,
            detector=form.detector,
            preview=preview,
        ),
        status=status,
    )


def _edit(request: HttpRequest, rule: CharterRule | None, kind: str) -> HttpResponse:
    community = request.community
    detector = detector_for(kind)
    if detector is None:
        raise Http404
    if request.method != "POST":
        if rule is not None:
            initial = RuleForm.initial_from(rule_values(rule))
        else:
            initial = RuleForm.initial_from(
                {
                    "key": kind.replace("_", "-"),
                    "name": str(detector.label),
                    "params": detector.defaults(),
                    "applies_from": timezone.localdate(timezone=community.zoneinfo),
                }
            )
        form = RuleForm(detector, initial=initial)
        if not may_write(request):
            for field in form.fields.values():
                field.disabled = True
        return _rule_page(request, form, rule)
    if not may_write(request):
        raise PermissionDenied
    form = RuleForm(detector, request.POST)
    if not form.is_valid():
        return _rule_page(request, form, rule, status=422)
    values = form.values()
    try:
        if request.POST.get("action") == "dry_run":
            preview = dry_run(community, values, form.cleaned_data["days"] or 30, rule=rule)
            return _rule_page(request, form, rule, preview=preview)
        saved = do_save_rule(community, values, actor=request.user, rule=rule)
    except CharterError as exc:
        add_problems(form, exc.problems)
        return _rule_page(request, form, rule, status=422)
    messages.success(
        request,
        (
            _("Rule “%(key)s” saved and switched on: it judges the events at the next import.")
            if saved.enabled
            else _("Rule “%(key)s” saved, switched off.")
        )
        % {"key": saved.key},
    )
    return redirect("web:charter_rules", community.slug)


@community_view()
def rule_new(request: HttpRequest) -> HttpResponse:
    """Without a kind: the kinds to choose from; with ``?kind=…``: the form for that kind."""
    kind = request.GET.get("kind") or request.POST.get("kind")
    if not kind:
        return render(
            request,
            "web/charter/kinds.html",
            page(request, "web:charter_rules", kinds=[REGISTRY[k] for k in KINDS]),
        )
    return _edit(request, None, kind)


@community_view()
def rule_edit(request: HttpRequest, charter_rule_id: int) -> HttpResponse:
    rule = rule_or_404(request.community, charter_rule_id)
    return _edit(request, rule, rule.kind)


@community_view(AccessRole.OPERATOR)
@require_POST
def rule_enable(request: HttpRequest, charter_rule_id: int) -> HttpResponse:
    rule = rule_or_404(request.community, charter_rule_id)
    try:
        do_enable_rule(rule, actor=request.user)
    except CharterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Rule “%(key)s” switched on: it judges the events at the next import or check.")
            % {"key": rule.key},
        )
    return redirect("web:charter_rules", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def rule_disable(request: HttpRequest, charter_rule_id: int) -> HttpResponse:
    rule = rule_or_404(request.community, charter_rule_id)
    try:
        do_disable_rule(rule, actor=request.user)
    except CharterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Rule “%(key)s” switched off.") % {"key": rule.key})
    return redirect("web:charter_rules", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def rule_delete(request: HttpRequest, charter_rule_id: int) -> HttpResponse:
    rule = rule_or_404(request.community, charter_rule_id)
    try:
        do_delete_rule(rule, actor=request.user)
    except CharterError as exc:
        messages.error(request, str(exc))
        return redirect("web:charter_rule", request.community.slug, rule.pk)
    messages.success(request, _("Rule “%(key)s” deleted.") % {"key": rule.key})
    return redirect("web:charter_rules", request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    """Run the switched-on rules now (``full``: over every event from each rule's start day)."""
    result = do_check(request.community, full=bool(request.POST.get("full")), actor=request.user)
    messages.success(
        request,
        _(
            "Checked with %(rules)d rules: %(violations)d new violations, %(rewards)d new "
            "rewards (%(taken)d points taken, %(given)d given)."
        )
        % {
            "rules": len(result.rules),
            "violations": result.violations,
            "rewards": result.rewards,
            "taken": -result.points_taken,
            "given": result.points_given,
        },
    )
    return redirect("web:charter_rules", request.community.slug)
