"""The replay of many members at once, over member × week arrays (numpy).

``engine.evaluate`` replays one member at a time in Python; a full recompute of 50,000 members
spent most of its time there, and an incremental run after the as-of day moved a week most of
its own. This module gives the same results (tests/test_tiers_batch.py checks it against
``evaluate`` on generated members) for a replay from each member's first signal, or from a
given week on, from the tier they had before it (an incremental run):

* every rule input at every week is a sliding-window sum, computed for all members and weeks
  as differences of running totals; the number of different members helped in the window comes
  from merging each (member, helped member) pair's weeks into covered intervals;
* the raw tier of every member at every week follows from those arrays in a few vector
  operations;
* one pass over the weeks applies what depends on the order (a downgrade waits for the next
  review week; leaving or muting ends the path), for all members at once;
* every step and tier row is fingerprinted from its numbers (``shequn.tiers.digest``), and
  reasons, progress and risk, which are small dictionaries, are built in Python only for the
  members the caller wants (``wanted``: those whose stored fingerprints differ).

Evaluating every week gives the engine's results because the engine's evaluation points are
all the weeks at which an input of the rules can change; between them the raw tier is constant,
so extra evaluations change nothing (a held downgrade applies at the first review week either
way). Members are processed in chunks, so memory stays bounded by ``CELLS`` per array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from shequn.tiers.digest import (
    FIELDS,
    GONE_CODES,
    GONE_ROW,
    LEFT_STEP,
    PROGRESS_FIELDS,
    REASON_FIELDS,
    ROW,
    STEP,
    Fingerprints,
    finish_array,
    with_member_array,
)
from shequn.tiers.engine import (
    ADVOCATE,
    COMMITMENT_UNITS,
    LAPSED,
    NEVER,
    PARTICIPANT,
    Calendar,
    MemberResult,
    _progress,
    _reasons,
    _Window,
    commitment_units,
    current_reasons,
    iso,
    risk_of,
    risk_weeks,
    week_of,
)
from shequn.tiers.models import TIER_BY_RANK
from shequn.tiers.ordering import stable_order
from shequn.tiers.policy import Rules

CELLS = 200_000  # members × weeks per chunk: each array of a chunk stays within the CPU cache
_I = np.int64
# (member ids, tier row fingerprints with the join and leave days, history fingerprints) ->
# which members to build full results for.
Wanted = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=_I)


@dataclass
class BatchInput:
    """Every member's inputs as flat arrays. ``*_member`` arrays hold positions in
    ``member_ids``; days are ``date.toordinal()`` numbers, weeks ``(day - 1) // 7``."""

    member_ids: np.ndarray
    joined: np.ndarray  # day, or NEVER
    gone: np.ndarray  # day the member left or muted, or NEVER
    gone_code: list[str]
    # Week rows: one per member and week with a signal.
    row_member: np.ndarray = field(default_factory=_empty)
    row_week: np.ndarray = field(default_factory=_empty)
    row_contributions: np.ndarray = field(default_factory=_empty)
    row_commitment: np.ndarray = field(default_factory=_empty)  # units
    row_days: np.ndarray = field(default_factory=_empty)
    row_last: np.ndarray = field(default_factory=_empty)
    row_others: np.ndarray = field(default_factory=_empty)
    # Help given: one per (member, week, helped member, account pair).
    tie_member: np.ndarray = field(default_factory=_empty)
    tie_week: np.ndarray = field(default_factory=_empty)
    tie_target: np.ndarray = field(default_factory=_empty)
    tie_replies: np.ndarray = field(default_factory=_empty)
    tie_mentions: np.ndarray = field(default_factory=_empty)
    # Invitees who stayed: the day they qualified.
    invite_member: np.ndarray = field(default_factory=_empty)
    invite_day: np.ndarray = field(default_factory=_empty)
    # Advocacy acts: day, provider code, count, the policy weight kind they earn.
    act_member: np.ndarray = field(default_factory=_empty)
    act_day: np.ndarray = field(default_factory=_empty)
    act_count: np.ndarray = field(default_factory=_empty)
    act_code: list[str] = field(default_factory=list)
    act_kind: list[str] = field(default_factory=list)
    # A replay from given weeks (an incremental run), not from each member's first signal: per
    # member the first week evaluated, the tier rank (-1: none) and its day before that week,
    # and the last signal day before the rows given (0: none). The rows may begin at any week
    # up to ``start_week - rules.lookback_weeks``; older ones only tell the last signal.
    start_week: np.ndarray | None = None
    prev_tier: np.ndarray | None = None
    prev_since: np.ndarray | None = None
    prior_last: np.ndarray | None = None


def _sorted_by_member(member: np.ndarray, *arrays: Any) -> tuple[Any, ...]:
    order = stable_order(member)
    out = [member[order]]
    for values in arrays:
        if isinstance(values, list):
            out.append([values[i] for i in order.tolist()])
        else:
            out.append(values[order])
    return tuple(out)


def _window(values: np.ndarray, width: int, dtype: Any = _I) -> np.ndarray:
    """Per row, the sum of the last ``width`` columns up to each column."""
    totals = np.cumsum(values, axis=1, dtype=dtype)
    if width < values.shape[1]:
        totals[:, width:] -= totals[:, :-width].copy()
    return totals


class _Direct:
    """A count known at every member and week."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return self.values[rows, cols].astype(_I)


class _Sums:
    """A window sum needed only where a tier changes and today (for reasons): kept as running
    totals, subtracted at the points asked for."""

    def __init__(self, values: np.ndarray, width: int) -> None:
        self.totals = np.cumsum(values, axis=1, dtype=_I)
        self.width = width

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        earlier = cols - self.width
        before = np.where(earlier >= 0, self.totals[rows, np.maximum(earlier, 0)], 0)
        return self.totals[rows, cols] - before


def _accumulate(
    shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, values: Any = None
) -> np.ndarray:
    """A matrix of ``shape`` with ``values`` (1 each by default) added at (row, col)."""
    flat = np.bincount(rows * shape[1] + cols, weights=values, minlength=shape[0] * shape[1])
    return flat.astype(_I).reshape(shape)


def replay(
    data: BatchInput,
    rules: Rules,
    cal: Calendar,
    fingerprints: Fingerprints | None = None,
    wanted: Wanted | None = None,
) -> list[MemberResult]:
    """Every member of ``data`` replayed from their first signal, or from ``data.start_week``
    on from the tier they had before it, as ``evaluate`` would (with ``fingerprints``,
    fingerprinted as it would: a replay from a week gives only its new steps' fingerprints).
    With ``wanted``, only the members it picks get a result."""
    n = len(data.member_ids)
    if n == 0:
        return []
    if fingerprints is None:
        fingerprints = Fingerprints(rules, data.act_code)
    if data.start_week is not None:
        first = np.minimum(data.start_week.astype(_I), cal.last_week)
    else:  # the first week of each member's rows (their own, their join day, their acts)
        first = np.full(n, NEVER, dtype=_I)
        np.minimum.at(first, data.row_member, data.row_week)
        joined = data.joined.astype(_I)
        has_join = joined <= cal.as_of
        np.minimum.at(first, np.flatnonzero(has_join), (joined[has_join] - 1) // 7)
        np.minimum.at(first, data.act_member, (data.act_day - 1) // 7)
    # Members who began in the same weeks share chunks: a chunk is as wide as its earliest
    # member's weeks, so in member order most chunks would span every week.
    order = stable_order(np.minimum(first, cal.last_week + 1))
    data, first = _reordered(data, order), first[order]
    row = _sorted_by_member(
        data.row_member,
        data.row_week,
        data.row_contributions,
        data.row_commitment,
        data.row_days,
        data.row_last,
        data.row_others,
    )
    tie = _sorted_by_member(
        data.tie_member, data.tie_week, data.tie_target, data.tie_replies, data.tie_mentions
    )
    keep = data.invite_day <= cal.as_of  # a later one counts in no window up to today
    invite = _sorted_by_member(data.invite_member[keep], data.invite_day[keep])
    weights = {kind: commitment_units(rules.weights.get(kind, 0)) for kind in set(data.act_kind)}
    act_units = np.array([weights[kind] for kind in data.act_kind], dtype=_I)
    act = _sorted_by_member(
        data.act_member, data.act_day, data.act_count, act_units, list(data.act_code)
    )

    results: list[MemberResult | None] = [None] * n
    span = np.maximum(cal.last_week - np.minimum(first, cal.last_week) + 1, 1)
    start = 0
    while start < n:
        stop, widest = start, 0
        while stop < n:
            widest = max(widest, int(span[stop]) + rules.lookback_weeks)
            if (stop - start + 1) * widest > CELLS and stop > start:
                break
            stop += 1
        chunk = _Chunk(data, rules, cal, fingerprints, start, stop)
        chunk.replay(first, row, tie, invite, act)
        chunk.results(wanted, results)
        start = stop
    in_input_order: list[MemberResult | None] = [None] * n
    for position, result in zip(order.tolist(), results, strict=True):
        in_input_order[position] = result
    return [result for result in in_input_order if result is not None]


def _reordered(data: BatchInput, order: np.ndarray) -> BatchInput:
    """``data`` with its members in ``order`` (positions in the input): member arrays taken in
    that order, and every ``*_member`` position renumbered."""
    rank = np.empty(len(order), dtype=_I)
    rank[order] = np.arange(len(order), dtype=_I)

    def by_member(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[order]

    return replace(
        data,
        member_ids=data.member_ids[order],
        joined=data.joined[order],
        gone=data.gone[order],
        gone_code=[data.gone_code[i] for i in order.tolist()],
        row_member=rank[data.row_member],
        tie_member=rank[data.tie_member],
        invite_member=rank[data.invite_member],
        act_member=rank[data.act_member],
        start_week=by_member(data.start_week),
        prev_tier=by_member(data.prev_tier),
        prev_since=by_member(data.prev_since),
        prior_last=by_member(data.prior_last),
    )


def _cut(columns: tuple[Any, ...], start: int, stop: int) -> tuple[Any, ...]:
    """The entries of members ``start <= i < stop`` (arrays sorted by member)."""
    lo, hi = np.searchsorted(columns[0], [start, stop])
    return tuple(values[lo:hi] for values in columns)


class _Chunk:
    """Members ``start <= i < stop`` of the input: their arrays, replay and fingerprints."""

    def __init__(
        self,
        data: BatchInput,
        rules: Rules,
        cal: Calendar,
        fingerprints: Fingerprints,
        start: int,
        stop: int,
    ) -> None:
        self.data, self.rules, self.cal, self.fp = data, rules, cal, fingerprints
        self.start, self.stop, self.n = start, stop, stop - start
        self.gone = data.gone[start:stop].astype(_I)
        self.row_digest = np.zeros(self.n, dtype=_I)
        self.path_digest = np.zeros(self.n, dtype=_I)
        self.replayed = np.zeros(self.n, dtype=bool)
        self.ended = np.zeros(self.n, dtype=bool)
        self.steps: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]] = []

    def replay(
        self,
        first: np.ndarray,
        row: tuple[Any, ...],
        tie: tuple[Any, ...],
        invite: tuple[Any, ...],
        act: tuple[Any, ...],
    ) -> None:
        data, rules, cal, start, n = self.data, self.rules, self.cal, self.start, self.n
        width = rules.window_weeks
        last_week = cal.last_week
        first = first[start : self.stop]
        gone = self.gone
        resumed = data.start_week is not None
        if resumed:  # every member is evaluated from their start week on
            ended = self.ended = np.zeros(n, dtype=bool)
        else:
            gone_week = np.where(gone < NEVER, (gone - 1) // 7, NEVER)
            # Gone before (or in) the week of their first row: the first evaluation ends it.
            ended = self.ended = (gone <= cal.as_of) & (gone_week <= first)
            first = np.minimum(first, gone_week)  # the replay starts at the earlier of the two
        replayed = self.replayed = ~ended & (first <= last_week)
        self._unreplayed_digests()
        if not replayed.any():
            return
        origin = int(first[replayed].min())
        rm, rw, r_contrib, r_commit, r_days, r_last, r_others = _cut(row, start, self.stop)
        tm, tw, tt, t_replies, t_mentions = _cut(tie, start, self.stop)
        im, i_day = _cut(invite, start, self.stop)
        am, a_day, a_count, a_units, a_code = _cut(act, start, self.stop)
        if resumed:  # the first window, and the weeks the risk compares, reach this far back
            origin -= rules.lookback_weeks
        else:  # help, invitations and acts from before the first row count in its window
            reach = origin - width + 1
            early = min(
                [origin]
                + [
                    int(values.min())
                    for values in (tw, (i_day - 1) // 7, (a_day - 1) // 7)
                    if len(values)
                ]
            )
            origin = max(reach, early)
        self.origin = origin
        k_count = self.k_count = last_week - origin + 1
        # Signals older than the arrays still tell each member's last signal (a replay from a
        # week; in one from the start only members not replayed have such rows).
        prior = np.zeros(n, dtype=_I)
        if data.prior_last is not None:
            prior[:] = data.prior_last[start : self.stop]
        older = rw < origin
        np.maximum.at(prior, rm[older] - start, r_last[older])
        older = a_day < origin * 7 + 1
        np.maximum.at(prior, am[older] - start, a_day[older])
        joined = data.joined[start : self.stop].astype(_I)
        older = (joined <= cal.as_of) & (joined < origin * 7 + 1)
        prior[older] = np.maximum(prior[older], joined[older])

        def cells(dtype: Any = _I) -> np.ndarray:
            return np.zeros((n, k_count), dtype=dtype)

        contributions, commitment, days, others, last = cells(), cells(), cells(), cells(), cells()
        has_row = cells(bool)
        # Rows before the origin belong to members not replayed (gone before their first one).
        inside = rw >= origin
        rm, rw = rm[inside] - start, rw[inside]
        column = rw - origin
        contributions[rm, column] = r_contrib[inside]
        commitment[rm, column] = r_commit[inside]
        days[rm, column] = r_days[inside]
        last[rm, column] = r_last[inside]
        others[rm, column] = r_others[inside]
        has_row[rm, column] = True
        # The join day the member record knows of is a signal (e.g. from a member list).
        jm = np.flatnonzero((joined <= cal.as_of) & (joined >= origin * 7 + 1))
        if len(jm):
            j_day = joined[jm]
            j_col = (j_day - 1) // 7 - origin
            exists = has_row[jm, j_col]
            later = exists & (last[jm, j_col] < j_day)
            last[jm[later], j_col[later]] = j_day[later]
            new = ~exists
            has_row[jm[new], j_col[new]] = True
            last[jm[new], j_col[new]] = j_day[new]
            others[jm[new], j_col[new]] = 1
        # Advocacy acts are contributions, each earning its kind's commitment weight.
        inside = a_day >= origin * 7 + 1
        am, a_day, a_count, a_units = am[inside], a_day[inside], a_count[inside], a_units[inside]
        a_code = [code for code, keep in zip(a_code, inside.tolist(), strict=True) if keep]
        if len(am):
            a_local = am - start
            a_col = (a_day - 1) // 7 - origin
            np.add.at(contributions, (a_local, a_col), a_count)
            np.add.at(commitment, (a_local, a_col), a_units * a_count)
            np.add.at(days, (a_local, a_col), 1)
            np.maximum.at(last, (a_local, a_col), a_day)
            has_row[a_local, a_col] = True
        self.contributions = contributions

        active = _window(contributions > 0, width, np.int32)
        w_commit = _window(commitment, width)
        in_window = _window(has_row, width, np.int32)
        last_signal = np.maximum.accumulate(last, axis=1)
        np.maximum(last_signal, prior[:, None], out=last_signal)
        helped, w_replies, w_mentions, helped_weeks = _help(
            tm - start, tw - origin, tt, t_replies, t_mentions, n, k_count, width
        )
        i_col = (i_day - 1) // 7 - origin
        seen = i_col >= 0  # older ones are in no window evaluated
        invites = _accumulate((n, k_count), im[seen] - start, i_col[seen])
        w_invites = _window(invites, width, np.int32)
        self.acts: dict[str, np.ndarray] = {}
        for code in sorted(set(a_code)):
            mask = np.array([c == code for c in a_code], dtype=bool)
            counts = cells()
            np.add.at(counts, (am[mask] - start, (a_day[mask] - 1) // 7 - origin), a_count[mask])
            self.acts[code] = _window(counts, width)
        # The window's counts, in the order the fingerprints mix them (digest.window_words).
        self.window = {
            "last_signal": _Direct(last_signal),
            "active": _Direct(active),
            "contributions": _Sums(contributions, width),
            "commitment": _Direct(w_commit),
            "days": _Sums(days, width),
            "others": _Sums(others, width),
            "helped": _Direct(helped),
            "replies": w_replies,
            "mentions": w_mentions,
            "helped_weeks": helped_weeks,
            "invites": _Direct(w_invites),
        }

        eval_day = self.eval_day = np.arange(origin, last_week + 1, dtype=_I) * 7 + 7
        eval_day[-1] = cal.as_of
        lapsed = (
            (last_signal == 0) | (in_window == 0) | (eval_day - last_signal >= rules.lapse_days)
        )
        acts_or_help = (helped >= rules.advocate_min_helped) | (w_invites > 0)
        for counts in self.acts.values():
            acts_or_help |= counts > 0
        advocate = (active >= rules.advocate_min_weeks) & acts_or_help
        part_commit = commitment_units(rules.participant_min_commitment)
        participant = active >= rules.participant_min_weeks
        if part_commit:
            participant |= w_commit >= part_commit
        raw = np.where(lapsed, LAPSED, np.where(advocate, ADVOCATE, np.where(participant, 2, 1)))
        self.raw = raw.astype(np.int8)
        del lapsed, acts_or_help, advocate, participant, raw
        self._scan(first - origin)
        self._digests()

    def _scan(self, first_col: np.ndarray) -> None:
        """The pass over the weeks: downgrades wait for a review week; leaving ends the path."""
        cal, gone, raw = self.cal, self.gone, self.raw
        data = self.data
        if data.start_week is None:
            cur = np.full(self.n, -1, dtype=np.int8)
            since = np.zeros(self.n, dtype=_I)
        else:  # the tier each member had before their start week
            cur = data.prev_tier[self.start : self.stop].astype(np.int8)
            since = data.prev_since[self.start : self.stop].astype(_I)
        done = ~self.replayed
        steps = self.steps
        for col in range(int(first_col[self.replayed].min()), self.k_count):
            day = int(self.eval_day[col])
            live = ~done & (first_col <= col)
            left = live & (gone <= day)
            if left.any():
                moved = np.flatnonzero(left & (cur != LAPSED))
                if len(moved):
                    before = cur[moved].astype(_I)
                    steps.append((moved, np.full(len(moved), col), before, moved, True))
                    since[moved] = gone[moved]
                cur[left] = LAPSED
                done |= left
                live &= ~left
            now = raw[:, col]
            change = live & (now != cur)
            if not cal.allowed(self.origin + col):
                change &= ~((now < cur) & (cur >= 0))
            moved = np.flatnonzero(change)
            if len(moved):
                before = cur[moved].astype(_I)
                steps.append((moved, np.full(len(moved), col), before, now[moved], False))
                cur[moved] = now[moved]
                since[moved] = day
        self.cur, self.since = cur, since

    def _words(
        self, rows: np.ndarray, cols: np.ndarray, now: np.ndarray, cur: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """The window's counts at (row, column) as ``Fingerprints.window_words`` mixes them for
        tier ``now`` (reasons) and ``cur`` (progress): the others as 0."""

        def shown(name: str) -> np.ndarray:
            tiers = [rank for rank, fields in enumerate(REASON_FIELDS) if name in fields]
            mask = np.isin(now, tiers)
            if cur is not None:
                mask |= np.isin(cur, [r for r, f in enumerate(PROGRESS_FIELDS) if name in f])
            return mask

        words = [
            counts.at(rows, cols) * shown(name)
            for name, counts in zip(FIELDS, self.window.values(), strict=True)
        ]
        acts = shown("acts")
        zeros = np.zeros(len(rows), dtype=_I)
        words += [
            self.acts[code][rows, cols] * acts if code in self.acts else zeros
            for code in self.fp.act_codes
        ]
        return words

    def _mix(self, words: list[Any], size: int) -> np.ndarray:
        values = self.fp.start_array(size)
        for word in words:
            values = self.fp.mix_array(values, word)
        return finish_array(values)

    def _digests(self) -> None:
        """Every step's and every replayed tier row's fingerprint (as digest.Fingerprints)."""
        if self.steps:
            member, col, before, after, is_gone = self._steps()
            digests = np.zeros(len(member), dtype=_I)
            normal = np.flatnonzero(~is_gone)
            m, c = member[normal], col[normal]
            now = after[normal]
            digests[normal] = self._mix(
                [STEP, self.eval_day[c], before[normal] + 1, now, *self._words(m, c, now)],
                len(normal),
            )
            left = np.flatnonzero(is_gone)
            m = member[left]
            digests[left] = self._mix(
                [LEFT_STEP, self.gone[m], before[left] + 1, self._gone_codes()[m]], len(left)
            )
            totals = self.path_digest.astype(np.uint64)  # those not replayed have theirs
            np.add.at(totals, member, digests.astype(np.uint64))
            self.path_digest = (totals & np.uint64((1 << 63) - 1)).astype(_I)
            self.step_digest = digests
        finals = np.flatnonzero(self.replayed & (self.gone <= self.cal.as_of))
        self.row_digest[finals] = self._mix(
            [GONE_ROW, self.since[finals], self.gone[finals], self._gone_codes()[finals]],
            len(finals),
        )
        last_col = self.k_count - 1
        first, last = risk_weeks(self.cal, self.rules)
        for with_risk in (False, True):
            rows = np.flatnonzero(
                self.replayed
                & (self.gone > self.cal.as_of)
                & ((self.cur >= PARTICIPANT) == with_risk)
            )
            cols = np.full(len(rows), last_col)
            now, cur = self.raw[rows, last_col], self.cur[rows]
            last_signal = self.window["last_signal"].at(rows, cols)
            silent = (last_signal > 0) & (self.cal.as_of - last_signal >= self.rules.lapse_days)
            silent &= now == LAPSED
            review = np.where(now < cur, self.cal.review_day(self.cal.last_week), 0)
            words = [ROW, cur, self.since[rows], now, silent, review]
            words += self._words(rows, cols, now, cur)
            if with_risk:
                words += [self._risk_column(rows, week) for week in range(first, last + 1)]
            self.row_digest[rows] = self._mix(words, len(rows))

    def _risk_column(self, rows: np.ndarray, week: int) -> np.ndarray | int:
        col = week - self.origin
        return self.contributions[rows, col] if col >= 0 else 0

    def _gone_codes(self) -> np.ndarray:
        codes = self.data.gone_code[self.start : self.stop]
        return np.array([GONE_CODES.get(code, 0) for code in codes], dtype=_I)

    def _steps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        member = np.concatenate([s[0] for s in self.steps])
        col = np.concatenate([s[1] for s in self.steps])
        before = np.concatenate([s[2] for s in self.steps])
        after = np.concatenate([s[3] for s in self.steps]).astype(_I)
        is_gone = np.concatenate([np.full(len(s[0]), s[4]) for s in self.steps])
        return member, col, before, np.where(is_gone, LAPSED, after), is_gone

    def _unreplayed_digests(self) -> None:
        fp = self.fp
        for i in np.flatnonzero(~self.replayed).tolist():
            if self.ended[i]:
                day = int(self.gone[i])
                code = self.data.gone_code[self.start + i]
                self.row_digest[i] = fp.gone_row(day, day, code)
                self.path_digest[i] = fp.left_step(day, -1, code)
            else:
                self.row_digest[i] = fp.never_row()

    def results(self, wanted: Wanted | None, out: list[MemberResult | None]) -> None:
        """Full results for the members ``wanted`` picks (all without it), into ``out``."""
        data, start, stop = self.data, self.start, self.stop
        if wanted is None:
            build = np.ones(self.n, dtype=bool)
        else:
            joined = data.joined[start:stop]
            gone = data.gone[start:stop]
            rows = with_member_array(
                self.row_digest,
                np.where(joined < NEVER, joined, 0),
                np.where(gone < NEVER, gone, 0),
            )
            build = np.asarray(
                wanted(data.member_ids[start:stop], rows, self.path_digest), dtype=bool
            )
        for i in np.flatnonzero(build & ~self.replayed).tolist():
            result = _unreplayed(data, start + i, bool(self.ended[i]), self.rules)
            result.row_digest = int(self.row_digest[i])
            if result.changes:
                result.step_digests = [int(self.path_digest[i])]
            out[start + i] = result
        chosen = np.flatnonzero(build & self.replayed)
        if len(chosen):
            self._build(chosen, out)

    def _build(self, chosen: np.ndarray, out: list[MemberResult | None]) -> None:
        data, rules, cal, start = self.data, self.rules, self.cal, self.start
        paths = self._paths(np.isin(np.arange(self.n), chosen))
        last_col = self.k_count - 1
        values = self._gather(chosen, np.full(len(chosen), last_col))
        raw_last = self.raw[chosen, last_col].tolist()
        cur_list = self.cur[chosen].tolist()
        since_list = self.since[chosen].tolist()
        gone_list = self.gone[chosen].tolist()
        row_digests = self.row_digest[chosen].tolist()
        risk_first, risk_last = risk_weeks(cal, rules)
        for pos, i in enumerate(chosen.tolist()):
            member_id = int(data.member_ids[start + i])
            tier = cur_list[pos]
            path, step_digests = paths.get(i, ([], []))
            if gone_list[pos] <= cal.as_of:
                code = data.gone_code[start + i]
                result = MemberResult(
                    member_id,
                    "lapsed",
                    since_list[pos],
                    [{"code": code, "on": iso(gone_list[pos])}],
                    {"next_tier": None, "steps": []},
                    path,
                )
            else:
                w = _fill(values, pos, cal.as_of)
                result = MemberResult(
                    member_id,
                    TIER_BY_RANK[tier],
                    since_list[pos],
                    current_reasons(tier, raw_last[pos], w, rules, cal),
                    _progress(tier, w, rules),
                    path,
                )
                if tier >= PARTICIPANT:
                    counts = [0] * (risk_last - risk_first + 1)
                    lo = max(risk_first, self.origin)
                    known = self.contributions[
                        i, lo - self.origin : risk_last - self.origin + 1
                    ].tolist()
                    counts[lo - risk_first : lo - risk_first + len(known)] = known
                    risk, drop = risk_of(counts, rules)
                    if risk:
                        result.at_risk, result.risk, result.risk_drop = True, risk, drop
            result.step_digests = step_digests
            result.row_digest = row_digests[pos]
            out[start + i] = result

    def _gather(self, rows: np.ndarray, cols: np.ndarray) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: counts.at(rows, cols).tolist() for name, counts in self.window.items()
        }
        values["acts"] = {code: array[rows, cols].tolist() for code, array in self.acts.items()}
        return values

    def _paths(
        self, build: np.ndarray
    ) -> dict[int, tuple[list[tuple[int, str | None, str, list[dict[str, Any]]]], list[int]]]:
        """The built members' paths, (day, from tier, to tier, reasons) in order, with each
        step's fingerprint."""
        paths: dict[int, tuple[list, list[int]]] = {}
        if not self.steps:
            return paths
        member, col, before, after, is_gone = self._steps()
        keep = build[member]
        member, col, before, after, is_gone = (
            member[keep],
            col[keep],
            before[keep],
            after[keep],
            is_gone[keep],
        )
        digests = self.step_digest[keep].tolist()
        values = self._gather(member, col)
        days = self.eval_day[col].tolist()
        gone_days = self.gone[member].tolist()
        names = [None, *TIER_BY_RANK]  # position rank + 1: -1 is "no tier yet"
        for pos, (i, old, new, left) in enumerate(
            zip(member.tolist(), before.tolist(), after.tolist(), is_gone.tolist(), strict=True)
        ):
            if left:
                day = gone_days[pos]
                reasons = [{"code": self.data.gone_code[self.start + i], "on": iso(day)}]
            else:
                day = days[pos]
                reasons = _reasons(new, _fill(values, pos, day), self.rules)
            steps, step_digests = paths.setdefault(i, ([], []))
            steps.append((day, names[old + 1], TIER_BY_RANK[new], reasons))
            step_digests.append(digests[pos])
        return paths


def _unreplayed(data: BatchInput, i: int, ended: bool, rules: Rules) -> MemberResult:
    """A member whose path is decided without the arrays: gone before their first signal, or
    never seen to do anything up to the as-of day."""
    member_id = int(data.member_ids[i])
    if ended:
        day = int(data.gone[i])
        reason = [{"code": data.gone_code[i], "on": iso(day)}]
        return MemberResult(
            member_id,
            "lapsed",
            day,
            reason,
            {"next_tier": None, "steps": []},
            [(day, None, "lapsed", reason)],
        )
    progress = _progress(LAPSED, _Window(), rules)
    return MemberResult(member_id, "lapsed", None, [{"code": "no_activity"}], progress, [])


def _help(
    member: np.ndarray,
    column: np.ndarray,
    target: np.ndarray,
    replies: np.ndarray,
    mentions: np.ndarray,
    n: int,
    k_count: int,
    width: int,
) -> tuple[np.ndarray, _Sums, _Sums, _Sums]:
    """Per member and week, in the window: how many different members they helped (every
    week), and replies, mentions and the weeks with any help (where asked)."""
    keep = (column >= 0) & (column < k_count)  # older help is in no window evaluated
    member, column, target = member[keep], column[keep], target[keep]
    replies, mentions = replies[keep], mentions[keep]
    shape = (n, k_count)
    per_week = _accumulate(shape, member, column, replies)
    mention_week = _accumulate(shape, member, column, mentions)
    any_help = _accumulate(shape, member, column) > 0
    # Each (member, helped) pair covers the weeks from each help to ``width - 1`` weeks later;
    # overlapping spans merge, so a member helped twice in a window counts once.
    if len(member):
        order = stable_order(member, target, column)
        m, t, c = member[order], target[order], column[order]
        opens = np.ones(len(m), dtype=bool)
        opens[1:] = (m[1:] != m[:-1]) | (t[1:] != t[:-1]) | (c[1:] - c[:-1] >= width)
        heads = np.flatnonzero(opens)
        tails = np.r_[heads[1:], len(m)] - 1
        wide = (n, k_count + 1)
        cover = _accumulate(wide, m[heads], c[heads])
        cover -= _accumulate(wide, m[heads], np.minimum(c[tails] + width, k_count))
        helped = np.cumsum(cover[:, :k_count], axis=1, dtype=np.int32)
    else:
        helped = np.zeros(shape, dtype=np.int32)
    return (
        helped,
        _Sums(per_week, width),
        _Sums(mention_week, width),
        _Sums(any_help, width),
    )


def _fill(values: dict[str, Any], pos: int, day: int) -> _Window:
    w = _Window()
    w.day = day
    w.last_signal = values["last_signal"][pos] or None
    w.active_weeks = values["active"][pos]
    w.contributions = values["contributions"][pos]
    w.commitment_units = values["commitment"][pos]
    w.commitment = w.commitment_units / COMMITMENT_UNITS
    w.days = values["days"][pos]
    w.others = values["others"][pos]
    w.helped = values["helped"][pos]
    w.replies = values["replies"][pos]
    w.mentions = values["mentions"][pos]
    w.helped_weeks = values["helped_weeks"][pos]
    w.invites = values["invites"][pos]
    w.acts = {code: counts[pos] for code, counts in values["acts"].items() if counts[pos]}
    return w


__all__ = ["BatchInput", "replay", "week_of"]
