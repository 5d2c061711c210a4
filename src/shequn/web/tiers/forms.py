"""The tier policy form: the model's fields and help texts; the service validates the values."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequn.tiers.models import TierPolicy
from shequn.tiers.policy import POLICY_FIELDS


class TierPolicyForm(forms.ModelForm):
    commitment_weights = forms.CharField(
        label=_("commitment weights"),
        help_text=_('JSON: points per kind of contribution, e.g. {"message": 1, "reply": 2}.'),
        widget=forms.TextInput,
    )

    class Meta:
        model = TierPolicy
        fields = list(POLICY_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["commitment_weights"] = json.dumps(
                self.instance.commitment_weights, ensure_ascii=False
            )

    def clean_commitment_weights(self) -> Any:
        try:
            return json.loads(self.cleaned_data["commitment_weights"])
        except ValueError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: %(problem)s") % {"problem": exc}
            ) from None

    def values(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in POLICY_FIELDS}
