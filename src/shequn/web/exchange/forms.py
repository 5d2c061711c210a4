"""The forms of the exchange pages. They only parse; ``shequn.exchange.services`` checks and
refuses (its problems are put next to the fields here)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shequn.exchange.models import Outcome, PostKind, PostStatus
from shequn.exchange.validation import ExchangeError

KIND_CHOICES = [("", _("needs and offers")), *PostKind.choices]
STATUS_CHOICES = [("", _("any status")), *PostStatus.choices]


class ProblemsForm(forms.Form):
    def add_problems(self, error: ExchangeError) -> None:
        for field, message in error.problems.items():
            self.add_error(field if field in self.fields else None, message)


class FilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("show"), choices=KIND_CHOICES, required=False)
    status = forms.ChoiceField(label=_("status"), choices=STATUS_CHOICES, required=False)
    tag = forms.CharField(label=_("tag"), max_length=40, required=False)
    q = forms.CharField(
        label=_("search"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class PostEditForm(ProblemsForm):
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    tags = forms.CharField(
        label=_("tags"),
        required=False,
        help_text=_("Separated by commas, e.g. design, 小程序, photography."),
    )


class PostForm(PostEditForm):
    kind = forms.ChoiceField(
        label=_("need or offer"), choices=PostKind.choices, widget=forms.RadioSelect
    )
    member = forms.CharField(
        label=_("member"),
        max_length=255,
        help_text=_("Whose need or offer: their id, member key or exact name."),
    )
    field_order = ["kind", "member", "title", "description", "tags"]


class PublicPostForm(PostEditForm):
    kind = forms.ChoiceField(
        label=_("I have"),
        choices=[
            (PostKind.NEED, _("a need: I am looking for help")),
            (PostKind.OFFER, _("an offer: I can help others")),
        ],
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("your name"), max_length=255)
    contact = forms.CharField(
        label=_("how to reach you"),
        max_length=255,
        help_text=_("An e-mail address, WeChat id or phone number; only the operators see it."),
    )
    # A field people never see (hidden by the page's style): only robots fill it in.
    website = forms.CharField(label=_("Leave this empty"), required=False)
    field_order = ["kind", "title", "description", "tags", "name", "contact", "website"]


class ApproveForm(ProblemsForm):
    member = forms.CharField(
        label=_("member"),
        max_length=255,
        required=False,
        help_text=_("The member who sent it: id, member key or exact name."),
    )
    create_member = forms.BooleanField(
        label=_("a new member, from the name and contact given"), required=False
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)


class PairForm(ProblemsForm):
    need = forms.IntegerField(label=pgettext_lazy("exchange", "need"), min_value=1)
    offer = forms.IntegerField(label=pgettext_lazy("exchange", "offer"), min_value=1)
    note = forms.CharField(label=_("note"), max_length=500, required=False)
    close_need = forms.BooleanField(label=_("the need is met: close it"), required=False)


class OutcomeForm(ProblemsForm):
    outcome = forms.ChoiceField(label=_("outcome"), choices=Outcome.choices)
    value = forms.CharField(
        label=_("value"), max_length=20, required=False, help_text=_("Optional, e.g. 300.")
    )
    currency = forms.CharField(
        label=_("currency"), max_length=3, required=False, help_text=_("e.g. CNY")
    )
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class SettingsForm(ProblemsForm):
    points_for_offer = forms.IntegerField(
        label=_("points for the member with the offer"),
        min_value=0,
        max_value=10_000,
        help_text=_("Per confirmed connection; 0: none."),
    )
    points_for_need = forms.IntegerField(
        label=_("points for the member with the need"),
        min_value=0,
        max_value=10_000,
        help_text=_("Per confirmed connection; 0: none."),
    )
    min_score = forms.FloatField(
        label=_("lowest score suggested"),
        min_value=0,
        max_value=1,
        help_text=_("0 to 1; raise it when suggestions are poor, lower it when there are few."),
    )
