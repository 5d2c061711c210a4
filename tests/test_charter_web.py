"""The charter pages: the text and acknowledgements, the rule form with its dry-run preview,
switching rules, the violation log with decisions and reports, mute recommendations and
rewards — operators write, viewers read, and refused input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shequn.audit.models import AuditEntry
from shequn.charter.models import Acknowledgement, CharterRule, CharterVersion, Violation
from shequn.charter.services import do_publish_charter, do_save_rule
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member
from shequn.rewards.selectors import member_balance

pytestmark = pytest.mark.django_db

START = dt.datetime(2024, 3, 4, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def chat(community, tmp_path):
    """Ann floods and says a banned word; Bob is quiet; Cid asks, Dee answers fast."""
    from test_charter import import_rows, say

    rows = [say(f"a{n}", "ann", n * 2, "spam spam") for n in range(8)]
    rows += [say("b1", "bob", 100, "hello")]
    rows += [
        say("q1", "cid", 200, "Who runs the meetup?"),
        say("q2", "dee", 260, "Me!", reply_to="q1"),
    ]
    import_rows(community, tmp_path, rows)
    return community


def member(community, name: str) -> Member:
    return Member.objects.get(community=community, display_name=name)


def banned_rule(community, **values) -> CharterRule:
    return do_save_rule(
        community,
        {
            "key": "no-spam",
            "kind": "banned_words",
            "params": {"words": ["spam"]},
            "consequence": "penalty",
            "points": 5,
            "enabled": True,
            "applies_from": None,
            **values,
        },
        actor=None,
    )


# ------------------------------------------------------------------------------ text
def test_operators_publish_versions_and_viewers_read_them(client_as, community):
    operator = client_as(community, "operator")
    response = operator.post(
        f"/c/{community.slug}/charter/publish/", {"text": "Be kind.\nNo ads.", "note": "first"}
    )
    assert response.status_code == 302
    operator.post(f"/c/{community.slug}/charter/publish/", {"text": "Be kind. No ads. No spam."})
    same = operator.post(
        f"/c/{community.slug}/charter/publish/", {"text": "Be kind. No ads. No spam."}
    )
    assert "nothing to publish" in " ".join(m.message for m in same.wsgi_request._messages)
    assert list(CharterVersion.objects.values_list("number", flat=True)) == [2, 1]

    viewer = client_as(community, "viewer", username="vera")
    page = viewer.get(f"/c/{community.slug}/charter/")
    assert page.status_code == 200
    assert "No spam." in page.content.decode() and "Version 2" in page.content.decode()
    assert "charter/publish/" not in page.content.decode()  # no write controls
    old = CharterVersion.objects.get(number=1)
    assert (
        "No ads." in viewer.get(f"/c/{community.slug}/charter/versions/{old.pk}/").content.decode()
    )
    assert viewer.post(f"/c/{community.slug}/charter/publish/", {"text": "x"}).status_code == 403


def test_acknowledgements_one_by_one_and_from_a_file_all_or_nothing(client_as, chat):
    community = chat
    do_publish_charter(community, "Be kind.", actor=None)
    operator = client_as(community, "operator")
    operator.post(
        f"/c/{community.slug}/charter/acknowledgements/",
        {"member": "Ann", "via": "chat", "acknowledged_at": "2024-03-05"},
    )
    assert Acknowledgement.objects.get().member == member(community, "Ann")

    bad = SimpleUploadedFile("acks.csv", b"member,via\nBob,form\nNobody,chat\n")
    response = operator.post(
        f"/c/{community.slug}/charter/acknowledgements/import/", {"file": bad}, follow=True
    )
    assert "acks.csv, line 3" in response.content.decode()
    assert Acknowledgement.objects.count() == 1
    good = SimpleUploadedFile("acks.csv", b"member,acknowledged_at\nBob,2024-03-06\nAnn,\nCid,\n")
    response = operator.post(
        f"/c/{community.slug}/charter/acknowledgements/import/", {"file": good}, follow=True
    )
    assert Acknowledgement.objects.count() == 3
    page = response.content.decode()
    assert "3 members acknowledged version 1" in page
    assert "Dee" in page  # still to ask
    export = operator.get(f"/c/{community.slug}/charter/acknowledgements.csv").content.decode()
    assert export.splitlines()[0] == "member,member_name,acknowledged_at,via"
    assert len(export.splitlines()) == 4


# ----------------------------------------------------------------------------- rules
def test_the_rule_form_previews_a_dry_run_before_saving(client_as, chat):
    community = chat
    operator = client_as(community, "operator")
    assert "Flood" in operator.get(f"/c/{community.slug}/charter/rules/new/").content.decode()
    form = {
        "kind": "flood",
        "key": "flood",
        "name": "No flooding",
        "consequence": "warning",
        "points": "0",
        "exempt_staff": "on",
        "exempt_bots": "on",
        "param_messages": "5",
        "param_seconds": "60",
        "days": "30",
    }
    preview = operator.post(
        f"/c/{community.slug}/charter/rules/new/?kind=flood", {**form, "action": "dry_run"}
    )
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "would have flagged 1 violation" in text and "Ann" in text
    assert not CharterRule.objects.exists()

    saved = operator.post(
        f"/c/{community.slug}/charter/rules/new/?kind=flood", {**form, "action": "save"}
    )
    assert saved.status_code == 302
    rule = CharterRule.objects.get()
    assert rule.enabled is False and rule.params == {"messages": 5, "seconds": 60}
    assert AuditEntry.objects.filter(action="charter.rule.create").count() == 1


def test_bad_parameters_are_shown_next_to_the_field_and_nothing_is_saved(client_as, community):
    operator = client_as(community, "operator")
    response = operator.post(
        f"/c/{community.slug}/charter/rules/new/?kind=off_hours",
        {
            "kind": "off_hours",
            "key": "quiet",
            "consequence": "penalty",
            "points": "0",
            "param_start": "25:00",
            "param_end": "07:00",
            "param_min_messages": "1",
            "action": "save",
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "23:00" in errors["param_start"][0]
    assert "at least 1 point" in errors["points"][0]
    assert not CharterRule.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="charter").exists()


def test_switching_a_rule_on_and_checking_records_violations(client_as, chat):
    community = chat
    rule = banned_rule(community, enabled=False)
    operator = client_as(community, "operator")
    operator.post(f"/c/{community.slug}/charter/rules/{rule.pk}/enable/")
    assert CharterRule.objects.get().enabled
    operator.post(f"/c/{community.slug}/charter/check/")
    assert Violation.objects.count() == 8
    assert member_balance(member(community, "Ann")) == -40
    page = operator.get(f"/c/{community.slug}/charter/rules/").content.decode()
    assert "8 violations" in page
    operator.post(f"/c/{community.slug}/charter/rules/{rule.pk}/disable/")
    assert not CharterRule.objects.get().enabled
    refused = operator.post(f"/c/{community.slug}/charter/rules/{rule.pk}/delete/", follow=True)
    assert "switch it off instead" in refused.content.decode()
    assert CharterRule.objects.exists()


# ------------------------------------------------------------------------- violations
def test_the_log_filters_and_overturning_gives_the_points_back(client_as, chat):
    community = chat
    banned_rule(community)
    from shequn.charter.services import do_check

    do_check(community)
    operator = client_as(community, "operator")
    page = operator.get(f"/c/{community.slug}/charter/violations/?status=open")
    assert page.status_code == 200 and page.content.decode().count("spam spam") == 8
    violation = Violation.objects.order_by("pk").first()

    missing_note = operator.post(
        f"/c/{community.slug}/charter/violations/{violation.pk}/decide/",
        {"decision": "overturned", "note": ""},
        follow=True,
    )
    assert "must not be empty" in missing_note.content.decode()
    assert Violation.objects.get(pk=violation.pk).status == "open"

    operator.post(
        f"/c/{community.slug}/charter/violations/{violation.pk}/decide/",
        {"decision": "overturned", "note": "quoting the rules"},
    )
    assert Violation.objects.get(pk=violation.pk).status == "overturned"
    assert member_balance(member(community, "Ann")) == -35
    detail = operator.get(
        f"/c/{community.slug}/charter/violations/{violation.pk}/"
    ).content.decode()
    assert "quoting the rules" in detail and "given back: +5" in detail
    filtered = operator.get(f"/c/{community.slug}/charter/violations/?status=overturned")
    assert filtered.content.decode().count("spam spam") == 1


def test_operators_report_by_message_id_and_viewers_cannot(client_as, chat):
    community = chat
    reported = do_save_rule(
        community,
        {"key": "rude", "kind": "reported", "enabled": True, "consequence": "warning"},
        actor=None,
    )
    viewer = client_as(community, "viewer", username="vera")
    form = {"rule": str(reported.pk), "member": "Bob", "event": "b1", "note": "rude to Ann"}
    assert viewer.post(f"/c/{community.slug}/charter/violations/report/", form).status_code == 403
    operator = client_as(community, "operator")
    response = operator.post(f"/c/{community.slug}/charter/violations/report/", form)
    violation = Violation.objects.get()
    assert response.status_code == 302 and str(violation.pk) in response["Location"]
    assert violation.event == InteractionEvent.objects.get(source_id="b1")
    assert violation.note == "rude to Ann" and violation.consequence == "warning"


def test_mute_recommendations_are_acted_on(client_as, chat):
    community = chat
    banned_rule(community, consequence="mute", points=0)
    from shequn.charter.services import do_check

    do_check(community)
    viewer = client_as(community, "viewer", username="vera")
    page = viewer.get(f"/c/{community.slug}/charter/mutes/").content.decode()
    assert "Ann" in page and "I muted them" not in page
    ann = member(community, "Ann")
    operator = client_as(community, "operator")
    operator.post(f"/c/{community.slug}/charter/mutes/{ann.pk}/", {"action": "muted"})
    assert set(Violation.objects.values_list("mute_action", flat=True)) == {"muted"}
    page = operator.get(f"/c/{community.slug}/charter/mutes/").content.decode()
    assert "No mute recommendation is waiting." in page


def test_rewards_page_lists_fast_answers(client_as, chat):
    community = chat
    do_save_rule(
        community,
        {"key": "fast", "kind": "fast_answer", "points": 2, "enabled": True, "applies_from": ""},
        actor=None,
    )
    from shequn.charter.services import do_check

    do_check(community)
    page = client_as(community, "viewer").get(f"/c/{community.slug}/charter/rewards/")
    assert "Dee" in page.content.decode() and "+2" in page.content.decode()


def test_another_communitys_rule_answers_404(client_as, community, other_community):
    theirs = banned_rule(other_community)
    client = client_as(community, "founder")
    assert client.get(f"/c/{community.slug}/charter/rules/{theirs.pk}/").status_code == 404
    assert client.post(f"/c/{community.slug}/charter/rules/{theirs.pk}/enable/").status_code == 404
