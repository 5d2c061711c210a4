"""The import page: upload an export, follow its progress, read its summary or its error."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.interactions.jobs import ImportRequestError, do_queue_import, job_progress
from shequn.interactions.models import ImportJob
from shequn.interactions.selectors import recent_imports
from shequn.web.access import community_view
from shequn.web.imports.forms import ImportForm


def _page(request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
    community = request.community
    return render(
        request,
        "web/imports/index.html",
        {
            "community": community,
            "section": "imports",
            "form": form,
            "can_write": can(request.access_role, AccessRole.OPERATOR),
            "jobs": ImportJob.objects.filter(community=community).select_related("created_by")[:20],
            "runs": recent_imports(community, limit=20),
        },
        status=status,
    )


@community_view()
def imports(request: HttpRequest) -> HttpResponse:
    return _page(request, ImportForm())


@community_view(AccessRole.OPERATOR)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("web:imports", slug=request.community.slug)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        job = do_queue_import(
            request.community,
            form.cleaned_data["file"],
            format_name=form.cleaned_data["format"],
            channel=form.cleaned_data["channel"],
            options=form.options(),
            actor=request.user,
        )
    except ImportRequestError as exc:
        form.add_error(None, str(exc))
        return _page(request, form, status=400)
    return redirect("web:import_job", slug=request.community.slug, job_id=job.pk)


@community_view()
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    found = get_object_or_404(ImportJob, community=request.community, pk=job_id)
    return render(
        request,
        "web/imports/job.html",
        {
            "community": request.community,
            "section": "imports",
            "job": found,
            "progress": job_progress(found),
        },
    )


@community_view()
def progress(request: HttpRequest, job_id: int) -> JsonResponse:
    found = get_object_or_404(ImportJob, community=request.community, pk=job_id)
    return JsonResponse(job_progress(found))
