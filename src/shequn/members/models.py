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
    key = models.CharField(
        _("member key"),
        max_length=255,
        blank=True,
        default="",
        help_text=_(
            "An operator's own stable id for the person (e.g. a CRM id or e-mail); identity "
            "mapping files attach accounts to members by it."
        ),
    )
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
        constraints = [
            models.UniqueConstraint(
                fields=["community", "key"],
                condition=~models.Q(key=""),
                name="member_key_unique_per_community",
            )
        ]

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


class IdentityMapping(models.Model):
    """An operator's statement that an account on a platform belongs to the member with a key.

    Loaded from a CSV (platform, platform user id, member key) and applied to existing accounts
    and on every later import.
    """

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="identity_mappings",
    )
    platform = models.CharField(_("platform"), max_length=32)
    platform_user_id = models.CharField(_("platform user id"), max_length=255)
    member_key = models.CharField(_("member key"), max_length=255)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity mapping")
        verbose_name_plural = _("identity mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "platform", "platform_user_id"],
                name="identity_mapping_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_user_id} -> {self.member_key}"


class MemberMerge(models.Model):
    """One merge of two members, kept so it can be undone exactly."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="member_merges",
    )
    target = models.ForeignKey(
        Member, verbose_name=_("merged into"), on_delete=models.CASCADE, related_name="merges"
    )
    source_snapshot = models.JSONField(_("merged member"), default=dict)
    target_snapshot = models.JSONField(_("target before the merge"), default=dict)
    identity_ids = models.JSONField(_("identities moved"), default=list)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member merge")
        verbose_name_plural = _("member merges")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source_snapshot.get('display_name')} -> {self.target}"


class MergeSuggestion(models.Model):
    """Two members who may be one person, with the evidence; an operator decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="merge_suggestions",
    )
    member_a = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    member_b = models.ForeignKey(
        Member, verbose_name=_("possibly the same as"), on_delete=models.CASCADE, related_name="+"
    )
    confidence = models.FloatField(_("confidence"))
    evidence = models.JSONField(_("evidence"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("suggested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("merge suggestion")
        verbose_name_plural = _("merge suggestions")
        ordering = ["-confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member_a", "member_b"], name="merge_suggestion_pair")
        ]

    def __str__(self) -> str:
        return f"{self.member_a} ~ {self.member_b} ({self.confidence:.0%})"
