"""The tier engine: replays one member's weeks and returns their path, tier, reasons and risk.

The rules written plainly, one member at a time: the reference. Recomputes run the array
replay (``shequn.tiers.batch``, many members at once in numpy), which must give exactly what
this gives (tests/test_tiers_batch.py); both build reasons, progress and risk with the
functions here. Pure Python over small tuples (no database access): a member is evaluated only
at the weeks where their tier *could* change — a week they were active in, the week it leaves
the window, the week silence reaches the lapse limit, an invitee's qualifying day, the
day they left or muted, the next downgrade review after a drop, and the as-of day — not at every
week of the community's history. Between those points every input of the rules is constant.

Days are ``date.toordinal()`` numbers; week ``k`` runs from day ``7k+1`` (a Monday) to ``7k+7``
(a Sunday). Every week is evaluated at its Sunday, the as-of week at the as-of day.

Commitment is counted in whole millionths of a point (``COMMITMENT_UNITS``): window sums of
integers are exact whatever order rows enter and leave in, so a replay from a later week and
``shequn.tiers.batch`` (which sums windows as differences of running totals) agree with a
replay from the start to the last digit, even for fractional weights.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shequn.tiers.digest import Fingerprints
from shequn.tiers.models import TIER_BY_RANK
from shequn.tiers.policy import Rules

LAPSED, FOLLOWER, PARTICIPANT, ADVOCATE = 0, 1, 2, 3
NEVER = 1 << 40
COMMITMENT_UNITS = 1_000_000

# One week row: (week, contributions, commitment units, active days, last signal day, other
# signals).
WeekRow = tuple[int, int, int, int, int, int]


def commitment_units(points: float) -> int:
    """A weight or threshold in commitment points, as whole units."""
    return round(points * COMMITMENT_UNITS)


def week_of(day: int) -> int:
    return (day - 1) // 7


def monday(week: int) -> int:
    return week * 7 + 1


def iso(day: int) -> str:
    return dt.date.fromordinal(day).isoformat()


class Calendar:
    """The evaluation points of one run: every week's Sunday, and the as-of day for its week;
    which of them may apply a downgrade (the first of each month, by default)."""

    def __init__(self, as_of: dt.date, cadence: str) -> None:
        self.as_of_date = as_of
        self.as_of = as_of.toordinal()
        self.last_week = week_of(self.as_of)
        self.cadence = cadence
        self._allowed: dict[int, bool] = {}
        self._next: dict[int, int] = {}

    def eval_day(self, week: int) -> int:
        return self.as_of if week == self.last_week else week * 7 + 7

    def _period(self, day: int) -> tuple[int, int]:
        date = dt.date.fromordinal(day)
        if self.cadence == "quarter":
            return date.year, (date.month - 1) // 3
        return date.year, date.month

    def allowed(self, week: int) -> bool:
        """May a downgrade apply at this week's evaluation? (The first evaluation of a month or
        quarter; every evaluation for a weekly cadence.)"""
        if self.cadence == "week":
            return True
        found = self._allowed.get(week)
        if found is None:
            found = self._period(self.eval_day(week)) != self._period(week * 7)
            self._allowed[week] = found
        return found

    def next_allowed(self, week: int) -> int:
        """The first week at or after ``week`` whose evaluation may downgrade; NEVER if none
        up to the as-of week."""
        found = self._next.get(week)
        if found is None:
            found = NEVER
            for candidate in range(week, self.last_week + 1):
                if self.allowed(candidate):
                    found = candidate
                    break
            self._next[week] = found
        return found

    def review_day(self, week: int) -> int:
        """The day of the next downgrade review after ``week``, beyond the as-of day too."""
        candidate = week + 1
        while True:
            day = candidate * 7 + 7
            if self.cadence == "week" or self._period(day) != self._period(day - 7):
                return day
            candidate += 1


@dataclass
class MemberInput:
    """What the engine knows of one member (all sorted by time)."""

    member_id: int
    weeks: list[WeekRow] = field(default_factory=list)
    # (week, [(target member, replies, mentions), ...]): other members addressed, per week.
    ties: list[tuple[int, list[tuple[int, int, int]]]] = field(default_factory=list)
    # (day the invitee qualified, invitee member): joins they brought about that stayed.
    invites: list[tuple[int, int]] = field(default_factory=list)
    # (day, provider code, count): acts reported by advocacy signal providers.
    acts: list[tuple[int, str, int]] = field(default_factory=list)
    gone_day: int | None = None
    gone_code: str = ""


@dataclass
class MemberResult:
    member_id: int
    tier: str
    since: int | None
    reasons: list[dict[str, Any]]
    progress: dict[str, Any]
    changes: list[tuple[int, str | None, str, list[dict[str, Any]]]]
    at_risk: bool = False
    risk: dict[str, Any] = field(default_factory=dict)
    risk_drop: float = 0.0
    # With ``fingerprints``: one per step of ``changes``, and of the tier row (digest.py).
    step_digests: list[int] = field(default_factory=list)
    row_digest: int | None = None


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 1)


class _Window:
    """The rules' inputs at one evaluation point (a plain record, filled by ``evaluate``)."""

    __slots__ = (
        "active_weeks",
        "acts",
        "commitment",
        "commitment_units",
        "contributions",
        "day",
        "days",
        "helped",
        "helped_weeks",
        "invites",
        "last_signal",
        "mentions",
        "others",
        "replies",
    )


def _reasons(tier: int, w: _Window, rules: Rules) -> list[dict[str, Any]]:
    """Why a member is in ``tier``, with the numbers behind it."""
    weeks = rules.window_weeks
    if tier == LAPSED:
        # Worded against the threshold, not the as-of day, so the reason stays true (and the
        # same) however long the silence lasts.
        if w.last_signal is None:
            return [{"code": "no_activity"}]
        if w.day - w.last_signal >= rules.lapse_days:
            return [{"code": "silent", "days": rules.lapse_days, "last": iso(w.last_signal)}]
        return [{"code": "quiet_window", "of_weeks": weeks, "last": iso(w.last_signal)}]
    active = {
        "code": "active_weeks",
        "weeks": w.active_weeks,
        "of_weeks": weeks,
        "contributions": w.contributions,
        "days": w.days,
    }
    if tier == ADVOCATE:
        reasons = [active]
        if w.helped >= rules.advocate_min_helped:
            reasons.append(
                {
                    "code": "helped",
                    "replies": w.replies,
                    "mentions": w.mentions,
                    "members": w.helped,
                    "weeks": w.helped_weeks,
                    "of_weeks": weeks,
                }
            )
        if w.invites:
            reasons.append(
                {"code": "invited", "members": w.invites, "days": rules.invitee_min_days}
            )
        for code, count in sorted(w.acts.items()):
            reasons.append({"code": code, "count": count, "of_weeks": weeks})
        return reasons
    if tier == PARTICIPANT:
        if w.active_weeks >= rules.participant_min_weeks:
            return [active]
        return [
            {
                "code": "commitment",
                "points": _number(w.commitment),
                "need": _number(rules.participant_min_commitment),
                "contributions": w.contributions,
                "of_weeks": weeks,
            }
        ]
    return [
        {
            "code": "signals",
            "contributions": w.contributions,
            "others": w.others,
            "last": iso(w.last_signal),
            "of_weeks": weeks,
        }
    ]


def current_reasons(
    tier: int, raw: int, w: _Window, rules: Rules, cal: Calendar
) -> list[dict[str, Any]]:
    """Why a member is in ``tier`` today, their window saying ``raw``: a lower ``raw`` is a
    downgrade held until the next review."""
    reasons = _reasons(raw, w, rules)
    if raw >= tier:
        return reasons
    held = {
        "code": "held",
        "tier": TIER_BY_RANK[tier],
        "now": TIER_BY_RANK[raw],
        "review": iso(cal.review_day(cal.last_week)),
    }
    return [held, *reasons]


def _progress(tier: int, w: _Window, rules: Rules) -> dict[str, Any]:
    """What is missing for the next tier (for an advocate: what keeps them one)."""
    weeks = rules.window_weeks
    if tier == LAPSED:
        return {
            "next_tier": TIER_BY_RANK[FOLLOWER],
            "steps": [{"code": "any_signal", "met": False}],
        }
    if tier == FOLLOWER:
        options = [
            {
                "code": "active_weeks",
                "have": w.active_weeks,
                "need": rules.participant_min_weeks,
                "of_weeks": weeks,
                "met": w.active_weeks >= rules.participant_min_weeks,
            }
        ]
        if rules.participant_min_commitment:
            options.append(
                {
                    "code": "commitment",
                    "have": _number(w.commitment),
                    "need": _number(rules.participant_min_commitment),
                    "of_weeks": weeks,
                    "met": w.commitment >= rules.participant_min_commitment,
                }
            )
        steps = [options[0]] if len(options) == 1 else [{"code": "one_of", "options": options}]
        return {"next_tier": TIER_BY_RANK[PARTICIPANT], "steps": steps}
    acts = [
        {
            "code": "helped",
            "have": w.helped,
            "need": rules.advocate_min_helped,
            "of_weeks": weeks,
            "mentions": rules.helped_by_mentions,
            "met": w.helped >= rules.advocate_min_helped,
        },
        {
            "code": "invited",
            "have": w.invites,
            "need": 1,
            "days": rules.invitee_min_days,
            "met": w.invites > 0,
        },
    ]
    steps = [
        {
            "code": "active_weeks",
            "have": w.active_weeks,
            "need": rules.advocate_min_weeks,
            "of_weeks": weeks,
            "met": w.active_weeks >= rules.advocate_min_weeks,
        },
        {"code": "one_of", "options": acts},
    ]
    return {
        "next_tier": TIER_BY_RANK[ADVOCATE] if tier == PARTICIPANT else None,
        "steps": steps,
    }


def risk_weeks(cal: Calendar, rules: Rules) -> tuple[int, int]:
    """The first and last week the risk compares: complete weeks only (a part-week would
    always look like a fall)."""
    last = cal.last_week if cal.as_of % 7 == 0 else cal.last_week - 1
    return last - rules.risk_recent_weeks - rules.risk_baseline_weeks + 1, last


def _risk_counts(weeks: list[WeekRow], cal: Calendar, rules: Rules) -> list[int]:
    """The contributions of the weeks the risk compares (``risk_of``)."""
    first, last = risk_weeks(cal, rules)
    per_week: dict[int, int] = {}
    for row in reversed(weeks):
        if row[0] < first:
            break
        if row[0] <= last:
            per_week[row[0]] = row[1]
    return [per_week.get(k, 0) for k in range(first, last + 1)]


def risk_of(counts: list[int], rules: Rules) -> tuple[dict[str, Any], float]:
    """The risk from the contributions of each week ``risk_weeks`` names, oldest first: the
    baseline weeks, then the recent ones."""
    recent_n, base_n = rules.risk_recent_weeks, rules.risk_baseline_weeks
    base = sum(counts[:base_n]) / base_n
    if base < rules.risk_min_weekly or base <= 0:
        return {}, 0.0
    recent = sum(counts[base_n:]) / recent_n
    limit = base * rules.risk_drop_percent / 100
    # The last three weeks; those before the compared ones count as empty (so, low).
    low = sum(1 for count in counts[-3:] if count < limit) + max(0, 3 - len(counts))
    if recent >= limit or low < rules.risk_low_weeks:
        return {}, 0.0
    risk = {
        "code": "falling",
        "recent": round(recent, 1),
        "usual": round(base, 1),
        "weeks": recent_n,
        "before_weeks": base_n,
        "low_weeks": low,
        "of_weeks": 3,
        "action": "check_in",
    }
    return risk, round(1 - recent / base, 4)


def evaluate(
    member: MemberInput,
    rules: Rules,
    cal: Calendar,
    *,
    start_week: int | None = None,
    prev_tier: str | None = None,
    prev_since: int | None = None,
    fingerprints: Fingerprints | None = None,
) -> MemberResult:
    """Replay ``member`` from ``start_week`` (None: from their first signal), starting from the
    tier they had before it (``prev_tier``/``prev_since``, from the stored history); with
    ``fingerprints``, also fingerprint each step and the tier row."""
    width = rules.window_weeks
    lapse = rules.lapse_days
    adv_weeks, adv_helped = rules.advocate_min_weeks, rules.advocate_min_helped
    part_weeks = rules.participant_min_weeks
    part_commit = commitment_units(rules.participant_min_commitment)
    last_week = cal.last_week
    weeks, ties, invites, acts = member.weeks, member.ties, member.invites, member.acts
    gone_day = member.gone_day
    n = len(weeks)

    points: set[int] = {last_week}
    for i, row in enumerate(weeks):
        week = row[0]
        points.add(week)
        points.add(week + width)
        lapse_week = (row[4] + lapse - 1) // 7
        if i + 1 == n or weeks[i + 1][0] > lapse_week:
            points.add(lapse_week)
    # Help given enters and leaves the window too (a reply is a message, so its week is
    # usually a row's week already).
    for week, _pairs in ties:
        points.add(week)
        points.add(week + width)
    for day, _invitee in invites:
        points.add((day - 1) // 7)
        points.add((day - 1) // 7 + width)
    for day, _code, _count in acts:
        points.add((day - 1) // 7)
        points.add((day - 1) // 7 + width)
    if gone_day is not None:
        points.add((gone_day - 1) // 7)
    if start_week is None:
        first = min(
            weeks[0][0] if weeks else NEVER,
            (gone_day - 1) // 7 if gone_day is not None else NEVER,
        )
        cur = -1
        since = None
    else:
        first = min(start_week, last_week)
        points.add(first)
        cur = -1 if prev_tier is None else TIER_BY_RANK.index(prev_tier)
        since = prev_since
    order = sorted(k for k in points if first <= k <= last_week)

    w = _Window()
    changes: list[tuple[int, str | None, str, list[dict[str, Any]]]] = []
    digests: list[int] = []
    hi = lo = 0
    active = contributions = days = others = commitment = 0
    last_signal: int | None = None
    n_ties = len(ties)
    t_hi = t_lo = 0
    targets: dict[int, int] = {}
    replies = mentions = helped_weeks = 0
    n_inv = len(invites)
    i_hi = i_lo = 0
    n_acts = len(acts)
    a_hi = a_lo = 0
    act_counts: dict[str, int] = {}
    raw = LAPSED
    pend = NEVER
    idx, n_points = 0, len(order)
    while True:
        if idx < n_points and order[idx] <= pend:
            k = order[idx]
            idx += 1
            if k == pend:
                pend = NEVER
        elif pend <= last_week:
            k, pend = pend, NEVER
        else:
            break
        day = cal.as_of if k == last_week else k * 7 + 7
        low_week = k - width + 1
        # Weeks entering and leaving the window.
        while hi < n and weeks[hi][0] <= k:
            row = weeks[hi]
            hi += 1
            if row[1]:
                active += 1
                contributions += row[1]
            commitment += row[2]
            days += row[3]
            others += row[5]
            last_signal = row[4]
        while lo < hi and weeks[lo][0] < low_week:
            row = weeks[lo]
            lo += 1
            if row[1]:
                active -= 1
                contributions -= row[1]
            commitment -= row[2]
            days -= row[3]
            others -= row[5]
        if n_ties:
            while t_hi < n_ties and ties[t_hi][0] <= k:
                for target, count, mentioned in ties[t_hi][1]:
                    targets[target] = targets.get(target, 0) + 1
                    replies += count
                    mentions += mentioned
                helped_weeks += 1
                t_hi += 1
            while t_lo < t_hi and ties[t_lo][0] < low_week:
                for target, count, mentioned in ties[t_lo][1]:
                    left = targets[target] - 1
                    if left:
                        targets[target] = left
                    else:
                        del targets[target]
                    replies -= count
                    mentions -= mentioned
                helped_weeks -= 1
                t_lo += 1
        low_day = low_week * 7 + 1
        if n_inv:
            while i_hi < n_inv and invites[i_hi][0] <= day:
                i_hi += 1
            while i_lo < i_hi and invites[i_lo][0] < low_day:
                i_lo += 1
        if n_acts:
            while a_hi < n_acts and acts[a_hi][0] <= day:
                code, count = acts[a_hi][1], acts[a_hi][2]
                act_counts[code] = act_counts.get(code, 0) + count
                a_hi += 1
            while a_lo < a_hi and acts[a_lo][0] < low_day:
                code, count = acts[a_lo][1], acts[a_lo][2]
                left = act_counts[code] - count
                if left:
                    act_counts[code] = left
                else:
                    del act_counts[code]
                a_lo += 1

        if gone_day is not None and gone_day <= day:
            if cur != LAPSED:
                reason = [{"code": member.gone_code, "on": iso(gone_day)}]
                changes.append(
                    (gone_day, TIER_BY_RANK[cur] if cur >= 0 else None, "lapsed", reason)
                )
                if fingerprints is not None:
                    digests.append(fingerprints.left_step(gone_day, cur, member.gone_code))
                cur, since = LAPSED, gone_day
            raw = LAPSED
            break  # gone stays gone: nothing later can change the tier

        if last_signal is None or lo == hi or day - last_signal >= lapse:
            raw = LAPSED
        elif active >= adv_weeks and (
            len(targets) >= adv_helped or i_hi > i_lo or (n_acts and act_counts)
        ):
            raw = ADVOCATE
        elif active >= part_weeks or (part_commit and commitment >= part_commit):
            raw = PARTICIPANT
        else:
            raw = FOLLOWER

        if raw == cur:
            continue
        if raw < cur and cur >= 0 and not cal.allowed(k):
            if pend == NEVER:
                pend = cal.next_allowed(k + 1)
            continue
        w.day, w.last_signal, w.active_weeks = day, last_signal, active
        w.contributions, w.days, w.others = contributions, days, others
        w.commitment, w.commitment_units = commitment / COMMITMENT_UNITS, commitment
        w.helped, w.replies, w.helped_weeks = len(targets), replies, helped_weeks
        w.mentions, w.invites, w.acts = mentions, i_hi - i_lo, dict(act_counts)
        changes.append(
            (
                day,
                TIER_BY_RANK[cur] if cur >= 0 else None,
                TIER_BY_RANK[raw],
                _reasons(raw, w, rules),
            )
        )
        if fingerprints is not None:
            digests.append(fingerprints.step(day, cur, raw, w))
        cur, since = raw, day

    if cur == -1:
        # Never evaluated (no signal at all): not a member in any sense the data can show.
        return MemberResult(
            member.member_id,
            "lapsed",
            None,
            [{"code": "no_activity"}],
            _progress(LAPSED, w, rules),
            changes,
            step_digests=digests,
            row_digest=None if fingerprints is None else fingerprints.never_row(),
        )
    if cur == LAPSED and gone_day is not None and gone_day <= cal.as_of:
        reasons = [{"code": member.gone_code, "on": iso(gone_day)}]
        return MemberResult(
            member.member_id,
            "lapsed",
            since,
            reasons,
            {"next_tier": None, "steps": []},
            changes,
            step_digests=digests,
            row_digest=(
                None
                if fingerprints is None
                else fingerprints.gone_row(since, gone_day, member.gone_code)  # type: ignore[arg-type]
            ),
        )
    w.day = cal.as_of
    w.last_signal, w.active_weeks = last_signal, active
    w.contributions, w.days, w.others = contributions, days, others
    w.commitment, w.commitment_units = commitment / COMMITMENT_UNITS, commitment
    w.helped, w.replies, w.helped_weeks = len(targets), replies, helped_weeks
    w.mentions, w.invites, w.acts = mentions, i_hi - i_lo, dict(act_counts)
    reasons = current_reasons(cur, raw, w, rules, cal)
    result = MemberResult(
        member.member_id,
        TIER_BY_RANK[cur],
        since,
        reasons,
        _progress(cur, w, rules),
        changes,
        step_digests=digests,
    )
    counts = _risk_counts(weeks, cal, rules) if cur >= PARTICIPANT else []
    if counts:
        risk, drop = risk_of(counts, rules)
        if risk:
            result.at_risk, result.risk, result.risk_drop = True, risk, drop
    if fingerprints is not None:
        silent = last_signal is not None and cal.as_of - last_signal >= lapse
        review = cal.review_day(last_week) if raw < cur else 0
        result.row_digest = fingerprints.row(
            cur,
            since,  # type: ignore[arg-type]
            raw,
            silent,
            review,
            w,
            counts,
        )
    return result
