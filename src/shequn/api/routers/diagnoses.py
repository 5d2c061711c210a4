"""/communities/{slug}/diagnoses: the community diagnosis (社群诊断) per period — make one, read
the kept ones (checks with their words in the request's language), compare, delete."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.insights import texts
from shequn.insights.models import DiagnosisReport
from shequn.insights.render import describe_changes
from shequn.insights.selectors import default_end, history, previous_report, reports
from shequn.insights.services import (
    MAX_REQUEST_DAYS,
    DiagnosisError,
    do_delete_diagnosis,
    do_save_diagnosis,
)

router = Router(tags=["diagnosis"])


class DiagnosisIn(Schema):
    end: dt.date | None = Field(
        None, description="The period ends before this day; default: the day after the last event."
    )
    days: int = Field(
        30,
        ge=1,
        le=MAX_REQUEST_DAYS,
        description="The period's length in days: up to a year (longer with `shequn report`).",
    )


class DiagnosisSummary(Schema):
    id: int
    period_start: dt.date
    period_end: dt.date = Field(description="Exclusive: the period's last day is the day before.")
    days: int
    verdict: str
    created_at: dt.datetime


class DiagnosisDetail(DiagnosisSummary):
    diagnosis: dict[str, Any] = Field(
        description="Codes and numbers; every check also carries title, status_label, "
        "evidence_text and action_text in the request's language."
    )
    history: list[dict[str, Any]] = Field(
        description="The kept periods of the same length, oldest first, with their forces."
    )
    changes: list[dict[str, Any]] = Field(
        description="The checks whose status changed since the latest earlier kept period of "
        "the same length (code, before, after, title and status labels)."
    )


def _summary(report: DiagnosisReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "days": report.data["period"]["days"],
        "verdict": report.verdict,
        "created_at": report.created_at,
    }


def _detail(report: DiagnosisReport) -> dict[str, Any]:
    data = report.data
    earlier = previous_report(report)
    return {
        **_summary(report),
        "diagnosis": texts.describe_report(data),
        "history": history(report.community, days=data["period"]["days"]),
        "changes": describe_changes(data, earlier.data if earlier else None),
    }


@router.get(
    "/communities/{slug}/diagnoses",
    response={200: list[DiagnosisSummary], 404: Problem},
    summary="The kept diagnoses, latest period first",
)
def list_diagnoses(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [_summary(report) for report in reports(community)]


@router.post(
    "/communities/{slug}/diagnoses",
    response={201: DiagnosisDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Diagnose a period and keep it (replaces that period's earlier diagnosis; operators)",
)
def create_diagnosis(request: HttpRequest, slug: str, payload: DiagnosisIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    end = payload.end or default_end(community)
    try:
        report = do_save_diagnosis(community, end=end, days=payload.days, actor=request.user)
    except DiagnosisError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, _detail(report))


@router.get(
    "/communities/{slug}/diagnoses/{report_id}",
    response={200: DiagnosisDetail, 404: Problem},
    summary="One kept diagnosis, with the words of its checks and the history to compare",
)
def get_diagnosis(request: HttpRequest, slug: str, report_id: int) -> dict[str, Any]:
    community = community_or_404(request, slug)
    return _detail(get_object_or_404(DiagnosisReport, community=community, pk=report_id))


@router.delete(
    "/communities/{slug}/diagnoses/{report_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Delete a kept diagnosis (operators)",
)
def delete_diagnosis(request: HttpRequest, slug: str, report_id: int) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    report = get_object_or_404(DiagnosisReport, community=community, pk=report_id)
    do_delete_diagnosis(report, actor=request.user)
    return Status(204, None)
