"""What a member's page shows of them beyond messages: the charter they acknowledged and broke,
what they said they gained, what they need and offer, what they bought. Each app's selectors
answer for its part."""

from __future__ import annotations

from typing import Any

from shequn.charter.selectors import current_charter, member_acknowledged, member_violations
from shequn.commerce.selectors import PurchaseFilters, community_purchases
from shequn.culture.selectors import community_testimonials
from shequn.exchange.selectors import PostFilters, community_posts
from shequn.members.models import Member

SHOWN = 5


def engagement_context(person: Member) -> dict[str, Any]:
    community = person.community
    violations = member_violations(person)
    posts = community_posts(community, PostFilters(member_id=person.pk))
    purchases = community_purchases(community, PurchaseFilters(member_id=person.pk))
    testimonials = community_testimonials(community).filter(member=person)
    return {
        "charter_current": current_charter(community),
        "charter_acknowledged": member_acknowledged(person),
        "violations": list(violations[:SHOWN]),
        "violation_count": violations.count(),
        "posts": list(posts[:SHOWN]),
        "purchases": list(purchases[:SHOWN]),
        "purchase_count": purchases.count(),
        "testimonials": list(testimonials[:SHOWN]),
    }
