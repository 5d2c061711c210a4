"""The dry run: what a new or changed rule would have flagged (or rewarded) over the last days
of data, before it is switched on. It runs the rule's detector exactly as a check would, over
the ``days`` up to the latest imported event (imported data often ends before today), whatever
the rule's start day — and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.charter.detectors import Scope, detector_for
from shequn.charter.detectors.base import excerpt
from shequn.charter.models import CharterRule, Consequence, Reward, Violation
from shequn.charter.validation import CharterError, clean_rule
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

DRY_RUN_DAYS = 30
MAX_DAYS = 366
EXAMPLES = 10
MEMBERS_SHOWN = 50


@dataclass
class DryRunMember:
    member_id: int
    display_name: str
    count: int
    points: int


@dataclass
class DryRunExample:
    member_id: int
    display_name: str
    occurred_at: dt.datetime
    event_id: int | None
    text: str
    why: str
    recorded: bool


@dataclass
class DryRun:
    """What the rule would have done in [start, end): findings, the members concerned (most
    first), examples, points, and how many of those findings the log already holds."""

    kind: str
    reward: bool
    automatic: bool
    start: dt.datetime
    end: dt.datetime
    days: int
    total: int = 0
    members_total: int = 0
    points: int = 0
    already_recorded: int = 0
    members: list[DryRunMember] = field(default_factory=list)
    examples: list[DryRunExample] = field(default_factory=list)


def data_end(community: Community) -> dt.datetime:
    """Just after the latest imported event (imported history often ends before today), or
    now when there is none: the end of "the last days of data"."""
    latest = InteractionEvent.objects.filter(community=community).aggregate(at=Max("occurred_at"))
    return (latest["at"] or timezone.now()) + dt.timedelta(seconds=1)


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    checked = dict(values)
    if not checked.get("key"):
        checked["key"] = "dry-run"
    checked.setdefault("applies_from", None)
    return clean_rule(checked)


def _days(days: Any) -> int:
    if isinstance(days, str) and days.strip().isdigit():
        days = int(days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise CharterError(_("must be a whole number from 1 to %(n)d") % {"n": MAX_DAYS}, "days")
    return days


def dry_run(
    community: Community,
    rule_values: Mapping[str, Any],
    days: int = DRY_RUN_DAYS,
    *,
    rule: CharterRule | None = None,
) -> DryRun:
    """Run a rule (its values as a form, the API or the command line give them; no key needed)
    over the last ``days`` days of data; writes nothing. With ``rule`` (the rule being
    changed), findings its log already holds are counted as ``already_recorded``."""
    if not isinstance(rule_values, Mapping):
        raise CharterError(_("must be a table of field = value"), "")
    cleaned = _values(rule_values)
    days = _days(days)
    detector = detector_for(cleaned["kind"])
    end = data_end(community)
    start = end - dt.timedelta(days=days)
    result = DryRun(
        kind=cleaned["kind"],
        reward=detector.reward,
        automatic=detector.automatic,
        start=start,
        end=end,
        days=days,
    )
    if not detector.automatic:
        return result
    findings = detector.find(
        Scope(
            community,
            cleaned["params"],
            since=start,
            until=end,
            exempt_staff=cleaned["exempt_staff"],
            exempt_bots=cleaned["exempt_bots"],
        )
    )
    result.total = len(findings)
    each = cleaned["points"]
    if cleaned["consequence"] == Consequence.WARNING:
        each = 0
    result.points = each * len(findings) * (1 if detector.reward else -1)
    if rule is not None and rule.kind == cleaned["kind"]:
        model = Reward if detector.reward else Violation
        keys = [finding.key for finding in findings]
        result.already_recorded = sum(
            model.objects.filter(rule=rule, key__in=keys[at : at + 500]).count()
            for at in range(0, len(keys), 500)
        )
    counts = Counter(finding.member_id for finding in findings)
    result.members_total = len(counts)
    shown = counts.most_common(MEMBERS_SHOWN)
    examples = sorted(findings, key=lambda f: (f.occurred_at, f.key))[-EXAMPLES:][::-1]
    wanted = {member_id for member_id, _n in shown} | {f.member_id for f in examples}
    names = dict(Member.objects.filter(pk__in=wanted).values_list("pk", "display_name"))
    result.members = [
        DryRunMember(member_id, names.get(member_id, "?"), n, n * each) for member_id, n in shown
    ]
    texts = dict(
        InteractionEvent.objects.filter(
            pk__in=[f.event_id for f in examples if f.event_id]
        ).values_list("pk", "text")
    )
    recorded: set[str] = set()
    if rule is not None and rule.kind == cleaned["kind"]:
        model = Reward if detector.reward else Violation
        recorded = set(
            model.objects.filter(rule=rule, key__in=[f.key for f in examples]).values_list(
                "key", flat=True
            )
        )
    result.examples = [
        DryRunExample(
            member_id=finding.member_id,
            display_name=names.get(finding.member_id, "?"),
            occurred_at=finding.occurred_at,
            event_id=finding.event_id,
            text=excerpt(texts.get(finding.event_id)),
            why=detector.describe(finding.detail),
            recorded=finding.key in recorded,
        )
        for finding in examples
    ]
    return result
