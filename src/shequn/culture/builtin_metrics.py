"""The goal metrics shequn ships (registered in ``CultureConfig.ready``).

* members / active participants / advocates: members in those tiers on each day, from the tier
  history (``shequn.tiers``: one windowed query over the tier changes);
* members at level N: members who had reached level N or above (``shequn.rewards`` level-ups);
* activity attendance and turnout: check-ins at held activities that started within the goal's
  period (``shequn.activities``), optionally of one ritual, content type or mode;
* tagged messages: events of chosen kinds whose text contains a tag such as ``#打卡``, within
  the goal's period.

Founders, operators and bots are left out of every count, as in every community figure: staff
are active by office, and a goal measures what the members do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.culture.metrics import (
    as_date,
    check_known,
    choice_param,
    day_start,
    int_param,
    list_param,
    param_problem,
    register_metric,
    running_total,
    text_param,
)
from shequn.members.models import Member, Role

MAX_LEVEL = 1_000
TAG_MAX = 100
COUNT_ATTENDANCES, COUNT_PEOPLE, COUNT_EVENTS = "attendances", "people", "events"


def _member_filter(prefix: str = "member__") -> Q:
    return Q(**{f"{prefix}role": Role.MEMBER, f"{prefix}is_bot": False})


# ------------------------------------------------------------------------------- tiers
class TierCount:
    """Members whose tier is one of ``tiers`` on each day, from their tier paths: each tier
    change adds one when it enters the set and takes one away when it leaves it."""

    parameters: dict[str, Any] = {}
    unit = gettext_lazy("members")

    def __init__(self, code: str, label: Any, tiers: tuple[str, ...]) -> None:
        self.code = code
        self.label = label
        self.tiers = tiers

    def validate(self, params: dict) -> dict:
        return check_known(params, ())

    def unavailable(self, community: Any) -> str | None:
        from shequn.tiers.selectors import latest_tier_run

        if latest_tier_run(community) is None:
            return _("Tiers have not been worked out yet (shequn tiers recompute).")
        return None

    def series(self, community: Any, params: dict, days: list[dt.date]) -> list[float]:
        if not days:
            return []
        from shequn.tiers.inputs import day_param
        from shequn.tiers.models import TierChange

        changes, members = TierChange._meta.db_table, Member._meta.db_table
        marks = ", ".join(["%s"] * len(self.tiers))
        sql = (
            "SELECT changed_on, SUM(delta) FROM ("
            " SELECT c.changed_on AS changed_on,"
            f" (CASE WHEN c.to_tier IN ({marks}) THEN 1 ELSE 0 END)"
            " - (CASE WHEN LAG(c.to_tier) OVER"
            f" (PARTITION BY c.member_id ORDER BY c.changed_on, c.id) IN ({marks})"
            " THEN 1 ELSE 0 END) AS delta"
            f" FROM {changes} AS c JOIN {members} AS m ON m.id = c.member_id"
            " WHERE c.community_id = %s AND m.role = %s AND m.is_bot = %s"
            ") AS steps WHERE changed_on <= %s GROUP BY changed_on"
        )
        values = [*self.tiers, *self.tiers, community.pk, Role.MEMBER, False]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values, day_param(days[-1])])
            per_day = {as_date(day): float(delta) for day, delta in cursor.fetchall() if delta}
        return running_total(per_day, days)


# ------------------------------------------------------------------------------ levels
class MembersAtLevel:
    code = "members_at_level"
    label = gettext_lazy("members who reached a level")
    unit = gettext_lazy("members")
    parameters = {"level": gettext_lazy("the level, e.g. 3 (members at it or above count)")}

    def validate(self, params: dict) -> dict:
        params = check_known(params, self.parameters)
        return {"level": int_param(params, "level", minimum=1, maximum=MAX_LEVEL)}

    def describe(self, params: dict) -> str:
        return _("members at level %(level)d or above") % {"level": int(params["level"])}

    def series(self, community: Any, params: dict, days: list[dt.date]) -> list[float]:
        if not days:
            return []
        from shequn.rewards.models import LevelUp

        zone = community.zoneinfo
        firsts = (
            LevelUp.objects.filter(
                _member_filter(),
                community=community,
                level__gte=int(params["level"]),
                reached_at__lt=day_start(community, days[-1] + dt.timedelta(days=1)),
            )
            .values("member_id")
            .annotate(first=Min("reached_at"))
            .order_by()
        )
        per_day: Counter[dt.date] = Counter(row["first"].astimezone(zone).date() for row in firsts)
        return running_total(per_day, days)


# -------------------------------------------------------------------------- activities
def _activity_params(params: dict, extra: tuple[str, ...] = ()) -> dict:
    from shequn.activities.models import ContentKind, Mode

    known = ("ritual", "content_type", "mode", *extra)
    params = check_known(params, known)
    cleaned: dict[str, Any] = {}
    ritual = params.get("ritual")
    if ritual not in (None, ""):
        cleaned["ritual"] = int_param(params, "ritual", minimum=1, maximum=2**62)
    content_type = choice_param(params, "content_type", ContentKind.values)
    if content_type:
        cleaned["content_type"] = content_type
    mode = choice_param(params, "mode", Mode.values)
    if mode:
        cleaned["mode"] = mode
    return cleaned


def _check_ritual(community: Any, params: dict) -> dict:
    from shequn.activities.models import Ritual

    ritual = params.get("ritual")
    if ritual is not None and not Ritual.objects.filter(community=community, pk=ritual).exists():
        raise param_problem("ritual", _("must be the id of one of this community's rituals"))
    return params


def _held_activities(community: Any, params: dict, days: list[dt.date]) -> Any:
    from shequn.activities.models import Activity
    from shequn.activities.selectors import HELD

    activities = Activity.objects.filter(
        community=community,
        status__in=HELD,
        starts_at__gte=day_start(community, days[0]),
        starts_at__lt=day_start(community, days[-1] + dt.timedelta(days=1)),
    )
    if params.get("ritual") is not None:
        activities = activities.filter(ritual_id=params["ritual"])
    if params.get("content_type"):
        activities = activities.filter(content_type=params["content_type"])
    if params.get("mode"):
        activities = activities.filter(mode=params["mode"])
    return activities


def _describe_activities(params: dict) -> str:
    parts = []
    if params.get("ritual") is not None:
        parts.append(_("ritual #%(id)d") % {"id": int(params["ritual"])})
    if params.get("content_type"):
        parts.append(str(params["content_type"]))
    if params.get("mode"):
        parts.append(str(params["mode"]))
    return f" ({', '.join(parts)})" if parts else ""


class ActivityAttendance:
    code = "activity_attendance"
    label = gettext_lazy("activity attendance")
    unit = ""
    parameters = {
        "count": gettext_lazy("attendances (every check-in, the default) or people (each once)"),
        "ritual": gettext_lazy("only this ritual's occurrences (its id)"),
        "content_type": gettext_lazy("only learning, social or game activities"),
        "mode": gettext_lazy("only online or offline activities"),
    }

    def validate(self, params: dict) -> dict:
        cleaned = _activity_params(params, ("count",))
        cleaned["count"] = choice_param(
            params, "count", (COUNT_ATTENDANCES, COUNT_PEOPLE), default=COUNT_ATTENDANCES
        )
        return cleaned

    def validate_in(self, community: Any, params: dict) -> dict:
        return _check_ritual(community, params)

    def describe(self, params: dict) -> str:
        if params.get("count") == COUNT_PEOPLE:
            text = _("members who attended an activity")
        else:
            text = _("attendances at activities")
        return text + _describe_activities(params)

    def series(self, community: Any, params: dict, days: list[dt.date]) -> list[float]:
        if not days:
            return []
        from shequn.activities.models import Registration

        zone = community.zoneinfo
        attended = Registration.objects.filter(
            _member_filter(),
            activity__in=_held_activities(community, params, days),
            checked_in_at__isnull=False,
        )
        if params.get("count") == COUNT_PEOPLE:
            firsts = (
                attended.values("member_id")
                .annotate(first=Min("activity__starts_at"))
                .order_by()
                .values_list("first", flat=True)
            )
            per_day: Counter[dt.date] = Counter(first.astimezone(zone).date() for first in firsts)
        else:
            rows = (
                attended.annotate(day=TruncDate("activity__starts_at", tzinfo=zone))
                .values("day")
                .annotate(n=Count("id"))
                .order_by()
            )
            per_day = Counter({as_date(row["day"]): row["n"] for row in rows})
        return running_total(per_day, days)


class ActivityTurnout:
    code = "activity_turnout"
    label = gettext_lazy("activity turnout")
    unit = "%"
    parameters = {
        "ritual": gettext_lazy("only this ritual's occurrences (its id)"),
        "content_type": gettext_lazy("only learning, social or game activities"),
        "mode": gettext_lazy("only online or offline activities"),
    }

    def validate(self, params: dict) -> dict:
        return _activity_params(params)

    def validate_in(self, community: Any, params: dict) -> dict:
        return _check_ritual(community, params)

    def describe(self, params: dict) -> str:
        return _("share of confirmed places whose holder came") + _describe_activities(params)

    def series(self, community: Any, params: dict, days: list[dt.date]) -> list[float]:
        """Attended per confirmed place, in percent, over the activities that started in the
        goal's period up to each day (0 until one had a confirmed place)."""
        if not days:
            return []
        from shequn.activities.models import Registration

        zone = community.zoneinfo
        rows = (
            Registration.objects.filter(
                activity__in=_held_activities(community, params, days),
                status=Registration.Status.CONFIRMED,
            )
            .annotate(day=TruncDate("activity__starts_at", tzinfo=zone))
            .values("day")
            .annotate(
                confirmed=Count("id"), came=Count("id", filter=Q(checked_in_at__isnull=False))
            )
            .order_by()
        )
        confirmed = {as_date(row["day"]): row["confirmed"] for row in rows}
        came = {as_date(row["day"]): row["came"] for row in rows}
        places = running_total(confirmed, days)
        present = running_total(came, days)
        return [100.0 * c / p if p else 0.0 for c, p in zip(present, places, strict=True)]


# ------------------------------------------------------------------------------ events
class TaggedEvents:
    code = "tagged_events"
    label = gettext_lazy("tagged messages")
    unit = ""
    parameters = {
        "tag": gettext_lazy("the text to look for, e.g. #打卡 (any case)"),
        "kinds": gettext_lazy("event kinds, comma-separated (default: message,reply)"),
        "count": gettext_lazy("events (the default) or people (each member once)"),
    }

    def validate(self, params: dict) -> dict:
        from shequn.interactions.models import EventKind

        params = check_known(params, self.parameters)
        return {
            "tag": text_param(params, "tag", max_length=TAG_MAX, required=True),
            "kinds": list_param(
                params, "kinds", EventKind.values, default=[EventKind.MESSAGE, EventKind.REPLY]
            ),
            "count": choice_param(
                params, "count", (COUNT_EVENTS, COUNT_PEOPLE), default=COUNT_EVENTS
            ),
        }

    def unavailable(self, community: Any) -> str | None:
        if not settings.SHEQUN_STORE_TEXT:
            return _(
                "Message text is not stored (SHEQUN_STORE_TEXT is off), so tags cannot be found."
            )
        return None

    def describe(self, params: dict) -> str:
        if params.get("count") == COUNT_PEOPLE:
            return _("members who posted “%(tag)s”") % {"tag": params.get("tag", "")}
        return _("messages containing “%(tag)s”") % {"tag": params.get("tag", "")}

    def series(self, community: Any, params: dict, days: list[dt.date]) -> list[float]:
        if not days:
            return []
        from shequn.interactions.models import InteractionEvent

        events = InteractionEvent.objects.filter(
            _member_filter(),
            community=community,
            kind__in=list(params["kinds"]),
            occurred_at__gte=day_start(community, days[0]),
            occurred_at__lt=day_start(community, days[-1] + dt.timedelta(days=1)),
            text__icontains=params["tag"],
        )
        if params.get("count") == COUNT_PEOPLE:
            firsts = (
                events.values("member_id")
                .annotate(first=Min("day"))
                .order_by()
                .values_list("first", flat=True)
            )
            per_day: Counter[dt.date] = Counter(as_date(first) for first in firsts)
        else:
            rows = events.values("day").annotate(n=Count("id")).order_by()
            per_day = Counter({as_date(row["day"]): row["n"] for row in rows})
        return running_total(per_day, days)


def register_builtin_metrics() -> None:
    """Called from ``CultureConfig.ready``."""
    from shequn.tiers.models import Tier

    for found in (
        TierCount(
            "members",
            gettext_lazy("members (not lapsed)"),
            (Tier.ADVOCATE.value, Tier.PARTICIPANT.value, Tier.FOLLOWER.value),
        ),
        TierCount(
            "active_participants",
            gettext_lazy("active participants (participants and advocates)"),
            (Tier.ADVOCATE.value, Tier.PARTICIPANT.value),
        ),
        TierCount("advocates", gettext_lazy("advocates"), (Tier.ADVOCATE.value,)),
        MembersAtLevel(),
        ActivityAttendance(),
        ActivityTurnout(),
        TaggedEvents(),
    ):
        register_metric(found)
