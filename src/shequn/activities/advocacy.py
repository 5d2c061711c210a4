"""Hosting and speaking at activities, as tier advocacy signals (``shequn.tiers.signals``).

An activity counts once it is published or done (a cancelled or draft one was never held), on
the local day it starts, for its organiser and its co-hosts (``hosted``, commitment weight
``host``) and for the members among its speakers (``spoke``, weight ``speak``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.utils.translation import ngettext

from shequn.activities.models import Activity, Guest

HELD = (Activity.Status.PUBLISHED, Activity.Status.DONE)


def _until(community: Any, until: dt.date) -> dt.datetime:
    """The first moment after the local day ``until``."""
    return dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), community.zoneinfo)


def _count(
    community: Any, rows: Iterable[tuple[int | None, dt.datetime]], until: dt.date
) -> list[tuple[int, dt.date, int]]:
    counts: Counter[tuple[int, dt.date]] = Counter()
    zone = community.zoneinfo
    for member_id, starts_at in rows:
        if member_id is None:
            continue
        day = starts_at.astimezone(zone).date()
        if day <= until:
            counts[(member_id, day)] += 1
    return [(member_id, day, count) for (member_id, day), count in sorted(counts.items())]


class HostedActivities:
    code = "hosted"
    weight_kind = "host"

    def acts(
        self, community: Any, member_ids: set[int] | None, until: dt.date
    ) -> list[tuple[int, dt.date, int]]:
        held = Activity.objects.filter(
            community=community, status__in=HELD, starts_at__lt=_until(community, until)
        )
        # An organiser who is also listed as co-host hosted it once. Activities are few, so
        # ``member_ids`` (possibly many thousands) is applied here rather than in SQL.
        pairs = {
            (member_id, activity_id): starts_at
            for member_id, activity_id, starts_at in held.filter(
                organiser__isnull=False
            ).values_list("organiser_id", "pk", "starts_at")
        }
        hosts = Guest.objects.filter(activity__in=held, role=Guest.Role.HOST, member__isnull=False)
        for member_id, activity_id, starts_at in hosts.values_list(
            "member_id", "activity_id", "activity__starts_at"
        ):
            pairs[(member_id, activity_id)] = starts_at
        rows = ((m, s) for (m, _a), s in pairs.items() if member_ids is None or m in member_ids)
        return _count(community, rows, until)

    def describe(self, reason: dict[str, Any]) -> str:
        count = int(reason.get("count", 0))
        return ngettext("hosted %(count)d activity", "hosted %(count)d activities", count) % {
            "count": count
        }


class SpokeAtActivities:
    code = "spoke"
    weight_kind = "speak"

    def acts(
        self, community: Any, member_ids: set[int] | None, until: dt.date
    ) -> list[tuple[int, dt.date, int]]:
        speakers = Guest.objects.filter(
            activity__community=community,
            activity__status__in=HELD,
            activity__starts_at__lt=_until(community, until),
            role=Guest.Role.SPEAKER,
            member__isnull=False,
        ).values_list("member_id", "activity__starts_at")
        rows = ((m, s) for m, s in speakers if member_ids is None or m in member_ids)
        return _count(community, rows, until)

    def describe(self, reason: dict[str, Any]) -> str:
        count = int(reason.get("count", 0))
        return ngettext("spoke at %(count)d activity", "spoke at %(count)d activities", count) % {
            "count": count
        }


def register() -> None:
    """Add both providers to the tier engine (called from the app's ``ready``)."""
    from shequn.tiers.signals import register_advocacy_signal

    register_advocacy_signal(HostedActivities())
    register_advocacy_signal(SpokeAtActivities())
