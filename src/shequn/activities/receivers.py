"""Keep activity data with its person when two members are merged into one."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from shequn.members.signals import member_merging


@receiver(member_merging, dispatch_uid="activities.move_on_merge")
def move_on_merge(sender: Any, source: Any, target: Any, **kwargs: Any) -> Any:
    """The merged member is deleted: its registrations, guest appearances and organised
    activities go to the member it became part of (see ``services.move_member_rows``)."""
    from shequn.activities.services import move_member_rows

    return move_member_rows(source.pk, target.pk)
