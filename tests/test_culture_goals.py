"""Goals: validation that names the field and writes nothing, audit entries, progress computed
from imported data over time, forecasts (on track, behind, achieved, missed), the diagnosis's
summary and the audit's culture status."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import table_counts
from test_culture_support import Chat, held_activity

from shequn.audit.models import AuditEntry
from shequn.communities.services import do_create_community
from shequn.culture.errors import CultureError, GoalError
from shequn.culture.forecast import forecast
from shequn.culture.models import Goal
from shequn.culture.selectors import (
    culture_status,
    goal_progress,
    goal_progress_summary,
    goals_with_progress,
)
from shequn.culture.services import (
    do_create_goal,
    do_delete_goal,
    do_publish_goal,
    do_unpublish_goal,
    do_update_culture,
    do_update_goal,
    parse_params,
)
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

START = dt.date(2024, 3, 4)


@pytest.fixture
def owner(community):
    return Member.objects.create(community=community, display_name="Fay", role="founder")


def checkins(community, write_chatlab, per_day: dict[int, list[str]]) -> None:
    """Members posting "#打卡" on days counted from START."""
    chat = Chat()
    for offset, people in per_day.items():
        for who in people:
            chat.say(who, START + dt.timedelta(days=offset), "#打卡 done")
    chat.import_into(community, write_chatlab)


def goal_values(owner, **values):
    return {
        "title": "Read together",
        "metric": "tagged_events",
        "params": {"tag": "#打卡"},
        "target": 30,
        "start_on": START,
        "deadline": START + dt.timedelta(days=29),
        "owner": owner,
        **values,
    }


# --- forecasts ------------------------------------------------------------------------------


def series(values: list[float]) -> list[dt.date]:
    return [START + dt.timedelta(days=n) for n in range(len(values))]


def test_forecast_on_track_behind_achieved_missed_and_too_early():
    deadline = START + dt.timedelta(days=29)
    steady = [float(n + 1) for n in range(10)]  # one a day: 30 by day 30
    on_track = forecast(series(steady), steady, target=30, deadline=deadline)
    assert on_track.status == "on_track"
    assert on_track.pace == pytest.approx(1.0) and on_track.days_left == 20
    assert on_track.projected == pytest.approx(30.0)
    assert on_track.needed_pace == pytest.approx(1.0)
    assert on_track.reached_on == deadline and on_track.progress == pytest.approx(1 / 3)

    slow = [n / 2 for n in range(10)]  # half a day: 14.5 by the deadline
    behind = forecast(series(slow), slow, target=30, deadline=deadline)
    assert behind.status == "behind"
    assert behind.projected == pytest.approx(14.5) and behind.needed_pace == pytest.approx(1.275)
    assert behind.pace_per_week == pytest.approx(3.5)

    done = forecast(series([10, 20, 31]), [10, 20, 31], target=30, deadline=deadline)
    assert done.status == "achieved" and done.progress == 1.0

    over = [float(n) for n in range(30)]
    missed = forecast(series(over), over, target=30, deadline=deadline, ended=True)
    assert missed.status == "missed" and missed.projected is None

    early = forecast(series([1, 2]), [1, 2], target=30, deadline=deadline)
    assert early.status == "too_early" and early.pace is None and early.needed_pace is not None


# --- goals on imported data ---------------------------------------------------------------


def test_progress_is_computed_from_the_data_day_by_day(community, owner, write_chatlab):
    # Two check-ins a day for the first ten days, nothing after.
    checkins(community, write_chatlab, {n: ["ann", "bob"] for n in range(10)})
    goal = do_create_goal(community, goal_values(owner, target=40))

    early = goal_progress(goal, START + dt.timedelta(days=9))
    assert early.values == [float(2 * (n + 1)) for n in range(10)]
    assert early.days[0] == START and early.status == "on_track"
    assert early.forecast.projected == pytest.approx(60.0)
    assert early.chart[-1] == {"day": (START + dt.timedelta(days=9)).isoformat(), "value": 20.0}
    assert early.metric_text == "messages containing “#打卡”"

    # Twenty quiet days later, on the deadline, the pace has fallen: behind, not missed yet.
    late = goal_progress(goal, START + dt.timedelta(days=29))
    assert late.forecast.current == 20 and late.status == "behind"
    assert late.forecast.pace < early.forecast.pace and late.forecast.days_left == 0

    # After the deadline: missed, and the series stops at the deadline.
    after = goal_progress(goal, START + dt.timedelta(days=45))
    assert after.status == "missed" and after.days[-1] == goal.deadline

    achieved = do_create_goal(community, goal_values(owner, target=20, title="Twenty"))
    assert goal_progress(achieved, START + dt.timedelta(days=12)).status == "achieved"

    later = do_create_goal(
        community,
        goal_values(
            owner, start_on=START + dt.timedelta(days=60), deadline=START + dt.timedelta(days=90)
        ),
    )
    assert goal_progress(later, START).status == "not_started"


def test_the_summary_for_the_diagnosis(community, owner, write_chatlab):
    checkins(community, write_chatlab, {n: ["ann", "bob"] for n in range(10)})
    on = START + dt.timedelta(days=9)
    do_create_goal(community, goal_values(owner, target=40))  # on track (projected 60)
    do_create_goal(community, goal_values(owner, target=200, title="Ambitious"))  # behind
    do_create_goal(community, goal_values(owner, target=10, title="Easy"))  # achieved
    do_create_goal(  # not started on that day: not counted
        community,
        goal_values(owner, start_on=on + dt.timedelta(days=1), deadline=on + dt.timedelta(days=9)),
    )
    vanished = do_create_goal(community, goal_values(owner, title="From a removed app"))
    Goal.objects.filter(pk=vanished.pk).update(metric="needs_matched_v0")

    summary = goal_progress_summary(community, on)
    assert summary == {
        "goals": 4,
        "on_track": 1,
        "achieved": 1,
        "behind": 1,
        "missed": 0,
        "no_data": 1,
        "mean_progress": pytest.approx((0.5 + 0.1 + 1.0) / 3),
    }
    vanished.refresh_from_db()
    gone = goal_progress(vanished, on)
    assert gone.status == "no_data" and "needs_matched_v0" in gone.reason
    assert goal_progress_summary(do_create_community(slug="empty"), on)["mean_progress"] is None
    # Running goals first, those over after.
    titles = [progress.goal.title for progress in goals_with_progress(community, on)]
    assert titles[0] in {"Read together", "Ambitious", "Easy", "From a removed app"}


# --- validation, audit ----------------------------------------------------------------------


def test_bad_values_name_every_field_and_change_nothing(community, owner):
    before = table_counts()
    stranger = Member.objects.create(
        community=do_create_community(slug="far", name="Far"), display_name="Stranger"
    )
    before = table_counts()
    with pytest.raises(GoalError) as refused:
        do_create_goal(
            community,
            {
                "title": "",
                "metric": "members_at_level",
                "params": {"level": "high"},
                "target": "-3",
                "start_on": "2024-03-10",
                "deadline": "2024-03-01",
                "owner": stranger,
            },
        )
    problems = refused.value.problems
    assert problems["title"] == "is required"
    assert "whole number" in problems["params.level"]
    assert "more than 0" in problems["target"]
    assert "before the start" in problems["deadline"]
    assert problems["owner"] == "must be a member of this community"
    assert table_counts() == before and not Goal.objects.exists()

    with pytest.raises(GoalError) as unknown:
        do_create_goal(community, goal_values(owner, metric="vibes", target="lots"))
    assert "tagged_events" in unknown.value.problems["metric"]
    assert "must be a number" in unknown.value.problems["target"]
    with pytest.raises(GoalError) as percent:
        do_create_goal(
            community, goal_values(owner, metric="activity_turnout", params={}, target=120)
        )
    assert percent.value.problems["target"] == "is a percentage: at most 100"
    with pytest.raises(GoalError) as missing:
        do_create_goal(community, {"title": "x"})
    assert {"metric", "target", "deadline", "owner"} <= set(missing.value.problems)
    assert not AuditEntry.objects.filter(action__startswith="goal.").exists()


def test_parameters_as_typed_and_their_mistakes():
    assert parse_params("level=3\n tag = #打卡 ") == {"level": "3", "tag": "#打卡"}
    assert parse_params("level=3; count=people") == {"level": "3", "count": "people"}
    with pytest.raises(GoalError) as refused:
        parse_params("level 3")
    assert refused.value.field == "params"


def test_create_change_publish_and_delete_are_audited(community, owner):
    goal = do_create_goal(community, goal_values(owner))
    created = AuditEntry.objects.get(action="goal.create")
    assert created.details["title"] == "Read together"
    assert created.details["params"] == {
        "tag": "#打卡",
        "kinds": ["message", "reply"],
        "count": "events",
    }

    do_update_goal(goal, {"target": "45", "params": "tag=#read"})
    goal.refresh_from_db()
    assert goal.target == 45 and goal.params["tag"] == "#read"
    change = AuditEntry.objects.get(action="goal.update")
    assert change.details["before"]["target"] == 30 and change.details["after"]["target"] == 45
    do_update_goal(goal, {"target": 45})  # the same: nothing recorded
    assert AuditEntry.objects.filter(action="goal.update").count() == 1
    # A new metric without parameters takes that metric's defaults.
    do_update_goal(goal, {"metric": "active_participants"})
    goal.refresh_from_db()
    assert goal.params == {}

    do_publish_goal(goal)
    token = goal.public_token
    assert token and len(token) >= 20
    do_publish_goal(goal)  # already on: the same link
    assert goal.public_token == token
    do_unpublish_goal(goal)
    assert goal.public_token is None
    do_publish_goal(goal)
    assert goal.public_token != token  # a revoked link never comes back
    actions = list(
        AuditEntry.objects.filter(action__in=["goal.publish", "goal.unpublish"]).values_list(
            "action", flat=True
        )
    )
    assert actions == ["goal.publish", "goal.unpublish", "goal.publish"]
    do_delete_goal(goal)
    assert not Goal.objects.exists()
    assert AuditEntry.objects.get(action="goal.delete").details["title"] == "Read together"


# --- culture ------------------------------------------------------------------------------


def test_culture_words_and_status(community, owner):
    from shequn.activities.services import do_create_ritual

    assert culture_status(community) == {
        "mission": False,
        "values_advocated": 0,
        "values_opposed": 0,
        "rituals": 0,
        "ritual_attendance": 0,
        "goals": 0,
        "testimonials": 0,
    }
    do_update_culture(
        community,
        mission="Read a book a month, together.",
        values_advocated="Curiosity\n  curiosity \nKindness\nCuriosity\n",
        values_opposed=["Spam"],
    )
    community.refresh_from_db()
    assert community.values_advocated == ["Curiosity", "curiosity", "Kindness"]
    assert AuditEntry.objects.filter(action="community.update_profile").count() == 1
    with pytest.raises(CultureError) as refused:
        do_update_culture(community, mission="x\x00", values_opposed=["y" * 201])
    assert set(refused.value.problems) == {"mission", "values_opposed"}
    community.refresh_from_db()
    assert community.mission == "Read a book a month, together."

    now = dt.datetime.now(dt.UTC)
    ritual = do_create_ritual(
        community,
        {
            "name": "Reading circle",
            "frequency": "weekly",
            "first_starts_at": now - dt.timedelta(days=30),
            "mode": "online",
            "content_type": "learning",
        },
    )
    ann = Member.objects.create(community=community, display_name="Ann")
    held_activity(community, now - dt.timedelta(days=7), [ann, owner], [ann, owner], ritual=ritual)
    held_activity(community, now - dt.timedelta(days=120), [ann], [ann], ritual=ritual)
    do_create_goal(community, goal_values(owner))
    status = culture_status(community)
    assert status == {
        "mission": True,
        "values_advocated": 3,
        "values_opposed": 1,
        "rituals": 1,
        "ritual_attendance": 2,
        "goals": 1,
        "testimonials": 0,
    }
