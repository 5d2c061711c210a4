"""Operator-reported: what no machine can see (harassment in private messages, advertising
off the record, a no-show …). Nothing is detected; operators record each case with
``services.do_report_violation``, and it joins the same appealable log."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from shequn.charter.detectors.base import Detector, Finding, Scope, register


@register
class Reported(Detector):
    kind = "reported"
    label = gettext_lazy("Reported by an operator")
    help_text = gettext_lazy(
        "No detection: operators report each case (a member, optionally the message, a note)."
    )
    automatic = False
    event_kinds = ()

    def find(self, scope: Scope) -> list[Finding]:
        return []
