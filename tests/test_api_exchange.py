"""The exchange API: posting and curating, suggestions with evidence, connecting (once),
outcomes, the monthly report, settings and the public form; refusals answer 422 naming the
field and change nothing; viewers read, operators write."""

from __future__ import annotations

import pytest

from shequn.accounts.services import do_create_token
from shequn.exchange.models import Connection, Post
from shequn.exchange.services import do_open_public_form, do_submit_public_post
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

pytestmark = pytest.mark.django_db


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
                f"/api/v1/communities/{community.slug}/exchange{path}", **headers, **kwargs
            )

        return call

    return make


@pytest.fixture
def people(community):
    return (
        Member.objects.create(community=community, display_name="Asker"),
        Member.objects.create(community=community, display_name="Helper"),
        Member.objects.create(community=community, display_name="Other"),
    )


def test_post_suggest_connect_outcome_and_report(api, community, people):
    asker, helper, other = people
    call = api(community, "operator")
    bad = call("post", "/posts", {"kind": "need", "member_id": asker.pk, "title": " "})
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert ["body", "title"] in [error["loc"] for error in bad.json()["errors"]]
    need = call(
        "post",
        "/posts",
        {
            "kind": "need",
            "member_id": asker.pk,
            "title": "Wedding photographer wanted",
            "description": "Someone to shoot photos at our wedding",
            "tags": ["Photo", "wedding"],
        },
    )
    assert need.status_code == 201, need.content
    need = need.json()
    assert need["tags"] == ["photo", "wedding"] and need["status"] == "open"
    offer = call(
        "post",
        "/posts",
        {
            "kind": "offer",
            "member_id": helper.pk,
            "title": "Photography for weddings",
            "description": "I shoot weddings and portraits",
            "tags": ["photo"],
        },
    ).json()
    call(
        "post",
        "/posts",
        {"kind": "offer", "member_id": other.pk, "title": "Knitting club", "tags": ["craft"]},
    )
    found = call("get", "/suggestions", query_params={"need_id": need["id"]}).json()
    assert [row["offer"]["id"] for row in found] == [offer["id"]]
    evidence = found[0]["evidence"]
    assert evidence["shared_tags"] == ["photo"]
    assert {"wedding", "shoot"} <= set(evidence["shared_terms"])
    assert 0 < evidence["score"] <= 1
    made = call("post", "/connections", {"need_id": need["id"], "offer_id": offer["id"]})
    assert made.status_code == 201, made.content
    made = made.json()
    assert (made["need_member_id"], made["offer_member_id"]) == (asker.pk, helper.pk)
    assert InteractionEvent.objects.get(pk=made["event_id"]).kind == "connection"
    again = call("post", "/connections", {"need_id": need["id"], "offer_id": offer["id"]})
    assert again.status_code == 422 and "already connected" in again.json()["detail"]
    assert Connection.objects.count() == 1
    refused = call(
        "post", f"/connections/{made['id']}/outcome", {"outcome": "deal", "value": "300"}
    )
    assert refused.status_code == 422
    assert ["body", "currency"] in [error["loc"] for error in refused.json()["errors"]]
    done = call(
        "post",
        f"/connections/{made['id']}/outcome",
        {"outcome": "deal", "value": "300", "currency": "CNY"},
    )
    assert done.status_code == 200 and done.json()["value"] == "300.00"
    months = call("get", "/report", query_params={"months": 3}).json()
    assert len(months) == 3
    assert months[-1]["connections"] == 1 and months[-1]["value"] == {"CNY": "300.00"}
    listed = call("get", "/connections").json()
    assert listed["count"] == 1 and listed["items"][0]["outcome"] == "deal"
    assert call("get", "/suggestions").json() == []  # connected pairs are not suggested


def test_list_filters_edit_close_reopen(api, community, people):
    asker, helper, _other = people
    call = api(community, "operator")
    need = call(
        "post",
        "/posts",
        {"kind": "need", "member_id": asker.pk, "title": "找设计师", "tags": ["设计"]},
    ).json()
    call("post", "/posts", {"kind": "offer", "member_id": helper.pk, "title": "Tea"})
    assert call("get", "/posts", query_params={"kind": "need"}).json()["count"] == 1
    assert call("get", "/posts", query_params={"tag": "设计"}).json()["count"] == 1
    assert call("get", "/posts", query_params={"q": "设计师"}).json()["count"] == 1
    patched = call("patch", f"/posts/{need['id']}", {"tags": ["logo", "设计"]})
    assert patched.status_code == 200 and patched.json()["tags"] == ["logo", "设计"]
    closed = call("post", f"/posts/{need['id']}/close", {"reason": "found one"})
    assert closed.json()["status"] == "closed" and closed.json()["status_note"] == "found one"
    assert call("post", f"/posts/{need['id']}/close", {}).status_code == 422
    assert call("post", f"/posts/{need['id']}/reopen").json()["status"] == "open"
    assert call("get", f"/posts/{need['id']}").json()["title"] == "找设计师"


def test_public_submissions_are_approved_or_rejected(api, community, people):
    asker, _helper, _other = people
    do_open_public_form(community)
    first = do_submit_public_post(
        community, {"kind": "offer", "title": "Guitar"}, name="Eve", contact="eve@example.com"
    )
    second = do_submit_public_post(
        community, {"kind": "offer", "title": "Spam"}, name="S", contact="s"
    )
    viewer = api(community, "viewer")
    # Viewers see neither the submissions waiting nor anyone's contact.
    assert viewer("get", "/posts", query_params={"status": "pending"}).json()["count"] == 0
    assert viewer("get", f"/posts/{first.pk}").status_code == 404
    call = api(community, "operator")
    waiting = call("get", "/posts", query_params={"status": "pending"}).json()
    assert waiting["count"] == 2
    assert {item["submitter_contact"] for item in waiting["items"]} == {"eve@example.com", "s"}
    neither = call("post", f"/posts/{first.pk}/approve", {})
    assert neither.status_code == 422
    approved = call("post", f"/posts/{first.pk}/approve", {"member_id": asker.pk})
    assert approved.json()["status"] == "open" and approved.json()["member_id"] == asker.pk
    rejected = call("post", f"/posts/{second.pk}/reject", {"reason": "spam"})
    assert rejected.json()["status"] == "rejected"
    seen = viewer("get", f"/posts/{first.pk}").json()
    assert seen["status"] == "open" and seen["submitter_contact"] == ""


def test_settings_and_public_form(api, community):
    call = api(community, "operator")
    assert call("get", "/settings").json()["public_form_on"] is False
    opened = call("post", "/public-form").json()
    assert opened["public_form_on"] and "/needs-offers/" in opened["public_url"]
    patched = call("patch", "/settings", {"points_for_offer": 20, "min_score": 0.3})
    assert patched.json()["points_for_offer"] == 20 and patched.json()["min_score"] == 0.3
    assert call("patch", "/settings", {"min_score": 3}).status_code == 422
    closed = call("delete", "/public-form").json()
    assert closed["public_form_on"] is False and closed["public_url"] is None


def test_viewers_read_but_cannot_write(api, community, people):
    asker, helper, _other = people
    operator = api(community, "operator")
    need = operator(
        "post", "/posts", {"kind": "need", "member_id": asker.pk, "title": "x", "tags": ["a"]}
    ).json()
    offer = operator(
        "post", "/posts", {"kind": "offer", "member_id": helper.pk, "title": "y", "tags": ["a"]}
    ).json()
    viewer = api(community, "viewer")
    assert viewer("get", "/posts").status_code == 200
    assert viewer("get", "/suggestions").status_code == 200
    body = {"need_id": need["id"], "offer_id": offer["id"]}
    assert viewer("post", "/connections", body).status_code == 403
    assert viewer("post", "/suggestions/dismiss", body).status_code == 403
    assert viewer("get", "/settings").status_code == 403
    assert not Connection.objects.exists()
    assert operator("post", "/suggestions/dismiss", body).status_code == 204
    assert viewer("get", "/suggestions").json() == []


def test_another_communitys_member_or_post_is_refused(api, community, other_community, people):
    stranger = Member.objects.create(community=other_community, display_name="Stranger")
    call = api(community, "operator")
    refused = call("post", "/posts", {"kind": "need", "member_id": stranger.pk, "title": "x"})
    assert refused.status_code == 422
    assert ["body", "member_id"] in [error["loc"] for error in refused.json()["errors"]]
    theirs = Post.objects.create(
        community=other_community, kind="offer", member=stranger, title="Theirs"
    )
    asker = people[0]
    mine = call("post", "/posts", {"kind": "need", "member_id": asker.pk, "title": "x"}).json()
    response = call("post", "/connections", {"need_id": mine["id"], "offer_id": theirs.pk})
    assert response.status_code == 404
    assert not Connection.objects.exists()
