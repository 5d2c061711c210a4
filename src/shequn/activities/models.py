"""Activities (社群互动) and rituals (仪式): registration, waitlist, fee, check-in, feedback.

The seed's activities are online or offline, limited in places, free or paid, with guests from
outside or inside, and of a learning, social or game kind; rituals are the recurring ones that
give a community its culture. Writes go through ``shequn.activities.services`` (validated,
one transaction, audited); these models only hold the data and its database-level guarantees.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequn.communities.models import validate_time_zone


class Mode(models.TextChoices):
    ONLINE = "online", _("online")
    OFFLINE = "offline", _("offline")


class ContentKind(models.TextChoices):
    """What people do at an activity, as the seed sorts them."""

    LEARNING = "learning", _("learning")
    SOCIAL = "social", _("social")
    GAME = "game", _("game")


class Ritual(models.Model):
    """A recurring series (a weekly sharing night, a monthly meetup): its occurrences are
    generated as activities from the recurrence rule and the template fields below."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("weekly")
        MONTHLY = "monthly", _("monthly")
        CUSTOM = "custom", _("custom rule")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="rituals",
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    frequency = models.CharField(
        _("frequency"), max_length=16, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    rule = models.CharField(
        _("recurrence rule"),
        max_length=500,
        help_text=_("An RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TH."),
    )
    first_starts_at = models.DateTimeField(_("first occurrence starts"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, validators=[validate_time_zone], default="UTC"
    )
    # Template of every occurrence.
    title = models.CharField(_("title of occurrences"), max_length=200, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=60)
    mode = models.CharField(_("online or offline"), max_length=16, choices=Mode.choices)
    content_type = models.CharField(_("content type"), max_length=16, choices=ContentKind.choices)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    fee_amount = models.DecimalField(
        _("fee"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    place = models.CharField(_("place"), max_length=500, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    organiser = models.ForeignKey(
        "members.Member",
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("ritual")
        verbose_name_plural = _("rituals")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """One activity: when and where, for how many, at what fee, run by whom."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        CANCELLED = "cancelled", _("cancelled")
        DONE = "done", _("done")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="activities",
    )
    ritual = models.ForeignKey(
        Ritual,
        verbose_name=_("ritual"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("online or offline"), max_length=16, choices=Mode.choices)
    content_type = models.CharField(_("content type"), max_length=16, choices=ContentKind.choices)
    organiser = models.ForeignKey(
        "members.Member",
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organised_activities",
    )
    organised_by_staff = models.BooleanField(
        _("organised by staff"),
        default=True,
        help_text=_(
            "Whether a founder or operator ran it (rather than a member), as it was when the "
            "activity was created: a community whose activities are all run by staff depends "
            "on them."
        ),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, validators=[validate_time_zone], default="UTC"
    )
    place = models.CharField(_("place"), max_length=500, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Empty: unlimited (online only).")
    )
    fee_amount = models.DecimalField(
        _("fee"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(
        _("currency"), max_length=3, blank=True, help_text=_("An ISO 4217 code, e.g. CNY.")
    )
    registration_opens_at = models.DateTimeField(
        _("registration opens"), null=True, blank=True, help_text=_("Empty: when published.")
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes"), null=True, blank=True, help_text=_("Empty: when it starts.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    public_token = models.CharField(_("public token"), max_length=32, unique=True)
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
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["community", "starts_at"], name="activity_community_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after"
            ),
            models.CheckConstraint(
                condition=models.Q(mode="online") | models.Q(capacity__isnull=False),
                name="activity_offline_capacity",
            ),
            models.CheckConstraint(
                condition=models.Q(fee_amount__gte=0), name="activity_fee_not_negative"
            ),
            # A ritual never gets two occurrences at the same start (generation is idempotent).
            models.UniqueConstraint(
                fields=["ritual", "starts_at"],
                condition=models.Q(ritual__isnull=False),
                name="activity_occurrence_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.fee_amount == 0

    @property
    def event_thread(self) -> str:
        """The ``thread_source_id`` its attendance events share (co-attendance)."""
        return f"activity-{self.pk}"


class Guest(models.Model):
    """Someone presenting or hosting with the organiser: a member, or a person from outside."""

    class Role(models.TextChoices):
        SPEAKER = "speaker", _("speaker")
        HOST = "host", _("co-host")
        GUEST = "guest", _("special guest")

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="guests"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="guest_appearances",
    )
    name = models.CharField(
        _("name"), max_length=200, blank=True, help_text=_("For a guest from outside.")
    )
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    bio = models.TextField(_("bio"), blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.SPEAKER)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("guest")
        verbose_name_plural = _("guests")
        ordering = ["activity", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member__isnull=False) | ~models.Q(name=""),
                name="guest_member_or_name",
            ),
            models.UniqueConstraint(
                fields=["activity", "member"],
                condition=models.Q(member__isnull=False),
                name="guest_member_once",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.member.display_name if self.member_id else self.name


class Registration(models.Model):
    """A member's place at an activity (or on its waitlist), their fee and their check-in."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WAITLISTED = "waitlisted", _("waitlisted")
        CANCELLED = "cancelled", _("cancelled")

    class FeeStatus(models.TextChoices):
        # Free activities: there is nothing to pay, so nothing was waived either.
        NOT_APPLICABLE = "not_applicable", _("no fee")
        UNPAID = "unpaid", _("unpaid")
        PAID = "paid", _("paid")
        REFUNDED = "refunded", _("refunded")
        WAIVED = "waived", _("waived")

    class Source(models.TextChoices):
        SELF = "self", _("registered themselves")
        OPERATOR = "operator", _("registered by an operator")
        IMPORT = "import", _("imported attendance")

    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="activity_registrations",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    fee_status = models.CharField(_("fee status"), max_length=16, choices=FeeStatus.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    code = models.CharField(_("check-in code"), max_length=16, unique=True)
    registered_at = models.DateTimeField(_("registered"))
    waitlisted_at = models.DateTimeField(_("waitlisted"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["activity", "registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "member"], name="registration_once"),
            models.CheckConstraint(
                condition=models.Q(checked_in_at__isnull=True) | models.Q(status="confirmed"),
                name="registration_checked_in_confirmed",
            ),
        ]
        indexes = [
            models.Index(
                fields=["activity", "status", "waitlisted_at", "id"], name="registration_queue"
            ),
            models.Index(fields=["member", "checked_in_at"], name="registration_member_attended"),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.activity} ({self.get_status_display()})"


class Feedback(models.Model):
    """An attendee's rating (1-5) and comment; one per registration."""

    registration = models.OneToOneField(
        Registration,
        verbose_name=_("registration"),
        on_delete=models.CASCADE,
        related_name="feedback",
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 {self.registration}"
