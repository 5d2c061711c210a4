"""Write operations on accounts, community access, invitations and API tokens (all audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.accounts.models import AccessRole, ApiToken, CommunityAccess, Invitation
from shequn.audit import services as audit
from shequn.communities.models import Community

INVITATION_LIFETIME = dt.timedelta(days=7)
TOKEN_PREFIX = "sq_"
# How often a token's "last used" time is written: not on every request.
LAST_USED_PRECISION = dt.timedelta(minutes=5)


class AccessError(ValueError):
    """A change of access that cannot be made; the message says why."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def ensure_first_operator(*, username: str, email: str, password: str) -> bool:
    """Create the first (administrator) operator unless one exists; True when created."""
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return False
    try:
        validate_password(password, user_model(username=username, email=email))
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from None
    user = user_model.objects.create_superuser(username=username, email=email, password=password)
    audit.record("account.create_first_operator", target=user, details={"username": username})
    return True


@transaction.atomic
def set_demo_operator(*, username: str, password: str) -> Any:
    """The demo's login: created or reset, an administrator so it sees every community."""
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return user


def _check_role(role: str) -> AccessRole:
    try:
        return AccessRole(role)
    except ValueError:
        raise AccessError(_("Unknown role %(role)s.") % {"role": repr(role)}) from None


def _founders_left(community: Community, excluding: CommunityAccess) -> bool:
    return (
        CommunityAccess.objects.filter(community=community, role=AccessRole.FOUNDER)
        .exclude(pk=excluding.pk)
        .exists()
    )


@transaction.atomic
def do_grant_access(
    community: Community, user: Any, role: str, *, actor: Any = None
) -> CommunityAccess:
    """Give ``user`` ``role`` in ``community`` (or change the role it has)."""
    role = _check_role(role)
    access = CommunityAccess.objects.filter(community=community, user=user).first()
    if access is not None:
        return do_change_access_role(access, role, actor=actor)
    access = CommunityAccess.objects.create(community=community, user=user, role=role)
    audit.record(
        "access.grant",
        community=community,
        actor=actor,
        target=access,
        details={"user": user.get_username(), "role": role.value},
    )
    return access


@transaction.atomic
def do_change_access_role(
    access: CommunityAccess, role: str, *, actor: Any = None
) -> CommunityAccess:
    role = _check_role(role)
    if access.role == role:
        return access
    if access.role == AccessRole.FOUNDER and not _founders_left(access.community, access):
        raise AccessError(_("A community keeps at least one founder."))
    before = access.role
    access.role = role
    access.save(update_fields=["role"])
    audit.record(
        "access.change",
        community=access.community,
        actor=actor,
        target=access,
        details={"user": access.user.get_username(), "from": before, "to": role.value},
    )
    return access


@transaction.atomic
def do_revoke_access(access: CommunityAccess, *, actor: Any = None) -> None:
    if access.role == AccessRole.FOUNDER and not _founders_left(access.community, access):
        raise AccessError(_("A community keeps at least one founder."))
    audit.record(
        "access.revoke",
        community=access.community,
        actor=actor,
        target=access,
        details={"user": access.user.get_username(), "role": access.role},
    )
    access.delete()


@transaction.atomic
def do_invite(
    community: Community, role: str, *, email: str = "", actor: Any = None
) -> tuple[Invitation, str]:
    """A new invitation and its one-time token (only its hash is kept: show it now)."""
    role = _check_role(role)
    raw = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        community=community,
        role=role,
        email=email,
        token_hash=_digest(raw),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit.record(
        "access.invite",
        community=community,
        actor=actor,
        target=invitation,
        details={"role": role.value, "email": email},
    )
    return invitation, raw


def find_invitation(raw: str) -> Invitation | None:
    """The open invitation behind a token, or None (unknown, used, revoked or expired)."""
    invitation = (
        Invitation.objects.select_related("community").filter(token_hash=_digest(raw)).first()
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= timezone.now()
    ):
        return None
    return invitation


@transaction.atomic
def do_accept_invitation(invitation: Invitation, user: Any) -> CommunityAccess:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise AccessError(_("This invitation has already been used or withdrawn."))
    if invitation.expires_at <= timezone.now():
        raise AccessError(_("This invitation has expired."))
    existing = CommunityAccess.objects.filter(community=invitation.community, user=user).first()
    if existing is not None and existing.role == AccessRole.FOUNDER:
        access = existing  # an invitation never lowers a founder
    else:
        access = do_grant_access(invitation.community, user, invitation.role, actor=user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        "access.accept_invitation",
        community=invitation.community,
        actor=user,
        target=invitation,
        details={"role": invitation.role},
    )
    return access


@transaction.atomic
def do_sign_up_with_invitation(
    invitation: Invitation, *, username: str, password: str, email: str = ""
) -> Any:
    """A new account for someone invited; the password follows the configured validators."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise AccessError(_("That username is taken."))
    candidate = user_model(username=username, email=email or invitation.email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise AccessError(" ".join(exc.messages)) from None
    candidate.set_password(password)
    candidate.save()
    audit.record(
        "account.sign_up",
        community=invitation.community,
        actor=candidate,
        target=candidate,
        details={"username": username},
    )
    do_accept_invitation(invitation, candidate)
    return candidate


@transaction.atomic
def do_revoke_invitation(invitation: Invitation, *, actor: Any = None) -> None:
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            "access.revoke_invitation",
            community=invitation.community,
            actor=actor,
            target=invitation,
            details={"role": invitation.role, "email": invitation.email},
        )


@transaction.atomic
def do_create_token(user: Any, name: str) -> tuple[ApiToken, str]:
    """A new API token; the returned key is shown once and never stored."""
    name = name.strip()
    if not name:
        raise AccessError(_("Give the token a name, so you know later what uses it."))
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise AccessError(_("A token's name cannot contain control characters."))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from JSON such as "\ud800"
        raise AccessError(_("A token's name must be valid Unicode text.")) from None
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[:10], key_hash=_digest(raw)
    )
    audit.record("token.create", actor=user, target=token, details={"name": token.name})
    return token, raw


@transaction.atomic
def do_revoke_token(token: ApiToken, *, actor: Any = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoke", actor=actor, target=token, details={"name": token.name})


def authenticate_token(raw: str) -> Any | None:
    """The active account a bearer token belongs to, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def do_create_owned_community(user: Any, *, slug: str, name: str = "", **profile: Any) -> Community:
    """A community created from the web app: its creator becomes its founder."""
    from shequn.communities.services import do_create_community

    community = do_create_community(slug=slug, name=name, actor=user, **profile)
    if not user.is_superuser:
        do_grant_access(community, user, AccessRole.FOUNDER, actor=user)
    return community
