"""Goal metrics computed from real imported data: tagged messages, tiers, levels, activity
attendance and turnout; their parameters checked by name; the registry."""

from __future__ import annotations

import datetime as dt

import pytest
from test_culture_support import Chat, held_activity

from shequn.communities.services import do_create_community
from shequn.culture.errors import GoalError
from shequn.culture.metrics import metric, metrics, register_metric, unregister_metric
from shequn.members.models import Member
from shequn.tiers.selectors import tiers_on
from shequn.tiers.services import do_recompute_tiers

pytestmark = pytest.mark.django_db

START = dt.date(2024, 3, 4)  # a Monday


def days(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range(count)]


def test_tagged_messages_count_within_the_period_any_case_without_staff_or_bots(
    community, write_chatlab
):
    chat = Chat()
    chat.member("fay", role="owner")
    chat.say("cat", START - dt.timedelta(days=1), "#打卡 before the goal began")
    chat.say("ann", START, "#打卡 day one: 30 pages")
    chat.say("fay", START, "#打卡 remember to check in!")  # staff: not counted
    chat.say("ann", START + dt.timedelta(days=1), "day two #打卡")
    chat.say("ann", START + dt.timedelta(days=2), "no tag today")
    chat.say("bob", START + dt.timedelta(days=2), "#打卡")
    chat.say("robot", START + dt.timedelta(days=2), "#打卡 stats")
    chat.say("bob", START + dt.timedelta(days=2), "#READ in capitals")
    chat.import_into(community, write_chatlab)
    Member.objects.filter(display_name="Robot").update(is_bot=True)

    tagged = metric("tagged_events")
    period = days(START, 4)
    params = tagged.validate({"tag": "#打卡"})
    assert params == {"tag": "#打卡", "kinds": ["message", "reply"], "count": "events"}
    assert tagged.series(community, params, period) == [1, 2, 3, 3]
    people = tagged.validate({"tag": "#打卡", "count": "people"})
    assert tagged.series(community, people, period) == [1, 1, 2, 2]
    # Any case; and the same goal a day later starts counting from its own first day.
    assert tagged.series(community, tagged.validate({"tag": "#read"}), period) == [0, 0, 1, 1]
    assert tagged.series(community, params, period[1:]) == [1, 2, 2]
    # Only the kinds asked for.
    assert tagged.series(
        community, tagged.validate({"tag": "#打卡", "kinds": "reply"}), period
    ) == [
        0,
        0,
        0,
        0,
    ]


def test_tier_metrics_follow_the_tier_history_day_by_day(community, write_chatlab):
    chat = Chat()
    chat.member("fay", role="owner")
    chat.weekly("fay", START, 16)  # staff: left out
    chat.weekly("ann", START, 16)  # a participant from her third week, for good
    chat.weekly("bob", START, 4)  # a participant, then silent: lapses
    chat.say("cat", START + dt.timedelta(weeks=6))  # a follower
    chat.weekly("dan", START + dt.timedelta(weeks=8), 8)  # a participant later
    chat.import_into(community, write_chatlab)
    do_recompute_tiers(community)

    sample = [START + dt.timedelta(days=n) for n in range(0, 16 * 7, 3)]
    members = dict(Member.objects.filter(community=community).values_list("pk", "role").order_by())
    for code, tiers in (
        ("members", {"advocate", "participant", "follower"}),
        ("active_participants", {"advocate", "participant"}),
        ("advocates", {"advocate"}),
    ):
        found = metric(code)
        series = found.series(community, found.validate({}), sample)
        expected = []
        for day in sample:
            on = tiers_on(community, day)
            expected.append(
                sum(1 for m, tier in on.items() if tier in tiers and members[m] == "member")
            )
        assert series == expected, code
    participants = metric("active_participants").series(community, {}, sample)
    assert max(participants) >= 2 and participants[0] == 0


def test_tier_metrics_say_why_there_is_no_data_before_tiers_are_worked_out(community):
    assert "shequn tiers recompute" in metric("active_participants").unavailable(community)


def test_members_at_level_count_each_member_once_from_the_day_reached(community, write_chatlab):
    from shequn.rewards.services import do_award_points, do_save_rule

    chat = Chat()
    chat.member("fay", role="owner")
    for _ in range(5):
        chat.say("fay", START)  # staff: left out
    chat.say("ann", START)  # 100 points: level 1
    for _ in range(3):
        chat.say("bob", START + dt.timedelta(days=1))  # 300 points: level 2 (and 1)
    chat.say("ann", START + dt.timedelta(days=3))
    chat.say("ann", START + dt.timedelta(days=3))  # 300 points: level 2
    chat.import_into(community, write_chatlab)
    do_save_rule(community, {"key": "msg", "event_kind": "message", "amount": 100}, actor=None)
    do_award_points(community)

    level = metric("members_at_level")
    period = days(START, 4)
    assert level.series(community, level.validate({"level": "1"}), period) == [1, 2, 2, 2]
    assert level.series(community, level.validate({"level": 2}), period) == [0, 1, 1, 2]
    assert level.describe({"level": 2}) == "members at level 2 or above"


def test_activity_attendance_and_turnout_within_the_period(community):
    from shequn.activities.services import do_create_ritual

    ann, bob, cat = (
        Member.objects.create(community=community, display_name=name)
        for name in ("Ann", "Bob", "Cat")
    )
    fay = Member.objects.create(community=community, display_name="Fay", role="founder")
    at = dt.datetime.combine(START, dt.time(19), dt.UTC)
    ritual = do_create_ritual(
        community,
        {
            "name": "Reading circle",
            "frequency": "weekly",
            "first_starts_at": at,
            "mode": "online",
            "content_type": "learning",
        },
    )
    held_activity(community, at - dt.timedelta(days=7), [ann, bob], [ann])  # before the period
    held_activity(community, at, [ann, bob, cat, fay], [ann, bob, fay], ritual=ritual)
    held_activity(
        community, at + dt.timedelta(days=2), [ann, cat], [ann, cat], content_type="social"
    )

    attendance = metric("activity_attendance")
    period = days(START, 4)
    assert attendance.series(community, attendance.validate({}), period) == [2, 2, 4, 4]
    people = attendance.validate({"count": "people"})
    assert attendance.series(community, people, period) == [2, 2, 3, 3]
    only_ritual = attendance.validate_in(community, attendance.validate({"ritual": ritual.pk}))
    assert attendance.series(community, only_ritual, period) == [2, 2, 2, 2]
    social = attendance.validate({"content_type": "social"})
    assert attendance.series(community, social, period) == [0, 0, 2, 2]

    turnout = metric("activity_turnout")
    # Staff places count too: turnout is about places. 3 of 4 came, then 5 of 6.
    values = turnout.series(community, turnout.validate({}), period)
    assert values == [75.0, 75.0, pytest.approx(500 / 6), pytest.approx(500 / 6)]
    assert turnout.unit == "%"

    other = do_create_community(slug="elsewhere", name="Elsewhere")
    with pytest.raises(GoalError) as refused:
        attendance.validate_in(other, attendance.validate({"ritual": ritual.pk}))
    assert refused.value.field == "params.ritual"


@pytest.mark.parametrize(
    ("code", "params", "field", "words"),
    [
        ("members_at_level", {}, "params.level", "is required"),
        ("members_at_level", {"level": "three"}, "params.level", "whole number from 1"),
        ("members_at_level", {"level": 0}, "params.level", "whole number from 1"),
        ("members_at_level", {"level": 2, "colour": "red"}, "params.colour", "level"),
        ("tagged_events", {}, "params.tag", "is required"),
        ("tagged_events", {"tag": "#x", "kinds": "message,shout"}, "params.kinds", "shout"),
        ("tagged_events", {"tag": "#x", "count": "weeks"}, "params.count", "events, people"),
        ("tagged_events", {"tag": "x" * 101}, "params.tag", "too long"),
        ("tagged_events", {"tag": "a\x00b"}, "params.tag", "NUL"),
        ("activity_attendance", {"mode": "hybrid"}, "params.mode", "online, offline"),
        ("active_participants", {"level": 1}, "params.level", "no parameters"),
    ],
)
def test_bad_parameters_are_named(code, params, field, words):
    with pytest.raises(GoalError) as refused:
        metric(code).validate(params)
    assert refused.value.field == field
    assert words in refused.value.message


def test_the_registry_lists_replaces_and_forgets_metrics():
    codes = [found.code for found in metrics()]
    assert codes[:7] == [
        "members",
        "active_participants",
        "advocates",
        "members_at_level",
        "activity_attendance",
        "activity_turnout",
        "tagged_events",
    ]

    class Constant:
        code = "constant"
        label = "constant"
        unit = ""
        parameters: dict = {}

        def validate(self, params):
            return {}

        def series(self, community, params, days):
            return [7.0] * len(days)

    register_metric(Constant())
    try:
        assert metric("constant").series(None, {}, days(START, 2)) == [7.0, 7.0]
    finally:
        unregister_metric("constant")
    assert metric("constant") is None
    with pytest.raises(TypeError):
        register_metric(object())
