from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.interactions.importers import FORMATS, source_class


def _format_choices() -> list[tuple[str, str]]:
    return [("auto", _("Detect from the contents"))] + [
        (name, source_class(name).label or name) for name in FORMATS
    ]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Export file"),
        help_text=_(
            "A chat export or forum dump: JSON, JSONL, CSV, TXT, XML or a ZIP (Slack, WhatsApp)."
        ),
    )
    format = forms.ChoiceField(label=_("Format"), choices=_format_choices, initial="auto")
    channel = forms.CharField(
        label=_("Channel key (optional)"),
        required=False,
        max_length=255,
        help_text=_("For records that name no channel, or to replace a single chat's own."),
    )
    time_zone = forms.CharField(
        label=_("Time zone of the file's clock times (optional)"),
        required=False,
        max_length=64,
        help_text=_("WhatsApp, QQ and old Telegram exports write local times, e.g. Asia/Shanghai."),
    )
    date_order = forms.ChoiceField(
        label=_("WhatsApp date order (optional)"),
        required=False,
        choices=[("", _("Detect")), ("DMY", "DMY"), ("MDY", "MDY"), ("YMD", "YMD")],
    )
    include_private = forms.BooleanField(
        label=_("QQ: also import one-to-one chats"), required=False
    )
    direct_messages = forms.BooleanField(
        label=_("Slack: also import direct messages"), required=False
    )

    def options(self) -> dict:
        data = self.cleaned_data
        return {
            "time_zone": data.get("time_zone") or None,
            "date_order": data.get("date_order") or None,
            "include_private": data.get("include_private") or None,
            "direct_messages": data.get("direct_messages") or None,
        }
