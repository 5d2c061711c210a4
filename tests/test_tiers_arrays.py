"""``shequn.tiers.arrays``: a query's integer columns read into aligned numpy arrays, on SQLite
and PostgreSQL (one aggregated string per column); times made local days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shequn.tiers.arrays import NO_TIME, fetch, fetch_members, local_day_numbers, member_columns


def test_columns_come_back_aligned_with_their_values(db) -> None:
    sql = (
        "SELECT 3 AS a, -7 AS b, 4611686018427387904 AS c"
        " UNION ALL SELECT 1, 0, -4611686018427387904"
        " UNION ALL SELECT %s, %s, 12"
    )
    a, b, c = fetch(sql, [2, 5], 3).columns()
    rows = sorted(zip(a.tolist(), b.tolist(), c.tolist(), strict=True))
    assert rows == [(1, 0, -(2**62)), (2, 5, 12), (3, -7, 2**62)]
    assert all(column.dtype == np.int64 for column in (a, b, c))


def test_no_rows_give_empty_columns(db) -> None:
    columns = fetch("SELECT 1 AS a, 2 AS b WHERE 1 = %s", [0], 2).columns()
    assert [len(column) for column in columns] == [0, 0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(10**9), 3 * 10**9), min_size=1, max_size=50),
    st.sampled_from(["America/New_York", "Australia/Lord_Howe", "Asia/Shanghai", "UTC"]),
)
def test_local_days_match_python_also_across_daylight_saving(moments, zone_name) -> None:
    zone = ZoneInfo(zone_name)
    # Some moments right at the 2024 switches (and a second either side).
    switches = [1710054000, 1730613600, 1712415600, 1728142200]
    moments = [*moments, *(s + d for s in switches for d in (-1, 0, 1)), NO_TIME]
    expected = [
        0
        if moment == NO_TIME
        else dt.datetime.fromtimestamp(moment, dt.UTC).astimezone(zone).date().toordinal()
        for moment in moments
    ]
    got = local_day_numbers(np.array(moments, dtype=np.int64), zone).tolist()
    assert got == expected


def test_member_times_become_local_days(db) -> None:
    """Joined 23:30 UTC on 1 March is 2 March in Shanghai; no leave or mute gives 0."""
    from shequn.communities.models import Community
    from shequn.members.models import Member

    community = Community.objects.create(slug="days", name="Days", time_zone="Asia/Shanghai")
    member = Member.objects.create(
        community=community,
        display_name="A",
        role="operator",
        joined_at=dt.datetime(2024, 3, 1, 23, 30, 15, 500000, tzinfo=dt.UTC),
        muted_at=dt.datetime(2024, 3, 5, 1, 0, tzinfo=dt.UTC),
    )
    columns = member_columns(fetch_members(community), community.zoneinfo)
    assert columns.ids.tolist() == [member.pk]
    assert columns.joined.tolist() == [dt.date(2024, 3, 2).toordinal()]
    assert columns.left.tolist() == [0]
    assert columns.muted.tolist() == [dt.date(2024, 3, 5).toordinal()]
    assert columns.is_staff.tolist() == [True] and columns.is_bot.tolist() == [False]
