"""Forms of the web app (validation of what operators type; the services do the rest)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.accounts.models import AccessRole


class CommunityCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name in addresses"),
        max_length=100,
        help_text=_("Lower-case letters, digits and hyphens, e.g. 'rust-shanghai'."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        initial="Asia/Shanghai",
        help_text=_("Days in activity figures are counted in this time zone."),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What will use it, e.g. 'weekly report script'."),
    )


class InvitationForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=AccessRole.choices)
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("Only to remember whom the link is for; shequn sends no email."),
    )


class SignUpForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    email = forms.EmailField(label=_("Email (optional)"), required=False)
