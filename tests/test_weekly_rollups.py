"""Weekly rollups: always the daily rollups grouped by member and week (Monday to Sunday), after
whatever changed the daily rows; and ``read_weeks`` reads them like it grouped the daily rows."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequn.communities.models import Channel
from shequn.communities.services import do_create_community, do_update_community_profile
from shequn.interactions import rollups
from shequn.interactions.models import (
    ROLLUP_COUNTERS,
    EventKind,
    InteractionEvent,
    MemberDailyRollup,
    MemberWeeklyRollup,
)
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member, MemberMerge
from shequn.members.services import do_merge_members, do_unmerge
from shequn.tiers.inputs import read_weeks
from shequn.tiers.policy import rules_of
from shequn.tiers.selectors import tier_policy

HEADER = "message_id,member_id,member_name,time,kind,text,reply_to,target_member_id,channel,role\n"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.date(2024, 3, 4)
SIGNALS = ("messages", "attended", "mentions_given", "reactions_given", "joins")
WEEKLY_TABLE = MemberWeeklyRollup._meta.db_table


@pytest.fixture
def community(db):
    """Overrides conftest's: local days differ from UTC days, so time zones matter."""
    return do_create_community(slug="weekly", name="Weekly", time_zone="Asia/Shanghai")


@pytest.fixture(autouse=True)
def _no_tier_runs():
    """Check-ins and merges start a tier recompute: these tests are about the rollups (and
    ``read_weeks`` alone); tests/test_tiers*.py drive the recomputes.

    The URL modules are imported first: views that import the function by name while the patch
    is active would keep the mock for the rest of the session."""
    importlib.import_module(settings.ROOT_URLCONF)
    with mock.patch("shequn.tiers.services.do_recompute_tiers"):
        yield


# --- what the weekly table must hold -----------------------------------------------------------


def weekly_from_daily() -> dict[tuple[int, int], dict[str, Any]]:
    """The reference: every daily rollup row grouped in Python by member and Monday-to-Sunday
    week (``(ordinal - 1) // 7``)."""
    expected: dict[tuple[int, int], dict[str, Any]] = {}
    for row in MemberDailyRollup.objects.values():
        ordinal = row["day"].toordinal()
        week = expected.setdefault(
            (row["member_id"], (ordinal - 1) // 7),
            {
                "community_id": row["community_id"],
                **dict.fromkeys(ROLLUP_COUNTERS, 0),
                "contribution_days": 0,
                "last_signal_day": None,
            },
        )
        for counter in ROLLUP_COUNTERS:
            week[counter] += row[counter]
        if row["messages"] or row["attended"]:
            week["contribution_days"] += 1
        if any(row[column] for column in SIGNALS):
            week["last_signal_day"] = max(week["last_signal_day"] or 0, ordinal)
    return expected


def weekly_stored() -> dict[tuple[int, int], dict[str, Any]]:
    stored = {}
    for row in MemberWeeklyRollup.objects.values():
        row.pop("id")
        stored[(row.pop("member_id"), row.pop("week"))] = row
    return stored


def assert_weeks_match_days() -> dict[tuple[int, int], dict[str, Any]]:
    stored = weekly_stored()
    assert stored == weekly_from_daily()
    return stored


def by_accounts(weeks: dict[tuple[int, int], dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """Weekly rows keyed by their member's accounts instead of its id (ids change on un-merge)."""
    accounts: dict[int, set[str]] = {}
    for member_id, handle in Identity.objects.values_list("member_id", "platform_user_id"):
        accounts.setdefault(member_id, set()).add(handle)
    return {
        (tuple(sorted(accounts.get(member_id, ()))), week): row
        for (member_id, week), row in weeks.items()
    }


# --- generated chat exports --------------------------------------------------------------------


def chat(
    seed: int,
    prefix: str,
    start: dt.date,
    days: int,
    count: int,
    *,
    parents: Iterable[str] = (),
    kinds: tuple[str, ...] = ("message",) * 4 + ("reply", "mention", "reaction", "join", "leave"),
) -> str:
    """A CSV export of ``count`` random events on ``days`` days from ``start``, around local
    midnight too; replies and reactions answer ``parents`` (which may be imported later)."""
    rng = random.Random(seed)
    parents = list(parents)
    lines = [HEADER]
    for number in range(count):
        day = start + dt.timedelta(days=rng.randrange(days))
        at = dt.datetime.combine(day, dt.time(rng.choice([0, 8, 15, 23]), rng.randrange(60)))
        kind = rng.choice(kinds)
        if kind in ("reply", "reaction") and not parents:
            kind = "message"
        author = f"u{rng.randrange(12)}"
        reply_to = rng.choice(parents) if kind in ("reply", "reaction") else ""
        target = f"u{rng.randrange(12)}" if kind == "mention" else ""
        at = at.replace(tzinfo=SHANGHAI).isoformat()
        lines.append(
            f"{prefix}{number},{author},{author.upper()},{at},{kind},hi {number},"
            f"{reply_to},{target},,\n"
        )
    return "".join(lines)


def load(community, tmp_path: Path, name: str, content: str):
    path = tmp_path / f"{name}.csv"
    path.write_text(content, encoding="utf-8")
    return do_import(community, path, format_name="csv", channel="main", recompute=False)


def import_history(community, tmp_path: Path, seed: int = 1) -> None:
    """Three overlapping exports of one channel; the second answers messages of the third, so
    those replies find their targets only when the third arrives (``add_received_rollups``)."""
    later = [f"c{n}" for n in range(40)]
    load(community, tmp_path, "a", chat(seed, "a", MONDAY, 24, 150))
    assert_weeks_match_days()
    a_messages = [f"a{n}" for n in range(150)]
    load(
        community,
        tmp_path,
        "b",
        chat(seed + 1, "b", MONDAY + dt.timedelta(days=10), 30, 150, parents=a_messages + later),
    )
    assert_weeks_match_days()
    load(
        community,
        tmp_path,
        "c",
        chat(seed + 2, "c", MONDAY - dt.timedelta(days=20), 60, 40, kinds=("message",)),
    )


# --- tests ---------------------------------------------------------------------------------------


def test_weeks_run_monday_to_sunday_in_local_days(community, tmp_path):
    rows = HEADER + (
        # Sunday 23:30 and Monday 00:30 in Shanghai: the same UTC day, two local weeks
        "m1,u1,Ann,2024-03-10T23:30:00+08:00,message,Sunday night,,,,\n"
        "m2,u1,Ann,2024-03-11T00:30:00+08:00,message,Monday morning,,,,\n"
        "m3,u1,Ann,2024-03-11T09:00:00+08:00,reply,again,m2,,,\n"
        "m4,u2,Bob,2024-03-12T09:00:00+08:00,reaction,+1,m2,,,\n"
        "m5,u2,Bob,2024-03-14T09:00:00+08:00,mention,@Ann,,u1,,\n"
    )
    load(community, tmp_path, "edge", rows)

    ann, bob = Member.objects.get(display_name="Ann"), Member.objects.get(display_name="Bob")
    week = (dt.date(2024, 3, 11).toordinal() - 1) // 7
    assert dt.date.fromordinal(week * 7 + 1) == dt.date(2024, 3, 11)  # a Monday
    stored = assert_weeks_match_days()
    assert {key: (row["messages"], row["contribution_days"]) for key, row in stored.items()} == {
        (ann.pk, week - 1): (1, 1),
        (ann.pk, week): (2, 1),
        (bob.pk, week): (0, 0),
    }
    assert stored[(ann.pk, week)]["replies_given"] == 1
    assert stored[(ann.pk, week)]["reactions_received"] == 1
    assert stored[(ann.pk, week)]["mentions_received"] == 1
    assert stored[(ann.pk, week - 1)]["last_signal_day"] == dt.date(2024, 3, 10).toordinal()
    assert stored[(ann.pk, week)]["last_signal_day"] == dt.date(2024, 3, 11).toordinal()
    # Bob only reacted and mentioned: signals, no contribution days
    assert stored[(bob.pk, week)]["last_signal_day"] == dt.date(2024, 3, 14).toordinal()
    assert MemberWeeklyRollup.objects.get(member=ann, week=week).monday == dt.date(2024, 3, 11)


def test_a_week_with_rollups_but_no_signal_has_no_last_signal_day(community, tmp_path):
    rows = HEADER + (
        "m1,u1,Ann,2024-03-04T09:00:00+08:00,message,hello,,,,\n"
        "m2,u2,Bob,2024-03-12T09:00:00+08:00,reply,late answer,m1,,,\n"
    )
    load(community, tmp_path, "quiet", rows)

    ann = Member.objects.get(display_name="Ann")
    row = MemberWeeklyRollup.objects.get(
        member=ann, week=(dt.date(2024, 3, 12).toordinal() - 1) // 7
    )
    assert (row.replies_received, row.contribution_days, row.last_signal_day) == (1, 0, None)


@pytest.mark.parametrize("seed", [1, 7])
def test_overlapping_imports_and_late_reply_targets_keep_weeks_equal_to_days(
    community, tmp_path, seed
):
    received = mock.patch(
        "shequn.interactions.importers.pipeline.add_received_rollups",
        wraps=rollups.add_received_rollups,
    )
    with received as late:
        import_history(community, tmp_path, seed)
    assert late.call_count >= 1  # the third import gave the second one's replies their targets
    stored = assert_weeks_match_days()
    assert len(stored) > 30
    assert len({week for _member, week in stored}) >= 9
    assert sum(row["replies_received"] for row in stored.values()) > 0

    # the same files again add nothing and change no week
    load(
        community, tmp_path, "b-again", chat(seed + 1, "b", MONDAY + dt.timedelta(days=10), 30, 150)
    )
    assert assert_weeks_match_days() == stored


def test_an_import_rewrites_only_the_weeks_it_adds_to(community, tmp_path):
    load(community, tmp_path, "a", chat(3, "a", MONDAY, 21, 100))
    ann = Member.objects.get(display_name="U1")
    first_week = (MONDAY.toordinal() - 1) // 7
    # a tampered week the next import does not touch stays as it is: nothing regroups history
    MemberWeeklyRollup.objects.filter(member=ann, week=first_week).update(messages=999)
    rows = HEADER + "n1,u1,U1,2024-03-27T10:00:00+08:00,message,later,,,,\n"

    with CaptureQueriesContext(connection) as queries:
        load(community, tmp_path, "n", rows)

    assert [q["sql"] for q in queries if WEEKLY_TABLE in q["sql"]].__len__() == 1
    later_week = (dt.date(2024, 3, 27).toordinal() - 1) // 7
    stored = weekly_stored()
    assert stored[(ann.pk, first_week)]["messages"] == 999
    assert stored[(ann.pk, later_week)] == weekly_from_daily()[(ann.pk, later_week)]
    assert stored[(ann.pk, later_week)]["messages"] >= 1


def test_events_recorded_one_at_a_time_update_their_week(community, tmp_path):
    load(community, tmp_path, "a", chat(4, "a", MONDAY, 14, 60))
    ann = Member.objects.get(display_name="U2")
    channel = Channel.objects.get(community=community, external_id="main")
    day = dt.date(2024, 3, 20)
    before = weekly_stored().get((ann.pk, (day.toordinal() - 1) // 7), {}).get("attended", 0)
    events = []
    for number, kind in enumerate([EventKind.ATTEND, EventKind.ATTEND, EventKind.MESSAGE]):
        at = dt.datetime.combine(day, dt.time(10 + number), SHANGHAI)
        events.append(
            InteractionEvent.objects.create(
                community=community,
                channel=channel,
                member=ann,
                kind=kind,
                occurred_at=at,
                day=day,
                source_id=f"recorded-{number}",
                text_length=3,
            )
        )
        rollups.add_rollups_for_events([events[-1].pk])
        assert_weeks_match_days()
    row = MemberWeeklyRollup.objects.get(member=ann, week=(day.toordinal() - 1) // 7)
    assert row.attended == before + 2
    assert row.last_signal_day == day.toordinal()


def test_checking_in_to_an_activity_counts_in_its_week(community):
    from shequn.activities.services import (
        do_check_in,
        do_create_activity,
        do_publish_activity,
        do_register,
    )

    start = timezone.now() - dt.timedelta(days=3)
    meetup = do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Tea",
                "mode": "offline",
                "content_type": "social",
                "place": "Cafe",
                "capacity": 10,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
                "time_zone": "Asia/Shanghai",
            },
        )
    )
    lin = Member.objects.create(community=community, display_name="Lin")
    registration = do_register(meetup, lin, override=True)
    do_check_in(meetup, registration.code, at=start + dt.timedelta(minutes=5))

    stored = assert_weeks_match_days()
    day = start.astimezone(community.zoneinfo).date()
    row = stored[(lin.pk, (day.toordinal() - 1) // 7)]
    assert (row["attended"], row["contribution_days"]) == (1, 1)
    assert row["last_signal_day"] == day.toordinal()


def test_merge_and_unmerge_leave_each_member_its_weeks(community, tmp_path):
    import_history(community, tmp_path)
    before = by_accounts(assert_weeks_match_days())
    source, target = Member.objects.get(display_name="U3"), Member.objects.get(display_name="U4")
    source_weeks = {week for member, week in weekly_stored() if member == source.pk}
    assert source_weeks

    do_merge_members(source, target)

    merged = assert_weeks_match_days()
    assert not MemberWeeklyRollup.objects.filter(member_id=source.pk).exists()
    assert source_weeks <= {week for member, week in merged if member == target.pk}
    assert by_accounts(merged) != before

    do_unmerge(MemberMerge.objects.get())

    assert by_accounts(assert_weeks_match_days()) == before


def test_a_time_zone_change_regroups_the_weeks(community, tmp_path):
    import_history(community, tmp_path)
    other = do_create_community(slug="other", name="Other", time_zone="Asia/Shanghai")
    load(other, tmp_path, "o", chat(9, "o", MONDAY, 14, 40))
    others = {key: row for key, row in weekly_stored().items() if row["community_id"] == other.pk}
    before = weekly_stored()

    do_update_community_profile(community, time_zone="America/Los_Angeles")

    after = assert_weeks_match_days()
    assert after != before  # events near midnight moved to other days, some to other weeks
    assert {key: row for key, row in after.items() if row["community_id"] == other.pk} == others


def test_the_migration_backfills_every_week(community, tmp_path):
    import_history(community, tmp_path)
    expected = assert_weeks_match_days()
    MemberWeeklyRollup.objects.all().delete()
    migration = importlib.import_module("shequn.interactions.migrations.0010_member_weekly_rollup")

    migration.backfill_weekly_rollups(apps, types.SimpleNamespace(connection=connection))

    assert weekly_stored() == expected


def test_rebuilding_weeks_after_daily_rows_were_written_by_hand(community, tmp_path):
    import_history(community, tmp_path)
    ann = Member.objects.get(display_name="U5")
    MemberDailyRollup.objects.create(
        community=community, member=ann, day=dt.date(2023, 1, 2), messages=4, joins=1
    )
    MemberDailyRollup.objects.filter(member=ann, day__gte=MONDAY + dt.timedelta(days=14)).delete()

    rollups.rebuild_weekly_rollups([ann.pk])
    assert_weeks_match_days()
    MemberWeeklyRollup.objects.filter(member__community=community).update(messages=0)
    rollups.rebuild_weekly_rollups(community_id=community.pk)
    assert_weeks_match_days()


# --- read_weeks --------------------------------------------------------------------------------


def weeks_from_daily(
    community, as_of: dt.date, since: dt.date | None = None, members: Iterable[int] | None = None
) -> dict[int, list[tuple[int, int, int, int, int]]]:
    """What ``read_weeks`` must give, from the daily rows: per member, per week with a signal,
    (week, contributions, active days, last signal day, other signals). The commitment points
    are left out: they follow the policy's arithmetic, not the rollups."""
    wanted = None if members is None else set(members)
    weeks: dict[int, dict[int, list[int]]] = {}
    for row in MemberDailyRollup.objects.filter(community=community).values():
        day = row["day"]
        if day > as_of or (since is not None and day < since):
            continue
        if wanted is not None and row["member_id"] not in wanted:
            continue
        if not any(row[column] for column in SIGNALS):
            continue
        ordinal = day.toordinal()
        week = weeks.setdefault(row["member_id"], {}).setdefault((ordinal - 1) // 7, [0, 0, 0, 0])
        week[0] += row["messages"] + row["attended"]
        week[1] += 1 if row["messages"] or row["attended"] else 0
        week[2] = max(week[2], ordinal)
        week[3] += row["mentions_given"] + row["reactions_given"] + row["joins"]
    return {
        member: [(week, *values) for week, values in sorted(member_weeks.items())]
        for member, member_weeks in sorted(weeks.items())
    }


def without_commitment(weeks: dict[int, list[tuple]]) -> dict[int, list[tuple]]:
    return {
        member: [
            (w, contributions, days, last, others)
            for w, contributions, _c, days, last, others in rows
        ]
        for member, rows in weeks.items()
    }


def test_read_weeks_stops_at_the_as_of_day_in_the_middle_of_a_week(community, tmp_path):
    rows = HEADER + (
        "m1,u1,Ann,2024-03-05T09:00:00+08:00,message,last week,,,,\n"
        "m2,u1,Ann,2024-03-11T09:00:00+08:00,message,monday,,,,\n"
        "m3,u1,Ann,2024-03-13T09:00:00+08:00,reply,wednesday,m2,,,\n"
        "m4,u1,Ann,2024-03-15T09:00:00+08:00,message,friday,,,,\n"
        "m5,u1,Ann,2024-03-17T09:00:00+08:00,message,sunday,,,,\n"
    )
    load(community, tmp_path, "week", rows)
    ann = Member.objects.get(display_name="Ann")
    rules = rules_of(tier_policy(community))
    week = (dt.date(2024, 3, 11).toordinal() - 1) // 7

    wednesday = read_weeks(community, rules, dt.date(2024, 3, 13))
    whole = read_weeks(community, rules, dt.date(2024, 3, 17))

    assert without_commitment(wednesday) == {
        ann.pk: [(week - 1, 1, 1, dt.date(2024, 3, 5).toordinal(), 0),
                 (week, 2, 2, dt.date(2024, 3, 13).toordinal(), 0)],
    }  # fmt: skip
    assert without_commitment(whole)[ann.pk][-1] == (
        week,
        4,
        4,
        dt.date(2024, 3, 17).toordinal(),
        0,
    )
    assert wednesday[ann.pk][-1][2] < whole[ann.pk][-1][2]  # fewer messages, fewer points
    # from this Monday: last week is left out; from the next one, nothing is left
    since = read_weeks(community, rules, dt.date(2024, 3, 13), since=dt.date(2024, 3, 11))
    assert [row[0] for row in since[ann.pk]] == [week]
    assert read_weeks(community, rules, dt.date(2024, 3, 13), since=dt.date(2024, 3, 18)) == {}
    with pytest.raises(ValueError, match="Monday"):
        read_weeks(community, rules, dt.date(2024, 3, 13), since=dt.date(2024, 3, 12))


def test_read_weeks_takes_whole_weeks_from_the_weekly_table(community, tmp_path):
    rows = HEADER + (
        "m1,u1,Ann,2024-03-05T09:00:00+08:00,message,last week,,,,\n"
        "m2,u1,Ann,2024-03-12T09:00:00+08:00,message,this week,,,,\n"
    )
    load(community, tmp_path, "week", rows)
    rules = rules_of(tier_policy(community))
    MemberWeeklyRollup.objects.update(messages=7)

    weeks = without_commitment(read_weeks(community, rules, dt.date(2024, 3, 13)))

    # the finished week as kept, the as-of week from its days
    assert [row[1] for rows in weeks.values() for row in rows] == [7, 1]


def test_read_weeks_equals_grouping_the_daily_rows(community, tmp_path):
    import_history(community, tmp_path, seed=11)
    rules = rules_of(tier_policy(community))
    some = list(Member.objects.filter(community=community).values_list("pk", flat=True)[:5])
    checked = 0
    for offset in range(-22, 40, 3):
        as_of = MONDAY + dt.timedelta(days=offset)
        for since in (None, MONDAY, MONDAY + dt.timedelta(days=14)):
            for members in (None, some):
                got = without_commitment(read_weeks(community, rules, as_of, members, since))
                assert got == weeks_from_daily(community, as_of, since, members), (as_of, since)
                checked += sum(len(rows) for rows in got.values())
    assert checked > 500


def test_the_admin_lists_weeks_and_lets_nobody_edit_them(community, tmp_path, admin_client):
    from django.utils.formats import date_format

    load(community, tmp_path, "a", chat(5, "a", MONDAY, 7, 20))
    row = MemberWeeklyRollup.objects.order_by("pk").first()
    before = row.messages

    listing = admin_client.get("/admin/interactions/memberweeklyrollup/")
    change = f"/admin/interactions/memberweeklyrollup/{row.pk}/change/"

    assert listing.status_code == 200
    assert date_format(MONDAY) in listing.content.decode()
    assert admin_client.get("/admin/interactions/memberweeklyrollup/add/").status_code == 403
    assert admin_client.post(change, {"messages": before + 5}).status_code == 403
    row.refresh_from_db()
    assert row.messages == before


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer at a time: nothing to race"
)
def test_two_writers_adding_to_one_week_lose_neither_day(transactional_db):
    """Writer A has added a day of a week and not committed yet when writer B adds another day
    of that week: B's week must include A's day once A commits (B waits for it)."""
    import threading

    from django.db import transaction

    community = do_create_community(slug="race", name="Race", time_zone="UTC")
    channel = Channel.objects.create(community=community, platform="csv", external_id="race")
    ann = Member.objects.create(community=community, display_name="Ann")
    a_wrote, a_may_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write(day: dt.date, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                event = InteractionEvent.objects.create(
                    community=community,
                    channel=channel,
                    member=ann,
                    kind=EventKind.MESSAGE,
                    occurred_at=dt.datetime.combine(day, dt.time(12), dt.UTC),
                    day=day,
                    source_id=f"race-{day}",
                )
                rollups.add_rollups_for_events([event.pk])
                if hold:
                    a_wrote.set()
                    assert a_may_commit.wait(timeout=30)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=write, args=(MONDAY,), kwargs={"hold": True})
    b = threading.Thread(
        target=write, args=(MONDAY + dt.timedelta(days=2),), kwargs={"hold": False}
    )
    a.start()
    assert a_wrote.wait(timeout=30)
    b.start()
    b.join(timeout=1)  # B is now waiting for A
    a_may_commit.set()
    a.join(timeout=30)
    b.join(timeout=30)

    assert errors == []
    row = MemberWeeklyRollup.objects.get(member=ann)
    assert (row.messages, row.contribution_days) == (2, 2)
    assert weekly_stored() == weekly_from_daily()
    ann.refresh_from_db()
    assert ann.message_total == 2


def test_a_daily_rollup_deleted_in_the_admin_leaves_its_week_and_totals(community, tmp_path):
    """Daily rollups are read-only in the admin; one deleted there is regrouped out of its
    member's week and lifetime totals at once."""
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    import_history(community, tmp_path)
    days = site._registry[MemberDailyRollup]
    request = RequestFactory().get("/")
    assert not days.has_change_permission(request) and not days.has_add_permission(request)
    row = MemberDailyRollup.objects.filter(messages__gt=0).order_by("pk").first()
    member = row.member
    total = member.message_total

    days.delete_queryset(request, MemberDailyRollup.objects.filter(pk=row.pk))

    assert_weeks_match_days()
    member.refresh_from_db()
    assert member.message_total == total - row.messages
