"""Forms of the activities pages. They only carry what an operator typed, as text: the services
(``shequn.activities.validation``) check every value and name every wrong field, and the views
put each problem next to its field."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.activities.models import ContentKind, Guest, Mode, Registration, Ritual
from shequn.activities.validation import zone_of

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
MEMBER_HELP = _("A member's id, member key (e.g. an e-mail address), name or handle.")


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class LocalDateTimeInput(forms.DateTimeInput):
    """A ``datetime-local`` input: a clock time in the time zone chosen on the form."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=LOCAL_FORMAT)


def local_text(value: dt.datetime | None, zone_name: str) -> str:
    """A stored moment as the form shows it: clock time in the activity's time zone."""
    if value is None:
        return ""
    zone = zone_of(zone_name) or dt.UTC
    return value.astimezone(zone).strftime(LOCAL_FORMAT)


def _moment(label: Any, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=LocalDateTimeInput(), help_text=help_text
    )


class ProblemsForm(forms.Form):
    """A form that shows a service's problems (field -> message) next to their fields."""

    def add_problems(self, problems: dict[str, str]) -> None:
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields}


class ActivityForm(ProblemsForm):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    mode = forms.ChoiceField(label=_("Online or offline"), choices=Mode.choices)
    content_type = forms.ChoiceField(label=_("Content type"), choices=ContentKind.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Start and end are clock times in this time zone."),
    )
    starts_at = _moment(_("Starts"), required=False)
    ends_at = _moment(_("Ends"), required=False)
    place = forms.CharField(
        label=_("Place"),
        max_length=500,
        required=False,
        help_text=_("Address or room; required offline."),
    )
    link = forms.CharField(
        label=_("Link"),
        max_length=500,
        required=False,
        help_text=_("Where to join online (https://…)."),
    )
    capacity = forms.CharField(
        label=_("Capacity"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=_("Places; required offline, empty online means unlimited."),
    )
    fee_amount = forms.CharField(
        label=_("Fee"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("0 or empty: free."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, required=False, help_text=_("e.g. CNY, USD, EUR.")
    )
    organiser = forms.CharField(label=_("Organiser"), required=False, help_text=MEMBER_HELP)
    registration_opens_at = _moment(
        _("Registration opens"), help_text=_("Empty: as soon as it is published.")
    )
    registration_closes_at = _moment(
        _("Registration closes"), help_text=_("Empty: when it starts.")
    )


class RitualForm(ProblemsForm):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    frequency = forms.ChoiceField(label=_("Repeats"), choices=Ritual.Frequency.choices)
    rule = forms.CharField(
        label=_("Recurrence rule"),
        max_length=500,
        required=False,
        help_text=_(
            "For a custom rule only: an RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=-1FR (the last "
            "Friday of every month)."
        ),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    first_starts_at = _moment(
        _("First occurrence starts"),
        help_text=_("Weekly and monthly rituals repeat its weekday or day of the month."),
    )
    duration_minutes = forms.CharField(
        label=_("Duration (minutes)"),
        required=False,
        initial="60",
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    title = forms.CharField(
        label=_("Title of each occurrence"),
        max_length=200,
        required=False,
        help_text=_("Empty: the ritual's name."),
    )
    mode = forms.ChoiceField(label=_("Online or offline"), choices=Mode.choices)
    content_type = forms.ChoiceField(label=_("Content type"), choices=ContentKind.choices)
    place = forms.CharField(label=_("Place"), max_length=500, required=False)
    link = forms.CharField(label=_("Link"), max_length=500, required=False)
    capacity = forms.CharField(
        label=_("Capacity"), required=False, widget=forms.NumberInput(attrs={"min": 1})
    )
    fee_amount = forms.CharField(
        label=_("Fee"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    organiser = forms.CharField(label=_("Organiser"), required=False, help_text=MEMBER_HELP)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class GenerateForm(forms.Form):
    until = forms.DateField(
        label=_("Until (included)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Occurrences up to this local day are created; existing ones are kept."),
    )
    publish = forms.BooleanField(
        label=_("Publish them"),
        required=False,
        initial=True,
        help_text=_("Otherwise they are drafts."),
    )


class CancelActivityForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=500, required=False)


class GuestForm(ProblemsForm):
    member = forms.CharField(
        label=_("Member"),
        required=False,
        help_text=_("A member of the community; or leave empty and give a name."),
    )
    name = forms.CharField(label=_("Name (guest from outside)"), max_length=200, required=False)
    affiliation = forms.CharField(label=_("Affiliation"), max_length=200, required=False)
    bio = forms.CharField(label=_("Bio"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Guest.Role.choices)


class RegisterForm(ProblemsForm):
    member = forms.CharField(label=_("Member"), required=False, help_text=MEMBER_HELP)
    name = forms.CharField(
        label=_("Or a name"), max_length=200, required=False, help_text=_("With an e-mail.")
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    override = forms.BooleanField(label=_("Even outside the registration window"), required=False)


class FeeForm(forms.Form):
    fee_status = forms.ChoiceField(label=_("Fee status"), choices=Registration.FeeStatus.choices)
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("e.g. how it was paid or why it was waived."),
    )


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Check-in code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )


class AttendanceForm(forms.Form):
    file = forms.FileField(
        label=_("Attendance file (CSV)"),
        help_text=_(
            "UTF-8, a header row; columns member_key, email or name, and attended and/or "
            "checked_in_at. Other columns are ignored."
        ),
    )
    create_missing = forms.BooleanField(
        label=_("Add people who are not members yet"),
        required=False,
        help_text=_("Otherwise a row that matches no member is an error."),
    )


class PublicRegisterForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(
        label=_("Your e-mail"),
        help_text=_("It identifies you to the organisers; shequn sends no e-mail."),
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        help_text=_("5 is best."),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), widget=forms.Textarea, required=False, max_length=5000
    )
