"""The business model (社群商业模式): what the community sells, who bought it, what it costs.

The seed says a community's business is "meeting people's needs" on top of shared interests;
these models record the money side of that so operators can see whether the community pays
for itself. Money is always ``Decimal`` (two places) with an ISO 4217 currency; currencies are
never converted into one another. A purchase is never deleted: a refund is its own row
(``Refund``) and the purchase keeps the running total refunded. Writes go through
``shequn.commerce.services`` (validated, one transaction, audited).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MONEY = {"max_digits": 14, "decimal_places": 2}


class OfferKind(models.TextChoices):
    """What is sold: the seed's paid forms of a community."""

    MEMBERSHIP = "membership", _("membership")
    COURSE = "course", _("course")
    PRODUCT = "product", _("product")
    TICKET = "ticket", _("activity ticket")
    OTHER = "other", pgettext_lazy("kind of offer", "other")


class Offer(models.Model):
    """Something the community sells, at a list price (a purchase may pay less: discounts)."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="offers",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OfferKind.choices)
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(
        pgettext_lazy("product code", "code"),
        max_length=100,
        blank=True,
        help_text=_("The shop's own product id or SKU, so order files can name the offer by it."),
    )
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(_("list price"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    duration_days = models.PositiveIntegerField(
        _("duration (days)"),
        null=True,
        blank=True,
        help_text=_("Memberships only: how long one purchase lasts, e.g. 365; empty: no end."),
    )
    activity = models.OneToOneField(
        "activities.Activity",
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_offer",
        help_text=_("For a ticket: the activity it admits to."),
    )
    active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("for sale", "offer")
        verbose_name_plural = pgettext_lazy("for sale", "offers")
        ordering = ["-active", "kind", "name", "id"]
        constraints = [
            # Order files name offers by name or code: each must point at one offer.
            models.UniqueConstraint("community", Lower("name"), name="commerce_offer_name_unique"),
            models.UniqueConstraint(
                fields=["community", "code"],
                condition=~models.Q(code=""),
                name="commerce_offer_code_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="commerce_offer_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_days__isnull=True) | models.Q(kind="membership"),
                name="commerce_offer_duration_membership_only",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Purchase(models.Model):
    """One member's purchase of an offer: what was paid, when, and where the buyer came from."""

    class Origin(models.TextChoices):
        OPERATOR = "operator", _("recorded by an operator")
        IMPORT = "import", _("imported from a file")
        ACTIVITY = "activity", _("paid activity registration")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="purchases",
    )
    offer = models.ForeignKey(
        Offer,
        verbose_name=pgettext_lazy("for sale", "offer"),
        on_delete=models.PROTECT,
        related_name="purchases",
    )
    # RESTRICT: a member is only deleted by a merge, which first moves their purchases to the
    # member they became part of (see receivers.py); anything else must not lose revenue.
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.RESTRICT,
        related_name="purchases",
    )
    amount = models.DecimalField(_("amount paid"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    purchased_at = models.DateTimeField(_("purchased"))
    source = models.CharField(
        _("acquisition channel"),
        max_length=200,
        blank=True,
        help_text=_(
            "Where the buyer came from (e.g. referral, WeChat group A, ad); empty: the channel "
            "the member was first seen on."
        ),
    )
    order_id = models.CharField(
        _("order id"),
        max_length=200,
        blank=True,
        help_text=_("The shop's order number: importing the same order again changes nothing."),
    )
    origin = models.CharField(_("recorded as"), max_length=16, choices=Origin.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    refunded_amount = models.DecimalField(
        _("refunded"),
        default=Decimal("0"),
        help_text=_("The sum of this purchase's refunds (kept in step with them)."),
        **MONEY,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-purchased_at", "-id"]
        indexes = [
            models.Index(fields=["community", "purchased_at"], name="commerce_purchase_time"),
            models.Index(fields=["member", "purchased_at"], name="commerce_purchase_member"),
            models.Index(fields=["offer", "purchased_at"], name="commerce_purchase_offer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "order_id"],
                condition=~models.Q(order_id=""),
                name="commerce_purchase_order_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="commerce_purchase_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("amount")),
                name="commerce_purchase_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.offer} · {self.amount} {self.currency}"

    @property
    def net_amount(self) -> Decimal:
        """What the community kept: paid minus refunded."""
        return self.amount - self.refunded_amount

    @property
    def fully_refunded(self) -> bool:
        """A purchase refunded in full no longer counts as a purchase (but is kept)."""
        return self.refunded_amount >= self.amount and self.amount > 0


class Refund(models.Model):
    """Money given back for a purchase (in its currency); several partial ones may add up to
    at most what was paid. Refunds are never edited or deleted."""

    purchase = models.ForeignKey(
        Purchase, verbose_name=_("purchase"), on_delete=models.CASCADE, related_name="refunds"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    refunded_at = models.DateTimeField(_("refunded"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["refunded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="commerce_refund_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} ← {self.purchase}"


class CostCategory(models.TextChoices):
    TOOLS = "tools", _("tools and software")
    VENUE = "venue", _("venue")
    STAFF = "staff", pgettext_lazy("kind of cost", "staff")
    MARKETING = "marketing", _("marketing")
    CONTENT = "content", _("content and speakers")
    OTHER = "other", pgettext_lazy("kind of cost", "other")


class Cost(models.Model):
    """What running the community cost in one month (tools, venue, staff…), so the business
    page can say whether the community pays for itself."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="costs",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month it is for."))
    category = models.CharField(_("category"), max_length=16, choices=CostCategory.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("cost")
        verbose_name_plural = _("costs")
        ordering = ["-month", "category", "id"]
        indexes = [models.Index(fields=["community", "month"], name="commerce_cost_month")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="commerce_cost_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_category_display()} {self.amount} {self.currency}"
