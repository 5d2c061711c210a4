"""Introductions: confirming a connection (a tie between two members, with points), its
outcome, and turning a suggestion down."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.exchange.models import Connection, DismissedPair, Post, PostKind, PostStatus
from shequn.exchange.services.common import (
    announce,
    exchange_channel,
    settings_row,
    user_of,
)
from shequn.exchange.validation import ExchangeError, clean_note, clean_outcome, connection_values
from shequn.interactions.models import EventKind, InteractionEvent
from shequn.interactions.rollups import add_rollups_for_events


def _check_pair(need: Post, offer: Post) -> None:
    """The refusals shared by confirming and dismissing: a need and an offer of one
    community, of two different members."""
    problems: dict[str, str] = {}
    if need.kind != PostKind.NEED:
        problems["need"] = _("#%(id)d is not a need") % {"id": need.pk}
    if offer.kind != PostKind.OFFER:
        problems["offer"] = _("#%(id)d is not an offer") % {"id": offer.pk}
    if need.community_id != offer.community_id:
        problems["offer"] = _("#%(id)d belongs to another community") % {"id": offer.pk}
    if problems:
        raise ExchangeError(problems)
    if need.member_id is not None and need.member_id == offer.member_id:
        raise ExchangeError(_("A member's own offer cannot meet their own need."), field="offer")


def _connection_event(connection: Connection, need: Post, offer: Post) -> InteractionEvent:
    """The tie: from the member with the need to the member with the offer, on the
    exchange's channel (its source id is the connection's, so it is recorded once)."""
    community = connection.community
    at = connection.confirmed_at
    event = InteractionEvent(
        community=community,
        channel=exchange_channel(community),
        member_id=need.member_id,
        target_member_id=offer.member_id,
        kind=EventKind.CONNECTION,
        occurred_at=at,
        day=at.astimezone(community.zoneinfo).date(),
        source_id=f"exchange-connection-{connection.pk}",
        thread_source_id=f"exchange-need-{need.pk}",
        attributes={"connection": connection.pk, "need": need.pk, "offer": offer.pk},
    )
    event.save()
    add_rollups_for_events([event.pk])
    return event


def _award(connection: Connection, need: Post, offer: Post, actor: Any) -> list[int]:
    """The community's points for a connection, once per side (keyed by the connection)."""
    from shequn.rewards.services import do_keyed_entry

    settings = settings_row(connection.community)
    entries = []
    sides = (
        (offer, settings.points_for_offer, "offer", need),
        (need, settings.points_for_need, "need", offer),
    )
    for post, amount, side, other in sides:
        if not amount:
            continue
        reason = (
            _("Helped %(name)s through the exchange (connection #%(id)d)")
            if side == "offer"
            else _("Connected with %(name)s through the exchange (connection #%(id)d)")
        ) % {"name": other.member.display_name, "id": connection.pk}
        entry, _created = do_keyed_entry(
            post.member,
            amount,
            reason=reason,
            key=f"exchange-connection:{connection.pk}:{side}",
            rule_key="exchange-connection",
            occurred_at=connection.confirmed_at,
            source_event=connection.event,
            actor=actor,
        )
        entries.append(entry.pk)
    return entries


def do_confirm_connection(
    need: Post,
    offer: Post,
    *,
    note: str = "",
    close_need: bool = False,
    actor: Any = None,
    recompute: bool = True,
) -> Connection:
    """An operator confirms an introduction: the connection (with the pair's score and
    evidence as they were), an interaction event ``connection`` from the member with the need
    to the member with the offer, and the community's points for it (each once). Refused for
    closed posts, a member's own pair and a pair already connected. ``close_need``: the need is
    met, close it. Then points and tiers recompute, as after an import."""
    from shequn.exchange.selectors import pair_evidence

    note = clean_note(note, "note")
    _check_pair(need, offer)
    with transaction.atomic():
        posts = {
            post.pk: post
            for post in Post.objects.select_for_update(of=("self",))
            .select_related("community", "member")
            .filter(pk__in=[need.pk, offer.pk])
        }
        need, offer = posts[need.pk], posts[offer.pk]
        problems = {
            side: _("#%(id)d is %(status)s; only open ones can be connected")
            % {"id": post.pk, "status": post.get_status_display()}
            for side, post in (("need", need), ("offer", offer))
            if post.status != PostStatus.OPEN
        }
        if problems:
            raise ExchangeError(problems)
        if Connection.objects.filter(need=need, offer=offer).exists():
            raise ExchangeError(
                _("Need #%(need)d and offer #%(offer)d are already connected.")
                % {"need": need.pk, "offer": offer.pk}
            )
        match = pair_evidence(need.community, need, offer)
        try:
            with transaction.atomic():
                connection = Connection.objects.create(
                    community=need.community,
                    need=need,
                    offer=offer,
                    score=round(match.score, 4),
                    evidence=match.evidence(),
                    note=note,
                    confirmed_at=timezone.now(),
                    confirmed_by=user_of(actor),
                )
        except IntegrityError:  # confirmed meanwhile by someone else
            raise ExchangeError(
                _("Need #%(need)d and offer #%(offer)d are already connected.")
                % {"need": need.pk, "offer": offer.pk}
            ) from None
        connection.event = _connection_event(connection, need, offer)
        connection.save(update_fields=["event"])
        entries = _award(connection, need, offer, actor)
        if close_need:
            need.status, need.closed_at = PostStatus.CLOSED, connection.confirmed_at
            need.status_note = _("met by offer #%(id)d") % {"id": offer.pk}
            need.save(update_fields=["status", "closed_at", "status_note", "updated_at"])
        audit.record(
            "exchange.connect",
            community=need.community,
            actor=actor,
            target=connection,
            details={
                "need": {"id": need.pk, "title": need.title, "member": need.member_id},
                "offer": {"id": offer.pk, "title": offer.title, "member": offer.member_id},
                "evidence": connection.evidence,
                "event": connection.event_id,
                "point_entries": entries,
                "closed_need": close_need,
                "note": note,
            },
        )
    if recompute:
        announce(connection.community, do_confirm_connection, 1)
    return connection


@transaction.atomic
def do_record_outcome(
    connection: Connection,
    outcome: str,
    *,
    value: Decimal | str | None = None,
    currency: str = "",
    note: str = "",
    actor: Any = None,
) -> Connection:
    """What came of a connection: helped, a deal made, or no result; with a value (amount and
    ISO 4217 currency) where there is one. It may be corrected later; every change is audited
    with what it replaced."""
    outcome, amount, code, text = clean_outcome(outcome, value, currency, note)
    current = Connection.objects.select_for_update().get(pk=connection.pk)
    before = connection_values(current)
    current.outcome = outcome
    current.value_amount = amount
    current.value_currency = code
    current.outcome_note = text
    current.outcome_at = timezone.now()
    current.save(
        update_fields=["outcome", "value_amount", "value_currency", "outcome_note", "outcome_at"]
    )
    audit.record(
        "exchange.outcome",
        community=current.community,
        actor=actor,
        target=current,
        details={"before": before, "after": connection_values(current)},
    )
    return current


@transaction.atomic
def do_dismiss_suggestion(need: Post, offer: Post, *, actor: Any = None) -> DismissedPair:
    """Turn a suggested pair down: it is never suggested again (a connection can still be
    confirmed by hand)."""
    _check_pair(need, offer)
    if Connection.objects.filter(need=need, offer=offer).exists():
        raise ExchangeError(
            _("Need #%(need)d and offer #%(offer)d are already connected.")
            % {"need": need.pk, "offer": offer.pk}
        )
    dismissed, created = DismissedPair.objects.get_or_create(
        need=need, offer=offer, defaults={"dismissed_by": user_of(actor)}
    )
    if created:
        audit.record(
            "exchange.dismiss",
            community=need.community,
            actor=actor,
            target=need,
            details={"need": need.pk, "offer": offer.pk},
        )
    return dismissed
