"""A community's exchange settings: the public form (on with a new token link, or off),
points per connection and the lowest score suggested."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from shequn.audit import services as audit
from shequn.communities.models import Community
from shequn.exchange.models import ExchangeSettings
from shequn.exchange.services.common import settings_row
from shequn.exchange.validation import clean_settings

SETTING_FIELDS = ("points_for_offer", "points_for_need", "min_score")


@transaction.atomic
def do_update_settings(
    community: Community, values: Mapping[str, Any], *, actor: Any = None
) -> ExchangeSettings:
    """Change the points per connection and the suggestion threshold (those given)."""
    cleaned = clean_settings({key: values[key] for key in SETTING_FIELDS if key in values})
    settings = settings_row(community)
    before = {name: getattr(settings, name) for name in SETTING_FIELDS}
    for name, value in cleaned.items():
        setattr(settings, name, value)
    settings.save()
    after = {name: getattr(settings, name) for name in SETTING_FIELDS}
    if after != before:
        audit.record(
            "exchange.settings",
            community=community,
            actor=actor,
            target=settings,
            details={"before": before, "after": after},
        )
    return settings


@transaction.atomic
def do_open_public_form(community: Community, *, actor: Any = None) -> ExchangeSettings:
    """Turn the public form on with a new, unguessable link (an earlier link stops working)."""
    settings = settings_row(community)
    replaced = settings.public_form_on
    settings.public_token = secrets.token_urlsafe(18)
    settings.save(update_fields=["public_token", "updated_at"])
    audit.record(
        "exchange.public_form_open",
        community=community,
        actor=actor,
        target=settings,
        details={"replaced_link": replaced},
    )
    return settings


@transaction.atomic
def do_close_public_form(community: Community, *, actor: Any = None) -> ExchangeSettings:
    """Turn the public form off: its link answers "not found"; waiting submissions stay."""
    settings = settings_row(community)
    if settings.public_form_on:
        settings.public_token = ""
        settings.save(update_fields=["public_token", "updated_at"])
        audit.record(
            "exchange.public_form_close", community=community, actor=actor, target=settings
        )
    return settings
