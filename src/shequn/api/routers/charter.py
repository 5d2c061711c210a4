"""/communities/{slug}/charter: the charter (社群公约) — its text in versions and who acknowledged
them, machine rules and their dry run, checks, the appealable violation log, mute
recommendations and rewards. Everyone with access reads; operators write. Refusals answer 422
naming every field at fault, and change nothing."""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem, problem
from shequn.api.pagination import Page
from shequn.api.routers.activities.schemas import MAX_ID, Strict, path_id
from shequn.charter.detectors import detector_for
from shequn.charter.dry_run import DRY_RUN_DAYS, MAX_DAYS
from shequn.charter.models import (
    Acknowledgement,
    CharterRule,
    CharterVersion,
    Consequence,
    Reward,
    Via,
    Violation,
)
from shequn.charter.selectors import (
    ViolationFilters,
    charter_status,
    charter_versions,
    community_rules,
    current_charter,
    dry_run,
    mute_recommendations,
    rewards,
    rule_kinds,
    version_acknowledgements,
    violations,
)
from shequn.charter.services import (
    CharterError,
    do_acknowledge,
    do_act_on_mute,
    do_check,
    do_decide_violation,
    do_delete_rule,
    do_import_acknowledgements,
    do_publish_charter,
    do_report_violation,
    do_save_rule,
    rule_values,
)
from shequn.charter.validation import MAX_NOTE, MAX_POINTS, MAX_TEXT
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

router = Router(tags=["charter"])

STATUSES = "|".join(Violation.Status.values)
VIOLATION_CONSEQUENCES = "|".join(c for c in Consequence.values if c != Consequence.REWARD)


# ---------------------------------------------------------------------------- schemas
class StatusOut(Schema):
    has_text: bool
    version: int | None
    acknowledged: int
    rules_enabled: int
    violations_30d: int
    decided_30d: int
    open_violations: int


class CharterOut(Schema):
    version: int | None
    text: str | None
    note: str
    published_at: dt.datetime | None
    status: StatusOut


class VersionIn(Strict):
    text: str = Field(..., max_length=MAX_TEXT)
    note: str = Field("", max_length=500)


class VersionOut(Schema):
    id: int
    number: int
    text: str
    note: str
    published_at: dt.datetime
    acknowledged: int


class AcknowledgementIn(Strict):
    member_id: int = Field(..., ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=1_000_000, description="Default: the current one.")
    via: str = Field(Via.OPERATOR.value, max_length=16, description=", ".join(Via.values))
    acknowledged_at: dt.datetime | None = Field(
        None, description="Default: now; without an offset, local to the community."
    )


class AcknowledgementOut(Schema):
    id: int
    member_id: int
    display_name: str
    version: int
    via: str
    acknowledged_at: dt.datetime


class AcknowledgementFilters(Schema):
    version: int | None = Field(None, ge=1, le=1_000_000, description="Default: the current one.")


class AcknowledgementsImportIn(Strict):
    csv: str = Field(
        ...,
        max_length=10_000_000,
        description="CSV text: member (id, key, name or handle), optionally acknowledged_at, via.",
    )
    version: int | None = Field(None, ge=1, le=1_000_000, description="Default: the current one.")


class AcknowledgementsImportOut(Schema):
    version: int
    rows: int
    created: int
    already: int


class RuleOut(Schema):
    id: int
    key: str
    name: str
    description: str
    kind: str
    params: dict[str, Any]
    consequence: str
    points: int
    enabled: bool
    exempt_staff: bool
    exempt_bots: bool
    applies_from: dt.date | None
    checked_at: dt.datetime | None
    violations: int = Field(description="Open or upheld violations in the log.")
    open_violations: int
    rewards: int


class ParamOut(Schema):
    name: str
    type: str
    default: Any
    help: str
    minimum: int | None
    maximum: int | None


class KindOut(Schema):
    kind: str
    label: str
    help: str
    reward: bool
    automatic: bool
    params: list[ParamOut]


class DryRunIn(Strict):
    kind: str = Field(..., max_length=32)
    params: dict[str, Any] = Field(default_factory=dict)
    consequence: str = Field("", max_length=16)
    points: int = Field(0, ge=0, le=MAX_POINTS)
    exempt_staff: bool = True
    exempt_bots: bool = True
    days: int = Field(DRY_RUN_DAYS, ge=1, le=MAX_DAYS)
    rule_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The rule being changed: its recorded findings count."
    )


class DryRunMemberOut(Schema):
    member_id: int
    display_name: str
    count: int
    points: int


class DryRunExampleOut(Schema):
    member_id: int
    display_name: str
    occurred_at: dt.datetime
    event_id: int | None
    text: str
    why: str
    recorded: bool


class DryRunOut(Schema):
    kind: str
    reward: bool
    automatic: bool
    start: dt.datetime
    end: dt.datetime
    days: int
    total: int
    members_total: int
    points: int
    already_recorded: int
    members: list[DryRunMemberOut]
    examples: list[DryRunExampleOut]


class CheckIn(Strict):
    full: bool = Field(False, description="Judge every event from each rule's start day again.")


class RuleOutcomeOut(Schema):
    key: str
    violations: int
    rewards: int
    points: int


class CheckOut(Schema):
    full: bool
    watermark: int
    violations: int
    rewards: int
    points_taken: int
    points_given: int
    rules: list[RuleOutcomeOut]


class ViolationOut(Schema):
    id: int
    rule_id: int
    rule_key: str
    kind: str
    member_id: int
    display_name: str
    event_id: int | None
    occurred_at: dt.datetime
    window_end: dt.datetime | None
    why: str
    detail: dict[str, Any]
    consequence: str
    points: int
    status: str
    note: str
    decided_at: dt.datetime | None
    decision_note: str
    penalty_entry_id: int | None
    reversal_entry_id: int | None
    mute_action: str


class ViolationQuery(Schema):
    status: str = Field("", pattern=f"^({STATUSES})?$")
    rule_id: int | None = Field(None, ge=1, le=MAX_ID)
    member_id: int | None = Field(None, ge=1, le=MAX_ID)
    consequence: str = Field("", pattern=f"^({VIOLATION_CONSEQUENCES})?$")


class ReportIn(Strict):
    rule_id: int = Field(..., ge=1, le=MAX_ID)
    member_id: int = Field(..., ge=1, le=MAX_ID)
    event_id: int | None = Field(None, ge=1, le=MAX_ID, description="The message, if any.")
    note: str = Field(..., max_length=MAX_NOTE, description="What happened.")


class DecisionIn(Strict):
    decision: str = Field(..., max_length=16, description="upheld or overturned")
    note: str = Field("", max_length=MAX_NOTE, description="Required to overturn.")


class MuteOut(Schema):
    member_id: int
    display_name: str
    violations: int
    latest_at: dt.datetime
    rules: list[str]


class MuteActIn(Strict):
    action: str = Field(..., max_length=16, description="muted or dismissed")
    note: str = Field("", max_length=MAX_NOTE)


class MuteActOut(Schema):
    closed: int


class RewardOut(Schema):
    id: int
    rule_id: int
    rule_key: str
    member_id: int
    display_name: str
    event_id: int | None
    occurred_at: dt.datetime
    points: int
    why: str
    entry_id: int | None


# ---------------------------------------------------------------------------- helpers
def refused(request: HttpRequest, error: CharterError) -> HttpResponse:
    """422 problem details naming every field at fault; nothing was written."""
    from shequn.api.api import api

    errors = [
        {"loc": ["body", *field.split(".")] if field else ["body"], "msg": message}
        for field, message in error.problems.items()
    ]
    return problem(api, request, 422, _("Refused"), str(error), errors)


def _member(community: Community, member_id: int) -> Member:
    return get_object_or_404(Member, community=community, pk=member_id)


def _rule(community: Community, rule_id: int) -> CharterRule:
    rule = get_object_or_404(CharterRule, community=community, pk=rule_id)
    rule.community = community
    return rule


def _version_out(version: CharterVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "number": version.number,
        "text": version.text,
        "note": version.note,
        "published_at": version.published_at,
        "acknowledged": (
            version.acknowledged
            if hasattr(version, "acknowledged")
            else version.acknowledgements.count()
        ),
    }


def _ack_out(ack: Acknowledgement) -> dict[str, Any]:
    return {
        "id": ack.pk,
        "member_id": ack.member_id,
        "display_name": ack.member.display_name,
        "version": ack.version.number,
        "via": ack.via,
        "acknowledged_at": ack.acknowledged_at,
    }


def _rule_out(rule: CharterRule) -> dict[str, Any]:
    if not hasattr(rule, "violations_counted"):
        rule = community_rules(rule.community).get(pk=rule.pk)
    return {
        "id": rule.pk,
        **rule_values(rule),
        "checked_at": rule.checked_at,
        "violations": rule.violations_counted,
        "open_violations": rule.violations_open,
        "rewards": rule.rewards_given,
    }


def _why(rule: CharterRule, detail: dict[str, Any]) -> str:
    detector = detector_for(rule.kind)
    return detector.describe(detail) if detector is not None else ""


def _violation_out(violation: Violation) -> dict[str, Any]:
    return {
        "id": violation.pk,
        "rule_id": violation.rule_id,
        "rule_key": violation.rule.key,
        "kind": violation.rule.kind,
        "member_id": violation.member_id,
        "display_name": violation.member.display_name,
        "event_id": violation.event_id,
        "occurred_at": violation.occurred_at,
        "window_end": violation.window_end,
        "why": _why(violation.rule, violation.detail),
        "detail": violation.detail,
        "consequence": violation.consequence,
        "points": violation.points,
        "status": violation.status,
        "note": violation.note,
        "decided_at": violation.decided_at,
        "decision_note": violation.decision_note,
        "penalty_entry_id": violation.penalty_entry_id,
        "reversal_entry_id": violation.reversal_entry_id,
        "mute_action": violation.mute_action,
    }


def _reward_out(reward: Reward) -> dict[str, Any]:
    return {
        "id": reward.pk,
        "rule_id": reward.rule_id,
        "rule_key": reward.rule.key,
        "member_id": reward.member_id,
        "display_name": reward.member.display_name,
        "event_id": reward.event_id,
        "occurred_at": reward.occurred_at,
        "points": reward.points,
        "why": _why(reward.rule, reward.detail),
        "entry_id": reward.entry_id,
    }


def _violation(community: Community, violation_id: int) -> Violation:
    return get_object_or_404(violations(community), pk=violation_id)


# ------------------------------------------------------------------------------- text
@router.get(
    "/communities/{slug}/charter",
    response={200: CharterOut, 404: Problem},
    summary="The current charter text and whether the charter is enforced",
)
def get_charter(request: HttpRequest, slug: str) -> dict[str, Any]:
    community = community_or_404(request, slug)
    version = current_charter(community)
    return {
        "version": version.number if version else None,
        "text": version.text if version else None,
        "note": version.note if version else "",
        "published_at": version.published_at if version else None,
        "status": charter_status(community),
    }


@router.get(
    "/communities/{slug}/charter/versions",
    response={200: list[VersionOut], 404: Problem},
    summary="Every version of the charter, newest first",
)
def list_versions(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [_version_out(version) for version in charter_versions(community)]


@router.post(
    "/communities/{slug}/charter/versions",
    response={201: VersionOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Publish a new version of the charter (operators)",
)
def publish(request: HttpRequest, slug: str, payload: VersionIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        version = do_publish_charter(community, payload.text, request.user, note=payload.note)
    except CharterError as exc:
        return refused(request, exc)
    return Status(201, _version_out(version))


@router.get(
    "/communities/{slug}/charter/versions/{charter_version_id}",
    response={200: VersionOut, 404: Problem},
    summary="One version of the charter",
)
def get_version(
    request: HttpRequest, slug: str, charter_version_id: int = path_id("The version's id.")
) -> dict[str, Any]:
    community = community_or_404(request, slug)
    return _version_out(get_object_or_404(charter_versions(community), pk=charter_version_id))


@router.get(
    "/communities/{slug}/charter/acknowledgements",
    response={200: list[AcknowledgementOut], 404: Problem},
    summary="Who acknowledged a version (default: the current one), latest first",
)
@paginate(Page)
def list_acknowledgements(  # type: ignore[no-untyped-def]
    request: HttpRequest, slug: str, filters: Query[AcknowledgementFilters]
):
    community = community_or_404(request, slug)
    if filters.version is None:
        version = current_charter(community)
    else:
        version = CharterVersion.objects.filter(community=community, number=filters.version).first()
    if version is None:
        return []
    return _Mapped(version_acknowledgements(version), _ack_out)


@router.post(
    "/communities/{slug}/charter/acknowledgements",
    response={201: AcknowledgementOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Record that a member acknowledged the charter (operators)",
)
def acknowledge(request: HttpRequest, slug: str, payload: AcknowledgementIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    member = _member(community, payload.member_id)
    try:
        ack = do_acknowledge(
            member, payload.version, payload.via, request.user, at=payload.acknowledged_at
        )
    except CharterError as exc:
        return refused(request, exc)
    return Status(201, _ack_out(ack))


@router.post(
    "/communities/{slug}/charter/acknowledgements/import",
    response={200: AcknowledgementsImportOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Import acknowledgements from CSV text, all or nothing (operators)",
)
def import_acknowledgements(
    request: HttpRequest, slug: str, payload: AcknowledgementsImportIn
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        result = do_import_acknowledgements(
            community, payload.csv, version=payload.version, actor=request.user, source="csv"
        )
    except CharterError as exc:
        return refused(request, exc)
    return result.__dict__


# ------------------------------------------------------------------------------ rules
@router.get(
    "/communities/{slug}/charter/kinds",
    response={200: list[KindOut], 404: Problem},
    summary="The kinds of rules and their parameters",
)
def list_kinds(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community_or_404(request, slug)
    return rule_kinds()


@router.get(
    "/communities/{slug}/charter/rules",
    response={200: list[RuleOut], 404: Problem},
    summary="The charter's machine rules, switched-on first",
)
def list_rules(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [_rule_out(rule) for rule in community_rules(community)]


@router.post(
    "/communities/{slug}/charter/rules",
    response={201: RuleOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Add a rule (operators); it starts switched off and judges from today unless told",
)
def create_rule(request: HttpRequest, slug: str, payload: dict[str, Any] = Body(...)) -> Any:  # noqa: B008
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        rule = do_save_rule(community, payload, actor=request.user)
    except CharterError as exc:
        return refused(request, exc)
    return Status(201, _rule_out(rule))


@router.get(
    "/communities/{slug}/charter/rules/{charter_rule_id}",
    response={200: RuleOut, 404: Problem},
    summary="One rule",
)
def get_rule(
    request: HttpRequest, slug: str, charter_rule_id: int = path_id("The rule's id.")
) -> dict[str, Any]:
    return _rule_out(_rule(community_or_404(request, slug), charter_rule_id))


@router.patch(
    "/communities/{slug}/charter/rules/{charter_rule_id}",
    response={200: RuleOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change a rule or switch it on or off (operators); params are merged",
)
def patch_rule(
    request: HttpRequest,
    slug: str,
    charter_rule_id: int = path_id("The rule's id."),
    payload: dict[str, Any] = Body(...),  # noqa: B008
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    rule = _rule(community, charter_rule_id)
    try:
        rule = do_save_rule(community, payload, actor=request.user, rule=rule)
    except CharterError as exc:
        return refused(request, exc)
    return _rule_out(rule)


@router.delete(
    "/communities/{slug}/charter/rules/{charter_rule_id}",
    response={204: None, 403: Problem, 404: Problem, 422: Problem},
    summary="Delete a rule that never fired (operators); switch the others off",
)
def delete_rule(
    request: HttpRequest, slug: str, charter_rule_id: int = path_id("The rule's id.")
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        do_delete_rule(_rule(community, charter_rule_id), actor=request.user)
    except CharterError as exc:
        return refused(request, exc)
    return Status(204, None)


@router.post(
    "/communities/{slug}/charter/dry-run",
    response={200: DryRunOut, 403: Problem, 404: Problem, 422: Problem},
    summary="What a rule would have flagged over the last days of data; writes nothing",
)
def post_dry_run(request: HttpRequest, slug: str, payload: DryRunIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    rule = _rule(community, payload.rule_id) if payload.rule_id else None
    values = payload.dict(exclude={"days", "rule_id"})
    try:
        result = dry_run(community, values, payload.days, rule=rule)
    except CharterError as exc:
        return refused(request, exc)
    return {
        **result.__dict__,
        "members": [row.__dict__ for row in result.members],
        "examples": [row.__dict__ for row in result.examples],
    }


@router.post(
    "/communities/{slug}/charter/check",
    response={200: CheckOut, 403: Problem, 404: Problem},
    summary="Run the switched-on rules over the events they have not judged (operators)",
)
def post_check(request: HttpRequest, slug: str, payload: CheckIn) -> dict[str, Any]:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    result = do_check(community, full=payload.full, actor=request.user)
    return {
        "full": result.full,
        "watermark": result.watermark,
        "violations": result.violations,
        "rewards": result.rewards,
        "points_taken": result.points_taken,
        "points_given": result.points_given,
        "rules": [outcome.__dict__ for outcome in result.rules],
    }


# ------------------------------------------------------------------------- violations
@router.get(
    "/communities/{slug}/charter/violations",
    response={200: list[ViolationOut], 404: Problem},
    summary="The violation log, newest first (filter by status, rule, member, consequence)",
)
@paginate(Page)
def list_violations(  # type: ignore[no-untyped-def]
    request: HttpRequest, slug: str, filters: Query[ViolationQuery]
):
    community = community_or_404(request, slug)
    rows = violations(
        community,
        ViolationFilters(
            status=filters.status,
            rule_id=filters.rule_id,
            member_id=filters.member_id,
            consequence=filters.consequence,
        ),
    )
    return _Mapped(rows, _violation_out)


@router.post(
    "/communities/{slug}/charter/violations",
    response={201: ViolationOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Report a violation no machine sees (operators); its consequence applies",
)
def report(request: HttpRequest, slug: str, payload: ReportIn) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    rule = _rule(community, payload.rule_id)
    member = _member(community, payload.member_id)
    event = None
    if payload.event_id is not None:
        event = get_object_or_404(InteractionEvent, community=community, pk=payload.event_id)
    try:
        violation = do_report_violation(rule, member, event, payload.note, actor=request.user)
    except CharterError as exc:
        return refused(request, exc)
    return Status(201, _violation_out(_violation(community, violation.pk)))


@router.get(
    "/communities/{slug}/charter/violations/{violation_id}",
    response={200: ViolationOut, 404: Problem},
    summary="One violation",
)
def get_violation(
    request: HttpRequest, slug: str, violation_id: int = path_id("The violation's id.")
) -> dict[str, Any]:
    return _violation_out(_violation(community_or_404(request, slug), violation_id))


@router.post(
    "/communities/{slug}/charter/violations/{violation_id}/decision",
    response={200: ViolationOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Decide an appeal: upheld, or overturned (its penalty is reversed; operators)",
)
def decide(
    request: HttpRequest,
    slug: str,
    payload: DecisionIn,
    violation_id: int = path_id("The violation's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    violation = _violation(community, violation_id)
    try:
        do_decide_violation(violation, payload.decision, payload.note, actor=request.user)
    except CharterError as exc:
        return refused(request, exc)
    return _violation_out(_violation(community, violation_id))


@router.get(
    "/communities/{slug}/charter/mute-recommendations",
    response={200: list[MuteOut], 404: Problem},
    summary="Members with waiting mute recommendations, the most flagged first",
)
def list_mutes(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    community = community_or_404(request, slug)
    return [
        {
            "member_id": item.member.pk,
            "display_name": item.member.display_name,
            "violations": item.violations,
            "latest_at": item.latest_at,
            "rules": item.rules,
        }
        for item in mute_recommendations(community)
    ]


@router.post(
    "/communities/{slug}/charter/mute-recommendations/{member_id}",
    response={200: MuteActOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Close a member's mute recommendations: muted, or dismissed (operators)",
)
def act_on_mute(
    request: HttpRequest,
    slug: str,
    payload: MuteActIn,
    member_id: int = path_id("The member's id."),
) -> Any:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    member = _member(community, member_id)
    try:
        closed = do_act_on_mute(member, payload.action, payload.note, actor=request.user)
    except CharterError as exc:
        return refused(request, exc)
    return {"closed": closed}


@router.get(
    "/communities/{slug}/charter/rewards",
    response={200: list[RewardOut], 404: Problem},
    summary="Points reward rules gave, newest first",
)
@paginate(Page)
def list_rewards(request: HttpRequest, slug: str):  # type: ignore[no-untyped-def]
    return _Mapped(rewards(community_or_404(request, slug)), _reward_out)


class _Mapped:
    """A queryset whose page items are serialised on the way out (count stays a COUNT)."""

    def __init__(self, rows: Any, convert: Any) -> None:
        self.rows, self.convert = rows, convert

    def __len__(self) -> int:
        return self.rows.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return [self.convert(row) for row in self.rows[window]]
