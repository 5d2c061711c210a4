"""``shequn import``: one command for every source format."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from shequn.cli.base import EXIT_NOT_FOUND, EXIT_USAGE, bootstrap, console, fail
from shequn.cli.i18n import _
from shequn.interactions.importers import FORMATS

FORMAT_NAMES = ("auto", *FORMATS)


@click.command(
    "import",
    help=_(
        "Import a chat export or forum dump: shequn import [FORMAT] PATH --community SLUG. "
        "FORMAT is one of %(formats)s (default auto: detected from the contents). Importing the "
        "same file twice adds nothing; malformed input changes nothing."
    )
    % {"formats": ", ".join(FORMAT_NAMES)},
)
@click.argument("arguments", nargs=-1, required=True, metavar="[FORMAT] PATH")
@click.option(
    "--community",
    "-c",
    "community_slug",
    required=True,
    metavar="SLUG",
    help=_("The community to import into."),
)
@click.option(
    "--create",
    "create_missing",
    is_flag=True,
    help=_("Create the community if it does not exist yet."),
)
@click.option("--name", default="", help=_("Name for a community created with --create."))
@click.option(
    "--channel",
    default=None,
    metavar="KEY",
    help=_(
        "Channel key for records that name none; replaces the channel a single-chat "
        "export names (ChatLab, Stack Exchange)."
    ),
)
@click.option(
    "--identity-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=_(
        "CSV of platform,platform_user_id,member_key: accounts with one key become one member "
        "(loaded before the import; see shequn members map)."
    ),
)
@click.option(
    "--time-zone",
    default=None,
    metavar="ZONE",
    help=_(
        "IANA time zone of exports that write local clock times without an offset (WhatsApp, "
        "QQ, old Telegram exports), e.g. Asia/Shanghai."
    ),
)
@click.option(
    "--date-order",
    type=click.Choice(["DMY", "MDY", "YMD"]),
    default=None,
    help=_("WhatsApp: the order of day, month and year when the file's dates cannot tell."),
)
@click.option(
    "--include-private",
    is_flag=True,
    help=_("QQ: also import one-to-one chats (skipped by default)."),
)
@click.option(
    "--direct-messages",
    is_flag=True,
    help=_("Slack: also import direct and group messages (skipped by default)."),
)
@click.option("--no-text", is_flag=True, help=_("Store only message lengths, not their text."))
@click.option("--json", "as_json", is_flag=True, help=_("Print the summary as JSON."))
def import_command(
    arguments: tuple[str, ...],
    community_slug: str,
    create_missing: bool,
    name: str,
    channel: str | None,
    identity_map: Path | None,
    time_zone: str | None,
    date_order: str | None,
    include_private: bool,
    direct_messages: bool,
    no_text: bool,
    as_json: bool,
) -> None:
    if len(arguments) == 1:
        format_name, raw_path = "auto", arguments[0]
    elif len(arguments) == 2:
        format_name, raw_path = arguments
    else:
        fail(_("expected [FORMAT] PATH, got %(n)d arguments") % {"n": len(arguments)}, EXIT_USAGE)
    if format_name not in FORMAT_NAMES:
        fail(
            _("unknown format '%(format)s' (one of: %(formats)s)")
            % {"format": format_name, "formats": ", ".join(FORMAT_NAMES)},
            EXIT_USAGE,
        )
    path = Path(raw_path)
    if not path.exists():
        fail(_("%(path)s: no such file or folder") % {"path": path}, EXIT_NOT_FOUND)

    given = {
        "time_zone": time_zone,
        "date_order": date_order,
        "include_private": include_private or None,
        "direct_messages": direct_messages or None,
    }
    options = {name: value for name, value in given.items() if value is not None}

    bootstrap()
    from shequn.communities.selectors import CommunityNotFound, get_community
    from shequn.communities.services import do_create_community
    from shequn.interactions.services import do_import

    try:
        community = get_community(community_slug)
    except CommunityNotFound:
        if not create_missing:
            raise
        community = do_create_community(slug=community_slug, name=name or community_slug)
        if not as_json:
            console.print(_("Created community '%(slug)s'.") % {"slug": community.slug})

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn(_("{task.fields[records]:,} records, {task.fields[rate]:,.0f}/s")),
        TimeRemainingColumn(),
        console=console,
        disable=as_json or not console.is_terminal,
        transient=False,
    )
    with progress:
        task = progress.add_task(
            _("Importing %(name)s") % {"name": path.name}, total=None, records=0, rate=0.0
        )

        def report(done: int, total: int, records: int) -> None:
            elapsed = progress.tasks[task].elapsed or 0
            progress.update(
                task,
                completed=done,
                total=total,
                records=records,
                rate=records / elapsed if elapsed else 0.0,
            )

        summary = do_import(
            community,
            path,
            format_name=format_name,
            channel=channel,
            store_text=False if no_text else None,
            identity_map=identity_map,
            options=options,
            progress=report,
        )
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    print_summary(summary)


def print_summary(summary) -> None:
    """The import summary, reconciled per channel so operators can check it against the source."""
    table = Table(title=_("Import summary"), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row(_("Community"), summary.community)
    table.add_row(_("Format"), summary.format)
    table.add_row(_("Members new"), f"{summary.members_new:,}")
    table.add_row(_("Members updated"), f"{summary.members_updated:,}")
    table.add_row(_("Events read"), f"{summary.events_read:,}")
    table.add_row(_("Events added"), f"{summary.events_added:,}")
    table.add_row(_("Duplicates skipped"), f"{summary.duplicates_skipped:,}")
    table.add_row(_("Seconds"), f"{summary.seconds:,.2f}")
    table.add_row(_("Events per second"), f"{summary.events_per_second:,.0f}")
    console.print(table)
    if summary.source_counts:
        counts = Table(title=_("In the source"), title_justify="left")
        counts.add_column(_("Record"))
        counts.add_column(_("Count"), justify="right")
        for key, value in summary.source_counts.items():
            counts.add_row(key, f"{value:,}")
        console.print(counts)
    channels = Table(title=_("Per channel"), title_justify="left")
    for header in (
        _("Channel"),
        _("Platform"),
        _("Read"),
        _("Added"),
        _("Duplicates"),
        _("Added by kind"),
    ):
        channels.add_column(header)
    for channel in summary.channels.values():
        kinds = ", ".join(
            f"{kind} {count:,}" for kind, count in sorted(channel.added_by_kind.items())
        )
        channels.add_row(
            channel.name,
            channel.platform,
            f"{channel.events_read:,}",
            f"{channel.events_added:,}",
            f"{channel.duplicates_skipped:,}",
            kinds or "-",
        )
    console.print(channels)
