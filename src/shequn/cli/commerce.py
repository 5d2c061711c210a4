"""``shequn commerce``: the business model (社群商业模式) — offers, purchases and refunds, order
files, paid activity registrations, monthly costs, and the report (revenue per month, tier,
channel and offer; repeat rate; whether the community pays for itself).

Thin: every change goes through ``shequn.commerce.services``; refused changes name the problem
and exit non-zero (3 invalid data, 4 not found, 5 refused)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.markup import escape
from rich.table import Table

from shequn.cli import i18n
from shequn.cli.base import (
    EXIT_INVALID_DATA,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    bootstrap,
    console,
    fail,
)
from shequn.cli.i18n import _

if TYPE_CHECKING:
    from shequn.commerce.models import Offer, Purchase
    from shequn.communities.models import Community
    from shequn.members.models import Member

community_argument = click.argument("community_slug", metavar="COMMUNITY")
offer_argument = click.argument("offer_ref", metavar="OFFER")
KINDS = ("membership", "course", "product", "ticket", "other")
CATEGORIES = ("tools", "venue", "staff", "marketing", "content", "other")


@click.group(
    help=_(
        "The business model: offers, purchases and refunds, order files, costs, and whether "
        "the community pays for itself."
    )
)
def commerce() -> None:
    pass


@commerce.group(help=_("What the community sells: memberships, courses, products, tickets."))
def offers() -> None:
    pass


@commerce.group(help=_("Purchases: record, import from an order file, refund, list."))
def purchases() -> None:
    pass


@commerce.group(help=_("Operating costs per month (tools, venue, staff…)."))
def costs() -> None:
    pass


# ------------------------------------------------------------------------------ helpers
def _community(slug: str) -> Community:
    bootstrap()
    from shequn.communities.selectors import get_community

    return get_community(slug)


def _offer(community: Community, text: str) -> Offer:
    """An offer by id, code or name (any case)."""
    from django.db.models import Q

    from shequn.commerce.models import Offer

    offers_here = Offer.objects.filter(community=community)
    found = None
    if text.isdigit() and len(text) < 19:
        found = offers_here.filter(pk=int(text)).first()
    found = found or offers_here.filter(Q(code=text) | Q(name__iexact=text)).first()
    if found is None:
        fail(
            _(
                "no offer '%(offer)s' in this community (list them with: shequn commerce "
                "offers list)"
            )
            % {"offer": text},
            EXIT_NOT_FOUND,
        )
    return found


def _member(community: Community, text: str) -> Member:
    from shequn.activities.web_selectors import find_member

    found = find_member(community, text)
    if not found:
        fail(_("no member '%(member)s' in this community") % {"member": text}, EXIT_NOT_FOUND)
    if len(found) > 1:
        choices = ", ".join(f"#{m.pk} {m.display_name}" for m in found)
        fail(
            _("'%(key)s' matches several members (%(choices)s); use the member's id")
            % {"key": text, "choices": choices},
            EXIT_REFUSED,
        )
    return found[0]


def _purchase(community: Community, purchase_id: int) -> Purchase:
    from shequn.commerce.selectors import purchase_of

    found = purchase_of(community, purchase_id)
    if found is None:
        fail(_("no purchase #%(id)d in this community") % {"id": purchase_id}, EXIT_NOT_FOUND)
    return found


def _refused(error: Exception, exit_code: int = EXIT_INVALID_DATA) -> NoReturn:
    """Every problem of a refused change, one per line with its field, then exit."""
    problems = getattr(error, "problems", None) or {"": str(error)}
    lines = [f"{field}: {message}" if field else message for field, message in problems.items()]
    fail("\n".join(lines) + "\n" + _("Nothing was changed."), exit_code)


def pgettext(context: str, message: str) -> str:
    """A short word whose translation depends on its meaning (an offer for sale, not a
    member's offer of help): the CLI's catalogue with a context."""
    return i18n._translations.pgettext(context, message)


def _say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)


def _given(**values: Any) -> dict[str, Any]:
    """The options actually given (click passes None for the others)."""
    return {name: value for name, value in values.items() if value is not None}


def _percent(value: float | None) -> str:
    from shequn.commerce.texts import percent

    return percent(value)


# ------------------------------------------------------------------------------- offers
@offers.command("list", help=_("The offers, on sale first, with how many sold."))
@community_argument
@click.option("--on-sale", is_flag=True, help=_("Only the offers on sale."))
def list_offers(community_slug: str, on_sale: bool) -> None:
    found = _community(community_slug)
    from shequn.commerce.selectors import community_offers

    rows = list(community_offers(found, active=True if on_sale else None))
    table = Table(
        title=escape(_("Offers of %(name)s") % {"name": found.name}), title_justify="left"
    )
    for header in (
        _("Id"),
        pgettext("for sale", "Offer"),
        _("Kind"),
        _("List price"),
        _("Duration"),
        _("Sold"),
        _("On sale"),
    ):
        table.add_column(header)
    for offer in rows:
        table.add_row(
            str(offer.pk),
            escape(offer.name) + (f" [dim]{escape(offer.code)}[/]" if offer.code else ""),
            str(offer.get_kind_display()),
            f"{offer.price} {offer.currency}",
            _("%(days)d days") % {"days": offer.duration_days} if offer.duration_days else "-",
            str(offer.sold),
            _("yes") if offer.active else _("no"),
        )
    console.print(table)
    if not rows:
        _say(_("No offers yet."))


def _offer_options(required: bool) -> Any:
    def decorate(command: Any) -> Any:
        options = [
            click.option(
                "--kind", type=click.Choice(KINDS), required=required, help=_("What is sold.")
            ),
            click.option("--name", required=required, help=_("The offer's name (unique).")),
            click.option("--price", required=required, help=_("The list price, e.g. 399.00.")),
            click.option("--currency", required=required, help=_("ISO 4217, e.g. CNY.")),
            click.option("--code", default=None, help=_("The shop's product id or SKU.")),
            click.option(
                "--duration-days", type=int, default=None, help=_("Memberships: days one lasts.")
            ),
            click.option("--description", default=None, help=_("What it is.")),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@offers.command("add", help=_("Put something on sale."))
@community_argument
@_offer_options(required=True)
def add_offer(community_slug: str, **values: Any) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import CommerceError, do_create_offer

    try:
        offer = do_create_offer(found, _given(**values))
    except CommerceError as exc:
        _refused(exc)
    _say(_("Offer #%(id)d created: %(name)s.") % {"id": offer.pk, "name": escape(offer.name)})


@offers.command("edit", help=_("Change an offer (past purchases keep what they paid)."))
@community_argument
@offer_argument
@_offer_options(required=False)
def edit_offer(community_slug: str, offer_ref: str, **values: Any) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import CommerceError, do_update_offer

    offer = _offer(found, offer_ref)
    try:
        offer = do_update_offer(offer, _given(**values))
    except CommerceError as exc:
        _refused(exc)
    _say(_("Offer #%(id)d saved.") % {"id": offer.pk})


@offers.command("deactivate", help=_("Take an offer off sale (its purchases stay)."))
@community_argument
@offer_argument
def deactivate_offer(community_slug: str, offer_ref: str) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import do_set_offer_active

    offer = do_set_offer_active(_offer(found, offer_ref), False)
    _say(_("%(name)s is off sale.") % {"name": escape(offer.name)})


@offers.command("activate", help=_("Put an offer back on sale."))
@community_argument
@offer_argument
def activate_offer(community_slug: str, offer_ref: str) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import do_set_offer_active

    offer = do_set_offer_active(_offer(found, offer_ref), True)
    _say(_("%(name)s is on sale again.") % {"name": escape(offer.name)})


# ---------------------------------------------------------------------------- purchases
@purchases.command(
    "import",
    help=_(
        "Import an order file (CSV: order_id, time, member_key/account/name, offer, amount, "
        "currency, source): all of it or nothing; the same orders again add nothing."
    ),
)
@community_argument
@click.argument(
    "path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--dry-run", is_flag=True, help=_("Check the file and report; import nothing."))
@click.option("--create-members", is_flag=True, help=_("Add buyers who are not members yet."))
@click.option(
    "--time-zone",
    default=None,
    help=_("How to read times without an offset (default: the community's time zone)."),
)
def import_purchases(
    community_slug: str, path: Path, dry_run: bool, create_members: bool, time_zone: str | None
) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import CommerceError, do_import_purchases

    try:
        result = do_import_purchases(
            found,
            path,
            name=path.name,
            time_zone_name=time_zone,
            create_members=create_members,
            dry_run=dry_run,
        )
    except CommerceError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    values = {
        "file": escape(result.file),
        "rows": result.rows,
        "added": result.added,
        "unchanged": result.unchanged,
        "refunds": result.refunds_added,
        "not_paid": result.not_paid,
        "created": result.members_created,
    }
    if dry_run:
        _say(_("Checked only, nothing imported.") + " ")
    _say(
        _(
            "%(file)s: %(rows)s paid orders; %(added)s purchases added, %(unchanged)s imported "
            "before, %(refunds)s refunds recorded, %(not_paid)s never paid (skipped), "
            "%(created)s new members."
        )
        % values
    )
    for currency, amount in result.revenue_added.items():
        _say(_("Revenue added: %(amount)s %(currency)s") % {"amount": amount, "currency": currency})
    if result.ignored_columns:
        _say(
            _("Columns ignored: %(columns)s.")
            % {"columns": escape(", ".join(result.ignored_columns))}
        )


@purchases.command("add", help=_("Record a purchase (paid at the door, by transfer…)."))
@community_argument
@click.option("--member", required=True, help=_("The buyer: id, member key, name or handle."))
@click.option("--offer", "offer_ref", required=True, help=_("The offer: id, code or name."))
@click.option("--amount", default=None, help=_("Amount paid (default: the list price)."))
@click.option("--currency", default=None, help=_("Default: the offer's currency."))
@click.option("--at", "purchased_at", default=None, help=_("When (ISO 8601; default: now)."))
@click.option("--source", default=None, help=_("Acquisition channel (referral, ad, a group…)."))
@click.option("--order-id", default=None, help=_("The shop's order number."))
@click.option("--note", default=None)
def add_purchase(community_slug: str, member: str, offer_ref: str, **values: Any) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import CommerceError, do_record_purchase

    buyer, offer = _member(found, member), _offer(found, offer_ref)
    try:
        purchase = do_record_purchase(found, {"member": buyer, "offer": offer, **_given(**values)})
    except CommerceError as exc:
        _refused(exc)
    _say(
        _("Purchase #%(id)d recorded: %(member)s, %(offer)s, %(amount)s %(currency)s.")
        % {
            "id": purchase.pk,
            "member": escape(buyer.display_name),
            "offer": escape(offer.name),
            "amount": purchase.amount,
            "currency": purchase.currency,
        }
    )


@purchases.command("refund", help=_("Refund a purchase in full or in part (never deleted)."))
@community_argument
@click.argument("purchase_id", metavar="PURCHASE_ID", type=int)
@click.option("--amount", default=None, help=_("Default: all that is left."))
@click.option("--reason", default="", help=_("Why."))
@click.option("--at", "refunded_at", default=None, help=_("When (ISO 8601; default: now)."))
def refund_purchase(
    community_slug: str, purchase_id: int, amount: str | None, reason: str, refunded_at: str | None
) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import CommerceError, do_refund_purchase

    purchase = _purchase(found, purchase_id)
    try:
        refund = do_refund_purchase(purchase, amount=amount, reason=reason, refunded_at=refunded_at)
    except CommerceError as exc:
        _refused(exc, EXIT_REFUSED)
    _say(
        _("Refund of %(amount)s %(currency)s recorded (refunded in total: %(total)s).")
        % {
            "amount": refund.amount,
            "currency": purchase.currency,
            "total": purchase.refunded_amount,
        }
    )


@purchases.command("list", help=_("Purchases, newest first."))
@community_argument
@click.option("--offer", "offer_ref", default=None, help=_("Only this offer (id, code or name)."))
@click.option("--member", default=None, help=_("Only this buyer."))
@click.option("--refunded", type=click.Choice(["yes", "no"]), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_purchases(
    community_slug: str, offer_ref: str | None, member: str | None, refunded: str | None, limit: int
) -> None:
    found = _community(community_slug)
    from shequn.commerce.selectors import PurchaseFilters, community_purchases

    filters = PurchaseFilters(
        offer_id=_offer(found, offer_ref).pk if offer_ref else None,
        member_id=_member(found, member).pk if member else None,
        refunded=refunded or "",
    )
    rows = list(community_purchases(found, filters)[:limit])
    zone = found.zoneinfo
    table = Table(
        title=escape(_("Purchases of %(name)s") % {"name": found.name}), title_justify="left"
    )
    for header in (
        _("Id"),
        _("When"),
        _("Buyer"),
        pgettext("for sale", "Offer"),
        _("Paid"),
        _("Refunded"),
        _("Channel"),
        _("Order id"),
    ):
        table.add_column(header)
    for purchase in rows:
        table.add_row(
            str(purchase.pk),
            f"{purchase.purchased_at.astimezone(zone):%Y-%m-%d %H:%M}",
            escape(purchase.member.display_name),
            escape(purchase.offer.name),
            f"{purchase.amount} {purchase.currency}",
            str(purchase.refunded_amount) if purchase.refunded_amount else "",
            escape(purchase.source),
            escape(purchase.order_id),
        )
    console.print(table)
    if not rows:
        _say(_("No purchases."))


@purchases.command(
    "from-activities",
    help=_("Bring paid activity registrations in as ticket purchases (again: adds nothing)."),
)
@community_argument
def from_activities(community_slug: str) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import do_import_activity_tickets

    result = do_import_activity_tickets(found)
    _say(
        _(
            "Activity tickets: %(added)s purchases added, %(refunds)s refunds recorded, "
            "%(unchanged)s already there (from %(registrations)s paid registrations)."
        )
        % {
            "added": result.added,
            "refunds": result.refunds_added,
            "unchanged": result.unchanged,
            "registrations": result.registrations,
        }
    )


# -------------------------------------------------------------------------------- costs
@costs.command("add", help=_("Record a month's cost, or the same cost for several months."))
@community_argument
@click.option("--month", required=True, help=_("e.g. 2024-03."))
@click.option("--category", type=click.Choice(CATEGORIES), required=True)
@click.option("--amount", required=True, help=_("e.g. 300.00."))
@click.option("--currency", required=True, help=_("ISO 4217, e.g. CNY."))
@click.option("--description", default="")
@click.option("--repeat", default=1, show_default=True, type=int, help=_("For this many months."))
def add_cost(community_slug: str, repeat: int, **values: Any) -> None:
    found = _community(community_slug)
    from shequn.commerce.services import CommerceError, do_add_cost

    try:
        added = do_add_cost(found, values, repeat=repeat)
    except CommerceError as exc:
        _refused(exc)
    _say(_("%(n)d month(s) of cost recorded.") % {"n": len(added)})


@costs.command("list", help=_("Costs, latest month first."))
@community_argument
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_costs(community_slug: str, limit: int) -> None:
    found = _community(community_slug)
    from shequn.commerce.selectors import community_costs

    rows = list(community_costs(found)[:limit])
    table = Table(title=escape(_("Costs of %(name)s") % {"name": found.name}), title_justify="left")
    for header in (_("Id"), _("Month"), _("Category"), _("Description"), _("Amount")):
        table.add_column(header)
    for cost in rows:
        table.add_row(
            str(cost.pk),
            f"{cost.month:%Y-%m}",
            str(cost.get_category_display()),
            escape(cost.description),
            f"{cost.amount} {cost.currency}",
        )
    console.print(table)
    if not rows:
        _say(_("No costs recorded."))


@costs.command("delete", help=_("Remove a cost entered by mistake (the audit log keeps it)."))
@community_argument
@click.argument("cost_id", metavar="COST_ID", type=int)
def delete_cost(community_slug: str, cost_id: int) -> None:
    found = _community(community_slug)
    from shequn.commerce.models import Cost
    from shequn.commerce.services import do_delete_cost

    cost = Cost.objects.filter(community=found, pk=cost_id).first()
    if cost is None:
        fail(_("no cost #%(id)d in this community") % {"id": cost_id}, EXIT_NOT_FOUND)
    do_delete_cost(cost)
    _say(_("Cost #%(id)d removed.") % {"id": cost_id})


# ------------------------------------------------------------------------------- report
@commerce.command(
    "report",
    help=_(
        "Revenue per month, tier, acquisition channel and offer; repeat rate, renewals, revenue "
        "per paying member, costs and whether the community pays for itself."
    ),
)
@community_argument
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 60))
@click.option("--json", "as_json", is_flag=True, help=_("Print the report as JSON."))
def report(community_slug: str, months: int, as_json: bool) -> None:
    found = _community(community_slug)
    from shequn.commerce import reporting
    from shequn.commerce.texts import verdicts

    figures = reporting.business_report(found, months=months)
    if as_json:
        click.echo(json.dumps(reporting.as_json(figures), ensure_ascii=False, indent=2))
        return
    currencies = figures["currencies"]
    _say(
        f"[bold]{escape(found.name)}[/] · "
        + _("%(months)d months from %(start)s (%(zone)s)")
        % {
            "months": months,
            "start": f"{figures['period']['start']:%Y-%m-%d}",
            "zone": figures["period"]["time_zone"],
        }
    )
    if not currencies:
        _say(_("No purchases or costs in this period."))
        return
    for verdict in verdicts(figures):
        _say(escape(verdict["text"]))
    _say(
        _(
            "%(purchases)d purchases by %(buyers)d buyers; repeat rate %(rate)s; "
            "%(refunded)d refunded in full."
        )
        % {
            "purchases": figures["purchases"],
            "buyers": figures["buyers"],
            "rate": _percent(figures["repeat_rate"]),
            "refunded": figures["refunded_in_full"],
        }
    )
    months_table = Table(title=_("Per month"), title_justify="left")
    months_table.add_column(_("Month"))
    for currency in currencies:
        for label in (_("revenue"), _("costs"), _("revenue − costs")):
            months_table.add_column(f"{label} {currency}", justify="right")
    for month in figures["months"]:
        cells = [f"{month['month']:%Y-%m}"]
        for currency in currencies:
            values = month["currencies"][currency]
            cells += [str(values["revenue"]), str(values["costs"]), str(values["balance"])]
        months_table.add_row(*cells)
    console.print(months_table)
    totals = Table(title=_("Per currency"), title_justify="left")
    for header in (
        _("Currency"),
        _("Revenue"),
        _("Refunded"),
        _("Costs"),
        _("Revenue − costs"),
        _("Per paying member"),
        _("Top tenth's share"),
    ):
        totals.add_column(header, justify="right")
    for currency in currencies:
        values = figures["totals"][currency]
        totals.add_row(
            currency,
            str(values["revenue"]),
            str(values["refunded"]),
            str(values["costs"]),
            str(values["balance"]),
            str(values["revenue_per_paying_member"] or "-"),
            _percent(values["top_buyers_share"]),
        )
    console.print(totals)
    for title, rows, name in (
        (_("Per tier (on the purchase day)"), figures["by_tier"], "label"),
        (_("Per acquisition channel"), figures["by_channel"], "channel"),
        (_("Per offer"), figures["by_offer"], "name"),
    ):
        console.print(_breakdown(title, rows, name, currencies))


def _breakdown(title: str, rows: list[dict[str, Any]], name: str, currencies: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column(_("Purchases"), justify="right")
    table.add_column(_("Buyers"), justify="right")
    offers_table = name == "name"
    if offers_table:
        table.add_column(_("Bought again"), justify="right")
        table.add_column(_("Renewals"), justify="right")
    for currency in currencies:
        table.add_column(currency, justify="right")
    for row in rows:
        cells = [escape(str(row[name])), str(row["purchases"]), str(row["buyers"])]
        if offers_table:
            renewal = row["renewal"]
            cells.append(_percent(row["repurchase_rate"]))
            cells.append(
                f"{_percent(renewal['rate'])} ({renewal['renewed']}/{renewal['due']})"
                if renewal
                else "-"
            )
        for currency in currencies:
            amount: Decimal | None = row["revenue"].get(currency)
            share = row["share"].get(currency)
            cells.append(f"{amount} ({_percent(share)})" if amount is not None else "-")
        table.add_row(*cells)
    return table


COMMANDS: list[click.Command] = [commerce]
