"""What the exchange services share: the exchange's channel, the settings row, announcing
new events, values for the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from shequn.communities.models import Channel, Community, Platform
from shequn.communities.services import get_or_create_channel
from shequn.exchange.models import ExchangeSettings, Post
from shequn.interactions.signals import events_imported

# The channel connection events are recorded on (one per community).
EXCHANGE_CHANNEL_ID = "shequn-exchange"
EXCHANGE_CHANNEL_NAME = "Needs and offers"


def user_of(actor: Any) -> Any:
    """The account to store on a row (the CLI acts without one)."""
    return actor if getattr(actor, "pk", None) else None


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def post_snapshot(post: Post, tags: list[str] | None = None) -> dict[str, Any]:
    """What the audit log keeps of a post."""
    return {
        "id": post.pk,
        "kind": post.kind,
        "status": post.status,
        "member": post.member_id,
        "title": post.title,
        "description": post.description,
        "tags": tags if tags is not None else post.tag_names,
    }


def exchange_channel(community: Community) -> Channel:
    """The community's channel for connection events (created on first use)."""
    channel, _created = get_or_create_channel(
        community,
        platform=Platform.OTHER,
        external_id=EXCHANGE_CHANNEL_ID,
        name=EXCHANGE_CHANNEL_NAME,
    )
    return channel


def settings_row(community: Community) -> ExchangeSettings:
    """The community's settings row, created with the defaults on first change, locked for
    the rest of the transaction on PostgreSQL."""
    ExchangeSettings.objects.get_or_create(community=community)
    return ExchangeSettings.objects.select_for_update().get(community=community)


def announce(community: Community, sender: Any, added: int) -> None:
    """Tell the apps built on events (points, tiers) that events were added, as an import
    does once it has committed."""
    if not added:
        return
    from shequn.interactions.importers.pipeline import ImportSummary

    summary = ImportSummary(
        import_run_id=0,
        format="exchange",
        source=EXCHANGE_CHANNEL_ID,
        community=community.slug,
        events_read=added,
        events_added=added,
    )
    events_imported.send(sender=sender, community=community, summary=summary)
