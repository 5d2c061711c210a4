"""An incremental recompute after each import gives the same tiers and history as recomputing
everything from scratch, whatever the imports bring: new members, old history, replies whose
question arrives in a later import, leaving, and time moving on."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
import threading
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.communities.services import do_create_community
from shequn.interactions.services import do_import
from shequn.members.models import Member, MemberMerge
from shequn.members.services import do_merge_members, do_unmerge
from shequn.tiers import arrays, batch
from shequn.tiers.models import MemberTier, TierChange, TierPolicy, TierRun
from shequn.tiers.services import do_recompute_tiers

pytestmark = pytest.mark.django_db

START = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
PEOPLE = ["ann", "bob", "cid", "dee", "eve", "fay"]
_slugs = itertools.count()

# An event: (who, day after START, kind, which message it answers, which import brings it)
events = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.integers(min_value=0, max_value=200),
        st.sampled_from(["message", "message", "message", "reply", "leave"]),
        st.integers(min_value=0, max_value=40),
        st.integers(min_value=0, max_value=3),
    ),
    min_size=2,
    max_size=40,
)


def _chatlab(rows: list[dict], folder: Path, name: str) -> Path:
    path = folder / f"{name}.json"
    document = {
        "chatlab": {"version": "0.0.2", "exportedAt": 1703001600},
        "meta": {"name": "g", "platform": "wechat", "type": "group", "groupId": "g1"},
        "members": [],
        "messages": rows,
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _messages(drawn: list[tuple[str, int, str, int, int]]) -> list[dict]:
    rows = []
    for index, (who, day, kind, parent, _batch) in enumerate(drawn):
        stamp = int((START + dt.timedelta(days=day)).timestamp()) + index
        row = {
            "platformMessageId": f"e{index}",
            "sender": who,
            "accountName": who.title(),
            "timestamp": stamp,
            "type": 0,
            "content": "hi @Bob" if index % 7 == 3 else "hi",
        }
        if kind == "reply" and parent < len(drawn) and parent != index:
            row["type"] = 25
            row["replyToMessageId"] = f"e{parent}"
        elif kind == "leave":
            row["type"] = 80
            row["content"] = f"{who.title()} left the group"
        rows.append(row)
    return rows


def _state(community) -> tuple[list, list]:
    tiers = sorted(
        MemberTier.objects.filter(community=community).values_list(
            "member_id",
            "tier",
            "since",
            "reasons",
            "progress",
            "at_risk",
            "risk",
            "is_staff",
            "gone_on",
        )
    )
    changes = sorted(
        TierChange.objects.filter(community=community).values_list(
            "member_id", "changed_on", "from_tier", "to_tier", "reasons"
        )
    )
    return tiers, changes


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=events,
    cadence=st.sampled_from(["week", "month", "quarter"]),
    merge_after=st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    undo_after=st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    later=st.integers(min_value=0, max_value=90),
    # Members read and replayed a few at a time (overlapped on a worker thread), or all at once.
    group=st.sampled_from([2, 3, arrays.GROUP]),
    joined=st.one_of(
        st.none(),
        st.tuples(
            st.sampled_from(PEOPLE),
            st.integers(min_value=0, max_value=200),
            st.integers(min_value=0, max_value=3),
        ),
    ),
)
def test_incremental_runs_equal_a_full_recompute(
    db, drawn, cadence, merge_after, undo_after, later, group, joined
):
    with mock.patch.object(arrays, "GROUP", group):
        _imports_equal_a_full_recompute(drawn, cadence, merge_after, undo_after, later, joined)


def _imports_equal_a_full_recompute(drawn, cadence, merge_after, undo_after, later, joined):
    community = do_create_community(slug=f"prop{next(_slugs)}", name="Prop")
    TierPolicy.objects.create(community=community, downgrade_cadence=cadence)
    rows = _messages(drawn)
    # Imports in any order: a later export, an older one, a reply before its question.
    batches = [
        [row for row, event in zip(rows, drawn, strict=True) if event[4] == number]
        for number in range(4)
    ]
    batches = [batch for batch in batches if batch]
    with tempfile.TemporaryDirectory() as folder:
        for number, batch in enumerate(batches):
            do_import(community, _chatlab(batch, Path(folder), f"part{number}"))
            do_recompute_tiers(community)
            if joined and joined[2] == number:  # a member list says when someone joined
                Member.objects.filter(community=community, display_name=joined[0].title()).update(
                    joined_at=START + dt.timedelta(days=joined[1])
                )
                do_recompute_tiers(community)
            if number == merge_after:  # an operator merges two members between imports
                found = {m.display_name: m for m in Member.objects.filter(community=community)}
                if "Eve" in found and "Fay" in found:
                    do_merge_members(found["Eve"], found["Fay"])
                    do_recompute_tiers(community)
            merge = MemberMerge.objects.filter(community=community, undone_at=None).first()
            if merge is not None and undo_after is not None and number >= undo_after:
                do_unmerge(merge)  # ... and undoes it, at once or some imports later
                do_recompute_tiers(community)
    # Judged later than the data's last day (e.g. today, for a live community).
    as_of = do_recompute_tiers(community).as_of + dt.timedelta(days=later)
    do_recompute_tiers(community, as_of=as_of)
    incremental = _state(community)

    # The digests the incremental runs kept say the stored rows are what a full run computes
    # (the array replay), and comparing every row by value agrees.
    assert do_recompute_tiers(community, full=True, as_of=as_of).rewritten == 0
    assert do_recompute_tiers(community, full=True, rebuild=True, as_of=as_of).rewritten == 0
    assert _state(community) == incremental


def _six_members(tmp_path, slug: str):
    community = do_create_community(slug=slug, name=slug.title())
    drawn = [(who, day, "message", 0, 0) for day in range(0, 120, 3) for who in PEOPLE[:4]]
    drawn += [("bob", 130, "reply", 1, 0), ("eve", 5, "message", 0, 0), ("fay", 90, "reply", 3, 0)]
    do_import(community, _chatlab(_messages(drawn), tmp_path, "part0"))
    return community


def test_members_replayed_in_groups_on_a_worker_thread_give_the_same_rows(
    db, tmp_path, monkeypatch
):
    community = _six_members(tmp_path, "groups")
    do_recompute_tiers(community)  # all six in one group, on this thread
    expected = _state(community)
    calls = []
    replay = batch.replay

    def spy(data, *args, **kwargs):
        calls.append((threading.current_thread().name, data.member_ids.tolist()))
        return replay(data, *args, **kwargs)

    monkeypatch.setattr(arrays, "GROUP", 2)
    monkeypatch.setattr(batch, "replay", spy)
    assert do_recompute_tiers(community, full=True, rebuild=True).rewritten == 0
    assert _state(community) == expected
    members = sorted(Member.objects.filter(community=community).values_list("pk", flat=True))
    assert [ids for _name, ids in calls] == [members[0:2], members[2:4], members[4:6]]
    assert all(name.startswith("shequn-tiers") for name, _ids in calls)


def test_a_group_whose_replay_fails_leaves_every_stored_tier_as_it_was(db, tmp_path, monkeypatch):
    community = _six_members(tmp_path, "failing")
    do_recompute_tiers(community)
    expected, runs = _state(community), TierRun.objects.count()
    MemberTier.objects.filter(community=community).update(reasons=[])  # the next run repairs
    tampered = _state(community)
    replay = batch.replay
    first = min(Member.objects.filter(community=community).values_list("pk", flat=True))

    def second_fails(data, *args, **kwargs):  # (on the worker thread: no database here)
        if data.member_ids[0] != first:
            raise RuntimeError("replay failed")
        return replay(data, *args, **kwargs)

    monkeypatch.setattr(arrays, "GROUP", 2)
    monkeypatch.setattr(batch, "replay", second_fails)
    with pytest.raises(RuntimeError, match="replay failed"):
        do_recompute_tiers(community, full=True, rebuild=True)
    assert _state(community) == tampered
    assert TierRun.objects.count() == runs
    monkeypatch.setattr(batch, "replay", replay)
    do_recompute_tiers(community, full=True, rebuild=True)
    assert _state(community) == expected


def test_a_full_run_rewrites_exactly_the_rows_that_differ_from_its_results(db, tmp_path):
    """A run writes only rows that differ from what it computes; anything stored that is not
    what the run computes (a tampered reason, a lost or an invented step) is put right by a
    run with ``rebuild``, which compares values; a plain full run trusts the digests."""
    community = do_create_community(slug="repair", name="Repair")
    drawn = [(who, day, "message", 0, 0) for day in range(0, 120, 3) for who in PEOPLE[:4]]
    drawn += [("bob", 130, "reply", 0, 0), ("eve", 5, "message", 0, 0)]
    do_import(community, _chatlab(_messages(drawn), tmp_path, "part0"))
    do_recompute_tiers(community)
    expected = _state(community)
    untouched = MemberTier.objects.get(member__display_name="Cid")

    ann = MemberTier.objects.get(member__display_name="Ann")
    MemberTier.objects.filter(pk=ann.pk).update(
        tier="lapsed", reasons=[{"code": "no_activity"}], at_risk=not ann.at_risk
    )
    bob = Member.objects.get(display_name="Bob")
    TierChange.objects.filter(member=bob).order_by("changed_on").first().delete()
    eve = Member.objects.get(display_name="Eve")
    TierChange.objects.create(
        member=eve, community=community, from_tier="lapsed", to_tier="advocate",
        changed_on=dt.date(2024, 3, 1), reasons=[{"code": "invented"}],
    )  # fmt: skip
    dee = MemberTier.objects.get(member__display_name="Dee")
    MemberTier.objects.filter(pk=dee.pk).update(progress={"next_tier": None, "steps": []})
    assert _state(community) != expected
    tampered = _state(community)

    assert do_recompute_tiers(community, full=True).rewritten == 0
    assert _state(community) == tampered

    assert do_recompute_tiers(community, full=True, rebuild=True).rewritten == 4
    assert _state(community) == expected
    # A member whose row was already right keeps it as it was.
    assert MemberTier.objects.get(member__display_name="Cid").pk == untouched.pk


def test_rows_without_fingerprints_are_rewritten_once(db, tmp_path):
    """Rows written before fingerprints existed (NULL) are rewritten by the next full run, and
    an incremental run keeps a history fingerprint it cannot complete unknown, not wrong."""
    community = do_create_community(slug="legacy", name="Legacy")
    drawn = [(who, day, "message", 0, 0) for day in range(0, 90, 4) for who in PEOPLE[:3]]
    do_import(community, _chatlab(_messages(drawn), tmp_path, "part0"))
    do_recompute_tiers(community)
    expected = _state(community)
    MemberTier.objects.filter(community=community).update(row_digest=None, path_digest=None)
    TierChange.objects.filter(community=community).update(digest=None)

    later = _messages([(who, 95, "message", 0, 0) for who in PEOPLE[:3]])
    for row in later:
        row["platformMessageId"] += "-later"
    do_import(community, _chatlab(later, tmp_path, "part1"))  # an incremental run follows
    assert TierRun.objects.filter(community=community, full=False).exists()
    assert MemberTier.objects.filter(community=community, path_digest=None).count() == 3

    assert do_recompute_tiers(community, full=True).rewritten == 3
    assert not MemberTier.objects.filter(community=community, path_digest=None).exists()
    assert not TierChange.objects.filter(community=community, digest=None).exists()
    assert do_recompute_tiers(community, full=True).rewritten == 0
    assert _state(community) != expected  # the later messages counted
    assert do_recompute_tiers(community, full=True, rebuild=True).rewritten == 0


def test_a_downgrade_replayed_later_names_the_silence_before_the_days_read(db, tmp_path):
    """Held (quarterly reviews) past a long silence, then back months later: the incremental
    run replays from the held week, whose last signal lies before the days it reads. The
    lapse it records must name that silence, as a full run does (it said "no activity")."""
    community = do_create_community(slug="held", name="Held")
    TierPolicy.objects.create(community=community, downgrade_cadence="quarter")
    day = lambda date: (date - START.date()).days  # noqa: E731
    first = [
        ("ann", d, "message", 0, 0)
        for d in range(day(dt.date(2024, 10, 1)), day(dt.date(2024, 12, 16)), 3)
    ]
    bob_days = range(day(dt.date(2024, 10, 1)), day(dt.date(2025, 4, 1)), 5)
    first += [("bob", d, "message", 0, 0) for d in bob_days]
    do_import(community, _chatlab(_messages(first), tmp_path, "part0"))
    ann = Member.objects.get(community=community, display_name="Ann")
    assert MemberTier.objects.get(member=ann).tier == "participant"  # held until April

    july = range(day(dt.date(2025, 7, 1)), day(dt.date(2025, 7, 10)))
    later = _messages([(who, d, "message", 0, 0) for who in ("ann", "bob") for d in july])
    for row in later:
        row["platformMessageId"] += "-later"
    do_import(community, _chatlab(later, tmp_path, "part1"))
    incremental = _state(community)
    lapse = TierChange.objects.get(member=ann, to_tier="lapsed")
    assert lapse.reasons[0]["code"] == "silent"

    assert do_recompute_tiers(community, full=True).rewritten == 0
    assert _state(community) == incremental


def test_tier_rows_are_read_only_in_the_admin_and_a_deleted_step_comes_back(db, tmp_path):
    """A full run trusts fingerprints, so the admin does not let anyone edit tier rows; a step
    deleted there clears its member's fingerprint and the next full run writes it again."""
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    community = do_create_community(slug="admin", name="Admin")
    drawn = [(who, day, "message", 0, 0) for day in range(0, 60, 3) for who in PEOPLE[:2]]
    do_import(community, _chatlab(_messages(drawn), tmp_path, "part0"))
    expected = _state(community)
    request = RequestFactory().get("/")
    changes = site._registry[TierChange]
    assert not changes.has_change_permission(request) and not changes.has_add_permission(request)
    assert not site._registry[MemberTier].has_change_permission(request)

    ann = Member.objects.get(community=community, display_name="Ann")
    changes.delete_queryset(request, TierChange.objects.filter(member=ann))
    assert _state(community) != expected

    assert do_recompute_tiers(community, full=True).rewritten == 1
    assert _state(community) == expected
