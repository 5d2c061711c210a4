"""Offers: what the community sells, created, changed and taken off sale (never deleted once
sold, so past purchases keep their offer)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.commerce.models import Offer
from shequn.commerce.services.common import jsonable
from shequn.commerce.validation import CommerceError, clean_offer, offer_values
from shequn.communities.models import Community


def _check_unique(community: Community, cleaned: dict[str, Any], current: Offer | None) -> None:
    """Order files name offers by name or code, so each must point at one offer."""
    others = Offer.objects.filter(community=community)
    if current is not None:
        others = others.exclude(pk=current.pk)
    problems: dict[str, str] = {}
    if (
        others.annotate(lower_name=Lower("name"))
        .filter(lower_name=cleaned["name"].lower())
        .exists()
    ):
        problems["name"] = _("another offer is already called %(name)s") % {
            "name": repr(cleaned["name"])
        }
    if cleaned["code"] and others.filter(code=cleaned["code"]).exists():
        problems["code"] = _("another offer already has the code %(code)s") % {
            "code": repr(cleaned["code"])
        }
    if problems:
        raise CommerceError(problems)


def _save(offer: Offer) -> None:
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError:  # a concurrent request took the name or code first
        raise CommerceError(
            _("another offer already has this name or code"), field="name"
        ) from None


@transaction.atomic
def do_create_offer(community: Community, values: dict[str, Any], *, actor: Any = None) -> Offer:
    """Put something on sale: a membership (with its duration), a course, a product, a ticket."""
    cleaned = clean_offer(values)
    _check_unique(community, cleaned, None)
    offer = Offer(community=community, **cleaned)
    _save(offer)
    audit.record(
        "commerce.offer.create",
        community=community,
        actor=actor,
        target=offer,
        details={"after": jsonable(cleaned)},
    )
    return offer


@transaction.atomic
def do_update_offer(offer: Offer, values: dict[str, Any], *, actor: Any = None) -> Offer:
    """Change an offer; past purchases keep what they paid (a new price applies to new sales).
    Nothing changed: nothing saved, nothing audited."""
    current = Offer.objects.select_for_update().get(pk=offer.pk)
    cleaned = clean_offer(values, current=current)
    before = offer_values(current)
    changed = {field: value for field, value in cleaned.items() if before[field] != value}
    if not changed:
        return current
    _check_unique(current.community, cleaned, current)
    for field, value in changed.items():
        setattr(current, field, value)
    _save(current)
    audit.record(
        "commerce.offer.update",
        community=current.community,
        actor=actor,
        target=current,
        details={
            "before": jsonable({field: before[field] for field in changed}),
            "after": jsonable(changed),
        },
    )
    return current


def do_set_offer_active(offer: Offer, active: bool, *, actor: Any = None) -> Offer:
    """Take an offer off sale (its purchases and figures stay) or put it back on sale."""
    return do_update_offer(offer, {"active": bool(active)}, actor=actor)
