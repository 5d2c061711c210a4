"""Tiers as an operator sees them: who is an advocate, participant, follower or lapsed, why,
since when, which way they moved, and who is at risk."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA, table_counts

from shequn.audit.models import AuditEntry
from shequn.interactions.services import do_import
from shequn.members.models import Member
from shequn.tiers.models import MemberTier, TierChange, TierPolicy
from shequn.tiers.policy import TierPolicyError
from shequn.tiers.reasons import action_text, describe, describe_risk
from shequn.tiers.selectors import (
    member_progress,
    member_tier_path,
    members_at_risk,
    monthly_tier_flows,
    tier_funnel,
)
from shequn.tiers.services import do_recompute_tiers, do_update_tier_policy

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2024, 1, 1)  # week 1 runs Monday 1 January to Sunday 7 January 2024


def week(n: int, weekday: int = 2) -> dt.date:
    """A day of the n-th week (1-based) after MONDAY; weekday 0 is Monday, 6 Sunday."""
    return MONDAY + dt.timedelta(weeks=n - 1, days=weekday)


def sunday(n: int) -> dt.date:
    return week(n, 6)


class Chat:
    """A ChatLab group conversation built message by message, at noon UTC of the given days."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.members: dict[str, dict[str, Any]] = {}

    def member(self, who: str, role: str | None = None) -> None:
        entry = {"platformId": who, "accountName": who.title()}
        if role:
            entry["roles"] = [{"id": role}]
        self.members[who] = entry

    def say(self, who: str, day: dt.date, reply_to: str | None = None, text: str = "hi") -> str:
        self.members.setdefault(who, {"platformId": who, "accountName": who.title()})
        message_id = f"m{len(self.messages) + 1}"
        stamp = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp()
        message = {
            "platformMessageId": message_id,
            "sender": who,
            "accountName": who.title(),
            "timestamp": int(stamp) + len(self.messages),
            "type": 25 if reply_to else 0,
            "content": text,
        }
        if reply_to:
            message["replyToMessageId"] = reply_to
        self.messages.append(message)
        return message_id

    def leave(self, who: str, day: dt.date) -> None:
        stamp = dt.datetime(day.year, day.month, day.day, 18, tzinfo=dt.UTC).timestamp()
        self.messages.append(
            {
                "platformMessageId": f"m{len(self.messages) + 1}",
                "sender": who,
                "accountName": who.title(),
                "timestamp": int(stamp),
                "type": 80,
                "content": f"{who.title()} left the group",
            }
        )

    def active_weeks(self, who: str, weeks: range | list[int], per_week: int = 1) -> None:
        for n in weeks:
            for _ in range(per_week):
                self.say(who, week(n))

    def import_into(self, community, write_chatlab, name: str = "export") -> None:
        path = write_chatlab(self.messages, list(self.members.values()), name=name)
        do_import(community, path, recompute=False)


def tier(community, name: str) -> MemberTier:
    return MemberTier.objects.select_related("member").get(
        member__community=community, member__display_name=name.title()
    )


def path_of(community, name: str) -> list[tuple[str, str | None, str]]:
    member = Member.objects.get(community=community, display_name=name.title())
    return [
        (change.changed_on.isoformat(), change.from_tier, change.to_tier)
        for change in member_tier_path(member)
    ]


@pytest.fixture
def weekly(community):
    """A community whose downgrades apply every week, for tests about thresholds (the monthly
    review has its own tests)."""
    TierPolicy.objects.create(community=community, downgrade_cadence="week")
    return community


# --- each tier by its rule, and not just below it --------------------------------------------


def test_one_message_makes_a_follower_with_the_numbers_in_the_reason(weekly, write_chatlab):
    chat = Chat()
    chat.say("ann", week(1))
    chat.import_into(weekly, write_chatlab)

    result = do_recompute_tiers(weekly)

    assert (result.full, result.evaluated, result.as_of) == (True, 1, week(1))
    state = tier(weekly, "ann")
    assert state.tier == "follower"
    assert state.since == week(1)  # the as-of day is the evaluation of that week
    assert describe(state.reasons[0]) == (
        "took part in the last 13 weeks (1 message or reply, 0 reactions, mentions or joins); "
        "last on 2024-01-03"
    )
    assert state.action == "invite_to_speak"
    assert "speak" in action_text(state.action)


def test_participant_needs_three_active_weeks(weekly, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", [1, 4, 9])
    chat.active_weeks("bob", [1, 9], per_week=5)
    chat.import_into(weekly, write_chatlab)

    do_recompute_tiers(weekly)

    ann, bob = tier(weekly, "ann"), tier(weekly, "bob")
    assert ann.tier == "participant"
    assert describe(ann.reasons[0]) == (
        "contributed in 3 of the last 13 weeks: 3 messages and replies on 3 days"
    )
    assert bob.tier == "follower"  # 10 messages, but in 2 weeks only
    steps = member_progress(bob.member)
    assert steps["next_tier"] == "participant"
    assert "be active in 3 of 13 weeks (now 2)" in steps["texts"][0]


def test_one_weighty_week_of_replies_places_a_participant(weekly, write_chatlab):
    chat = Chat()
    question = chat.say("ann", week(1))
    for _ in range(15):  # 15 replies x 2 points = 30, the default threshold
        chat.say("bob", week(1), reply_to=question)
    for _ in range(14):  # 28 points
        chat.say("cid", week(1), reply_to=question)
    chat.import_into(weekly, write_chatlab)

    do_recompute_tiers(weekly)

    bob = tier(weekly, "bob")
    assert bob.tier == "participant"
    assert describe(bob.reasons[0]) == (
        "earned 30 commitment points in the last 13 weeks (30 make a participant)"
    )
    assert tier(weekly, "cid").tier == "follower"


def _helper_community(chat: Chat, helper: str, helped: int, active: int) -> None:
    """``helper`` is active in weeks 1..active and answers one question of each of ``helped``
    different members (one a week)."""
    questions = [chat.say(f"asker{i}", week(1 + i % active)) for i in range(helped)]
    for i, question in enumerate(questions):
        chat.say(helper, week(1 + i % active), reply_to=question)
    chat.active_weeks(helper, range(1, active + 1))


def test_advocate_needs_most_weeks_and_helping_five_members(weekly, write_chatlab):
    chat = Chat()
    _helper_community(chat, "ann", helped=5, active=8)  # the rule: 8 of 13 weeks, 5 members
    _helper_community(chat, "bob", helped=4, active=8)  # one member short
    _helper_community(chat, "cid", helped=5, active=7)  # one week short
    chat.import_into(weekly, write_chatlab)

    do_recompute_tiers(weekly)

    ann = tier(weekly, "ann")
    assert ann.tier == "advocate"
    texts = [describe(reason) for reason in ann.reasons]
    assert texts == [
        "contributed in 8 of the last 13 weeks: 13 messages and replies on 8 days",
        "replied to 5 messages from 5 different members in 5 of the last 13 weeks",
    ]
    assert ann.action == "thank_and_host"
    assert tier(weekly, "bob").tier == "participant"
    assert tier(weekly, "cid").tier == "participant"
    progress = member_progress(tier(weekly, "bob").member)
    assert progress["next_tier"] == "advocate"
    assert "reply to or mention 5 different members in 13 weeks (now 4)" in progress["texts"][1]
    assert progress["texts"][0].startswith("✓ be active in 8 of 13 weeks")


def _slack_export(folder: Path, days: dict[dt.date, list[dict[str, Any]]]) -> Path:
    users = [
        {"id": uid, "name": name, "real_name": name.title(), "profile": {}}
        for uid, name in (("U1", "ann"), ("U2", "bob"), ("U3", "cid"), ("U4", "dee"))
    ]
    channels = [{"id": "C1", "name": "general", "created": "1", "creator": "U1", "members": []}]
    folder.mkdir()
    (folder / "users.json").write_text(json.dumps(users))
    (folder / "channels.json").write_text(json.dumps(channels))
    (folder / "general").mkdir()
    for day, messages in days.items():
        (folder / "general" / f"{day.isoformat()}.json").write_text(json.dumps(messages))
    return folder


def _slack_message(user: str, day: dt.date, n: int, **extra: Any) -> dict[str, Any]:
    stamp = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp() + n
    return {"type": "message", "user": user, "text": "hello", "ts": f"{stamp:.6f}", **extra}


def test_bringing_in_a_member_who_stays_makes_an_advocate(community, tmp_path):
    days: dict[dt.date, list[dict[str, Any]]] = {}
    for n in range(1, 11):  # ann and bob are active 10 weeks, cid and dee are their invitees
        days[week(n)] = [_slack_message("U1", week(n), 1), _slack_message("U2", week(n), 2)]
    joins = {"U3": ("U1", week(2, 0)), "U4": ("U2", week(2, 1))}
    for invitee, (inviter, day) in joins.items():
        days.setdefault(day, []).append(
            _slack_message(invitee, day, 3, subtype="channel_join", inviter=inviter)
        )
    leave = week(3, 4)  # dee leaves after 10 days
    days[leave] = [_slack_message("U4", leave, 4, subtype="channel_leave")]
    do_import(community, _slack_export(tmp_path / "slack", days), recompute=False)

    do_recompute_tiers(community)

    ann = tier(community, "ann")
    assert ann.tier == "advocate"
    assert describe(ann.reasons[1]) == "brought in 1 member who stayed at least 30 days"
    assert tier(community, "bob").tier == "participant"  # his invitee left within 30 days
    assert tier(community, "dee").tier == "lapsed"


# --- lapsing: by silence, by leaving, by muting ----------------------------------------------


def test_silence_of_sixty_days_lapses(weekly, write_chatlab):
    chat = Chat()
    chat.say("ann", week(1))  # Wednesday 3 January
    chat.say("bob", week(10))
    chat.import_into(weekly, write_chatlab)
    last = dt.date(2024, 1, 3)

    do_recompute_tiers(weekly, as_of=last + dt.timedelta(days=59))
    assert tier(weekly, "ann").tier == "follower"

    do_recompute_tiers(weekly, as_of=last + dt.timedelta(days=60))
    ann = tier(weekly, "ann")
    assert ann.tier == "lapsed"
    assert describe(ann.reasons[0]) == "no activity for at least 60 days (last on 2024-01-03)"
    assert ann.action == "win_back"
    assert path_of(weekly, "ann") == [
        ("2024-01-07", None, "follower"),
        ("2024-03-03", "follower", "lapsed"),
    ]


def test_leaving_lapses_at_once_on_the_day(community, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", range(1, 6))
    chat.active_weeks("bob", range(1, 8))
    chat.leave("ann", week(6, 3))  # Thursday 8 February: mid-month, no review needed
    chat.import_into(community, write_chatlab)

    do_recompute_tiers(community)

    ann = tier(community, "ann")
    assert ann.tier == "lapsed"
    assert describe(ann.reasons[0]) == "left the community on 2024-02-08"
    assert path_of(community, "ann")[-1] == ("2024-02-08", "participant", "lapsed")
    funnel = {row["tier"]: row["count"] for row in tier_funnel(community)}
    assert funnel["lapsed"] == 1 and funnel["participant"] == 1


def test_muting_lapses(community, tmp_path):
    csv = tmp_path / "group.csv"
    csv.write_text(
        "message_id,member_id,member_name,time,kind\n"
        "1,u1,Ann,2024-01-03T12:00:00Z,message\n"
        "2,u1,Ann,2024-01-10T12:00:00Z,message\n"
        "3,u1,Ann,2024-01-17T12:00:00Z,message\n"
        "4,u2,Bob,2024-01-24T12:00:00Z,message\n"
        "5,u1,Ann,2024-01-24T13:00:00Z,mute\n",
        encoding="utf-8",
    )
    do_import(community, csv, recompute=False)

    do_recompute_tiers(community)

    ann = tier(community, "ann")
    assert ann.tier == "lapsed"
    assert describe(ann.reasons[0]).startswith("muted the community on 2024-01-24")
    assert path_of(community, "ann") == [
        ("2024-01-07", None, "follower"),
        ("2024-01-21", "follower", "participant"),
        ("2024-01-24", "participant", "lapsed"),
    ]


# --- roles and bots ---------------------------------------------------------------------------


def test_staff_get_a_tier_but_stay_out_of_the_funnel_and_bots_get_none(community, write_chatlab):
    chat = Chat()
    chat.member("fay", role="owner")
    chat.active_weeks("fay", range(1, 5))
    chat.active_weeks("ann", range(1, 5))
    chat.say("bot", week(2))
    chat.import_into(community, write_chatlab)
    Member.objects.filter(display_name="Bot").update(is_bot=True)

    do_recompute_tiers(community)

    fay = tier(community, "fay")
    assert (fay.tier, fay.is_staff) == ("participant", True)
    assert not MemberTier.objects.filter(member__display_name="Bot").exists()
    funnel = {row["tier"]: row for row in tier_funnel(community)}
    assert funnel["participant"]["count"] == 1 and funnel["participant"]["share"] == 1.0
    assert funnel["participant"]["staff"] == 1
    assert funnel["staff"]["count"] == 1 and funnel["bots"]["count"] == 1
    assert all(flow["count"] == 1 for flow in monthly_tier_flows(community))  # ann only

    # A role given later by an operator moves the member out of the figures on the next run.
    Member.objects.filter(display_name="Ann").update(role="operator")
    do_recompute_tiers(community)
    assert tier(community, "ann").is_staff


# --- upgrades at once, downgrades at the monthly review ---------------------------------------


def test_upgrades_apply_at_once_and_downgrades_wait_for_the_month_review(community, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", [1, 2, 3])  # participant on Sunday 21 January
    chat.active_weeks("bob", [16])  # keeps the data going to 17 April
    chat.import_into(community, write_chatlab)

    do_recompute_tiers(community)

    # Silent since 17 January: 60 days later (Sunday 17 March) ann lapses, but a downgrade
    # waits for the first evaluation of the next month, Sunday 7 April.
    assert path_of(community, "ann") == [
        ("2024-01-07", None, "follower"),
        ("2024-01-21", "follower", "participant"),
        ("2024-04-07", "participant", "lapsed"),
    ]

    do_update_tier_policy(community, downgrade_cadence="week")
    assert path_of(community, "ann")[-1] == ("2024-03-17", "participant", "lapsed")


def test_a_waiting_downgrade_is_explained(community, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", [1, 2, 3])
    chat.active_weeks("bob", [12])  # data ends Wednesday 20 March
    chat.import_into(community, write_chatlab)

    do_recompute_tiers(community)

    ann = tier(community, "ann")
    assert ann.tier == "participant"
    assert describe(ann.reasons[0]) == (
        "kept as participant until the review on 2024-04-07 (tiers go down only at the review); "
        "activity now matches lapsed"
    )


def test_monthly_flows_show_new_moves_lapses_and_returns(weekly, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", [1, 2, 3])
    chat.say("ann", week(16))  # back in April after lapsing in March
    chat.say("bob", week(2))
    chat.import_into(weekly, write_chatlab)

    do_recompute_tiers(weekly)

    flows = {
        (f["month"], f["from_tier"], f["to_tier"], f["kind"]): f["count"]
        for f in monthly_tier_flows(weekly)
    }
    assert flows == {
        ("2024-01", "new", "follower", "new"): 2,
        ("2024-01", "follower", "participant", "up"): 1,
        ("2024-03", "participant", "lapsed", "lapsed"): 1,
        ("2024-03", "follower", "lapsed", "lapsed"): 1,
        ("2024-04", "lapsed", "follower", "came_back"): 1,
    }


# --- at risk -------------------------------------------------------------------------------


def test_a_participant_whose_activity_fell_for_weeks_is_at_risk(weekly, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", range(1, 9), per_week=6)  # six a week for eight weeks
    chat.active_weeks("ann", [9, 11])  # then one a week, twice, in four weeks
    chat.active_weeks("bob", range(1, 13), per_week=3)  # steady
    chat.say("cid", sunday(12))
    chat.import_into(weekly, write_chatlab)

    do_recompute_tiers(weekly)

    ann = tier(weekly, "ann")
    assert ann.at_risk and ann.action == "check_in"
    assert describe_risk(ann.risk) == (
        "contributions fell to 0.5 a week over the last 4 weeks, from 6 a week in the 8 weeks "
        "before; 3 of the last 3 weeks were low"
    )
    assert not tier(weekly, "bob").at_risk
    assert [state.member.display_name for state in members_at_risk(weekly)] == ["Ann"]


def test_one_quiet_week_is_not_a_risk(weekly, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", range(1, 12), per_week=4)
    chat.say("ann", week(12))  # one slow week after eleven busy ones
    chat.say("cid", sunday(12))
    chat.import_into(weekly, write_chatlab)

    do_recompute_tiers(weekly)

    assert not tier(weekly, "ann").at_risk


# --- policy ----------------------------------------------------------------------------------


def test_a_policy_change_moves_members_and_is_audited(weekly, write_chatlab):
    chat = Chat()
    chat.active_weeks("ann", [1, 5])
    chat.import_into(weekly, write_chatlab)
    do_recompute_tiers(weekly)
    assert tier(weekly, "ann").tier == "follower"

    do_update_tier_policy(weekly, participant_min_weeks="2")

    assert tier(weekly, "ann").tier == "participant"
    entry = AuditEntry.objects.get(action="tiers.update_policy")
    assert entry.details == {
        "before": {"participant_min_weeks": 3},
        "after": {"participant_min_weeks": 2},
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"window_weeks": 0}, "window_weeks"),
        ({"lapse_days": "soon"}, "lapse_days"),
        ({"advocate_active_share": 120}, "advocate_active_share"),
        ({"downgrade_cadence": "daily"}, "downgrade_cadence"),
        ({"commitment_weights": {"like": 1}}, "commitment_weights"),
        ({"commitment_weights": {"reply": -2}}, "commitment_weights.reply"),
        ({"risk_min_weekly": "nan"}, "risk_min_weekly"),
        ({"participant_min_weeks": 14}, "participant_min_weeks"),
        ({"lapse_days": 30, "flavour": "sweet"}, "flavour"),
        ({"lapse_days": True}, "lapse_days"),
    ],
)
def test_invalid_policy_values_name_the_field_and_change_nothing(
    weekly, write_chatlab, values, field
):
    chat = Chat()
    chat.active_weeks("ann", [1, 5])
    chat.import_into(weekly, write_chatlab)
    do_recompute_tiers(weekly)
    before = table_counts()
    policy_before = TierPolicy.objects.filter(community=weekly).values().get()

    with pytest.raises(TierPolicyError) as raised:
        do_update_tier_policy(weekly, **values)

    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    assert table_counts() == before
    assert TierPolicy.objects.filter(community=weekly).values().get() == policy_before


def test_weights_can_be_written_as_text_and_unchanged_values_change_nothing(weekly):
    policy = do_update_tier_policy(weekly, commitment_weights="message=1, reply=3, host=20")
    assert policy.commitment_weights == {
        "message": 1,
        "reply": 3,
        "host": 20,
        "speak": 20,
        "attend": 5,
        "testimonial": 15,
    }
    entries = AuditEntry.objects.count()
    do_update_tier_policy(weekly, commitment_weights={"reply": 3, "host": 20})
    assert AuditEntry.objects.count() == entries


# --- history and incremental runs -------------------------------------------------------------


def _snapshot(community) -> tuple[list[tuple], list[tuple]]:
    tiers = sorted(
        MemberTier.objects.filter(community=community).values_list(
            "member_id", "tier", "since", "reasons", "progress", "at_risk", "risk", "is_staff"
        )
    )
    changes = sorted(
        TierChange.objects.filter(community=community).values_list(
            "member_id", "changed_on", "from_tier", "to_tier", "reasons"
        )
    )
    return tiers, changes


def test_incremental_run_replays_only_touched_members_and_matches_a_full_run(
    community, write_chatlab
):
    first = Chat()
    for name in ("ann", "bob", "cid", "dee"):
        first.active_weeks(name, [1, 3, 6])
    first.say("eve", week(8))
    first.import_into(community, write_chatlab, name="first")
    do_recompute_tiers(community)

    second = Chat()  # a later export: ann answers bob on the same last day, dee comes back
    question = second.say("bob", week(8), text="q?")
    second.say("ann", week(8), reply_to=question)
    second.say("dee", week(2))
    second.messages = [dict(m, platformMessageId=f"s{i}") for i, m in enumerate(second.messages)]
    second.messages[1]["replyToMessageId"] = "s0"
    second.import_into(community, write_chatlab, name="second")

    result = do_recompute_tiers(community)

    assert (result.full, result.evaluated) == (False, 3)
    incremental = _snapshot(community)
    assert do_recompute_tiers(community, full=True).evaluated == 5
    assert _snapshot(community) == incremental


def test_time_moving_on_replays_members_who_are_not_lapsed(weekly, write_chatlab):
    chat = Chat()
    chat.say("ann", week(1))
    chat.say("bob", week(2))
    chat.import_into(weekly, write_chatlab, name="one")
    do_recompute_tiers(weekly, as_of=week(20))  # both lapsed by then
    later = Chat()
    later.say("cid", week(21))
    later.messages[0]["platformMessageId"] = "later"
    later.import_into(weekly, write_chatlab, name="two")

    result = do_recompute_tiers(weekly)

    assert result.evaluated == 1  # lapsed members cannot move without new activity


# --- the real Houston Slack export -------------------------------------------------------------


@pytest.mark.slow
def test_houston_slack_export_gets_a_sensible_distribution(community):
    """A 2015-16 meetup group's Slack: organisers carry it (the advocates are all staff; the
    most active ordinary members reach 7 of 13 weeks, one short), a few participants, and the
    people who joined for one meetup split between followers and lapsed."""
    do_import(community, SHARED_DATA / "houstondatavis-slack-2016", recompute=False)

    result = do_recompute_tiers(community)

    assert result.as_of == dt.date(2016, 7, 27)  # the export's last day, not today
    funnel = {row["tier"]: row for row in tier_funnel(community)}
    members = sum(funnel[t]["count"] for t in ("advocate", "participant", "follower", "lapsed"))
    assert result.evaluated == members + funnel["staff"]["count"] == 71
    assert funnel["advocate"]["staff"] >= 2 and funnel["advocate"]["count"] == 0
    assert 1 <= funnel["participant"]["count"] < funnel["follower"]["count"]
    assert 0.3 < funnel["follower"]["share"] < 0.7
    assert 0.3 < funnel["lapsed"]["share"] < 0.7
    kinds = {flow["kind"] for flow in monthly_tier_flows(community, months=24)}
    assert kinds == {"new", "up", "down", "lapsed", "came_back"}
    helpers = MemberTier.objects.filter(community=community, tier="advocate")
    assert any(reason["code"] in ("helped", "invited") for s in helpers for reason in s.reasons)


def test_replies_whose_questions_arrive_later_count_once_they_do(weekly, write_chatlab):
    answers = Chat()
    answers.active_weeks("ann", range(1, 9))
    questions = Chat()
    for i in range(5):
        questions.say(f"asker{i}", week(2))
    questions.messages = [
        dict(m, platformMessageId=f"q{i}") for i, m in enumerate(questions.messages)
    ]
    for i in range(5):  # the replies come first, in an export that lacks the questions
        answers.say("ann", week(2), reply_to=f"q{i}")
    answers.import_into(weekly, write_chatlab, name="answers")
    do_recompute_tiers(weekly)
    assert tier(weekly, "ann").tier == "participant"

    questions.import_into(weekly, write_chatlab, name="questions")
    result = do_recompute_tiers(weekly)

    assert not result.full
    assert tier(weekly, "ann").tier == "advocate"


def test_a_time_zone_change_recomputes_everything(weekly, write_chatlab):
    from shequn.communities.services import do_update_community_profile

    chat = Chat()
    chat.active_weeks("ann", [1, 2, 3])
    chat.import_into(weekly, write_chatlab)
    do_recompute_tiers(weekly)
    do_update_community_profile(weekly, time_zone="Asia/Shanghai")

    result = do_recompute_tiers(weekly)

    assert result.full and tier(weekly, "ann").tier == "participant"


class _Hosted:
    """Stands in for the activities app's provider: ann hosted two meetups in week 3."""

    code = "hosted"
    weight_kind = "host"

    def acts(self, community, member_ids, until):
        ann = Member.objects.get(community=community, display_name="Ann")
        if member_ids is None or ann.pk in member_ids:
            yield (ann.pk, week(3), 2)

    def describe(self, reason):
        return f"hosted {reason['count']} activities"


def test_advocacy_signal_providers_extend_the_rules(weekly, write_chatlab):
    from shequn.tiers.signals import advocacy_signal, register_advocacy_signal

    real = advocacy_signal("hosted")  # the activities app's provider, put back afterwards

    chat = Chat()
    chat.active_weeks("ann", [1, 2, 4, 5, 6, 7, 8])  # seven weeks, plus week 3's hosting
    chat.active_weeks("bob", [1])
    chat.import_into(weekly, write_chatlab)
    do_update_tier_policy(weekly, commitment_weights={"message": 1, "reply": 2, "host": 20})
    register_advocacy_signal(_Hosted())
    try:
        do_recompute_tiers(weekly, full=True)

        ann = tier(weekly, "ann")
        assert ann.tier == "advocate"
        assert [describe(reason) for reason in ann.reasons][1:] == ["hosted 2 activities"]
        assert ann.reasons[0]["weeks"] == 8  # hosting is a contribution: week 3 is active
    finally:
        register_advocacy_signal(real)
