"""Forms of the business pages. They carry what an operator typed, as text: the services
(``shequn.commerce.validation``) check every value and name every wrong field, and the views
put each problem next to its field."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shequn.commerce.models import CostCategory, OfferKind
from shequn.commerce.services import MAX_REPEAT

MAX_MONTHS = 60


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProblemsForm(forms.Form):
    """A form that shows a service's problems (field -> message) next to their fields."""

    def add_problems(self, problems: dict[str, str]) -> None:
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields}


class ReportForm(forms.Form):
    months = forms.IntegerField(
        label=_("Months"), min_value=1, max_value=MAX_MONTHS, initial=12, required=False
    )


class OfferForm(ProblemsForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=OfferKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    code = forms.CharField(
        label=pgettext_lazy("product code", "Code"),
        max_length=100,
        required=False,
        help_text=_("Optional: the shop's product id or SKU, as order files name it."),
    )
    price = forms.CharField(
        label=_("List price"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("e.g. 399.00; 0 for something free."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=20, required=False, help_text=_("e.g. CNY, USD, EUR.")
    )
    duration_days = forms.CharField(
        label=_("Duration (days)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=_("Memberships only: how long one purchase lasts, e.g. 365; empty: no end."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    active = forms.BooleanField(label=_("On sale"), required=False, initial=True)


class PurchaseForm(ProblemsForm):
    member = forms.CharField(
        label=_("Member"),
        max_length=255,
        required=False,
        help_text=_("A member's id, member key (e.g. an e-mail address), name or handle."),
    )
    offer = forms.ChoiceField(label=pgettext_lazy("for sale", "Offer"), choices=())
    amount = forms.CharField(
        label=_("Amount paid"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Empty: the list price. Less with a discount."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=20, required=False, help_text=_("Empty: the offer's.")
    )
    purchased_at = forms.CharField(
        label=_("Purchased"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In the community's time zone; empty: now."),
    )
    source = forms.CharField(
        label=_("Acquisition channel"),
        max_length=200,
        required=False,
        help_text=_(
            "Where the buyer came from (referral, WeChat group A, ad…); empty: the channel "
            "they were first seen on."
        ),
    )
    order_id = forms.CharField(
        label=_("Order id"),
        max_length=200,
        required=False,
        help_text=_("The shop's order number, if any."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, offers: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer"].choices = [
            (str(offer.pk), f"{offer.name} · {offer.price} {offer.currency}")
            for offer in offers or []
        ]


class RefundForm(ProblemsForm):
    amount = forms.CharField(
        label=_("Amount refunded"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Empty: all that is left."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class CostForm(ProblemsForm):
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("e.g. 2024-03."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=CostCategory.choices)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    amount = forms.CharField(
        label=_("Amount"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    currency = forms.CharField(label=_("Currency"), max_length=20, required=False)
    repeat = forms.IntegerField(
        label=_("For how many months"),
        min_value=1,
        max_value=MAX_REPEAT,
        initial=1,
        required=False,
        help_text=_("The same cost each month from this one on (a subscription, a salary)."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Order file (CSV)"),
        help_text=_(
            "UTF-8 with a header: order_id, time, member_key / account / name, offer, amount, "
            "currency, source (see the help below)."
        ),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone of the times"),
        choices=time_zone_choices,
        help_text=_("For times written without an offset."),
    )
    create_members = forms.BooleanField(
        label=_("Add buyers who are not members yet"), required=False
    )
    dry_run = forms.BooleanField(label=_("Check only (import nothing)"), required=False)
