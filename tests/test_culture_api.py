"""The culture API: culture read/update, goals CRUD with progress series and forecast, the
public link, onboarding template/message/pending/marking, testimonials; refusals answer 422
naming the field and change nothing; viewers cannot write."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import table_counts
from django.utils import timezone
from test_culture_support import Chat

from shequn.accounts.services import do_create_token
from shequn.audit.models import AuditEntry
from shequn.culture import models
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

START = dt.date(2024, 3, 4)


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


@pytest.fixture
def fay(community):
    return Member.objects.create(community=community, display_name="Fay", role="founder")


def locs(response) -> set[tuple[str, ...]]:
    return {tuple(error["loc"]) for error in response.json()["errors"]}


def test_culture_read_and_update(api, community):
    viewer, operator = api(community, "viewer"), api(community, "operator")
    read = viewer("get", "/culture")
    assert read.status_code == 200
    assert read.json()["status"] == {
        "mission": False,
        "values_advocated": 0,
        "values_opposed": 0,
        "rituals": 0,
        "ritual_attendance": 0,
        "goals": 0,
        "testimonials": 0,
    }
    assert viewer("patch", "/culture", {"mission": "Mine"}).status_code == 403
    bad = operator("patch", "/culture", {"values_opposed": ["x" * 201]})
    assert bad.status_code == 422 and locs(bad) == {("body", "values_opposed")}
    done = operator("patch", "/culture", {"mission": "Read together.", "values_advocated": ["A"]})
    assert done.status_code == 200
    assert done.json()["mission"] == "Read together." and done.json()["status"]["mission"]
    assert AuditEntry.objects.filter(action="community.update_profile").count() == 1


def test_goals_crud_progress_forecast_and_public_link(api, client, community, fay, write_chatlab):
    chat = Chat()
    for n in range(10):
        chat.say("ann", START + dt.timedelta(days=n), "#打卡")
    chat.import_into(community, write_chatlab)
    operator, viewer = api(community, "operator"), api(community, "viewer")

    metrics = viewer("get", "/goal-metrics").json()
    tagged = next(m for m in metrics if m["code"] == "tagged_events")
    assert set(tagged["parameters"]) == {"tag", "kinds", "count"}

    before = table_counts()
    bad = operator(
        "post",
        "/goals",
        {
            "title": "Level up",
            "metric": "members_at_level",
            "params": {"level": "x"},
            "target": 0,
            "deadline": "soon",
            "owner_id": fay.pk,
        },
    )
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert locs(bad) == {("body", "params", "level"), ("body", "target"), ("body", "deadline")}
    assert table_counts() == before
    body = {
        "title": "Read together",
        "metric": "tagged_events",
        "params": {"tag": "#打卡"},
        "target": 20,
        "start_on": START.isoformat(),
        "deadline": (START + dt.timedelta(days=19)).isoformat(),
        "owner_id": fay.pk,
    }
    assert viewer("post", "/goals", body).status_code == 403
    created = operator("post", "/goals", body)
    assert created.status_code == 201, created.content
    goal = created.json()
    assert goal["owner_name"] == "Fay" and goal["public_url"] is None
    goal_id = goal["id"]

    on = (START + dt.timedelta(days=9)).isoformat()
    progress = viewer("get", f"/goals/{goal_id}/progress?on={on}").json()
    assert progress["values"] == [float(n + 1) for n in range(10)]
    assert progress["days"][0] == START.isoformat() and progress["forecast"]["status"] == "on_track"
    forecast = viewer("get", f"/goals/{goal_id}/forecast?on={on}").json()
    assert forecast["projected"] == pytest.approx(20.0) and forecast["pace_per_week"] == 7
    assert "on track" in forecast["text"]
    listed = viewer("get", f"/goals?on={on}").json()
    assert [item["id"] for item in listed] == [goal_id]

    patched = operator("patch", f"/goals/{goal_id}", {"target": 40})
    assert patched.status_code == 200 and patched.json()["target"] == 40
    refused = operator("patch", f"/goals/{goal_id}", {"owner_id": 10**9})
    assert refused.status_code == 422 and locs(refused) == {("body", "owner_id")}

    published = operator("post", f"/goals/{goal_id}/publish").json()
    link = published["public_url"]
    assert link.startswith("http://testserver/goals/")
    assert client.get(link).status_code == 200
    operator("post", f"/goals/{goal_id}/unpublish")
    assert client.get(link).status_code == 404
    assert viewer("delete", f"/goals/{goal_id}").status_code == 403
    assert operator("delete", f"/goals/{goal_id}").status_code == 204
    assert not models.Goal.objects.exists()
    assert list(
        AuditEntry.objects.filter(action__startswith="goal.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["goal.create", "goal.update", "goal.publish", "goal.unpublish", "goal.delete"]


def test_onboarding_template_message_and_who_waits(api, community, fay):
    ann = Member.objects.create(
        community=community, display_name="Ann", joined_at=timezone.now() - dt.timedelta(days=1)
    )
    bob = Member.objects.create(community=community, display_name="Bob")
    operator, viewer = api(community, "operator"), api(community, "viewer")
    template = viewer("get", "/onboarding/template").json()
    assert template["is_default"] and "{mission}" in template["text"]
    assert "charter" in template["placeholders"]

    assert viewer("put", "/onboarding/template", {"text": "Hi"}).status_code == 403
    bad = operator("put", "/onboarding/template", {"text": "Hi {who}"})
    assert bad.status_code == 422 and locs(bad) == {("body", "text")}
    saved = operator("put", "/onboarding/template", {"text": "Hi {member}, from {community}!"})
    assert saved.status_code == 200 and not saved.json()["is_default"]

    message = viewer("get", f"/onboarding/message?platform=telegram&member_id={ann.pk}").json()
    assert message == {
        "text": "Hi Ann, from Club\\!",
        "platform": "telegram",
        "format": "telegram",
        "member_id": ann.pk,
        "empty": [],
    }
    unknown = viewer("get", "/onboarding/message?platform=myspace")
    assert unknown.status_code == 422 and locs(unknown) == {("body", "platform")}

    pending = viewer("get", "/onboarding/pending").json()
    assert pending["count"] == 2 and [m["display_name"] for m in pending["members"]] == [
        "Ann",
        "Bob",
    ]
    assert viewer("post", "/onboarding/onboarded", {"member_ids": [ann.pk]}).status_code == 403
    marked = operator(
        "post", "/onboarding/onboarded", {"member_ids": [ann.pk], "platform": "discord"}
    )
    assert marked.json() == {"marked": [ann.pk]}
    rest = operator("post", "/onboarding/onboarded", {"all": True})
    assert rest.json() == {"marked": [bob.pk]}
    assert viewer("get", "/onboarding/pending").json()["count"] == 0
    assert operator("delete", f"/onboarding/onboarded/{bob.pk}").status_code == 204
    assert viewer("get", "/onboarding/pending").json()["count"] == 1
    assert operator("delete", "/onboarding/template").json()["is_default"]


def test_testimonials(api, community):
    ann = Member.objects.create(community=community, display_name="Ann")
    operator, viewer = api(community, "operator"), api(community, "viewer")
    before = table_counts()
    refused = operator(
        "post", "/testimonials", {"member_id": ann.pk, "text": "I grew.", "publish": True}
    )
    assert refused.status_code == 422 and locs(refused) == {("body", "consent")}
    assert table_counts() == before
    assert viewer("post", "/testimonials", {"member_id": ann.pk, "text": "x"}).status_code == 403
    created = operator(
        "post",
        "/testimonials",
        {"member_id": ann.pk, "text": "I grew.", "benefit": "career", "consent": True},
    )
    assert created.status_code == 201
    testimonial = created.json()
    assert testimonial["member_name"] == "Ann" and not testimonial["published"]
    path = f"/testimonials/{testimonial['id']}"
    assert operator("post", f"{path}/publish").json()["published"]
    assert operator("post", f"{path}/publish").status_code == 422
    assert [t["id"] for t in viewer("get", "/testimonials?published=true").json()] == [
        testimonial["id"]
    ]
    assert viewer("get", "/testimonials?published=false").json() == []
    withdrawn = operator("patch", path, {"consent": False}).json()
    assert withdrawn["published"] is False
    assert viewer("get", "/culture").json()["testimonials"] == []
    assert operator("delete", path).status_code == 204
    assert viewer("get", path).status_code == 404
