"""A diagnosis period and who counts in it: local-midnight bounds, the members left out of the
members' figures (bots; founders and operators, active by office) and who was active."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from shequn.communities.models import Community
from shequn.insights.sql import db_moment
from shequn.interactions.models import MemberDailyRollup
from shequn.interactions.rollups import ACTIVE_DAY
from shequn.members.models import Member, Role
from shequn.tiers.inputs import day_param

PERIOD_DAYS = 30
STAFF = (Role.FOUNDER.value, Role.OPERATOR.value)


def local_bounds(community: Community, start: dt.date, end: dt.date) -> tuple[Any, Any]:
    """The period's first and end days as the community's local midnights."""
    zone = community.zoneinfo
    return dt.datetime.combine(start, dt.time(), zone), dt.datetime.combine(end, dt.time(), zone)


def db_bounds(community: Community, start: dt.date, end: dt.date) -> tuple[Any, Any]:
    """``local_bounds`` as raw-SQL parameters."""
    since, until = local_bounds(community, start, end)
    return db_moment(since), db_moment(until)


def active_members(community: Community, start: dt.date, end: dt.date) -> dict[int, int]:
    """Members active in ``[start, end)`` with their contributions (messages and activities
    attended; a member who only reacted is active with none)."""
    rollups, members = MemberDailyRollup._meta.db_table, Member._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.member_id, SUM(r.messages + r.attended) FROM {rollups} AS r"
            f" JOIN {members} AS m ON m.id = r.member_id"
            " WHERE r.community_id = %s AND r.day >= %s AND r.day < %s"
            f" AND ({ACTIVE_DAY}) AND NOT m.is_bot AND m.role NOT IN (%s, %s)"
            " GROUP BY r.member_id",
            [community.pk, day_param(start), day_param(end), *STAFF],
        )
        return {member: int(total) for member, total in cursor.fetchall()}
