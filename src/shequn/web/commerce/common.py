"""What the business pages share: lookups that answer 404 for another community's objects,
refusals as text, finding the member an operator typed."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.activities.web_selectors import find_member
from shequn.commerce.models import Cost, Offer, Purchase
from shequn.commerce.selectors import offer_of, purchase_of
from shequn.commerce.services import CommerceError
from shequn.communities.models import Community
from shequn.members.models import Member

SECTION = "commerce"


def may_write(request: HttpRequest) -> bool:
    return can(request.access_role, AccessRole.OPERATOR)


def offer_or_404(community: Community, offer_id: int) -> Offer:
    found = offer_of(community, offer_id)
    if found is None:
        raise Http404
    return found


def purchase_or_404(community: Community, purchase_id: int) -> Purchase:
    found = purchase_of(community, purchase_id)
    if found is None:
        raise Http404
    return found


def cost_or_404(community: Community, cost_id: int) -> Cost:
    found = Cost.objects.filter(community=community, pk=cost_id).select_related("community").first()
    if found is None:
        raise Http404
    return found


def problems_text(error: CommerceError) -> str:
    """Every problem of a refused change on one line, each with the field it concerns."""
    return "; ".join(
        f"{field}: {message}" if field else message for field, message in error.problems.items()
    )


def resolve_member(community: Community, text: str) -> Member | None:
    """The member an operator typed (id, key, name or handle); ``CommerceError`` on the
    ``member`` field when nobody or several people match. Empty text: ``None``."""
    text = (text or "").strip()
    if not text:
        return None
    found = find_member(community, text)
    if not found:
        raise CommerceError(
            _("no member %(member)s in this community") % {"member": repr(text)}, field="member"
        )
    if len(found) > 1:
        raise CommerceError(
            _("%(member)s matches several members (%(choices)s); use the member's id")
            % {
                "member": repr(text),
                "choices": ", ".join(f"#{m.pk} {m.display_name}" for m in found),
            },
            field="member",
        )
    return found[0]
