"""Imports started from the web app or the API: queued with the uploaded file, run in the
background, followed through their progress, and finished with a summary or a clear error.

The import itself is ``services.do_import`` — the same one transaction, the same guarantees as
the CLI. Progress goes through the cache (shared by every server process), since the import's
own transaction is not visible to other connections until it commits.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.interactions.importers import FORMATS, source_class
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.models import ImportJob
from shequn.interactions.services import UnsupportedOption, do_import

logger = logging.getLogger(__name__)

FORMAT_CHOICES = ("auto", *FORMATS)
PROGRESS_EVERY = 0.5  # seconds between progress writes
OPTION_NAMES = ("time_zone", "date_order", "include_private", "direct_messages")


class ImportRequestError(ValueError):
    """An import request that cannot be queued; the message says why."""


def progress_key(job_id: int) -> str:
    return f"shequn:import-job:{job_id}:progress"


def _safe_name(name: str) -> str:
    """The upload's file name without folders or odd characters (it becomes a path)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._")
    return cleaned[:120] or "upload"


def _check_request(format_name: str, options: dict[str, Any]) -> dict[str, Any]:
    if format_name not in FORMAT_CHOICES:
        raise ImportRequestError(
            _("unknown format %(format)s (one of: %(formats)s)")
            % {"format": repr(format_name), "formats": ", ".join(FORMAT_CHOICES)}
        )
    given = {name: value for name, value in options.items() if value not in (None, "", False)}
    unknown = sorted(set(given) - set(OPTION_NAMES))
    if unknown:
        raise ImportRequestError(
            _("unknown options: %(options)s") % {"options": ", ".join(unknown)}
        )
    if format_name != "auto":
        unsupported = sorted(set(given) - set(source_class(format_name).OPTIONS))
        if unsupported:
            raise ImportRequestError(
                _("the %(format)s format does not take %(options)s")
                % {"format": format_name, "options": ", ".join(unsupported)}
            )
    return given


@transaction.atomic
def do_queue_import(
    community: Community,
    upload: UploadedFile,
    *,
    format_name: str = "auto",
    channel: str = "",
    options: dict[str, Any] | None = None,
    actor: Any = None,
) -> ImportJob:
    """Keep the uploaded file and queue its import; it starts once this transaction commits."""
    checked = _check_request(format_name, options or {})
    folder = Path(settings.SHEQUN_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    stored = folder / _safe_name(upload.name or "upload")
    with stored.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    job = ImportJob.objects.create(
        community=community,
        created_by=actor if getattr(actor, "pk", None) else None,
        format=format_name,
        original_name=(upload.name or stored.name)[:255],
        stored_path=str(stored),
        size_bytes=stored.stat().st_size,
        channel=channel[:255],
        options=checked,
    )
    audit.record(
        "import.queue",
        community=community,
        actor=actor,
        target=job,
        details={"file": job.original_name, "format": format_name, "bytes": job.size_bytes},
    )
    transaction.on_commit(lambda: start_job(job.pk))
    return job


THREAD_PREFIX = "shequn-import-"  # the name of the thread running a job, then its id


def start_job(job_id: int) -> None:
    """Run the job in a background thread (or inline when SHEQUN_IMPORT_JOBS=inline)."""
    if settings.SHEQUN_IMPORT_JOBS == "inline":
        run_job(job_id)
        return
    threading.Thread(
        target=_run_in_thread, args=(job_id,), name=f"{THREAD_PREFIX}{job_id}", daemon=True
    ).start()


def _run_in_thread(job_id: int) -> None:
    try:
        run_job(job_id)
    finally:
        connection.close()  # the thread's own connection


def run_job(job_id: int) -> ImportJob:
    """Import a queued job's file; any failure ends as a failed job with its error."""
    close_old_connections()
    job = ImportJob.objects.select_related("community", "created_by").get(pk=job_id)
    if job.status != ImportJob.Status.QUEUED:
        return job
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    last_write = 0.0

    def report(done: int, total: int, records: int) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write >= PROGRESS_EVERY or (total and done >= total):
            last_write = now
            cache.set(
                progress_key(job_id),
                {"done": done, "total": total, "records": records},
                timeout=24 * 3600,
            )

    stored = Path(job.stored_path)
    try:
        summary = do_import(
            job.community,
            stored,
            format_name=job.format,
            channel=job.channel or None,
            actor=job.created_by,
            options=job.options or None,
            progress=report,
        )
    except ImportFormatError as exc:
        job.status = ImportJob.Status.FAILED
        job.error = _describe_format_error(exc, stored, job.original_name)
    except UnsupportedOption as exc:
        job.status = ImportJob.Status.FAILED
        job.error = _("the %(format)s format does not take %(options)s") % {
            "format": exc.format_name,
            "options": ", ".join(exc.options),
        }
    except Exception:
        logger.exception("import job %s failed", job_id)
        job.status = ImportJob.Status.FAILED
        job.error = _(
            "The import failed unexpectedly; nothing was imported. The server log has the details."
        )
    else:
        job.status = ImportJob.Status.SUCCEEDED
        job.import_run_id = summary.import_run_id
        job.summary = summary.as_dict()
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "import_run", "summary", "finished_at"])
    shutil.rmtree(stored.parent, ignore_errors=True)  # the upload is not kept once imported
    return job


def _describe_format_error(exc: ImportFormatError, stored: Path, original: str) -> str:
    """The error as the CLI prints it, naming the uploaded file rather than where it was kept."""
    path = exc.path
    if path.startswith(str(stored)):
        path = original + path[len(str(stored)) :]
    elif path.startswith(str(stored.parent)):
        path = original + path[len(str(stored.parent)) :]
    where = f"{path}: {exc.location}: {exc.problem}" if exc.location else f"{path}: {exc.problem}"
    return where + "\n" + _("Nothing was imported; the database is unchanged.")


def job_progress(job: ImportJob) -> dict[str, Any]:
    """What the job page shows while it waits: status, bytes done of total, records read."""
    progress = cache.get(progress_key(job.pk)) or {}
    total = progress.get("total") or job.size_bytes
    done = progress.get("done", total if job.is_finished else 0)
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": done,
        "total": total,
        "percent": round(100 * done / total, 1) if total else (100.0 if job.is_finished else 0.0),
        "records": progress.get("records", 0),
        "finished": job.is_finished,
        "error": job.error,
        "summary": job.summary or None,
    }


def fail_interrupted_jobs() -> int:
    """Jobs left queued or running by a server that stopped: mark them failed (at start-up)."""
    return ImportJob.objects.filter(
        status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(
        status=ImportJob.Status.FAILED,
        error=_(
            "Interrupted: the server stopped before this import finished. Nothing of it was "
            "kept; start it again."
        ),
        finished_at=timezone.now(),
    )
