"""``shequn onboarding``: the welcome message for a platform, who has not received it, and
marking them onboarded; the operators' template."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from shequn.cli.base import EXIT_INVALID_DATA, EXIT_REFUSED, console
from shequn.cli.culture.common import (
    base_url_option,
    community_argument,
    community_of,
    member_of,
    parse_day,
    refused,
    say,
)
from shequn.cli.i18n import _

PLATFORMS = (
    "wechat",
    "wecom",
    "qq",
    "telegram",
    "discord",
    "slack",
    "whatsapp",
    "line",
    "stackexchange",
    "forum",
    "csv",
    "other",
)


@click.group(help=_("Onboarding: the welcome message new members receive, and who waits."))
def onboarding() -> None:
    pass


@onboarding.command(
    "render",
    help=_(
        "The welcome message as a platform reads it: plain text (WeChat, WhatsApp, QQ), "
        "Markdown (Discord), Slack or Telegram formatting."
    ),
)
@community_argument
@click.option("--platform", type=click.Choice(PLATFORMS), default="wechat", show_default=True)
@click.option("--member", default=None, metavar="MEMBER", help=_("For this member."))
@click.option(
    "--lang",
    type=click.Choice(["en", "zh-hans"]),
    default=None,
    help=_("The message's language (default: the command line's)."),
)
@base_url_option
def render(
    community_slug: str, platform: str, member: str | None, lang: str | None, base_url: str
) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.onboarding import render_onboarding

    who = member_of(community, member) if member else None
    try:
        message = render_onboarding(
            community, platform=platform, member=who, language=lang, base_url=base_url
        )
    except CultureError as exc:
        refused(exc, EXIT_INVALID_DATA)
    click.echo(message.text)


@onboarding.command("pending", help=_("Members who have not received the welcome message."))
@community_argument
@click.option("--since", default=None, metavar="DAY", help=_("Only those who joined since."))
@click.option("--limit", default=100, show_default=True, help=_("How many members."))
def pending(community_slug: str, since: str | None, limit: int) -> None:
    community = community_of(community_slug)
    import datetime as dt

    from shequn.culture.selectors import pending_onboarding

    day = parse_day(since, "--since")
    joined_since = dt.datetime.combine(day, dt.time(), community.zoneinfo) if day else None
    waiting = pending_onboarding(community, joined_since=joined_since)
    total = waiting.count()
    say(_("Waiting for the welcome message: %(count)d") % {"count": total})
    table = Table()
    for header in (_("Id"), _("Member"), _("Joined")):
        table.add_column(header)
    for found in waiting[:limit]:
        table.add_row(
            str(found.pk),
            escape(found.display_name),
            f"{found.joined_at.astimezone(community.zoneinfo):%Y-%m-%d}"
            if found.joined_at
            else "-",
        )
    if total:
        console.print(table)


@onboarding.command("mark", help=_("Mark members as onboarded (they received the message)."))
@community_argument
@click.argument("members", nargs=-1, metavar="[MEMBER]...")
@click.option(
    "--platform", type=click.Choice(PLATFORMS), default=None, help=_("Where it was sent.")
)
@click.option("--all", "everyone", is_flag=True, help=_("Everyone still waiting."))
@click.option(
    "--joined-before",
    default=None,
    metavar="DAY",
    help=_("With --all: only those who joined before this day."),
)
def mark(
    community_slug: str,
    members: tuple[str, ...],
    platform: str | None,
    everyone: bool,
    joined_before: str | None,
) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.services import do_mark_all_onboarded, do_mark_onboarded

    if everyone == bool(members):
        raise click.UsageError(_("Name members, or give --all (not both)."))
    try:
        if everyone:
            marked = do_mark_all_onboarded(
                community,
                joined_before=parse_day(joined_before, "--joined-before"),
                platform=platform or "",
            )
        else:
            found = [member_of(community, text) for text in members]
            marked = do_mark_onboarded(community, found, platform=platform or "")
    except CultureError as exc:
        refused(exc, EXIT_REFUSED)
    say(_("Members newly marked as onboarded: %(count)d") % {"count": len(marked)})


@onboarding.command("unmark", help=_("Put a member back among those waiting."))
@community_argument
@click.argument("member", metavar="MEMBER")
def unmark(community_slug: str, member: str) -> None:
    community = community_of(community_slug)
    from shequn.culture.services import do_unmark_onboarded

    found = member_of(community, member)
    if do_unmark_onboarded(found):
        say(_("%(name)s is waiting for the welcome again.") % {"name": escape(found.display_name)})
    else:
        say(_("%(name)s was not marked as onboarded.") % {"name": escape(found.display_name)})


@onboarding.command("template", help=_("Show the template, or set it from a file, or reset it."))
@community_argument
@click.option(
    "--set",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_("A UTF-8 text file with the new template."),
)
@click.option("--reset", is_flag=True, help=_("Go back to the default template."))
def template(community_slug: str, path: Path | None, reset: bool) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.onboarding import template_text
    from shequn.culture.services import do_reset_onboarding_template, do_save_onboarding_template

    if path is not None and reset:
        raise click.UsageError(_("Give --set or --reset, not both."))
    if reset:
        do_reset_onboarding_template(community)
        say(_("The welcome message is the default one again."))
        return
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            refused(ValueError(f"{path}: {exc}"), EXIT_INVALID_DATA)
        try:
            do_save_onboarding_template(community, text)
        except CultureError as exc:
            refused(exc, EXIT_INVALID_DATA)
        say(_("The welcome message was saved."))
        return
    click.echo(template_text(community)[0])
