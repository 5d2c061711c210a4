"""Onboarding: the operators' template of the welcome message, and who has received it.

Sending is a later integration; until then operators copy the rendered message
(``shequn.culture.onboarding.render_onboarding``) and mark the members they sent it to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community, Platform
from shequn.culture.errors import OnboardingError
from shequn.culture.models import Onboarding, OnboardingTemplate
from shequn.culture.onboarding import parse_template
from shequn.culture.selectors import pending_onboarding, saved_template
from shequn.culture.services.common import user_of
from shequn.members.models import Member

# Member ids listed in one audit entry (the count is always there).
AUDIT_IDS = 200


@transaction.atomic
def do_save_onboarding_template(
    community: Community, text: str, *, actor: Any = None
) -> OnboardingTemplate:
    """Save the welcome message's template; ``OnboardingError`` naming ``text`` for an unknown
    placeholder or a lone brace (the placeholders are listed in the message)."""
    parse_template(text)
    current = saved_template(community)
    if current is not None and current.text == text:
        return current
    before = current.text if current is not None else None
    template, _created = OnboardingTemplate.objects.update_or_create(
        community=community, defaults={"text": text, "updated_by": user_of(actor)}
    )
    audit.record(
        "onboarding.template",
        community=community,
        actor=actor,
        target=template,
        details={"before": before, "after": text},
    )
    return template


@transaction.atomic
def do_reset_onboarding_template(community: Community, *, actor: Any = None) -> None:
    """Go back to the default template (in the reader's language)."""
    current = saved_template(community)
    if current is None:
        return
    audit.record(
        "onboarding.template_reset",
        community=community,
        actor=actor,
        target=current,
        details={"before": current.text},
    )
    current.delete()


def _check_platform(platform: str) -> str:
    platform = (platform or "").strip()
    if platform and platform not in Platform.values:
        raise OnboardingError(
            _("must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(Platform.values), "value": repr(platform)[:40]},
            field="platform",
        )
    return platform


def _mark(
    community: Community, member_ids: list[int], platform: str, actor: Any, how: str
) -> list[int]:
    already = set(
        Onboarding.objects.filter(member_id__in=member_ids).values_list("member_id", flat=True)
    )
    new = [member_id for member_id in member_ids if member_id not in already]
    if not new:
        return []
    now = timezone.now()
    Onboarding.objects.bulk_create(
        [
            Onboarding(
                community=community,
                member_id=member_id,
                platform=platform,
                onboarded_at=now,
                marked_by=user_of(actor),
            )
            for member_id in new
        ],
        ignore_conflicts=True,
        batch_size=1_000,
    )
    audit.record(
        "onboarding.mark",
        community=community,
        actor=actor,
        details={
            "how": how,
            "platform": platform,
            "count": len(new),
            "members": new[:AUDIT_IDS],
        },
    )
    return new


@transaction.atomic
def do_mark_onboarded(
    community: Community,
    members: Iterable[Member | int],
    *,
    platform: str = "",
    actor: Any = None,
) -> list[int]:
    """Mark members as onboarded (on ``platform``, if given); returns the ids newly marked
    (those marked before keep their first date). ``OnboardingError`` naming ``members`` when
    one is not a member of this community; nothing is written then."""
    platform = _check_platform(platform)
    wanted: list[int] = []
    for member in members:
        member_id = member.pk if isinstance(member, Member) else member
        if not isinstance(member_id, int) or isinstance(member_id, bool):
            raise OnboardingError(_("must be member ids"), field="members")
        if member_id not in wanted:
            wanted.append(member_id)
    if not wanted:
        raise OnboardingError(_("name at least one member"), field="members")
    found = set(
        Member.objects.filter(community=community, pk__in=wanted).values_list("pk", flat=True)
    )
    missing = [member_id for member_id in wanted if member_id not in found]
    if missing:
        raise OnboardingError(
            _("not members of this community: %(ids)s")
            % {"ids": ", ".join(f"#{member_id}" for member_id in missing[:10])},
            field="members",
        )
    return _mark(community, wanted, platform, actor, "members")


@transaction.atomic
def do_mark_all_onboarded(
    community: Community,
    *,
    joined_before: dt.date | None = None,
    platform: str = "",
    actor: Any = None,
) -> list[int]:
    """Mark every member still waiting as onboarded — or only those who joined before the
    local day ``joined_before`` (members whose join date is unknown count as before): how a
    community that existed before shequn says its earlier members need no welcome."""
    platform = _check_platform(platform)
    pending = pending_onboarding(community)
    if joined_before is not None:
        cutoff = dt.datetime.combine(joined_before, dt.time(), community.zoneinfo)
        pending = pending.filter(Q(joined_at__lt=cutoff) | Q(joined_at__isnull=True))
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    return _mark(community, ids, platform, actor, "all")


@transaction.atomic
def do_unmark_onboarded(member: Member, *, actor: Any = None) -> bool:
    """Put a member back among those waiting (marked by mistake). False if not marked."""
    found = Onboarding.objects.filter(member=member).first()
    if found is None:
        return False
    audit.record(
        "onboarding.unmark",
        community=member.community,
        actor=actor,
        target=member,
        details={"onboarded_at": found.onboarded_at.isoformat(), "platform": found.platform},
    )
    found.delete()
    return True
