"""Machine rules: creating, changing, switching on and off, deleting — validated, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.charter.models import CharterRule
from shequn.charter.validation import RULE_DEFAULTS, RULE_FIELDS, CharterError, clean_rule
from shequn.communities.models import Community

# A change to any of these changes what the rule judges: it judges every event again (from its
# start day) at the next check; findings already recorded are recognised and not repeated.
JUDGING_FIELDS = ("kind", "params", "applies_from", "exempt_staff", "exempt_bots")


def rule_values(rule: CharterRule) -> dict[str, Any]:
    """A rule's editable values, as forms, the API and the command line carry them."""
    return {field: getattr(rule, field) for field in RULE_FIELDS}


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, dt.date) else value
        for key, value in values.items()
    }


def _has_history(rule: CharterRule) -> bool:
    return rule.violations.exists() or rule.rewards.exists()


@transaction.atomic
def do_save_rule(
    community: Community,
    values: Mapping[str, Any],
    *,
    actor: Any,
    rule: CharterRule | None = None,
) -> CharterRule:
    """Create a rule, or change ``rule`` (``values`` may then hold only the fields to change).

    A new rule is switched off unless ``enabled`` says otherwise, and judges events from the
    day it is created unless ``applies_from`` says otherwise (a date, or empty for all events
    imported so far): a rule is not applied to what people did before it existed by default.
    Raises ``CharterError`` naming every field at fault; nothing is saved then."""
    if not isinstance(values, Mapping):
        raise CharterError(_("must be a table of field = value"), "")
    if rule is not None and rule.community_id != community.pk:
        raise CharterError(_("This rule belongs to another community."))
    base = rule_values(rule) if rule is not None else dict(RULE_DEFAULTS)
    if rule is None and "applies_from" not in values:
        base["applies_from"] = timezone.localdate(timezone.now(), timezone=community.zoneinfo)
    if rule is not None and values.get("kind", rule.kind) != rule.kind:
        if _has_history(rule):
            raise CharterError(
                _("cannot change: the rule has violations or rewards in the log; add a new rule"),
                "kind",
            )
        base["params"] = {}  # another kind has other parameters
    elif rule is not None and isinstance(values.get("params"), Mapping):
        # Changing some parameters keeps the others.
        values = {**values, "params": {**rule.params, **values["params"]}}
    cleaned = clean_rule({**base, **dict(values)})
    taken = CharterRule.objects.filter(community=community, key=cleaned["key"])
    if rule is not None:
        taken = taken.exclude(pk=rule.pk)
    if taken.exists():
        raise CharterError(_("%(key)s is already used by another rule") % cleaned, "key")
    before = _jsonable(rule_values(rule)) if rule is not None else None
    target = rule or CharterRule(community=community)
    for field, value in cleaned.items():
        setattr(target, field, value)
    after = _jsonable(rule_values(target))
    judging_changed = before is None or any(before[f] != after[f] for f in JUDGING_FIELDS)
    switched_on = before is not None and not before["enabled"] and after["enabled"]
    if judging_changed or switched_on:
        target.watermark = 0
    target.save()
    audit.record(
        "charter.rule.update" if rule is not None else "charter.rule.create",
        community=community,
        actor=actor,
        target=target,
        details={
            "key": target.key,
            "changed": (
                {k: [before[k], after[k]] for k in after if before[k] != after[k]}
                if before is not None
                else after
            ),
        },
    )
    return target


@transaction.atomic
def _switch(rule: CharterRule, enabled: bool, actor: Any) -> CharterRule:
    if rule.enabled == enabled:
        text = (
            _("rule %(key)s is already switched on")
            if enabled
            else _("rule %(key)s is already switched off")
        )
        raise CharterError(text % {"key": rule.key}, "enabled")
    rule.enabled = enabled
    if enabled:
        # Events imported while it was off are judged at the next check.
        rule.watermark = 0
    rule.save(update_fields=["enabled", "watermark", "updated_at"])
    audit.record(
        "charter.rule.enable" if enabled else "charter.rule.disable",
        community=rule.community,
        actor=actor,
        target=rule,
        details={"key": rule.key},
    )
    return rule


def do_enable_rule(rule: CharterRule, *, actor: Any) -> CharterRule:
    """Switch a rule on: from the next check (after each import, or ``shequn charter check``) it
    judges the events from its start day."""
    return _switch(rule, True, actor)


def do_disable_rule(rule: CharterRule, *, actor: Any) -> CharterRule:
    """Switch a rule off: it judges nothing more; its log stays."""
    return _switch(rule, False, actor)


@transaction.atomic
def do_delete_rule(rule: CharterRule, *, actor: Any) -> None:
    """Delete a rule that never fired; one with violations or rewards is switched off instead,
    so that the log and the ledger keep saying which rule took or gave the points."""
    if _has_history(rule):
        raise CharterError(
            _(
                "rule %(key)s has violations or rewards in the log: switch it off instead (the "
                "log and its points stay)"
            )
            % {"key": rule.key}
        )
    audit.record(
        "charter.rule.delete",
        community=rule.community,
        actor=actor,
        target=rule,
        details={"key": rule.key, "rule": _jsonable(rule_values(rule))},
    )
    rule.delete()
