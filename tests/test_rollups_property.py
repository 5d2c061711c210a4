"""Property: daily rollups, and the weekly ones grouped from them, always equal a recount from the
raw events, whatever was imported."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from shequn.communities.services import do_create_community
from shequn.interactions.importers import pipeline
from shequn.interactions.importers.base import Source
from shequn.interactions.importers.pipeline import ImportPipeline
from shequn.interactions.importers.records import ChannelRecord, EventRecord, MemberRecord, Record
from shequn.interactions.models import (
    MESSAGE_KINDS,
    ROLLUP_COLUMNS,
    EventKind,
    InteractionEvent,
    MemberDailyRollup,
    MemberWeeklyRollup,
)
from shequn.members.models import Identity, Member, MemberMerge
from shequn.members.services import do_merge_members, do_unmerge

TIME_ZONE = "Asia/Shanghai"
START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
USERS = [f"u{i}" for i in range(5)]


class StreamSource(Source):
    """An in-memory source: the records hypothesis drew."""

    format_name = "stream"
    total_bytes = 0

    def __init__(self, events: list[EventRecord]) -> None:
        self.path = Path("<stream>")
        self.channel_override = None
        self.counts = Counter()
        self._readers = []
        self._done_before = 0
        self._events = events

    def records(self) -> Iterator[Record]:
        for channel in ("c0", "c1"):
            yield ChannelRecord(key=channel, platform="csv", name=channel)
        yield MemberRecord(channel="c0", platform_user_id="u0", display_name="Zero", role="founder")
        yield from self._events


event_records = st.builds(
    EventRecord,
    channel=st.sampled_from(["c0", "c1"]),
    source_id=st.sampled_from([f"e{i}" for i in range(25)]),
    kind=st.sampled_from(list(EventKind.values)),
    occurred_at=st.integers(0, 5 * 24 * 60).map(
        lambda minutes: START + dt.timedelta(minutes=minutes)
    ),
    actor=st.one_of(st.none(), st.sampled_from(USERS)),
    target=st.one_of(st.none(), st.sampled_from(USERS)),
    text=st.one_of(st.none(), st.text(max_size=12)),
    parent=st.one_of(st.none(), st.sampled_from([f"e{i}" for i in range(25)])),
)


def recount() -> dict[tuple[int, dt.date], Counter[str]]:
    tz = zoneinfo.ZoneInfo(TIME_ZONE)
    expected: dict[tuple[int, dt.date], Counter[str]] = defaultdict(Counter)
    for event in InteractionEvent.objects.all():
        day = event.occurred_at.astimezone(tz).date()
        given_column, received_column = ROLLUP_COLUMNS.get(event.kind, (None, None))
        if event.member_id is not None:
            if event.kind in MESSAGE_KINDS:
                expected[(event.member_id, day)]["messages"] += 1
                expected[(event.member_id, day)]["characters"] += event.text_length
            if given_column and given_column != "messages":
                expected[(event.member_id, day)][given_column] += 1
        if event.target_member_id is not None and received_column:
            expected[(event.target_member_id, day)][received_column] += 1
    return {key: counts for key, counts in expected.items() if any(counts.values())}


def who_did_what() -> dict[str, tuple[frozenset[int], frozenset[int]]]:
    """Each event's actor and target, as the set of accounts of that member (ids survive merges)."""
    accounts: dict[int | None, frozenset[int]] = {None: frozenset()}
    for identity_id, member_id in Identity.objects.values_list("id", "member_id"):
        accounts[member_id] = accounts.get(member_id, frozenset()) | {identity_id}
    return {
        f"{channel}:{source}": (accounts[member], accounts[target])
        for channel, source, member, target in InteractionEvent.objects.values_list(
            "channel_id", "source_id", "member_id", "target_member_id"
        )
    }


def unresolved_replies_with_a_known_parent() -> int:
    parents = {
        (channel, source)
        for channel, source in InteractionEvent.objects.filter(identity__isnull=False).values_list(
            "channel_id", "source_id"
        )
    }
    return sum(
        1
        for channel, parent in InteractionEvent.objects.filter(
            kind__in=["reply", "reaction"],
            target_identity__isnull=True,
            parent_source_id__isnull=False,
        ).values_list("channel_id", "parent_source_id")
        if (channel, parent) in parents
    )


def targets_not_following_their_accounts() -> list[str]:
    """Every target member is its target account's member, except when that is the actor."""
    owner = dict(Identity.objects.values_list("id", "member_id"))
    wrong = []
    for source, member, target, target_identity in InteractionEvent.objects.values_list(
        "source_id", "member_id", "target_member_id", "target_identity_id"
    ):
        expected = owner.get(target_identity)
        if expected == member:
            expected = None
        if target != expected:
            wrong.append(source)
    return wrong


def stored() -> dict[tuple[int, dt.date], Counter[str]]:
    result = {}
    for row in MemberDailyRollup.objects.values():
        key = (row.pop("member_id"), row.pop("day"))
        for column in ("id", "community_id"):
            row.pop(column)
        result[key] = Counter({k: v for k, v in row.items() if v})
    return result


def weeks_of(days: dict[tuple[int, dt.date], Counter[str]]) -> dict[tuple[int, int], Counter[str]]:
    """Daily counts grouped by member and Monday-to-Sunday week, as the weekly rollups hold
    them (zero counters left out)."""
    signals = ("messages", "attended", "mentions_given", "reactions_given", "joins")
    weeks: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for (member_id, day), counts in days.items():
        week = weeks[(member_id, (day.toordinal() - 1) // 7)]
        week.update(counts)
        week["contribution_days"] += 1 if counts["messages"] or counts["attended"] else 0
        if any(counts[column] for column in signals):
            week["last_signal_day"] = max(week["last_signal_day"], day.toordinal())
    return {key: +counts for key, counts in weeks.items()}


def weeks_stored() -> dict[tuple[int, int], Counter[str]]:
    result = {}
    for row in MemberWeeklyRollup.objects.values():
        key = (row.pop("member_id"), row.pop("week"))
        for column in ("id", "community_id"):
            row.pop(column)
        result[key] = Counter({k: v for k, v in row.items() if v})
    return result


def totals_recount() -> dict[int, tuple[int, int, dt.date | None]]:
    """What each member's kept totals must be: the recount's lifetime sums and last active day."""
    totals = {member_id: (0, 0, None) for member_id in Member.objects.values_list("id", flat=True)}
    for (member_id, day), counts in recount().items():
        messages, received, last = totals[member_id]
        active = ("messages", "attended", "mentions_given", "reactions_given")
        if any(counts[column] for column in active):
            last = day if last is None else max(last, day)
        totals[member_id] = (
            messages + counts["messages"],
            received + counts["reactions_received"],
            last,
        )
    return totals


def totals_stored() -> dict[int, tuple[int, int, dt.date | None]]:
    return {
        member_id: (messages, received, last)
        for member_id, messages, received, last in Member.objects.values_list(
            "id", "message_total", "reactions_received_total", "last_active_on"
        )
    }


@override_settings(SHEQUN_IMPORT_BATCH_SIZE=4)
class RollupsMatchRawEvents(TestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        streams=st.lists(st.lists(event_records, max_size=20), min_size=1, max_size=3),
        order=st.lists(st.integers(0, 2), min_size=1, max_size=5),
        merge=st.booleans(),
        remembered=st.sampled_from([1, 3, 100_000]),
    )
    def test_rollups_equal_a_recount_after_any_imports(self, streams, order, merge, remembered):
        community = do_create_community(slug="prop", name="Prop", time_zone=TIME_ZONE)
        # Every stream once, then repeats in a drawn order: re-imports must not change counts.
        # A short memory of recent messages sends more replies through the SQL fallback.
        with mock.patch.object(pipeline, "RECENT_MESSAGES", remembered):
            for index in [*range(len(streams)), *order]:
                ImportPipeline(community, StreamSource(streams[index % len(streams)])).run()
        self.assertEqual(stored(), recount())
        self.assertEqual(weeks_stored(), weeks_of(recount()))
        self.assertEqual(totals_stored(), totals_recount())
        self.assertEqual(unresolved_replies_with_a_known_parent(), 0)
        self.assertEqual(targets_not_following_their_accounts(), [])
        members = list(Member.objects.order_by("id"))
        if merge and len(members) >= 2:
            before = who_did_what()
            do_merge_members(members[-1], members[0])
            self.assertEqual(stored(), recount())
            self.assertEqual(weeks_stored(), weeks_of(recount()))
            self.assertEqual(totals_stored(), totals_recount())
            do_unmerge(MemberMerge.objects.get())
            self.assertEqual(stored(), recount())
            self.assertEqual(weeks_stored(), weeks_of(recount()))
            self.assertEqual(totals_stored(), totals_recount())
            self.assertEqual(who_did_what(), before)
