"""Publishing a testimonial as a tier advocacy signal (``shequn.tiers.signals``).

The seed: a member's benefit is proven when another member has gained it and published it for
all to see; DESIGN.md counts publishing a testimonial among the ways an advocate acts for the
community. A published testimonial counts on the local day the member said it (``said_on``),
with the commitment weight ``testimonial``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.utils.translation import ngettext

from shequn.culture.models import Testimonial


class PublishedTestimonials:
    code = "testimonial"
    weight_kind = "testimonial"

    def acts(
        self, community: Any, member_ids: set[int] | None, until: dt.date
    ) -> list[tuple[int, dt.date, int]]:
        rows = (
            Testimonial.objects.filter(
                community=community, published_at__isnull=False, said_on__lte=until
            )
            .values_list("member_id", "said_on")
            .annotate(n=Count("id"))
            .order_by("member_id", "said_on")
        )
        # Testimonials are few: ``member_ids`` (possibly thousands) is applied here.
        return [
            (member_id, day, n)
            for member_id, day, n in rows
            if member_ids is None or member_id in member_ids
        ]

    def describe(self, reason: dict[str, Any]) -> str:
        count = int(reason.get("count", 0))
        return ngettext(
            "published %(count)d testimonial", "published %(count)d testimonials", count
        ) % {"count": count}


def register() -> None:
    """Add the provider to the tier engine (called from the app's ``ready``)."""
    from shequn.tiers.signals import register_advocacy_signal

    register_advocacy_signal(PublishedTestimonials())
