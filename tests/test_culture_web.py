"""The culture pages as operators, viewers and members meet them: the three questions, goals
with their chart and forecast, the public progress link (opt-in, revocable, no login),
testimonials, the onboarding message per platform and who is waiting."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from conftest import table_counts
from django.urls import reverse
from django.utils import timezone

from shequn.audit.models import AuditEntry
from shequn.culture import models
from shequn.culture.services import do_create_goal, do_record_testimonial, do_update_culture
from shequn.members.models import Member

pytestmark = pytest.mark.django_db


def url(name: str, community, *args) -> str:
    return reverse(f"web:{name}", args=[community.slug, *args])


@pytest.fixture
def people(community):
    return {
        name: Member.objects.create(community=community, display_name=name, **extra)
        for name, extra in (
            ("Fay", {"role": "founder"}),
            ("Ann", {"joined_at": timezone.now() - dt.timedelta(days=1)}),
            ("Bob", {"joined_at": timezone.now() - dt.timedelta(days=3)}),
        )
    }


def goal_form(**values) -> dict:
    today = timezone.now().date()
    return {
        "title": "Read together",
        "description": "",
        "metric": "tagged_events",
        "params": "tag=#打卡\ncount=people",
        "target": "50",
        "start_on": (today - dt.timedelta(days=10)).isoformat(),
        "deadline": (today + dt.timedelta(days=20)).isoformat(),
        "owner": "Fay",
        **values,
    }


def test_the_culture_page_answers_the_three_questions(client_as, community, people):
    do_update_culture(
        community,
        mission="Read a book a month.",
        values_advocated=["Curiosity"],
        values_opposed=["Spam"],
    )
    do_create_goal(
        community,
        {
            "title": "Fifty readers",
            "metric": "members",
            "target": 50,
            "deadline": timezone.now().date() + dt.timedelta(days=30),
            "owner": people["Fay"],
        },
    )
    do_record_testimonial(
        community,
        {"member": people["Ann"], "text": "I read 12 books this year.", "consent": True},
        publish=True,
    )
    page = client_as(community, "viewer").get(url("culture", community))
    text = page.content.decode()
    assert page.status_code == 200 and page.context["section"] == "culture"
    for words in (
        "Why are we together?",
        "Read a book a month.",
        "Curiosity",
        "Spam",
        "How do we get there?",
        "How far are we?",
        "Fifty readers",
        "Tiers have not been worked out yet",
        "I read 12 books this year.",
        "2 members have not received the welcome message yet.",
    ):
        assert words in html.unescape(text), words
    # A viewer reads; writing is for operators.
    assert "Edit mission and values" not in text and "New goal" not in text
    assert page.context["status"]["testimonials"] == 1


def test_viewers_cannot_change_anything(client_as, community, people):
    goal = do_create_goal(
        community,
        {
            "title": "Grow",
            "metric": "members",
            "target": 50,
            "deadline": "2030-01-01",
            "owner": people["Fay"],
        },
    )
    testimonial = do_record_testimonial(
        community, {"member": people["Ann"], "text": "x", "consent": True}
    )
    viewer = client_as(community, "viewer")
    before = table_counts()
    for name, args in (
        ("culture_edit", ()),
        ("goal_new", ()),
        ("goal_edit", (goal.pk,)),
        ("goal_delete", (goal.pk,)),
        ("goal_publish", (goal.pk,)),
        ("testimonial_new", ()),
        ("testimonial_publish", (testimonial.pk,)),
        ("onboarding_template", ()),
        ("onboarding_mark", ()),
        ("onboarding_mark_all", ()),
    ):
        response = viewer.post(url(name, community, *args), {"mission": "Mine now"})
        assert response.status_code == 403, name
    assert table_counts() == before
    goal.refresh_from_db()
    assert goal.public_token is None and models.Goal.objects.count() == 1


def test_editing_the_mission_and_values(client_as, community):
    operator = client_as(community, "operator")
    form = operator.get(url("culture_edit", community))
    assert form.status_code == 200
    bad = operator.post(
        url("culture_edit", community), {"mission": "ok", "values_advocated": "x" * 201}
    )
    assert (
        bad.status_code == 400 and "too long" in bad.context["form"].errors["values_advocated"][0]
    )
    community.refresh_from_db()
    assert community.mission == ""
    done = operator.post(
        url("culture_edit", community),
        {
            "mission": "Ship open source.",
            "values_advocated": "Kindness\n\nCredit",
            "values_opposed": "",
        },
        follow=True,
    )
    assert "The mission and values were saved." in done.content.decode()
    community.refresh_from_db()
    assert community.values_advocated == ["Kindness", "Credit"]
    assert AuditEntry.objects.get(action="community.update_profile").actor.username == (
        "operator-club"
    )


def test_a_goal_from_the_form_with_its_chart_and_forecast(client_as, community, people):
    operator = client_as(community, "operator")
    assert operator.get(url("goal_new", community)).status_code == 200
    before = table_counts()
    bad = operator.post(
        url("goal_new", community),
        goal_form(title="", params="tag=", target="many", owner="Nobody"),
    )
    assert bad.status_code == 400
    errors = bad.context["form"].errors
    assert errors["title"] == ["is required"]
    assert errors["params"] == ["tag: is required"]
    assert "must be a number" in errors["target"][0]
    assert "no member 'Nobody'" in errors["owner"][0]
    assert table_counts() == before and not models.Goal.objects.exists()

    created = operator.post(url("goal_new", community), goal_form(), follow=True)
    goal = models.Goal.objects.get()
    assert goal.owner == people["Fay"] and goal.params["count"] == "people"
    text = html.unescape(created.content.decode())
    assert "Goal saved." in text and "members who posted “#打卡”" in text
    chart = created.context["chart"]
    assert len(chart["labels"]) == 31 and chart["actual"][:11] == [0.0] * 11
    assert chart["actual"][11] is None and chart["needed"][-1] == 50.0
    assert 'id="goal-chart-data"' in text and "culture/goal-chart.js" in text
    assert created.context["forecast_text"]

    edit = operator.get(url("goal_edit", community, goal.pk))
    assert "tag=#打卡" in edit.content.decode()
    operator.post(url("goal_edit", community, goal.pk), goal_form(target="60"))
    goal.refresh_from_db()
    assert goal.target == 60
    operator.post(url("goal_delete", community, goal.pk))
    assert not models.Goal.objects.exists()


def test_the_public_progress_link_is_opt_in_revocable_and_needs_no_login(
    client_as, client, community, people
):
    do_update_culture(community, mission="Read a book a month.")
    goal = do_create_goal(
        community,
        {
            "title": "Fifty readers",
            "metric": "members",
            "target": 50,
            "deadline": timezone.now().date() + dt.timedelta(days=30),
            "owner": people["Fay"],
        },
    )
    operator = client_as(community, "operator")
    page = operator.get(url("goal", community, goal.pk)).content.decode()
    assert "Make a public link" in page
    operator.post(url("goal_publish", community, goal.pk))
    goal.refresh_from_db()
    public = reverse("web:goal_public", args=[goal.public_token])
    assert public in operator.get(url("goal", community, goal.pk)).content.decode()
    operator.logout()

    seen = client.get(public)
    text = seen.content.decode()
    assert seen.status_code == 200 and "Fifty readers" in text
    assert "Read a book a month." in text and "Ask Fay how to help." in text
    assert seen["X-Robots-Tag"] == "noindex" and "no-cache" in seen["Cache-Control"]
    assert client.get(reverse("web:goal_public", args=["not-a-token"])).status_code == 404

    operator = client_as(community, "operator", username="op2")
    operator.post(url("goal_unpublish", community, goal.pk))
    operator.logout()
    assert client.get(public).status_code == 404
    assert [
        entry.action
        for entry in AuditEntry.objects.filter(action__startswith="goal.").order_by("id")
    ] == ["goal.create", "goal.publish", "goal.unpublish"]


def test_testimonials_are_recorded_published_and_shown(client_as, community, people):
    operator = client_as(community, "operator")
    bad = operator.post(
        url("testimonial_new", community), {"member": "", "text": "", "benefit": "other"}
    )
    assert bad.status_code == 400
    assert bad.context["form"].errors["member"] and bad.context["form"].errors["text"]
    operator.post(
        url("testimonial_new", community),
        {
            "member": "Ann",
            "text": "My first open-source patch.",
            "benefit": "knowledge",
            "said_on": "",
            "source": "",
            "consent": "on",
        },
    )
    testimonial = models.Testimonial.objects.get()
    assert testimonial.member == people["Ann"] and not testimonial.is_published
    listed = operator.get(url("testimonials", community)).content.decode()
    assert "My first open-source patch." in listed and "Publish" in listed
    operator.post(url("testimonial_publish", community, testimonial.pk))
    testimonial.refresh_from_db()
    assert testimonial.is_published
    culture = operator.get(url("culture", community)).content.decode()
    assert "My first open-source patch." in culture
    only = operator.get(url("testimonials", community) + "?show=unpublished")
    assert "My first open-source patch." not in only.content.decode()
    operator.post(url("testimonial_delete", community, testimonial.pk))
    assert not models.Testimonial.objects.exists()


def test_onboarding_message_per_platform_and_marking_who_waits(client_as, community, people):
    do_update_culture(community, mission="Ship *open* source.")
    operator = client_as(community, "operator")
    page = operator.get(url("onboarding", community))
    text = page.content.decode()
    assert page.status_code == 200
    assert page.context["preview"].format == "plain"
    assert [m.display_name for m in page.context["pending"]] == ["Ann", "Bob"]
    discord = operator.get(url("onboarding", community), {"platform": "discord", "member": "Ann"})
    preview = discord.context["preview"]
    assert preview.format == "markdown" and "Welcome to Club, Ann!" in preview.text
    assert "Ship \\*open\\* source." in preview.text
    assert "Left out, nothing to say yet" in html.unescape(discord.content.decode())

    bad = operator.post(url("onboarding_template", community), {"text": "Hi {nmae}"})
    assert bad.status_code == 400
    assert "{nmae} is not a placeholder" in bad.context["form"].errors["text"][0]
    assert not models.OnboardingTemplate.objects.exists()
    operator.post(url("onboarding_template", community), {"text": "Hi {member}!\n{mission}"})
    assert (
        operator.get(url("onboarding", community)).context["preview"].text.startswith("Hi friend!")
    )

    operator.post(
        url("onboarding_mark", community), {"member": [people["Ann"].pk], "platform": "discord"}
    )
    waiting = operator.get(url("onboarding", community)).context["pending"]
    assert [m.display_name for m in waiting] == ["Bob"]
    assert models.Onboarding.objects.get().platform == "discord"
    operator.post(url("onboarding_unmark", community, people["Ann"].pk))
    operator.post(url("onboarding_mark_all", community), {"joined_before": ""})
    assert models.Onboarding.objects.count() == 2
    operator.post(url("onboarding_reset", community))
    assert not models.OnboardingTemplate.objects.exists()
    assert "Welcome to Club" in text


def test_pages_render_in_chinese(client_as, community, people):
    client = client_as(community, "operator")
    client.cookies["django_language"] = "zh-hans"
    for name in ("culture", "goal_new", "testimonials", "onboarding"):
        response = client.get(url(name, community), HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, name
        assert 'lang="zh-hans"' in response.content.decode()
