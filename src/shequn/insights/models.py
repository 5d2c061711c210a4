"""Diagnoses kept per period, so a community can compare this month with the last ones."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequn.communities.models import Community


class DiagnosisReport(models.Model):
    """One period's diagnosis as ``insights.diagnosis.diagnose`` made it (codes and numbers);
    running the same period again replaces it."""

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="diagnoses",
        verbose_name=_("community"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (exclusive)"))
    verdict = models.CharField(_("verdict"), max_length=16)
    data = models.JSONField(_("diagnosis"))
    created_at = models.DateTimeField(_("created"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ["-period_end", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "period_start", "period_end"],
                name="diagnosis_one_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.community.slug} {self.period_start}–{self.period_end}"
