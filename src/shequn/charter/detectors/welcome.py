"""Welcoming a newcomer (a reward): the first reply to, or mention of, a newcomer within D days
of their join, by a member who is not the newcomer.

The newcomers looked at are the targets of the replies and mentions in the range judged; for
each, one window query (``ROW_NUMBER`` over the replies and mentions aimed at them, on the
target's index) finds the first by a member the rule may reward. A newcomer is welcomed once:
the reward's key is the newcomer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.charter.detectors.base import (
    Detector,
    Finding,
    Param,
    Scope,
    aware,
    register,
    run_query,
)
from shequn.insights.sql import seconds_between
from shequn.interactions.models import EventKind, InteractionEvent
from shequn.members.models import Member, Role

ADDRESSING = (EventKind.REPLY.value, EventKind.MENTION.value)


@register
class Welcome(Detector):
    kind = "welcome"
    label = gettext_lazy("Welcoming a newcomer")
    help_text = gettext_lazy(
        "Reward the first member who replies to or mentions a newcomer within D days of their join."
    )
    reward = True
    event_kinds = ADDRESSING
    params = (
        Param(
            "days",
            "int",
            7,
            gettext_lazy("D: a member is a newcomer for this many days after joining."),
            minimum=1,
            maximum=90,
        ),
    )

    def margin(self, params: dict[str, Any]) -> dt.timedelta:
        return dt.timedelta(days=params["days"])

    def find(self, scope: Scope) -> list[Finding]:
        days = int(scope.params["days"])
        events, members = InteractionEvent._meta.db_table, Member._meta.db_table
        in_time, time_params = scope.time_sql("e.occurred_at")
        judged, judged_params = scope.judged_sql("m")
        first_seen = f"(SELECT MIN(x.occurred_at) FROM {events} AS x WHERE x.member_id = n.id)"
        age = seconds_between("e.occurred_at", "nc.since")
        rows = run_query(
            "WITH targets AS (SELECT DISTINCT e.target_member_id AS id"
            f" FROM {events} AS e WHERE e.community_id = %s AND e.kind IN (%s, %s)"
            f" AND e.target_member_id IS NOT NULL AND {in_time}),"
            f" newcomers AS (SELECT n.id, COALESCE(n.joined_at, {first_seen}) AS since"
            f" FROM {members} AS n WHERE n.id IN (SELECT id FROM targets)"
            " AND NOT n.is_bot AND n.role = %s),"
            " welcomes AS (SELECT e.id, e.member_id, e.target_member_id, e.occurred_at,"
            " nc.since, ROW_NUMBER() OVER (PARTITION BY e.target_member_id"
            " ORDER BY e.occurred_at, e.id) AS turn"
            f" FROM newcomers AS nc JOIN {events} AS e ON e.target_member_id = nc.id"
            f" JOIN {members} AS m ON m.id = e.member_id"
            " WHERE e.kind IN (%s, %s) AND e.member_id <> e.target_member_id"
            f" AND e.occurred_at >= nc.since AND {age} < %s AND {judged})"
            " SELECT e.id, e.member_id, e.target_member_id, e.occurred_at, e.since"
            f" FROM welcomes AS e WHERE e.turn = 1 AND {in_time} ORDER BY e.occurred_at, e.id",
            [
                scope.community.pk,
                *ADDRESSING,
                *time_params,
                Role.MEMBER.value,
                *ADDRESSING,
                days * 86400,
                *judged_params,
                *time_params,
            ],
        )
        return [
            Finding(
                key=f"newcomer:{newcomer_id}",
                member_id=member_id,
                event_id=event_id,
                occurred_at=aware(occurred_at),
                detail={"newcomer": newcomer_id, "joined": aware(since).isoformat()},
            )
            for event_id, member_id, newcomer_id, occurred_at, since in rows
        ]

    def describe(self, detail: dict[str, Any]) -> str:
        return _("welcomed newcomer #%(member)s (joined %(joined)s)") % {
            "member": detail.get("newcomer", "?"),
            "joined": str(detail.get("joined", "?"))[:10],
        }
