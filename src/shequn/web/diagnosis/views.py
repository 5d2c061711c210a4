"""The diagnosis dashboard (社群诊断): a kept period's report, the kept periods to compare, and
for operators a form to diagnose a period; the same report downloads as one offline HTML file
or as JSON. Writes go through ``shequn.insights.services``."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.insights import texts
from shequn.insights.models import DiagnosisReport
from shequn.insights.render import render_report_html, report_context
from shequn.insights.selectors import default_end, history, previous_report, reports
from shequn.insights.services import DiagnosisError, do_delete_diagnosis, do_save_diagnosis
from shequn.web.access import community_view
from shequn.web.diagnosis.forms import DiagnosisForm

LANGUAGES = ("en", "zh-hans")


def _report(request: HttpRequest, report_id: int | None) -> DiagnosisReport | None:
    kept = reports(request.community)
    if report_id is None:
        return kept.first()
    found = kept.filter(pk=report_id).first()
    if found is None:
        raise Http404
    return found


@community_view()
def diagnosis(request: HttpRequest, report_id: int | None = None) -> HttpResponse:
    community = request.community
    report = _report(request, report_id)
    context = {
        "community": community,
        "section": "diagnosis",
        "report": report,
        "kept": [
            {"report": kept, "verdict_label": texts.status_label(kept.verdict)}
            for kept in reports(community)
        ],
        "can_write": can(request.access_role, AccessRole.OPERATOR),
        "form": DiagnosisForm(initial={"end": default_end(community)}),
    }
    if report is not None:
        earlier = previous_report(report)
        context.update(
            report_context(
                report.data,
                history(community, days=report.data["period"]["days"]),
                earlier.data if earlier else None,
            )
        )
    return render(request, "web/diagnosis/index.html", context)


@community_view(AccessRole.OPERATOR)
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = DiagnosisForm(request.POST)
    if form.is_valid():
        end = form.cleaned_data["end"] or default_end(community)
        try:
            report = do_save_diagnosis(
                community, end=end, days=form.cleaned_data["days"], actor=request.user
            )
        except DiagnosisError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Diagnosis made and kept for comparison."))
            return redirect("web:diagnosis_report", community.slug, report.pk)
    else:
        problems = "; ".join(
            f"{form.fields[field].label}: {' '.join(errors)}"
            for field, errors in form.errors.items()
        )
        messages.error(request, _("No diagnosis made: %(problems)s") % {"problems": problems})
    return redirect("web:diagnosis", community.slug)


def _attachment(content: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@community_view()
def download(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report(request, report_id)
    language = request.GET.get("lang") or get_language()
    if language not in LANGUAGES:
        language = "en"
    earlier = previous_report(report)
    html = render_report_html(
        report.data,
        history(request.community, days=report.data["period"]["days"]),
        previous=earlier.data if earlier else None,
        language=language,
    )
    name = f"diagnosis-{request.community.slug}-{report.period_end.isoformat()}-{language}.html"
    return _attachment(html, "text/html; charset=utf-8", name)


@community_view()
def download_json(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report(request, report_id)
    text = json.dumps(report.data, ensure_ascii=False, indent=2)
    name = f"diagnosis-{request.community.slug}-{report.period_end.isoformat()}.json"
    return _attachment(text, "application/json", name)


@community_view(AccessRole.OPERATOR)
@require_POST
def delete(request: HttpRequest, report_id: int) -> HttpResponse:
    do_delete_diagnosis(_report(request, report_id), actor=request.user)
    messages.success(request, _("Diagnosis deleted."))
    return redirect("web:diagnosis", request.community.slug)
