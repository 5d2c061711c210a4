"""Write operations on communities and channels."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.communities.models import Channel, Community

PROFILE_FIELDS = (
    "name",
    "carrier",
    "positioning",
    "mission",
    "values_advocated",
    "values_opposed",
    "time_zone",
)


class CommunityError(ValueError):
    """A request about a community that cannot be carried out; the message says why."""


@transaction.atomic
def do_create_community(
    *, slug: str, name: str = "", actor: Any = None, **profile: Any
) -> Community:
    clean_slug = slugify(slug)
    if not clean_slug or clean_slug != slug:
        raise CommunityError(
            _("'%(slug)s' is not a valid slug: use lower-case letters, digits and hyphens.")
            % {"slug": slug}
        )
    if Community.objects.filter(slug=slug).exists():
        raise CommunityError(_("A community with slug '%(slug)s' already exists.") % {"slug": slug})
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise CommunityError(
            _("Unknown profile fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    community = Community(slug=slug, name=name or slug, **profile)
    community.full_clean()
    community.save()
    audit.record(
        "community.create",
        community=community,
        actor=actor,
        target=community,
        details={"slug": slug, "name": community.name},
    )
    return community


@transaction.atomic
def do_update_community_profile(
    community: Community, *, actor: Any = None, **changes: Any
) -> Community:
    """Save the fields that really changed, audit them, and recount local days if the time zone
    changed (events' ``day`` and the daily rollups are kept in the community's time zone).

    Nothing changed: nothing saved, nothing audited. Invalid values raise ``ValidationError``
    and leave ``community`` as it was, in the database and in memory.
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise CommunityError(
            _("Unknown profile fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    changes = {
        field: value for field, value in changes.items() if getattr(community, field) != value
    }
    if not changes:
        return community
    before = {field: getattr(community, field) for field in changes}
    for field, value in changes.items():
        setattr(community, field, value)
    try:
        community.full_clean()
    except ValidationError:
        for field, value in before.items():
            setattr(community, field, value)
        raise
    community.save(update_fields=list(changes))
    if "time_zone" in changes:
        _recount_local_days(community)
    audit.record(
        "community.update_profile",
        community=community,
        actor=actor,
        target=community,
        details={"before": before, "after": changes},
    )
    return community


def _recount_local_days(community: Community) -> None:
    """Move each event to its local day in the community's (new) time zone, then rebuild the
    daily rollups from the events. Set-based: only rows whose day changes are written."""
    from django.db.models.functions import TruncDate

    from shequn.interactions.models import InteractionEvent
    from shequn.interactions.rollups import rebuild_community_rollups

    local_day = TruncDate("occurred_at", tzinfo=community.zoneinfo)
    InteractionEvent.objects.filter(community=community).exclude(day=local_day).update(
        day=local_day
    )
    rebuild_community_rollups(community.pk)


def get_or_create_channel(
    community: Community, *, platform: str, external_id: str, name: str = ""
) -> tuple[Channel, bool]:
    """Channels are found by (platform, external id); the name follows the latest import."""
    channel, created = Channel.objects.get_or_create(
        community=community, platform=platform, external_id=external_id, defaults={"name": name}
    )
    if not created and name and channel.name != name:
        channel.name = name
        channel.save(update_fields=["name"])
    return channel, created
