"""Points ledger, earning rules, levels, leaderboards, TOML rules files and the CLI."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from click.testing import CliRunner
from conftest import table_counts
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError

from shequn.audit.models import AuditEntry
from shequn.cli import cli
from shequn.communities.services import do_create_community, get_or_create_channel
from shequn.interactions.models import EventKind, InteractionEvent
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member
from shequn.members.services import do_merge_members, do_unmerge
from shequn.rewards.levels import LevelCurve
from shequn.rewards.models import (
    LedgerIsAppendOnly,
    LevelUp,
    MemberPoints,
    PointEntry,
    PointRule,
)
from shequn.rewards.rules import RuleError
from shequn.rewards.selectors import (
    community_rules,
    leaderboard,
    level_ups,
    member_balance,
    member_level,
    points_history,
)
from shequn.rewards.services import (
    KeyedEntry,
    PointsError,
    do_apply_preset,
    do_award_points,
    do_delete_rule,
    do_import_rules_toml,
    do_keyed_entries,
    do_keyed_entry,
    do_manual_entry,
    do_reverse_entry,
    do_save_level_scheme,
    do_save_rule,
    export_rules_toml,
    follow_event_members,
    reassign_entries,
    rule_values,
)

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
_ids = itertools.count(1)


@pytest.fixture
def chat(community):
    channel, _created = get_or_create_channel(
        community, platform="telegram", external_id="g1", name="Group"
    )
    return channel


def person(community, name: str, **extra) -> Member:
    return Member.objects.create(community=community, display_name=name, **extra)


def event(
    channel,
    member,
    kind: str,
    at: dt.datetime,
    *,
    source_id: str | None = None,
    parent: str | None = None,
    target=None,
    content_type: str = "",
    attributes: dict | None = None,
) -> InteractionEvent:
    community = channel.community
    return InteractionEvent.objects.create(
        community=community,
        channel=channel,
        member=member,
        target_member=target,
        kind=kind,
        occurred_at=at,
        day=at.astimezone(community.zoneinfo).date(),
        source_id=source_id or f"e{next(_ids)}",
        parent_source_id=parent,
        content_type=content_type,
        attributes=attributes,
    )


def rule(community, key: str, **values) -> PointRule:
    return do_save_rule(community, {"key": key, **values}, actor=None)


def ledger_sum(member: Member) -> int:
    return sum(PointEntry.objects.filter(member=member).values_list("amount", flat=True))


def stored_balance(member: Member) -> int:
    return MemberPoints.objects.get(member=member).balance


def assert_balances_match_ledger(community) -> None:
    for member in Member.objects.filter(community=community):
        total = ledger_sum(member)
        assert member_balance(member) == total
        row = MemberPoints.objects.filter(member=member).first()
        assert (row.balance if row else 0) == total, member.display_name


# ------------------------------------------------------------------ append-only ledger
@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_ledger_entries(community):
    ann = person(community, "Ann")
    entry = do_manual_entry(ann, 10, reason="welcome gift", actor=None)
    before = table_counts()

    entry.amount = 500
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        PointEntry.objects.get(pk=entry.pk).save(update_fields=["reason"])
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    with pytest.raises(LedgerIsAppendOnly):
        PointEntry.objects.filter(pk=entry.pk).update(amount=500)
    with pytest.raises(LedgerIsAppendOnly):
        PointEntry.objects.filter(member=ann).delete()

    assert table_counts() == before
    assert PointEntry.objects.get(pk=entry.pk).amount == 10
    assert member_balance(ann) == 10


@pytest.mark.django_db
def test_the_database_rejects_raw_updates_except_moving_an_entry_to_another_member(community):
    ann, bob = person(community, "Ann"), person(community, "Bob")
    kept = rule(community, "kept", event_kind="message", amount=1)
    entry = do_manual_entry(ann, 10, reason="welcome gift", actor=None)
    table = PointEntry._meta.db_table

    def raw_update(assignment: str, *params) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignment} WHERE id = %s", [*params, entry.pk])

    for assignment, params in (
        ("amount = %s", [500]),
        ("reason = %s", ["edited"]),
        ("kind = %s", ["earned"]),
        ("idempotency_key = %s", ["other"]),
        ("occurred_at = %s", [T0]),
        ("rule_id = %s", [kept.pk]),  # references may be cleared, never pointed elsewhere
    ):
        with pytest.raises(IntegrityError):
            raw_update(assignment, *params)
    entry.refresh_from_db()
    assert (entry.amount, entry.reason, entry.rule_id) == (10, "welcome gift", None)

    raw_update("member_id = %s", bob.pk)  # the one change merges need
    assert PointEntry.objects.get(pk=entry.pk).member_id == bob.pk


@pytest.mark.django_db
def test_deleting_a_community_still_removes_its_points(community, chat):
    ann = person(community, "Ann")
    rule(community, "message", event_kind="message", amount=150)
    event(chat, ann, EventKind.MESSAGE, T0)
    do_award_points(community)
    entry = do_manual_entry(ann, 5, reason="thanks", actor=None)
    do_reverse_entry(entry, reason="typo", actor=None)
    assert LevelUp.objects.filter(member=ann).exists()

    community.delete()

    for model in (PointEntry, PointRule, MemberPoints, LevelUp):
        assert not model.objects.exists(), model


@pytest.mark.django_db
def test_deleting_a_rule_keeps_what_it_awarded(community, chat):
    ann = person(community, "Ann")
    message = rule(community, "message", name="Message", event_kind="message", amount=3)
    event(chat, ann, EventKind.MESSAGE, T0)
    do_award_points(community)

    do_delete_rule(message, actor=None)

    entry = PointEntry.objects.get(member=ann)
    assert (entry.rule_id, entry.rule_key, entry.reason, entry.amount) == (
        None,
        "message",
        "Message",
        3,
    )
    assert member_balance(ann) == 3
    assert AuditEntry.objects.filter(action="points.rule.delete").exists()
    # Recreating a rule with the same key does not award the same event again.
    rule(community, "message", event_kind="message", amount=3)
    assert do_award_points(community, full=True).entries_created == 0


@pytest.mark.django_db
def test_a_member_with_points_is_only_removed_after_their_entries_move(community):
    ann, bob = person(community, "Ann"), person(community, "Bob")
    first = do_manual_entry(ann, 120, reason="hosted a meetup", actor=None)
    do_manual_entry(bob, 10, reason="helped", actor=None)
    with pytest.raises(RestrictedError):
        ann.delete()

    moved = reassign_entries(ann.pk, bob.pk)

    assert moved == [first.pk]
    assert (stored_balance(ann), stored_balance(bob)) == (0, 130)
    assert [lv.level for lv in level_ups(bob)] == [1]  # 100 points: level 1 on the curve
    ann.delete()
    assert member_balance(bob) == 130


@pytest.mark.django_db
def test_entries_follow_events_through_a_merge_and_its_undoing(community, write_chatlab):
    messages = [
        {
            "platformMessageId": f"m{i}",
            "sender": sender,
            "accountName": name,
            "type": 0,
            "timestamp": 1709542800 + 120 * i,
            "content": "hi",
        }
        for i, (sender, name) in enumerate([("u1", "Ann"), ("u2", "Ann B"), ("u2", "Ann B")])
    ]
    do_import(community, write_chatlab(messages))
    rule(community, "message", event_kind="message", amount=10)
    do_award_points(community, full=True)  # a rule added after the import: a full run
    ann = Identity.objects.get(platform_user_id="u1").member
    other = Identity.objects.get(platform_user_id="u2").member
    assert (member_balance(ann), member_balance(other)) == (10, 20)

    # What the merge code does (or its hooks): entries move first, as a member with entries
    # cannot be deleted; after an un-merge they follow their events. Both are repeatable.
    reassign_entries(other.pk, ann.pk)
    do_merge_members(other, ann)
    assert member_balance(ann) == 30 and stored_balance(ann) == 30
    assert follow_event_members([ann.pk]) == []

    restored = do_unmerge(ann.merges.get())
    follow_event_members([restored.pk, ann.pk])

    assert follow_event_members([restored.pk, ann.pk]) == []
    assert (member_balance(ann), member_balance(restored)) == (10, 20)
    assert (stored_balance(ann), stored_balance(restored)) == (10, 20)
    assert do_award_points(community, full=True).entries_created == 0


# ------------------------------------------------------------------- manual, reversal
@pytest.mark.django_db
def test_manual_awards_and_deductions_need_a_reason_and_are_audited(community, make_account):
    ann = person(community, "Ann")
    operator = make_account("olga", community, "operator")
    before = table_counts()
    for reason in ("", "   ", None):
        with pytest.raises(PointsError, match="reason"):
            do_manual_entry(ann, 10, reason=reason, actor=operator)
    for amount in (0, True, 2.5):
        with pytest.raises(PointsError, match="whole number"):
            do_manual_entry(ann, amount, reason="because", actor=operator)
    assert table_counts() == before

    award = do_manual_entry(ann, 25, reason="hosted the meetup", actor=operator)
    deduction = do_manual_entry(ann, -5, reason="no-show", actor=operator)

    assert (award.kind, award.actor, award.reason) == ("manual", operator, "hosted the meetup")
    assert deduction.amount == -5
    assert member_balance(ann) == stored_balance(ann) == 20
    audits = AuditEntry.objects.filter(action="points.manual").order_by("id")
    assert [a.details["amount"] for a in audits] == [25, -5]
    assert audits[0].actor == operator and audits[0].details["reason"] == "hosted the meetup"


@pytest.mark.django_db
def test_an_entry_is_reversed_once_and_a_reversal_never(community):
    ann = person(community, "Ann")
    entry = do_manual_entry(ann, 30, reason="talk", actor=None)
    with pytest.raises(PointsError, match="reason"):
        do_reverse_entry(entry, reason=" ", actor=None)

    reversal = do_reverse_entry(entry, reason="the talk was cancelled", actor=None)

    assert (reversal.amount, reversal.kind, reversal.reverses_id) == (-30, "reversal", entry.pk)
    assert member_balance(ann) == stored_balance(ann) == 0
    before = table_counts()
    with pytest.raises(PointsError, match="already been reversed"):
        do_reverse_entry(entry, reason="again", actor=None)
    with pytest.raises(PointsError, match="itself a reversal"):
        do_reverse_entry(reversal, reason="undo the undo", actor=None)
    assert table_counts() == before
    audit = AuditEntry.objects.get(action="points.reverse")
    assert audit.details["reason"] == "the talk was cancelled"
    assert audit.details["entry"] == entry.pk
    history = points_history(ann)
    assert [(e.amount, e.balance_after) for e in history] == [(-30, 0), (30, 30)]
    assert history[1].is_reversed


def test_a_keyed_entry_is_given_once_and_reversible(community):
    ann = person(community, "Ann")
    penalty, made = do_keyed_entry(
        ann, -20, reason="flood: 12 messages in 60 s", key="charter-violation:7", rule_key="flood"
    )
    assert made and (penalty.amount, penalty.kind, penalty.rule_key) == (-20, "automatic", "flood")
    before = table_counts()
    again, made = do_keyed_entry(ann, -20, reason="flood again", key="charter-violation:7")
    assert (again.pk, made) == (penalty.pk, False)
    assert table_counts() == before
    with pytest.raises(PointsError, match="whole number"):
        do_keyed_entry(ann, 0, reason="nothing", key="charter-violation:8")
    do_reverse_entry(penalty, reason="appeal upheld", actor=None)
    assert member_balance(ann) == stored_balance(ann) == 0


def test_keyed_entries_in_bulk_are_given_once_with_balances_and_level_ups(community):
    ann, bob = person(community, "Ann"), person(community, "Bob")
    at = dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    items = [
        KeyedEntry(ann.pk, 30, "fast answer", f"charter-reward:1:{n}", at, "fast-answer")
        for n in range(5)
    ] + [KeyedEntry(bob.pk, -20, "flood", "charter-violation:9", at, "flood")]
    stranger = person(do_create_community(slug="elsewhere", name="Elsewhere"), "Eve")
    entries = do_keyed_entries(community, items)
    assert len(entries) == 6 and entries["charter-violation:9"].amount == -20
    assert member_balance(ann) == stored_balance(ann) == 150
    assert member_balance(bob) == stored_balance(bob) == -20
    reached = list(level_ups(ann))
    assert reached and reached[0].entry_id is not None  # the level-up names its entry
    before = table_counts()
    again = do_keyed_entries(community, items)
    assert table_counts() == before
    assert {key: entry.pk for key, entry in again.items()} == {
        key: entry.pk for key, entry in entries.items()
    }
    with pytest.raises(PointsError, match="reason"):
        do_keyed_entries(community, [KeyedEntry(ann.pk, 5, " ", "charter-reward:1:99", at)])
    with pytest.raises(PointsError, match="whole number"):
        do_keyed_entries(community, [KeyedEntry(ann.pk, 2.5, "half", "charter-reward:1:98", at)])
    with pytest.raises(PointsError, match=f"Not members of this community: {stranger.pk}"):
        do_keyed_entries(community, [KeyedEntry(stranger.pk, 5, "hi", "charter-reward:1:97")])
    assert table_counts() == before


# --------------------------------------------------------------------------- awarding
@pytest.mark.django_db
def test_replaying_and_reimporting_never_awards_twice(community, write_chatlab):
    messages = [
        {
            "platformMessageId": f"m{i}",
            "sender": f"u{i % 2}",
            "accountName": f"P{i % 2}",
            "type": 0,
            "timestamp": 1709542800 + 90 * i,
            "content": "hello",
        }
        for i in range(6)
    ]
    path = write_chatlab(messages)
    do_import(community, path)
    do_apply_preset(community, "default", actor=None)
    counts = table_counts()
    balances = dict(MemberPoints.objects.values_list("member_id", "balance"))
    assert sum(balances.values()) > 0

    assert do_award_points(community).entries_created == 0
    assert do_award_points(community, full=True).entries_created == 0
    assert do_award_points(community, full=True).entries_created == 0
    do_import(community, path)  # the same file again: no new events
    assert do_award_points(community).entries_created == 0
    do_apply_preset(community, "default", actor=None)  # re-applying recreates nothing twice

    assert PointEntry.objects.count() == counts["rewards.PointEntry"]
    assert dict(MemberPoints.objects.values_list("member_id", "balance")) == balances
    assert_balances_match_ledger(community)


@pytest.mark.django_db
def test_new_events_are_awarded_on_the_next_run_and_new_rules_on_a_full_one(community, chat):
    ann = person(community, "Ann")
    rule(community, "message", event_kind="message", amount=1)
    event(chat, ann, EventKind.MESSAGE, T0)
    assert do_award_points(community).entries_created == 1
    event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(hours=1))
    assert do_award_points(community).entries_created == 1
    rule(community, "chatty", event_kind="message", amount=2)
    assert do_award_points(community).entries_created == 0  # nothing new to look at
    assert do_award_points(community, full=True).entries_created == 2
    assert member_balance(ann) == 6


@pytest.mark.django_db
def test_cooldown_allows_one_award_per_window_even_for_events_imported_late(community, chat):
    ann = person(community, "Ann")
    rule(community, "message", event_kind="message", amount=1, cooldown_seconds=60)
    for seconds in (0, 30, 61, 90, 200):
        event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(seconds=seconds))
    do_award_points(community)
    awarded = sorted(
        int((at - T0).total_seconds())
        for at in PointEntry.objects.filter(member=ann).values_list("occurred_at", flat=True)
    )
    assert awarded == [0, 61, 200]

    # Imported later: one fits between two awards, one would be too close to the next.
    event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(seconds=130))
    event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(seconds=150))
    assert do_award_points(community).entries_created == 1
    assert member_balance(ann) == 4


@pytest.mark.django_db
def test_a_cap_group_shares_one_daily_cap_counted_in_local_days(community, chat):
    community.time_zone = "Asia/Shanghai"
    community.save()
    ann, bob = person(community, "Ann"), person(community, "Bob")
    votes = {"cap_group": "votes", "daily_cap": 25, "beneficiary": "target"}
    rule(community, "question-up", event_kind="reaction", match={"vote": "q"}, amount=10, **votes)
    rule(community, "answer-up", event_kind="reaction", match={"vote": "a"}, amount=10, **votes)
    rule(
        community,
        "down",
        event_kind="reaction",
        match={"vote": "d"},
        amount=-2,
        beneficiary="target",
    )
    # 14:00 UTC is 22:00 in Shanghai; 16:30 UTC is already the next local day.
    day1 = dt.datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
    for minutes, vote in enumerate(["q", "a", "d", "q", "a"]):
        event(
            chat,
            bob,
            EventKind.REACTION,
            day1 + dt.timedelta(minutes=minutes),
            target=ann,
            attributes={"vote": vote},
        )
    event(
        chat,
        bob,
        EventKind.REACTION,
        dt.datetime(2024, 3, 4, 16, 30, tzinfo=UTC),
        target=ann,
        attributes={"vote": "a"},
    )

    do_award_points(community)

    amounts = list(
        PointEntry.objects.filter(member=ann).order_by("occurred_at").values_list("amount", "day")
    )
    assert amounts == [
        (10, dt.date(2024, 3, 4)),
        (10, dt.date(2024, 3, 4)),
        (-2, dt.date(2024, 3, 4)),  # penalties always apply and free no room
        (5, dt.date(2024, 3, 4)),  # the cap is crossed: only what is left of it
        (10, dt.date(2024, 3, 5)),  # a new local day
    ]
    assert do_award_points(community, full=True).entries_created == 0


@pytest.mark.django_db
def test_first_time_bonus_is_given_once_per_member(community, chat):
    ann = person(community, "Ann")
    rule(community, "joined", event_kind="join", amount=0, first_time_bonus=5)
    rule(community, "message", event_kind="message", amount=1, first_time_bonus=3)
    event(chat, ann, EventKind.JOIN, T0)
    event(chat, ann, EventKind.JOIN, T0 + dt.timedelta(days=3))  # came back
    event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(hours=1))
    event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(hours=2))

    do_award_points(community)
    do_award_points(community, full=True)

    rows = list(PointEntry.objects.filter(member=ann).order_by("id").values_list("kind", "amount"))
    assert rows == [("bonus", 5), ("earned", 1), ("bonus", 3), ("earned", 1)]
    assert member_balance(ann) == 10


@pytest.mark.django_db
def test_penalties_targets_and_valid_dates(community, chat):
    ann, mod = person(community, "Ann"), person(community, "Mod")
    rule(
        community,
        "spam",
        event_kind="moderation",
        match={"action": ["spam", "abuse"]},
        beneficiary="target",
        amount=-20,
    )
    rule(
        community,
        "old-votes",
        event_kind="reaction",
        beneficiary="target",
        amount=5,
        valid_until=dt.date(2019, 11, 13),
    )
    rule(
        community,
        "new-votes",
        event_kind="reaction",
        beneficiary="target",
        amount=10,
        valid_from="2019-11-13",
    )
    event(chat, mod, EventKind.MODERATION, T0, target=ann, attributes={"action": "spam"})
    event(chat, mod, EventKind.MODERATION, T0, target=ann, attributes={"action": "warn"})
    event(chat, mod, EventKind.REACTION, dt.datetime(2019, 11, 12, 23, tzinfo=UTC), target=ann)
    event(chat, mod, EventKind.REACTION, dt.datetime(2019, 11, 13, 0, tzinfo=UTC), target=ann)

    do_award_points(community)

    assert sorted(PointEntry.objects.filter(member=ann).values_list("rule_key", "amount")) == [
        ("new-votes", 10),
        ("old-votes", 5),
        ("spam", -20),
    ]
    assert member_balance(mod) == 0


@pytest.mark.django_db
def test_bad_rules_are_refused_naming_the_rule_and_field(community):
    rule(community, "message", event_kind="message", amount=1, cap_group="chat", daily_cap=20)
    before = table_counts()
    cases = [
        ({"key": "x", "event_kind": "telepathy", "amount": 1}, ["rule 'x'", "event_kind"]),
        ({"key": "x", "event_kind": "message", "amount": 0}, ["rule 'x'", "amount"]),
        (
            {"key": "x", "event_kind": "message", "amount": 1, "cooldown_seconds": -5},
            ["cooldown_seconds"],
        ),
        ({"key": "Bad Key", "event_kind": "message", "amount": 1}, ["field 'key'"]),
        (
            {"key": "x", "event_kind": "message", "amount": 1, "beneficiary": "boss"},
            ["beneficiary"],
        ),
        (
            {"key": "x", "event_kind": "message", "amount": 1, "valid_from": "yesterday"},
            ["valid_from"],
        ),
        ({"key": "x", "event_kind": "message", "amount": 1, "colour": "red"}, ["colour"]),
        ({"key": "message", "event_kind": "reply", "amount": 1}, ["already used"]),
        (
            {"key": "x", "event_kind": "reply", "amount": 1, "cap_group": "chat", "daily_cap": 5},
            ["daily_cap", "chat"],
        ),
    ]
    for values, fragments in cases:
        with pytest.raises(RuleError) as caught:
            do_save_rule(community, values, actor=None)
        for fragment in fragments:
            assert fragment in str(caught.value), (values, str(caught.value))
    assert table_counts() == before


@pytest.mark.django_db
def test_rule_changes_are_audited_and_do_not_rewrite_history(community, chat):
    ann = person(community, "Ann")
    message = rule(community, "message", event_kind="message", amount=1)
    event(chat, ann, EventKind.MESSAGE, T0)
    do_award_points(community)

    do_save_rule(community, {"amount": 5}, actor=None, rule=message)
    do_award_points(community, full=True)

    assert member_balance(ann) == 1  # the event was awarded under the old amount
    update = AuditEntry.objects.get(action="points.rule.update")
    assert update.details["changed"] == {"amount": [1, 5]}
    assert AuditEntry.objects.filter(action="points.rule.create").count() == 1


# ------------------------------------------------------------------------------- TOML
@pytest.mark.django_db
def test_rules_survive_a_toml_round_trip(community):
    do_apply_preset(community, "stackexchange", actor=None)
    text = export_rules_toml(community)
    assert 'key = "question-up-old"' in text and "valid_until = 2019-11-13" in text
    other = do_create_community(slug="copy", name="Copy")

    result = do_import_rules_toml(other, text, actor=None)

    assert len(result.created) == community_rules(community).count()
    assert export_rules_toml(other) == text
    assert [rule_values(r) for r in community_rules(other)] == [
        rule_values(r) for r in community_rules(community)
    ]
    again = do_import_rules_toml(other, text, actor=None)  # the same file twice
    assert (again.created, again.updated, again.deleted) == ([], [], [])
    assert AuditEntry.objects.filter(action="points.rules.import", community=other).count() == 2


@pytest.mark.django_db
def test_a_bad_rules_file_names_the_rule_and_field_and_changes_nothing(community):
    do_apply_preset(community, "default", actor=None)
    exported = export_rules_toml(community)
    before = table_counts()
    bad_files = {
        "rules = [ oops": ["not a valid TOML file"],
        exported.replace("daily_cap = 20", "daily_cap = -3", 1): [
            "rule 2 (message)",
            "field 'daily_cap'",
        ],
        exported + '\n[[rules]]\nkey = "badge"\nevent_kind = "badge"\namount = 1\n': [
            "rule 7 (badge)",
            "already used",
        ],
        '[[rules]]\nkey = "x"\nevent_kind = "message"\namount = 1\nmatch = 3\n': [
            "rule 1 (x)",
            "field 'match'",
        ],
        "[levels]\nkind = 'table'\nlevels = [{threshold = 5, name = ''}]\n": [
            "levels",
            "name",
        ],
        "[badges]\nx = 1\n": ["unknown section 'badges'"],
    }
    for text, fragments in bad_files.items():
        with pytest.raises(RuleError) as caught:
            do_import_rules_toml(community, text, actor=None)
        for fragment in fragments:
            assert fragment in str(caught.value), (fragment, str(caught.value))
    assert table_counts() == before
    assert export_rules_toml(community) == exported


@pytest.mark.django_db
def test_importing_without_replace_keeps_other_rules(community):
    rule(community, "message", event_kind="message", amount=1)
    do_import_rules_toml(
        community,
        '[[rules]]\nkey = "reply"\nevent_kind = "reply"\namount = 2\n',
        actor=None,
        replace=False,
    )
    assert sorted(r.key for r in community_rules(community)) == ["message", "reply"]
    do_import_rules_toml(
        community, '[[rules]]\nkey = "reply"\nevent_kind = "reply"\namount = 2\n', actor=None
    )
    assert [r.key for r in community_rules(community)] == ["reply"]


# ----------------------------------------------------------------------------- levels
def test_the_quadratic_curve_is_mee6s():
    curve = LevelCurve()
    assert [curve.threshold(n) for n in range(1, 6)] == [100, 255, 475, 770, 1150]
    assert [curve.level_of(p) for p in (0, 99, 100, 254, 255, 4675, 10_000)] == [
        0,
        0,
        1,
        1,
        2,
        10,
        13,
    ]
    assert curve.level_of(-50) == 0
    table = LevelCurve(kind="table", table=[(50, "Core"), (0, "Newcomer"), (10, "Regular")])
    assert [table.level_of(p) for p in (0, 9, 10, 49, 50, 10**9)] == [1, 1, 2, 2, 3, 3]
    assert table.name(3) == "Core" and not table.has_level(4)


@pytest.mark.django_db
def test_quadratic_levels_and_level_ups_are_recorded_once(community):
    ann = person(community, "Ann")
    first = do_manual_entry(ann, 260, reason="founding member", actor=None)

    status = member_level(ann)
    assert (status.number, status.points, status.next_threshold, status.points_missing) == (
        2,
        260,
        475,
        215,
    )
    assert [(lv.level, lv.reached_at, lv.entry_id) for lv in level_ups(ann)] == [
        (1, first.occurred_at, first.pk),
        (2, first.occurred_at, first.pk),
    ]
    assert MemberPoints.objects.get(member=ann).level == 2

    cut = do_manual_entry(ann, -200, reason="spam", actor=None)
    assert member_level(ann).number == 0 and MemberPoints.objects.get(member=ann).level == 0
    do_reverse_entry(cut, reason="not spam after all", actor=None)
    assert member_level(ann).number == 2
    assert level_ups(ann).count() == 2  # reaching a level again is not a new level-up


@pytest.mark.django_db
def test_table_levels_name_each_level_and_show_what_is_missing(community, chat):
    ann = person(community, "Ann")
    do_save_level_scheme(
        community,
        {
            "kind": "table",
            "levels": [
                {"threshold": 0, "name": "Newcomer"},
                {"threshold": 10, "name": "Regular"},
                {"threshold": 50, "name": "Core"},
            ],
        },
        actor=None,
    )
    assert (member_level(ann).number, member_level(ann).name) == (1, "Newcomer")
    rule(community, "message", event_kind="message", amount=4)
    for hours in range(3):
        event(chat, ann, EventKind.MESSAGE, T0 + dt.timedelta(hours=hours))
    do_award_points(community)

    status = member_level(ann)
    assert (status.number, status.name, status.next_name, status.points_missing) == (
        2,
        "Regular",
        "Core",
        38,
    )
    third = PointEntry.objects.filter(member=ann).order_by("occurred_at")[2]
    assert [(lv.level, lv.name, lv.reached_at) for lv in level_ups(ann)] == [
        (2, "Regular", third.occurred_at)  # the third +4 crossed 10; level 1 is where all start
    ]
    # A new scheme records the levels above those recorded that the ledger already reached,
    # at the entry that reached them; recorded level-ups stay as they were.
    do_save_level_scheme(
        community,
        {
            "kind": "table",
            "levels": [
                {"threshold": 5, "name": "Bronze"},
                {"threshold": 8, "name": "Silver"},
                {"threshold": 12, "name": "Gold"},
            ],
        },
        actor=None,
    )
    assert member_level(ann).name == "Gold"
    assert [(lv.level, lv.name, lv.reached_at) for lv in level_ups(ann)] == [
        (2, "Regular", third.occurred_at),
        (3, "Gold", third.occurred_at),
    ]
    assert AuditEntry.objects.filter(action="points.levels").count() == 2
    with pytest.raises(RuleError, match="threshold"):
        do_save_level_scheme(
            community, {"kind": "table", "levels": [{"threshold": -1, "name": "x"}]}, actor=None
        )


# ----------------------------------------------------------------------- leaderboards
@pytest.mark.django_db
def test_leaderboards_per_period_leave_bots_out(community, chat):
    ann, bob, cat = person(community, "Ann"), person(community, "Bob"), person(community, "Cat")
    bot = person(community, "Bot", is_bot=True)
    rule(community, "message", event_kind="message", amount=5)
    last = dt.datetime(2024, 3, 31, 12, tzinfo=UTC)
    plan = {ann: [0, 1, 40], bob: [0, 10, 20], cat: [2, 3], bot: [0, 0, 1, 1]}
    for who, days_ago in plan.items():
        for ago in days_ago:
            event(chat, who, EventKind.MESSAGE, last - dt.timedelta(days=ago))
    do_award_points(community)

    week = leaderboard(community, "week")
    assert (week.start, week.end) == (dt.date(2024, 3, 25), dt.date(2024, 3, 31))
    assert [(r.rank, r.display_name, r.points) for r in week.rows] == [
        (1, "Ann", 10),
        (1, "Cat", 10),
        (3, "Bob", 5),
    ]
    month = leaderboard(community, "month")
    assert [(r.display_name, r.points) for r in month.rows] == [
        ("Bob", 15),
        ("Ann", 10),
        ("Cat", 10),
    ]
    everything = leaderboard(community, "all", limit=2)
    assert [(r.display_name, r.points, r.balance) for r in everything.rows] == [
        ("Ann", 15, 15),
        ("Bob", 15, 15),
    ]
    earlier = leaderboard(community, "week", as_of=dt.date(2024, 3, 21))
    assert [(r.display_name, r.points) for r in earlier.rows] == [("Bob", 5)]


@pytest.mark.django_db
def test_points_history_pages_with_running_balances(community):
    ann = person(community, "Ann")
    for amount in (10, 20, -5, 7):
        do_manual_entry(ann, amount, reason=f"r{amount}", actor=None)
    page = points_history(ann, limit=2, offset=1)
    assert [(e.amount, e.balance_after) for e in page] == [(-5, 25), (20, 30)]


# -------------------------------------------------------------------------------- CLI
@pytest.mark.django_db
def test_points_cli(community, chat, tmp_path):
    runner = CliRunner()
    ann = person(community, "Ann")
    event(chat, ann, EventKind.MESSAGE, T0)

    result = runner.invoke(cli, ["points", "preset", "club", "default"])
    assert result.exit_code == 0, result.output
    assert "entries added" in result.output
    assert "reaction_received" in runner.invoke(cli, ["points", "rules", "club"]).output
    path = tmp_path / "rules.toml"
    assert runner.invoke(cli, ["points", "export", "club", "-o", str(path)]).exit_code == 0
    assert runner.invoke(cli, ["points", "import", "club", str(path)]).exit_code == 0
    assert runner.invoke(cli, ["points", "recompute", "club", "--full"]).exit_code == 0

    result = runner.invoke(cli, ["points", "award", "club", "Ann", "-4", "--reason", "late"])
    assert result.exit_code == 0, result.output
    entry = PointEntry.objects.get(kind="manual")
    assert entry.amount == -4
    assert runner.invoke(cli, ["points", "award", "club", "Ann", "5"]).exit_code == 2
    reverse = ["points", "reverse", "club", str(entry.pk), "--reason", "waived"]
    assert runner.invoke(cli, reverse).exit_code == 0
    assert runner.invoke(cli, reverse).exit_code == 5
    assert runner.invoke(cli, ["points", "reverse", "club", "999999", "-r", "x"]).exit_code == 4
    assert runner.invoke(cli, ["points", "preset", "club", "nope"]).exit_code == 4

    board = runner.invoke(cli, ["points", "leaderboard", "club", "--period", "all"])
    assert board.exit_code == 0 and "Ann" in board.output
    history = runner.invoke(cli, ["points", "history", "club", "Ann"])
    assert history.exit_code == 0 and "First time: Message" in history.output

    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nkey = "x"\nevent_kind = "message"\n', encoding="utf-8")
    before = table_counts()
    result = runner.invoke(cli, ["points", "import", "club", str(bad)])
    assert result.exit_code == 3
    assert "rule 1 (x)" in result.output and "Nothing was changed" in result.output
    assert table_counts() == before


@pytest.mark.django_db
def test_a_full_rescan_over_many_batches_adds_nothing_with_two_bonus_rules(
    community, chat, monkeypatch
):
    """A member first met under one first-time-bonus rule and, batches later, under another:
    a full rescan must find both bonuses in the ledger (it once looked up only the first)."""
    from shequn.rewards import engine

    monkeypatch.setattr(engine, "BATCH", 2)
    rule(community, "message", event_kind="message", amount=1, first_time_bonus=5)
    rule(community, "joined", event_kind="join", amount=0, first_time_bonus=3)
    ann, bob = person(community, "Ann"), person(community, "Bob")
    start = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    for minute in range(6):
        event(chat, ann if minute % 2 else bob, "message", start + dt.timedelta(minutes=minute))
    event(chat, ann, "join", start + dt.timedelta(hours=2))
    first = do_award_points(community, full=True)
    assert first.entries_created == 6 + 2 + 1  # messages, two message bonuses, Ann's join bonus
    again = do_award_points(community, full=True)
    assert again.entries_created == 0
    assert ledger_sum(ann) == 3 + 5 + 3
    assert_balances_match_ledger(community)


@pytest.mark.django_db
def test_an_undone_merge_gives_back_the_points_awarded_by_hand(community, write_chatlab):
    messages = [
        {"platformMessageId": f"m{i}", "sender": sender, "accountName": sender.upper(),
         "type": 0, "timestamp": 1709542800 + 120 * i, "content": "hi"}
        for i, sender in enumerate(["u1", "u2"])
    ]  # fmt: skip
    do_import(community, write_chatlab(messages))
    ann = Identity.objects.get(platform_user_id="u1").member
    twin = Identity.objects.get(platform_user_id="u2").member
    do_manual_entry(twin, 50, reason="Helped at the meetup", actor=None)
    do_manual_entry(ann, 5, reason="Welcome", actor=None)

    do_merge_members(twin, ann)
    assert member_balance(ann) == 55
    restored = do_unmerge(ann.merges.get())

    assert (member_balance(restored), member_balance(ann)) == (50, 5)
    assert (stored_balance(restored), stored_balance(ann)) == (50, 5)
    assert PointEntry.objects.get(amount=50).member == restored


def test_refreshing_balances_writes_only_what_differs(community):
    """The refresh a full recompute runs rewrites no balance that equals its ledger sum, puts
    right one that does not, and gives levels for the curve as it is now."""
    from shequn.rewards.engine import refresh_member_points

    ann, bob = person(community, "Ann"), person(community, "Bob")
    do_manual_entry(ann, 260, reason="founding member", actor=None)
    do_manual_entry(bob, 30, reason="welcome", actor=None)
    before = dict(MemberPoints.objects.values_list("member_id", "updated_at"))
    MemberPoints.objects.filter(member=bob).update(balance=999, level=7)  # drifted

    refresh_member_points(community)

    rows = {row.member_id: row for row in MemberPoints.objects.all()}
    assert rows[ann.pk].updated_at == before[ann.pk]  # untouched
    assert (rows[ann.pk].balance, rows[ann.pk].level) == (260, 2)
    assert (rows[bob.pk].balance, rows[bob.pk].level) == (30, 0)
    assert rows[bob.pk].updated_at > before[bob.pk]
