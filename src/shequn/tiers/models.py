"""Tiers (代言人 / 参与者 / 关注者 / 非成员) computed from behaviour, with reasons and history.

Everything here except ``TierPolicy`` is derived data: ``shequn.tiers.services`` may delete and
rebuild it from the daily rollups and the events at any time. The append-only record of what
members earned is the points ledger (``shequn.rewards``), not this.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    """The seed's tiers, highest first; ``rank`` orders them (lapsed 0 … advocate 3)."""

    ADVOCATE = "advocate", _("advocate")
    PARTICIPANT = "participant", _("participant")
    FOLLOWER = "follower", _("follower")
    LAPSED = "lapsed", _("lapsed")

    @classmethod
    def rank(cls, value: str | None) -> int:
        """Order of a tier: lapsed 0, follower 1, participant 2, advocate 3; -1 for none."""
        return TIER_RANK.get(value, -1) if value is not None else -1


# Lowest first, so a higher rank is a higher tier (an upgrade).
TIER_BY_RANK: tuple[str, ...] = (
    Tier.LAPSED.value,
    Tier.FOLLOWER.value,
    Tier.PARTICIPANT.value,
    Tier.ADVOCATE.value,
)
TIER_RANK: dict[str, int] = {tier: rank for rank, tier in enumerate(TIER_BY_RANK)}


class Cadence(models.TextChoices):
    """How often a lower tier may replace a higher one (upgrades always apply at once)."""

    WEEK = "week", _("every week")
    MONTH = "month", _("monthly")
    QUARTER = "quarter", _("quarterly")


def default_commitment_weights() -> dict[str, float]:
    # Kept in step with shequn.tiers.policy.DEFAULT_WEIGHTS (a callable, so migrations can name
    # it without importing the policy module).
    return {"message": 1, "reply": 2, "host": 30, "speak": 20, "attend": 5, "testimonial": 15}


class TierPolicy(models.Model):
    """One community's thresholds. Defaults and the reason for each: docs/tiers.md."""

    community = models.OneToOneField(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="tier_policy",
    )
    window_weeks = models.PositiveSmallIntegerField(
        _("window (weeks)"),
        default=13,
        help_text=_("How far back behaviour counts: 13 weeks is the seed's 90 days."),
    )
    lapse_days = models.PositiveSmallIntegerField(
        _("lapse after (days)"),
        default=60,
        help_text=_("No signal of any kind for this many days: no longer a member."),
    )
    advocate_active_share = models.PositiveSmallIntegerField(
        _("advocate: share of active weeks (%)"),
        default=60,
        help_text=_("An advocate contributes in at least this share of the window's weeks."),
    )
    advocate_min_helped = models.PositiveSmallIntegerField(
        _("advocate: distinct members helped"),
        default=5,
        help_text=_("Replying to this many different members in the window counts as helping."),
    )
    helped_by_mentions = models.BooleanField(
        _("advocate: mentions count as replies"),
        default=True,
        help_text=_(
            "Count @-mentions of a member as answering them, for chats without reply threads."
        ),
    )
    invitee_min_days = models.PositiveSmallIntegerField(
        _("advocate: days an invitee stays"),
        default=30,
        help_text=_("Bringing in a member counts once they have stayed this many days."),
    )
    participant_min_weeks = models.PositiveSmallIntegerField(
        _("participant: active weeks"),
        default=3,
        help_text=_("A participant contributes in at least this many distinct weeks."),
    )
    participant_min_commitment = models.PositiveIntegerField(
        _("participant: commitment points"),
        default=30,
        help_text=_(
            "Or earns this many commitment points in the window (weights below), so one "
            "weighty act can place a member; 0 turns this path off."
        ),
    )
    commitment_weights = models.JSONField(
        _("commitment weights"),
        default=default_commitment_weights,
        help_text=_("Points per kind of contribution: a message 1, a reply 2, hosting 30, …"),
    )
    downgrade_cadence = models.CharField(
        _("downgrades"),
        max_length=8,
        choices=Cadence.choices,
        default=Cadence.MONTH,
        help_text=_("Upgrades apply at once; a lower tier waits for this review."),
    )
    risk_recent_weeks = models.PositiveSmallIntegerField(
        _("at risk: recent weeks"),
        default=4,
        help_text=_("The recent weeks compared with the weeks before them."),
    )
    risk_baseline_weeks = models.PositiveSmallIntegerField(
        _("at risk: weeks before"),
        default=8,
        help_text=_("The weeks before the recent ones that set the usual level."),
    )
    risk_drop_percent = models.PositiveSmallIntegerField(
        _("at risk: below this percent of usual"),
        default=50,
        help_text=_("At risk when recent weekly contributions fall below this share of usual."),
    )
    risk_low_weeks = models.PositiveSmallIntegerField(
        _("at risk: low weeks of the last 3"),
        default=2,
        help_text=_("…and at least this many of the last 3 weeks were that low (not one slip)."),
    )
    risk_min_weekly = models.FloatField(
        _("at risk: usual weekly contributions at least"),
        default=1.0,
        help_text=_("Members who usually contribute less than this per week are not flagged."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("tier policy")
        verbose_name_plural = _("tier policies")

    def __str__(self) -> str:
        return f"tier policy of {self.community_id}"


class MemberTier(models.Model):
    """A member's tier as of the latest run, with the reasons, progress and risk behind it."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="tier_state",
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    since = models.DateField(_("since"), null=True, blank=True)
    # The as-of day of the run that last wrote this row; every run judges every member, so the
    # day a tier holds as of is the latest run's (``selectors.member_tier`` gives that).
    evaluated_on = models.DateField(_("evaluated on"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    at_risk = models.BooleanField(_("at risk"), default=False)
    risk = models.JSONField(_("risk"), default=dict, blank=True)
    # How much of the usual weekly level was lost (0-1), to list the steepest falls first.
    risk_drop = models.FloatField(_("drop"), default=0.0)
    is_staff = models.BooleanField(
        _("staff"),
        default=False,
        help_text=_("Founders and operators: given a tier, kept out of community figures."),
    )
    # When the member joined, left or muted as this run saw it, so a later change is noticed.
    joined_on = models.DateField(null=True, blank=True)
    gone_on = models.DateField(null=True, blank=True)
    # Fingerprints of what a run wrote (``shequn.tiers.digest``: of this row with the join and
    # leave days; the sum of the history's step fingerprints), so a full run compares numbers
    # instead of building and reading back every reason. NULL: unknown (older rows).
    row_digest = models.BigIntegerField(null=True, blank=True, editable=False)
    path_digest = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        indexes = [
            models.Index(fields=["community", "tier", "is_staff"], name="membertier_funnel"),
            models.Index(
                fields=["community", "-risk_drop"],
                condition=models.Q(at_risk=True),
                name="membertier_at_risk",
            ),
            # What every run reads of every member (state and fingerprints), from the index
            # alone: the rows hold long reasons, and a cold read of the table was most of a run.
            models.Index(
                fields=[
                    "community",
                    "member",
                    "tier",
                    "since",
                    "joined_on",
                    "gone_on",
                    "is_staff",
                    "row_digest",
                    "path_digest",
                ],
                name="membertier_digests",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier}"

    @property
    def action(self) -> str:
        """The next best action code for this member (see ``shequn.tiers.reasons``)."""
        from shequn.tiers.reasons import next_action

        return next_action(self.tier, self.at_risk)


class TierChange(models.Model):
    """One step on a member's path: from one tier (none for the first) to another, on a day."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="tier_changes",
        db_index=False,
    )
    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    from_tier = models.CharField(  # noqa: DJ001 (NULL: the first tier a member got)
        _("from"), max_length=16, choices=Tier.choices, null=True, blank=True
    )
    to_tier = models.CharField(_("to"), max_length=16, choices=Tier.choices)
    changed_on = models.DateField(_("changed on"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # The step's fingerprint (``digest.Fingerprints.step``): a run replacing the history from a
    # week on subtracts these from the member's path digest without reading the reasons back.
    digest = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["changed_on", "id"]
        indexes = [
            models.Index(fields=["member", "changed_on"], name="tierchange_member"),
            models.Index(fields=["community", "changed_on"], name="tierchange_community"),
        ]

    def __str__(self) -> str:
        return f"{self.changed_on} {self.member_id}: {self.from_tier or '-'} -> {self.to_tier}"


class TierRun(models.Model):
    """One recompute: what it covered and how far into the events it read (the watermark)."""

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="tier_runs",
    )
    full = models.BooleanField(_("full run"), default=False)
    as_of = models.DateField(_("as of"))
    watermark = models.BigIntegerField(
        _("last event id read"), default=0, help_text=_("Events after it are new to the next run.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    evaluated = models.PositiveIntegerField(_("members evaluated"), default=0)
    changed = models.PositiveIntegerField(_("tier changes"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("tier run")
        verbose_name_plural = _("tier runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.community_id} as of {self.as_of} ({'full' if self.full else 'incremental'})"


class ReplyTie(models.Model):
    """Replies and mentions from one account to another in one week (weeks since 0001-01-01,
    Monday start, local days), folded once from the events so "helped N different members"
    never rescans them. Kept per account, not per member, so merging and un-merging members
    needs no rework."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    identity = models.ForeignKey(
        "members.Identity", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    target_identity = models.ForeignKey(
        "members.Identity", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    week = models.IntegerField()
    replies = models.PositiveIntegerField(default=0)
    mentions = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reply tie")
        verbose_name_plural = _("reply ties")
        constraints = [
            models.UniqueConstraint(
                fields=["identity", "target_identity", "week"], name="replytie_unique"
            )
        ]
        indexes = [models.Index(fields=["community", "week"], name="replytie_community_week")]

    def __str__(self) -> str:
        return f"{self.identity_id} -> {self.target_identity_id} week {self.week}: {self.replies}"


class AwaitingReply(models.Model):
    """A reply folded before the message it answers arrived (a later import may bring it):
    checked on every run, and counted in ``ReplyTie`` once the import finds its target."""

    event = models.OneToOneField(
        "interactions.InteractionEvent",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("reply awaiting its target")
        verbose_name_plural = _("replies awaiting their target")

    def __str__(self) -> str:
        return f"event {self.event_id}"


class Invitation(models.Model):
    """A join the source says someone else brought about (Slack/Telegram ``inviter``,
    Telegram ``invited_by``), folded once from the join event."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event = models.OneToOneField(
        "interactions.InteractionEvent", on_delete=models.CASCADE, related_name="+"
    )
    invitee_identity = models.ForeignKey(
        "members.Identity", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    inviter_identity = models.ForeignKey(
        "members.Identity", on_delete=models.CASCADE, related_name="+"
    )
    joined_on = models.DateField(_("joined on"))

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["community", "joined_on"], name="invitation_community")]

    def __str__(self) -> str:
        return f"{self.inviter_identity_id} invited {self.invitee_identity_id} ({self.joined_on})"
