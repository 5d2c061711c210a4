"""Keeping purchases with their buyer when two members are merged into one."""

from __future__ import annotations

from shequn.commerce.models import Purchase


def move_member_purchases(source_id: int, target_id: int) -> int:
    """Before a merge deletes ``source``: its purchases become ``target``'s (one person)."""
    return Purchase.objects.filter(member_id=source_id).update(member_id=target_id)
