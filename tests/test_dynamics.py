"""Group dynamics over a period: cohesion, driving and dissipative force from their components,
each with the numbers behind it, and the previous period beside it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shequn.communities.services import do_create_community
from shequn.insights.dynamics import NO_DATA, group_dynamics
from shequn.interactions.services import do_import
from shequn.members.models import Member
from shequn.tiers.services import do_recompute_tiers

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 1, 4, tzinfo=dt.UTC)  # noon in Shanghai


def _import(community, tmp_path, rows) -> None:
    messages = []
    for n, (who, day, reply_to) in enumerate(rows):
        message = {
            "platformMessageId": f"m{n}",
            "sender": who,
            "accountName": who.title(),
            "timestamp": int((START + dt.timedelta(days=day, minutes=n)).timestamp()),
            "type": 0,
            "content": "hi",
        }
        if reply_to is not None:
            message.update(type=25, replyToMessageId=f"m{reply_to}")
        messages.append(message)
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps(
            {
                "chatlab": {"version": "0.0.2", "exportedAt": 1704100000},
                "meta": {"name": "g", "platform": "wechat", "type": "group", "groupId": "g"},
                "members": [],
                "messages": messages,
            }
        ),
        encoding="utf-8",
    )
    do_import(community, path)


def test_forces_come_from_their_components_with_the_previous_period(tmp_path):
    community = do_create_community(slug="dyn", name="Dyn")
    rows = [
        # the earlier period (days 0-29): ann, bob and cid
        ("ann", 2, None), ("bob", 3, None), ("cid", 5, None), ("ann", 10, None),
        # this period (days 30-59): ann and bob talk back and forth, dee arrives and joins in
        ("ann", 31, None), ("bob", 31, 4), ("ann", 32, 5), ("dee", 40, 4), ("ann", 41, 7),
        ("bob", 42, 7), ("ann", 45, None), ("ann", 46, None), ("ann", 47, None),
    ]  # fmt: skip
    _import(community, tmp_path, rows)
    do_recompute_tiers(community, as_of=dt.date(2024, 2, 29))

    dynamics = group_dynamics(community, dt.date(2024, 3, 1))  # the 30 days before March

    assert (dynamics.start, dynamics.active) == (dt.date(2024, 1, 31), 3)
    cohesion = {c.code: c for c in dynamics.forces["cohesion"].components}
    # ann and bob stayed, cid did not
    assert cohesion["retention"].value == pytest.approx(2 / 3, abs=1e-4)
    assert cohesion["retention"].detail == {"kept": 2, "before": 3}
    # ties (replies): bob->ann, ann->bob, dee->ann, ann->dee, bob->dee: 4 of 5 answered
    assert cohesion["reciprocity"].value == pytest.approx(0.8, abs=1e-4)
    # only ann has two reciprocated partners (bob and dee): one member in three
    assert cohesion["deep_links"].value == pytest.approx(1 / 3, abs=1e-4)
    assert cohesion["deep_links"].score == pytest.approx(100 / 3 / 0.4, abs=0.1)
    assert cohesion["repeat_attendance"].status == NO_DATA  # no activities
    assert dynamics.forces["cohesion"].score == pytest.approx(
        (100 * 2 / 3 + 80 + 100 / 3 / 0.4) / 3, abs=0.1
    )

    driving = {c.code: c for c in dynamics.forces["driving"].components}
    assert driving["net_inflow"].detail == {"new": 1, "lapsed": 0, "active": 3}
    assert driving["net_inflow"].score == pytest.approx(50 + 100 / 3, abs=0.1)
    assert driving["participation_growth"].score == 50.0  # three before, three now
    assert driving["goal_progress"].status == NO_DATA

    dissipative = {c.code: c for c in dynamics.forces["dissipative"].components}
    assert dissipative["churn"].value == 0.0
    # contributions: ann 6, bob 2, dee 1; the top 10 % (one member) made 6 of 9
    assert dissipative["concentration"].value == pytest.approx(6 / 9, abs=1e-4)
    assert dissipative["concentration"].detail["bus_factor"] == 1  # ann alone made half
    assert dissipative["charter_violations"].status == NO_DATA

    before = dynamics.previous
    assert before is not None and before.previous is None and before.active == 3
    assert dynamics.change("cohesion") is not None


def test_a_quiet_period_has_no_data_rather_than_zeroes(tmp_path):
    community = do_create_community(slug="quiet", name="Quiet")
    dynamics = group_dynamics(community, dt.date(2024, 3, 1))
    assert dynamics.active == 0
    assert all(force.score is None for force in dynamics.forces.values())
    assert dynamics.change("driving") is None


def test_activities_give_repeat_attendance_and_the_turnout_rhythm(community_with_people):
    from shequn.activities.services import (
        do_check_in,
        do_create_activity,
        do_publish_activity,
        do_register,
    )

    community, people = community_with_people

    def held(day: int, attendees, registered) -> None:
        start = START + dt.timedelta(days=day)
        activity = do_publish_activity(
            do_create_activity(
                community,
                {
                    "title": f"Meetup {day}",
                    "mode": "offline",
                    "content_type": "social",
                    "place": "Hall",
                    "capacity": 10,
                    "starts_at": start,
                    "ends_at": start + dt.timedelta(hours=2),
                },
            )
        )
        for member in registered:
            registration = do_register(activity, member, override=True)
            if member in attendees:
                do_check_in(activity, registration.code, at=start, recompute=False)

    ann, bob, cid = people
    held(10, [ann], [ann])  # the earlier period
    held(35, [ann, bob], [ann, bob, cid])  # this period: 2 of 3 came
    held(50, [bob], [bob])  # 1 of 1

    dynamics = group_dynamics(community, dt.date(2024, 3, 1))

    cohesion = {c.code: c for c in dynamics.forces["cohesion"].components}
    # ann and bob attended this period; ann had attended before
    assert cohesion["repeat_attendance"].detail == {"attendees": 2, "returning": 1}
    assert cohesion["repeat_attendance"].score == 50.0
    driving = {c.code: c for c in dynamics.forces["driving"].components}
    # two held (half the weekly rhythm), mean turnout (2/3 + 1) / 2
    assert driving["activities_turnout"].detail == {
        "held": 2,
        "turnout": pytest.approx(0.8333, abs=1e-4),
    }
    assert driving["activities_turnout"].score == pytest.approx(100 * 0.5 * 5 / 6, abs=0.1)


@pytest.fixture
def community_with_people():
    community = do_create_community(slug="acts", name="Acts")
    people = [
        Member.objects.create(community=community, display_name=name)
        for name in ("Ann", "Bob", "Cid")
    ]
    return community, people


def test_goals_and_charter_violations_enter_the_forces(tmp_path):
    from shequn.charter.services import do_enable_rule, do_report_violation, do_save_rule
    from shequn.culture.selectors import goal_progress_summary
    from shequn.culture.services import do_create_goal
    from shequn.interactions.models import InteractionEvent

    community = do_create_community(slug="kept", name="Kept")
    rows = [("ann", 31, None), ("bob", 32, 0), ("cid", 33, 1), ("ann", 40, None)]
    _import(community, tmp_path, rows)
    do_recompute_tiers(community, as_of=dt.date(2024, 2, 29))
    ann = Member.objects.get(community=community, display_name="Ann")
    do_create_goal(
        community,
        {
            "title": "Ten members",
            "metric": "members",
            "target": 10,
            "start_on": dt.date(2024, 1, 1),
            "deadline": dt.date(2024, 3, 31),
            "owner": ann,
        },
    )
    rule = do_save_rule(
        community,
        {"key": "reported", "name": "Reported", "kind": "reported", "consequence": "warning"},
        actor=None,
    )
    do_enable_rule(rule, actor=None)
    message = InteractionEvent.objects.get(community=community, source_id="m3")
    do_report_violation(rule, ann, event=message, note="shouting")

    dynamics = group_dynamics(community, dt.date(2024, 3, 1))

    driving = {c.code: c for c in dynamics.forces["driving"].components}
    progress = goal_progress_summary(community, dt.date(2024, 2, 29))["mean_progress"]
    assert progress and driving["goal_progress"].value == pytest.approx(progress, abs=1e-4)
    assert driving["goal_progress"].detail["goals"] == 1
    dissipative = {c.code: c for c in dynamics.forces["dissipative"].components}
    violations = dissipative["charter_violations"]
    # one violation among three active members: 33.3 per hundred, past the full score (10)
    assert violations.detail == {"violations": 1, "active": 3}
    assert violations.value == pytest.approx(100 / 3, abs=1e-3) and violations.score == 100.0
