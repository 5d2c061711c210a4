"""The members list's filter form (a GET form: it only reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.communities.models import Channel
from shequn.members.models import Role
from shequn.members.selectors import MemberFilters

SORT_CHOICES = [
    ("name", _("Name")),
    ("messages", _("Most messages")),
    ("last_active", _("Last active")),
    ("joined", _("Newest members")),
]
BOT_CHOICES = [("", _("Bots shown")), ("hide", _("Bots hidden")), ("only", _("Only bots"))]
TIER_CHOICES = [
    ("", _("All tiers")),
    ("advocate", _("advocate")),
    ("participant", _("participant")),
    ("follower", _("follower")),
    ("lapsed", _("lapsed")),
    ("staff", _("founders and operators")),
]
STATUS_CHOICES = [
    ("", _("Everyone")),
    ("current", _("Current members")),
    ("gone", _("Left or muted")),
]


class MemberListForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, handle or user id")}
        ),
    )
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int)
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices]
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=TIER_CHOICES)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    bots = forms.ChoiceField(label=_("Bots"), required=False, choices=BOT_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, data: Any, channels: Sequence[Channel], **kwargs: Any) -> None:
        """``channels``: the community's channels, fetched once by the caller."""
        super().__init__(data, **kwargs)
        self.fields["channel"].choices = [("", _("All channels"))] + [
            (channel.pk, str(channel)) for channel in channels
        ]

    def filters(self) -> MemberFilters:
        """The valid part of what was asked for; a bad value falls back to its default."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return MemberFilters(
            search=data.get("q") or "",
            role=data.get("role") or "",
            channel_id=data.get("channel") or None,
            bots=data.get("bots") or "",
            status=data.get("status") or "",
            tier=data.get("tier") or "",
            sort=data.get("sort") or "name",
        )
