"""Write operations on members: merging two members who are one person, and undoing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.interactions.models import InteractionEvent
from shequn.interactions.rollups import recompute_member_rollups
from shequn.members.merging import combined, restore_moves, sets_aside
from shequn.members.models import ROLE_RANK, Identity, Member, MemberMerge, Role
from shequn.members.signals import member_merging, members_changed

# Member fields a merge combines and an un-merge restores.
MERGED_FIELDS = ("display_name", "role", "is_bot", "key", "joined_at", "left_at", "muted_at")


class MergeError(ValueError):
    pass


def _later_or_active(a: Any, b: Any) -> Any:
    """For left/muted times: still active on either side means active."""
    if a is None or b is None:
        return None
    return max(a, b)


def _snapshot(member: Member) -> dict[str, Any]:
    values = {field: getattr(member, field) for field in MERGED_FIELDS}
    return {
        field: value.isoformat() if isinstance(value, dt.datetime) else value
        for field, value in values.items()
    }


def _restore(value: Any, field: str) -> Any:
    if field in ("joined_at", "left_at", "muted_at") and value:
        return parse_datetime(value)
    return value


def retarget_events(members: Iterable[Member]) -> None:
    """Point events addressed to these members' accounts at their current member (set-based).

    Events keep the account that acted and the account addressed; after identities move, the
    member columns follow them. Addressing oneself is no interaction, so it has no target.
    """
    table = InteractionEvent._meta.db_table
    identity_table = Identity._meta.db_table
    with connection.cursor() as cursor:
        for member in members:
            cursor.execute(
                f"UPDATE {table} SET member_id = %s WHERE identity_id IN "
                f"(SELECT id FROM {identity_table} WHERE member_id = %s) AND member_id <> %s",
                [member.pk, member.pk, member.pk],
            )
        for member in members:
            cursor.execute(
                f"UPDATE {table} SET target_member_id = "
                f"CASE WHEN member_id = %s THEN NULL ELSE %s END "
                f"WHERE target_identity_id IN "
                f"(SELECT id FROM {identity_table} WHERE member_id = %s)",
                [member.pk, member.pk, member.pk],
            )


@transaction.atomic
def do_merge_members(
    source: Member, target: Member, *, actor: Any = None, reason: str = ""
) -> Member:
    """Make ``source`` part of ``target``: one person seen as two members.

    Identities, events (as actor and as target) and rollups move to ``target``; ``source`` is
    deleted, and a ``MemberMerge`` plus an audit entry keep what is needed to undo it exactly.
    """
    if source.pk == target.pk:
        raise MergeError(_("A member cannot be merged into itself."))
    if source.community_id != target.community_id:
        raise MergeError(_("Members of different communities cannot be merged."))
    if source.key and target.key and source.key != target.key:
        raise MergeError(
            _("These members have different member keys (%(a)s, %(b)s): they are two people.")
            % {"a": source.key, "b": target.key}
        )
    source_before, target_before = _snapshot(source), _snapshot(target)
    source_id = source.pk
    identity_ids = list(Identity.objects.filter(member=source).values_list("id", flat=True))
    Identity.objects.filter(pk__in=identity_ids).update(member=target)
    moved_events = InteractionEvent.objects.filter(member=source).update(member=target)
    InteractionEvent.objects.filter(target_member=source).update(target_member=target)

    if ROLE_RANK[Role(source.role)] > ROLE_RANK[Role(target.role)]:
        target.role = source.role
    if source.joined_at and (target.joined_at is None or source.joined_at < target.joined_at):
        target.joined_at = source.joined_at
    target.left_at = _later_or_active(source.left_at, target.left_at)
    target.muted_at = _later_or_active(source.muted_at, target.muted_at)
    target.is_bot = target.is_bot and source.is_bot
    target.key = target.key or source.key
    moved = combined(member_merging.send(sender=do_merge_members, source=source, target=target))
    source.daily_rollups.all().delete()
    source.delete()
    target.save()
    retarget_events([target])
    recompute_member_rollups([target.pk])
    merge = MemberMerge.objects.create(
        community_id=target.community_id,
        target=target,
        source_snapshot={**source_before, "id": source_id},
        target_snapshot={"before": target_before, "after": _snapshot(target)},
        identity_ids=identity_ids,
        moved=moved,
        reason=reason,
    )
    # after the merge is recorded: the incremental tier run finds both sides through it
    members_changed.send(
        sender=do_merge_members, community_id=target.community_id, member_ids=[target.pk]
    )
    audit.record(
        "member.merge",
        community=target.community,
        actor=actor,
        target=target,
        details={
            "merge_id": merge.pk,
            "source": source_before,
            "target": {"id": target.pk, "display_name": target.display_name},
            "moved": {"identities": len(identity_ids), "events": moved_events},
            "reason": reason,
        },
    )
    return target


@transaction.atomic
def do_unmerge(merge: MemberMerge, *, actor: Any = None) -> Member:
    """Undo a merge: the merged member comes back with its accounts, events and rollups, and
    the rows other apps moved to the target (registrations, purchases, points …) with it."""
    if merge.undone_at is not None:
        raise MergeError(_("This merge was already undone."))
    target = merge.target
    later = list(MemberMerge.objects.filter(target=target, undone_at__isnull=True, pk__gt=merge.pk))
    if later and (sets_aside(merge.moved) or any(sets_aside(m.moved) for m in later)):
        raise MergeError(
            _(
                "Undo the later merges into this member first (%(merges)s): duplicates were set"
                " aside, and only undoing merges newest first gives each row back to its owner."
            )
            % {"merges": ", ".join(f"#{m.pk}" for m in later)}
        )
    identity_ids = list(
        Identity.objects.filter(pk__in=merge.identity_ids, member=target).values_list(
            "id", flat=True
        )
    )
    if not identity_ids:
        raise MergeError(_("The merged accounts are no longer part of this member."))
    restored = Member.objects.create(
        community_id=merge.community_id,
        **{
            field: _restore(merge.source_snapshot.get(field), field)
            for field in MERGED_FIELDS
            if field != "key"
        },
    )
    before, after = merge.target_snapshot["before"], merge.target_snapshot["after"]
    current = _snapshot(target)
    changed = []
    for field in MERGED_FIELDS:
        # Only what the merge changed, and only if nobody changed it since.
        if current[field] == after[field] and before[field] != after[field]:
            setattr(target, field, _restore(before[field], field))
            changed.append(field)
    if changed:
        target.save(update_fields=[*changed, "updated_at"])
    source_key = merge.source_snapshot.get("key") or ""
    if source_key and target.key != source_key:
        restored.key = source_key
        restored.save(update_fields=["key"])
    Identity.objects.filter(pk__in=identity_ids).update(member=restored)
    retarget_events([restored, target])
    recompute_member_rollups([restored.pk, target.pk])
    given_back = restore_moves(merge.moved, target.pk, restored.pk)
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at"])
    # after the merge is marked undone: the incremental tier run finds both sides through it
    members_changed.send(
        sender=do_unmerge, community_id=target.community_id, member_ids=[restored.pk, target.pk]
    )
    audit.record(
        "member.unmerge",
        community=target.community,
        actor=actor,
        target=restored,
        details={
            "merge_id": merge.pk,
            "restored": {"id": restored.pk, "display_name": restored.display_name},
            "target": {"id": target.pk, "display_name": target.display_name},
            "identities": len(identity_ids),
            "given_back": given_back,
        },
    )
    return restored
