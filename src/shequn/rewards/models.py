"""Points 积分 and levels 等级: earning rules, the append-only ledger, level schemes.

The ledger (``PointEntry``) is append-only: a balance is the sum of a member's entries, and a
correction is a new, reversing entry. Four guards keep it so: ``save`` refuses to update,
``delete`` refuses, the default queryset refuses ``update()``/``delete()``, and a database
trigger (migration 0002) rejects any UPDATE except moving entries between members (merges) and
clearing a reference to a deleted rule, event or user (``on_delete=SET_NULL``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequn.interactions.models import EventKind


class LedgerIsAppendOnly(Exception):
    """Raised when code tries to change or remove a points ledger entry."""


class Beneficiary(models.TextChoices):
    """Who an event's points go to."""

    ACTOR = "actor", _("the member who acted")
    TARGET = "target", _("the author of what was acted upon")
    TARGET_PARENT = "target_parent", _("the author of what the target answers")


class PointRule(models.Model):
    """One earning rule: which events earn (or cost) how many points, and to whom.

    Rules are data an operator edits (web, API, TOML). Changing a rule does not rewrite
    history: entries already awarded keep their amount; a full recompute only adds entries for
    events that have none under the rule's key yet.
    """

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="point_rules",
    )
    key = models.SlugField(
        _("key"),
        max_length=64,
        help_text=_("Stable identifier; past awards are remembered under it."),
    )
    name = models.CharField(_("name"), max_length=200)
    enabled = models.BooleanField(_("enabled"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    event_kind = models.CharField(_("event kind"), max_length=16, choices=EventKind.choices)
    content_types = models.JSONField(
        _("content types"),
        default=list,
        blank=True,
        help_text=_("Only events with one of these content types; empty: any."),
    )
    match = models.JSONField(
        _("attribute match"),
        default=dict,
        blank=True,
        help_text=_('Attributes the event must have, e.g. {"vote": "up"}; a list allows several.'),
    )
    target_content_types = models.JSONField(
        _("target content types"),
        default=list,
        blank=True,
        help_text=_(
            "Only when the event acts upon something with one of these content types "
            "(e.g. an up-vote on an answer); empty: any."
        ),
    )
    target_exclude = models.JSONField(
        _("target exclusions"),
        default=dict,
        blank=True,
        help_text=_(
            'Skip events acting upon something with these attributes, e.g. {"community_wiki": '
            "true}."
        ),
    )
    beneficiary = models.CharField(
        _("points go to"),
        max_length=16,
        choices=Beneficiary.choices,
        default=Beneficiary.ACTOR,
    )
    skip_self = models.CharField(
        _("skip when the beneficiary is"),
        max_length=16,
        choices=Beneficiary.choices,
        blank=True,
        default="",
        help_text=_(
            "E.g. 'the member who acted' for self-votes; for an accepted answer, the asker."
        ),
    )
    amount = models.IntegerField(
        _("points"),
        default=0,
        help_text=_("Negative: a penalty. With 'amount from', points per unit of that attribute."),
    )
    amount_from = models.CharField(
        _("amount from attribute"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("E.g. 'bounty': the event's bounty times the points above (1 or -1)."),
    )
    cooldown_seconds = models.PositiveIntegerField(
        _("cooldown (seconds)"),
        default=0,
        help_text=_("At most one award per member within this many seconds; 0: none."),
    )
    daily_cap = models.PositiveIntegerField(
        _("daily cap"),
        default=0,
        help_text=_(
            "Most points a member gains per local day from this rule (or its cap group); "
            "penalties are not counted. 0: no cap."
        ),
    )
    cap_group = models.SlugField(
        _("cap group"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("Rules with the same cap group share one daily cap."),
    )
    first_time_bonus = models.IntegerField(
        _("first-time bonus"),
        default=0,
        help_text=_("Extra points the first time this rule applies to a member."),
    )
    min_balance = models.IntegerField(
        _("balance floor"),
        null=True,
        blank=True,
        help_text=_("A penalty never takes the balance below this (Stack Exchange: 1)."),
    )
    valid_from = models.DateField(
        _("valid from"), null=True, blank=True, help_text=_("First local day the rule applies.")
    )
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("The rule applies to events before this local day."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="point_rule_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.name}"

    @property
    def group(self) -> str:
        """The daily cap's group: the cap group, else the rule's own key."""
        return self.cap_group or self.key


class PointEntryQuerySet(models.QuerySet):
    """Refuses bulk changes: the ledger only grows (see ``reassign_entries`` for merges)."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly(
            _("Points ledger entries cannot be changed; add a reversing entry instead.")
        )

    def delete(self) -> NoReturn:
        raise LedgerIsAppendOnly(
            _("Points ledger entries cannot be deleted; add a reversing entry instead.")
        )


class PointEntry(models.Model):
    """One change of a member's points. Never edited or deleted; corrections reverse."""

    class Kind(models.TextChoices):
        EARNED = "earned", _("earned")
        BONUS = "bonus", _("first-time bonus")
        MANUAL = "manual", _("manual")
        REVERSAL = "reversal", _("reversal")
        # Given by another part of shequn on its own terms (a charter rule's penalty or reward,
        # a connection made through the needs-and-offers exchange), keyed so it is given once.
        AUTOMATIC = "automatic", _("automatic")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.RESTRICT,
        related_name="point_entries",
        db_index=False,
    )
    amount = models.IntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    rule = models.ForeignKey(
        PointRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
        db_index=False,
    )
    rule_key = models.CharField(_("rule key"), max_length=64, blank=True, default="")
    beneficiary = models.CharField(
        _("points went to"), max_length=16, choices=Beneficiary.choices, blank=True, default=""
    )
    reason = models.TextField(_("reason"))
    source_event = models.ForeignKey(
        "interactions.InteractionEvent",
        verbose_name=_("source event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    day = models.DateField(_("local day"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="reversed_by",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    objects = PointEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "idempotency_key"], name="point_entry_key_unique"
            )
        ]
        indexes = [
            # A member's history and balance; level-ups replay it in ledger order. Holding the
            # amount lets balances and level-ups read the index alone, never the table.
            models.Index(
                fields=["member", "occurred_at", "id", "amount"], name="point_entry_member_amount"
            ),
            # Week/month leaderboards and daily caps: one day range, summed per member.
            models.Index(fields=["community", "day", "member", "amount"], name="point_entry_day"),
            # Cooldowns: the entries around a batch of events.
            models.Index(fields=["community", "occurred_at"], name="point_entry_time"),
            # Who already had a first-time bonus: a few rows per member, where the member
            # index would walk every entry of the busiest members.
            models.Index(
                fields=["member", "rule_key"],
                name="point_entry_bonus",
                condition=models.Q(kind="bonus"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.reason}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise LedgerIsAppendOnly(
                _("Points ledger entries cannot be changed; add a reversing entry instead.")
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly(
            _("Points ledger entries cannot be deleted; add a reversing entry instead.")
        )


class MemberPoints(models.Model):
    """A member's balance (the ledger sum) and level, kept in step with every ledger write so
    leaderboards read one row per member."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="points",
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    balance = models.BigIntegerField(_("points"), default=0)
    level = models.PositiveIntegerField(_("level"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("member points")
        verbose_name_plural = _("member points")
        indexes = [models.Index(fields=["community", "-balance"], name="member_points_balance")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.balance}"


class LevelScheme(models.Model):
    """How points become levels: a quadratic curve or a table of named thresholds.

    Quadratic: going from level n to n + 1 takes a·n² + b·n + c points (MEE6: 5, 50, 100), so
    level 1 is reached at c points. Table: each ``Level`` row is reached at its threshold.
    """

    class Kind(models.TextChoices):
        QUADRATIC = "quadratic", _("quadratic curve")
        TABLE = "table", _("table of levels")

    community = models.OneToOneField(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="level_scheme",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.QUADRATIC)
    a = models.PositiveIntegerField(_("a (n²)"), default=5)
    b = models.PositiveIntegerField(_("b (n)"), default=50)
    c = models.PositiveIntegerField(_("c (constant)"), default=100)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("level scheme")
        verbose_name_plural = _("level schemes")

    def __str__(self) -> str:
        return f"{self.community_id}: {self.kind}"


class Level(models.Model):
    """A named level of a table scheme, reached at ``threshold`` lifetime points."""

    scheme = models.ForeignKey(
        LevelScheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="levels"
    )
    threshold = models.PositiveIntegerField(_("threshold"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "threshold"], name="level_threshold_unique")
        ]

    def __str__(self) -> str:
        return f"{self.threshold}: {self.name}"


class LevelUp(models.Model):
    """The first time a member reached a level: recorded once, kept as history."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="level_ups",
        db_index=False,
    )
    level = models.PositiveIntegerField(_("level"))
    name = models.CharField(_("name"), max_length=100)
    reached_at = models.DateTimeField(_("reached at"))
    entry = models.ForeignKey(
        PointEntry,
        verbose_name=_("crossing entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("level-up")
        verbose_name_plural = _("level-ups")
        ordering = ["member", "level"]
        constraints = [models.UniqueConstraint(fields=["member", "level"], name="level_up_once")]
        indexes = [models.Index(fields=["community", "-reached_at"], name="level_up_recent")]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.level} {self.name}"


class PointsState(models.Model):
    """Where awarding stopped: events up to ``last_event_id`` have been looked at."""

    community = models.OneToOneField(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="points_state",
    )
    last_event_id = models.BigIntegerField(_("last event looked at"), default=0)
    last_full_at = models.DateTimeField(_("last full recompute"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points state")
        verbose_name_plural = _("points states")

    def __str__(self) -> str:
        return f"{self.community_id}: {self.last_event_id}"
