"""Keeping activity rows with the member when two members are merged."""

from __future__ import annotations

from typing import Any

from shequn.activities.models import Activity, Guest, Registration, Ritual
from shequn.members.merging import MergeMoves


def move_member_rows(source_id: int, target_id: int) -> MergeMoves:
    """Before a merge deletes ``source``: move its registrations, guest appearances and
    organised activities and rituals to ``target``. Where both were registered for (or
    guests of) the same activity, the further one along is kept (checked in, then confirmed,
    waitlisted, cancelled) with its feedback; the other is dropped (a copy is kept on the
    merge, for an un-merge to give back)."""
    moves = MergeMoves()
    rank = {
        Registration.Status.CONFIRMED: 2,
        Registration.Status.WAITLISTED: 1,
        Registration.Status.CANCELLED: 0,
    }

    def strength(row: tuple[Any, ...]) -> tuple[int, int]:
        return (row[2] is not None, rank[row[1]])

    mine = {
        row[0]: row
        for row in Registration.objects.filter(member_id=source_id).values_list(
            "activity_id", "status", "checked_in_at", "pk"
        )
    }
    theirs = {
        row[0]: row
        for row in Registration.objects.filter(
            member_id=target_id, activity_id__in=list(mine)
        ).values_list("activity_id", "status", "checked_in_at", "pk")
    }
    drop_target = [
        theirs[activity_id][3]
        for activity_id, row in mine.items()
        if activity_id in theirs and strength(row) > strength(theirs[activity_id])
    ]
    keep_source = [
        row[3]
        for activity_id, row in mine.items()
        if activity_id not in theirs or theirs[activity_id][3] in drop_target
    ]
    lose_source = [row[3] for row in mine.values() if row[3] not in keep_source]
    moves.drop(Registration.objects.filter(pk__in=drop_target))
    moves.drop(Registration.objects.filter(pk__in=lose_source), member_field="member")
    moves.move(Registration.objects.filter(pk__in=keep_source), "member", target_id)
    shared = list(Guest.objects.filter(member_id=target_id).values_list("activity_id", flat=True))
    moves.drop(
        Guest.objects.filter(member_id=source_id, activity_id__in=shared), member_field="member"
    )
    moves.move(Guest.objects.filter(member_id=source_id), "member", target_id)
    moves.move(Activity.objects.filter(organiser_id=source_id), "organiser", target_id)
    moves.move(Ritual.objects.filter(organiser_id=source_id), "organiser", target_id)
    return moves
