"""``shequn exchange``: needs and offers, suggested introductions with their evidence,
connections and their outcomes, the monthly report, the settings and the public form. Thin:
every change goes through ``shequn.exchange.services``; refused changes name the problem and
exit non-zero (3 invalid values, 4 not found, 5 refused)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.markup import escape
from rich.table import Table

from shequn.cli.base import (
    EXIT_INVALID_DATA,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_USAGE,
    bootstrap,
    console,
    fail,
)
from shequn.cli.i18n import _

if TYPE_CHECKING:
    from shequn.communities.models import Community
    from shequn.exchange.models import Connection, Post
    from shequn.members.models import Member

community_argument = click.argument("community_slug", metavar="COMMUNITY")


@click.group(
    help=_(
        "Needs and offers: post them, see suggested introductions with their evidence, "
        "confirm connections, report their outcomes and the value created."
    )
)
def exchange() -> None:
    pass


# ------------------------------------------------------------------------------ helpers
def _community(slug: str) -> Community:
    bootstrap()
    from shequn.communities.selectors import get_community

    return get_community(slug)


def _post(post_id: int, kind: str = "") -> Post:
    bootstrap()
    from shequn.exchange.models import Post
    from shequn.exchange.selectors import with_tags

    found = with_tags(Post.objects.filter(pk=post_id)).select_related("community").first()
    if found is None or (kind and found.kind != kind):
        message = {
            "need": _("there is no need #%(id)d (see: shequn exchange list COMMUNITY)"),
            "offer": _("there is no offer #%(id)d (see: shequn exchange list COMMUNITY)"),
        }.get(kind, _("there is no need or offer #%(id)d (see: shequn exchange list COMMUNITY)"))
        fail(message % {"id": post_id}, EXIT_NOT_FOUND)
    return found


def _connection(connection_id: int) -> Connection:
    bootstrap()
    from shequn.exchange.models import Connection

    found = (
        Connection.objects.select_related("community", "need__member", "offer__member")
        .filter(pk=connection_id)
        .first()
    )
    if found is None:
        fail(
            _("no connection #%(id)d (list them with: shequn exchange connections COMMUNITY)")
            % {"id": connection_id},
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


def _refused(error: Exception, exit_code: int = EXIT_REFUSED) -> NoReturn:
    """Every problem of a refused change, one per line with its field, then exit."""
    problems = getattr(error, "problems", None) or {"": str(error)}
    lines = [f"{field}: {message}" if field else message for field, message in problems.items()]
    fail("\n".join(lines) + "\n" + _("Nothing was changed."), exit_code)


def _say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)


def _label(post: Post) -> str:
    return f"{post.get_kind_display()} #{post.pk} {escape(post.title)}"


def _posts_table(title: str, posts: list[Post]) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for header in (_("Id"), _("Kind"), _("Title"), _("Member"), _("Tags"), _("Status")):
        table.add_column(header)
    for post in posts:
        table.add_row(
            str(post.pk),
            str(post.get_kind_display()),
            escape(post.title),
            escape(post.person),
            escape(", ".join(post.tag_names)),
            str(post.get_status_display()),
        )
    return table


def _evidence(evidence: dict[str, Any]) -> str:
    tags = ", ".join(evidence.get("shared_tags") or []) or "-"
    terms = ", ".join(evidence.get("shared_terms") or []) or "-"
    return _(
        "score %(score).2f (tags %(tag).2f, text %(text).2f); shared tags: %(tags)s; "
        "shared words: %(terms)s"
    ) % {
        "score": evidence.get("score", 0),
        "tag": evidence.get("tag_score", 0),
        "text": evidence.get("text_score", 0),
        "tags": escape(tags),
        "terms": escape(terms),
    }


# -------------------------------------------------------------------------------- posts
@exchange.command("post", help=_("Post a member's need or offer (open at once)."))
@community_argument
@click.option("--need", "kind", flag_value="need", help=_("It is a need."))
@click.option("--offer", "kind", flag_value="offer", help=_("It is an offer."))
@click.option("--member", required=True, metavar="MEMBER", help=_("A member's id, key or name."))
@click.option("--title", required=True, help=_("What is needed or offered, in a line."))
@click.option("--description", default="", help=_("More about it."))
@click.option("--tags", default="", help=_("Comma-separated, e.g. design,小程序."))
def post(
    community_slug: str, kind: str | None, member: str, title: str, description: str, tags: str
) -> None:
    if kind is None:
        fail(_("say --need or --offer"), EXIT_USAGE)
    found = _community(community_slug)
    from shequn.exchange.services import ExchangeError, do_create_post

    values = {"kind": kind, "title": title, "description": description, "tags": tags}
    try:
        created = do_create_post(found, values, member=_member(found, member))
    except ExchangeError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(_("Posted %(post)s for %(member)s.") % {"post": _label(created), "member": member})


@exchange.command("list", help=_("Needs and offers, newest first."))
@community_argument
@click.option("--kind", type=click.Choice(["need", "offer"]), default=None)
@click.option(
    "--status",
    type=click.Choice(["open", "pending", "closed", "rejected", "all"]),
    default="open",
    show_default=True,
)
@click.option("--tag", default="", help=_("Only posts with this tag."))
@click.option("--search", default="", help=_("Words in the title, text or name."))
@click.option("--limit", default=50, show_default=True, help=_("How many posts."))
def list_posts(
    community_slug: str, kind: str | None, status: str, tag: str, search: str, limit: int
) -> None:
    found = _community(community_slug)
    from shequn.exchange.selectors import PostFilters, community_posts

    filters = PostFilters(
        kind=kind or "", status="" if status == "all" else status, tag=tag, search=search
    )
    posts = list(community_posts(found, filters)[:limit])
    console.print(_posts_table(_("Needs and offers of %(name)s") % {"name": found.name}, posts))
    if not posts:
        _say(_("Nothing matches."))


@exchange.command("show", help=_("One need or offer, with its suggestions and connections."))
@click.argument("post_id", metavar="POST", type=int)
def show(post_id: int) -> None:
    found = _post(post_id)
    from shequn.exchange.selectors import post_connections, suggestions

    _say(f"[bold]{_label(found)}[/]  {found.get_status_display()}")
    member, contact, tags = _("Member"), _("Contact"), _("Tags")
    _say(f"{member}: {escape(found.person)}")
    if found.submitter_contact:
        _say(f"{contact}: {escape(found.submitter_contact)}")
    _say(f"{tags}: {escape(', '.join(found.tag_names)) or '-'}")
    if found.description:
        _say(escape(found.description))
    if found.status == "open":
        side = {"need": found} if found.kind == "need" else {"offer": found}
        for suggestion in suggestions(found.community, limit=10, **side):
            other = suggestion.offer if found.kind == "need" else suggestion.need
            _say(f"  → {_label(other)} ({escape(other.person)})")
            _say(f"    {_evidence(suggestion.match.evidence())}")
    for connection in post_connections(found):
        _say(
            _("Connection #%(id)d: need #%(need)d → offer #%(offer)d, %(outcome)s")
            % {
                "id": connection.pk,
                "need": connection.need_id,
                "offer": connection.offer_id,
                "outcome": connection.get_outcome_display() or _("outcome not reported yet"),
            }
        )


@exchange.command("edit", help=_("Change a post's title, description or tags."))
@click.argument("post_id", metavar="POST", type=int)
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option("--tags", default=None, help=_("Comma-separated; replaces the tags."))
def edit(post_id: int, title: str | None, description: str | None, tags: str | None) -> None:
    found = _post(post_id)
    from shequn.exchange.services import ExchangeError, do_update_post

    values = {
        name: value
        for name, value in (("title", title), ("description", description), ("tags", tags))
        if value is not None
    }
    try:
        do_update_post(found, values)
    except ExchangeError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(_("Saved %(post)s.") % {"post": _label(_post(post_id))})


def _move(post_id: int, action: str, **kwargs: Any) -> None:
    found = _post(post_id)
    from shequn.exchange import services

    do = {
        "close": services.do_close_post,
        "reopen": services.do_reopen_post,
        "reject": services.do_reject_post,
        "approve": services.do_approve_post,
    }[action]
    if kwargs.get("member"):
        kwargs["member"] = _member(found.community, kwargs["member"])
    try:
        moved = do(found, **kwargs)
    except services.ExchangeError as exc:
        _refused(exc)
    _say(
        _("%(post)s is now %(status)s.")
        % {"post": _label(moved), "status": moved.get_status_display()}
    )


@exchange.command("close", help=_("Close an open post: it is no longer suggested."))
@click.argument("post_id", metavar="POST", type=int)
@click.option("--reason", default="", help=_("Why; kept with the post."))
def close(post_id: int, reason: str) -> None:
    _move(post_id, "close", reason=reason)


@exchange.command("reopen", help=_("Reopen a closed post."))
@click.argument("post_id", metavar="POST", type=int)
def reopen(post_id: int) -> None:
    _move(post_id, "reopen")


@exchange.command("approve", help=_("Approve a public submission for a member or a new one."))
@click.argument("post_id", metavar="POST", type=int)
@click.option("--member", default=None, metavar="MEMBER", help=_("The member who sent it."))
@click.option("--new-member", is_flag=True, help=_("Make a new member from the name given."))
def approve(post_id: int, member: str | None, new_member: bool) -> None:
    if bool(member) == new_member:
        fail(_("give either --member or --new-member"), EXIT_USAGE)
    _move(post_id, "approve", member=member, create_member=new_member)


@exchange.command("reject", help=_("Reject a public submission."))
@click.argument("post_id", metavar="POST", type=int)
@click.option("--reason", default="", help=_("Why; kept with the post."))
def reject(post_id: int, reason: str) -> None:
    _move(post_id, "reject", reason=reason)


# ------------------------------------------------------------------ suggestions, pairs
@exchange.command("suggest", help=_("Suggested introductions with their evidence, best first."))
@community_argument
@click.option("--need", "need_id", type=int, default=None, help=_("Only this need's offers."))
@click.option("--offer", "offer_id", type=int, default=None, help=_("Only this offer's needs."))
@click.option("--limit", default=10, show_default=True, help=_("How many suggestions."))
def suggest(community_slug: str, need_id: int | None, offer_id: int | None, limit: int) -> None:
    found = _community(community_slug)
    from shequn.exchange.selectors import suggestions

    need = _post(need_id, "need") if need_id else None
    offer = _post(offer_id, "offer") if offer_id else None
    for post_found in (need, offer):
        if post_found is not None and post_found.community_id != found.pk:
            fail(_("#%(id)d is not in this community") % {"id": post_found.pk}, EXIT_NOT_FOUND)
    rows = suggestions(found, need=need, offer=offer, limit=limit)
    _say(f"[bold]{escape(_('Suggested introductions'))}[/]")
    for row in rows:
        _say(
            f"{_label(row.need)} ({escape(row.need.person)}) → "
            f"{_label(row.offer)} ({escape(row.offer.person)})"
        )
        _say(f"    {_evidence(row.match.evidence())}")
    if not rows:
        _say(_("No suggestions: no open need and open offer have enough in common."))
    else:
        _say(_("Confirm one with: shequn exchange connect NEED OFFER"))


@exchange.command("connect", help=_("Confirm an introduction of a need with an offer."))
@click.argument("need_id", metavar="NEED", type=int)
@click.argument("offer_id", metavar="OFFER", type=int)
@click.option("--note", default="", help=_("A note kept with the connection."))
@click.option("--close-need", is_flag=True, help=_("The need is met: close it."))
def connect(need_id: int, offer_id: int, note: str, close_need: bool) -> None:
    need, offer = _post(need_id, "need"), _post(offer_id, "offer")
    from shequn.exchange.services import ExchangeError, do_confirm_connection

    try:
        connection = do_confirm_connection(need, offer, note=note, close_need=close_need)
    except ExchangeError as exc:
        _refused(exc)
    _say(
        _("Connection #%(id)d: %(need)s (%(need_member)s) → %(offer)s (%(offer_member)s).")
        % {
            "id": connection.pk,
            "need": _label(need),
            "need_member": escape(need.person),
            "offer": _label(offer),
            "offer_member": escape(offer.person),
        }
    )
    _say(_evidence(connection.evidence))


@exchange.command("dismiss", help=_("Turn a suggested pair down: never suggested again."))
@click.argument("need_id", metavar="NEED", type=int)
@click.argument("offer_id", metavar="OFFER", type=int)
def dismiss(need_id: int, offer_id: int) -> None:
    need, offer = _post(need_id, "need"), _post(offer_id, "offer")
    from shequn.exchange.services import ExchangeError, do_dismiss_suggestion

    try:
        do_dismiss_suggestion(need, offer)
    except ExchangeError as exc:
        _refused(exc)
    _say(
        _("Need #%(need)d and offer #%(offer)d will not be suggested again.")
        % {"need": need.pk, "offer": offer.pk}
    )


@exchange.command("outcome", help=_("Report what came of a connection: helped, deal or none."))
@click.argument("connection_id", metavar="CONNECTION", type=int)
@click.argument("outcome", type=click.Choice(["helped", "deal", "none"]))
@click.option("--value", default=None, help=_("The value created, e.g. 300."))
@click.option("--currency", default="", help=_("ISO 4217, e.g. CNY (with --value)."))
@click.option("--note", default="", help=_("A note kept with the outcome."))
def outcome(connection_id: int, outcome: str, value: str | None, currency: str, note: str) -> None:
    connection = _connection(connection_id)
    from shequn.exchange.services import ExchangeError, do_record_outcome

    try:
        saved = do_record_outcome(connection, outcome, value=value, currency=currency, note=note)
    except ExchangeError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    worth = f" ({saved.value_amount} {saved.value_currency})" if saved.value_amount else ""
    _say(
        _("Connection #%(id)d: %(outcome)s%(value)s.")
        % {"id": saved.pk, "outcome": saved.get_outcome_display(), "value": worth}
    )


@exchange.command("connections", help=_("Confirmed connections, newest first."))
@community_argument
@click.option("--limit", default=50, show_default=True, help=_("How many connections."))
def connections(community_slug: str, limit: int) -> None:
    found = _community(community_slug)
    from shequn.exchange.selectors import community_connections

    rows = list(community_connections(found)[:limit])
    zone = found.zoneinfo
    table = Table(title=_("Connections of %(name)s") % {"name": escape(found.name)})
    for header in (_("Id"), _("Confirmed"), _("Need"), _("Offer"), _("Outcome"), _("Value")):
        table.add_column(header)
    for row in rows:
        table.add_row(
            str(row.pk),
            f"{row.confirmed_at.astimezone(zone):%Y-%m-%d}",
            f"#{row.need_id} {escape(row.need.title)}\n[dim]{escape(row.need.person)}[/]",
            f"#{row.offer_id} {escape(row.offer.title)}\n[dim]{escape(row.offer.person)}[/]",
            str(row.get_outcome_display()) or "-",
            f"{row.value_amount} {row.value_currency}" if row.value_amount is not None else "",
        )
    console.print(table)
    if not rows:
        _say(_("No connection confirmed yet."))


@exchange.command("report", help=_("Connections and value created per month."))
@community_argument
@click.option("--months", default=12, show_default=True, help=_("How many months."))
def report(community_slug: str, months: int) -> None:
    found = _community(community_slug)
    from shequn.exchange.selectors import monthly_report, report_currencies

    if not 1 <= months <= 120:
        fail(_("--months must be between 1 and 120"), EXIT_USAGE)
    rows = monthly_report(found, months=months)
    currencies = report_currencies(rows)
    table = Table(
        title=_("Value created through %(name)s, per month") % {"name": escape(found.name)},
        title_justify="left",
    )
    headers = [_("Month"), _("Connections"), _("Deal made"), _("Helped"), _("No result")]
    headers += [
        _("Not reported"),
        *(_("Value (%(currency)s)") % {"currency": c} for c in currencies),
    ]
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(
            f"{row.month:%Y-%m}",
            str(row.connections),
            str(row.deals),
            str(row.helped),
            str(row.no_result),
            str(row.not_reported),
            *(str(row.value.get(currency, "")) for currency in currencies),
        )
    console.print(table)


# ----------------------------------------------------------------------------- settings
@exchange.command("settings", help=_("Show or change points per connection and the threshold."))
@community_argument
@click.option("--points-offer", type=int, default=None, help=_("Points for the helper."))
@click.option("--points-need", type=int, default=None, help=_("Points for the one who asked."))
@click.option("--min-score", type=float, default=None, help=_("Lowest score suggested (0-1)."))
def settings(
    community_slug: str,
    points_offer: int | None,
    points_need: int | None,
    min_score: float | None,
) -> None:
    found = _community(community_slug)
    from shequn.exchange.selectors import exchange_settings
    from shequn.exchange.services import ExchangeError, do_update_settings

    values = {
        name: value
        for name, value in (
            ("points_for_offer", points_offer),
            ("points_for_need", points_need),
            ("min_score", min_score),
        )
        if value is not None
    }
    if values:
        try:
            do_update_settings(found, values)
        except ExchangeError as exc:
            _refused(exc, EXIT_INVALID_DATA)
    current = exchange_settings(found)
    _say(
        _(
            "Points per connection: %(offer)d for the member with the offer, %(need)d for the "
            "member with the need; lowest score suggested: %(score).2f."
        )
        % {
            "offer": current.points_for_offer,
            "need": current.points_for_need,
            "score": current.min_score,
        }
    )
    _say(_public_state(current))


def _public_state(current: Any) -> str:
    from django.urls import reverse

    if not current.public_form_on:
        return _("The public form is off.")
    return _("The public form is on: %(path)s") % {
        "path": reverse("web:exchange_public", args=[current.public_token])
    }


@exchange.command("public-form", help=_("Turn the public form on (a new link) or off."))
@community_argument
@click.option("--on", "state", flag_value="on", help=_("On, with a new link."))
@click.option("--off", "state", flag_value="off", help=_("Off: the link stops working."))
def public_form(community_slug: str, state: str | None) -> None:
    found = _community(community_slug)
    from shequn.exchange.selectors import exchange_settings
    from shequn.exchange.services import do_close_public_form, do_open_public_form

    if state == "on":
        current = do_open_public_form(found)
    elif state == "off":
        current = do_close_public_form(found)
    else:
        current = exchange_settings(found)
    _say(_public_state(current))


COMMANDS: list[click.Command] = [exchange]
