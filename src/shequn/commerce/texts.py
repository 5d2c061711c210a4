"""The business figures in words, in the active language: shares as percentages and, per
currency, whether the community pays for itself — with the figures behind it and what to do.
The web page, the command line and the API's callers read the same sentences."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def verdicts(report: dict[str, Any]) -> list[dict[str, str]]:
    """Per currency: does the revenue cover the costs over the period, in words, with the
    figures behind it and what to do."""
    result = []
    for currency in report["currencies"]:
        totals = report["totals"][currency]
        values = {
            "revenue": _amount(totals["revenue"], currency),
            "costs": _amount(totals["costs"], currency),
            "balance": _amount(totals["balance"], currency),
            "covered": totals["months_covered"],
            "months": totals["months_with_costs"],
        }
        if totals["pays_for_itself"] is None:
            status = "unknown"
            text = _(
                "Revenue %(revenue)s; no costs recorded in %(currency)s, so whether the "
                "community pays for itself is not known. Record its monthly costs (tools, "
                "venue, staff…)."
            ) % {**values, "currency": currency}
        elif totals["pays_for_itself"]:
            status = "met"
            text = (
                _(
                    "Pays for itself: revenue %(revenue)s covers costs %(costs)s (balance "
                    "%(balance)s; %(covered)s of %(months)s months with costs covered)."
                )
                % values
            )
        else:
            status = "not-met"
            text = (
                _(
                    "Does not pay for itself: revenue %(revenue)s against costs %(costs)s (balance "
                    "%(balance)s; %(covered)s of %(months)s months with costs covered). Look at "
                    "which offers and channels bring repeat buyers, and at the costs."
                )
                % values
            )
        result.append({"currency": currency, "status": status, "text": text})
    return result
