"""The tiers and points pages and API: what operators and viewers see and may change."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from shequn.audit.models import AuditEntry
from shequn.interactions.services import do_import
from shequn.members.models import Member
from shequn.rewards.models import PointEntry, PointRule
from shequn.rewards.services import do_apply_preset, do_manual_entry
from shequn.tiers.models import MemberTier, TierPolicy

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2024, 1, 1)
HELPED = ["bob", "cat", "dan", "eve", "fay", "gus"]


def _message(number: int, who: str, day: dt.date, reply_to: str | None = None) -> dict:
    stamp = int(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp())
    message = {
        "platformMessageId": f"m{number}",
        "sender": who,
        "accountName": who.title(),
        "timestamp": stamp + number,
        "type": 25 if reply_to else 0,
        "content": f"message {number} from {who}",
    }
    if reply_to:
        message["replyToMessageId"] = reply_to
    return message


@pytest.fixture
def club(community, write_chatlab):
    """Ann speaks every week for 13 weeks and answers six members (an advocate); the six speak
    in four weeks each (participants); Quinn spoke once, long before (lapsed). The default
    points rules are in place before the import, which computes tiers and points."""
    messages = []
    members = [{"platformId": "quinn", "accountName": "Quinn"}]
    messages.append(_message(len(messages) + 1, "quinn", MONDAY - dt.timedelta(days=120)))
    for n in range(13):
        day = MONDAY + dt.timedelta(weeks=n, days=1)
        asked = []
        for who in HELPED if n < 4 else []:
            messages.append(_message(len(messages) + 1, who, day))
            asked.append(f"m{len(messages)}")
        messages.append(_message(len(messages) + 1, "ann", day))
        for question in asked:
            messages.append(_message(len(messages) + 1, "ann", day, reply_to=question))
    path = write_chatlab(messages, members, name="club")
    do_apply_preset(community, "default", actor=None)
    do_import(community, path)
    return community


def _member(community, name: str) -> Member:
    return Member.objects.get(community=community, display_name=name)


# ------------------------------------------------------------------------------- tiers pages
def test_the_tiers_page_shows_the_funnel_flows_and_actions(client_as, club):
    client = client_as(club, "viewer")
    response = client.get(reverse("web:tiers", args=[club.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    funnel = {row["tier"]: row for row in response.context["funnel"]}
    assert funnel["advocate"]["count"] == 1
    assert funnel["lapsed"]["count"] == 1
    assert 'data-chart="tier-flows"' in page
    assert "Thank them in public" in page  # the advocates' next best action
    assert "Recompute" not in page  # viewers do not get the button


def test_only_operators_recompute_tiers(client_as, club):
    url = reverse("web:tiers_recompute", args=[club.slug])
    assert client_as(club, "viewer").post(url).status_code == 403
    response = client_as(club, "operator").post(url, {"full": "1"}, follow=True)
    assert "Tiers recomputed as of 2024-03-26" in response.content.decode()


def test_the_tier_policy_form_re_evaluates_and_rejects_bad_values(client_as, club):
    client = client_as(club, "operator")
    url = reverse("web:tiers_policy", args=[club.slug])
    page = client.get(url)
    values = {
        name: (json.dumps(value) if name == "commitment_weights" else value)
        for name, value in page.context["form"].initial.items()
        if value is not None
    }
    values["commitment_weights"] = page.context["form"].initial["commitment_weights"]
    bad = client.post(url, {**values, "participant_min_weeks": 20})
    assert bad.status_code == 200
    assert "cannot exceed the window" in bad.content.decode()
    assert TierPolicy.objects.get(community=club).participant_min_weeks == 3
    bob = _member(club, "Bob")
    assert MemberTier.objects.get(member=bob).tier == "participant"
    good = client.post(url, {**values, "participant_min_weeks": 5})
    assert good.status_code == 302
    assert MemberTier.objects.get(member=bob).tier == "follower"
    assert AuditEntry.objects.filter(action="tiers.update_policy").exists()


def test_viewers_cannot_change_the_tier_policy(client_as, club):
    url = reverse("web:tiers_policy", args=[club.slug])
    client = client_as(club, "viewer")
    assert client.get(url).status_code == 200
    assert client.post(url, {"participant_min_weeks": 1}).status_code == 403


def test_a_members_page_shows_tier_reasons_path_points_and_level(client_as, club):
    ann = _member(club, "Ann")
    response = client_as(club, "viewer").get(reverse("web:member", args=[club.slug, ann.pk]))
    page = response.content.decode()
    assert response.context["tier"].tier == "advocate"
    assert "replied to 24 messages from 6 different members" in page
    assert "Path" in page
    assert response.context["level"].points > 0
    assert "Award or deduct points" not in page  # viewers only read


# ------------------------------------------------------------------------------ points pages
def test_the_points_page_ranks_members_per_period(client_as, club):
    client = client_as(club, "viewer")
    response = client.get(reverse("web:points", args=[club.slug]), {"period": "all"})
    rows = response.context["board"].rows
    assert rows[0].display_name == "Ann"
    ledger = PointEntry.objects.filter(member_id=rows[0].member_id).values_list("amount", flat=True)
    assert rows[0].points == sum(ledger) > 0
    week = client.get(reverse("web:points", args=[club.slug]), {"period": "week"})
    assert [row.display_name for row in week.context["board"].rows] == ["Ann"]


def test_operators_award_and_reverse_points_with_a_reason(client_as, club):
    bob = _member(club, "Bob")
    client = client_as(club, "operator")
    before = sum(PointEntry.objects.filter(member=bob).values_list("amount", flat=True))
    url = reverse("web:points_manual", args=[club.slug, bob.pk])
    client.post(url, {"amount": 30, "reason": ""})
    assert sum(PointEntry.objects.filter(member=bob).values_list("amount", flat=True)) == before
    client.post(url, {"amount": 30, "reason": "Hosted the meetup"})
    entry = PointEntry.objects.get(member=bob, kind="manual")
    assert entry.amount == 30 and entry.reason == "Hosted the meetup"
    page = client.get(reverse("web:member", args=[club.slug, bob.pk])).content.decode()
    assert "Hosted the meetup" in page
    client.post(reverse("web:points_reverse", args=[club.slug, entry.pk]), {"reason": "Typo"})
    reversal = PointEntry.objects.get(reverses=entry)
    assert reversal.amount == -30
    assert sum(PointEntry.objects.filter(member=bob).values_list("amount", flat=True)) == before
    again = client.post(
        reverse("web:points_reverse", args=[club.slug, entry.pk]), {"reason": "Twice"}, follow=True
    )
    assert PointEntry.objects.filter(reverses=entry).count() == 1
    assert "already" in again.content.decode()


def test_viewers_cannot_award_points(client_as, club):
    bob = _member(club, "Bob")
    response = client_as(club, "viewer").post(
        reverse("web:points_manual", args=[club.slug, bob.pk]), {"amount": 5, "reason": "x"}
    )
    assert response.status_code == 403
    assert not PointEntry.objects.filter(kind="manual").exists()


def test_rules_are_edited_with_errors_that_name_the_field(client_as, club):
    client = client_as(club, "operator")
    new = reverse("web:points_rule_new", args=[club.slug])
    form = {
        "key": "Bad Key!",
        "event_kind": "reply",
        "beneficiary": "actor",
        "amount": 3,
        "cooldown_seconds": 0,
        "daily_cap": 0,
        "first_time_bonus": 0,
        "enabled": "on",
    }
    rules_before = PointRule.objects.filter(community=club).count()
    response = client.post(new, form)
    assert response.status_code == 200
    assert "key" in response.content.decode()
    assert PointRule.objects.filter(community=club).count() == rules_before
    response = client.post(new, {**form, "key": "helpful-reply", "match": "nonsense"})
    assert "not a name=value pair" in response.content.decode()
    response = client.post(new, {**form, "key": "helpful-reply", "daily_cap": 10})
    assert response.status_code == 302
    rule = PointRule.objects.get(community=club, key="helpful-reply")
    assert (rule.amount, rule.daily_cap, rule.event_kind) == (3, 10, "reply")
    client.post(reverse("web:points_rule_delete", args=[club.slug, rule.pk]))
    assert not PointRule.objects.filter(pk=rule.pk).exists()


def test_rules_round_trip_through_toml_and_a_bad_file_changes_nothing(client_as, club):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as(club, "operator")
    exported = client.get(reverse("web:points_rules_export", args=[club.slug]))
    assert exported["Content-Disposition"].endswith('-points.toml"')
    text = exported.content.decode()
    assert "[[rules]]" in text
    keys = set(PointRule.objects.filter(community=club).values_list("key", flat=True))
    bad = text.replace('event_kind = "message"', 'event_kind = "shouting"', 1)
    response = client.post(
        reverse("web:points_rules_import", args=[club.slug]),
        {"file": SimpleUploadedFile("rules.toml", bad.encode())},
        follow=True,
    )
    page = response.content.decode()
    assert "rules.toml: nothing was changed" in page and "event_kind" in page
    assert set(PointRule.objects.filter(community=club).values_list("key", flat=True)) == keys
    response = client.post(
        reverse("web:points_rules_import", args=[club.slug]),
        {"file": SimpleUploadedFile("rules.toml", text.encode())},
        follow=True,
    )
    assert "rules.toml imported" in response.content.decode()


def test_a_preset_and_a_level_table_from_the_rules_page(client_as, club):
    client = client_as(club, "operator")
    client.post(reverse("web:points_preset", args=[club.slug]), {"preset": "stackexchange"})
    assert PointRule.objects.filter(community=club, key__contains="accept").exists()
    response = client.post(
        reverse("web:points_levels", args=[club.slug]),
        {"kind": "table", "table": "10 Newcomer\n100 Regular\n1000 Elder"},
        follow=True,
    )
    assert "Levels saved." in response.content.decode()
    page = client.get(reverse("web:points", args=[club.slug])).content.decode()
    assert "Regular" in page and "Elder" in page
    bad = client.post(
        reverse("web:points_levels", args=[club.slug]),
        {"kind": "table", "table": "ten Newcomer"},
        follow=True,
    )
    assert "Levels not saved" in bad.content.decode()


# ------------------------------------------------------------------------------------- API
def api(client, method: str, path: str, body=None, **extra):
    kwargs = {"content_type": "application/json"}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    return getattr(client, method)(f"/api/v1{path}", **kwargs, **extra)


def test_api_tiers_funnel_member_reasons_and_policy(client_as, club):
    client = client_as(club, "viewer")
    funnel = api(client, "get", f"/communities/{club.slug}/tiers").json()
    assert funnel["as_of"] == "2024-03-26"
    assert {row["tier"]: row["count"] for row in funnel["funnel"]}["advocate"] == 1
    ann = _member(club, "Ann")
    tier = api(client, "get", f"/communities/{club.slug}/members/{ann.pk}/tier").json()
    assert tier["tier"] == "advocate"
    helped = next(reason for reason in tier["reasons"] if reason["code"] == "helped")
    assert helped["numbers"]["members"] == 6
    assert "6 different members" in helped["text"]
    flows = api(client, "get", f"/communities/{club.slug}/tiers/flows").json()
    assert {"kind", "month", "count"} <= set(flows[0])
    assert api(client, "post", f"/communities/{club.slug}/tiers/recompute", {}).status_code == 403
    operator = client_as(club, "operator")
    bad = api(operator, "patch", f"/communities/{club.slug}/tiers/policy", {"lapse_days": -1})
    assert bad.status_code == 422 and "lapse_days" in bad.json()["title"]
    good = api(operator, "patch", f"/communities/{club.slug}/tiers/policy", {"lapse_days": 90})
    assert good.json()["lapse_days"] == 90


def test_api_points_rules_ledger_and_leaderboard(client_as, club):
    operator = client_as(club, "operator")
    base = f"/communities/{club.slug}/points"
    rules = api(operator, "get", f"{base}/rules").json()
    assert rules and {"key", "amount", "event_kind"} <= set(rules[0])
    bad = api(operator, "post", f"{base}/rules", {"key": "x", "event_kind": "nope", "amount": 1})
    assert bad.status_code == 422 and "event_kind" in bad.json()["title"]
    made = api(operator, "post", f"{base}/rules", {"key": "x", "event_kind": "reply", "amount": 1})
    assert made.status_code == 201
    rule_id = made.json()["id"]
    assert api(operator, "patch", f"{base}/rules/{rule_id}", {"amount": 4}).json()["amount"] == 4
    assert api(operator, "delete", f"{base}/rules/{rule_id}").status_code == 204
    toml = operator.get(f"/api/v1{base}/rules.toml")
    assert toml["Content-Type"].startswith("application/toml")
    put = operator.put(f"/api/v1{base}/rules.toml", toml.content, content_type="application/toml")
    assert put.status_code == 200
    bob = _member(club, "Bob")
    missing = api(operator, "post", f"/communities/{club.slug}/members/{bob.pk}/points",
                  {"amount": 5, "reason": " "})  # fmt: skip
    assert missing.status_code == 422
    entry = api(operator, "post", f"/communities/{club.slug}/members/{bob.pk}/points",
                {"amount": 5, "reason": "Helped at the door"}).json()  # fmt: skip
    reversed_ = api(operator, "post", f"{base}/entries/{entry['id']}/reverse", {"reason": "Oops"})
    assert reversed_.status_code == 201 and reversed_.json()["amount"] == -5
    twice = api(operator, "post", f"{base}/entries/{entry['id']}/reverse", {"reason": "Again"})
    assert twice.status_code == 422
    points = api(operator, "get", f"/communities/{club.slug}/members/{bob.pk}/points").json()
    assert points["balance"] == sum(e["amount"] for e in points["history"])
    board = api(operator, "get", f"{base}/leaderboard?period=all").json()
    assert board["rows"][0]["display_name"] == "Ann"
    viewer = client_as(club, "viewer", username="just-looking")
    assert api(viewer, "post", f"{base}/recompute", {}).status_code == 403


def test_the_import_awards_points_and_sets_tiers(club):
    """No operator action needed: importing computes both (the club fixture only imports)."""
    ann = _member(club, "Ann")
    assert MemberTier.objects.get(member=ann).tier == "advocate"
    assert PointEntry.objects.filter(member=ann, kind="earned").exists()


def test_a_merge_keeps_every_entry_and_the_balance(club):
    from shequn.members.services import do_merge_members, do_unmerge

    bob, cat = _member(club, "Bob"), _member(club, "Cat")
    do_manual_entry(cat, 7, reason="Brought snacks", actor=None)
    total = sum(PointEntry.objects.filter(member__in=[bob, cat]).values_list("amount", flat=True))
    merged = do_merge_members(cat, bob)
    assert sum(PointEntry.objects.filter(member=merged).values_list("amount", flat=True)) == total
    from shequn.members.models import MemberMerge

    restored = do_unmerge(MemberMerge.objects.get(target=merged))
    earned = PointEntry.objects.filter(member=restored, source_event__isnull=False)
    assert earned.exists()


def test_the_members_list_filters_by_tier_and_shows_it(client_as, club):
    client = client_as(club, "viewer")
    url = reverse("web:members", args=[club.slug])
    advocates = client.get(url, {"tier": "advocate"})
    assert [m.display_name for m in advocates.context["page"]] == ["Ann"]
    assert "tier-badge advocate" in advocates.content.decode()
    lapsed = client.get(url, {"tier": "lapsed"})
    assert [m.display_name for m in lapsed.context["page"]] == ["Quinn"]
    everyone = client.get(url, {"tier": "nonsense"})  # a bad value falls back to all
    assert len(everyone.context["page"]) == 8


def test_a_member_sees_their_own_progress_through_a_private_link(client, client_as, club):
    bob = _member(club, "Bob")
    operator = client_as(club, "operator")
    page = operator.get(reverse("web:member", args=[club.slug, bob.pk]))
    link = page.context["progress_link"]
    assert "/p/" in link
    operator.logout()
    response = client.get(link)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Bob in Club" in text and "Your tier: participant" in text
    assert "To reach the next tier (advocate):" in text
    assert "Ann" not in text  # nobody else's data
    assert client.get(link[:-3] + "xx/").status_code == 404  # altered: not found
    viewer = client_as(club, "viewer")
    assert (
        viewer.get(reverse("web:member", args=[club.slug, bob.pk])).context["progress_link"] == ""
    )
