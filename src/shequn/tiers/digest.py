"""Fingerprints of what a tier run stores, computed from the numbers behind it.

A member's stored tier row and history are functions of a few whole numbers (the tier, its day,
the counts in the window at each change, the weeks the risk compares) and of the policy. A run
fingerprints those numbers instead of the reasons they become, so a full run finds the members
whose rows differ without building (or reading back) any reason; ``shequn.tiers.batch`` does it
for all members at once with numpy, ``engine.evaluate`` one member at a time: both mix the same
integers in the same order (tests/test_tiers_batch.py holds them equal).

The mix is FNV-1a over 64-bit words, finished with an xor-shift and cut to 63 bits so it fits a
signed ``bigint``. A history's fingerprint is the sum of its steps' (mod 2**63): a run that
replaces the steps from a week on subtracts the stored ones and adds the new.

``VERSION`` is part of every fingerprint: change it whenever what is stored for the same numbers
changes (the reasons' or progress's shape), or runs would keep rows written by older code.
tests/test_tiers_batch.py pins the fingerprints of fixed inputs to catch that.
"""

from __future__ import annotations

from dataclasses import asdict
from hashlib import blake2b
from typing import Any

import numpy as np
import orjson

from shequn.tiers.policy import Rules

VERSION = 1
MASK64 = (1 << 64) - 1
MASK63 = (1 << 63) - 1
PRIME = 0x100000001B3
# What a fingerprint is of (the first word mixed in).
STEP, LEFT_STEP, ROW, GONE_ROW, NEVER_ROW = 1, 2, 3, 4, 5
GONE_CODES = {"left": 1, "muted": 2}
# The window's counts, in the order they are mixed (a ``engine._Window``'s attributes).
FIELDS = (
    "last_signal",
    "active_weeks",
    "contributions",
    "commitment_units",
    "days",
    "others",
    "helped",
    "replies",
    "mentions",
    "helped_weeks",
    "invites",
)
# Which counts a tier's reasons (engine._reasons) and progress (engine._progress) show, by tier
# rank (lapsed, follower, participant, advocate; "acts" stands for the advocacy acts). Only
# those are mixed, the others as 0: a lapsed member's row keeps its fingerprint while their
# old weeks leave the window, as it keeps its reasons.
REASON_FIELDS = (
    frozenset({"last_signal"}),
    frozenset({"contributions", "others", "last_signal"}),
    frozenset({"active_weeks", "contributions", "days", "commitment_units"}),
    frozenset(
        {
            "active_weeks",
            "contributions",
            "days",
            "helped",
            "replies",
            "mentions",
            "helped_weeks",
            "invites",
            "acts",
        }
    ),
)
PROGRESS_FIELDS = (
    frozenset(),
    frozenset({"active_weeks", "commitment_units"}),
    frozenset({"active_weeks", "helped", "invites"}),
    frozenset({"active_weeks", "helped", "invites"}),
)

_U = np.uint64


def finish(value: int) -> int:
    value ^= value >> 29
    value = (value * 0xBF58476D1CE4E5B9) & MASK64
    value ^= value >> 32
    return value & MASK63


def finish_array(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> _U(29))
    values = values * _U(0xBF58476D1CE4E5B9)
    values = values ^ (values >> _U(32))
    return (values & _U(MASK63)).astype(np.int64)


class Fingerprints:
    """The fingerprints of one run: its policy and the advocacy act codes known. Not its as-of
    day: a step or row stays the same when a later run reaches the same numbers (what a tier
    row shows of the as-of day is mixed in as such: a silence reaching the lapse limit, the
    day a held downgrade is reviewed)."""

    def __init__(self, rules: Rules, act_codes: list[str] | tuple[str, ...]):
        self.act_codes = tuple(sorted(set(act_codes)))
        # Canonical: keys sorted, choices as their plain values (a fresh policy holds enum
        # members, a loaded one strings), whatever order the database gives the weights in.
        text = orjson.dumps([VERSION, asdict(rules), self.act_codes], option=orjson.OPT_SORT_KEYS)
        self.seed = int.from_bytes(blake2b(text, digest_size=8).digest(), "little")

    # --- one member at a time (engine) ---------------------------------------------------
    def mix(self, words: list[int]) -> int:
        value = self.seed
        for word in words:
            value = ((value ^ word) * PRIME) & MASK64
        return finish(value)

    def window_words(self, w: Any, fields: frozenset[str]) -> list[int]:
        """The counts of a ``engine._Window`` that reasons and progress are made of (those
        not in ``fields`` as 0)."""
        words = [(getattr(w, name) or 0) if name in fields else 0 for name in FIELDS]
        acts = w.acts if "acts" in fields else {}
        return words + [acts.get(code, 0) for code in self.act_codes]

    def step(self, day: int, before: int, after: int, w: Any) -> int:
        words = self.window_words(w, REASON_FIELDS[after])
        return self.mix([STEP, day, before + 1, after, *words])

    def left_step(self, day: int, before: int, code: str) -> int:
        return self.mix([LEFT_STEP, day, before + 1, GONE_CODES.get(code, 0)])

    def row(
        self,
        tier: int,
        since: int,
        now: int,
        silent: bool,
        review: int,
        w: Any,
        risk_counts: list[int],
    ) -> int:
        """``silent``: the as-of day is the lapse limit or more after the last signal;
        ``review``: the day a held downgrade is reviewed (0: none held)."""
        words = self.window_words(w, REASON_FIELDS[now] | PROGRESS_FIELDS[tier])
        silent = silent and now == 0  # only a lapsed member's reasons say it
        return self.mix([ROW, tier, since, now, int(silent), review, *words, *risk_counts])

    def gone_row(self, since: int, day: int, code: str) -> int:
        return self.mix([GONE_ROW, since, day, GONE_CODES.get(code, 0)])

    def never_row(self) -> int:
        return self.mix([NEVER_ROW])

    # --- every member at once (batch) ----------------------------------------------------
    def start_array(self, size: int) -> np.ndarray:
        return np.full(size, self.seed, dtype=_U)

    @staticmethod
    def mix_array(values: np.ndarray, word: np.ndarray | int) -> np.ndarray:
        word_u = _U(word) if isinstance(word, int) else np.asarray(word).astype(_U)
        return (values ^ word_u) * _U(PRIME)


def path_total(step_digests: list[int]) -> int:
    return sum(step_digests) & MASK63


def with_member(row_digest: int, joined: int | None, gone: int | None) -> int:
    """A tier row's fingerprint with the member's join and leave days, which the row keeps."""
    value = ((row_digest ^ (joined or 0)) * PRIME) & MASK64
    return finish(((value ^ (gone or 0)) * PRIME) & MASK64)


def with_member_array(row_digests: np.ndarray, joined: np.ndarray, gone: np.ndarray) -> np.ndarray:
    """``with_member`` of many rows (days 0 where unknown)."""
    value = (row_digests.astype(_U) ^ joined.astype(_U)) * _U(PRIME)
    return finish_array((value ^ gone.astype(_U)) * _U(PRIME))
