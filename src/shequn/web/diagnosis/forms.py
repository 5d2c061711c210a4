"""The form that asks for a period to diagnose."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.insights.periods import PERIOD_DAYS
from shequn.insights.services import MAX_REQUEST_DAYS


class DiagnosisForm(forms.Form):
    end = forms.DateField(
        label=_("period ends before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the day after the last imported event."),
    )
    days = forms.IntegerField(
        label=_("days"),
        min_value=1,
        max_value=MAX_REQUEST_DAYS,
        initial=PERIOD_DAYS,
        help_text=_("Up to a year here; longer periods with the command shequn report."),
    )
