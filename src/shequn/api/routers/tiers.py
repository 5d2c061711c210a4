"""/communities/{slug}/tiers: the tier funnel, monthly flows, members at risk, the policy and
one member's tier with its reasons (as numbers and in words)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, Field, Query, Router, Schema
from ninja.errors import HttpError

from shequn.accounts.models import AccessRole
from shequn.api.access import community_or_404
from shequn.api.errors import Problem
from shequn.members.models import Member
from shequn.tiers.policy import POLICY_FIELDS, TierPolicyError
from shequn.tiers.reasons import action_text, describe, describe_risk, describe_step, next_action
from shequn.tiers.selectors import (
    latest_tier_run,
    member_progress,
    member_tier,
    member_tier_path,
    members_at_risk,
    monthly_tier_flows,
    tier_funnel,
    tier_policy,
)
from shequn.tiers.services import do_recompute_tiers, do_update_tier_policy

router = Router(tags=["tiers"])


class FunnelRow(Schema):
    tier: str
    label: str
    count: int
    share: float | None
    staff: int


class TiersOut(Schema):
    as_of: dt.date | None
    computed_at: dt.datetime | None
    funnel: list[FunnelRow]


class FlowRow(Schema):
    month: str
    from_tier: str
    to_tier: str
    kind: str
    count: int


class Explained(Schema):
    code: str
    text: str
    numbers: dict[str, Any]


class AtRiskRow(Schema):
    member_id: int
    display_name: str
    tier: str
    risk: Explained
    action: str


class TierChangeOut(Schema):
    changed_on: dt.date
    from_tier: str | None
    to_tier: str
    reasons: list[Explained]


class MemberTierOut(Schema):
    member_id: int
    role: str
    tier: str | None
    since: dt.date | None
    evaluated_on: dt.date | None
    is_staff: bool
    at_risk: bool
    reasons: list[Explained]
    next_tier: str | None
    progress: list[Explained]
    action: str | None
    path: list[TierChangeOut]


class RecomputeIn(Schema):
    full: bool = False
    as_of: dt.date | None = None


class RecomputeOut(Schema):
    full: bool
    as_of: dt.date | None
    evaluated: int
    changed: int


class FlowFilters(Schema):
    months: int = Field(12, ge=1, le=120)


def _explained(item: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "code": item.get("code", ""),
        "text": text,
        "numbers": {k: v for k, v in item.items() if k != "code"},
    }


@router.get(
    "/communities/{slug}/tiers",
    response={200: TiersOut, 404: Problem},
    summary="The tier funnel today (staff and bots on their own rows)",
)
def get_tiers(request: HttpRequest, slug: str) -> dict:
    community = community_or_404(request, slug)
    run = latest_tier_run(community)
    return {
        "as_of": run.as_of if run else None,
        "computed_at": run.finished_at if run else None,
        "funnel": tier_funnel(community),
    }


@router.get(
    "/communities/{slug}/tiers/flows",
    response={200: list[FlowRow], 404: Problem},
    summary="Moves between tiers per month (new, up, down, lapsed, came back)",
)
def get_flows(request: HttpRequest, slug: str, filters: Query[FlowFilters]) -> list:
    return monthly_tier_flows(community_or_404(request, slug), months=filters.months)


@router.get(
    "/communities/{slug}/tiers/at-risk",
    response={200: list[AtRiskRow], 404: Problem},
    summary="Participants and advocates whose activity has fallen, with a suggested action",
)
def get_at_risk(request: HttpRequest, slug: str) -> list:
    community = community_or_404(request, slug)
    return [
        {
            "member_id": state.member_id,
            "display_name": state.member.display_name,
            "tier": state.tier,
            "risk": _explained(state.risk or {}, describe_risk(state.risk or {})),
            "action": action_text(next_action(state.tier, at_risk=True)),
        }
        for state in members_at_risk(community)
    ]


@router.post(
    "/communities/{slug}/tiers/recompute",
    response={200: RecomputeOut, 403: Problem, 404: Problem, 422: Problem},
    summary="Recompute tiers: members touched since the last run, or everyone (operators)",
)
def recompute(request: HttpRequest, slug: str, payload: RecomputeIn) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    result = do_recompute_tiers(
        community, full=payload.full, as_of=payload.as_of, actor=request.user
    )
    return {
        "full": result.full,
        "as_of": result.as_of,
        "evaluated": result.evaluated,
        "changed": result.changed,
    }


@router.get(
    "/communities/{slug}/tiers/policy",
    response={200: dict[str, Any], 404: Problem},
    summary="Every tier threshold of the community",
)
def get_policy(request: HttpRequest, slug: str) -> dict:
    policy = tier_policy(community_or_404(request, slug))
    return {field: getattr(policy, field) for field in POLICY_FIELDS}


@router.patch(
    "/communities/{slug}/tiers/policy",
    response={200: dict[str, Any], 403: Problem, 404: Problem, 422: Problem},
    summary="Change tier thresholds, then re-evaluate everyone (operators)",
)
def patch_policy(
    request: HttpRequest,
    slug: str,
    payload: dict[str, Any] = Body(...),  # noqa: B008
) -> dict:
    community = community_or_404(request, slug, AccessRole.OPERATOR)
    try:
        policy = do_update_tier_policy(community, actor=request.user, **payload)
    except TierPolicyError as exc:
        raise HttpError(422, str(exc)) from None
    return {field: getattr(policy, field) for field in POLICY_FIELDS}


@router.get(
    "/communities/{slug}/members/{member_id}/tier",
    response={200: MemberTierOut, 404: Problem},
    summary="A member's tier with its reasons, what the next tier needs, and their path",
)
def get_member_tier(request: HttpRequest, slug: str, member_id: int) -> dict:
    community = community_or_404(request, slug)
    member = get_object_or_404(Member, community=community, pk=member_id)
    state = member_tier(member)
    progress = member_progress(member)
    return {
        "member_id": member.pk,
        "role": member.role,
        "tier": state.tier if state else None,
        "since": state.since if state else None,
        "evaluated_on": state.evaluated_on if state else None,
        "is_staff": bool(state and state.is_staff),
        "at_risk": bool(state and state.at_risk),
        "reasons": [_explained(r, describe(r)) for r in (state.reasons if state else [])],
        "next_tier": progress.get("next_tier"),
        "progress": [_explained(s, describe_step(s)) for s in progress.get("steps", [])],
        "action": action_text(next_action(state.tier, at_risk=state.at_risk)) if state else None,
        "path": [
            {
                "changed_on": change.changed_on,
                "from_tier": change.from_tier,
                "to_tier": change.to_tier,
                "reasons": [_explained(r, describe(r)) for r in change.reasons or []],
            }
            for change in member_tier_path(member)
        ],
    }
