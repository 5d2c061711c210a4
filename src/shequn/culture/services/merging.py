"""Keeping culture rows with their person when two members are merged into one."""

from __future__ import annotations

from shequn.culture.models import Goal, Onboarding, Testimonial
from shequn.members.merging import MergeMoves


def move_member_rows(source_id: int, target_id: int) -> MergeMoves:
    """Before a merge deletes ``source``: its goals and testimonials go to ``target``; its
    onboarding too, unless ``target`` was onboarded already (the earlier date is kept on the
    target; the source's own is set aside for an un-merge)."""
    moves = MergeMoves()
    moves.move(Goal.objects.filter(owner_id=source_id), "owner", target_id)
    moves.move(Testimonial.objects.filter(member_id=source_id), "member", target_id)
    source = Onboarding.objects.filter(member_id=source_id).first()
    if source is None:
        return moves
    target = Onboarding.objects.filter(member_id=target_id).first()
    if target is None:
        moves.move(Onboarding.objects.filter(pk=source.pk), "member", target_id)
        return moves
    if source.onboarded_at < target.onboarded_at:
        target.onboarded_at, target.platform = source.onboarded_at, source.platform
        target.save(update_fields=["onboarded_at", "platform"])
    moves.drop(Onboarding.objects.filter(pk=source.pk), member_field="member")
    return moves
