"""``shequn.tiers.ordering``: the radix sort order and the id lookups the array replay uses
agree with numpy's own ``lexsort`` and ``searchsorted`` on any keys."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shequn.tiers.ordering import Positions, stable_order

small = st.integers(-5, 5)
wide = st.integers(-(2**62), 2**62)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 60).flatmap(
        lambda size: st.lists(
            hnp.arrays(np.int64, size, elements=st.one_of(small, wide, st.integers(0, 70_000))),
            min_size=1,
            max_size=3,
        )
    )
)
def test_stable_order_is_lexsort_with_the_first_key_primary(keys) -> None:
    assert stable_order(*keys).tolist() == np.lexsort(tuple(reversed(keys))).tolist()


def test_stable_order_keeps_equal_rows_in_their_order() -> None:
    members = np.array([70_000, 3, 70_000, 3, 3, 1 << 40], dtype=np.int64)
    assert stable_order(members).tolist() == [1, 3, 4, 0, 2, 5]
    extremes = np.array([2**63 - 1, -(2**63), 0, -(2**63), 2**63 - 1], dtype=np.int64)
    assert stable_order(extremes).tolist() == [1, 3, 2, 0, 4]


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.integers(-50, 10**12), max_size=40),
    st.lists(st.integers(-60, 10**12), max_size=40),
    st.booleans(),
)
def test_positions_find_exactly_the_ids_present(ids, extra, dense) -> None:
    if dense:  # ids close together: looked up in a table
        ids = {i % 200 for i in ids}
        extra = [e % 260 - 30 for e in extra]
    sorted_ids = np.array(sorted(ids), dtype=np.int64)
    needles = np.array([*sorted(ids)[::2], *extra], dtype=np.int64)
    positions, found = Positions(sorted_ids).of(needles)
    for needle, position, there in zip(needles.tolist(), positions, found, strict=True):
        assert there == (needle in ids)
        if there:
            assert sorted_ids[position] == needle


def test_dense_ids_use_the_table_and_sparse_ones_the_search() -> None:
    assert Positions(np.arange(1, 50_001, dtype=np.int64)).table is not None
    assert Positions(np.array([1, 10**9], dtype=np.int64)).table is None
