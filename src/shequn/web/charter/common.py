"""What the charter views share: the role check, lookups that answer 404 for another
community's objects, member lookup for the forms, and the pages' tabs."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import can
from shequn.charter.models import CharterRule, CharterVersion, Violation
from shequn.charter.selectors import find_member as find_charter_member
from shequn.charter.validation import CharterError
from shequn.communities.models import Community
from shequn.members.models import Member
from shequn.members.selectors import AmbiguousMember, MemberNotFound

TABS = (
    ("web:charter", gettext_lazy("Charter text")),
    ("web:charter_rules", gettext_lazy("Rules")),
    ("web:charter_violations", gettext_lazy("Violations")),
    ("web:charter_mutes", gettext_lazy("Mute recommendations")),
    ("web:charter_rewards", gettext_lazy("Rewards")),
)


def may_write(request: HttpRequest) -> bool:
    return can(request.access_role, AccessRole.OPERATOR)


def page(request: HttpRequest, tab: str, **context: Any) -> dict[str, Any]:
    """The context every charter page has: the community, the nav section, the tabs."""
    return {
        "community": request.community,
        "section": "charter",
        "tabs": [(name, label, name == tab) for name, label in TABS],
        "can_write": may_write(request),
        **context,
    }


def rule_or_404(community: Community, rule_id: int) -> CharterRule:
    found = CharterRule.objects.filter(community=community, pk=rule_id).first()
    if found is None:
        raise Http404
    found.community = community
    return found


def version_or_404(community: Community, version_id: int) -> CharterVersion:
    found = CharterVersion.objects.filter(community=community, pk=version_id).first()
    if found is None:
        raise Http404
    return found


def violation_or_404(community: Community, violation_id: int) -> Violation:
    found = (
        Violation.objects.filter(community=community, pk=violation_id)
        .select_related("rule", "member", "event", "penalty_entry", "reversal_entry")
        .first()
    )
    if found is None:
        raise Http404
    return found


def member_or_404(community: Community, member_id: int) -> Member:
    found = Member.objects.filter(community=community, pk=member_id).first()
    if found is None:
        raise Http404
    return found


def find_member(community: Community, text: str) -> Member:
    """The member an operator typed (id, name, handle or platform user id); CharterError
    naming the member field when nobody or several people match."""
    try:
        return find_charter_member(community, text)
    except MemberNotFound:
        raise CharterError(
            _("no member '%(member)s' in this community") % {"member": text}, "member"
        ) from None
    except AmbiguousMember as exc:
        choices = ", ".join(f"#{m.pk} {m.display_name}" for m in exc.candidates)
        raise CharterError(
            _("'%(key)s' matches several members (%(choices)s); use the member's id")
            % {"key": text, "choices": choices},
            "member",
        ) from None
