"""Testimonials (利益证明): record what a member says they gained, curate it, publish it.

Publishing needs the member's consent; withdrawing consent unpublishes. A published
testimonial is an advocate's act (``shequn.culture.advocacy``), so publishing or unpublishing
one brings the tiers up to date when they have been worked out before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.culture.errors import TestimonialError
from shequn.culture.models import Testimonial
from shequn.culture.services.common import (
    Problems,
    as_bool,
    as_day,
    as_text,
    jsonable,
    user_of,
)
from shequn.members.models import Member

FIELDS = ("member", "text", "benefit", "said_on", "source", "consent")
TEXT_MAX = 5_000
SOURCE_MAX = Testimonial._meta.get_field("source").max_length


def clean_testimonial(
    community: Community, values: Mapping[str, Any], *, current: Testimonial | None = None
) -> dict[str, Any]:
    """The testimonial's fields, checked (for a change, only those given); ``TestimonialError``
    names every field at fault."""
    problems = Problems()
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        problems.add(
            "", _("Unknown testimonial fields: %(fields)s") % {"fields": ", ".join(unknown)}
        )
    given = {name: values[name] for name in FIELDS if name in values}
    if current is None:
        for name in ("member", "text"):
            given.setdefault(name, None)
    cleaned: dict[str, Any] = {}
    if "member" in given:
        member = given["member"]
        if isinstance(member, int) and not isinstance(member, bool):
            member = Member.objects.filter(community=community, pk=member).first()
        if member is None and given["member"] is None:
            problems.add("member", _("is required: the member who gained it"))
        elif not isinstance(member, Member) or member.community_id != community.pk:
            problems.add("member", _("must be a member of this community"))
        else:
            cleaned["member"] = member
    if "text" in given:
        cleaned["text"] = as_text(
            given["text"], "text", problems, max_length=TEXT_MAX, required=True
        )
    if "benefit" in given:
        benefit = given["benefit"] or Testimonial.Benefit.OTHER
        if benefit not in Testimonial.Benefit.values:
            problems.add(
                "benefit",
                _("must be one of %(choices)s, not %(value)s")
                % {"choices": ", ".join(Testimonial.Benefit.values), "value": repr(benefit)[:40]},
            )
        cleaned["benefit"] = benefit
    if "said_on" in given or current is None:
        said_on = as_day(given.get("said_on"), "said_on", problems)
        if said_on is None and current is None:
            said_on = timezone.now().astimezone(community.zoneinfo).date()
        if said_on is not None:
            cleaned["said_on"] = said_on
    if "source" in given:
        cleaned["source"] = as_text(given["source"], "source", problems, max_length=SOURCE_MAX)
    if "consent" in given:
        cleaned["consent"] = as_bool(given["consent"], "consent", problems)
    problems.raise_if_any(TestimonialError)
    return cleaned


def _details(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: jsonable(value) for name, value in values.items()}


def _recompute_tiers(community: Community, *testimonials: tuple[Any, Any]) -> None:
    """Published testimonials are advocacy acts: bring the tiers up to date, if they have
    been worked out — replaying only the members concerned, from the day each was said
    (``testimonials``: (member id, day) pairs, before and after a change)."""
    from shequn.tiers.selectors import latest_tier_run
    from shequn.tiers.services import do_recompute_tiers

    touched: dict[int, Any] = {}
    for member_id, day in testimonials:
        if member_id is not None and day is not None:
            touched[member_id] = min(day, touched.get(member_id, day))
    if touched and latest_tier_run(community) is not None:
        do_recompute_tiers(community, touched=touched)


def do_record_testimonial(
    community: Community,
    values: Mapping[str, Any],
    *,
    publish: bool = False,
    actor: Any = None,
    recompute: bool = True,
) -> Testimonial:
    """Record a testimonial (unpublished unless ``publish``, which needs ``consent``)."""
    with transaction.atomic():
        cleaned = clean_testimonial(community, values)
        if publish and not cleaned.get("consent"):
            raise TestimonialError(
                _("must be given before it is published: the member agrees to share it"),
                field="consent",
            )
        testimonial = Testimonial.objects.create(
            community=community,
            recorded_by=user_of(actor),
            published_at=timezone.now() if publish else None,
            **cleaned,
        )
        audit.record(
            "testimonial.create",
            community=community,
            actor=actor,
            target=testimonial,
            details={**_details(cleaned), "published": publish},
        )
    if publish and recompute:
        _recompute_tiers(community, (testimonial.member_id, testimonial.said_on))
    return testimonial


def do_update_testimonial(
    testimonial: Testimonial,
    values: Mapping[str, Any],
    *,
    actor: Any = None,
    recompute: bool = True,
) -> Testimonial:
    """Change the fields given. Withdrawing the member's consent unpublishes it."""
    community = testimonial.community
    with transaction.atomic():
        cleaned = clean_testimonial(community, values, current=testimonial)
        changed = {
            name: value for name, value in cleaned.items() if getattr(testimonial, name) != value
        }
        if not changed:
            return testimonial
        before = {name: getattr(testimonial, name) for name in changed}
        unpublished = testimonial.is_published and changed.get("consent") is False
        for name, value in changed.items():
            setattr(testimonial, name, value)
        if unpublished:
            testimonial.published_at = None
        testimonial.save()
        audit.record(
            "testimonial.update",
            community=community,
            actor=actor,
            target=testimonial,
            details={
                "before": _details(before),
                "after": _details(changed),
                "unpublished": unpublished,
            },
        )
    if recompute and (
        unpublished or (testimonial.is_published and {"member", "said_on"} & set(changed))
    ):
        old_member = before.get("member", testimonial.member)
        _recompute_tiers(
            community,
            (getattr(old_member, "pk", None), before.get("said_on", testimonial.said_on)),
            (testimonial.member_id, testimonial.said_on),
        )
    return testimonial


def do_publish_testimonial(
    testimonial: Testimonial, *, actor: Any = None, recompute: bool = True
) -> Testimonial:
    """Show it on the culture page and in the onboarding message; needs consent."""
    with transaction.atomic():
        if testimonial.is_published:
            raise TestimonialError(_("This testimonial is already published."))
        if not testimonial.consent:
            raise TestimonialError(
                _("must be given before it is published: the member agrees to share it"),
                field="consent",
            )
        testimonial.published_at = timezone.now()
        testimonial.save(update_fields=["published_at", "updated_at"])
        audit.record(
            "testimonial.publish",
            community=testimonial.community,
            actor=actor,
            target=testimonial,
        )
    if recompute:
        _recompute_tiers(testimonial.community, (testimonial.member_id, testimonial.said_on))
    return testimonial


def do_unpublish_testimonial(
    testimonial: Testimonial, *, actor: Any = None, recompute: bool = True
) -> Testimonial:
    with transaction.atomic():
        if not testimonial.is_published:
            raise TestimonialError(_("This testimonial is not published."))
        testimonial.published_at = None
        testimonial.save(update_fields=["published_at", "updated_at"])
        audit.record(
            "testimonial.unpublish",
            community=testimonial.community,
            actor=actor,
            target=testimonial,
        )
    if recompute:
        _recompute_tiers(testimonial.community, (testimonial.member_id, testimonial.said_on))
    return testimonial


def do_delete_testimonial(
    testimonial: Testimonial, *, actor: Any = None, recompute: bool = True
) -> None:
    community, published = testimonial.community, testimonial.is_published
    said = (testimonial.member_id, testimonial.said_on)
    with transaction.atomic():
        audit.record(
            "testimonial.delete",
            community=community,
            actor=actor,
            target=testimonial,
            details={
                "member": jsonable(testimonial.member),
                "text": testimonial.text[:200],
                "published": published,
            },
        )
        testimonial.delete()
    if published and recompute:
        _recompute_tiers(community, said)
