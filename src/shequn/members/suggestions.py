"""Suggested merges: members who may be one person, with a confidence and the evidence.

Evidence, strongest first: the same e-mail address on two accounts; the same handle on different
channels; the same display name on different channels. An operator accepts (merge) or rejects a
suggestion; a rejected pair is never suggested again.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.members.models import Identity, Member, MergeSuggestion
from shequn.members.services import MergeError, do_merge_members

# Weight of each kind of evidence; independent pieces combine as 1 - Π(1 - w).
EVIDENCE_WEIGHTS = {"email": 0.95, "handle": 0.6, "display_name": 0.4}
# A name shared by more members than this says nothing about any two of them ("Alex", "小王").
MAX_GROUP = 4
MIN_CONFIDENCE = 0.4


def _normalise(value: str) -> str:
    return " ".join(value.casefold().split())


def _candidate_groups(community: Community) -> dict[tuple[str, str], set[int]]:
    """(evidence kind, value) -> members showing it; one pass over accounts, one over members."""
    groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    channels_of: dict[int, set[int]] = defaultdict(set)
    identities = Identity.objects.filter(member__community=community, member__is_bot=False)
    for member_id, channel_id, handle, profile in identities.values_list(
        "member_id", "channel_id", "handle", "profile"
    ).iterator(2000):
        channels_of[member_id].add(channel_id)
        email = (profile or {}).get("email") if isinstance(profile, dict) else None
        if isinstance(email, str) and "@" in email:
            groups[("email", email.strip().casefold())].add(member_id)
        if handle:
            groups[("handle", _normalise(handle))].add(member_id)
    for member_id, name in Member.objects.filter(community=community, is_bot=False).values_list(
        "id", "display_name"
    ):
        if name:
            groups[("display_name", _normalise(name))].add(member_id)
    # Same handle or name within one channel is two accounts there, not one person twice.
    for (kind, value), members in list(groups.items()):
        if kind != "email" and len(members) > 1:
            channel_sets = [channels_of[m] for m in members]
            if any(a & b for a, b in combinations(channel_sets, 2)):
                del groups[(kind, value)]
    return groups


@transaction.atomic
def do_refresh_suggestions(community: Community) -> int:
    """Recompute open suggestions; decided ones are kept. Returns the number of open ones."""
    evidence: dict[tuple[int, int], list[dict[str, str]]] = defaultdict(list)
    for (kind, value), members in _candidate_groups(community).items():
        if len(members) < 2 or (kind != "email" and len(members) > MAX_GROUP):
            continue
        for a, b in combinations(sorted(members), 2):
            evidence[(a, b)].append({"kind": kind, "value": value})
    decided = set(
        MergeSuggestion.objects.filter(community=community)
        .exclude(status=MergeSuggestion.Status.OPEN)
        .values_list("member_a_id", "member_b_id")
    )
    MergeSuggestion.objects.filter(community=community, status=MergeSuggestion.Status.OPEN).delete()
    suggestions = []
    for (a, b), pieces in evidence.items():
        if (a, b) in decided:
            continue
        unlikely = 1.0
        for kind in {piece["kind"] for piece in pieces}:
            unlikely *= 1 - EVIDENCE_WEIGHTS[kind]
        confidence = round(1 - unlikely, 3)
        if confidence >= MIN_CONFIDENCE:
            suggestions.append(
                MergeSuggestion(
                    community=community,
                    member_a_id=a,
                    member_b_id=b,
                    confidence=confidence,
                    evidence=pieces,
                )
            )
    MergeSuggestion.objects.bulk_create(suggestions, batch_size=500)
    return len(suggestions)


def describe_evidence(evidence: list[dict[str, str]]) -> str:
    labels = {
        "email": _("same e-mail %(value)s"),
        "handle": _("same handle %(value)s on different channels"),
        "display_name": _("same name %(value)s on different channels"),
    }
    return "; ".join(labels[piece["kind"]] % {"value": piece["value"]} for piece in evidence)


@transaction.atomic
def do_decide_suggestion(suggestion: MergeSuggestion, *, accept: bool, actor: Any = None) -> None:
    """Accept (merge the two members) or reject a suggestion; either way it is audited."""
    if suggestion.status != MergeSuggestion.Status.OPEN:
        raise MergeError(_("This suggestion was already decided."))
    details = {
        "suggestion_id": suggestion.pk,
        "member_a": suggestion.member_a.display_name,
        "member_b": suggestion.member_b.display_name,
        "confidence": suggestion.confidence,
        "evidence": suggestion.evidence,
    }
    if not accept:
        suggestion.status = MergeSuggestion.Status.REJECTED
        suggestion.decided_at = timezone.now()
        suggestion.save(update_fields=["status", "decided_at"])
        audit.record(
            "member.suggestion_rejected",
            community=suggestion.community,
            actor=actor,
            target=suggestion.member_a,
            details=details,
        )
        return
    # The older member (lower id) stays; the suggestion goes with the merged member.
    target, source = suggestion.member_a, suggestion.member_b
    audit.record(
        "member.suggestion_accepted",
        community=suggestion.community,
        actor=actor,
        target=target,
        details=details,
    )
    do_merge_members(
        source,
        target,
        actor=actor,
        reason=_("suggestion: %(evidence)s") % {"evidence": describe_evidence(suggestion.evidence)},
    )
