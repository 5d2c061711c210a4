"""The REST API: token auth, per-community access, problem details, filters and pagination."""

from __future__ import annotations

import pytest

from shequn.accounts.services import do_create_token
from shequn.audit.models import AuditEntry
from shequn.interactions.services import do_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, make_account):
    """api(community, role) -> a function calling the API with a fresh token of that role."""

    def make(community, role: str):
        user = make_account(f"api-{role}-{community.slug}", community, role)
        _token, key = do_create_token(user, "test")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        def call(method: str, path: str, **kwargs):
            return getattr(client, method)(f"/api/v1{path}", **headers, **kwargs)

        return call

    return make


@pytest.fixture
def imported(community, write_chatlab):
    path = write_chatlab(
        [
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
                "content": "hi Ann",
            },
            {
                "sender": "u1",
                "accountName": "Ann",
                "timestamp": 1703088000,
                "type": 0,
                "content": "next day",
            },
        ]
    )
    do_import(community, path, format_name="chatlab")
    return community


def test_no_token_is_401_problem(client):
    response = client.get("/api/v1/communities")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert (
        client.get("/api/v1/communities", HTTP_AUTHORIZATION="Bearer sq_wrong").status_code == 401
    )


def test_lists_only_own_communities(api, community, other_community):
    body = api(community, "viewer")("get", "/communities").json()
    assert [c["slug"] for c in body["items"]] == ["club"]
    assert body["count"] == 1


def test_other_community_is_404_everywhere(api, community, other_community):
    call = api(community, "operator")
    for path in ("", "/members", "/identities", "/events", "/members/1"):
        response = call("get", f"/communities/other{path}")
        assert response.status_code == 404, path
        assert response.json()["title"]


def test_viewer_cannot_patch_operator_can(api, community):
    viewer = api(community, "viewer")
    response = viewer(
        "patch", "/communities/club", data={"mission": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    community.refresh_from_db()
    assert community.mission == ""
    operator = api(community, "operator")
    response = operator(
        "patch",
        "/communities/club",
        data={"mission": "learn together", "values_advocated": [" help ", ""]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["values_advocated"] == ["help"]
    community.refresh_from_db()
    assert community.mission == "learn together"
    assert AuditEntry.objects.filter(action="community.update_profile").exists()


def test_bad_time_zone_is_422_and_changes_nothing(api, community):
    response = api(community, "operator")(
        "patch",
        "/communities/club",
        data={"time_zone": "Mars/Olympus"},
        content_type="application/json",
    )
    assert response.status_code == 422
    community.refresh_from_db()
    assert community.time_zone == "UTC"


def test_members_identities_and_events(api, imported):
    call = api(imported, "viewer")
    members = call("get", "/communities/club/members?search=ann").json()
    assert [m["display_name"] for m in members["items"]] == ["Ann"]
    ann = members["items"][0]["id"]
    detail = call("get", f"/communities/club/members/{ann}").json()
    assert detail["identities"][0]["platform_user_id"] == "u1"
    assert detail["totals"]["messages"] == 2
    events = call("get", f"/communities/club/events?member_id={ann}&limit=1").json()
    assert len(events["items"]) == 1 and events["next_after_id"] is not None
    rest = call(
        "get", f"/communities/club/events?member_id={ann}&after_id={events['next_after_id']}"
    ).json()
    assert len(rest["items"]) == 1 and rest["next_after_id"] is None
    since = call("get", "/communities/club/events?since=2023-12-20T12:00:00Z").json()
    assert [e["text"] for e in since["items"]] == ["next day"]
    identities = call("get", "/communities/club/identities?platform_user_id=u2").json()
    assert identities["count"] == 1


def test_tokens_create_and_revoke(api, community):
    call = api(community, "viewer")
    created = call("post", "/tokens", data={"name": "report"}, content_type="application/json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert call("get", "/tokens").json()[0]["name"] == "report"
    assert call("delete", f"/tokens/{created.json()['id']}").status_code == 204
    from django.test import Client

    assert (
        Client().get("/api/v1/communities", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    )


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "\ud800lone"])
def test_a_token_name_with_control_characters_is_refused(api, community, name):
    # PostgreSQL cannot store NUL, and a lone surrogate is no text at all: both had been a 500
    call = api(community, "viewer")
    escaped = name.encode("unicode_escape").decode().replace("\\x", "\\u00")
    body = '{"name": "' + escaped + '"}'
    refused = call("post", "/tokens", data=body, content_type="application/json")
    assert refused.status_code == 422
    assert [token["name"] for token in call("get", "/tokens").json()] == ["test"]  # the API's own


def test_openapi_schema_is_served(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/communities/{slug}/events" in schema["paths"]


def test_api_reference_page_works_offline(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "cdn." not in html and "https://" not in html.split("<body")[0]
