"""Read queries on access: which communities an account sees, and with which role."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shequn.accounts.models import ACCESS_RANK, AccessRole, ApiToken, CommunityAccess, Invitation
from shequn.communities.models import Community


class NoAccess(LookupError):
    """The account has no access to this community: shown as 'not found', never 'forbidden',
    so nobody learns which communities exist."""


class RoleTooLow(PermissionError):
    """The account sees the community but its role does not allow this."""


def visible_communities(user: Any) -> QuerySet[Community]:
    if not user.is_authenticated or not user.is_active:
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.all()
    return Community.objects.filter(access__user=user)


def role_in(user: Any, community: Community) -> AccessRole | None:
    """The account's role in a community; administrators act as founders everywhere."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return AccessRole.FOUNDER
    role = (
        CommunityAccess.objects.filter(user=user, community=community)
        .values_list("role", flat=True)
        .first()
    )
    return AccessRole(role) if role else None


def community_for(
    user: Any, slug: str, minimum: AccessRole = AccessRole.VIEWER
) -> tuple[Community, AccessRole]:
    """The community behind ``slug`` with the account's role, if it may act at ``minimum``."""
    community = Community.objects.filter(slug=slug).first()
    role = role_in(user, community) if community is not None else None
    if community is None or role is None:
        raise NoAccess(slug)
    if ACCESS_RANK[role] < ACCESS_RANK[minimum]:
        raise RoleTooLow(slug)
    return community, role


def can(role: AccessRole | None, minimum: AccessRole) -> bool:
    return role is not None and ACCESS_RANK[role] >= ACCESS_RANK[minimum]


def community_access_list(community: Community) -> QuerySet[CommunityAccess]:
    return CommunityAccess.objects.filter(community=community).select_related("user")


def open_invitations(community: Community) -> QuerySet[Invitation]:
    from django.utils import timezone

    return Invitation.objects.filter(
        community=community,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
