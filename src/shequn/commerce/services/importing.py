"""Importing an order file: all of it or nothing, and the same file twice changes nothing.

The file is read and checked whole first (``csv_io.read_orders``); then, in one transaction,
offers and buyers are resolved (a few set-based queries whatever the file's size), orders
already stored are compared with the file, and the new ones written in bulk. Any problem — an
unknown offer, a buyer who is nobody or several people, an order stored before with another
amount — raises ``ImportFormatError`` naming the file, the line and the problem, and nothing
is written. An order stored before whose file row now says it was refunded gets the refund.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.commerce.csv_io import OrderRow, ParsedOrders, read_orders
from shequn.commerce.models import Offer, Purchase, Refund
from shequn.commerce.services.common import user_or_none
from shequn.commerce.validation import CommerceError, time_zone
from shequn.communities.models import Community, Platform
from shequn.communities.services import get_or_create_channel
from shequn.interactions.importers.csv_files import line_label
from shequn.interactions.importers.records import ImportFormatError
from shequn.members.models import Identity, Member

# Accounts of members created from an order file live on this channel (one per platform), so
# a later import of the platform's chats finds the same person where its user ids are global.
PURCHASES_CHANNEL_ID = "shequn-purchases"
PURCHASES_CHANNEL_NAME = "Purchases"
CHUNK = 500


@dataclass
class PurchaseImportResult:
    """What an import did, to reconcile with the shop's own export."""

    file: str
    rows: int = 0  # paid orders in the file
    added: int = 0
    unchanged: int = 0  # imported before, nothing new
    refunds_added: int = 0
    not_paid: int = 0  # orders never paid (cancelled, unpaid): skipped
    members_created: int = 0
    revenue_added: dict[str, str] = field(default_factory=dict)  # currency -> net, as text
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


class _Offers:
    """The community's offers by code, by name (any case) and by id: an order file names an
    offer in one of these ways."""

    def __init__(self, community: Community) -> None:
        self.all = list(Offer.objects.filter(community=community).order_by("name"))
        self.by_code = {offer.code: offer for offer in self.all if offer.code}
        self.by_name = {offer.name.lower(): offer for offer in self.all}
        self.by_id = {str(offer.pk): offer for offer in self.all}

    def find(self, text: str) -> Offer | None:
        return (
            self.by_code.get(text)
            or self.by_name.get(text.lower())
            or self.by_id.get(text.removeprefix("#"))
        )


def _offer_of(offers: _Offers, row: OrderRow, label: str) -> Offer:
    found = offers.find(row.offer)
    if found is None:
        known = ", ".join(repr(offer.name) for offer in offers.all[:10]) or "-"
        raise ImportFormatError(
            label,
            line_label(row.line),
            _(
                "no offer %(offer)s (by code, name or id; known: %(known)s); add it first "
                "with: shequn commerce offers add"
            )
            % {"offer": repr(row.offer), "known": known},
        )
    return found


class _Buyers:
    """Finds the member of each order row: by id, else member key, else platform account,
    else display name — the first that finds exactly one person. Several people for one
    value is an error (never a guess); so is nobody, unless members may be created."""

    def __init__(self, community: Community, rows: list[OrderRow]) -> None:
        self.community = community
        members = Member.objects.filter(community=community)
        ids = sorted({row.member_id for row in rows if row.member_id is not None})
        keys = sorted({row.member_key.lower() for row in rows if row.member_key})
        accounts = sorted({row.account for row in rows if row.account})
        names = sorted({row.name for row in rows if row.name})
        self.by_id: dict[int, Member] = {}
        self.by_key: dict[str, Member] = {}
        self.by_uid: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.by_handle: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.members: dict[int, Member] = {}
        for chunk in _chunks(ids):
            for member in members.filter(pk__in=chunk):
                self.by_id[member.pk] = member
        for chunk in _chunks(keys):
            for member in members.annotate(lower_key=Lower("key")).filter(lower_key__in=chunk):
                self.by_key[member.lower_key] = member
        for chunk in _chunks(accounts):
            identities = Identity.objects.filter(member__community=community).filter(
                Q(platform_user_id__in=chunk) | Q(handle__in=chunk)
            )
            for member_id, uid, handle, platform in identities.values_list(
                "member_id", "platform_user_id", "handle", "channel__platform"
            ):
                for where in (platform, ""):
                    if uid in chunk:
                        self.by_uid[(where, uid)].add(member_id)
                    if handle in chunk:
                        self.by_handle[(where, handle)].add(member_id)
        for chunk in _chunks(names):
            for member_id, name in members.filter(display_name__in=chunk).values_list(
                "pk", "display_name"
            ):
                self.by_name[name].add(member_id)
        wanted = set().union(
            *self.by_uid.values(), *self.by_handle.values(), *self.by_name.values()
        )
        for chunk in _chunks(sorted(wanted)):
            for member in members.filter(pk__in=chunk):
                self.members[member.pk] = member

    def _one(self, found: set[int], what: str, value: str, label: str, line: int) -> Member | None:
        if len(found) > 1:
            people = sorted(found)[:5]
            raise ImportFormatError(
                label,
                line_label(line),
                _(
                    "%(what)s %(value)s matches several members (%(choices)s); say who with "
                    "a %(column)s column"
                )
                % {
                    "what": what,
                    "value": repr(value),
                    "choices": ", ".join(f"#{pk} {self.members[pk].display_name}" for pk in people),
                    "column": "member_id",
                },
            )
        return self.members[next(iter(found))] if found else None

    def find(self, row: OrderRow, label: str) -> Member | None:
        if row.member_id is not None:
            member = self.by_id.get(row.member_id)
            if member is None:
                raise ImportFormatError(
                    label,
                    line_label(row.line),
                    _("no member #%(id)d in this community") % {"id": row.member_id},
                )
            return member
        if row.member_key:
            member = self.by_key.get(row.member_key.lower())
            if member is not None:
                return member
        found = None
        if row.account:
            place = (row.platform, row.account)
            found = self._one(
                self.by_uid.get(place, set()), "account", row.account, label, row.line
            )
            if found is None:
                found = self._one(
                    self.by_handle.get(place, set()), "account", row.account, label, row.line
                )
        if found is None and row.name:
            found = self._one(self.by_name.get(row.name, set()), "name", row.name, label, row.line)
        # A member with another key is another person (the rule merges follow too).
        if (
            found is not None
            and row.member_key
            and found.key
            and found.key.lower() != row.member_key.lower()
        ):
            return None
        return found


def _who(row: OrderRow) -> str:
    return row.member_key or row.account or row.name


def _create_members(community: Community, rows: list[OrderRow]) -> dict[int, Member]:
    """One new member per person named by the rows (line -> member), with the member key and,
    for an account, an identity on the platform's purchases channel."""
    people: dict[tuple[str, ...], Member] = {}
    accounts: dict[tuple[str, ...], tuple[str, str]] = {}
    by_line: dict[int, tuple[str, ...]] = {}
    for row in rows:
        if row.member_key:
            person: tuple[str, ...] = ("key", row.member_key.lower())
        elif row.account:
            person = ("account", row.platform, row.account)
        else:
            person = ("name", row.name)
        by_line[row.line] = person
        if person not in people:
            people[person] = Member(
                community=community,
                display_name=row.name or row.account or row.member_key,
                key=row.member_key,
            )
            if row.account:
                accounts[person] = (row.platform or Platform.OTHER, row.account)
    Member.objects.bulk_create(list(people.values()))  # sets their ids (RETURNING)
    identities = []
    channels: dict[str, Any] = {}
    for person, (platform, account) in accounts.items():
        if platform not in channels:
            channels[platform], _created = get_or_create_channel(
                community,
                platform=platform,
                external_id=PURCHASES_CHANNEL_ID,
                name=PURCHASES_CHANNEL_NAME,
            )
        identities.append(
            Identity(
                member=people[person],
                channel=channels[platform],
                platform_user_id=account,
                handle=account,
            )
        )
    # An account already there belongs to someone with another member key: keep theirs.
    Identity.objects.bulk_create(identities, ignore_conflicts=True)
    return {line: people[person] for line, person in by_line.items()}


def _compare(row: OrderRow, offer: Offer, stored: dict[str, Any], label: str) -> None:
    """An order stored before must say the same now; a change is refused (correct it with a
    refund, never by rewriting what was sold)."""
    file_values = {
        "offer": offer.pk,
        "amount": row.amount if row.amount is not None else offer.price,
        "currency": row.currency or offer.currency,
        "time": row.purchased_at,
    }
    stored_values = {
        "offer": stored["offer_id"],
        "amount": stored["amount"],
        "currency": stored["currency"],
        "time": stored["purchased_at"],
    }
    for name, value in file_values.items():
        if stored_values[name] != value:
            shown = {"offer": lambda pk: f"#{pk}", "time": dt.datetime.isoformat}.get(name, str)
            raise ImportFormatError(
                label,
                line_label(row.line),
                _(
                    "order %(order)s was imported before (purchase #%(id)d) with %(field)s "
                    "%(stored)s, and this file says %(value)s; a purchase is not rewritten "
                    "(record a refund to correct it)"
                )
                % {
                    "order": repr(row.order_id),
                    "id": stored["pk"],
                    "field": name,
                    "stored": shown(stored_values[name]),
                    "value": shown(value),
                },
            )


def _refund_total(row: OrderRow, amount: Decimal) -> Decimal:
    return amount if row.refund_in_full else row.refund_amount


def do_import_purchases(
    community: Community,
    source: Path | str | IO[bytes],
    *,
    name: str | None = None,
    time_zone_name: str | None = None,
    create_members: bool = False,
    dry_run: bool = False,
    actor: Any = None,
) -> PurchaseImportResult:
    """Import an order file (see ``csv_io``): all or nothing, idempotent by order id.

    ``time_zone_name``: how to read times without an offset (default: the community's time
    zone). ``create_members``: add people nobody in the community matches, instead of
    refusing the file. ``dry_run``: check everything and report, then write nothing.
    """
    try:
        zone = time_zone(time_zone_name, community.time_zone)
    except ValueError as exc:
        raise CommerceError(str(exc), field="time_zone") from None
    parsed = read_orders(source, zone, name=name)
    with transaction.atomic():
        result = _import(community, parsed, create_members=create_members, actor=actor)
        result.dry_run = dry_run
        if dry_run:
            transaction.set_rollback(True)
        elif result.added or result.refunds_added or result.members_created:
            audit.record(
                "commerce.purchases.import",
                community=community,
                actor=actor,
                details={
                    "file": result.file,
                    "rows": result.rows,
                    "added": result.added,
                    "unchanged": result.unchanged,
                    "refunds_added": result.refunds_added,
                    "not_paid": result.not_paid,
                    "members_created": result.members_created,
                    "revenue_added": result.revenue_added,
                },
            )
    return result


def _import(
    community: Community, parsed: ParsedOrders, *, create_members: bool, actor: Any
) -> PurchaseImportResult:
    label, user = parsed.name, user_or_none(actor)
    result = PurchaseImportResult(
        file=label, rows=len(parsed.rows), not_paid=parsed.not_paid, ignored_columns=parsed.ignored
    )
    offers = _Offers(community)
    offer_of = {row.line: _offer_of(offers, row, label) for row in parsed.rows}
    stored = _stored_orders(community, parsed.rows)
    new_rows = [row for row in parsed.rows if row.order_id not in stored]
    for row in new_rows:
        _check_refund(row, _amount(row, offer_of), label)
    refunds, refunded = _follow_stored(parsed, stored, offer_of, result, user)
    member_of = _buyers(community, new_rows, label, create_members=create_members, result=result)
    purchases = []
    for row in new_rows:
        offer, amount = offer_of[row.line], _amount(row, offer_of)
        refund = _refund_total(row, amount)
        currency = row.currency or offer.currency
        purchases.append(
            Purchase(
                community=community,
                offer=offer,
                member=member_of[row.line],
                amount=amount,
                currency=currency,
                purchased_at=row.purchased_at,
                source=row.source,
                order_id=row.order_id,
                origin=Purchase.Origin.IMPORT,
                note=row.note,
                refunded_amount=refund,
                created_by=user,
            )
        )
        _add(result.revenue_added, currency, amount - refund)
    try:
        with transaction.atomic():
            Purchase.objects.bulk_create(purchases, batch_size=CHUNK)
    except IntegrityError:
        raise ImportFormatError(
            label, "", _("another import stored some of these orders meanwhile; import again")
        ) from None
    result.added = len(purchases)
    with_refunds = [row for row in new_rows if _refund_total(row, _amount(row, offer_of)) > 0]
    ids = _stored_orders(community, with_refunds)
    for row in with_refunds:
        amount = _refund_total(row, _amount(row, offer_of))
        refunds.append(_refund(ids[row.order_id]["pk"], amount, row, label, user))
    Purchase.objects.bulk_update(refunded, ["refunded_amount"], batch_size=CHUNK)
    Refund.objects.bulk_create(refunds, batch_size=CHUNK)
    result.refunds_added = len(refunds)
    return result


def _stored_orders(community: Community, rows: list[OrderRow]) -> dict[str, dict[str, Any]]:
    """The purchases already stored for these rows' order ids (a query per 500 rows)."""
    stored: dict[str, dict[str, Any]] = {}
    for chunk in _chunks([row.order_id for row in rows]):
        for values in Purchase.objects.filter(community=community, order_id__in=chunk).values(
            "pk", "order_id", "offer_id", "amount", "currency", "purchased_at", "refunded_amount"
        ):
            stored[values["order_id"]] = values
    return stored


def _check_refund(row: OrderRow, amount: Decimal, label: str) -> None:
    refund = _refund_total(row, amount)
    if refund > amount:
        raise ImportFormatError(
            label,
            line_label(row.line),
            _("refund_amount %(refund)s is more than the amount paid %(amount)s")
            % {"refund": refund, "amount": amount},
        )


def _follow_stored(
    parsed: ParsedOrders,
    stored: dict[str, dict[str, Any]],
    offer_of: dict[int, Offer],
    result: PurchaseImportResult,
    user: Any,
) -> tuple[list[Refund], list[Purchase]]:
    """Orders imported before: the file must say the same; a refund it now shows is recorded
    (the refunds to add, and the purchases with their new refunded total)."""
    refunds: list[Refund] = []
    refunded: list[Purchase] = []
    for row in parsed.rows:
        before = stored.get(row.order_id)
        if before is None:
            continue
        _compare(row, offer_of[row.line], before, parsed.name)
        total = _refund_total(row, before["amount"])
        _check_refund(row, before["amount"], parsed.name)
        if total > before["refunded_amount"]:
            more = total - before["refunded_amount"]
            refunds.append(_refund(before["pk"], more, row, parsed.name, user))
            refunded.append(Purchase(pk=before["pk"], refunded_amount=total))
            _add(result.revenue_added, before["currency"], -more)
        else:
            result.unchanged += 1
    return refunds, refunded


def _buyers(
    community: Community,
    rows: list[OrderRow],
    label: str,
    *,
    create_members: bool,
    result: PurchaseImportResult,
) -> dict[int, Member]:
    """The member of every new row (line -> member); nobody matching is an error, unless
    members may be created."""
    buyers = _Buyers(community, rows)
    member_of: dict[int, Member] = {}
    nobody: list[OrderRow] = []
    for row in rows:
        member = buyers.find(row, label)
        if member is None:
            nobody.append(row)
        else:
            member_of[row.line] = member
    if nobody and not create_members:
        row = nobody[0]
        raise ImportFormatError(
            label,
            line_label(row.line),
            _("no member matches %(who)s; allow new members to add them (%(option)s)")
            % {"who": repr(_who(row)), "option": "--create-members"},
        )
    if nobody:
        created = _create_members(community, nobody)
        member_of.update(created)
        result.members_created = len({member.pk for member in created.values()})
    return member_of


def _amount(row: OrderRow, offer_of: dict[int, Offer]) -> Decimal:
    return row.amount if row.amount is not None else offer_of[row.line].price


def _refund(purchase_id: int, amount: Decimal, row: OrderRow, label: str, user: Any) -> Refund:
    return Refund(
        purchase_id=purchase_id,
        amount=amount,
        refunded_at=row.refunded_at or row.purchased_at,
        reason=_("imported from %(file)s, %(line)s")
        % {"file": Path(label).name, "line": line_label(row.line)},
        created_by=user,
    )


def _add(totals: dict[str, str], currency: str, amount: Decimal) -> None:
    totals[currency] = str(Decimal(totals.get(currency, "0")) + amount)
