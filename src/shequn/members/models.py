from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The seed's three roles: 主导者, 运营者, 成员. Assigned, never inferred from behaviour."""

    FOUNDER = "founder", _("founder")
    OPERATOR = "operator", _("operator")
    MEMBER = "member", _("member")


# Higher rank wins when two records of one person disagree (e.g. on merge).
ROLE_RANK = {Role.MEMBER: 0, Role.OPERATOR: 1, Role.FOUNDER: 2}


class Member(models.Model):
    """A person in a community, whatever channels they speak in."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    display_name = models.CharField(_("display name"), max_length=255)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_bot = models.BooleanField(_("bot"), default=False)
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    muted_at = models.DateTimeField(
        _("muted"),
        null=True,
        blank=True,
        help_text=_(
            "When the member muted the community; the seed counts them as no longer a member."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["display_name", "id"]
        indexes = [models.Index(fields=["community", "display_name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_muted(self) -> bool:
        return self.muted_at is not None


class Identity(models.Model):
    """A member's account on one channel; the same person may have many."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="identities"
    )
    channel = models.ForeignKey(
        "communities.Channel",
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="identities",
    )
    platform_user_id = models.CharField(_("platform user id"), max_length=255)
    handle = models.CharField(_("handle"), max_length=255, blank=True)
    profile = models.JSONField(
        _("imported profile"),
        default=dict,
        blank=True,
        help_text=_("What the source said about this account (e.g. Stack Exchange reputation)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        ordering = ["channel", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "platform_user_id"], name="identity_unique_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle or self.platform_user_id} @ {self.channel}"
