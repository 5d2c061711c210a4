"""The charter (社群公约): machine rules on imported chat data (flood, spam, banned words with
Chinese segmentation, off-hours, operator reports), rewards (welcoming newcomers, fast answers),
idempotency, penalties and their reversal through the ledger, the dry run, and the contracts
other parts of shequn read — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import table_counts as shequn_counts

from shequn.audit.models import AuditEntry
from shequn.charter.models import Acknowledgement, CharterRule, Reward, Violation
from shequn.charter.selectors import (
    charter_in_force,
    charter_status,
    current_charter_text,
    dry_run,
    mute_recommendations,
    violation_count,
)
from shequn.charter.services import (
    CharterError,
    do_act_on_mute,
    do_check,
    do_decide_violation,
    do_delete_rule,
    do_disable_rule,
    do_enable_rule,
    do_report_violation,
    do_save_rule,
)
from shequn.communities.services import do_create_community
from shequn.interactions.models import InteractionEvent
from shequn.interactions.services import do_import
from shequn.members.models import Member, MemberMerge
from shequn.members.services import do_merge_members, do_unmerge
from shequn.rewards.models import PointEntry
from shequn.rewards.selectors import member_balance

pytestmark = pytest.mark.django_db


def table_counts() -> dict[str, int]:
    """Row counts of shequn's tables and the charter's: equal means nothing was written."""
    from django.apps import apps

    charter = {
        m._meta.label: m.objects.count() for m in apps.get_app_config("charter").get_models()
    }
    return {**shequn_counts(), **charter}


START = dt.datetime(2024, 3, 4, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
COLUMNS = ["message_id", "member_id", "member_name", "time", "kind", "text", "reply_to"]
COLUMNS += ["target_member_id", "channel", "role"]


def at(seconds: float) -> str:
    return (START + dt.timedelta(seconds=seconds)).isoformat()


def say(key: str, who: str, seconds: float, text: str = "hello there", **more: str) -> dict:
    return {"message_id": key, "member_id": who, "time": at(seconds), "text": text, **more}


def join(key: str, who: str, seconds: float) -> dict:
    return {"message_id": key, "member_id": who, "time": at(seconds), "kind": "join"}


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"member_name": row["member_id"].title(), "channel": "group", **row})
    return path


def import_rows(
    community, tmp_path: Path, rows: list[dict[str, Any]], name: str = "chat", *, check=True
):
    """Import rows; the import itself runs the check, unless ``check`` is false."""
    path = write_csv(tmp_path / f"{name}.csv", rows)
    return do_import(community, path, format_name="csv", recompute=check)


def member(community, name: str) -> Member:
    return Member.objects.get(community=community, display_name=name.title())


def rule(community, kind: str, params: dict | None = None, **values: Any) -> CharterRule:
    """A switched-on rule judging all events (imported history included)."""
    return do_save_rule(
        community,
        {
            "key": values.pop("key", kind.replace("_", "-")),
            "kind": kind,
            "params": params or {},
            "enabled": True,
            "applies_from": None,
            **values,
        },
        actor=None,
    )


@pytest.fixture
def club(db):
    return do_create_community(slug="club", name="Club", time_zone="Asia/Shanghai")


def flagged(rule_: CharterRule) -> list[tuple[str, str]]:
    return sorted(
        (v.member.display_name, v.event.source_id if v.event else "")
        for v in Violation.objects.filter(rule=rule_).select_related("member", "event")
    )


# ------------------------------------------------------------------------------ flood
def test_flood_flags_one_burst_per_member_and_exempts_staff_and_bots(club, tmp_path):
    flood = rule(club, "flood", {"messages": 3, "seconds": 60}, consequence="penalty", points=5)
    rows = [say(f"a{n}", "ann", n * 5) for n in range(6)]  # 6 in 25 s: 3 beyond the 3rd
    rows += [say(f"a-late{n}", "ann", 600 + n * 40) for n in range(4)]  # paced: never 4 in 60 s
    rows += [say(f"b{n}", "bob", n * 5) for n in range(3)]  # exactly 3: fine
    rows += [say(f"o{n}", "olga", n * 2, role="operator") for n in range(8)]  # staff
    rows += [say(f"r{n}", "robot", n) for n in range(8)]
    import_rows(club, tmp_path, rows, check=False)
    Member.objects.filter(display_name="Robot").update(is_bot=True)

    result = do_check(club)

    assert flagged(flood) == [("Ann", "a3")]
    violation = Violation.objects.get(rule=flood)
    assert violation.detail["flagged"] == 3
    assert violation.window_end == START + dt.timedelta(seconds=25)
    assert result.violations == 1 and result.points_taken == -5
    assert member_balance(member(club, "ann")) == -5


def test_a_burst_continued_by_a_later_import_is_one_violation(club, tmp_path):
    flood = rule(club, "flood", {"messages": 2, "seconds": 30})
    import_rows(club, tmp_path, [say(f"a{n}", "ann", n * 5) for n in range(4)], "first")
    do_check(club)
    # the next export continues the same burst, then a new one an hour later
    later = [say(f"a{n}", "ann", n * 5) for n in range(4, 8)]
    later += [say(f"x{n}", "ann", 3600 + n) for n in range(3)]
    import_rows(club, tmp_path, later, "second")  # the import runs the check itself

    assert flagged(flood) == [("Ann", "a2"), ("Ann", "x2")]


# ------------------------------------------------------------------------------- spam
def test_spam_flags_a_newcomers_links_and_repeats_but_not_allowed_sites(club, tmp_path):
    spam = rule(club, "spam", {"newcomer_days": 7, "allowed_domains": "club.example", "copies": 3})
    day = 86400
    rows = [
        say("old0", "olive", 0, "I have been here for ages"),
        say("old1", "olive", 10 * day, "see https://shop.example/deal for prices"),  # not new
        join("j1", "nina", 9 * day),
        say("n1", "nina", 9 * day + 60, "cheap watches at https://spam.example/x"),
        say("n2", "nina", 9 * day + 120, "our rules: https://www.club.example/rules"),
        say("n3", "nina", 9 * day + 180, "add me on WeChat for a gift"),
        say("n4", "nina", 9 * day + 240, "add me on WeChat for a gift"),
        say("n5", "nina", 9 * day + 300, "add me on WeChat for a gift"),
        say("n6", "nina", 9 * day + 360, "thanks"),
        say("n7", "nina", 9 * day + 420, "thanks"),
        say("n8", "nina", 9 * day + 480, "thanks"),  # short texts may repeat
        say("n9", "nina", 17 * day, "visit www.spam.example now"),  # no longer a newcomer
    ]
    import_rows(club, tmp_path, rows)

    do_check(club)

    assert flagged(spam) == [("Nina", "n1"), ("Nina", "n5")]
    by_event = {v.event.source_id: v.detail for v in Violation.objects.filter(rule=spam)}
    assert by_event["n1"]["links"] == ["spam.example"]
    assert by_event["n5"]["copy"] == 3


def test_a_member_without_a_join_event_is_new_from_their_first_message(club, tmp_path):
    spam = rule(club, "spam", {"newcomer_days": 3, "copies": 0})
    rows = [
        say("p1", "pat", 0, "hi all"),
        say("p2", "pat", 3600, "https://spam.example"),
        say("p3", "pat", 5 * 86400, "https://spam.example/again"),
    ]
    import_rows(club, tmp_path, rows)
    do_check(club)
    assert flagged(spam) == [("Pat", "p2")]


# ------------------------------------------------------------------------ banned words
def test_banned_words_match_chinese_inside_sentences_but_not_across_word_boundaries(club, tmp_path):
    banned = rule(club, "banned_words", {"words": "大麻\n发票\nass\nspam"})
    rows = [
        say("c1", "ann", 0, "他在群里卖大麻，大家小心"),  # unsegmented sentence: found
        say("c2", "bob", 10, "这是个大麻烦"),  # 大/麻烦: no 大麻 here
        say("c3", "cid", 20, "代开发票联系我"),  # 代/开发票 holds the word 发票
        say("c4", "dee", 30, "This class is great"),  # "ass" inside "class"
        say("c5", "eve", 40, "you ASS!"),
        say("c6", "fay", 50, "spam链接在这里"),  # a Latin word next to Chinese
        say("c7", "gus", 60, "spammers are annoying"),
    ]
    import_rows(club, tmp_path, rows)

    do_check(club)

    assert flagged(banned) == [("Ann", "c1"), ("Cid", "c3"), ("Eve", "c5"), ("Fay", "c6")]
    words = {v.event.source_id: v.detail["words"] for v in Violation.objects.filter(rule=banned)}
    assert words == {"c1": ["大麻"], "c3": ["发票"], "c5": ["ass"], "c6": ["spam"]}


def test_a_long_word_list_is_matched_without_the_sql_prefilter(club, tmp_path):
    words = [f"filler{n}" for n in range(80)] + ["违禁词"]
    banned = rule(club, "banned_words", {"words": words})
    import_rows(club, tmp_path, [say("w1", "ann", 0, "这里有违禁词吗"), say("w2", "bob", 5)])
    do_check(club)
    assert flagged(banned) == [("Ann", "w1")]


def test_banned_words_in_other_scripts_match_in_any_case(club, tmp_path):
    # SQLite's LIKE ignores case for ASCII letters only: Cyrillic, Greek or accented words
    # must still be found whatever their case.
    banned = rule(club, "banned_words", {"words": ["спам", "Ärger"]})
    rows = [
        say("r1", "ann", 0, "Это СПАМ, не читайте"),
        say("r2", "bob", 10, "kein ärger bitte"),
        say("r3", "cid", 20, "ÄRGER!"),
        say("r4", "dee", 30, "спаминг"),  # a longer word: no match
    ]
    import_rows(club, tmp_path, rows)
    do_check(club)
    assert flagged(banned) == [("Ann", "r1"), ("Bob", "r2"), ("Cid", "r3")]


def test_a_greek_banned_word_ending_in_a_final_sigma_is_found_in_capitals(club, tmp_path):
    # 'ΛΌΓΟΣ' is 'λόγος' in lower case to Python, 'λόγοσ' to PostgreSQL's ILIKE.
    banned = rule(club, "banned_words", {"words": ["λόγος"]})
    import_rows(club, tmp_path, [say("g1", "ann", 0, "ΑΥΤΟΣ Ο ΛΌΓΟΣ ΕΙΝΑΙ")])
    do_check(club)
    assert flagged(banned) == [("Ann", "g1")]


# -------------------------------------------------------------------------- off hours
def test_off_hours_flag_one_violation_per_member_per_local_night(club, tmp_path):
    quiet = rule(club, "off_hours", {"start": "23:00", "end": "07:00"}, consequence="mute")
    evening = dt.datetime(2024, 3, 4, 22, 30, tzinfo=club.zoneinfo)

    def local(key: str, who: str, minutes: int) -> dict:
        moment = evening + dt.timedelta(minutes=minutes)
        return {"message_id": key, "member_id": who, "time": moment.isoformat(), "text": "hi"}

    rows = [
        local("e1", "ann", 0),  # 22:30: fine
        local("e2", "ann", 45),  # 23:15
        local("e3", "ann", 200),  # 01:50
        local("e4", "bob", 8 * 60 + 40),  # 07:10: fine
        local("e5", "bob", 24 * 60 + 60),  # 23:30 the next night
    ]
    import_rows(club, tmp_path, rows)

    do_check(club)

    assert flagged(quiet) == [("Ann", "e2"), ("Bob", "e5")]
    ann = Violation.objects.get(rule=quiet, member__display_name="Ann")
    assert ann.detail["messages"] == 2 and ann.detail["night"] == "2024-03-04"
    recommended = mute_recommendations(club)
    # the most flagged first, then the latest
    assert [(r.member.display_name, r.violations) for r in recommended] == [("Bob", 1), ("Ann", 1)]

    assert do_act_on_mute(member(club, "ann"), "muted", actor=None) == 1
    assert [r.member.display_name for r in mute_recommendations(club)] == ["Bob"]
    with pytest.raises(CharterError, match="no mute recommendation"):
        do_act_on_mute(member(club, "ann"), "dismissed", actor=None)


# ---------------------------------------------------------------------------- rewards
def test_welcoming_a_newcomer_rewards_the_first_other_member_within_the_days(club, tmp_path):
    welcome = rule(club, "welcome", {"days": 7}, points=3)
    day = 86400
    rows = [
        say("s0", "olive", 0, "hi"),
        join("j1", "nina", day),
        say("n1", "nina", day + 60, "hello, I am new"),
        say("n2", "nina", day + 90, "me again", reply_to="n1"),  # her own reply: not a welcome
        say("w1", "bob", day + 600, "welcome Nina!", reply_to="n1"),
        say("w2", "cid", day + 900, "welcome!", reply_to="n1"),  # second: no reward
        join("j2", "ned", 2 * day),
        say("m1", "ned", 2 * day + 60, "hi"),
        say("late", "bob", 10 * day, "oh hi Ned", reply_to="m1"),  # after 7 days: no reward
    ]
    import_rows(club, tmp_path, rows)

    do_check(club)

    rewards = list(Reward.objects.filter(rule=welcome).select_related("member", "event"))
    assert [(r.member.display_name, r.event.source_id) for r in rewards] == [("Bob", "w1")]
    assert member_balance(member(club, "bob")) == 3
    entry = PointEntry.objects.get(member=member(club, "bob"))
    assert entry.idempotency_key == f"charter-reward:{welcome.pk}:{rewards[0].event_id}"
    assert entry.rule_key == "charter:welcome"


def test_fast_answers_are_rewarded_once_per_question(club, tmp_path):
    rule(club, "fast_answer", {"minutes": 60}, points=2)
    rows = [
        say("q1", "ann", 0, "How do I sign up for the meetup?"),
        say("q1a", "ann", 60, "anyone?", reply_to="q1"),  # her own follow-up
        say("q1b", "bob", 30 * 60, "On the events page", reply_to="q1"),
        say("q1c", "cid", 31 * 60, "yes there", reply_to="q1b"),  # in the thread, second
        say("q2", "dee", 0, "Where is the library？"),
        say("q2a", "eve", 2 * 3600, "Main street", reply_to="q2"),  # too late
        say("s1", "fay", 0, "Nice weather today"),  # not a question
        say("s1a", "gus", 60, "indeed", reply_to="s1"),
    ]
    import_rows(club, tmp_path, rows)

    do_check(club)
    do_check(club, full=True)

    rewards = [(r.member.display_name, r.event.source_id) for r in Reward.objects.all()]
    assert rewards == [("Bob", "q1b")]
    assert Reward.objects.get().detail == {"question": InteractionEvent.objects.get(
        source_id="q1").pk, "minutes": 30.0}  # fmt: skip
    assert member_balance(member(club, "bob")) == 2


# ------------------------------------------------------------------------- idempotency
def test_importing_and_checking_twice_never_records_twice(club, tmp_path):
    banned = rule(club, "banned_words", {"words": ["广告"]}, consequence="penalty", points=4)
    rows = [say("x1", "ann", 0, "发广告的人请离开"), say("x2", "bob", 5, "好的")]
    path = write_csv(tmp_path / "chat.csv", rows)
    do_import(club, path, format_name="csv")
    do_import(club, path, format_name="csv")
    do_check(club)
    do_check(club, full=True)

    assert Violation.objects.filter(rule=banned).count() == 1
    assert PointEntry.objects.filter(member=member(club, "ann")).count() == 1
    assert member_balance(member(club, "ann")) == -4
    # an overturned violation is never found again
    do_decide_violation(Violation.objects.get(), "overturned", note="a quote", actor=None)
    do_check(club, full=True)
    assert Violation.objects.count() == 1
    assert member_balance(member(club, "ann")) == 0


def test_a_new_rule_judges_from_the_day_it_is_made_unless_told_otherwise(club, tmp_path):
    import_rows(club, tmp_path, [say("x1", "ann", 0, "广告")])
    default = do_save_rule(
        club, {"key": "ads", "kind": "banned_words", "params": {"words": ["广告"]}}, actor=None
    )
    assert default.enabled is False and default.applies_from is not None
    do_enable_rule(default, actor=None)
    do_check(club)
    assert not Violation.objects.exists()  # 2024 is before the rule existed

    do_save_rule(club, {"applies_from": ""}, rule=default, actor=None)  # judge all history
    do_check(club)
    assert flagged(default) == [("Ann", "x1")]


def test_a_disabled_rule_judges_nothing_and_switching_it_on_catches_up(club, tmp_path):
    banned = rule(club, "banned_words", {"words": ["广告"]})
    do_disable_rule(banned, actor=None)
    import_rows(club, tmp_path, [say("x1", "ann", 0, "广告")])
    assert not Violation.objects.exists()
    do_enable_rule(banned, actor=None)
    do_check(club)
    assert flagged(banned) == [("Ann", "x1")]
    with pytest.raises(CharterError, match="already switched on"):
        do_enable_rule(banned, actor=None)


# ------------------------------------------------------------------ appeals and ledger
def test_overturning_reverses_the_penalty_and_the_balance_comes_back(club, tmp_path):
    banned = rule(club, "banned_words", {"words": ["spam"]}, consequence="penalty", points=10)
    import_rows(club, tmp_path, [say("x1", "ann", 0, "spam spam")])
    ann = member(club, "ann")
    assert member_balance(ann) == -10
    violation = Violation.objects.get(rule=banned)
    assert violation.penalty_entry.idempotency_key == f"charter-violation:{violation.pk}"
    assert violation.penalty_entry.source_event_id == violation.event_id

    upheld = do_decide_violation(violation, "upheld", actor=None)
    assert upheld.status == "upheld" and member_balance(ann) == -10
    with pytest.raises(CharterError, match="must not be empty"):
        do_decide_violation(violation, "overturned", note="  ", actor=None)
    overturned = do_decide_violation(violation, "overturned", note="it was a quote", actor=None)

    assert overturned.status == "overturned"
    assert member_balance(ann) == 0
    reversal = overturned.reversal_entry
    assert reversal.amount == 10 and reversal.reverses_id == violation.penalty_entry_id
    assert "it was a quote" in reversal.reason
    with pytest.raises(CharterError, match="final"):
        do_decide_violation(violation, "upheld", actor=None)
    assert PointEntry.objects.filter(member=ann).count() == 2
    actions = list(AuditEntry.objects.filter(action__startswith="charter.decide").values_list(
        "details__decision", flat=True))  # fmt: skip
    assert sorted(actions) == ["overturned", "upheld"]


def test_an_operator_reports_a_violation_once_per_message(club, tmp_path, make_account):
    operator = make_account("olga", club, "operator")
    reported = rule(club, "reported", consequence="penalty", points=7, name="Harassment")
    import_rows(club, tmp_path, [say("x1", "ann", 0, "rude words"), say("x2", "bob", 5)])
    ann, event = member(club, "ann"), InteractionEvent.objects.get(source_id="x1")

    violation = do_report_violation(reported, ann, event, note="insulted Bob", actor=operator)

    assert violation.reported_by == operator and violation.status == "open"
    assert member_balance(ann) == -7
    assert AuditEntry.objects.get(action="charter.report").actor == operator
    with pytest.raises(CharterError, match="already violation"):
        do_report_violation(reported, ann, event, note="again", actor=operator)
    with pytest.raises(CharterError, match="someone else"):
        do_report_violation(reported, member(club, "bob"), event, note="x", actor=operator)
    without_event = do_report_violation(reported, ann, note="in a private chat", actor=operator)
    assert without_event.event is None and member_balance(ann) == -14


def test_a_reward_rule_cannot_be_reported_and_a_switched_off_rule_neither(club, tmp_path):
    import_rows(club, tmp_path, [say("x1", "ann", 0)])
    welcome = rule(club, "welcome", points=1)
    with pytest.raises(CharterError, match="reward rule"):
        do_report_violation(welcome, member(club, "ann"), note="x")
    off = rule(club, "reported", key="off")
    do_disable_rule(off, actor=None)
    with pytest.raises(CharterError, match="switched off"):
        do_report_violation(off, member(club, "ann"), note="x")


# -------------------------------------------------------------------------- dry run
def test_the_dry_run_shows_what_a_rule_would_flag_and_writes_nothing(club, tmp_path):
    rows = [say(f"a{n}", "ann", n * 2, "spam here") for n in range(8)]
    rows += [say(f"b{n}", "bob", 100 + n * 2) for n in range(8)]
    rows += [say("old", "cid", -40 * 86400, "spam long ago")]  # outside the last 30 days
    import_rows(club, tmp_path, rows)
    before = table_counts()

    result = dry_run(
        club,
        {
            "kind": "banned_words",
            "params": {"words": "spam"},
            "consequence": "penalty",
            "points": 2,
        },
    )

    assert table_counts() == before
    assert result.total == 8 and result.points == -16
    assert [(m.display_name, m.count) for m in result.members] == [("Ann", 8)]
    assert result.examples[0].text == "spam here" and "spam" in result.examples[0].why
    flood = dry_run(club, {"kind": "flood", "params": {"messages": 5, "seconds": 60}}, days=7)
    assert sorted((m.display_name, m.count) for m in flood.members) == [("Ann", 1), ("Bob", 1)]
    assert table_counts() == before


def test_a_dry_run_of_a_changed_rule_counts_what_the_log_already_holds(club, tmp_path):
    banned = rule(club, "banned_words", {"words": ["spam"]})
    import_rows(club, tmp_path, [say("x1", "ann", 0, "spam"), say("x2", "bob", 9, "eggs")])
    result = dry_run(club, {"kind": "banned_words", "params": {"words": "spam, eggs"}}, rule=banned)
    assert result.total == 2 and result.already_recorded == 1


def test_a_dry_run_refuses_bad_values(club):
    with pytest.raises(CharterError) as problem:
        dry_run(club, {"kind": "flood", "params": {"messages": 0}}, days=0)
    assert "params.messages" in problem.value.problems
    with pytest.raises(CharterError) as problem:
        dry_run(club, {"kind": "flood"}, days=500)
    assert "days" in problem.value.problems


# -------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"kind": "flood", "params": {"messages": 0}}, "params.messages", "from 1 to 1000"),
        ({"kind": "flood", "params": {"messages": "five"}}, "params.messages", "whole number"),
        ({"kind": "flood", "params": {"burst": 3}}, "params.burst", "unknown parameter"),
        ({"kind": "banned_words", "params": {"words": []}}, "params.words", "at least one"),
        ({"kind": "off_hours", "params": {"start": "25:00"}}, "params.start", "23:00"),
        ({"kind": "off_hours", "params": {"start": "7:00", "end": "07:00"}}, "params.end",
         "differ"),
        ({"kind": "spam", "params": {"allowed_domains": "not a domain"}}, "params.allowed_domains",
         "domain"),
        ({"kind": "spam", "params": {"links": False, "copies": 0}}, "params.links", "nothing"),
        ({"kind": "shouting"}, "kind", "flood"),
        ({"kind": "flood", "consequence": "penalty", "points": 0}, "points", "at least 1"),
        ({"kind": "flood", "consequence": "warning", "points": 5}, "points", "warning"),
        ({"kind": "flood", "consequence": "reward", "points": 5}, "consequence", "must be one"),
        ({"kind": "welcome", "points": 0}, "points", "at least 1"),
        ({"kind": "flood", "key": "Bad Key"}, "key", "lower-case"),
        ({"kind": "flood", "applies_from": "yesterday"}, "applies_from", "date"),
        ({"kind": "flood", "colour": "red"}, "colour", "unknown field"),
    ],
)  # fmt: skip
def test_bad_rule_values_are_refused_naming_the_field_and_nothing_changes(
    club, values, field, words
):
    before = table_counts()
    with pytest.raises(CharterError) as problem:
        do_save_rule(club, {"key": "r1", **values}, actor=None)
    assert field in problem.value.problems, problem.value.problems
    assert words in problem.value.problems[field]
    assert table_counts() == before
    assert not CharterRule.objects.exists()


def test_keys_are_unique_and_a_rule_that_fired_is_switched_off_not_deleted(club, tmp_path):
    banned = rule(club, "banned_words", {"words": ["spam"]})
    with pytest.raises(CharterError, match="already used"):
        rule(club, "flood", key="banned-words")
    import_rows(club, tmp_path, [say("x1", "ann", 0, "spam")])
    with pytest.raises(CharterError, match="switch it off"):
        do_delete_rule(banned, actor=None)
    with pytest.raises(CharterError) as problem:
        do_save_rule(club, {"kind": "flood"}, rule=banned, actor=None)
    assert "kind" in problem.value.problems
    unused = rule(club, "flood")
    do_delete_rule(unused, actor=None)
    assert not CharterRule.objects.filter(key="flood").exists()
    assert AuditEntry.objects.filter(action="charter.rule.delete").count() == 1


def test_changing_parameters_keeps_the_others_and_judges_again(club, tmp_path):
    flood = rule(club, "flood", {"messages": 3, "seconds": 10})
    import_rows(club, tmp_path, [say(f"a{n}", "ann", n * 5) for n in range(5)])
    assert flagged(flood) == []  # 4 within 10 s never happens: 5 s apart
    changed = do_save_rule(club, {"params": {"seconds": 60}}, rule=flood, actor=None)
    assert changed.params == {"messages": 3, "seconds": 60} and changed.watermark == 0
    do_check(club)
    assert flagged(flood) == [("Ann", "a3")]
    update = AuditEntry.objects.get(action="charter.rule.update")
    assert update.details["changed"]["params"] == [
        {"messages": 3, "seconds": 10},
        {"messages": 3, "seconds": 60},
    ]


# ------------------------------------------------------------------- contracts
def test_violation_count_and_status_for_the_diagnosis(club, tmp_path):
    from shequn.charter.services import do_acknowledge, do_publish_charter

    assert current_charter_text(club) is None
    assert charter_status(club)["has_text"] is False
    do_publish_charter(club, "Be kind. No ads.", actor=None)
    assert charter_in_force(club) is False  # a text, but nobody looks at what people do
    banned = rule(club, "banned_words", {"words": ["ads"]})
    assert charter_in_force(club) is True
    import_rows(club, tmp_path, [say("x1", "ann", 0, "ads"), say("x2", "bob", 60, "ads")])
    do_acknowledge(member(club, "bob"), via="chat", actor=None)
    first, second = Violation.objects.filter(rule=banned).order_by("occurred_at")
    do_decide_violation(second, "overturned", note="a joke", actor=None)

    window = (START - dt.timedelta(days=1), START + dt.timedelta(days=1))
    assert violation_count(club, *window) == 1
    assert violation_count(club, START + dt.timedelta(seconds=1), window[1]) == 0
    status = charter_status(club, end=START + dt.timedelta(days=1))
    assert status == {
        "has_text": True,
        "version": 1,
        "acknowledged": 1,
        "rules_enabled": 1,
        "violations_30d": 1,
        "decided_30d": 0,  # decided today, not in 2024
        "open_violations": 1,
    }
    assert charter_status(club)["decided_30d"] == 1
    assert current_charter_text(club) == "Be kind. No ads."
    assert first.status == "open"


def test_merging_members_keeps_their_violations_and_undoing_it_gives_them_back(club, tmp_path):
    from shequn.charter.services import do_acknowledge, do_publish_charter

    banned = rule(club, "banned_words", {"words": ["spam"]}, consequence="penalty", points=1)
    import_rows(club, tmp_path, [say("x1", "ann", 0, "spam"), say("x2", "annie", 5, "hi")])
    ann, annie = member(club, "ann"), member(club, "annie")
    version = do_publish_charter(club, "No spam.", None)
    do_acknowledge(annie, version, at=dt.datetime(2024, 3, 2, tzinfo=dt.UTC))
    do_acknowledge(ann, version, at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    do_merge_members(ann, annie, actor=None)
    assert Violation.objects.get(rule=banned).member == annie
    assert member_balance(annie) == -1
    # one acknowledgement of the version is left: the earlier one, ann's
    (kept,) = Acknowledgement.objects.all()
    assert kept.member == annie and kept.acknowledged_at.day == 1

    restored = do_unmerge(MemberMerge.objects.get())

    assert Violation.objects.get(rule=banned).member == restored
    assert (member_balance(restored), member_balance(annie)) == (-1, 0)
    days = dict(Acknowledgement.objects.values_list("member", "acknowledged_at__day"))
    assert days == {restored.pk: 1, annie.pk: 2}


def test_every_operator_action_is_audited_with_its_actor(club, tmp_path, make_account):
    from shequn.charter.services import (
        do_acknowledge,
        do_import_acknowledgements,
        do_publish_charter,
    )

    olga = make_account("olga", club, "operator")
    import_rows(club, tmp_path, [say("x1", "ann", 0, "spam"), say("x2", "bob", 5, "hi")])
    do_publish_charter(club, "No spam.", olga)
    do_acknowledge(member(club, "ann"), via="chat", actor=olga)
    do_import_acknowledgements(club, "member\nBob\n", actor=olga)
    banned = do_save_rule(
        club,
        {"key": "spam", "kind": "banned_words", "params": {"words": "spam"}, "consequence": "mute",
         "applies_from": None},
        actor=olga,
    )  # fmt: skip
    do_enable_rule(banned, actor=olga)
    do_check(club, actor=olga)
    violation = Violation.objects.get()
    do_act_on_mute(member(club, "ann"), "dismissed", actor=olga)
    do_decide_violation(violation, "upheld", actor=olga)
    do_disable_rule(banned, actor=olga)
    rude = rule(club, "reported", key="rude")
    do_report_violation(rude, member(club, "bob"), note="rude", actor=olga)

    entries = AuditEntry.objects.filter(action__startswith="charter.").order_by("id")
    assert [entry.action for entry in entries] == [
        "charter.publish",
        "charter.acknowledge",
        "charter.acknowledgements_import",
        "charter.rule.create",
        "charter.rule.enable",
        "charter.check",
        "charter.mute",
        "charter.decide",
        "charter.rule.disable",
        "charter.rule.create",  # the reported rule, made by the test helper without an actor
        "charter.report",
    ]
    assert {entry.actor for entry in entries if entry.details.get("key") != "rude"} == {olga}
    check = entries.get(action="charter.check")
    assert check.details["rules"] == {"spam": {"violations": 1, "rewards": 0, "points": 0}}
    assert entries.get(action="charter.decide").details["decision"] == "upheld"
