"""Keeping purchases with their buyer when two members are merged into one."""

from __future__ import annotations

from shequn.commerce.models import Purchase
from shequn.members.merging import MergeMoves


def move_member_purchases(source_id: int, target_id: int) -> MergeMoves:
    """Before a merge deletes ``source``: its purchases become ``target``'s (one person)."""
    moves = MergeMoves()
    moves.move(Purchase.objects.filter(member_id=source_id), "member", target_id)
    return moves
