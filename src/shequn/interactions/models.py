import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    MESSAGE = "message", _("message")
    REPLY = "reply", _("reply")
    MENTION = "mention", _("mention")
    REACTION = "reaction", _("reaction")
    JOIN = "join", _("join")
    LEAVE = "leave", _("leave")
    MUTE = "mute", _("mute")
    BADGE = "badge", _("badge")
    MODERATION = "moderation", _("moderation")
    SYSTEM = "system", _("system")
    # Activities (shequn.activities): attending one (its attendees share the event's
    # ``thread_source_id``, "activity-<id>", which is how co-attendance ties are found),
    # hosting one and speaking at one.
    ATTEND = "attend", _("attend")
    HOST = "host", _("host")
    SPEAK = "speak", _("speak")
    # The needs-and-offers exchange (shequn.exchange): an introduction an operator confirmed,
    # from the member with the need to the member with the offer — a tie in the network.
    CONNECTION = "connection", _("connection")


# Which rollup counters each kind feeds: (column for the acting member, column for the target).
# Kinds not listed (badge, moderation, system, host, speak) are kept as events but not counted
# daily.
ROLLUP_COLUMNS: dict[str, tuple[str | None, str | None]] = {
    EventKind.MESSAGE: ("messages", None),
    EventKind.REPLY: ("replies_given", "replies_received"),
    EventKind.MENTION: ("mentions_given", "mentions_received"),
    EventKind.REACTION: ("reactions_given", "reactions_received"),
    EventKind.JOIN: ("joins", None),
    EventKind.LEAVE: ("leaves", None),
    EventKind.MUTE: ("mutes", None),
    EventKind.ATTEND: ("attended", None),
}
# A reply is also a message its author wrote.
MESSAGE_KINDS = (EventKind.MESSAGE, EventKind.REPLY)
ROLLUP_COUNTERS = (
    "messages",
    "characters",
    "replies_given",
    "replies_received",
    "mentions_given",
    "mentions_received",
    "reactions_given",
    "reactions_received",
    "joins",
    "leaves",
    "mutes",
    "attended",
)


class ImportRun(models.Model):
    """One import of one source; failed runs are kept with their error, their data is not."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="import_runs",
    )
    format = models.CharField(_("format"), max_length=32)
    source = models.CharField(_("source"), max_length=1024)
    source_bytes = models.BigIntegerField(_("size in bytes"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.format} {self.source} ({self.get_status_display()})"


class InteractionEvent(models.Model):
    """One thing a member did on a channel. Append-only: history is never rewritten.

    ``source_id`` is the platform's id for the record, unique per channel, so the same file
    imported twice adds nothing. ``day`` is the local date in the community's time zone, kept so
    daily rollups can be rebuilt by the database alone.
    """

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("community"),
    )
    channel = models.ForeignKey(
        "communities.Channel",
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        verbose_name=_("channel"),
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("member"),
        help_text=_("Empty when the source does not say who acted (e.g. anonymous votes)."),
    )
    target_member = models.ForeignKey(
        "members.Member",
        on_delete=models.CASCADE,
        related_name="received_events",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("target member"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    day = models.DateField(_("local day"))
    source_id = models.CharField(_("source id"), max_length=255)
    # NULL (not "") means "no parent": the reply-target UPDATE and thread queries test IS NULL.
    parent_source_id = models.CharField(  # noqa: DJ001
        _("replies to"), max_length=255, null=True, blank=True
    )
    thread_source_id = models.CharField(  # noqa: DJ001
        _("thread"), max_length=255, null=True, blank=True
    )
    content_type = models.CharField(_("content type"), max_length=16, blank=True, default="")
    text_length = models.PositiveIntegerField(_("text length"), default=0)
    # NULL: the text was not stored (SHEQUN_STORE_TEXT off); "" is an empty message.
    text = models.TextField(_("text"), null=True, blank=True)  # noqa: DJ001
    attributes = models.JSONField(_("attributes"), null=True, blank=True)
    # Which account acted and which was addressed: members are derived from these, so merging
    # and un-merging members can always move each event to the right person.
    identity = models.ForeignKey(
        "members.Identity",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("identity"),
    )
    target_identity = models.ForeignKey(
        "members.Identity",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("target identity"),
    )
    import_run = models.ForeignKey(
        ImportRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("import"),
    )

    class Meta:
        verbose_name = _("interaction event")
        verbose_name_plural = _("interaction events")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_id"], name="event_source_unique_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["community", "occurred_at"], name="event_community_time"),
            models.Index(fields=["member", "occurred_at"], name="event_member_time"),
            models.Index(fields=["target_member", "occurred_at"], name="event_target_time"),
            # Replies and reactions still waiting for what they answer, so a parent imported
            # later finds them; small, since most are aimed as they are imported.
            models.Index(
                fields=["channel", "parent_source_id"],
                condition=models.Q(target_identity__isnull=True, parent_source_id__isnull=False),
                name="event_awaiting_parent",
            ),
            # Moderation actions (rare) by time, for the diagnosis's charter evidence: a
            # partial index, so imports of ordinary messages do not maintain it.
            models.Index(
                fields=["community", "occurred_at"],
                condition=models.Q(kind="moderation"),
                name="event_moderation_time",
            ),
            # Who addressed whom (replies, mentions, reactions) in a period, for the
            # diagnosis's network: answered from the index alone. Partial, so the many
            # messages without a target do not enter it, and no query that does not ask for a
            # target can pick it (the message scans keep their plans).
            models.Index(
                fields=["community", "occurred_at", "member", "target_member", "kind"],
                condition=models.Q(target_member__isnull=False),
                name="event_addressed_time",
            ),
            # Messages posted in another message's thread (replies, or a thread they name),
            # by time: where the diagnosis follows reply chains to thread roots, it starts
            # from these instead of reading every message of the period. Queries name the
            # condition as written here (``insights.conversation.follows_sql``), so the
            # planners can prove the index applies.
            models.Index(
                fields=["community", "occurred_at"],
                condition=models.Q(parent_source_id__isnull=False)
                | models.Q(thread_source_id__isnull=False),
                name="event_in_thread_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind} {self.source_id}"


class MemberDailyRollup(models.Model):
    """Per member per local day counters, maintained by every import in its own transaction.

    Analytics read these instead of rescanning raw events.
    """

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="daily_rollups", db_index=False
    )
    day = models.DateField(_("day"))
    messages = models.PositiveIntegerField(_("messages"), default=0)
    characters = models.PositiveBigIntegerField(_("characters"), default=0)
    replies_given = models.PositiveIntegerField(_("replies given"), default=0)
    replies_received = models.PositiveIntegerField(_("replies received"), default=0)
    mentions_given = models.PositiveIntegerField(_("mentions given"), default=0)
    mentions_received = models.PositiveIntegerField(_("mentions received"), default=0)
    reactions_given = models.PositiveIntegerField(_("reactions given"), default=0)
    reactions_received = models.PositiveIntegerField(_("reactions received"), default=0)
    joins = models.PositiveIntegerField(_("joins"), default=0)
    leaves = models.PositiveIntegerField(_("leaves"), default=0)
    mutes = models.PositiveIntegerField(_("mutes"), default=0)
    # A database default too: bulk loaders that list the older columns keep working.
    attended = models.PositiveIntegerField(_("activities attended"), default=0, db_default=0)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="rollup_unique_member_day")
        ]
        indexes = [models.Index(fields=["community", "day"], name="rollup_community_day")]

    def __str__(self) -> str:
        return f"{self.day} member {self.member_id}: {self.messages} messages"


class MemberWeeklyRollup(models.Model):
    """Per member per week sums of the daily rollups, kept equal to them by the statements that
    write the daily rows (``shequn.interactions.rollups``), in the same transaction.

    The tier engine reasons in weeks: reading these instead of grouping every daily row of every
    member on each recompute makes that read several times smaller. ``week`` is
    ``(day.toordinal() - 1) // 7`` of the local days it sums, so a week runs Monday to Sunday
    (day 1, 0001-01-01, was a Monday); its Monday is ``date.fromordinal(week * 7 + 1)``.
    """

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="weekly_rollups", db_index=False
    )
    week = models.IntegerField(
        _("week"), help_text=_("Weeks since 0001-01-01; each runs Monday to Sunday.")
    )
    messages = models.PositiveIntegerField(_("messages"), default=0)
    characters = models.PositiveBigIntegerField(_("characters"), default=0)
    replies_given = models.PositiveIntegerField(_("replies given"), default=0)
    replies_received = models.PositiveIntegerField(_("replies received"), default=0)
    mentions_given = models.PositiveIntegerField(_("mentions given"), default=0)
    mentions_received = models.PositiveIntegerField(_("mentions received"), default=0)
    reactions_given = models.PositiveIntegerField(_("reactions given"), default=0)
    reactions_received = models.PositiveIntegerField(_("reactions received"), default=0)
    joins = models.PositiveIntegerField(_("joins"), default=0)
    leaves = models.PositiveIntegerField(_("leaves"), default=0)
    mutes = models.PositiveIntegerField(_("mutes"), default=0)
    attended = models.PositiveIntegerField(_("activities attended"), default=0)
    # Days that count toward presence: the member wrote (messages > 0) or attended an activity
    # (attended > 0) that day. Mentions, reactions and joins alone do not make one.
    contribution_days = models.PositiveSmallIntegerField(
        _("contribution days"),
        default=0,
        help_text=_("Days of the week on which the member wrote or attended an activity."),
    )
    # date.toordinal() of the week's last day with any signal (a message, an activity attended,
    # a mention or reaction given, a join); NULL when the week has rollups but no such day
    # (e.g. the member was only replied to).
    last_signal_day = models.IntegerField(
        _("last signal day"),
        null=True,
        blank=True,
        help_text=_(
            "The week's last day (as a day number) on which the member wrote, attended, mentioned,"
            " reacted or joined; empty when there was none."
        ),
    )

    class Meta:
        verbose_name = _("weekly rollup")
        verbose_name_plural = _("weekly rollups")
        constraints = [
            models.UniqueConstraint(fields=["member", "week"], name="rollup_unique_member_week")
        ]

    def __str__(self) -> str:
        return f"week {self.week} member {self.member_id}: {self.messages} messages"

    @property
    def monday(self) -> dt.date:
        """The first day of the week."""
        return dt.date.fromordinal(self.week * 7 + 1)


class ImportJob(models.Model):
    """An import started from the web app or the API: the uploaded file, its progress and its
    outcome. Committed before the import runs (in the background), so its page can follow it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    format = models.CharField(_("format"), max_length=32, default="auto")
    original_name = models.CharField(_("file"), max_length=255)
    stored_path = models.CharField(max_length=1024, blank=True)
    size_bytes = models.BigIntegerField(_("size in bytes"), default=0)
    channel = models.CharField(_("channel"), max_length=255, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    import_run = models.ForeignKey(
        ImportRun,
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
