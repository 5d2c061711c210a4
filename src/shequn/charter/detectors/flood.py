"""Flood: more than N messages by one member in T seconds, in one channel.

A message is flood when the member's N-th message before it, in the same channel, is less than
T seconds older (one ``LAG`` window over the member's messages, as the diagnosis's noise
measure). The flagged messages of one member in one channel, each within T seconds of the
previous flagged one, form one burst: one violation per burst, not per message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.charter.detectors.base import (
    MESSAGES,
    Detector,
    Finding,
    Param,
    Scope,
    aware,
    register,
    run_query,
)
from shequn.insights.sql import seconds_between
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member


@register
class Flood(Detector):
    kind = "flood"
    label = gettext_lazy("Flood")
    help_text = gettext_lazy(
        "More than N messages by one member within T seconds in one channel; one violation per "
        "burst."
    )
    params = (
        Param(
            "messages",
            "int",
            5,
            gettext_lazy("N: this many messages are fine; the next one within T is flood."),
            minimum=1,
            maximum=1000,
        ),
        Param(
            "seconds",
            "int",
            60,
            gettext_lazy("T: the window, in seconds."),
            minimum=1,
            maximum=86_400,
        ),
    )

    def margin(self, params: dict[str, Any]) -> dt.timedelta:
        return dt.timedelta(seconds=params["seconds"])

    def merge_gap(self, params: dict[str, Any]) -> dt.timedelta | None:
        return dt.timedelta(seconds=params["seconds"])

    def find(self, scope: Scope) -> list[Finding]:
        limit, seconds = int(scope.params["messages"]), int(scope.params["seconds"])
        events, members = InteractionEvent._meta.db_table, Member._meta.db_table
        in_time, time_params = scope.time_sql("e.occurred_at")
        judged, judged_params = scope.judged_sql("m")
        kinds = ", ".join(["%s"] * len(MESSAGES))
        gap = seconds_between("occurred_at", "previous_at")
        rows = run_query(
            "SELECT id, member_id, channel_id, occurred_at FROM ("
            " SELECT e.id, e.member_id, e.channel_id, e.occurred_at,"
            f" LAG(e.occurred_at, {limit}) OVER (PARTITION BY e.channel_id, e.member_id"
            " ORDER BY e.occurred_at, e.id) AS previous_at"
            f" FROM {events} AS e JOIN {members} AS m ON m.id = e.member_id"
            f" WHERE e.community_id = %s AND e.kind IN ({kinds}) AND {in_time} AND {judged}"
            f") AS paced WHERE previous_at IS NOT NULL AND {gap} < %s"
            " ORDER BY member_id, channel_id, occurred_at, id",
            [scope.community.pk, *MESSAGES, *time_params, *judged_params, seconds],
        )
        window = dt.timedelta(seconds=seconds)
        findings: list[Finding] = []
        burst: Finding | None = None
        for event_id, member_id, channel_id, occurred_at in rows:
            moment = aware(occurred_at)
            same = (
                burst is not None
                and burst.member_id == member_id
                and burst.detail["channel"] == channel_id
                and moment - burst.window_end <= window
            )
            if same:
                burst.window_end = moment
                burst.detail["flagged"] += 1
                continue
            burst = Finding(
                key=f"{member_id}:{channel_id}:{event_id}",
                member_id=member_id,
                event_id=event_id,
                occurred_at=moment,
                window_end=moment,
                detail={"channel": channel_id, "flagged": 1, "limit": limit, "seconds": seconds},
            )
            findings.append(burst)
        return findings

    def describe(self, detail: dict[str, Any]) -> str:
        return _(
            "%(flagged)s messages beyond %(limit)s within %(seconds)s seconds in one channel"
        ) % {
            "flagged": detail.get("flagged", "?"),
            "limit": detail.get("limit", "?"),
            "seconds": detail.get("seconds", "?"),
        }
