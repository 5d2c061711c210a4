"""Keeping charter rows with the person when two members are merged into one."""

from __future__ import annotations

from shequn.charter.models import Acknowledgement, Reward, Violation
from shequn.members.merging import MergeMoves


def move_member_rows(source_id: int, target_id: int) -> MergeMoves:
    """Before a merge deletes ``source``: its violations, rewards and acknowledgements go to
    ``target`` (their ledger entries move with the ledger's own merge). Where both had
    acknowledged the same version, the earlier acknowledgement is kept (the other is set
    aside on the merge, for an un-merge to give back)."""
    moves = MergeMoves()
    moves.move(Violation.objects.filter(member_id=source_id), "member", target_id)
    moves.move(Reward.objects.filter(member_id=source_id), "member", target_id)
    theirs = {
        version_id: (at, pk)
        for version_id, at, pk in Acknowledgement.objects.filter(member_id=target_id).values_list(
            "version_id", "acknowledged_at", "pk"
        )
    }
    keep, drop, lose = [], [], []
    for version_id, at, pk in Acknowledgement.objects.filter(member_id=source_id).values_list(
        "version_id", "acknowledged_at", "pk"
    ):
        if version_id not in theirs:
            keep.append(pk)
        elif at < theirs[version_id][0]:
            drop.append(theirs[version_id][1])
            keep.append(pk)
        else:
            lose.append(pk)
    moves.drop(Acknowledgement.objects.filter(pk__in=drop))
    moves.drop(Acknowledgement.objects.filter(pk__in=lose), member_field="member")
    moves.move(Acknowledgement.objects.filter(pk__in=keep), "member", target_id)
    return moves
