import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not a known time zone."), params={"value": value}
        ) from exc


class Community(models.Model):
    """What the seed calls 社群: a group held together by a mission, not just a chat group."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=False)
    carrier = models.TextField(
        _("carrier (载体)"),
        blank=True,
        help_text=_("The product or service the community forms around."),
    )
    positioning = models.TextField(
        _("positioning"), blank=True, help_text=_("Who it is for and which need it serves.")
    )
    mission = models.TextField(_("mission (使命)"), blank=True, help_text=_("Why are we together?"))
    values_advocated = models.JSONField(
        _("values advocated"),
        default=list,
        blank=True,
        help_text=_("What the community stands for."),
    )
    values_opposed = models.JSONField(
        _("values opposed"),
        default=list,
        blank=True,
        help_text=_("What the community stands against."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Days in activity figures are counted in this time zone."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zoneinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Platform(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    WECOM = "wecom", _("WeCom")
    QQ = "qq", _("QQ")
    TELEGRAM = "telegram", _("Telegram")
    DISCORD = "discord", _("Discord")
    SLACK = "slack", _("Slack")
    WHATSAPP = "whatsapp", _("WhatsApp")
    LINE = "line", _("LINE")
    STACKEXCHANGE = "stackexchange", _("Stack Exchange")
    FORUM = "forum", _("Forum")
    CSV = "csv", _("CSV")
    OTHER = "other", _("Other")


class Channel(models.Model):
    """One place the community talks: a group chat, a Slack channel, a forum site."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="channels"
    )
    platform = models.CharField(_("platform"), max_length=32, choices=Platform.choices)
    external_id = models.CharField(_("external id"), max_length=255)
    name = models.CharField(_("name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["community", "platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "platform", "external_id"], name="channel_unique_per_community"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name or self.external_id}"
