"""Forms of the charter pages. They only parse what an operator typed; the services validate
and name every problem, which ``add_problems`` puts next to its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shequn.charter.detectors import KINDS, REGISTRY
from shequn.charter.detectors.base import WEEKDAY_NAMES, Detector
from shequn.charter.dry_run import DRY_RUN_DAYS, MAX_DAYS
from shequn.charter.models import Consequence, Via, Violation
from shequn.charter.validation import MAX_NOTE, MAX_POINTS, MAX_TEXT

WEEKDAYS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
]
assert [code for code, _label in WEEKDAYS] == list(WEEKDAY_NAMES)


def add_problems(form: forms.Form, problems: Mapping[str, str]) -> None:
    """Put a service's problems next to their fields (``params.x`` → ``param_x``)."""
    for field, problem in problems.items():
        name = f"param_{field[7:]}" if field.startswith("params.") else field
        form.add_error(name if name in form.fields else None, problem)


class CharterTextForm(forms.Form):
    text = forms.CharField(
        label=_("charter text"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("Publishing makes a new version; members acknowledge each version anew."),
    )
    note = forms.CharField(
        label=_("what changed"), max_length=500, required=False, help_text=_("Optional.")
    )


class AcknowledgeForm(forms.Form):
    member = forms.CharField(
        label=_("member"), max_length=255, help_text=_("Id, member key, name or handle.")
    )
    via = forms.ChoiceField(label=_("via"), choices=Via.choices, initial=Via.CHAT)
    acknowledged_at = forms.DateField(
        label=_("acknowledged on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: now."),
    )


class AcknowledgementsImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: member (id, key, name or handle), optionally acknowledged_at and via. "
            "All or nothing."
        ),
    )


class RuleForm(forms.Form):
    """A rule of one kind: the common fields, then one field per parameter of the kind."""

    key = forms.CharField(
        label=_("key"), max_length=64, help_text=_("A short id, e.g. no-ads; kept in the ledger.")
    )
    name = forms.CharField(label=_("name"), max_length=200, required=False)
    description = forms.CharField(
        label=_("description"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Which part of the charter it enforces."),
    )
    consequence = forms.ChoiceField(label=_("consequence"))
    points = forms.IntegerField(label=_("points"), min_value=0, max_value=MAX_POINTS, initial=0)
    exempt_staff = forms.BooleanField(
        label=_("founders and operators are exempt"), required=False, initial=True
    )
    exempt_bots = forms.BooleanField(label=_("bots are exempt"), required=False, initial=True)
    applies_from = forms.DateField(
        label=_("judge events from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: every event imported so far, too."),
    )
    enabled = forms.BooleanField(
        label=_("switched on"),
        required=False,
        help_text=_("Read the dry run first: once on, the rule judges at every import."),
    )
    days = forms.IntegerField(
        label=_("dry run over the last days"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=DRY_RUN_DAYS,
        required=False,
        help_text=_("Up to the latest imported event."),
    )

    def __init__(self, detector: Detector, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.detector = detector
        if detector.reward:
            choices = [(Consequence.REWARD, Consequence.REWARD.label)]
        else:
            choices = [(value, label) for value, label in Consequence.choices if value != "reward"]
        self.fields["consequence"].choices = choices
        for param in detector.params:
            self.fields[f"param_{param.name}"] = _param_field(param)

    @classmethod
    def initial_from(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        initial = {key: value for key, value in values.items() if key != "params"}
        for name, value in (values.get("params") or {}).items():
            if isinstance(value, list) and name == "weekdays":
                value = [WEEKDAY_NAMES[day] for day in value]
            elif isinstance(value, list):
                value = "\n".join(value)
            initial[f"param_{name}"] = value
        return initial

    def param_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("param_")]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            field: data.get(field)
            for field in (
                "key",
                "name",
                "description",
                "consequence",
                "points",
                "exempt_staff",
                "exempt_bots",
                "applies_from",
                "enabled",
            )
        }
        values["kind"] = self.detector.kind
        values["params"] = {
            param.name: data.get(f"param_{param.name}") for param in self.detector.params
        }
        return values


def _param_field(param: Any) -> forms.Field:
    common = {"label": param.name.replace("_", " "), "help_text": param.help_text}
    if param.kind == "int":
        return forms.IntegerField(
            min_value=param.minimum, max_value=param.maximum, initial=param.default, **common
        )
    if param.kind == "bool":
        return forms.BooleanField(required=False, initial=param.default, **common)
    if param.kind == "weekdays":
        return forms.MultipleChoiceField(
            choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple, **common
        )
    if param.kind == "time":
        return forms.CharField(
            max_length=5,
            initial=param.default,
            widget=forms.TextInput(attrs={"placeholder": param.default, "inputmode": "numeric"}),
            **common,
        )
    return forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=60_000, **common
    )


class KindForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("kind"), choices=[(kind, REGISTRY[kind].label) for kind in KINDS]
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[
            (Violation.Status.UPHELD, _("uphold")),
            (Violation.Status.OVERTURNED, _("overturn")),
        ],
    )
    note = forms.CharField(
        label=_("note"),
        max_length=MAX_NOTE,
        required=False,
        help_text=_("Required to overturn; the reversing ledger entry carries it."),
    )


class ReportForm(forms.Form):
    rule = forms.ChoiceField(label=_("rule"))
    member = forms.CharField(
        label=_("member"), max_length=255, help_text=_("Id, member key, name or handle.")
    )
    event = forms.CharField(
        label=_("message"),
        required=False,
        max_length=255,
        help_text=_("Optional: the message id in the export, or shequn's event id."),
    )
    note = forms.CharField(
        label=_("what happened"), max_length=MAX_NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, rules: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [(str(rule.pk), rule.name or rule.key) for rule in rules]


class ViolationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("", pgettext_lazy("filter", "any")), *Violation.Status.choices],
    )
    rule = forms.ChoiceField(label=_("rule"), required=False)
    consequence = forms.ChoiceField(
        label=_("consequence"),
        required=False,
        choices=[("", pgettext_lazy("filter", "any")), *Consequence.choices[:3]],
    )
    member = forms.IntegerField(label=_("member id"), required=False, min_value=1, max_value=2**62)

    def __init__(self, rules: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [
            ("", pgettext_lazy("filter", "any")),
            *((str(rule.pk), rule.name or rule.key) for rule in rules),
        ]


class MuteForm(forms.Form):
    action = forms.ChoiceField(
        label=_("action"),
        choices=[
            (Violation.MuteAction.MUTED, _("I muted them")),
            (Violation.MuteAction.DISMISSED, _("dismiss")),
        ],
    )
    note = forms.CharField(label=_("note"), max_length=MAX_NOTE, required=False)
