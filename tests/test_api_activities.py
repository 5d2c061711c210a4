"""The activities API: create, publish, register (waitlist), cancel, fees, check-in, feedback,
report, rituals and calendar files; refusals answer 422 naming the field and change nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.utils import timezone

from shequn.accounts.services import do_create_token
from shequn.activities.models import Activity, Registration, Ritual
from shequn.audit.models import AuditEntry
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def api(client, make_account):
    def make(community, role: str):
        user = make_account(f"api-{role}-{community.slug}", community, role)
        _token, key = do_create_token(user, "test")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        def call(method: str, path: str, body=None, **kwargs):
            if body is not None:
                kwargs.update(data=body, content_type="application/json")
            return getattr(client, method)(
                f"/api/v1/communities/{community.slug}{path}", **headers, **kwargs
            )

        return call

    return make


def local(days: int, hour: int = 19) -> str:
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:30"


def new_activity(call, **values) -> dict:
    body = {
        "title": "Rust night",
        "mode": "offline",
        "content_type": "learning",
        "place": "Room 3",
        "capacity": 1,
        "starts_at": local(7),
        "ends_at": local(7, 21),
        "time_zone": "Asia/Shanghai",
        **values,
    }
    response = call("post", "/activities", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_update_and_problems_name_the_fields(api, community):
    call = api(community, "operator")
    bad = call(
        "post",
        "/activities",
        {
            "title": "Rust night",
            "mode": "offline",
            "content_type": "learning",
            "starts_at": local(7),
            "ends_at": local(6),
        },
    )
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    fields = {tuple(error["loc"]) for error in bad.json()["errors"]}
    assert {("body", "capacity"), ("body", "place"), ("body", "ends_at")} <= fields
    assert Activity.objects.count() == 0

    created = new_activity(call)
    assert created["status"] == "draft"
    assert created["starts_at"].startswith(local(7)[:10])
    assert created["places_left"] == 1
    assert created["public_url"].endswith(f"/a/{Activity.objects.get().public_token}/")

    read = call("get", f"/activities/{created['id']}").json()
    assert read["title"] == "Rust night" and read["guests"] == []
    patched = call("patch", f"/activities/{created['id']}", {"capacity": 30, "title": "Rust!"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["capacity"] == 30
    unknown = call("patch", f"/activities/{created['id']}", {"colour": "red"})
    assert unknown.status_code == 422
    nul = call("patch", f"/activities/{created['id']}", {"title": "a\x00b"})
    assert nul.status_code == 422
    listed = call("get", "/activities?status=draft").json()
    assert listed["count"] == 1 and listed["items"][0]["title"] == "Rust!"
    assert AuditEntry.objects.filter(action="activity.update").exists()


def test_viewers_read_but_do_not_change(api, community):
    new_activity(api(community, "operator"))
    viewer = api(community, "viewer")
    assert viewer("get", "/activities").status_code == 200
    refused = viewer("post", "/activities", {"title": "x"})
    assert refused.status_code in (403, 422)
    activity = Activity.objects.get()
    assert viewer("post", f"/activities/{activity.pk}/publish").status_code == 403


def test_registration_waitlist_cancel_fee_and_check_in(api, community):
    call = api(community, "operator")
    activity = new_activity(call, fee_amount="49.00", currency="CNY")
    path = f"/activities/{activity['id']}"
    closed = call("post", f"{path}/registrations", {"name": "Ann", "email": "ann@example.org"})
    assert closed.status_code == 422
    assert "not published" in closed.json()["detail"]
    assert call("post", f"{path}/publish").json()["status"] == "published"
    again = call("post", f"{path}/publish")
    assert again.status_code == 422 and again.json()["errors"][0]["loc"] == ["body", "status"]

    ann = call("post", f"{path}/registrations", {"name": "Ann", "email": "ann@example.org"})
    assert ann.status_code == 201, ann.content
    assert ann.json()["status"] == "confirmed" and ann.json()["fee_status"] == "unpaid"
    bob = Member.objects.create(community=community, display_name="Bob")
    waiting = call("post", f"{path}/registrations", {"member_id": bob.pk}).json()
    assert waiting["status"] == "waitlisted" and waiting["waitlist_position"] == 1
    twice = call("post", f"{path}/registrations", {"member_id": bob.pk})
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["loc"] == ["body", "member"]

    registrations = call("get", f"{path}/registrations").json()["items"]
    assert [r["status"] for r in registrations] == ["confirmed", "waitlisted"]

    paid = call(
        "post",
        f"{path}/registrations/{ann.json()['id']}/fee",
        {"fee_status": "paid", "note": "cash"},
    )
    assert paid.status_code == 200 and paid.json()["fee_status"] == "paid"
    wrong = call("post", f"{path}/registrations/{ann.json()['id']}/fee", {"fee_status": "waived"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["body", "fee_status"]
    detail = call("get", f"{path}/registrations/{ann.json()['id']}").json()
    assert detail["fee_history"][0]["after"] == "paid"
    assert detail["fee_history"][0]["note"] == "cash"

    cancelled = call("post", f"{path}/registrations/{ann.json()['id']}/cancel").json()
    assert cancelled["registration"]["status"] == "cancelled"
    assert [p["display_name"] for p in cancelled["promoted"]] == ["Bob"]

    code = Registration.objects.get(member=bob).code
    unknown = call("post", f"{path}/check-in", {"code": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["body", "code"]
    first = call("post", f"{path}/check-in", {"code": code.lower()}).json()
    assert first["already"] is False and first["registration"]["checked_in_at"]
    assert call("post", f"{path}/check-in", {"code": code}).json()["already"] is True

    report = call("get", f"{path}/report").json()
    assert report["registered"] == 2 and report["attended"] == 1 and report["cancelled"] == 1
    assert report["first_time"] == 1 and report["no_shows"] is None  # not started yet


def test_feedback_report_complete_and_calendar(api, community):
    call = api(community, "operator")
    activity = new_activity(call, starts_at=local(-2), ends_at=local(-2, 21), capacity=5)
    path = f"/activities/{activity['id']}"
    call("post", f"{path}/publish")
    ann = call(
        "post",
        f"{path}/registrations",
        {"name": "Ann", "email": "ann@example.org", "override": True},
    ).json()
    refused = call("post", f"{path}/registrations/{ann['id']}/feedback", {"rating": 5})
    assert refused.status_code == 422  # only people who attended
    call("post", f"{path}/check-in", {"code": ann["code"]})
    bad = call("post", f"{path}/registrations/{ann['id']}/feedback", {"rating": 9})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "rating"]
    good = call(
        "post", f"{path}/registrations/{ann['id']}/feedback", {"rating": 4, "comment": "Good"}
    )
    assert good.status_code == 200 and good.json()["rating"] == 4
    assert call("get", f"{path}/feedback").json()[0]["comment"] == "Good"
    done = call("post", f"{path}/complete").json()
    assert done["status"] == "done"
    report = call("get", f"{path}/report").json()
    assert report["rating_mean"] == 4.0 and report["no_shows"] == 0 and report["attended"] == 1

    ics = call("get", f"{path}/activity.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["summary"]) == "Rust night"
    feed = call("get", "/activities.ics")
    assert b"Rust night" in feed.content
    csv = call("get", f"{path}/registrations.csv")
    assert csv.status_code == 200 and b"ann@example.org" in csv.content


def test_guests_and_deleting_a_draft(api, community):
    call = api(community, "operator")
    activity = new_activity(call)
    path = f"/activities/{activity['id']}"
    nobody = call("post", f"{path}/guests", {"role": "speaker"})
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["loc"] == ["body", "name"]
    guest = call("post", f"{path}/guests", {"name": "Dr. Li", "affiliation": "Fudan"})
    assert guest.status_code == 201
    assert call("get", path).json()["guests"][0]["display_name"] == "Dr. Li"
    assert call("delete", f"{path}/guests/{guest.json()['id']}").status_code == 204
    assert call("delete", path).status_code == 204
    assert not Activity.objects.exists()


def test_attendance_import_errors_name_the_line(api, community, client):
    call = api(community, "operator")
    activity = new_activity(call, starts_at=local(-2), ends_at=local(-2, 21), capacity=5)
    call("post", f"/activities/{activity['id']}/publish")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("door.csv", b"email,attended\nann@example.org,maybe\n")
    response = call("post", f"/activities/{activity['id']}/attendance", None, data={"file": upload})
    assert response.status_code == 422
    assert "door.csv: line 2" in response.json()["detail"]
    assert not Registration.objects.exists()
    upload = SimpleUploadedFile("door.csv", b"email,name,attended\nann@example.org,Ann,yes\n")
    ok = call(
        "post",
        f"/activities/{activity['id']}/attendance",
        None,
        data={"file": upload, "create_missing": "true"},
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["checked_in"] == 1 and ok.json()["members_created"] == 1


def test_rituals_create_generate_and_attendance(api, community):
    call = api(community, "operator")
    bad = call(
        "post",
        "/rituals",
        {
            "name": "Sharing night",
            "frequency": "custom",
            "rule": "FREQ=HOURLY",
            "first_starts_at": local(1),
            "mode": "online",
            "content_type": "learning",
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "rule"]
    created = call(
        "post",
        "/rituals",
        {
            "name": "Sharing night",
            "frequency": "weekly",
            "first_starts_at": local(1),
            "time_zone": "Asia/Shanghai",
            "mode": "online",
            "content_type": "learning",
            "link": "https://meet.example.org/x",
        },
    )
    assert created.status_code == 201, created.content
    ritual = created.json()
    assert ritual["rule"] == "FREQ=WEEKLY"
    until = (timezone.now() + dt.timedelta(days=22)).date().isoformat()
    generated = call("post", f"/rituals/{ritual['id']}/generate", {"until": until}).json()
    assert len(generated["created"]) in (3, 4)
    assert all(a["status"] == "published" for a in generated["created"])
    again = call("post", f"/rituals/{ritual['id']}/generate", {"until": until}).json()
    assert again["created"] == []
    wrong = call("post", f"/rituals/{ritual['id']}/generate", {"until": "someday"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["body", "until"]
    detail = call("get", f"/rituals/{ritual['id']}").json()
    assert detail["occurrences"] == len(generated["created"])
    assert len(detail["attendance"]) == detail["occurrences"]
    assert call("get", "/rituals").json()[0]["name"] == "Sharing night"
    patched = call("patch", f"/rituals/{ritual['id']}", {"active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert Ritual.objects.get().active is False


def test_another_communitys_activity_is_404(api, community, other_community):
    activity = new_activity(api(other_community, "operator"))
    call = api(community, "operator")
    for path in (f"/activities/{activity['id']}", f"/activities/{activity['id']}/report"):
        assert call("get", path).status_code == 404
