"""Read queries on the charter: its text and versions, who acknowledged them, the rules, the
violation log and its figures, mute recommendations, rewards, and the dry run.

``current_charter_text``, ``violation_count`` and ``charter_status`` are contracts other parts
of shequn code against (onboarding, the diagnosis and its audit's iron rule 6).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from shequn.charter.detectors import KINDS, REGISTRY
from shequn.charter.dry_run import DRY_RUN_DAYS, DryRun, data_end, dry_run
from shequn.charter.models import (
    Acknowledgement,
    CharterRule,
    CharterVersion,
    Consequence,
    Reward,
    Violation,
)
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member
from shequn.members.selectors import get_member

__all__ = [
    "DRY_RUN_DAYS",
    "DryRun",
    "charter_in_force",
    "charter_status",
    "current_charter",
    "current_charter_text",
    "data_end",
    "dry_run",
    "violation_count",
]

STATUS_DAYS = 30
COUNTED = (Violation.Status.OPEN, Violation.Status.UPHELD)


# ------------------------------------------------------------------------------- text
def current_charter(community: Community) -> CharterVersion | None:
    """The latest published version, or None when the charter has no text yet."""
    return CharterVersion.objects.filter(community=community).order_by("-number").first()


def current_charter_text(community: Community) -> str | None:
    """The current charter's text (onboarding shows it to newcomers); None without one."""
    version = current_charter(community)
    return version.text if version is not None else None


def charter_versions(community: Community) -> QuerySet[CharterVersion]:
    """Every version, newest first, with how many members acknowledged each."""
    return (
        CharterVersion.objects.filter(community=community)
        .select_related("published_by")
        .annotate(acknowledged=Count("acknowledgements"))
        .order_by("-number")
    )


def version_acknowledgements(version: CharterVersion) -> QuerySet[Acknowledgement]:
    return (
        Acknowledgement.objects.filter(version=version)
        .select_related("member", "recorded_by")
        .order_by("-acknowledged_at", "-id")
    )


def members_to_acknowledge(community: Community, version: CharterVersion) -> QuerySet[Member]:
    """Members still in the community (not left or muted, not bots) who have not acknowledged
    ``version``, the most recently active first: whom to ask next."""
    done = Acknowledgement.objects.filter(version=version).values("member_id")
    return (
        Member.objects.filter(
            community=community, is_bot=False, left_at__isnull=True, muted_at__isnull=True
        )
        .exclude(pk__in=done)
        .order_by("-last_active_on", "display_name", "id")
    )


def find_member(community: Community, text: str) -> Member:
    """The member an operator typed: a member key (any case), an id, or an exact display name,
    handle or platform user id. Raises ``MemberNotFound`` or ``AmbiguousMember``."""
    value = str(text).strip()
    if value:
        by_key = Member.objects.filter(community=community, key__iexact=value).first()
        if by_key is not None:
            return by_key
    return get_member(community, value)


def member_acknowledged(member: Member) -> CharterVersion | None:
    """The latest version ``member`` acknowledged (compare with ``current_charter``)."""
    found = (
        Acknowledgement.objects.filter(member=member)
        .select_related("version")
        .order_by("-version__number")
        .first()
    )
    return found.version if found is not None else None


# ------------------------------------------------------------------------------ rules
def community_rules(community: Community) -> QuerySet[CharterRule]:
    """The rules, with their counts of violations (not overturned), open ones and rewards."""
    return (
        CharterRule.objects.filter(community=community)
        .annotate(
            violations_counted=Count(
                "violations", filter=Q(violations__status__in=COUNTED), distinct=True
            ),
            violations_open=Count(
                "violations",
                filter=Q(violations__status=Violation.Status.OPEN),
                distinct=True,
            ),
            rewards_given=Count("rewards", distinct=True),
        )
        .order_by("-enabled", "key")
    )


def rule_kinds() -> list[dict[str, Any]]:
    """Every rule kind with its parameters (name, type, default, help), for forms and docs."""
    return [
        {
            "kind": kind,
            "label": str(REGISTRY[kind].label),
            "help": str(REGISTRY[kind].help_text),
            "reward": REGISTRY[kind].reward,
            "automatic": REGISTRY[kind].automatic,
            "params": [
                {
                    "name": param.name,
                    "type": param.kind,
                    "default": param.default,
                    "help": str(param.help_text),
                    "minimum": param.minimum,
                    "maximum": param.maximum,
                }
                for param in REGISTRY[kind].params
            ],
        }
        for kind in KINDS
    ]


# ------------------------------------------------------------------------- violations
def violation_count(community: Community, start: dt.datetime, end: dt.datetime) -> int:
    """Violations (open or upheld; overturned ones were mistakes) of automatic and reported
    rules that occurred in [start, end) — the diagnosis's charter violations per 100 active
    members."""
    return Violation.objects.filter(
        community=community, status__in=COUNTED, occurred_at__gte=start, occurred_at__lt=end
    ).count()


def charter_in_force(community: Community) -> bool:
    """Whether violations are being recorded at all — a rule switched on, or any violation in
    the log — so that "no violations" means none happened, not that nobody looked."""
    return (
        CharterRule.objects.filter(community=community, enabled=True).exists()
        or Violation.objects.filter(community=community).exists()
    )


def charter_status(community: Community, *, end: dt.datetime | None = None) -> dict[str, Any]:
    """Whether a charter exists and is enforced (the audit's iron rule 6): its text and
    version, how many members acknowledged the current version, rules switched on, violations
    in the 30 days before ``end`` (default now; pass the diagnosis period's end for imported
    history), violations decided in those days, and those still open."""
    end = end or timezone.now()
    start = end - dt.timedelta(days=STATUS_DAYS)
    version = current_charter(community)
    decided = Violation.objects.filter(
        community=community, decided_at__gte=start, decided_at__lt=end
    ).count()
    return {
        "has_text": version is not None,
        "version": version.number if version is not None else None,
        "acknowledged": version.acknowledgements.count() if version is not None else 0,
        "rules_enabled": CharterRule.objects.filter(community=community, enabled=True).count(),
        "violations_30d": violation_count(community, start, end),
        "decided_30d": decided,
        "open_violations": Violation.objects.filter(
            community=community, status=Violation.Status.OPEN
        ).count(),
    }


@dataclass
class ViolationFilters:
    status: str = ""
    rule_id: int | None = None
    member_id: int | None = None
    consequence: str = ""
    kind: str = ""


def violations(community: Community, filters: ViolationFilters | None = None) -> QuerySet:
    """The log, newest first, filtered."""
    filters = filters or ViolationFilters()
    rows = Violation.objects.filter(community=community).select_related(
        "rule", "member", "event", "decided_by", "reported_by", "penalty_entry", "reversal_entry"
    )
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.rule_id:
        rows = rows.filter(rule_id=filters.rule_id)
    if filters.member_id:
        rows = rows.filter(member_id=filters.member_id)
    if filters.consequence:
        rows = rows.filter(consequence=filters.consequence)
    if filters.kind:
        rows = rows.filter(rule__kind=filters.kind)
    return rows.order_by("-occurred_at", "-id")


def events_by_reference(community: Community, reference: str) -> list[InteractionEvent]:
    """The events an operator may mean by ``reference``: shequn's event id, or the message id
    the platform's export gave (several when two channels use the same id)."""
    value = str(reference).strip()
    if not value:
        return []
    events = InteractionEvent.objects.filter(community=community)
    if value.isdigit() and len(value) < 19:
        found = events.filter(pk=int(value)).first()
        if found is not None:
            return [found]
    return list(events.filter(source_id=value).order_by("pk")[:5])


def community_violation(community: Community, violation_id: int) -> Violation | None:
    return violations(community).filter(pk=violation_id).first()


@dataclass
class MuteRecommendation:
    """A member some mute-recommending rule flagged, with what is waiting for an operator."""

    member: Member
    violations: int
    latest_at: dt.datetime
    rules: list[str] = field(default_factory=list)


def mute_recommendations(community: Community) -> list[MuteRecommendation]:
    """Members with waiting mute recommendations (not overturned, not acted on), the most
    flagged first."""
    waiting = Violation.objects.filter(
        community=community,
        consequence=Consequence.MUTE,
        mute_action=Violation.MuteAction.NONE,
    ).exclude(status=Violation.Status.OVERTURNED)
    per_member = list(
        waiting.values("member_id")
        .annotate(n=Count("id"), latest=Max("occurred_at"))
        .order_by("-n", "-latest")
    )
    rules: dict[int, set[str]] = {}
    for member_id, key in waiting.values_list("member_id", "rule__key").distinct():
        rules.setdefault(member_id, set()).add(key)
    members = Member.objects.in_bulk([row["member_id"] for row in per_member])
    return [
        MuteRecommendation(
            member=members[row["member_id"]],
            violations=row["n"],
            latest_at=row["latest"],
            rules=sorted(rules.get(row["member_id"], ())),
        )
        for row in per_member
        if row["member_id"] in members
    ]


def member_violations(member: Member) -> QuerySet[Violation]:
    """A member's violations, newest first (warnings included), for their page."""
    return violations(member.community, ViolationFilters(member_id=member.pk))


def violations_by_week(
    community: Community, *, weeks: int = 12, end: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per local week (Monday first) up to ``end`` (default: the latest violation, else now):
    violations that stand (open or upheld) and those overturned — is the charter applied, and
    is it applied well?"""
    zone = community.zoneinfo
    if end is None:
        latest = Violation.objects.filter(community=community).aggregate(at=Max("occurred_at"))
        end = latest["at"] or timezone.now()
    last_day = end.astimezone(zone).date()
    first_monday = last_day - dt.timedelta(days=last_day.weekday() + 7 * (weeks - 1))
    start = dt.datetime.combine(first_monday, dt.time(), zone)
    stop = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone)
    rows = {
        first_monday + dt.timedelta(weeks=n): {"standing": 0, "overturned": 0} for n in range(weeks)
    }
    for occurred_at, status in Violation.objects.filter(
        community=community, occurred_at__gte=start, occurred_at__lt=stop
    ).values_list("occurred_at", "status"):
        day = occurred_at.astimezone(zone).date()
        week = rows[day - dt.timedelta(days=day.weekday())]
        week["overturned" if status == Violation.Status.OVERTURNED else "standing"] += 1
    return [{"week": monday, **counts} for monday, counts in rows.items()]


# ---------------------------------------------------------------------------- rewards
def rewards(community: Community, *, rule_id: int | None = None) -> QuerySet[Reward]:
    rows = Reward.objects.filter(community=community).select_related("rule", "member", "event")
    if rule_id:
        rows = rows.filter(rule_id=rule_id)
    return rows.order_by("-occurred_at", "-id")
