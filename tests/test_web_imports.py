"""Importing from the web app and the API: upload, background run, progress, summary, errors."""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import chatlab_header
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shequn.accounts.services import do_create_token
from shequn.audit.models import AuditEntry
from shequn.interactions import jobs
from shequn.interactions.jobs import ImportRequestError, do_queue_import
from shequn.interactions.models import ImportJob, InteractionEvent

CHATLAB = json.dumps(
    {
        **chatlab_header(),
        "members": [],
        "messages": [
            {
                "sender": "u1",
                "accountName": "Ann",
                "timestamp": 1703001600,
                "type": 0,
                "content": "hello",
            },
            {
                "sender": "u2",
                "accountName": "Bob",
                "timestamp": 1703001660,
                "type": 0,
                "content": "hi",
            },
        ],
    }
).encode()
BROKEN = (
    b'{"chatlab": {"version": "0.0.2"}, "meta": {"name": "x", "platform": "wechat",'
    b' "type": "group"}, "messages": [{"sender": "u1"'
)


def _wait(job: ImportJob, seconds: float = 20) -> ImportJob:
    """The job once its thread has ended. Joined, not polled: the test database is shared
    in-memory SQLite, where reading a table while the thread writes it fails the write
    ("database table is locked") instead of waiting."""
    deadline = time.monotonic() + seconds
    for thread in threading.enumerate():
        if thread.name == f"{jobs.THREAD_PREFIX}{job.pk}":
            thread.join(max(0.0, deadline - time.monotonic()))
    job.refresh_from_db()
    if not job.is_finished:
        raise AssertionError(f"import job still {job.status}")
    return job


@pytest.mark.django_db(transaction=True)
def test_upload_runs_in_the_background_and_shows_its_summary(client_as, community):
    client = client_as(community, "operator")
    response = client.post(
        reverse("web:import_upload", args=[community.slug]),
        {"file": SimpleUploadedFile("wechat group.json", CHATLAB), "format": "auto"},
    )
    assert response.status_code == 302
    job = _wait(ImportJob.objects.get())
    assert job.status == ImportJob.Status.SUCCEEDED, job.error
    assert InteractionEvent.objects.filter(community=community).count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "Import summary" in page and "wechat group.json" in page
    progress = client.get(reverse("web:import_progress", args=[community.slug, job.pk])).json()
    assert progress["finished"] and progress["percent"] == 100.0
    assert progress["summary"]["events_added"] == 2
    assert AuditEntry.objects.filter(action="import.queue").exists()
    assert AuditEntry.objects.filter(action="import.run").exists()


@pytest.mark.django_db(transaction=True)
def test_malformed_upload_fails_with_the_cli_error_and_changes_nothing(client_as, community):
    client = client_as(community, "operator")
    client.post(
        reverse("web:import_upload", args=[community.slug]),
        {"file": SimpleUploadedFile("broken.json", BROKEN), "format": "chatlab"},
    )
    job = _wait(ImportJob.objects.get())
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("broken.json")
    assert "the database is unchanged" in job.error
    assert InteractionEvent.objects.count() == 0
    page = client.get(reverse("web:import_job", args=[community.slug, job.pk])).content.decode()
    assert "broken.json" in page and "The import failed" in page


@pytest.mark.django_db
def test_viewer_cannot_upload(client_as, community):
    client = client_as(community, "viewer")
    response = client.post(
        reverse("web:import_upload", args=[community.slug]),
        {"file": SimpleUploadedFile("a.json", CHATLAB)},
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()
    assert client.get(reverse("web:imports", args=[community.slug])).status_code == 200


@pytest.mark.django_db
def test_option_the_format_does_not_take_is_refused(community):
    with pytest.raises(ImportRequestError):
        do_queue_import(
            community,
            SimpleUploadedFile("a.json", CHATLAB),
            format_name="chatlab",
            options={"time_zone": "Asia/Shanghai"},
        )
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_another_communitys_job_is_404(client_as, community, other_community, settings):
    settings.SHEQUN_IMPORT_JOBS = "inline"
    job = do_queue_import(other_community, SimpleUploadedFile("a.json", CHATLAB))
    client = client_as(community, "founder")
    assert client.get(reverse("web:import_job", args=[community.slug, job.pk])).status_code == 404
    assert (
        client.get(reverse("web:import_progress", args=[community.slug, job.pk])).status_code == 404
    )


@pytest.mark.django_db(transaction=True)
def test_api_upload_and_status(client, make_account, community):
    user = make_account("bot", community, "operator")
    _token, key = do_create_token(user, "ci")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.post(
        f"/api/v1/communities/{community.slug}/imports",
        {"file": SimpleUploadedFile("g.json", CHATLAB), "format": "chatlab"},
        **auth,
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    _wait(ImportJob.objects.get(pk=job_id))
    status = client.get(f"/api/v1/communities/{community.slug}/imports/{job_id}", **auth).json()
    assert status["status"] == "succeeded" and status["summary"]["events_added"] == 2
    listed = client.get(f"/api/v1/communities/{community.slug}/imports", **auth).json()
    assert listed["count"] == 1
