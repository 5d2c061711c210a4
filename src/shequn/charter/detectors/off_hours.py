"""Off-hours posting: messages in the community's quiet hours (e.g. 23:00–07:00 local time).

Quiet hours are local clock times, so their moments shift with daylight saving time: Python
lists each night's quiet period as a UTC interval (correct for the community's time zone on
that date), and one SQL query per batch of nights counts each member's messages inside them,
reading each night's events by the (community, time) index. One violation per member per
night, at their first message of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Max, Min
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
from shequn.insights.sql import db_moment
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

NIGHTS_PER_QUERY = 300


def quiet_periods(
    zone: dt.tzinfo, first: dt.date, last: dt.date, params: dict[str, Any]
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(night, start, end) of every quiet period starting on a local day from ``first`` to
    ``last``, on the chosen weekdays; start and end are aware (UTC)."""
    start_time = dt.time.fromisoformat(params["start"])
    end_time = dt.time.fromisoformat(params["end"])
    overnight = end_time <= start_time
    weekdays = set(params.get("weekdays") or range(7))
    periods = []
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            begins = dt.datetime.combine(day, start_time, zone)
            ends_on = day + dt.timedelta(days=1) if overnight else day
            ends = dt.datetime.combine(ends_on, end_time, zone)
            periods.append((day.isoformat(), begins.astimezone(dt.UTC), ends.astimezone(dt.UTC)))
        day += dt.timedelta(days=1)
    return periods


@register
class OffHours(Detector):
    kind = "off_hours"
    label = gettext_lazy("Off-hours posting")
    help_text = gettext_lazy(
        "Messages in the quiet hours, local time (e.g. 23:00 to 07:00); one violation per "
        "member per night."
    )
    params = (
        Param("start", "time", "23:00", gettext_lazy("Quiet hours start (local time, HH:MM).")),
        Param("end", "time", "07:00", gettext_lazy("Quiet hours end (local time, HH:MM).")),
        Param(
            "weekdays",
            "weekdays",
            [],
            gettext_lazy(
                "The days whose evening starts quiet hours (mon … sun); empty: every day."
            ),
        ),
        Param(
            "min_messages",
            "int",
            1,
            gettext_lazy("Flag a member from this many messages in one quiet period."),
            minimum=1,
            maximum=1000,
        ),
    )

    def check(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        if params["start"] == params["end"]:
            return [("end", _("must differ from the start"))]
        return []

    def margin(self, params: dict[str, Any]) -> dt.timedelta:
        return dt.timedelta(days=1)

    def find(self, scope: Scope) -> list[Finding]:
        community = scope.community
        since, until = scope.since, scope.until
        if since is None or until is None:
            span = InteractionEvent.objects.filter(community=community).aggregate(
                first=Min("occurred_at"), last=Max("occurred_at")
            )
            if span["first"] is None:
                return []
            since = since or span["first"]
            until = until or span["last"] + dt.timedelta(seconds=1)
        zone = community.zoneinfo
        first = since.astimezone(zone).date() - dt.timedelta(days=1)
        last = until.astimezone(zone).date()
        periods = quiet_periods(zone, first, last, scope.params)
        findings = []
        for start in range(0, len(periods), NIGHTS_PER_QUERY):
            findings += self._find_in(scope, periods[start : start + NIGHTS_PER_QUERY])
        return findings

    def _find_in(
        self, scope: Scope, periods: list[tuple[str, dt.datetime, dt.datetime]]
    ) -> list[Finding]:
        events, members = InteractionEvent._meta.db_table, Member._meta.db_table
        in_time, time_params = scope.time_sql("e.occurred_at")
        judged, judged_params = scope.judged_sql("m")
        kinds = ", ".join(["%s"] * len(MESSAGES))
        values = ", ".join(["(%s, %s, %s)"] * len(periods))
        value_params = [
            item
            for night, begins, ends in periods
            for item in (night, db_moment(begins), db_moment(ends))
        ]
        partition = "PARTITION BY q.night, e.member_id"
        each_night = (
            "e.community_id = %s AND e.occurred_at >= q.since AND e.occurred_at < q.until"
            f" AND e.kind IN ({kinds}) AND {in_time} AND {judged}"
        )
        # Each night's events are read by the (community, time) index: PostgreSQL through a
        # LATERAL subquery that OFFSET 0 keeps from being flattened into a join (right after a
        # large import its estimates are stale, and it would test every event against every
        # night), SQLite by a CROSS JOIN, which it never reorders.
        if connection.vendor == "postgresql":
            source = (
                "quiet AS q CROSS JOIN LATERAL (SELECT e.id, e.member_id, e.occurred_at"
                f" FROM {events} AS e JOIN {members} AS m ON m.id = e.member_id"
                f" WHERE {each_night} OFFSET 0) AS e"
            )
        else:
            source = (
                f"quiet AS q CROSS JOIN {events} AS e JOIN {members} AS m ON m.id = e.member_id"
                f" WHERE {each_night}"
            )
        rows = run_query(
            f"WITH quiet(night, since, until) AS (VALUES {values})"
            " SELECT night, member_id, id, first_at, last_at, n FROM ("
            " SELECT q.night, e.member_id, e.id, e.occurred_at AS first_at,"
            f" MAX(e.occurred_at) OVER ({partition}) AS last_at,"
            f" COUNT(*) OVER ({partition}) AS n,"
            f" ROW_NUMBER() OVER ({partition} ORDER BY e.occurred_at, e.id) AS turn"
            f" FROM {source}"
            ") AS nightly WHERE turn = 1 AND n >= %s ORDER BY first_at, member_id",
            [
                *value_params,
                scope.community.pk,
                *MESSAGES,
                *time_params,
                *judged_params,
                scope.params["min_messages"],
            ],
        )
        return [
            Finding(
                key=f"{member_id}:{night}",
                member_id=member_id,
                event_id=event_id,
                occurred_at=aware(first_at),
                window_end=aware(last_at),
                detail={
                    "night": str(night),
                    "messages": int(n),
                    "start": scope.params["start"],
                    "end": scope.params["end"],
                },
            )
            for night, member_id, event_id, first_at, last_at, n in rows
        ]

    def describe(self, detail: dict[str, Any]) -> str:
        return _(
            "%(n)s messages in the quiet hours (%(start)s–%(end)s) of the night of %(night)s"
        ) % {
            "n": detail.get("messages", "?"),
            "start": detail.get("start", "?"),
            "end": detail.get("end", "?"),
            "night": detail.get("night", "?"),
        }
