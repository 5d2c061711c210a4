"""Write operations on the charter: each validates, writes in one transaction and records an
audit entry (``shequn.audit.services.record``). One module per concern; callers import from
here."""

from shequn.charter.services.checking import CheckResult, RuleOutcome, do_check
from shequn.charter.services.merging import move_member_rows
from shequn.charter.services.rules import (
    do_delete_rule,
    do_disable_rule,
    do_enable_rule,
    do_save_rule,
    rule_values,
)
from shequn.charter.services.text import (
    AcknowledgementImport,
    do_acknowledge,
    do_import_acknowledgements,
    do_publish_charter,
)
from shequn.charter.services.violations import (
    DECISIONS,
    MUTE_ACTIONS,
    do_act_on_mute,
    do_decide_violation,
    do_report_violation,
)
from shequn.charter.validation import CharterError

__all__ = [
    "DECISIONS",
    "MUTE_ACTIONS",
    "AcknowledgementImport",
    "CharterError",
    "CheckResult",
    "RuleOutcome",
    "do_acknowledge",
    "do_act_on_mute",
    "do_check",
    "do_decide_violation",
    "do_delete_rule",
    "do_disable_rule",
    "do_enable_rule",
    "do_import_acknowledgements",
    "do_publish_charter",
    "do_report_violation",
    "do_save_rule",
    "move_member_rows",
    "rule_values",
]
