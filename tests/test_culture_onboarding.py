"""Onboarding: the welcome message rendered per platform (plain text, Markdown, Slack,
Telegram) with the mission, values, charter, goals, rituals and testimonials; template checks;
who is still waiting and marking them, audited."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from conftest import table_counts
from django.utils import timezone

from shequn.audit.models import AuditEntry
from shequn.culture.errors import OnboardingError
from shequn.culture.models import Onboarding
from shequn.culture.onboarding import charter_text, render_onboarding
from shequn.culture.selectors import pending_onboarding
from shequn.culture.services import (
    do_create_goal,
    do_mark_all_onboarded,
    do_mark_onboarded,
    do_publish_goal,
    do_record_testimonial,
    do_reset_onboarding_template,
    do_save_onboarding_template,
    do_unmark_onboarded,
    do_update_culture,
)
from shequn.members.models import Member

pytestmark = pytest.mark.django_db


def charter_selectors():
    import importlib

    try:
        return importlib.import_module("shequn.charter.selectors")
    except ImportError:
        return None


@pytest.fixture
def no_charter(monkeypatch):
    """The charter app as if it did not offer the charter's text (not built yet)."""
    module = charter_selectors()
    if module is not None:
        monkeypatch.delattr(module, "current_charter_text", raising=False)


@pytest.fixture
def cultured(community):
    do_update_culture(
        community,
        mission="Ship *open* source, kindly.",
        values_advocated=["Curiosity", "Credit where due"],
        values_opposed=["Spam & self-promotion"],
    )
    community.refresh_from_db()
    return community


def test_plain_text_for_wechat_with_every_block(cultured, no_charter):
    ann = Member.objects.create(community=cultured, display_name="Ann_Lee")
    fay = Member.objects.create(community=cultured, display_name="Fay", role="founder")
    today = timezone.now().date()
    goal = do_create_goal(
        cultured,
        {
            "title": "100 check-ins",
            "metric": "tagged_events",
            "params": "tag=#打卡",
            "target": 100,
            "start_on": today - dt.timedelta(days=3),
            "deadline": today + dt.timedelta(days=27),
            "owner": fay,
        },
    )
    do_record_testimonial(
        cultured,
        {"member": ann, "text": "I found my first job here.", "consent": True},
        publish=True,
    )
    do_record_testimonial(cultured, {"member": ann, "text": "Not shared yet."})

    message = render_onboarding(cultured, platform="wechat", member=ann)
    text = message.text
    assert message.format == "plain" and message.member_id == ann.pk
    assert text.startswith("Welcome to Club, Ann_Lee!")
    assert "Why we are together:\nShip *open* source, kindly." in text
    assert "What we stand for:\n• Curiosity\n• Credit where due" in text
    assert "What we stand against:\n• Spam & self-promotion" in text
    assert "• 100 check-ins: 0 of 100 messages containing “#打卡” by" in text
    assert "“I found my first job here.” — Ann_Lee" in text and "Not shared yet" not in text
    # Nothing to say about the charter (no charter app) or rituals (none): their blocks go.
    assert message.empty == ["charter", "rituals"]
    assert "Our charter" not in text and "\n\n\n" not in text
    # A public goal's link needs the site's address.
    do_publish_goal(goal)
    linked = render_onboarding(cultured, platform="wechat", base_url="https://s.example.org/")
    assert f"https://s.example.org/goals/{goal.public_token}/" in linked.text
    assert "Welcome to Club, friend!" in linked.text


def test_markdown_for_discord_escapes_what_shequn_inserts(cultured, no_charter):
    ann = Member.objects.create(community=cultured, display_name="Ann_Lee")
    text = render_onboarding(cultured, platform="discord", member=ann).text
    assert "Welcome to Club, Ann\\_Lee!" in text
    assert "**Why we are together**\nShip \\*open\\* source, kindly." in text
    assert "**What we stand for**\n- Curiosity" in text


def test_slack_and_telegram_formats(cultured, no_charter):
    slack = render_onboarding(cultured, platform="slack").text
    assert "*Why we are together*" in slack and "• Spam &amp; self-promotion" in slack
    telegram = render_onboarding(cultured, platform="telegram").text
    # MarkdownV2 refuses any special character left unescaped: the operators' "!" too.
    assert "Welcome to Club, friend\\!" in telegram
    assert "*Why we are together*\nShip \\*open\\* source, kindly\\." in telegram
    assert "Say hello and tell us what brought you here\\." in telegram


def test_in_the_language_asked_for(cultured, no_charter):
    from django.utils import translation

    from shequn.activities.services import do_create_ritual

    do_create_ritual(
        cultured,
        {
            "name": "Reading circle",
            "frequency": "weekly",
            "first_starts_at": timezone.now() - dt.timedelta(days=3),
            "mode": "online",
            "content_type": "learning",
        },
    )
    chinese = render_onboarding(cultured, platform="qq", language="zh-hans").text
    assert "Reading circle（每周）" in chinese and "Ship *open* source, kindly." in chinese
    assert translation.get_language() == "en"
    assert "Reading circle (weekly)" in render_onboarding(cultured, platform="qq").text


def test_the_charter_comes_from_the_charter_app_when_it_offers_it(cultured, monkeypatch):
    module = charter_selectors()
    if module is None:
        pytest.skip("no charter app")
    monkeypatch.setattr(
        module, "current_charter_text", lambda community: "1. Be kind.\n2. No ads.", raising=False
    )
    assert charter_text(cultured) == "1. Be kind.\n2. No ads."
    text = render_onboarding(cultured, platform="discord").text
    assert "**Our charter**\n1\\. Be kind.\n2\\. No ads." in text

    monkeypatch.setattr(module, "current_charter_text", lambda community: None, raising=False)
    assert "charter" in render_onboarding(cultured, platform="line").empty
    # Without the function, or without the module: no charter yet.
    monkeypatch.delattr(module, "current_charter_text", raising=False)
    assert charter_text(cultured) is None


def test_without_the_charter_module_there_is_no_charter_yet(community, monkeypatch):
    monkeypatch.setitem(sys.modules, "shequn.charter.selectors", None)
    assert charter_text(community) is None


def test_the_template_is_checked_saved_audited_and_reset(cultured, no_charter):
    before = table_counts()
    for bad, words in (
        ("Hello {name}", "{name} is not a placeholder"),
        ("Hello {member!r}", "is not a placeholder"),
        ("Hello {", "lone brace"),
        ("   ", "is required"),
    ):
        with pytest.raises(OnboardingError) as refused:
            do_save_onboarding_template(cultured, bad)
        assert refused.value.field == "text" and words in refused.value.message
    assert table_counts() == before

    do_save_onboarding_template(cultured, "Hi {member}! {{braces}}\n\n{mission}")
    text = render_onboarding(cultured, platform="whatsapp").text
    assert text == "Hi friend! {braces}\n\nWhy we are together:\nShip *open* source, kindly."
    entry = AuditEntry.objects.get(action="onboarding.template")
    assert entry.details["before"] is None and "{mission}" in entry.details["after"]
    do_save_onboarding_template(cultured, "Hi {member}! {{braces}}\n\n{mission}")  # unchanged
    assert AuditEntry.objects.filter(action="onboarding.template").count() == 1
    do_reset_onboarding_template(cultured)
    assert render_onboarding(cultured, platform="wechat").text.startswith("Welcome to Club")
    assert AuditEntry.objects.filter(action="onboarding.template_reset").count() == 1
    # An unsaved template can be previewed as it would render.
    preview = render_onboarding(cultured, platform="wechat", template="{community}!")
    assert preview.text == "Club!"


def test_unknown_platform_and_stranger_are_refused(cultured, other_community):
    with pytest.raises(OnboardingError) as refused:
        render_onboarding(cultured, platform="myspace")
    assert refused.value.field == "platform" and "discord" in refused.value.message
    stranger = Member.objects.create(community=other_community, display_name="Stranger")
    with pytest.raises(OnboardingError):
        render_onboarding(cultured, platform="wechat", member=stranger)


def test_who_is_waiting_and_marking_them(community, other_community):
    now = timezone.now()

    def member(name, **values):
        return Member.objects.create(community=community, display_name=name, **values)

    old = member("Old", joined_at=now - dt.timedelta(days=400))
    unknown = member("Unknown")
    new = member("New", joined_at=now - dt.timedelta(days=2))
    newest = member("Newest", joined_at=now - dt.timedelta(hours=3))
    member("Fay", role="founder", joined_at=now)
    member("Bot", is_bot=True, joined_at=now)
    member("Gone", joined_at=now, left_at=now)
    member("Muted", joined_at=now, muted_at=now)
    assert list(pending_onboarding(community)) == [newest, new, old, unknown]
    assert list(pending_onboarding(community, joined_since=now - dt.timedelta(days=7))) == [
        newest,
        new,
    ]

    stranger = Member.objects.create(community=other_community, display_name="Stranger")
    before = table_counts()
    with pytest.raises(OnboardingError) as refused:
        do_mark_onboarded(community, [new.pk, stranger.pk])
    assert refused.value.field == "members" and f"#{stranger.pk}" in refused.value.message
    with pytest.raises(OnboardingError):
        do_mark_onboarded(community, [new], platform="myspace")
    assert table_counts() == before and not Onboarding.objects.exists()

    assert do_mark_onboarded(community, [new, new.pk], platform="wechat") == [new.pk]
    assert do_mark_onboarded(community, [new]) == []  # already: the first date stays
    assert Onboarding.objects.get(member=new).platform == "wechat"
    entry = AuditEntry.objects.get(action="onboarding.mark")
    assert entry.details["members"] == [new.pk] and entry.details["count"] == 1

    # Members from before shequn: everyone who joined before a day (unknown join: before).
    marked = do_mark_all_onboarded(community, joined_before=(now - dt.timedelta(days=30)).date())
    assert sorted(marked) == sorted([old.pk, unknown.pk])
    assert list(pending_onboarding(community)) == [newest]
    assert do_unmark_onboarded(new) is True and do_unmark_onboarded(new) is False
    assert list(pending_onboarding(community)) == [newest, new]
    assert AuditEntry.objects.filter(action="onboarding.unmark").count() == 1
