"""The charter (社群公约): its text in versions, members' acknowledgements, machine rules, the
appealable log of violations and the rewards rules give.

The seed: the more members interact, the more complex the rules that govern their relations;
whether a group grows wiser or dumber depends on the mechanism of its interaction. A charter is
therefore text people agree to *and* rules that run on what they do. Writes go through
``shequn.charter.services`` (validated, one transaction, audited); these models only hold the
data and its database-level guarantees (one violation per rule and key, one reward per rule and
key, one acknowledgement per member and version).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CharterVersion(models.Model):
    """One published text of the charter; the highest number is the current one. Versions are
    never edited: a change is a new version, which members acknowledge again."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="charter_versions",
    )
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("text"))
    note = models.CharField(
        _("what changed"), max_length=500, blank=True, help_text=_("Shown in the version list.")
    )
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("charter version")
        verbose_name_plural = _("charter versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "number"], name="charter_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community_id} v{self.number}"


class Via(models.TextChoices):
    """How a member said they accept the charter."""

    CHAT = "chat", _("in the group chat")
    FORM = "form", _("a sign-up form")
    IN_PERSON = "in_person", _("in person")
    OPERATOR = "operator", _("recorded by an operator")
    IMPORT = "import", _("imported from a file")


class Acknowledgement(models.Model):
    """A member accepted one version of the charter."""

    version = models.ForeignKey(
        CharterVersion,
        verbose_name=_("charter version"),
        on_delete=models.CASCADE,
        related_name="acknowledgements",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="charter_acknowledgements",
    )
    via = models.CharField(_("via"), max_length=16, choices=Via.choices, default=Via.OPERATOR)
    acknowledged_at = models.DateTimeField(_("acknowledged"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("charter acknowledgement")
        verbose_name_plural = _("charter acknowledgements")
        ordering = ["-acknowledged_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "member"], name="charter_ack_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} v{self.version_id}"


class Consequence(models.TextChoices):
    """What a rule does when it fires."""

    WARNING = "warning", _("warning")
    PENALTY = "penalty", _("points penalty")
    MUTE = "mute", _("mute recommendation")
    REWARD = "reward", _("points reward")


class CharterRule(models.Model):
    """A machine rule: a detector kind with its parameters, and what happens when it fires.

    ``watermark`` is the last event id this rule has judged; a change to what the rule judges
    (enabling it, its parameters, its start day or exemptions) sets it back to 0, so the next
    check judges every event from ``applies_from`` again (nothing is flagged twice: each finding
    has a key unique per rule)."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="charter_rules",
    )
    key = models.SlugField(
        _("key"), max_length=64, help_text=_("Stable identifier, used in the ledger.")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Which part of the charter it enforces.")
    )
    kind = models.CharField(_("kind"), max_length=32)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    consequence = models.CharField(_("consequence"), max_length=16, choices=Consequence.choices)
    points = models.PositiveIntegerField(
        _("points"),
        default=0,
        help_text=_("Taken for a penalty (or a mute recommendation), given for a reward."),
    )
    enabled = models.BooleanField(_("enabled"), default=False)
    exempt_staff = models.BooleanField(
        _("founders and operators exempt"),
        default=True,
        help_text=_("They are active by office; their messages are not judged."),
    )
    exempt_bots = models.BooleanField(_("bots exempt"), default=True)
    applies_from = models.DateField(
        _("applies from"),
        null=True,
        blank=True,
        help_text=_("Events before this local day are not judged; empty: all events."),
    )
    watermark = models.BigIntegerField(_("last event id judged"), default=0)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("charter rule")
        verbose_name_plural = _("charter rules")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="charter_rule_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.name}"

    @property
    def ledger_key(self) -> str:
        """The rule key written on its ledger entries (``rule_key``)."""
        return f"charter:{self.key}"[:64]


class Violation(models.Model):
    """One breach of the charter, found by a rule or reported by an operator; appealable.

    A penalty is taken when the violation is recorded; overturning it reverses the penalty
    with a reversing ledger entry (the ledger only grows)."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("violation status", "open")
        UPHELD = "upheld", _("upheld")
        OVERTURNED = "overturned", _("overturned")

    class MuteAction(models.TextChoices):
        NONE = "", _("waiting")
        MUTED = "muted", pgettext_lazy("mute recommendation", "muted")
        DISMISSED = "dismissed", _("dismissed")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    rule = models.ForeignKey(
        CharterRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="violations",
    )
    # What makes a finding the same finding when a check runs again: "event:<id>" for one
    # message, "<member>:<window>" for a burst or a night, "report:<…>" for a report.
    key = models.CharField(_("key"), max_length=255)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="charter_violations",
    )
    event = models.ForeignKey(
        "interactions.InteractionEvent",
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("occurred"))
    window_end = models.DateTimeField(
        _("until"), null=True, blank=True, help_text=_("The last event of a burst or a night.")
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    consequence = models.CharField(_("consequence"), max_length=16, choices=Consequence.choices)
    points = models.PositiveIntegerField(_("points"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    note = models.TextField(_("report note"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    detected_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    penalty_entry = models.ForeignKey(
        "rewards.PointEntry",
        verbose_name=_("penalty"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reversal_entry = models.ForeignKey(
        "rewards.PointEntry",
        verbose_name=_("reversal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mute_action = models.CharField(
        _("mute recommendation"),
        max_length=16,
        choices=MuteAction.choices,
        blank=True,
        default=MuteAction.NONE,
    )
    mute_acted_at = models.DateTimeField(_("acted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("charter violation")
        verbose_name_plural = _("charter violations")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="charter_violation_once")
        ]
        indexes = [
            models.Index(fields=["community", "occurred_at"], name="charter_violation_time"),
            models.Index(
                fields=["community", "status", "occurred_at"], name="charter_violation_st"
            ),
            models.Index(fields=["community", "decided_at"], name="charter_violation_decided"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rule_id} {self.member_id} ({self.status})"

    @property
    def is_decided(self) -> bool:
        return self.status != self.Status.OPEN


class Reward(models.Model):
    """Points a reward rule gave for wanted behaviour (welcoming a newcomer, answering a
    question fast); ``key`` keeps it to one per newcomer or question."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    rule = models.ForeignKey(
        CharterRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="rewards",
    )
    key = models.CharField(_("key"), max_length=255)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="charter_rewards",
    )
    event = models.ForeignKey(
        "interactions.InteractionEvent",
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("occurred"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    points = models.PositiveIntegerField(_("points"), default=0)
    entry = models.ForeignKey(
        "rewards.PointEntry",
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("charter reward")
        verbose_name_plural = _("charter rewards")
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="charter_reward_once")]
        indexes = [models.Index(fields=["community", "occurred_at"], name="charter_reward_time")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.member_id} +{self.points}"
