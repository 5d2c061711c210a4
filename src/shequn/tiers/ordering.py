"""Sorting and lookups of integer keys for the array replay, at the speed of a counting pass.

A full recompute sorts and looks up several hundred thousand member positions, weeks and ids.
numpy sorts keys of up to 16 bits by radix and wider ones by timsort or merge sort, about ten
times slower on these sizes; and a binary search per id (``searchsorted``) misses the cache
on every step. Keys here are small or dense, so both have cheaper forms.
"""

from __future__ import annotations

import numpy as np

_I = np.int64
_DIGIT = 16


def stable_order(*keys: np.ndarray) -> np.ndarray:
    """The order that sorts rows by the first key, then the next, …; equal rows keep their
    order (``np.lexsort`` with the keys reversed): one 16-bit radix pass per digit of each
    key's range, least significant first."""
    count = len(keys[0])
    order: np.ndarray | None = None
    if count < 2:
        return np.arange(count, dtype=_I)
    for key in reversed(keys):
        values = key.astype(_I, copy=False) if order is None else key[order].astype(_I)
        # The distance from the smallest, unsigned: it may not fit a signed 64-bit number.
        values = (values - values.min()).view(np.uint64)
        passes = max(1, (int(values.max()).bit_length() + _DIGIT - 1) // _DIGIT)
        for number in range(passes):
            digit = values if number == 0 else values >> np.uint64(number * _DIGIT)
            step = np.argsort(digit.astype(np.uint16), kind="stable")  # wraps: the low 16 bits
            order = step if order is None else order[step]
            if number + 1 < passes:
                values = values[step]
    assert order is not None
    return order


class Positions:
    """Where each of many ids sits in a sorted array of distinct ids.

    Ids spread over at most ``SPREAD`` times as many values as there are (a community's members
    and accounts, numbered in the order they arrived) are looked up in a table indexed by id;
    others by binary search."""

    SPREAD = 32

    def __init__(self, sorted_ids: np.ndarray) -> None:
        self.ids = sorted_ids.astype(_I, copy=False)
        self.table: np.ndarray | None = None
        if len(self.ids):
            self.low = int(self.ids[0])
            size = int(self.ids[-1]) - self.low + 1
            if size <= self.SPREAD * len(self.ids) + 1024:
                self.table = np.full(size, -1, dtype=_I)
                self.table[self.ids - self.low] = np.arange(len(self.ids), dtype=_I)

    def of(self, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each needle's position (0 where absent) and whether it is there."""
        if not len(self.ids):
            return np.zeros(len(needles), dtype=_I), np.zeros(len(needles), dtype=bool)
        if self.table is not None:
            offsets = needles - self.low
            inside = (offsets >= 0) & (offsets < len(self.table))
            pos = np.full(len(needles), -1, dtype=_I)
            pos[inside] = self.table[offsets[inside]]
            found = pos >= 0
            pos[~found] = 0
            return pos, found
        pos = np.minimum(np.searchsorted(self.ids, needles), len(self.ids) - 1)
        return pos, self.ids[pos] == needles
