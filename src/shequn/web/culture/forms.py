"""Forms of the culture pages. They carry what an operator typed; the services
(``shequn.culture.services``) check every value and name every wrong field, and the views put
each problem next to its field (a metric parameter's problem next to "parameters")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.communities.models import Platform
from shequn.culture.metrics import metrics
from shequn.culture.models import Testimonial

MEMBER_HELP = _("A member's id, member key (e.g. an e-mail address), name or handle.")


class ProblemsForm(forms.Form):
    """A form that shows a service's problems (field -> message) next to their fields."""

    def add_problems(self, problems: dict[str, str]) -> None:
        for field, message in problems.items():
            if field.startswith("params.") and "params" in self.fields:
                self.add_error("params", f"{field.removeprefix('params.')}: {message}")
            else:
                self.add_error(field if field in self.fields else None, message)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CultureForm(ProblemsForm):
    mission = forms.CharField(
        label=_("Mission (使命)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why are we together?"),
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


def metric_choices() -> list[tuple[str, str]]:
    return [(found.code, f"{found.label} ({found.code})") for found in metrics()]


class GoalForm(ProblemsForm):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    metric = forms.ChoiceField(label=_("Measured by"), choices=metric_choices)
    params = forms.CharField(
        label=_("Parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One name=value per line, as the metric asks (see the list below)."),
    )
    target = forms.CharField(label=_("Target"), required=False)
    start_on = forms.CharField(
        label=_("Starts"),
        required=False,
        widget=_date_input(),
        help_text=_("Empty: today. Things counted within the goal count from this day."),
    )
    deadline = forms.CharField(label=_("Deadline"), required=False, widget=_date_input())
    owner = forms.CharField(label=_("Owner"), required=False, help_text=MEMBER_HELP)


class TestimonialForm(ProblemsForm):
    member = forms.CharField(label=_("Member"), required=False, help_text=MEMBER_HELP)
    text = forms.CharField(
        label=_("What they gained"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("In the member's own words."),
    )
    benefit = forms.ChoiceField(label=_("Kind of benefit"), choices=Testimonial.Benefit.choices)
    said_on = forms.CharField(
        label=_("Said on"), required=False, widget=_date_input(), help_text=_("Empty: today.")
    )
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=500,
        help_text=_("Where it was said: a link, or the channel and day."),
    )
    consent = forms.BooleanField(label=_("The member agreed to publish it"), required=False)


class TemplateForm(ProblemsForm):
    text = forms.CharField(
        label=_("Welcome message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
    )


def platform_choices() -> list[tuple[str, Any]]:
    return list(Platform.choices)


class PlatformForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=platform_choices)
    member = forms.CharField(label=_("For member"), required=False, help_text=MEMBER_HELP)


class MarkAllForm(forms.Form):
    joined_before = forms.DateField(
        label=_("Who joined before"),
        required=False,
        widget=_date_input(),
        help_text=_("Empty: everyone still waiting. An unknown join date counts as before."),
    )
