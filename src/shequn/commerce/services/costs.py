"""Operating costs per month (tools, venue, staff…): what the revenue has to cover."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.commerce.models import Cost
from shequn.commerce.services.common import jsonable, user_or_none
from shequn.commerce.validation import CommerceError, clean_cost
from shequn.communities.models import Community

# A recurring cost may be entered for up to this many months at once (five years).
MAX_REPEAT = 60


def _add_months(month: Any, count: int) -> Any:
    index = month.year * 12 + month.month - 1 + count
    return month.replace(year=index // 12, month=index % 12 + 1, day=1)


@transaction.atomic
def do_add_cost(
    community: Community, values: dict[str, Any], *, repeat: int = 1, actor: Any = None
) -> list[Cost]:
    """Record a cost for a month, or the same cost for ``repeat`` months in a row from it (a
    monthly subscription, a salary)."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise CommerceError(
            _("must be a whole number of months between %(low)d and %(high)d")
            % {"low": 1, "high": MAX_REPEAT},
            field="repeat",
        )
    cleaned = clean_cost(values)
    costs = Cost.objects.bulk_create(
        [
            Cost(
                community=community,
                created_by=user_or_none(actor),
                **{**cleaned, "month": _add_months(cleaned["month"], offset)},
            )
            for offset in range(repeat)
        ]
    )
    audit.record(
        "commerce.cost.add",
        community=community,
        actor=actor,
        target=costs[0],
        details={"after": jsonable(cleaned), "months": repeat},
    )
    return costs


@transaction.atomic
def do_delete_cost(cost: Cost, *, actor: Any = None) -> None:
    """Remove a cost entered by mistake; the audit log keeps what it was."""
    details = jsonable(
        {
            "month": cost.month,
            "category": cost.category,
            "description": cost.description,
            "amount": cost.amount,
            "currency": cost.currency,
        }
    )
    community = cost.community
    audit.record(
        "commerce.cost.delete", community=community, actor=actor, target=cost, details=details
    )
    cost.delete()
