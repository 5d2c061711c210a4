"""Answering a question fast (a reward): the first reply by another member to a question within
M minutes.

Questions and threads are recognised as the diagnosis recognises them
(``shequn.insights.conversation``): a question is a thread opener with the Stack Exchange
question type or a ``?``/``？`` in its text, in a channel that carries reply data; an answer is
any message in its thread (reply chains followed by ``thread_roots_cte``) by someone else. The
first answer by a member the rule may reward within M minutes earns the points; a question is
rewarded once (the reward's key is the question).
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
from shequn.insights.conversation import QUESTION_MARKS, QUESTION_TYPE, thread_roots_cte
from shequn.insights.network import channels_with_replies
from shequn.insights.sql import seconds_between
from shequn.interactions.models import EventKind, InteractionEvent
from shequn.members.models import Member
from shequn.tiers.inputs import among


@register
class FastAnswer(Detector):
    kind = "fast_answer"
    label = gettext_lazy("Answering a question fast")
    help_text = gettext_lazy(
        "Reward the first member who answers another member's question within M minutes."
    )
    reward = True
    params = (
        Param(
            "minutes",
            "int",
            60,
            gettext_lazy("M: an answer within this many minutes counts."),
            minimum=1,
            maximum=10_080,
        ),
    )

    def margin(self, params: dict[str, Any]) -> dt.timedelta:
        return dt.timedelta(minutes=params["minutes"])

    def find(self, scope: Scope) -> list[Finding]:
        channels = sorted(channels_with_replies(scope.community))
        if not channels:
            return []
        window = dt.timedelta(minutes=int(scope.params["minutes"]))
        asked = Scope(
            scope.community,
            scope.params,
            since=scope.since - window if scope.since is not None else None,
            until=scope.until,
        )
        events, members = InteractionEvent._meta.db_table, Member._meta.db_table
        in_channels, channel_params = among("e.channel_id", channels)
        asked_time, asked_params = asked.time_sql("e.occurred_at")
        answered_time, answered_params = scope.time_sql("a.occurred_at")
        judged, judged_params = scope.judged_sql("m")
        kinds = ", ".join(["%s"] * len(MESSAGES))
        answers_where = (
            f"e.community_id = %s AND {in_channels} AND e.kind IN ({kinds}) AND {asked_time}"
            " AND e.member_id IS NOT NULL"
            " AND (e.parent_source_id IS NOT NULL OR e.thread_source_id <> e.source_id)"
        )
        roots_sql, roots_params = thread_roots_cte(
            answers_where, [scope.community.pk, *channel_params, *MESSAGES, *asked_params]
        )
        gap = seconds_between("t.occurred_at", "q.occurred_at")
        rows = run_query(
            f"WITH RECURSIVE {roots_sql},"
            " questions AS (SELECT e.id, e.channel_id, e.source_id, e.member_id, e.occurred_at"
            f" FROM {events} AS e JOIN {members} AS asker ON asker.id = e.member_id"
            f" WHERE e.community_id = %s AND {in_channels} AND e.kind = %s"
            " AND e.parent_source_id IS NULL"
            " AND (e.thread_source_id IS NULL OR e.thread_source_id = e.source_id)"
            f" AND {asked_time} AND NOT asker.is_bot"
            " AND (e.content_type = %s OR e.text LIKE %s OR e.text LIKE %s)),"
            " answers AS (SELECT q.id AS question_id, q.occurred_at AS asked_at, t.event_id,"
            " t.member_id, t.occurred_at, ROW_NUMBER() OVER (PARTITION BY q.id"
            " ORDER BY t.occurred_at, t.event_id) AS turn"
            " FROM questions AS q JOIN thread_roots AS t"
            " ON t.channel_id = q.channel_id AND t.thread = q.source_id"
            f" JOIN {members} AS m ON m.id = t.member_id"
            f" WHERE t.member_id <> q.member_id AND {gap} >= 0 AND {gap} <= %s AND {judged})"
            " SELECT a.question_id, a.asked_at, a.event_id, a.member_id, a.occurred_at"
            f" FROM answers AS a WHERE a.turn = 1 AND {answered_time}"
            " ORDER BY a.occurred_at, a.event_id",
            [
                *roots_params,
                scope.community.pk,
                *channel_params,
                EventKind.MESSAGE.value,
                *asked_params,
                QUESTION_TYPE,
                *(f"%{mark}%" for mark in QUESTION_MARKS),
                window.total_seconds(),
                *judged_params,
                *answered_params,
            ],
        )
        findings = []
        for question_id, asked_at, event_id, member_id, occurred_at in rows:
            answered = aware(occurred_at)
            minutes = (answered - aware(asked_at)).total_seconds() / 60
            findings.append(
                Finding(
                    key=f"question:{question_id}",
                    member_id=member_id,
                    event_id=event_id,
                    occurred_at=answered,
                    detail={"question": question_id, "minutes": round(minutes, 1)},
                )
            )
        return findings

    def describe(self, detail: dict[str, Any]) -> str:
        return _("answered question #%(event)s after %(minutes)s minutes") % {
            "event": detail.get("question", "?"),
            "minutes": detail.get("minutes", "?"),
        }
