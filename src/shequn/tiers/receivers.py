"""Keep tiers in step with interaction data: recompute after imports and member merges."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from shequn.interactions.signals import events_imported
from shequn.members.signals import members_changed


@receiver(events_imported, dispatch_uid="tiers.recompute_after_import")
def recompute_after_import(sender: Any, community: Any, **kwargs: Any) -> None:
    from shequn.tiers.services import do_recompute_tiers

    do_recompute_tiers(community)


@receiver(members_changed, dispatch_uid="tiers.recompute_after_merge")
def recompute_after_merge(sender: Any, community_id: int, **kwargs: Any) -> None:
    """A merge or un-merge moves events between members: the incremental run replays both
    sides from their first signal (it finds the merges made or undone since the last run), so
    a merge in a large community does not replay everyone."""
    from shequn.communities.models import Community
    from shequn.tiers.services import do_recompute_tiers

    do_recompute_tiers(Community.objects.get(pk=community_id))
