"""Helping through the exchange as a tier advocacy signal (``shequn.tiers.signals``).

The member whose offer met another member's need acted for the community (the seed's
altruism): each confirmed connection counts once for them, on the local day it was confirmed,
unless its outcome was reported as "no result". It earns the commitment weight of a reply
(``reply``): the act of helping, not its size.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.utils.translation import ngettext

from shequn.exchange.models import Connection, Outcome


class HelpedThroughExchange:
    code = "exchange_helped"
    weight_kind = "reply"

    def acts(
        self, community: Any, member_ids: set[int] | None, until: dt.date
    ) -> list[tuple[int, dt.date, int]]:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), community.zoneinfo)
        rows = (
            Connection.objects.filter(community=community, confirmed_at__lt=end)
            .exclude(outcome=Outcome.NONE)
            .values_list("offer__member_id", "confirmed_at")
        )
        zone = community.zoneinfo
        counts: Counter[tuple[int, dt.date]] = Counter(
            (member_id, confirmed_at.astimezone(zone).date())
            for member_id, confirmed_at in rows
            if member_id is not None and (member_ids is None or member_id in member_ids)
        )
        return [(member_id, day, count) for (member_id, day), count in sorted(counts.items())]

    def describe(self, reason: dict[str, Any]) -> str:
        count = int(reason.get("count", 0))
        return ngettext(
            "helped %(count)d member through the exchange",
            "helped %(count)d members through the exchange",
            count,
        ) % {"count": count}


def register() -> None:
    from shequn.tiers.signals import register_advocacy_signal

    register_advocacy_signal(HelpedThroughExchange())
