"""The exchange's goal metric for the culture app's goals (社群目标): needs matched.

A goal such as "50 needs matched by June" is then measured from data, never typed in: the
number of needs that have at least one confirmed connection by the end of each day, however
long ago it was confirmed (a state, not a count within the goal's period).
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.exchange.validation import TAG_MAX, ExchangeError, normalise_tag


def _problem(name: str, message: str) -> ValueError:
    """The culture app's error for a bad parameter (``params.<name>``), when it is there."""
    try:
        from shequn.culture.metrics import param_problem
    except ImportError:
        return ExchangeError(message, field=f"params.{name}")
    return param_problem(name, message)


class NeedsMatched:
    """Needs with a confirmed connection, cumulative (optionally only needs with a tag)."""

    code = "needs_matched"
    label = gettext_lazy("needs matched")
    unit = gettext_lazy("needs")
    parameters = {"tag": gettext_lazy("only needs with this tag (optional)")}

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters as stored: {} or {"tag": a normalised tag}."""
        if params is None:
            return {}
        if not isinstance(params, dict):
            raise _problem("", _("must be a set of name=value parameters"))
        for name in params:
            if name not in self.parameters:
                raise _problem(
                    str(name),
                    _("is not a parameter of this metric (it takes: %(names)s)")
                    % {"names": ", ".join(self.parameters)},
                )
        tag = params.get("tag")
        if tag in (None, ""):
            return {}
        if not isinstance(tag, str) or "\x00" in tag:
            raise _problem("tag", _("must be a text"))
        tag = normalise_tag(tag)
        if len(tag) > TAG_MAX:
            raise _problem("tag", _("is too long (at most %(n)d characters)") % {"n": TAG_MAX})
        return {"tag": tag} if tag else {}

    def describe(self, params: dict[str, Any]) -> str:
        if params.get("tag"):
            return _("needs tagged %(tag)s matched") % {"tag": params["tag"]}
        return str(self.label)

    def series(self, community: Any, params: dict[str, Any], days: list[dt.date]) -> list[float]:
        """For each day, the needs matched by its end (local time): one query in all."""
        from shequn.exchange.selectors import first_connection_times

        times = first_connection_times(community, (params or {}).get("tag", ""))
        zone = community.zoneinfo
        return [
            float(
                bisect.bisect_left(
                    times, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
                )
            )
            for day in days
        ]


NEEDS_MATCHED = NeedsMatched()


def register() -> bool:
    """Add the metric to the culture app's registry, if that app offers one (it is built
    alongside); returns whether it was registered."""
    try:
        from shequn.culture.metrics import register_metric
    except ImportError:
        return False
    register_metric(NEEDS_MATCHED)
    return True
