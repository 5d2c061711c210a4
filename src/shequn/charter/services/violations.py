"""The appealable log: operators report violations no machine sees, decide appeals (upheld or
overturned — overturning reverses the penalty with a reversing ledger entry) and act on mute
recommendations."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.charter.detectors import detector_for
from shequn.charter.models import CharterRule, Consequence, Violation
from shequn.charter.services.checking import penalty_points, take_penalties
from shequn.charter.services.common import user_of
from shequn.charter.validation import CharterError, clean_text
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member
from shequn.rewards.services import PointsError, do_reverse_entry

DECISIONS = (Violation.Status.UPHELD.value, Violation.Status.OVERTURNED.value)
MUTE_ACTIONS = (Violation.MuteAction.MUTED.value, Violation.MuteAction.DISMISSED.value)


@transaction.atomic
def do_report_violation(
    rule: CharterRule,
    member: Member,
    event: InteractionEvent | None = None,
    note: str = "",
    actor: Any = None,
) -> Violation:
    """Record a violation an operator saw (under any switched-on violation rule, typically one
    of the kind ``reported``), optionally naming the message; its consequence applies as for
    one a machine found. Reporting the same message under the same rule twice is refused."""
    detector = detector_for(rule.kind)
    if member.community_id != rule.community_id:
        raise CharterError(_("must be a member of this community"), "member")
    if detector is None or detector.reward:
        raise CharterError(_("a reward rule records no violations"), "rule")
    if not rule.enabled:
        raise CharterError(
            _("rule %(key)s is switched off; switch it on first") % {"key": rule.key}, "rule"
        )
    text = clean_text(note, "note")
    if event is not None:
        if event.community_id != rule.community_id:
            raise CharterError(_("must be an event of this community"), "event")
        if event.member_id != member.pk:
            raise CharterError(
                _("event #%(id)d was posted by someone else") % {"id": event.pk}, "event"
            )
        key = f"event:{event.pk}"
        existing = Violation.objects.filter(rule=rule, key=key).first()
        if existing is not None:
            raise CharterError(
                _("this message is already violation #%(id)d of this rule") % {"id": existing.pk},
                "event",
            )
    else:
        key = f"report:{uuid.uuid4().hex}"
    violation = Violation.objects.create(
        community_id=rule.community_id,
        rule=rule,
        key=key,
        member=member,
        event=event,
        occurred_at=event.occurred_at if event is not None else timezone.now(),
        detail={"reported": True},
        consequence=rule.consequence,
        points=penalty_points(rule),
        note=text,
        reported_by=user_of(actor),
    )
    if violation.points:
        rule.community = member.community
        take_penalties(rule, [violation], actor=actor)
    audit.record(
        "charter.report",
        community=member.community,
        actor=actor,
        target=violation,
        details={
            "rule": rule.key,
            "member": {"id": member.pk, "display_name": member.display_name},
            "event": event.pk if event is not None else None,
            "consequence": violation.consequence,
            "points": violation.points,
            "note": text,
        },
    )
    return violation


def _locked(violation: Violation) -> Violation:
    """The violation as stored now, locked against a second decision at the same moment."""
    rows = Violation.objects.select_related("rule", "member", "penalty_entry")
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("self",))
    return rows.get(pk=violation.pk)


@transaction.atomic
def do_decide_violation(
    violation: Violation, decision: str, note: str = "", actor: Any = None
) -> Violation:
    """Decide an appeal: ``upheld`` (the violation stands) or ``overturned`` (it was wrong: its
    penalty is reversed by a new, opposite ledger entry). An open or upheld violation can be
    overturned (a later appeal may succeed); an overturned one is final. Overturning needs a
    note saying why, which the ledger's reversal carries."""
    if decision not in DECISIONS:
        raise CharterError(
            _("must be one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(DECISIONS), "value": decision},
            "decision",
        )
    current = _locked(violation)
    text = clean_text(note, "note", required=decision == Violation.Status.OVERTURNED)
    if current.status == Violation.Status.OVERTURNED:
        raise CharterError(
            _("violation #%(id)d was overturned; that decision is final") % {"id": current.pk},
            "decision",
        )
    if current.status == decision:
        raise CharterError(
            _("violation #%(id)d is already %(status)s")
            % {"id": current.pk, "status": current.get_status_display()},
            "decision",
        )
    previous = current.status
    reversal = None
    if decision == Violation.Status.OVERTURNED and current.penalty_entry is not None:
        reason = _("Charter violation #%(id)d overturned: %(note)s") % {
            "id": current.pk,
            "note": text,
        }
        try:
            reversal = do_reverse_entry(current.penalty_entry, reason=reason, actor=actor)
        except PointsError as exc:
            raise CharterError(str(exc), "decision") from None
        current.reversal_entry = reversal
    current.status = decision
    current.decided_at = timezone.now()
    current.decided_by = user_of(actor)
    current.decision_note = text
    current.save(
        update_fields=["status", "decided_at", "decided_by", "decision_note", "reversal_entry"]
    )
    audit.record(
        "charter.decide",
        community=current.member.community,
        actor=actor,
        target=current,
        details={
            "violation": current.pk,
            "rule": current.rule.key,
            "member": {"id": current.member_id, "display_name": current.member.display_name},
            "decision": decision,
            "previous": previous,
            "note": text,
            "reversal": reversal.pk if reversal is not None else None,
            "points_returned": reversal.amount if reversal is not None else 0,
        },
    )
    return current


@transaction.atomic
def do_act_on_mute(member: Member, action: str, note: str = "", actor: Any = None) -> int:
    """Close a member's waiting mute recommendations: ``muted`` (an operator muted them on the
    platform) or ``dismissed`` (no mute); returns how many recommendations it closed."""
    if action not in MUTE_ACTIONS:
        raise CharterError(
            _("must be one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(MUTE_ACTIONS), "value": action},
            "action",
        )
    text = clean_text(note, "note", required=False)
    waiting = Violation.objects.filter(
        member=member, consequence=Consequence.MUTE, mute_action=Violation.MuteAction.NONE
    ).exclude(status=Violation.Status.OVERTURNED)
    ids = list(waiting.values_list("pk", flat=True))
    if not ids:
        raise CharterError(
            _("no mute recommendation is waiting for %(member)s") % {"member": member.display_name},
            "member",
        )
    Violation.objects.filter(pk__in=ids).update(mute_action=action, mute_acted_at=timezone.now())
    audit.record(
        "charter.mute",
        community=member.community,
        actor=actor,
        target=member,
        details={
            "member": {"id": member.pk, "display_name": member.display_name},
            "action": action,
            "violations": ids,
            "note": text,
        },
    )
    return len(ids)
