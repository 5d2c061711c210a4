"""Running the rules over the events: after each import (``receivers``) and on demand
(``shequn charter check``).

Each rule remembers the last event id it judged (its watermark). A check reads the new events'
time span (one aggregate over the id range), widens it by what the rule needs around them (a
flood the T seconds before, a welcome the newcomer's first days) and runs the rule's detector
over that span only; a rule whose judging changed (switched on, new parameters) has watermark 0
and judges everything from its start day. Findings are keyed per rule, so checking twice, or
importing the same data twice, never records anything twice, and a decided violation (even an
overturned one) is never recorded again.

Consequences: a penalty (or a mute recommendation with points) is taken through the ledger
(``do_keyed_entries``, key ``charter-violation:<id>``); a reward rule gives points
(``charter-reward:<rule>:<event>``). Both carry the rule's ledger key ``charter:<key>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.charter.detectors import Detector, Finding, Scope, detector_for
from shequn.charter.models import CharterRule, Consequence, Reward, Violation
from shequn.charter.services.common import local_midnight, lock_rules
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent
from shequn.rewards.services import KeyedEntry, do_keyed_entries

CHUNK = 500


@dataclass
class RuleOutcome:
    key: str
    violations: int = 0
    rewards: int = 0
    points: int = 0


@dataclass
class CheckResult:
    """What a check did: rules run, violations and rewards recorded, points moved."""

    full: bool = False
    rules: list[RuleOutcome] = field(default_factory=list)
    watermark: int = 0

    @property
    def violations(self) -> int:
        return sum(rule.violations for rule in self.rules)

    @property
    def rewards(self) -> int:
        return sum(rule.rewards for rule in self.rules)

    @property
    def points_taken(self) -> int:
        return sum(rule.points for rule in self.rules if rule.points < 0)

    @property
    def points_given(self) -> int:
        return sum(rule.points for rule in self.rules if rule.points > 0)


def penalty_points(rule: CharterRule) -> int:
    """Points a violation of ``rule`` takes (a warning takes none)."""
    if rule.consequence in (Consequence.PENALTY, Consequence.MUTE):
        return rule.points
    return 0


def violation_reason(rule: CharterRule, detector: Detector | None, detail: dict) -> str:
    said = detector.describe(detail) if detector is not None else ""
    reason = _("Charter rule “%(rule)s”") % {"rule": rule.name or rule.key}
    return f"{reason}: {said}" if said else reason


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _known_keys(model: type[Violation] | type[Reward], rule: CharterRule, keys: list[str]) -> set:
    known: set[str] = set()
    for chunk in _chunks(keys):
        known.update(model.objects.filter(rule=rule, key__in=chunk).values_list("key", flat=True))
    return known


def _continues_recorded(rule: CharterRule, findings: list[Finding], gap: dt.timedelta) -> set:
    """Keys of windowed findings (bursts) that continue a violation already recorded for the
    same member and channel within ``gap``: the same burst seen again from another start."""
    if not findings:
        return set()
    earliest = min(finding.occurred_at for finding in findings) - gap
    recorded: dict[tuple[int, Any], list[tuple[dt.datetime, dt.datetime]]] = {}
    rows = Violation.objects.filter(
        rule=rule,
        member_id__in=sorted({finding.member_id for finding in findings}),
        window_end__gte=earliest,
    ).values_list("member_id", "detail", "occurred_at", "window_end")
    for member_id, detail, start, end in rows:
        channel = (detail or {}).get("channel")
        recorded.setdefault((member_id, channel), []).append((start, end or start))
    overlapping = set()
    for finding in findings:
        end = finding.window_end or finding.occurred_at
        for start_at, end_at in recorded.get(
            (finding.member_id, finding.detail.get("channel")), []
        ):
            if finding.occurred_at <= end_at + gap and end >= start_at - gap:
                overlapping.add(finding.key)
                break
    return overlapping


def record_violations(
    rule: CharterRule, findings: list[Finding], *, actor: Any = None
) -> list[Violation]:
    """Record the findings not recorded yet as open violations and take their penalties."""
    detector = detector_for(rule.kind)
    known = _known_keys(Violation, rule, [finding.key for finding in findings])
    fresh = [finding for finding in findings if finding.key not in known]
    gap = detector.merge_gap(rule.params) if detector is not None else None
    if gap is not None:
        continuing = _continues_recorded(rule, fresh, gap)
        fresh = [finding for finding in fresh if finding.key not in continuing]
    if not fresh:
        return []
    points = penalty_points(rule)
    created = Violation.objects.bulk_create(
        [
            Violation(
                community_id=rule.community_id,
                rule=rule,
                key=finding.key,
                member_id=finding.member_id,
                event_id=finding.event_id,
                occurred_at=finding.occurred_at,
                window_end=finding.window_end,
                detail=finding.detail,
                consequence=rule.consequence,
                points=points,
            )
            for finding in fresh
        ],
        batch_size=CHUNK,
    )
    if points:
        take_penalties(rule, created, actor=actor)
    return created


def take_penalties(rule: CharterRule, violations: list[Violation], *, actor: Any = None) -> None:
    """Take each violation's points through the ledger (once: keyed by the violation), in one
    bulk write however many the check found."""
    detector = detector_for(rule.kind)
    entries = do_keyed_entries(
        rule.community,
        [
            KeyedEntry(
                member_id=violation.member_id,
                amount=-violation.points,
                reason=violation_reason(rule, detector, violation.detail),
                key=f"charter-violation:{violation.pk}",
                rule_key=rule.ledger_key,
                occurred_at=violation.occurred_at,
                source_event_id=violation.event_id,
            )
            for violation in violations
        ],
        actor=actor,
    )
    for violation in violations:
        violation.penalty_entry = entries[f"charter-violation:{violation.pk}"]
    Violation.objects.bulk_update(violations, ["penalty_entry"], batch_size=CHUNK)


def record_rewards(rule: CharterRule, findings: list[Finding], *, actor: Any = None) -> list:
    """Record the findings not rewarded yet and give their points through the ledger."""
    known = _known_keys(Reward, rule, [finding.key for finding in findings])
    fresh = [finding for finding in findings if finding.key not in known]
    if not fresh:
        return []
    created = Reward.objects.bulk_create(
        [
            Reward(
                community_id=rule.community_id,
                rule=rule,
                key=finding.key,
                member_id=finding.member_id,
                event_id=finding.event_id,
                occurred_at=finding.occurred_at,
                detail=finding.detail,
                points=rule.points,
            )
            for finding in fresh
        ],
        batch_size=CHUNK,
    )
    detector = detector_for(rule.kind)
    reason = _("Charter reward “%(rule)s”") % {"rule": rule.name or rule.key}

    def key(reward: Reward) -> str:
        return f"charter-reward:{rule.pk}:{reward.event_id or reward.key}"

    def said(reward: Reward) -> str:
        words = detector.describe(reward.detail) if detector is not None else ""
        return f"{reason}: {words}" if words else reason

    entries = do_keyed_entries(
        rule.community,
        [
            KeyedEntry(
                member_id=reward.member_id,
                amount=reward.points,
                reason=said(reward),
                key=key(reward),
                rule_key=rule.ledger_key,
                occurred_at=reward.occurred_at,
                source_event_id=reward.event_id,
            )
            for reward in created
        ],
        actor=actor,
    )
    for reward in created:
        reward.entry = entries[key(reward)]
    Reward.objects.bulk_update(created, ["entry"], batch_size=CHUNK)
    return created


def judging_scope(rule: CharterRule, detector: Detector, *, after: int, upto: int) -> Scope | None:
    """The moments a rule must judge to cover the events with ids in (after, upto]: all from its
    start day when ``after`` is 0, else the new events' span widened by the detector's margin;
    None when no new event concerns the rule."""
    community = rule.community
    floor = local_midnight(community, rule.applies_from)
    scope = {
        "params": rule.params,
        "exempt_staff": rule.exempt_staff,
        "exempt_bots": rule.exempt_bots,
    }
    if after == 0:
        return Scope(community, since=floor, until=None, **scope)
    span = InteractionEvent.objects.filter(
        community=community, pk__gt=after, pk__lte=upto, kind__in=detector.event_kinds
    ).aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if span["first"] is None:
        return None
    margin = detector.margin(rule.params)
    since = span["first"] - margin
    if floor is not None and floor > since:
        since = floor
    until = span["last"] + margin + dt.timedelta(seconds=1)
    if since >= until:
        return None
    return Scope(community, since=since, until=until, **scope)


def check_rule(
    rule: CharterRule, *, upto: int, full: bool = False, actor: Any = None
) -> RuleOutcome:
    """Judge the events one rule has not judged yet (``full``: all from its start day)."""
    outcome = RuleOutcome(rule.key)
    detector = detector_for(rule.kind)
    after = 0 if full else rule.watermark
    if detector is not None and detector.automatic and after < upto:
        scope = judging_scope(rule, detector, after=after, upto=upto)
        findings = detector.find(scope) if scope is not None else []
        if detector.reward:
            outcome.rewards = len(record_rewards(rule, findings, actor=actor))
            outcome.points = outcome.rewards * rule.points
        else:
            created = record_violations(rule, findings, actor=actor)
            outcome.violations = len(created)
            outcome.points = -sum(violation.points for violation in created)
    rule.watermark = max(rule.watermark, upto)
    rule.checked_at = timezone.now()
    rule.save(update_fields=["watermark", "checked_at"])
    return outcome


@transaction.atomic
def do_check(
    community: Community,
    *,
    full: bool = False,
    actor: Any = None,
    rules: Sequence[CharterRule] | None = None,
) -> CheckResult:
    """Run the community's switched-on automatic rules over the events they have not judged
    (``full``: every event from each rule's start day again; nothing is recorded twice)."""
    result = CheckResult(full=full)
    if rules is None:
        rules = list(CharterRule.objects.filter(community=community, enabled=True).order_by("key"))
    if not rules:
        return result
    lock_rules(community)
    upto = InteractionEvent.objects.filter(community=community).aggregate(top=Max("id"))["top"]
    result.watermark = upto or 0
    for rule in rules:
        detector = detector_for(rule.kind)
        if detector is None or not detector.automatic or not rule.enabled:
            continue
        rule.community = community
        result.rules.append(check_rule(rule, upto=upto or 0, full=full, actor=actor))
    if result.violations or result.rewards:
        audit.record(
            "charter.check",
            community=community,
            actor=actor,
            details={
                "full": full,
                "watermark": result.watermark,
                "rules": {
                    outcome.key: {
                        "violations": outcome.violations,
                        "rewards": outcome.rewards,
                        "points": outcome.points,
                    }
                    for outcome in result.rules
                    if outcome.violations or outcome.rewards
                },
            },
        )
    return result
