"""``shequn culture``, ``goals``, ``onboarding`` and ``testimonials``: thin commands with clear
errors and the documented exit codes (3 invalid values, 4 not found, 5 refused)."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from conftest import table_counts
from test_culture_support import Chat

from shequn.audit.models import AuditEntry
from shequn.cli import cli
from shequn.culture import models
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

START = dt.date(2024, 3, 4)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def fay(community):
    return Member.objects.create(community=community, display_name="Fay", role="founder")


def run(runner, *args: str):
    return runner.invoke(cli, list(args))


def test_culture_set_and_show(runner, community):
    done = run(
        runner,
        "culture",
        "set",
        "club",
        "--mission",
        "Read together.",
        "--advocate",
        "Curiosity",
        "--advocate",
        "Kindness",
        "--oppose",
        "Spam",
    )
    assert done.exit_code == 0, done.output
    community.refresh_from_db()
    assert community.values_advocated == ["Curiosity", "Kindness"]
    bad = run(runner, "culture", "set", "club", "--oppose", "x" * 201)
    assert bad.exit_code == 3 and "values_opposed:" in bad.output
    assert "Nothing was changed." in bad.output
    shown = run(runner, "culture", "show", "club")
    assert shown.exit_code == 0
    for words in ("Read together.", "Curiosity, Kindness", "Spam", "No goals yet"):
        assert words in shown.output
    assert run(runner, "culture", "show", "nowhere").exit_code == 4


def test_goals_add_show_list_publish_and_delete(runner, community, fay, write_chatlab):
    chat = Chat()
    for n in range(10):
        chat.say("ann", START + dt.timedelta(days=n), "#打卡")
    chat.import_into(community, write_chatlab)

    metrics = run(runner, "goals", "metrics")
    assert metrics.exit_code == 0 and "tagged_events" in metrics.output

    before = table_counts()
    bad = run(
        runner,
        "goals",
        "add",
        "club",
        "--title",
        "Read",
        "--metric",
        "tagged_events",
        "--target",
        "lots",
        "--deadline",
        "2024-04-02",
        "--owner",
        "Fay",
    )
    assert bad.exit_code == 3
    assert "params.tag: is required" in bad.output and "target: must be a number" in bad.output
    assert table_counts() == before
    assert (
        run(
            runner,
            "goals",
            "add",
            "club",
            "--title",
            "Read",
            "--metric",
            "members",
            "--target",
            "5",
            "--deadline",
            "2024-04-02",
            "--owner",
            "Nobody",
        ).exit_code
        == 4
    )

    added = run(
        runner,
        "goals",
        "add",
        "club",
        "--title",
        "Read together",
        "--metric",
        "tagged_events",
        "--param",
        "tag=#打卡",
        "--target",
        "20",
        "--start",
        "2024-03-04",
        "--deadline",
        "2024-03-23",
        "--owner",
        "Fay",
    )
    assert added.exit_code == 0, added.output
    goal = models.Goal.objects.get()
    assert f"Goal #{goal.pk} added" in added.output

    shown = run(runner, "goals", "show", "club", str(goal.pk), "--on", "2024-03-13")
    assert shown.exit_code == 0, shown.output
    assert "on track" in shown.output and "2024-03-11" in shown.output
    listed = run(runner, "goals", "list", "club", "--on", "2024-03-13")
    assert "Read" in listed.output and "50%" in listed.output

    edited = run(runner, "goals", "edit", "club", str(goal.pk), "--target", "40")
    assert edited.exit_code == 0
    goal.refresh_from_db()
    assert goal.target == 40
    published = run(
        runner, "goals", "publish", "club", str(goal.pk), "--base-url", "https://s.example.org/"
    )
    goal.refresh_from_db()
    assert f"https://s.example.org/goals/{goal.public_token}/" in published.output
    assert run(runner, "goals", "unpublish", "club", str(goal.pk)).exit_code == 0
    goal.refresh_from_db()
    assert goal.public_token is None
    assert run(runner, "goals", "show", "club", "999").exit_code == 4
    assert run(runner, "goals", "delete", "club", str(goal.pk)).exit_code == 0
    assert not models.Goal.objects.exists()
    assert AuditEntry.objects.filter(action="goal.delete", actor_label__startswith="cli").exists()


def test_onboarding_render_pending_mark_and_template(runner, community, tmp_path):
    from shequn.culture.services import do_update_culture

    do_update_culture(community, mission="Ship *open* source.")
    Member.objects.create(community=community, display_name="Ann")
    Member.objects.create(community=community, display_name="Bob")
    discord = run(
        runner, "onboarding", "render", "club", "--platform", "discord", "--member", "Ann"
    )
    assert discord.exit_code == 0
    assert "Welcome to Club, Ann!" in discord.output
    assert "**Why we are together**\nShip \\*open\\* source." in discord.output
    plain = run(runner, "onboarding", "render", "club", "--platform", "wechat")
    assert "Why we are together:\nShip *open* source." in plain.output
    assert run(runner, "onboarding", "render", "club", "--platform", "myspace").exit_code == 2

    pending = run(runner, "onboarding", "pending", "club")
    assert "Waiting for the welcome message: 2" in pending.output
    assert run(runner, "onboarding", "mark", "club").exit_code == 2
    marked = run(runner, "onboarding", "mark", "club", "Ann", "--platform", "discord")
    assert marked.exit_code == 0 and "1" in marked.output
    assert run(runner, "onboarding", "mark", "club", "--all").exit_code == 0
    assert (
        "Waiting for the welcome message: 0" in run(runner, "onboarding", "pending", "club").output
    )
    assert run(runner, "onboarding", "unmark", "club", "Bob").exit_code == 0

    bad = tmp_path / "bad.txt"
    bad.write_text("Hello {someone}", encoding="utf-8")
    refused = run(runner, "onboarding", "template", "club", "--set", str(bad))
    assert refused.exit_code == 3 and "{someone} is not a placeholder" in refused.output
    good = tmp_path / "good.txt"
    good.write_text("Hi {member}!\n{mission}", encoding="utf-8")
    assert run(runner, "onboarding", "template", "club", "--set", str(good)).exit_code == 0
    assert run(runner, "onboarding", "template", "club").output == "Hi {member}!\n{mission}\n"
    assert run(runner, "onboarding", "template", "club", "--reset").exit_code == 0
    assert not models.OnboardingTemplate.objects.exists()


def test_the_platform_choices_are_the_platforms():
    from shequn.cli.culture.onboarding import PLATFORMS
    from shequn.communities.models import Platform

    assert sorted(PLATFORMS) == sorted(Platform.values)


def test_testimonials_add_list_publish(runner, community):
    Member.objects.create(community=community, display_name="Ann")
    refused = run(
        runner,
        "testimonials",
        "add",
        "club",
        "--member",
        "Ann",
        "--text",
        "Found a job.",
        "--publish",
    )
    assert refused.exit_code == 3 and "consent:" in refused.output
    added = run(
        runner,
        "testimonials",
        "add",
        "club",
        "--member",
        "Ann",
        "--text",
        "Found a job.",
        "--benefit",
        "career",
    )
    assert added.exit_code == 0 and "not published" in added.output
    testimonial = models.Testimonial.objects.get()
    ident = str(testimonial.pk)
    no = run(runner, "testimonials", "publish", "club", ident)
    assert no.exit_code == 5 and "consent:" in no.output
    assert run(runner, "testimonials", "consent", "club", ident).exit_code == 0
    assert run(runner, "testimonials", "publish", "club", ident).exit_code == 0
    listed = run(runner, "testimonials", "list", "club", "--published")
    assert "Found a job." in listed.output
    assert "Found a job." not in run(runner, "testimonials", "list", "club", "--unpublished").output
    assert run(runner, "testimonials", "unpublish", "club", ident).exit_code == 0
    assert run(runner, "testimonials", "delete", "club", ident).exit_code == 0
    assert run(runner, "testimonials", "delete", "club", ident).exit_code == 4
