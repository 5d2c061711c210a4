"""Keeping culture rows with their person when two members are merged into one."""

from __future__ import annotations

from shequn.culture.models import Goal, Onboarding, Testimonial


def move_member_rows(source_id: int, target_id: int) -> None:
    """Before a merge deletes ``source``: its goals and testimonials go to ``target``; its
    onboarding too, unless ``target`` was onboarded already (the earlier date is kept)."""
    Goal.objects.filter(owner_id=source_id).update(owner_id=target_id)
    Testimonial.objects.filter(member_id=source_id).update(member_id=target_id)
    source = Onboarding.objects.filter(member_id=source_id).first()
    if source is None:
        return
    target = Onboarding.objects.filter(member_id=target_id).first()
    if target is None:
        source.member_id = target_id
        source.save(update_fields=["member"])
    elif source.onboarded_at < target.onboarded_at:
        target.onboarded_at, target.platform = source.onboarded_at, source.platform
        target.save(update_fields=["onboarded_at", "platform"])
