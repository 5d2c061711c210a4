"""The charter API: text and acknowledgements, rules with their dry run, checks, the violation
log with reports and decisions, mute recommendations and rewards; refusals answer 422 naming
the field, and viewers cannot write."""

from __future__ import annotations

import pytest

from shequn.accounts.services import do_create_token
from shequn.audit.models import AuditEntry
from shequn.charter.models import CharterRule, Violation
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member
from shequn.rewards.selectors import member_balance

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
                f"/api/v1/communities/{community.slug}/charter{path}", **headers, **kwargs
            )

        return call

    return make


@pytest.fixture
def chat(community, tmp_path):
    from test_charter import import_rows, say

    rows = [say(f"a{n}", "ann", n * 2, "buy now at www.spam.example") for n in range(3)]
    rows += [say("b1", "bob", 100, "hello"), say("c1", "cid", 120, "hi", reply_to="b1")]
    import_rows(community, tmp_path, rows)
    return community


def test_publish_acknowledge_and_read_the_charter(api, chat):
    operator = api(chat, "operator")
    assert operator("get", "").json()["text"] is None
    created = operator("post", "/versions", {"text": "Be kind.", "note": "first"})
    assert created.status_code == 201 and created.json()["number"] == 1
    ann = Member.objects.get(community=chat, display_name="Ann")
    ack = operator("post", "/acknowledgements", {"member_id": ann.pk, "via": "form"})
    assert ack.status_code == 201 and ack.json()["version"] == 1
    again = operator("post", "/acknowledgements", {"member_id": ann.pk})
    assert again.status_code == 422 and again.json()["errors"][0]["loc"] == ["body", "member"]
    imported = operator("post", "/acknowledgements/import", {"csv": "member\nBob\nAnn\n"})
    assert imported.json() == {"version": 1, "rows": 2, "created": 1, "already": 1}
    bad = operator("post", "/acknowledgements/import", {"csv": "name\nNobody\n"})
    assert bad.status_code == 422 and "line 2" in bad.json()["detail"]

    viewer = api(chat, "viewer")
    charter = viewer("get", "").json()
    assert charter["text"] == "Be kind." and charter["status"]["acknowledged"] == 2
    page = viewer("get", "/acknowledgements?limit=1").json()
    assert page["count"] == 2 and len(page["items"]) == 1
    assert viewer("post", "/versions", {"text": "x"}).status_code == 403


def test_rules_dry_run_check_and_decide(api, chat):
    operator = api(chat, "operator")
    kinds = {kind["kind"] for kind in operator("get", "/kinds").json()}
    assert {"flood", "spam", "banned_words", "off_hours", "reported"} <= kinds
    rule = {
        "kind": "spam",
        "params": {"newcomer_days": 7, "copies": 0},
        "consequence": "penalty",
        "points": 3,
    }
    preview = operator("post", "/dry-run", {**rule, "days": 30})
    assert preview.status_code == 200
    assert preview.json()["total"] == 3 and preview.json()["members"][0]["display_name"] == "Ann"
    assert not CharterRule.objects.exists()

    created = operator("post", "/rules", {"key": "spam", "applies_from": None, **rule})
    assert created.status_code == 201 and created.json()["enabled"] is False
    rule_id = created.json()["id"]
    switched = operator("patch", f"/rules/{rule_id}", {"enabled": True})
    assert switched.json()["enabled"] is True
    checked = operator("post", "/check", {"full": False}).json()
    assert checked["violations"] == 3 and checked["points_taken"] == -9

    log = operator("get", "/violations?status=open").json()
    assert log["count"] == 3 and log["items"][0]["why"].startswith("a newcomer's link")
    first = log["items"][0]["id"]
    refused = operator("post", f"/violations/{first}/decision", {"decision": "maybe"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "decision"]
    overturned = operator(
        "post", f"/violations/{first}/decision", {"decision": "overturned", "note": "our shop"}
    )
    assert overturned.json()["status"] == "overturned"
    assert overturned.json()["reversal_entry_id"] is not None
    ann = Member.objects.get(community=chat, display_name="Ann")
    assert member_balance(ann) == -6
    assert operator("get", f"/rules/{rule_id}").json()["violations"] == 2


def test_bad_rule_values_answer_422_naming_the_field_and_change_nothing(api, chat):
    operator = api(chat, "operator")
    before = AuditEntry.objects.count()
    response = operator(
        "post", "/rules", {"key": "flood", "kind": "flood", "params": {"messages": -1}}
    )
    assert response.status_code == 422
    assert {
        "loc": ["body", "params", "messages"],
        "msg": "must be a whole number from 1 to 1000",
    } in (response.json()["errors"])
    assert not CharterRule.objects.exists() and AuditEntry.objects.count() == before
    dry = operator("post", "/dry-run", {"kind": "nonsense"})
    assert dry.status_code == 422 and dry.json()["errors"][0]["loc"] == ["body", "kind"]


def test_reports_mutes_and_rewards(api, chat):
    operator = api(chat, "operator")
    reported = operator(
        "post",
        "/rules",
        {"key": "rude", "kind": "reported", "consequence": "mute", "enabled": True},
    ).json()
    bob = Member.objects.get(community=chat, display_name="Bob")
    event = InteractionEvent.objects.get(source_id="b1")
    response = operator(
        "post",
        "/violations",
        {"rule_id": reported["id"], "member_id": bob.pk, "event_id": event.pk, "note": "rude"},
    )
    assert response.status_code == 201 and response.json()["consequence"] == "mute"
    mutes = operator("get", "/mute-recommendations").json()
    assert [(m["display_name"], m["violations"]) for m in mutes] == [("Bob", 1)]
    assert operator("post", f"/mute-recommendations/{bob.pk}", {"action": "dismissed"}).json() == {
        "closed": 1
    }
    assert operator("get", "/mute-recommendations").json() == []
    assert Violation.objects.get().mute_action == "dismissed"

    operator(
        "post",
        "/rules",
        {"key": "welcome", "kind": "welcome", "points": 2, "enabled": True, "applies_from": ""},
    )
    operator("post", "/check", {"full": True})
    rewards = operator("get", "/rewards").json()
    assert [(r["display_name"], r["points"]) for r in rewards["items"]] == [("Cid", 2)]


def test_viewers_read_but_cannot_change_rules(api, chat):
    operator = api(chat, "operator")
    rule_id = operator("post", "/rules", {"key": "f", "kind": "flood"}).json()["id"]
    viewer = api(chat, "viewer")
    assert viewer("get", "/rules").json()[0]["key"] == "f"
    assert viewer("patch", f"/rules/{rule_id}", {"enabled": True}).status_code == 403
    assert viewer("delete", f"/rules/{rule_id}").status_code == 403
    assert viewer("post", "/check", {}).status_code == 403
    assert operator("delete", f"/rules/{rule_id}").status_code == 204
