"""/communities/{slug}/points: earning rules (also as TOML), levels, presets, leaderboards, and
a member's ledger with manual awards, deductions and reversals (operators)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Body, Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.members.models import Member
from shequn.rewards.models import PointEntry, PointRule
from shequn.rewards.rules import RULE_FIELDS, RuleError
from shequn.rewards.selectors import (
    community_rules,
    leaderboard,
    level_ups,
    member_level,
    points_history,
)
from shequn.rewards.services import (
    PointsError,
    do_apply_preset,
    do_award_points,
    do_delete_rule,
    do_import_rules_toml,
    do_manual_entry,
    do_reverse_entry,
    do_save_level_scheme,
    do_save_rule,
    export_rules_toml,
    levels_values,
    preset_names,
    rule_values,
)

router = Router(tags=["points"])


class RuleOut(Schema):
    id: int
    key: str
    name: str
    enabled: bool
    position: int
    event_kind: str
    content_types: list[str]
    match: dict[str, Any]
    target_content_types: list[str]
    target_exclude: dict[str, Any]
    beneficiary: str
    skip_self: str
    amount: int
    amount_from: str
    cooldown_seconds: int
    daily_cap: int
    cap_group: str
    first_time_bonus: int
    min_balance: int | None
    valid_from: dt.date | None
    valid_until: dt.date | None


class AwardOut(Schema):
    full: bool
    events_scanned: int
    entries_created: int
    points_awarded: int
    members_touched: int
    level_ups: int


class RecomputeIn(Schema):
    full: bool = False


class PresetIn(Schema):
    name: str = Field(..., max_length=64)


class LeaderboardRowOut(Schema):
    rank: int
    member_id: int
    display_name: str
    points: int
    balance: int
    level: int
    level_name: str


class LeaderboardOut(Schema):
    period: str
    start: dt.date | None
    end: dt.date
    rows: list[LeaderboardRowOut]


class BoardFilters(Schema):
    period: str = Field("week", pattern="^(week|month|all)$")
    limit: int = Field(20, ge=1, le=200)


class EntryOut(Schema):
    id: int
    amount: int
    kind: str
    rule_key: str
    reason: str
    occurred_at: dt.datetime
    source_event_id: int | None
    reverses_id: int | None
    balance_after: int
    is_reversed: bool


class LevelOut(Schema):
    number: int
    name: str
    points: int
    threshold: int
    next_number: int | None
    next_name: str | None
    next_threshold: int | None
    points_missing: int


class LevelUpOut(Schema):
    level: int
    name: str
    reached_at: dt.datetime


class MemberPointsOut(Schema):
    member_id: int
    balance: int
    level: LevelOut
    level_ups: list[LevelUpOut]
    history: list[EntryOut]


class HistoryFilters(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10**9)


class ManualIn(Schema):
    amount: int = Field(..., ge=-1_000_000, le=1_000_000)
    reason: str = Field(..., max_length=500)


class ReverseIn(Schema):
    reason: str = Field(..., max_length=500)


class ImportOut(Schema):
    created: list[str]
    updated: list[str]
    deleted: list[str]
    levels_changed: bool


def _rule_out(rule: PointRule) -> dict[str, Any]:
    return {"id": rule.pk, **rule_values(rule)}


def _rule(community, rule_id: int) -> PointRule:
    return get_object_or_404(PointRule, community=community, pk=rule_id)


def _refused(exc: Exception) -> HttpError:
    problems = getattr(exc, "problems", None)
    return HttpError(422, "; ".join(problems) if problems else str(exc))


@router.get(
    "/communities/{slug}/points/rules",
    response={200: list[RuleOut], 404: Problem},
    summary="The earning rules, in the order they apply",
)
def list_rules(request: HttpRequest, slug: str) -> list:
    return [_rule_out(rule) for rule in community_rules(community_or_404(request, slug))]


@router.post(
    "/communities/{slug}/points/rules",
    response={201: RuleOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Add an earning rule (operators); problems name the field",
)
def create_rule(request: HttpRequest, slug: str, payload: dict[str, Any] = Body(...)) -> Status:  # noqa: B008
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        rule = do_save_rule(community, payload, actor=request.user)
    except (RuleError, PointsError) as exc:
        raise _refused(exc) from None
    return Status(201, _rule_out(rule))


@router.get(
    "/communities/{slug}/points/rules/{rule_id}",
    response={200: RuleOut, 404: Problem},
    summary="One earning rule",
)
def get_rule(request: HttpRequest, slug: str, rule_id: int) -> dict:
    return _rule_out(_rule(community_or_404(request, slug), rule_id))


@router.patch(
    "/communities/{slug}/points/rules/{rule_id}",
    response={200: RuleOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Change an earning rule (operators); the ledger is not rewritten",
)
def patch_rule(
    request: HttpRequest,
    slug: str,
    rule_id: int,
    payload: dict[str, Any] = Body(...),  # noqa: B008
) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    rule = _rule(community, rule_id)
    unknown = sorted(set(payload) - set(RULE_FIELDS))
    if unknown:
        raise HttpError(422, f"unknown fields: {', '.join(unknown)}")
    try:
        rule = do_save_rule(community, payload, actor=request.user, rule=rule)
    except (RuleError, PointsError) as exc:
        raise _refused(exc) from None
    return _rule_out(rule)


@router.delete(
    "/communities/{slug}/points/rules/{rule_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Delete an earning rule (operators); the points it awarded stay",
)
def delete_rule(request: HttpRequest, slug: str, rule_id: int) -> Status:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    do_delete_rule(_rule(community, rule_id), actor=request.user)
    return Status(204, None)


@router.get(
    "/communities/{slug}/points/rules.toml",
    response={200: str, 404: Problem},
    summary="The rules and levels as a TOML file",
)
def export_toml(request: HttpRequest, slug: str) -> HttpResponse:
    community = community_or_404(request, slug)
    return HttpResponse(export_rules_toml(community), content_type="application/toml")


@router.put(
    "/communities/{slug}/points/rules.toml",
    response={200: ImportOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Replace the rules (and levels) with a TOML file sent as the body (operators)",
    openapi_extra={
        "requestBody": {"content": {"application/toml": {"schema": {"type": "string"}}}}
    },
)
def import_toml(request: HttpRequest, slug: str) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HttpError(422, "the body is not UTF-8 text") from None
    try:
        result = do_import_rules_toml(community, text, actor=request.user)
    except RuleError as exc:
        raise _refused(exc) from None
    return vars(result)


@router.post(
    "/communities/{slug}/points/preset",
    response={200: AwardOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Replace rules and levels with a preset (default, stackexchange), award in full",
)
def apply_preset(request: HttpRequest, slug: str, payload: PresetIn) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    if payload.name not in preset_names():
        raise HttpError(422, f"unknown preset (known: {', '.join(preset_names())})")
    return vars(do_apply_preset(community, payload.name, actor=request.user))


@router.get(
    "/communities/{slug}/points/levels",
    response={200: dict[str, Any], 404: Problem},
    summary="How points become levels: a quadratic curve or a table",
)
def get_levels(request: HttpRequest, slug: str) -> dict:
    return levels_values(community_or_404(request, slug))


@router.put(
    "/communities/{slug}/points/levels",
    response={200: dict[str, Any], 403: Problem, 404: Problem, 422: Problem},
    summary="Set the levels (operators)",
)
def put_levels(request: HttpRequest, slug: str, payload: dict[str, Any] = Body(...)) -> dict:  # noqa: B008
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        do_save_level_scheme(community, payload, actor=request.user)
    except RuleError as exc:
        raise _refused(exc) from None
    return levels_values(community)


@router.post(
    "/communities/{slug}/points/recompute",
    response={200: AwardOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Award events not looked at yet, or all (operators); never awards twice",
)
def recompute(request: HttpRequest, slug: str, payload: RecomputeIn) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    return vars(do_award_points(community, full=payload.full, actor=request.user))


@router.get(
    "/communities/{slug}/points/leaderboard",
    response={200: LeaderboardOut, 404: Problem},
    summary="Top members by points this week, this month or all time",
)
def get_leaderboard(request: HttpRequest, slug: str, filters: Query[BoardFilters]) -> Any:
    community = community_or_404(request, slug)
    return leaderboard(community, filters.period, limit=filters.limit)


@router.get(
    "/communities/{slug}/members/{member_id}/points",
    response={200: MemberPointsOut, 404: Problem},
    summary="A member's balance, level and ledger (newest first)",
)
def get_member_points(
    request: HttpRequest, slug: str, member_id: int, filters: Query[HistoryFilters]
) -> dict:
    community = community_or_404(request, slug)
    member = get_object_or_404(Member, community=community, pk=member_id)
    level = member_level(member)
    return {
        "member_id": member.pk,
        "balance": level.points,
        "level": vars(level),
        "level_ups": list(level_ups(member)),
        "history": points_history(member, limit=filters.limit, offset=filters.offset),
    }


@router.post(
    "/communities/{slug}/members/{member_id}/points",
    response={201: EntryOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Award or deduct points by hand, with a reason (operators; audited)",
)
def post_member_points(
    request: HttpRequest, slug: str, member_id: int, payload: ManualIn
) -> Status:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    member = get_object_or_404(Member, community=community, pk=member_id)
    try:
        entry = do_manual_entry(member, payload.amount, reason=payload.reason, actor=request.user)
    except PointsError as exc:
        raise _refused(exc) from None
    return Status(201, _entry_out(entry))


@router.post(
    "/communities/{slug}/points/entries/{entry_id}/reverse",
    response={201: EntryOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Reverse a ledger entry with a reversing entry and a reason (operators)",
)
def reverse(request: HttpRequest, slug: str, entry_id: int, payload: ReverseIn) -> Status:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    entry = get_object_or_404(PointEntry, community=community, pk=entry_id)
    try:
        reversal = do_reverse_entry(entry, reason=payload.reason, actor=request.user)
    except PointsError as exc:
        raise _refused(exc) from None
    return Status(201, _entry_out(reversal))


def _entry_out(entry: PointEntry) -> dict[str, Any]:
    balance = member_level(entry.member).points
    return {
        "id": entry.pk,
        "amount": entry.amount,
        "kind": entry.kind,
        "rule_key": entry.rule_key,
        "reason": entry.reason,
        "occurred_at": entry.occurred_at,
        "source_event_id": entry.source_event_id,
        "reverses_id": entry.reverses_id,
        "balance_after": balance,
        "is_reversed": False,
    }
