"""Culture (社群文化) made measurable: goals (社群目标) computed from data, the onboarding message
new members receive, and testimonials (利益证明) — members' published gains.

The mission and the values live on ``Community``; rituals are ``shequn.activities`` rituals.
Writes go through ``shequn.culture.services`` (validated, one transaction, audited).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Goal(models.Model):
    """Where the community wants to be by a deadline, measured by a metric from its own data.

    Progress is never typed in: ``metric`` names a registered metric
    (``shequn.culture.metrics``) that computes the value for any day from what was imported.
    """

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="goals",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    metric = models.CharField(
        _("metric"), max_length=64, help_text=_("The code of a metric, e.g. active_participants.")
    )
    params = models.JSONField(_("metric parameters"), default=dict, blank=True)
    target = models.FloatField(_("target"))
    start_on = models.DateField(
        _("starts"), help_text=_("The first day of the goal's period (a local day).")
    )
    deadline = models.DateField(_("deadline"), help_text=_("The last day of the goal's period."))
    owner = models.ForeignKey(
        "members.Member",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_goals",
    )
    # Set while the member-facing progress page is on; cleared (revoked) when turned off.
    public_token = models.CharField(
        _("public token"), max_length=32, unique=True, null=True, blank=True
    )
    published_at = models.DateTimeField(_("public since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["community", "deadline"], name="goal_community_deadline")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deadline__gte=models.F("start_on")), name="goal_deadline_after"
            ),
            models.CheckConstraint(condition=models.Q(target__gt=0), name="goal_target_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return bool(self.public_token)


class Testimonial(models.Model):
    """What a member says they gained from the community (利益证明), recorded by an operator.

    The seed: a member's benefit is proven when others have gained it and published it where
    everyone can see. Published testimonials are shown on the culture page and in the
    onboarding message, and publishing one is an advocate's act (``shequn.culture.advocacy``).
    """

    class Benefit(models.TextChoices):
        KNOWLEDGE = "knowledge", _("knowledge or skills")
        CONNECTION = "connection", _("connections")
        BUSINESS = "business", _("business")
        CAREER = "career", _("career")
        WELLBEING = "wellbeing", _("wellbeing")
        OTHER = "other", _("other")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="testimonials",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="testimonials",
    )
    text = models.TextField(_("what they gained"))
    benefit = models.CharField(
        _("kind of benefit"), max_length=16, choices=Benefit.choices, default=Benefit.OTHER
    )
    said_on = models.DateField(_("said on"), help_text=_("The local day the member said it."))
    source = models.CharField(
        _("source"),
        max_length=500,
        blank=True,
        help_text=_("Where it was said: a link, or the channel and day."),
    )
    consent = models.BooleanField(
        _("member agreed to publish"),
        default=False,
        help_text=_("A testimonial is published only with the member's consent."),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("testimonial")
        verbose_name_plural = _("testimonials")
        ordering = ["-said_on", "-id"]
        indexes = [
            models.Index(fields=["community", "-said_on"], name="testimonial_community_day"),
            models.Index(fields=["member", "said_on"], name="testimonial_member_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True) | models.Q(consent=True),
                name="testimonial_published_with_consent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.said_on})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class OnboardingTemplate(models.Model):
    """The message a new member receives, as operators wrote it (placeholders such as
    ``{mission}`` are filled in per member and per platform when it is rendered)."""

    community = models.OneToOneField(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="onboarding_template",
    )
    text = models.TextField(_("message"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("onboarding template")
        verbose_name_plural = _("onboarding templates")

    def __str__(self) -> str:
        return f"onboarding template of {self.community_id}"


class Onboarding(models.Model):
    """A member who has received the onboarding message (marked by an operator, or later by
    the integration that sends it)."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="onboarding",
    )
    platform = models.CharField(_("platform"), max_length=32, blank=True)
    onboarded_at = models.DateTimeField(_("onboarded"))
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("onboarding")
        verbose_name_plural = _("onboardings")
        indexes = [models.Index(fields=["community", "onboarded_at"], name="onboarding_community")]

    def __str__(self) -> str:
        return f"{self.member_id} onboarded {self.onboarded_at:%Y-%m-%d}"
