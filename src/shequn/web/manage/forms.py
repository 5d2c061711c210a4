"""Forms of the settings pages: what operators type is checked here, the services do the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.accounts.models import AccessRole
from shequn.communities.models import Community, validate_time_zone

PROFILE_LIST_FIELDS = ("values_advocated", "values_opposed")


def _lines(text: str) -> list[str]:
    """One value per line: blanks trimmed and dropped, repeats kept once, order kept."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        value = " ".join(line.split())
        if value:
            seen.setdefault(value, None)
    return list(seen)


class ProfileForm(forms.Form):
    """The community profile, phrased as the seed's culture questions."""

    name = forms.CharField(label=_("Name"), max_length=200)
    carrier = forms.CharField(
        label=_("Carrier (载体)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The product or service the community forms around."),
    )
    mission = forms.CharField(
        label=_("Mission (使命)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why are we together?"),
    )
    positioning = forms.CharField(
        label=_("Positioning and goals"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What do we want to achieve? Who is it for and which need does it serve?"),
    )
    values_advocated = forms.CharField(
        label=_("Values we advocate"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What do we stand for? One value per line."),
    )
    values_opposed = forms.CharField(
        label=_("Values we oppose"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What do we stand against? One value per line."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        validators=[validate_time_zone],
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
        help_text=_(
            "An IANA name such as Asia/Shanghai. Days in activity figures are counted in this "
            "time zone; changing it recounts them."
        ),
    )

    @classmethod
    def for_community(cls, community: Community, data: Any = None) -> ProfileForm:
        """The form filled with the community's profile (lists as one value per line)."""
        initial = {field: getattr(community, field) for field in cls.base_fields}
        for field in PROFILE_LIST_FIELDS:
            initial[field] = "\n".join(initial[field] or [])
        return cls(data, initial=initial)

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"].strip()

    def clean_values_advocated(self) -> list[str]:
        return _lines(self.cleaned_data["values_advocated"])

    def clean_values_opposed(self) -> list[str]:
        return _lines(self.cleaned_data["values_opposed"])


class AccessChangeForm(forms.Form):
    """Change one account's role, or (``remove``) take its access away."""

    role = forms.ChoiceField(label=_("Role"), choices=AccessRole.choices, required=False)
    remove = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("remove") and not cleaned.get("role"):
            raise forms.ValidationError(_("Choose a role, or remove the access."))
        return cleaned


class InvitationForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=AccessRole.choices, initial="operator")
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("Only to remember whom the link is for; shequn sends no email."),
    )


class AuditFilterForm(forms.Form):
    """Filters of the audit log; choices come from what the community's log holds."""

    action = forms.ChoiceField(label=_("Kind of change"), required=False)
    actor = forms.ChoiceField(label=_("Account"), required=False)

    def __init__(
        self, data: Any, *, action_choices: list[tuple[str, Any]], actor_labels: list[str]
    ) -> None:
        super().__init__(data)
        self.fields["action"].choices = [("", _("all")), *action_choices]
        self.fields["actor"].choices = [("", _("everyone"))] + [(a, a) for a in actor_labels]
