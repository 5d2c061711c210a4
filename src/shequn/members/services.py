"""Write operations on members."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.interactions.models import InteractionEvent
from shequn.interactions.rollups import recompute_member_rollups
from shequn.members.models import ROLE_RANK, Identity, Member, Role


class MergeError(ValueError):
    pass


def _later_or_active(a: Any, b: Any) -> Any:
    """For left/muted times: still active on either side means active."""
    if a is None or b is None:
        return None
    return max(a, b)


@transaction.atomic
def do_merge_members(source: Member, target: Member, *, actor: Any = None) -> Member:
    """Make ``source`` part of ``target``: one person seen as two members.

    Identities, events (as actor and as target) and rollups move to ``target``; ``source`` is
    deleted and its details are kept in the audit log, so nothing is lost.
    """
    if source.pk == target.pk:
        raise MergeError(_("A member cannot be merged into itself."))
    if source.community_id != target.community_id:
        raise MergeError(_("Members of different communities cannot be merged."))
    snapshot = {
        "source": {
            "id": source.pk,
            "display_name": source.display_name,
            "role": source.role,
            "is_bot": source.is_bot,
            "joined_at": source.joined_at.isoformat() if source.joined_at else None,
            "left_at": source.left_at.isoformat() if source.left_at else None,
            "muted_at": source.muted_at.isoformat() if source.muted_at else None,
            "identities": list(
                Identity.objects.filter(member=source).values_list("channel_id", "platform_user_id")
            ),
        },
        "target": {"id": target.pk, "display_name": target.display_name},
    }
    moved_identities = Identity.objects.filter(member=source).update(member=target)
    moved_events = InteractionEvent.objects.filter(member=source).update(member=target)
    moved_targets = InteractionEvent.objects.filter(target_member=source).update(
        target_member=target
    )
    # What the two accounts said to each other was one person talking to themself.
    InteractionEvent.objects.filter(member=target, target_member=target).update(target_member=None)
    if ROLE_RANK[Role(source.role)] > ROLE_RANK[Role(target.role)]:
        target.role = source.role
    if source.joined_at and (target.joined_at is None or source.joined_at < target.joined_at):
        target.joined_at = source.joined_at
    target.left_at = _later_or_active(source.left_at, target.left_at)
    target.muted_at = _later_or_active(source.muted_at, target.muted_at)
    target.save()
    source.daily_rollups.all().delete()
    source.delete()
    recompute_member_rollups([target.pk])
    snapshot["moved"] = {
        "identities": moved_identities,
        "events": moved_events,
        "received_events": moved_targets,
    }
    audit.record(
        "member.merge", community=target.community, actor=actor, target=target, details=snapshot
    )
    return target
