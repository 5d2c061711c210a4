"""Keep the charter in step with interaction data: judge new events after each import, and
follow member merges."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from shequn.interactions.signals import events_imported
from shequn.members.signals import member_merging


@receiver(events_imported, dispatch_uid="charter.check_after_import")
def check_after_import(sender: Any, community: Any, **kwargs: Any) -> None:
    """Run the switched-on rules over the events the import added (each rule reads only the
    span of events it has not judged)."""
    from shequn.charter.services import do_check

    do_check(community)


@receiver(member_merging, dispatch_uid="charter.move_on_merge")
def move_on_merge(sender: Any, source: Any, target: Any, **kwargs: Any) -> Any:
    from shequn.charter.services import move_member_rows

    return move_member_rows(source.pk, target.pk)
