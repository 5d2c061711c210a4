"""Per-community access for operator accounts, invitations and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessRole(models.TextChoices):
    """What an account may do in one community: viewers read, operators also write, founders
    also manage who has access. (Not to be confused with a member's role in the community.)"""

    VIEWER = "viewer", _("viewer")
    OPERATOR = "operator", _("operator")
    FOUNDER = "founder", _("founder")


ACCESS_RANK = {AccessRole.VIEWER: 1, AccessRole.OPERATOR: 2, AccessRole.FOUNDER: 3}


class CommunityAccess(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="community_access",
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="access",
    )
    role = models.CharField(_("role"), max_length=16, choices=AccessRole.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("community access")
        verbose_name_plural = _("community access")
        ordering = ["community", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="access_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community}: {self.role}"


class Invitation(models.Model):
    """A one-time link that gives whoever opens it (and signs up or logs in) a role."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    role = models.CharField(_("role"), max_length=16, choices=AccessRole.choices)
    email = models.EmailField(_("email"), blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.community}: {self.role} ({self.email or '-'})"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its hash is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
