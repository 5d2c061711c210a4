"""Read queries on the audit log, and the words that describe its entries to people.

Entries store machine names (``access.change``) and JSON details; the settings pages show them
as a label in the reader's language and one compact line of details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequn.audit.models import AuditEntry

# Every action recorded with ``audit.record(...)`` (grep the code for it when adding one);
# an action missing here is shown as its raw name.
ACTION_LABELS: dict[str, Promise] = {
    "import.run": _("imported a file"),
    "member.merge": _("merged two members"),
    "member.unmerge": _("undid a merge"),
    "member.map": _("mapped accounts to members"),
    "identity_mapping.load": _("loaded an identity mapping"),
    "member.suggestion_accepted": _("accepted a merge suggestion"),
    "member.suggestion_rejected": _("rejected a merge suggestion"),
    "suggestion.accept": _("accepted a merge suggestion"),
    "suggestion.reject": _("rejected a merge suggestion"),
    "access.grant": _("gave access"),
    "access.change": _("changed an access role"),
    "access.revoke": _("removed access"),
    "access.invite": _("created an invitation"),
    "access.revoke_invitation": _("withdrew an invitation"),
    "access.accept_invitation": _("accepted an invitation"),
    "account.sign_up": _("signed up"),
    "account.create_first_operator": _("created the first operator"),
    "account.change_password": _("changed their password"),
    "token.create": _("created an API token"),
    "token.revoke": _("revoked an API token"),
    "community.create": _("created the community"),
    "community.update": _("edited the community profile"),
    "community.update_profile": _("edited the community profile"),
    "activity.create": _("created an activity"),
    "activity.update": _("changed an activity"),
    "activity.published": _("published an activity"),
    "activity.cancelled": _("cancelled an activity"),
    "activity.done": _("marked an activity as done"),
    "activity.delete": _("deleted a draft activity"),
    "activity.guest_add": _("added a guest to an activity"),
    "activity.guest_remove": _("removed a guest from an activity"),
    "activity.register": _("registered someone for an activity"),
    "activity.unregister": _("cancelled a registration"),
    "activity.promote": _("moved people up from a waitlist"),
    "activity.fee": _("changed a fee status"),
    "activity.check_in": _("checked someone in"),
    "activity.attendance_import": _("imported an attendance file"),
    "ritual.create": _("created a ritual"),
    "ritual.update": _("changed a ritual"),
    "ritual.generate": _("generated a ritual's occurrences"),
    "import.queue": _("queued an import"),
    "points.award": _("awarded points over the events"),
    "points.levels": _("changed the levels"),
    "points.manual": _("awarded or deducted points by hand"),
    "points.preset": _("applied a points preset"),
    "points.reverse": _("reversed a points entry"),
    "points.rule.create": _("created a points rule"),
    "points.rule.update": _("changed a points rule"),
    "points.rule.delete": _("deleted a points rule"),
    "points.rules.import": _("imported points rules"),
    "tiers.update_policy": _("changed the tier thresholds"),
    "diagnosis.create": _("diagnosed a period"),
    "diagnosis.replace": _("diagnosed a period again"),
    "diagnosis.delete": _("deleted a kept diagnosis"),
    "goal.create": _("created a goal"),
    "goal.update": _("changed a goal"),
    "goal.delete": _("deleted a goal"),
    "goal.publish": _("opened a goal's public page"),
    "goal.unpublish": _("closed a goal's public page"),
    "onboarding.template": _("edited the onboarding message"),
    "onboarding.template_reset": _("reset the onboarding message"),
    "onboarding.mark": _("marked members as onboarded"),
    "onboarding.unmark": _("marked a member as not onboarded"),
    "testimonial.create": _("recorded a testimonial"),
    "testimonial.update": _("changed a testimonial"),
    "testimonial.delete": _("deleted a testimonial"),
    "testimonial.publish": _("published a testimonial"),
    "testimonial.unpublish": _("unpublished a testimonial"),
    "charter.publish": _("published a charter version"),
    "charter.acknowledge": _("recorded a charter acknowledgement"),
    "charter.acknowledgements_import": _("imported charter acknowledgements"),
    "charter.rule.create": _("created a charter rule"),
    "charter.rule.update": _("changed a charter rule"),
    "charter.rule.enable": _("switched a charter rule on"),
    "charter.rule.disable": _("switched a charter rule off"),
    "charter.rule.delete": _("deleted a charter rule"),
    "charter.check": _("checked events against the charter"),
    "charter.report": _("reported a charter violation"),
    "charter.decide": _("decided a charter violation"),
    "charter.mute": _("acted on a mute recommendation"),
    "exchange.post": _("posted a need or an offer"),
    "exchange.post_update": _("changed a need or an offer"),
    "exchange.connect": _("confirmed an introduction"),
    "exchange.dismiss": _("dismissed a suggested pair"),
    "exchange.outcome": _("recorded a connection's outcome"),
    "exchange.settings": _("changed the exchange settings"),
    "exchange.public_form_open": _("opened the public needs-and-offers form"),
    "exchange.public_form_close": _("closed the public needs-and-offers form"),
    "commerce.offer.create": _("created an offer for sale"),
    "commerce.offer.update": _("changed an offer for sale"),
    "commerce.purchase.record": _("recorded a purchase"),
    "commerce.purchase.refund": _("refunded a purchase"),
    "commerce.purchases.import": _("imported an order file"),
    "commerce.tickets.import": _("imported paid activity registrations"),
    "commerce.cost.add": _("recorded a cost"),
    "commerce.cost.delete": _("deleted a cost"),
}

# The part of an action before the dot, offered as a filter on the audit page.
ACTION_GROUPS: dict[str, Promise] = {
    "import": _("imports"),
    "member": _("members"),
    "identity_mapping": _("identity mappings"),
    "suggestion": _("merge suggestions"),
    "access": _("access"),
    "account": _("accounts"),
    "community": _("community profile"),
    "token": _("API tokens"),
    "activity": _("activities"),
    "ritual": _("rituals"),
    "points": _("points"),
    "tiers": _("tiers"),
    "diagnosis": _("diagnoses"),
    "goal": _("goals"),
    "onboarding": _("onboarding"),
    "testimonial": _("testimonials"),
    "charter": _("charter"),
    "exchange": _("needs and offers"),
    "commerce": _("business"),
}

# ``target_type`` is the model name of what was changed.
TARGET_LABELS: dict[str, Promise] = {
    "community": _("community"),
    "communityaccess": _("access"),
    "invitation": _("invitation"),
    "importrun": _("import"),
    "member": _("member"),
    "user": _("account"),
    "apitoken": _("API token"),
    "mergesuggestion": _("merge suggestion"),
    "activity": _("activity"),
    "registration": _("registration"),
    "ritual": _("ritual"),
}

DETAIL_TEXT_LIMIT = 80


@dataclass(frozen=True)
class AuditLine:
    """One entry as people read it."""

    entry: AuditEntry
    action_label: str | Promise
    target_label: str | Promise
    details: str


def audit_log(
    community: Any, *, action_group: str = "", actor_label: str = ""
) -> QuerySet[AuditEntry]:
    """The community's entries, newest first, optionally one action group and one account.

    Accounts are matched by the label recorded with the entry (the username at the time, or
    ``cli:<user>``), so the command line and deleted accounts can be filtered too.
    """
    entries = AuditEntry.objects.filter(community=community)
    if action_group:
        entries = entries.filter(action__startswith=f"{action_group}.")
    if actor_label:
        entries = entries.filter(actor_label=actor_label)
    return entries.order_by("-created_at", "-id")


def latest_entries(community: Any, limit: int = 10) -> list[AuditEntry]:
    """The newest entries, for the settings page's summary."""
    return list(audit_log(community)[:limit])


def audit_actor_labels(community: Any) -> list[str]:
    """Everyone who appears in the community's log, for the account filter."""
    return list(
        AuditEntry.objects.filter(community=community)
        .exclude(actor_label="")
        .order_by("actor_label")
        .values_list("actor_label", flat=True)
        .distinct()
    )


def action_group_choices(community: Any) -> list[tuple[str, str | Promise]]:
    """The known groups plus any other prefix found in the community's log."""
    found = set(
        AuditEntry.objects.filter(community=community)
        .order_by()
        .values_list("action", flat=True)
        .distinct()
    )
    groups = dict(ACTION_GROUPS)
    for action in sorted(found):
        prefix = action.split(".", 1)[0]
        groups.setdefault(prefix, prefix)
    return list(groups.items())


def describe_action(action: str) -> str | Promise:
    """The action in words; an action nobody labelled yet is shown as recorded."""
    return ACTION_LABELS.get(action, action)


def describe_target(entry: AuditEntry) -> str | Promise:
    """What was changed, e.g. 'member #12' (the target may no longer exist)."""
    if not entry.target_type:
        return ""
    label = TARGET_LABELS.get(entry.target_type, entry.target_type)
    return f"{label} #{entry.target_id}" if entry.target_id else label


def _short(value: Any) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{key}: {_short(item)}" for key, item in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(_short(item) for item in value) or "—"
    elif value is None or value == "":
        text = "—"
    else:
        text = str(value)
    text = " ".join(text.split())
    if len(text) > DETAIL_TEXT_LIMIT:
        text = text[: DETAIL_TEXT_LIMIT - 1] + "…"
    return text


def describe_details(details: Any) -> str:
    """``key: value`` pairs on one line; a before/after pair becomes ``field: old → new``."""
    if not isinstance(details, dict):
        return _short(details)
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) and isinstance(after, dict) and len(details) == 2:
        return " · ".join(
            f"{field}: {_short(before.get(field))} → {_short(value)}"
            for field, value in after.items()
        )
    return " · ".join(f"{key}: {_short(value)}" for key, value in details.items())


def describe_entries(entries: Any) -> list[AuditLine]:
    """Entries as people read them (no queries: everything needed is on the entry)."""
    return [
        AuditLine(
            entry=entry,
            action_label=describe_action(entry.action),
            target_label=describe_target(entry),
            details=describe_details(entry.details),
        )
        for entry in entries
    ]
