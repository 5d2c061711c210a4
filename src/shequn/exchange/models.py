"""The needs-and-offers exchange (连接: link the demand side with the supply side).

The seed's operating strategy is "deep vertical, connection, clear positioning": a community
creates value when it links the members who need something with the members who can offer
it. Members post needs and offers (through operators, the API or a public form that waits for
an operator's approval); shequn suggests pairs with their evidence; an operator confirms an
introduction, which becomes a tie between the two members (an interaction event) and may earn
points; its outcome (helped, deal made, no result, with a value) is what the community shows
as value created.

Writes go through ``shequn.exchange.services`` (validated, one transaction, audited); these
models only hold the data and its database-level guarantees.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PostKind(models.TextChoices):
    NEED = "need", pgettext_lazy("exchange", "need")
    OFFER = "offer", pgettext_lazy("exchange", "offer")


class PostStatus(models.TextChoices):
    # A public submission waiting for an operator's approval (not shown, never matched).
    PENDING = "pending", pgettext_lazy("exchange post", "waiting for approval")
    OPEN = "open", pgettext_lazy("exchange post", "open")
    CLOSED = "closed", pgettext_lazy("exchange post", "closed")
    REJECTED = "rejected", pgettext_lazy("exchange post", "rejected")


class PostSource(models.TextChoices):
    OPERATOR = "operator", _("posted by an operator")
    PUBLIC = "public", _("public form")


class Outcome(models.TextChoices):
    HELPED = "helped", pgettext_lazy("exchange outcome", "helped")
    DEAL = "deal", pgettext_lazy("exchange outcome", "deal made")
    NONE = "none", pgettext_lazy("exchange outcome", "no result")


class ExchangeSettings(models.Model):
    """A community's exchange settings: the public form's link, points, the match threshold."""

    community = models.OneToOneField(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="exchange_settings",
    )
    public_token = models.CharField(
        _("public form token"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("Empty: the public form is off. A new token makes earlier links useless."),
    )
    points_for_offer = models.PositiveIntegerField(
        _("points for the member with the offer"),
        default=10,
        help_text=_("Awarded once per confirmed connection to the member who helped; 0: none."),
    )
    points_for_need = models.PositiveIntegerField(
        _("points for the member with the need"),
        default=0,
        help_text=_("Awarded once per confirmed connection to the member who asked; 0: none."),
    )
    min_score = models.FloatField(
        _("lowest score suggested"),
        default=0.12,
        help_text=_("Pairs scoring below this (0 to 1) are not suggested."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("exchange settings")
        verbose_name_plural = _("exchange settings")
        constraints = [
            models.UniqueConstraint(
                fields=["public_token"],
                condition=~models.Q(public_token=""),
                name="exchange_public_token_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(min_score__gte=0, min_score__lte=1),
                name="exchange_min_score_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return str(self.community)

    @property
    def public_form_on(self) -> bool:
        return bool(self.public_token)


class Post(models.Model):
    """A need or an offer of one member, with tags and a description."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="exchange_posts",
    )
    kind = models.CharField(_("need or offer"), max_length=8, choices=PostKind.choices)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exchange_posts",
        help_text=_("Empty only while a public submission waits for approval."),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PostStatus.choices, default=PostStatus.OPEN
    )
    source = models.CharField(
        _("source"), max_length=16, choices=PostSource.choices, default=PostSource.OPERATOR
    )
    # What a public submitter gave (kept after approval, so operators can reach them).
    submitter_name = models.CharField(_("submitted by"), max_length=255, blank=True)
    submitter_contact = models.CharField(_("contact"), max_length=255, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status_note = models.CharField(
        _("reason"), max_length=500, blank=True, help_text=_("Why it was closed or rejected.")
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
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
        verbose_name = _("need or offer")
        verbose_name_plural = _("needs and offers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "status", "kind"], name="exchange_post_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member__isnull=False)
                | models.Q(status__in=["pending", "rejected"]),
                name="exchange_post_member_unless_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.title}"

    @property
    def tag_names(self) -> list[str]:
        """The tags in their order (uses a prefetch of ``tags`` when there is one)."""
        return [tag.name for tag in self.tags.all()]

    @property
    def person(self) -> str:
        """Who posted it: the member, or the public submitter still waiting for approval."""
        return self.member.display_name if self.member_id else self.submitter_name


class PostTag(models.Model):
    """One tag of a post (normalised: trimmed, Latin letters in lower case)."""

    post = models.ForeignKey(
        Post, verbose_name=_("need or offer"), on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(_("tag"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["post", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "name"], name="exchange_tag_once_per_post")
        ]
        indexes = [models.Index(fields=["name"], name="exchange_tag_name")]

    def __str__(self) -> str:
        return self.name


class Connection(models.Model):
    """An introduction an operator confirmed: a need linked with an offer, and its outcome."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="exchange_connections",
    )
    need = models.ForeignKey(
        Post,
        verbose_name=pgettext_lazy("exchange", "need"),
        on_delete=models.CASCADE,
        related_name="connections_as_need",
    )
    offer = models.ForeignKey(
        Post,
        verbose_name=pgettext_lazy("exchange", "offer"),
        on_delete=models.CASCADE,
        related_name="connections_as_offer",
    )
    score = models.FloatField(_("score"), default=0)
    evidence = models.JSONField(
        _("evidence"), default=dict, blank=True, help_text=_("Why the pair matched, when made.")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    event = models.ForeignKey(
        "interactions.InteractionEvent",
        verbose_name=_("interaction event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)
    value_amount = models.DecimalField(
        _("value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    value_currency = models.CharField(
        _("currency"), max_length=3, blank=True, help_text=_("An ISO 4217 code, e.g. CNY.")
    )
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)
    outcome_at = models.DateTimeField(_("outcome reported"), null=True, blank=True)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["-confirmed_at", "-id"]
        indexes = [
            models.Index(fields=["community", "confirmed_at"], name="exchange_connection_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["need", "offer"], name="exchange_connection_once"),
            models.CheckConstraint(
                condition=models.Q(value_amount__isnull=True)
                | (models.Q(value_amount__gte=Decimal("0")) & ~models.Q(value_currency="")),
                name="exchange_value_with_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.need_id} → #{self.offer_id}"


class DismissedPair(models.Model):
    """A suggested pair an operator turned down: never suggested again."""

    need = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(_("dismissed"), auto_now_add=True)

    class Meta:
        verbose_name = _("dismissed suggestion")
        verbose_name_plural = _("dismissed suggestions")
        constraints = [
            models.UniqueConstraint(fields=["need", "offer"], name="exchange_dismissed_once")
        ]

    def __str__(self) -> str:
        return f"#{self.need_id} × #{self.offer_id}"
