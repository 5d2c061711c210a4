"""Keep needs and offers with their person when two members are merged into one."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from shequn.members.signals import member_merging


@receiver(member_merging, dispatch_uid="exchange.move_on_merge")
def move_on_merge(sender: Any, source: Any, target: Any, **kwargs: Any) -> Any:
    """The merged member is deleted: its needs and offers go to the member it became."""
    from shequn.exchange.services import move_member_posts

    return move_member_posts(source.pk, target.pk)
