"""Points: leaderboards and levels for everyone with access; earning rules, levels, presets and
manual entries for operators, each through an audited service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.members.selectors import community_member
from shequn.rewards.models import PointEntry, PointRule
from shequn.rewards.rules import RuleError
from shequn.rewards.selectors import (
    PERIODS,
    community_rules,
    leaderboard,
    level_curve,
    level_scheme,
    points_state,
)
from shequn.rewards.services import (
    PointsError,
    do_apply_preset,
    do_award_points,
    do_delete_rule,
    do_import_rules_toml,
    do_manual_entry,
    do_reverse_entry,
    do_save_level_scheme,
    do_save_rule,
    export_rules_toml,
    levels_values,
    preset_names,
    rule_values,
)
from shequn.web.access import community_view
from shequn.web.points.forms import (
    LevelsForm,
    ManualEntryForm,
    PresetForm,
    ReverseForm,
    RuleForm,
    RulesImportForm,
)

LEVELS_SHOWN = 12


def _award_message(request: HttpRequest, result) -> None:
    messages.success(
        request,
        _("%(entries)s ledger entries added (%(points)s points, %(level_ups)s level-ups).")
        % {
            "entries": result.entries_created,
            "points": result.points_awarded,
            "level_ups": result.level_ups,
        },
    )


def _levels_table(community) -> list[dict]:
    curve = level_curve(community)
    rows = []
    for number in range(1, LEVELS_SHOWN + 1):
        if not curve.has_level(number):
            break
        threshold = curve.threshold(number)
        rows.append({"number": number, "name": curve.name(number), "threshold": threshold})
    return rows


@community_view()
def leaderboards(request: HttpRequest) -> HttpResponse:
    community = request.community
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        period = "week"
    return render(
        request,
        "web/points/index.html",
        {
            "community": community,
            "section": "points",
            "period": period,
            "periods": [
                ("week", _("This week")),
                ("month", _("This month")),
                ("all", _("All time")),
            ],
            "board": leaderboard(community, period, limit=50),
            "levels": _levels_table(community),
            "scheme": level_scheme(community),
            "rule_count": community_rules(community).count(),
            "state": points_state(community),
            "can_write": can(request.access_role, AccessRole.OPERATOR),
        },
    )


@community_view()
def rules(request: HttpRequest) -> HttpResponse:
    community = request.community
    values = levels_values(community)
    table = "\n".join(f"{lv['threshold']} {lv['name']}" for lv in values.get("levels", []))
    return render(
        request,
        "web/points/rules.html",
        {
            "community": community,
            "section": "points",
            "rules": list(community_rules(community)),
            "preset_form": PresetForm(names=preset_names()),
            "import_form": RulesImportForm(),
            "levels_form": LevelsForm(initial={**values, "table": table}),
            "state": points_state(community),
            "can_write": can(request.access_role, AccessRole.OPERATOR),
        },
    )


def _rule_or_404(community, rule_id: int | None) -> PointRule | None:
    if rule_id is None:
        return None
    rule = PointRule.objects.filter(community=community, pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


@community_view()
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    community = request.community
    rule = _rule_or_404(community, rule_id)
    can_write = can(request.access_role, AccessRole.OPERATOR)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                saved = do_save_rule(community, form.values(), actor=request.user, rule=rule)
            except RuleError as exc:
                for problem in exc.problems:
                    form.add_error(None, problem)
            else:
                messages.success(
                    request,
                    _(
                        "Rule “%(key)s” saved. It applies to new events; “Recompute everything” "
                        "applies it to past events that it has not awarded yet."
                    )
                    % {"key": saved.key},
                )
                return redirect("web:points_rules", community.slug)
    else:
        form = RuleForm(initial=RuleForm.initial_from(rule_values(rule)) if rule else None)
    if not can_write:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "web/points/rule.html",
        {
            "community": community,
            "section": "points",
            "form": form,
            "rule": rule,
            "can_write": can_write,
        },
    )


@community_view(AccessRole.OPERATOR)
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(request.community, rule_id)
    do_delete_rule(rule, actor=request.user)
    messages.success(
        request,
        _("Rule “%(key)s” deleted; the points it awarded stay in the ledger.") % {"key": rule.key},
    )
    return redirect("web:points_rules", request.community.slug)


@community_view()
def rules_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        export_rules_toml(request.community), content_type="application/toml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{request.community.slug}-points.toml"'
    return response


@community_view(AccessRole.OPERATOR)
@require_POST
def rules_import(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = RulesImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a TOML file to import."))
        return redirect("web:points_rules", community.slug)
    upload = form.cleaned_data["file"]
    try:
        text = upload.read().decode("utf-8-sig")
        result = do_import_rules_toml(community, text, actor=request.user)
    except UnicodeDecodeError:
        messages.error(
            request,
            _("%(file)s: not UTF-8 text; nothing was changed.") % {"file": upload.name},
        )
    except RuleError as exc:
        messages.error(
            request,
            _("%(file)s: nothing was changed: %(problems)s")
            % {"file": upload.name, "problems": "; ".join(exc.problems)},
        )
    else:
        messages.success(
            request,
            _(
                "%(file)s imported: %(created)s rules created, %(updated)s updated, %(deleted)s "
                "deleted."
            )
            % {
                "file": upload.name,
                "created": len(result.created),
                "updated": len(result.updated),
                "deleted": len(result.deleted),
            },
        )
    return redirect("web:points_rules", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def preset(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = PresetForm(request.POST, names=preset_names())
    if form.is_valid():
        result = do_apply_preset(community, form.cleaned_data["preset"], actor=request.user)
        _award_message(request, result)
    else:
        messages.error(request, _("Unknown preset."))
    return redirect("web:points_rules", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def levels(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = LevelsForm(request.POST)
    try:
        if not form.is_valid():
            raise RuleError([str(error) for errors in form.errors.values() for error in errors])
        do_save_level_scheme(community, form.values(), actor=request.user)
    except RuleError as exc:
        messages.error(
            request, _("Levels not saved: %(problems)s") % {"problems": "; ".join(exc.problems)}
        )
    except ValidationError as exc:  # a table line that does not start with a number
        messages.error(
            request, _("Levels not saved: %(problems)s") % {"problems": "; ".join(exc.messages)}
        )
    else:
        messages.success(request, _("Levels saved."))
    return redirect("web:points_rules", community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    result = do_award_points(
        request.community, full=request.POST.get("full") == "1", actor=request.user
    )
    _award_message(request, result)
    page = "web:points_rules" if request.POST.get("next_page") == "rules" else "web:points"
    return redirect(page, request.community.slug)


@community_view(AccessRole.OPERATOR)
@require_POST
def manual_entry(request: HttpRequest, member_id: int) -> HttpResponse:
    community = request.community
    member = community_member(community, member_id)
    if member is None:
        raise Http404
    form = ManualEntryForm(request.POST)
    if form.is_valid():
        try:
            do_manual_entry(
                member,
                form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except PointsError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Points recorded with your reason."))
    else:
        messages.error(request, _("Give a non-zero number of points and a reason."))
    return redirect(f"{_member_url(community.slug, member.pk)}#points")


@community_view(AccessRole.OPERATOR)
@require_POST
def reverse_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    community = request.community
    entry = PointEntry.objects.filter(community=community, pk=entry_id).first()
    if entry is None:
        raise Http404
    form = ReverseForm(request.POST)
    if form.is_valid():
        try:
            do_reverse_entry(entry, reason=form.cleaned_data["reason"], actor=request.user)
        except PointsError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Entry reversed: a reversing entry was added."))
    else:
        messages.error(request, _("A reversal needs a reason."))
    return redirect(f"{_member_url(community.slug, entry.member_id)}#points")


def _member_url(slug: str, member_id: int) -> str:
    from django.urls import reverse

    return reverse("web:member", args=[slug, member_id])
