from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from shequn.members.merging import MergeEncoder


class Role(models.TextChoices):
    """The seed's three roles: 主导者, 运营者, 成员. Assigned, never inferred from behaviour."""

    FOUNDER = "founder", _("founder")
    OPERATOR = "operator", _("operator")
    MEMBER = "member", _("member")


# Member fields that only shequn.interactions.rollups writes (see Member.save).
ROLLUP_TOTALS = ("message_total", "reactions_received_total", "last_active_on")

# Columns the members list filters on, carried at the end of its sort indexes.
LIST_FILTER_COLUMNS = ("role", "is_bot", "left_at", "muted_at")

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
    # Lifetime totals copied from the daily rollups, so the members list can sort and page
    # 100k members by them through an index. Written only by shequn.interactions.rollups
    # (set-based, in the same transaction as the rollups); never edit them by hand.
    message_total = models.PositiveIntegerField(
        _("messages"), default=0, db_default=0, editable=False
    )
    reactions_received_total = models.PositiveIntegerField(
        _("reactions received"), default=0, db_default=0, editable=False
    )
    last_active_on = models.DateField(
        _("last active"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The latest local day with a message, mention or reaction by the member."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["display_name", "id"]
        # The list's sorts, each with its tie-breakers, so a page is an index range scan; the
        # trailing filter columns let the database test role/bot/left/muted in the index
        # before reading a row, so a rare filter (operators, bots) does not read every member.
        # "Last active" and "joined" (newest first, never-active/unknown last) are indexed in
        # migration 0003 per database: PostgreSQL needs DESC NULLS LAST, which SQLite lacks.
        indexes = [
            models.Index(
                fields=["community", "display_name", "id", *LIST_FILTER_COLUMNS],
                name="member_by_name",
            ),
            models.Index(
                fields=["community", "-message_total", "display_name", "id", *LIST_FILTER_COLUMNS],
                name="member_by_messages",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "key"],
                condition=~models.Q(key=""),
                name="member_key_unique_per_community",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Never write the rollup totals from memory: an instance loaded before an import
        would put back stale totals. A full save of an existing row leaves them out."""
        if (
            not self._state.adding
            and self.pk
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in ROLLUP_TOTALS
            ]
        super().save(*args, **kwargs)

    @property
    def is_muted(self) -> bool:
        return self.muted_at is not None

    @property
    def is_gone(self) -> bool:
        """Left or muted: the seed counts them as no longer members."""
        return self.left_at is not None or self.muted_at is not None


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
        # The members list's channel filter and handle search read only this index.
        indexes = [
            models.Index(fields=["channel", "member", "handle"], name="identity_channel_member")
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
    # What other apps moved or set aside (``members.merging.MergeMoves``), to give back.
    moved = models.JSONField(_("rows moved"), default=dict, blank=True, encoder=MergeEncoder)
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
