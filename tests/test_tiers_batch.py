"""The array replay (``shequn.tiers.batch``) gives what the per-member engine gives.

Generated members (weeks of activity, join and leave days, help given, invitations, advocacy
acts) under generated policies are replayed both ways; every tier, date, reason, progress step,
risk and history step must be equal.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from operator import itemgetter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.tiers import batch
from shequn.tiers.batch import BatchInput, replay
from shequn.tiers.digest import Fingerprints, path_total, with_member
from shequn.tiers.engine import (
    NEVER,
    Calendar,
    MemberInput,
    WeekRow,
    commitment_units,
    evaluate,
    week_of,
)
from shequn.tiers.models import TIER_BY_RANK
from shequn.tiers.policy import DEFAULT_WEIGHTS, Rules

AS_OF_CHOICES = [dt.date(2025, 3, 9), dt.date(2025, 3, 12), dt.date(2025, 6, 30)]
KINDS = {"testimonial": "testimonial", "hosted": "host"}


# How the rows the replay reads map to the reference engine's input (the join day and the
# advocacy acts are signals, the acts contributions).
def _with_acts(
    weeks: list[WeekRow], acts: list[tuple[int, str, int, str]], rules: Rules
) -> list[WeekRow]:
    """Fold provider acts (hosting, speaking, …) into the week rows: each is a contribution
    that earns its kind's commitment weight."""
    by_week = {row[0]: list(row) for row in weeks}
    for day, _code, count, kind in acts:
        week = week_of(day)
        row = by_week.setdefault(week, [week, 0, 0, 0, day, 0])
        row[1] += count
        row[2] += commitment_units(rules.weights.get(kind, 0)) * count
        row[3] += 1
        row[4] = max(row[4], day)
    return [tuple(by_week[week]) for week in sorted(by_week)]  # type: ignore[misc]


def _with_join(
    weeks: list[WeekRow], joined: int | None, as_of: int, since: int | None
) -> list[WeekRow]:
    """The join date the member record knows of (e.g. from a member list, without a join
    event) is a signal too. Only inside the days read (``since``), so a replay from a later
    week sees exactly the rows a full replay sees there."""
    if joined is None or joined > as_of or (since is not None and joined < since):
        return weeks
    week = week_of(joined)
    i = bisect_left(weeks, week, key=itemgetter(0))
    if i < len(weeks) and weeks[i][0] == week:
        row = weeks[i]
        if row[4] >= joined:  # that week already has a later signal (often the join event)
            return weeks
        return [*weeks[:i], (*row[:4], joined, row[5]), *weeks[i + 1 :]]
    return [*weeks[:i], (week, 0, 0, 0, joined, 1), *weeks[i:]]


@st.composite
def rules_strategy(draw: st.DrawFn) -> Rules:
    window = draw(st.integers(2, 14))
    share = draw(st.integers(1, 100))
    weights = dict(DEFAULT_WEIGHTS)
    if draw(st.booleans()):
        weights.update(message=0.3, reply=0.7, host=12.5, testimonial=0.1)
    return Rules(
        window_weeks=window,
        lapse_days=draw(st.integers(7, 70)),
        advocate_min_weeks=max(1, -(-share * window // 100)),
        advocate_active_share=share,
        advocate_min_helped=draw(st.integers(1, 3)),
        helped_by_mentions=True,
        invitee_min_days=7,
        participant_min_weeks=draw(st.integers(1, 5)),
        participant_min_commitment=float(draw(st.sampled_from([0, 3, 10, 30]))),
        weights=weights,
        cadence=draw(st.sampled_from(["week", "month", "quarter"])),
        risk_recent_weeks=draw(st.integers(1, 4)),
        risk_baseline_weeks=draw(st.integers(1, 8)),
        risk_drop_percent=draw(st.integers(10, 90)),
        risk_low_weeks=draw(st.integers(0, 3)),
        risk_min_weekly=draw(st.sampled_from([0.0, 0.5, 2.0])),
    )


@st.composite
def member_strategy(draw: st.DrawFn, member_id: int, as_of: int, rules: Rules) -> dict:
    last_week = week_of(as_of)
    span = draw(st.integers(1, 70))
    weeks = sorted(
        draw(st.sets(st.integers(last_week - span, last_week), max_size=min(span + 1, 30)))
    )
    w_message = commitment_units(rules.weights["message"])
    w_reply = commitment_units(rules.weights["reply"])
    rows = []
    for week in weeks:
        messages = draw(st.integers(0, 6))
        replies = draw(st.integers(0, messages))
        days = draw(st.integers(1 if messages else 0, 7 if messages else 0))
        top = min(week * 7 + 7, as_of)
        last = draw(st.integers(week * 7 + 1, top))
        others = draw(st.integers(0 if messages else 1, 3))
        commitment = w_message * (messages - replies) + w_reply * replies
        rows.append((week, messages, commitment, days, last, others))
    ties = []
    for week in draw(st.sets(st.integers(last_week - span - 3, last_week), max_size=8)):
        pairs = draw(
            st.lists(
                st.tuples(st.integers(1000, 1004), st.integers(0, 3), st.integers(0, 2)),
                min_size=1,
                max_size=3,
            )
        )
        ties.append((week, pairs))
    ties.sort(key=lambda item: item[0])
    day_range = st.integers(as_of - span * 7 - 30, as_of + 10)
    joined = draw(st.one_of(st.none(), day_range))
    gone = draw(st.one_of(st.none(), st.none(), day_range))
    invites = sorted(
        draw(st.lists(st.tuples(day_range, st.integers(2000, 2005)), max_size=3, unique=True))
    )
    acts = sorted(
        draw(
            st.lists(
                st.tuples(
                    st.integers(as_of - span * 7, as_of),
                    st.sampled_from(sorted(KINDS)),
                    st.integers(1, 3),
                ),
                max_size=3,
            )
        )
    )
    return {
        "id": member_id,
        "rows": rows,
        "ties": ties,
        "joined": joined,
        "gone": gone,
        "gone_code": draw(st.sampled_from(["left", "muted"])),
        "invites": invites,
        "acts": acts,
    }


def _fingerprints(rules: Rules, cal: Calendar) -> Fingerprints:
    return Fingerprints(rules, sorted(KINDS))


def _reference(member: dict, rules: Rules, cal: Calendar):
    rows = member["rows"]
    if member["joined"] is not None:
        rows = _with_join(rows, member["joined"], cal.as_of, None)
    return _evaluate(member, rows, member["ties"], rules, cal)


def _evaluate(member: dict, rows: list, ties: list, rules: Rules, cal: Calendar, **start):
    """The engine over ``rows`` (with the member's acts folded in) and ``ties``."""
    acts = [(day, code, count, KINDS[code]) for day, code, count in member["acts"]]
    if acts:
        rows = _with_acts(rows, acts, rules)
    return evaluate(
        MemberInput(
            member["id"],
            rows,
            ties,
            member["invites"],
            member["acts"],
            member["gone"],
            member["gone_code"],
        ),
        rules,
        cal,
        fingerprints=_fingerprints(rules, cal),
        **start,
    )


def _replay(members: list[dict], rules: Rules, cal: Calendar, wanted=None) -> list:
    return replay(_batch_input(members), rules, cal, _fingerprints(rules, cal), wanted)


def _batch_input(members: list[dict]) -> BatchInput:
    def array(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    rows = [(i, *row) for i, m in enumerate(members) for row in m["rows"]]
    ties = [
        (i, week, *pair)
        for i, m in enumerate(members)
        for week, pairs in m["ties"]
        for pair in pairs
    ]
    invites = [(i, day) for i, m in enumerate(members) for day, _invitee in m["invites"]]
    acts = [(i, *act) for i, m in enumerate(members) for act in m["acts"]]
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 7
    tie_columns = list(zip(*ties, strict=True)) if ties else [[]] * 5
    return BatchInput(
        member_ids=array([m["id"] for m in members]),
        joined=array([NEVER if m["joined"] is None else m["joined"] for m in members]),
        gone=array([NEVER if m["gone"] is None else m["gone"] for m in members]),
        gone_code=[m["gone_code"] for m in members],
        row_member=array(columns[0]),
        row_week=array(columns[1]),
        row_contributions=array(columns[2]),
        row_commitment=array(columns[3]),
        row_days=array(columns[4]),
        row_last=array(columns[5]),
        row_others=array(columns[6]),
        tie_member=array(tie_columns[0]),
        tie_week=array(tie_columns[1]),
        tie_target=array(tie_columns[2]),
        tie_replies=array(tie_columns[3]),
        tie_mentions=array(tie_columns[4]),
        invite_member=array([i for i, _day in invites]),
        invite_day=array([day for _i, day in invites]),
        act_member=array([a[0] for a in acts]),
        act_day=array([a[1] for a in acts]),
        act_count=array([a[3] for a in acts]),
        act_code=[a[2] for a in acts],
        act_kind=[KINDS[a[2]] for a in acts],
    )


def _as_tuple(result) -> tuple:
    return (
        result.member_id,
        result.tier,
        result.since,
        result.reasons,
        result.progress,
        result.changes,
        result.at_risk,
        result.risk,
        result.risk_drop,
        result.step_digests,
        result.row_digest,
    )


@st.composite
def community_strategy(draw: st.DrawFn) -> tuple[Rules, Calendar, list[dict]]:
    rules = draw(rules_strategy())
    cal = Calendar(draw(st.sampled_from(AS_OF_CHOICES)), rules.cadence)
    count = draw(st.integers(1, 6))
    members = [draw(member_strategy(i + 1, cal.as_of, rules)) for i in range(count)]
    return rules, cal, members


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(community_strategy(), st.sampled_from([2_000_000, 40]))
def test_batch_replay_equals_engine(community, cells) -> None:
    rules, cal, members = community
    references = [_reference(m, rules, cal) for m in members]
    expected = [_as_tuple(r) for r in references]
    old = batch.CELLS
    batch.CELLS = cells  # tiny chunks: one member (or a few) per chunk
    try:
        got = [_as_tuple(r) for r in _replay(members, rules, cal)]
        # Only the members whose stored fingerprints differ are built (here: every other one,
        # told by what the caller is given: the row fingerprint with join and leave days).
        seen = {}

        def wanted(ids, rows, paths):
            digests = zip(rows.tolist(), paths.tolist(), strict=True)
            seen.update(zip(ids.tolist(), digests, strict=True))
            return ids % 2 == 0

        some = [_as_tuple(r) for r in _replay(members, rules, cal, wanted)]
    finally:
        batch.CELLS = old
    assert got == expected
    assert some == [row for row in expected if row[0] % 2 == 0]
    assert seen == {
        r.member_id: (
            with_member(r.row_digest, m["joined"], m["gone"]),
            path_total(r.step_digests),
        )
        for r, m in zip(references, members, strict=True)
    }


def test_fractional_weights_sum_exactly() -> None:
    """Ten messages of 0.1 point in ten weeks meet a threshold of 1 point both ways (a float
    running sum would give 0.9999999999999999 after some leave the window and others enter)."""
    rules = Rules(
        window_weeks=4,
        lapse_days=30,
        advocate_min_weeks=4,
        advocate_active_share=100,
        advocate_min_helped=1,
        helped_by_mentions=True,
        invitee_min_days=7,
        participant_min_weeks=99,
        participant_min_commitment=1.0,
        weights={**DEFAULT_WEIGHTS, "message": 0.1},
        cadence="week",
        risk_recent_weeks=1,
        risk_baseline_weeks=1,
        risk_drop_percent=50,
        risk_low_weeks=0,
        risk_min_weekly=0.0,
    )
    cal = Calendar(dt.date(2025, 3, 9), "week")
    last = cal.last_week
    unit = commitment_units(0.1)
    rows = [(week, count, count * unit, 1, week * 7 + 3, 0) for week, count in
            [(last - 3, 1), (last - 2, 3), (last - 1, 3), (last, 3)]]  # fmt: skip
    member = {"id": 1, "rows": rows, "ties": [], "joined": None, "gone": None,
              "gone_code": "", "invites": [], "acts": []}  # fmt: skip
    expected = _reference(member, rules, cal)
    assert expected.tier == "participant"
    assert expected.reasons[0]["points"] == 1
    assert _as_tuple(_replay([member], rules, cal)[0]) == _as_tuple(expected)


@pytest.mark.parametrize("cells", [40, 2_000_000])
def test_member_gone_before_any_signal(cells: int, monkeypatch) -> None:
    monkeypatch.setattr(batch, "CELLS", cells)
    rules = Rules(13, 30, 8, 60, 2, True, 7, 4, 0.0, dict(DEFAULT_WEIGHTS), "month",
                  4, 8, 50, 2, 1.0)  # fmt: skip
    cal = Calendar(dt.date(2025, 3, 12), "month")
    members = [
        {"id": 1, "rows": [], "ties": [], "joined": None, "gone": cal.as_of - 40,
         "gone_code": "left", "invites": [], "acts": []},
        {"id": 2, "rows": [], "ties": [], "joined": None, "gone": None, "gone_code": "",
         "invites": [], "acts": []},
    ]  # fmt: skip
    got = _replay(members, rules, cal)
    assert [r.tier for r in got] == ["lapsed", "lapsed"]
    assert got[0].changes == [(cal.as_of - 40, None, "lapsed", got[0].reasons)]
    assert got[0].reasons == [
        {"code": "left", "on": (dt.date(2025, 3, 12) - dt.timedelta(40)).isoformat()}
    ]
    assert got[1].reasons == [{"code": "no_activity"}] and got[1].changes == []
    assert [_as_tuple(r) for r in got] == [_as_tuple(_reference(m, rules, cal)) for m in members]


def test_rows_of_a_member_gone_before_them_do_not_shift_the_others() -> None:
    """A member who left before their first signal is not replayed; their rows and acts, older
    than every replayed member's, must stay out of the arrays (they once indexed past the
    start)."""
    rules = Rules(13, 30, 8, 60, 2, True, 7, 2, 0.0, dict(DEFAULT_WEIGHTS), "week",
                  4, 8, 50, 2, 1.0)  # fmt: skip
    cal = Calendar(dt.date(2025, 3, 12), "week")
    last = cal.last_week
    members = [
        {"id": 1, "rows": [(last - 40, 2, 2_000_000, 1, (last - 40) * 7 + 2, 0)], "ties": [],
         "joined": None, "gone": (last - 41) * 7 + 1, "gone_code": "left", "invites": [],
         "acts": [((last - 40) * 7 + 3, "testimonial", 1)]},
        {"id": 2, "rows": [(last - 2, 3, 3_000_000, 2, (last - 2) * 7 + 3, 0),
                           (last, 1, 1_000_000, 1, cal.as_of, 0)], "ties": [],
         "joined": None, "gone": None, "gone_code": "", "invites": [], "acts": []},
    ]  # fmt: skip
    got = _replay(members, rules, cal)
    assert [r.tier for r in got] == ["lapsed", "participant"]
    assert [_as_tuple(r) for r in got] == [_as_tuple(_reference(m, rules, cal)) for m in members]


def test_fingerprints_do_not_depend_on_how_the_policy_was_loaded() -> None:
    """A policy just created holds its cadence as an enum member and its weights in code
    order; one read back holds strings and the database's order: the same fingerprints."""
    from shequn.tiers.models import Cadence

    fresh = Rules(13, 60, 8, 60, 5, True, 30, 3, 30.0, dict(DEFAULT_WEIGHTS), Cadence.MONTH,
                  4, 8, 50, 2, 1.0)  # fmt: skip
    weights = dict(reversed(list(DEFAULT_WEIGHTS.items())))
    loaded = Rules(13, 60, 8, 60, 5, True, 30, 3, 30.0, weights, "month", 4, 8, 50, 2, 1.0)
    assert Fingerprints(fresh, ["b", "a"]).seed == Fingerprints(loaded, ["a", "b"]).seed
    changed = Rules(13, 60, 8, 60, 5, True, 30, 3, 31.0, weights, "month", 4, 8, 50, 2, 1.0)
    assert Fingerprints(changed, ["a", "b"]).seed != Fingerprints(loaded, ["a", "b"]).seed


def test_fingerprints_are_pinned() -> None:
    """What is stored for the same numbers must not change silently: a change to reasons,
    progress or the fingerprints themselves must raise ``digest.VERSION`` (so rows written by
    older code are rewritten) and then update the values below."""
    from shequn.tiers import digest

    rules = Rules(13, 60, 8, 60, 5, True, 30, 3, 30.0, dict(DEFAULT_WEIGHTS), "month",
                  4, 8, 50, 2, 1.0)  # fmt: skip
    cal = Calendar(dt.date(2025, 3, 12), "month")
    last = cal.last_week
    rows = [(week, 3, 3_000_000, 2, week * 7 + 3, 1) for week in range(last - 9, last + 1)]
    member = {"id": 1, "rows": rows, "ties": [(last - 1, [(7, 2, 1), (8, 1, 0)])],
              "joined": None, "gone": None, "gone_code": "", "invites": [], "acts": []}  # fmt: skip
    result = _reference(member, rules, cal)
    pinned = {
        "version": digest.VERSION,
        "tier": result.tier,
        "reasons": result.reasons,
        "steps": [step[:3] for step in result.changes],
        "step_digests": result.step_digests,
        "row_digest": result.row_digest,
    }
    assert pinned == {
        "version": 1,
        "tier": "participant",
        "reasons": [
            {"code": "active_weeks", "weeks": 10, "of_weeks": 13, "contributions": 30, "days": 20}
        ],
        "steps": [(739263, None, "follower"), (739277, "follower", "participant")],
        "step_digests": PINNED_STEPS,
        "row_digest": PINNED_ROW,
    }


PINNED_STEPS = [7572777088563435161, 7680291553918593735]
PINNED_ROW = 7506614872205006028


# --- a replay from a week (an incremental run) ------------------------------------------------


def _resumed_reference(member: dict, rules: Rules, cal: Calendar, start: int, prev: tuple):
    """The engine replaying ``member`` from week ``start`` as an incremental run feeds it: the
    rows from ``start - lookback`` on, preceded by the last signal before them."""
    since = (start - rules.lookback_weeks) * 7 + 1
    rows = [row for row in member["rows"] if row[0] * 7 + 1 >= since]
    earlier = [row[4] for row in member["rows"] if row[0] * 7 + 1 < since]
    if member["joined"] is not None and member["joined"] < since:
        earlier.append(member["joined"])
    if earlier:
        rows = [(week_of(max(earlier)), 0, 0, 0, max(earlier), 0), *rows]
    if member["joined"] is not None:
        rows = _with_join(rows, member["joined"], cal.as_of, since)
    ties = [(week, pairs) for week, pairs in member["ties"] if week >= start - rules.lookback_weeks]
    return _evaluate(
        member, rows, ties, rules, cal, start_week=start, prev_tier=prev[0], prev_since=prev[1]
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(community_strategy(), st.data(), st.sampled_from([2_000_000, 40]), st.booleans())
def test_batch_replay_from_a_week_equals_engine(community, data, cells, cut) -> None:
    """Each member replayed from a drawn week, from a drawn tier before it, as the engine
    replays them: given every row (older ones tell only the last signal), or (``cut``) only the
    rows an incremental run reads, with the last signal before them."""
    rules, cal, members = community
    starts = [data.draw(st.integers(cal.last_week - 60, cal.last_week)) for _ in members]
    prevs = [
        (
            data.draw(st.sampled_from(TIER_BY_RANK)),
            start * 7 + 1 - data.draw(st.integers(1, 400)),
        )
        for start in starts
    ]
    expected = [
        _as_tuple(_resumed_reference(m, rules, cal, start, prev))
        for m, start, prev in zip(members, starts, prevs, strict=True)
    ]
    given_members = members
    prior = [0] * len(members)
    if cut:  # the rows from the earliest start's lookback on, as services reads them
        back = min(starts) - rules.lookback_weeks
        given_members = []
        for i, m in enumerate(members):
            older = [row[4] for row in m["rows"] if row[0] < back]
            prior[i] = max(older, default=0)
            rows = [row for row in m["rows"] if row[0] >= back]
            ties = [(week, pairs) for week, pairs in m["ties"] if week >= back]
            given_members.append({**m, "rows": rows, "ties": ties})
    batch_input = _batch_input(given_members)
    batch_input.start_week = np.array(starts, dtype=np.int64)
    batch_input.prev_tier = np.array([TIER_BY_RANK.index(p[0]) for p in prevs], dtype=np.int64)
    batch_input.prev_since = np.array([p[1] for p in prevs], dtype=np.int64)
    batch_input.prior_last = np.array(prior, dtype=np.int64)
    old = batch.CELLS
    batch.CELLS = cells
    try:
        got = [_as_tuple(r) for r in replay(batch_input, rules, cal, _fingerprints(rules, cal))]
    finally:
        batch.CELLS = old
    assert got == expected


@pytest.mark.parametrize("cut", [False, True])
def test_a_replay_from_last_week_sees_the_weeks_its_risk_compares(cut: bool) -> None:
    """A short window (2 weeks) with a long risk comparison (10 weeks): a participant replayed
    from this week alone is still seen to have fallen from their usual activity."""
    rules = Rules(2, 70, 2, 100, 1, True, 7, 1, 0.0, dict(DEFAULT_WEIGHTS), "week",
                  2, 8, 50, 0, 0.5)  # fmt: skip
    cal = Calendar(dt.date(2025, 3, 9), "week")  # a Sunday: the as-of week is complete
    last = cal.last_week
    unit = commitment_units(1)
    rows = [(week, 5, 5 * unit, 3, week * 7 + 3, 0) for week in range(last - 11, last - 1)]
    rows += [(week, 1, unit, 1, week * 7 + 2, 0) for week in (last - 1, last)]
    member = {"id": 1, "rows": rows, "ties": [], "joined": None, "gone": None,
              "gone_code": "", "invites": [], "acts": []}  # fmt: skip
    prev = ("participant", (last - 11) * 7 + 7)
    expected = _resumed_reference(member, rules, cal, last, prev)
    assert expected.tier == "participant" and expected.at_risk
    given = member
    prior = 0
    if cut:
        back = last - rules.lookback_weeks
        given = {**member, "rows": [row for row in rows if row[0] >= back]}
        prior = max((row[4] for row in rows if row[0] < back), default=0)
    data = _batch_input([given])
    data.start_week = np.array([last], dtype=np.int64)
    data.prev_tier = np.array([TIER_BY_RANK.index("participant")], dtype=np.int64)
    data.prev_since = np.array([prev[1]], dtype=np.int64)
    data.prior_last = np.array([prior], dtype=np.int64)
    got = replay(data, rules, cal, _fingerprints(rules, cal))
    assert [_as_tuple(r) for r in got] == [_as_tuple(expected)]
