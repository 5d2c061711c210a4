"""/communities/{slug}/imports: upload an export and follow its import (see interactions.jobs)."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.api.pagination import Page
from shequn.interactions.jobs import (
    FORMAT_CHOICES,
    ImportRequestError,
    do_queue_import,
    job_progress,
)
from shequn.interactions.models import ImportJob

router = Router(tags=["imports"])

FormatName = Literal[FORMAT_CHOICES]  # type: ignore[valid-type]


class ImportJobOut(Schema):
    id: int
    status: str
    format: str
    original_name: str
    size_bytes: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    import_run_id: int | None
    error: str


class ImportJobDetail(ImportJobOut):
    done: int
    total: int
    percent: float
    records: int
    summary: dict[str, Any] | None


class ImportOptions(Schema):
    format: FormatName = "auto"
    channel: str = ""
    time_zone: str = Field("", max_length=64, description="e.g. Asia/Shanghai")
    date_order: Literal["", "DMY", "MDY", "YMD"] = ""
    include_private: bool = False
    direct_messages: bool = False


def _detail(job: ImportJob) -> dict[str, Any]:
    progress = job_progress(job)
    return {
        **ImportJobOut.from_orm(job).dict(),
        **{key: progress[key] for key in ("done", "total", "percent", "records", "summary")},
    }


@router.get(
    "/communities/{slug}/imports",
    response={200: list[ImportJobOut], 404: Problem},
    summary="Imports started through the web app or the API, newest first",
)
@paginate(Page)
def list_imports(request: HttpRequest, slug: str):  # type: ignore[no-untyped-def]
    community = community_or_404(request, slug)
    return ImportJob.objects.filter(community=community)


@router.post(
    "/communities/{slug}/imports",
    response={202: ImportJobDetail, 403: Problem, 404: Problem, 422: Problem},
    summary="Upload an export; it is imported in the background (operators)",
)
def create_import(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    options: Form[ImportOptions],
) -> Status:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        job = do_queue_import(
            community,
            file,
            format_name=options.format,
            channel=options.channel,
            options={
                "time_zone": options.time_zone or None,
                "date_order": options.date_order or None,
                "include_private": options.include_private or None,
                "direct_messages": options.direct_messages or None,
            },
            actor=request.user,
        )
    except ImportRequestError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(202, _detail(job))


@router.get(
    "/communities/{slug}/imports/{job_id}",
    response={200: ImportJobDetail, 404: Problem},
    summary="An import's status, progress, summary or error",
)
def get_import(request: HttpRequest, slug: str, job_id: int) -> dict[str, Any]:
    community = community_or_404(request, slug)
    return _detail(get_object_or_404(ImportJob, community=community, pk=job_id))
