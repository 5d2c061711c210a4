"""``shequn communities``: list and create communities."""

from __future__ import annotations

import click
from rich.table import Table

from shequn.cli.base import bootstrap, console
from shequn.cli.i18n import _


@click.group(invoke_without_command=True, help=_("List communities, or create one."))
@click.pass_context
def communities(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_communities)


@communities.command("list", help=_("List communities with their members and channels."))
def list_communities() -> None:
    bootstrap()
    from shequn.communities.selectors import communities_with_counts

    rows = list(communities_with_counts())
    if not rows:
        console.print(_("No communities yet. Create one with: shequn communities create SLUG"))
        return
    table = Table(title=_("Communities"), title_justify="left")
    for header in (_("Slug"), _("Name"), _("Members"), _("Channels"), _("Created")):
        table.add_column(header)
    for community in rows:
        table.add_row(
            community.slug,
            community.name,
            f"{community.member_count:,}",
            f"{community.channel_count:,}",
            f"{community.created_at:%Y-%m-%d}",
        )
    console.print(table)


@communities.command("create", help=_("Create a community."))
@click.argument("slug")
@click.option("--name", default="", help=_("Display name (default: the slug)."))
@click.option("--carrier", default="", help=_("The product or service it forms around (载体)."))
@click.option("--positioning", default="", help=_("Who it is for and which need it serves."))
@click.option("--mission", default="", help=_("Why are we together (使命)."))
@click.option("--advocates", multiple=True, help=_("A value it stands for (repeatable)."))
@click.option("--opposes", multiple=True, help=_("A value it stands against (repeatable)."))
@click.option(
    "--time-zone", default="UTC", show_default=True, help=_("Time zone for daily figures.")
)
def create_community(
    slug: str,
    name: str,
    carrier: str,
    positioning: str,
    mission: str,
    advocates: tuple[str, ...],
    opposes: tuple[str, ...],
    time_zone: str,
) -> None:
    bootstrap()
    from django.core.exceptions import ValidationError

    from shequn.cli.base import EXIT_USAGE, fail
    from shequn.communities.services import do_create_community

    try:
        community = do_create_community(
            slug=slug,
            name=name,
            carrier=carrier,
            positioning=positioning,
            mission=mission,
            values_advocated=list(advocates),
            values_opposed=list(opposes),
            time_zone=time_zone,
        )
    except ValidationError as exc:
        fail("; ".join(exc.messages), EXIT_USAGE)
    console.print(_("Created community '%(slug)s'.") % {"slug": community.slug})
