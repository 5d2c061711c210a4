"""Keep the ledger in step with interaction data: award after imports, follow member merges."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from shequn.interactions.signals import events_imported
from shequn.members.signals import member_merging, members_changed


@receiver(events_imported, dispatch_uid="rewards.award_after_import")
def award_after_import(sender: Any, community: Any, **kwargs: Any) -> None:
    from shequn.rewards.services import do_award_points

    do_award_points(community)


@receiver(member_merging, dispatch_uid="rewards.move_entries_on_merge")
def move_entries_on_merge(sender: Any, source: Any, target: Any, **kwargs: Any) -> Any:
    """The merged member is deleted: its entries go to the member it became part of (an
    un-merge gives them back: ``services.give_back_entries``)."""
    from shequn.members.merging import MergeMoves
    from shequn.rewards.models import PointEntry
    from shequn.rewards.services import reassign_entries

    moves = MergeMoves()
    moves.note(PointEntry, "member", reassign_entries(source.pk, target.pk))
    return moves


@receiver(members_changed, dispatch_uid="rewards.follow_events_after_merge")
def follow_events_after_merge(sender: Any, member_ids: list[int], **kwargs: Any) -> None:
    """After an un-merge, entries earned by events go back with those events."""
    from shequn.rewards.services import follow_event_members

    follow_event_members(member_ids)
