"""Keep purchases with their buyer when two members are merged into one."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from shequn.members.signals import member_merging


@receiver(member_merging, dispatch_uid="commerce.move_on_merge")
def move_on_merge(sender: Any, source: Any, target: Any, **kwargs: Any) -> Any:
    """The merged member is deleted: their purchases go to the member they became part of."""
    from shequn.commerce.services import move_member_purchases

    return move_member_purchases(source.pk, target.pk)
