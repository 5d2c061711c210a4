"""Forms of the points pages. They only parse what an operator typed; the services validate the
rules and levels and name every problem."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.interactions.models import EventKind
from shequn.rewards.models import Beneficiary, LevelScheme
from shequn.rewards.selectors import PERIODS

LIST_HELP = _("Comma-separated; empty: any.")
PAIRS_HELP = _("Comma-separated name=value pairs, e.g. vote=up; empty: none.")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        return text


def parse_pairs(text: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for part in _split(text):
        name, equals, value = part.partition("=")
        if not equals or not name.strip():
            raise forms.ValidationError(_("“%(part)s” is not a name=value pair.") % {"part": part})
        pairs[name.strip()] = _scalar(value.strip())
    return pairs


def format_pairs(pairs: dict[str, Any]) -> str:
    return ", ".join(
        f"{name}={str(value).lower() if isinstance(value, bool) else value}"
        for name, value in (pairs or {}).items()
    )


class RuleForm(forms.Form):
    key = forms.CharField(label=_("key"), max_length=64, help_text=_("A short id, e.g. message."))
    name = forms.CharField(label=_("name"), max_length=200, required=False)
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)
    position = forms.IntegerField(label=_("position"), min_value=0, required=False)
    event_kind = forms.ChoiceField(label=_("event kind"), choices=EventKind.choices)
    content_types = forms.CharField(label=_("content types"), required=False, help_text=LIST_HELP)
    match = forms.CharField(label=_("attributes to match"), required=False, help_text=PAIRS_HELP)
    target_content_types = forms.CharField(
        label=_("content types of the target"), required=False, help_text=LIST_HELP
    )
    target_exclude = forms.CharField(
        label=_("skip targets with"),
        required=False,
        help_text=_("name=value pairs, e.g. community_wiki=true."),
    )
    beneficiary = forms.ChoiceField(label=_("points go to"), choices=Beneficiary.choices)
    skip_self = forms.ChoiceField(
        label=_("skip when the beneficiary is also"),
        choices=[("", _("never skip")), *Beneficiary.choices],
        required=False,
    )
    amount = forms.IntegerField(label=_("points"), help_text=_("Negative: a penalty."))
    amount_from = forms.CharField(label=_("amount from attribute"), required=False)
    cooldown_seconds = forms.IntegerField(label=_("cooldown (seconds)"), min_value=0, initial=0)
    daily_cap = forms.IntegerField(label=_("daily cap"), min_value=0, initial=0)
    cap_group = forms.CharField(label=_("cap group"), required=False)
    first_time_bonus = forms.IntegerField(label=_("first-time bonus"), initial=0)
    min_balance = forms.IntegerField(label=_("balance floor"), required=False)
    valid_from = forms.DateField(label=_("valid from"), required=False)
    valid_until = forms.DateField(label=_("valid until"), required=False)

    @classmethod
    def initial_from(cls, values: dict[str, Any]) -> dict[str, Any]:
        initial = dict(values)
        for field in ("content_types", "target_content_types"):
            initial[field] = ", ".join(values.get(field) or [])
        for field in ("match", "target_exclude"):
            initial[field] = format_pairs(values.get(field) or {})
        return initial

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for field in ("content_types", "target_content_types"):
            data[field] = _split(data[field])
        for field in ("match", "target_exclude"):
            data[field] = parse_pairs(data[field])
        if data.get("position") is None:
            data.pop("position")
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field in ("match", "target_exclude"):
            if field in cleaned:
                try:
                    parse_pairs(cleaned[field])
                except forms.ValidationError as exc:
                    self.add_error(field, exc)
        return cleaned


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label=_("preset"))

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(name, name) for name in names]


class RulesImportForm(forms.Form):
    file = forms.FileField(label=_("TOML file"))


class LevelsForm(forms.Form):
    kind = forms.ChoiceField(label=_("levels"), choices=LevelScheme.Kind.choices)
    a = forms.IntegerField(label=_("a (n²)"), min_value=0, required=False)
    b = forms.IntegerField(label=_("b (n)"), min_value=0, required=False)
    c = forms.IntegerField(label=_("c (constant)"), min_value=0, required=False)
    table = forms.CharField(
        label=_("table"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One level per line: the points it needs, a space, its name."),
    )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["kind"] == LevelScheme.Kind.TABLE:
            levels = []
            for number, line in enumerate(data["table"].splitlines(), 1):
                if not line.strip():
                    continue
                threshold, _space, name = line.strip().partition(" ")
                try:
                    levels.append({"threshold": int(threshold), "name": name.strip()})
                except ValueError:
                    raise forms.ValidationError(
                        _("Line %(line)s: “%(text)s” does not start with a number of points.")
                        % {"line": number, "text": line.strip()}
                    ) from None
            return {"kind": data["kind"], "levels": levels}
        return {
            "kind": data["kind"],
            **{name: data[name] for name in ("a", "b", "c") if data[name] is not None},
        }


class ManualEntryForm(forms.Form):
    amount = forms.IntegerField(
        label=_("points"),
        help_text=_("Negative for a deduction."),
        min_value=-1_000_000,
        max_value=1_000_000,
    )
    reason = forms.CharField(label=_("reason"), max_length=500)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=[(p, p) for p in PERIODS], required=False)
