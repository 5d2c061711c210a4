"""``shequn members``: list, show and merge members."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from shequn.cli.base import bootstrap, community_option, console
from shequn.cli.i18n import _


@click.group(help=_("List, show and merge the members of a community."))
def members() -> None:
    pass


@members.command("list", help=_("List members, with search, filters and sorting."))
@community_option
@click.option("--search", "-s", default="", help=_("Part of a name or handle."))
@click.option(
    "--role", type=click.Choice(["founder", "operator", "member"]), help=_("Only this role.")
)
@click.option(
    "--channel", default=None, metavar="KEY", help=_("Only members seen on this channel.")
)
@click.option(
    "--sort",
    type=click.Choice(["name", "joined", "messages", "last_active"]),
    default="name",
    show_default=True,
    help=_("Sort order."),
)
@click.option("--limit", default=50, show_default=True, help=_("How many to show (0: all)."))
def list_members(
    community_slug: str, search: str, role: str | None, channel: str | None, sort: str, limit: int
) -> None:
    bootstrap()
    from shequn.communities.models import Channel
    from shequn.communities.selectors import get_community
    from shequn.members.selectors import search_members

    community = get_community(community_slug)
    channel_id = None
    if channel:
        channel_obj = Channel.objects.filter(community=community, external_id=channel).first()
        if channel_obj is None:
            from shequn.cli.base import EXIT_NOT_FOUND, fail

            fail(
                _("no channel '%(channel)s' in this community") % {"channel": channel},
                EXIT_NOT_FOUND,
            )
        channel_id = channel_obj.pk
    rows = search_members(community, search=search, role=role, channel_id=channel_id, sort=sort)
    total = rows.count()
    shown = rows[:limit] if limit else rows
    table = Table(
        title=_("Members of %(community)s: %(total)s")
        % {"community": community.name, "total": f"{total:,}"},
        title_justify="left",
    )
    for header in (_("Id"), _("Name"), _("Role"), _("Joined"), _("Messages"), _("Last active")):
        table.add_column(header)
    for member in shown:
        table.add_row(
            str(member.pk),
            member.display_name + (" 🤖" if member.is_bot else ""),
            member.get_role_display(),
            f"{member.joined_at:%Y-%m-%d}" if member.joined_at else "-",
            f"{member.message_total or 0:,}",
            f"{member.last_active:%Y-%m-%d}" if member.last_active else "-",
        )
    console.print(table)
    if limit and total > limit:
        console.print(
            _("Showing %(shown)d of %(total)d; use --limit 0 for all.")
            % {"shown": limit, "total": total}
        )


@members.command("show", help=_("Show one member: identities across channels and activity totals."))
@community_option
@click.argument("member")
def show_member(community_slug: str, member: str) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.interactions.selectors import member_totals
    from shequn.members.selectors import get_member

    community = get_community(community_slug)
    found = get_member(community, member)
    console.print(f"[bold]{found.display_name}[/]  #{found.pk}  {found.get_role_display()}")
    for label, value in (
        (_("Joined"), found.joined_at),
        (_("Left"), found.left_at),
        (_("Muted"), found.muted_at),
    ):
        if value:
            console.print(f"{label}: {value:%Y-%m-%d %H:%M}")
    identities = Table(title=_("Identities"), title_justify="left")
    for header in (_("Channel"), _("Platform"), _("User id"), _("Handle")):
        identities.add_column(header)
    for identity in found.identities.select_related("channel"):
        identities.add_row(
            identity.channel.name or identity.channel.external_id,
            identity.channel.get_platform_display(),
            identity.platform_user_id,
            identity.handle,
        )
    console.print(identities)
    totals = Table(title=_("Activity totals"), title_justify="left", show_header=False)
    totals.add_column()
    totals.add_column(justify="right")
    from shequn.interactions.models import MemberDailyRollup

    for counter, value in member_totals(found).items():
        label = str(MemberDailyRollup._meta.get_field(counter).verbose_name)
        totals.add_row(label, f"{value:,}")
    console.print(totals)


@members.command(
    "merge",
    help=_(
        "Merge SOURCE into TARGET (one person seen as two members): identities, events and rollups "
        "move to TARGET; SOURCE is removed and recorded in the audit log."
    ),
)
@community_option
@click.argument("source")
@click.argument("target")
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
def merge_members(community_slug: str, source: str, target: str, yes: bool) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.members.selectors import get_member
    from shequn.members.services import do_merge_members

    community = get_community(community_slug)
    source_member = get_member(community, source)
    target_member = get_member(community, target)
    if not yes:
        click.confirm(
            _("Merge #%(source_id)s %(source)s into #%(target_id)s %(target)s?")
            % {
                "source_id": source_member.pk,
                "source": source_member.display_name,
                "target_id": target_member.pk,
                "target": target_member.display_name,
            },
            abort=True,
        )
    merged = do_merge_members(source_member, target_member)
    console.print(
        _("Merged into #%(id)s %(name)s; it now has %(n)d identities.")
        % {"id": merged.pk, "name": merged.display_name, "n": merged.identities.count()}
    )


@members.command(
    "unmerge",
    help=_(
        "Undo a merge (see: shequn members merges): the merged member "
        "comes back with its accounts, events and activity."
    ),
)
@community_option
@click.argument("merge_id", type=int)
def unmerge_members(community_slug: str, merge_id: int) -> None:
    bootstrap()
    from shequn.cli.base import EXIT_NOT_FOUND, fail
    from shequn.communities.selectors import get_community
    from shequn.members.models import MemberMerge
    from shequn.members.services import do_unmerge

    community = get_community(community_slug)
    merge = MemberMerge.objects.filter(community=community, pk=merge_id).first()
    if merge is None:
        fail(_("no merge #%(id)d in this community") % {"id": merge_id}, EXIT_NOT_FOUND)
    restored = do_unmerge(merge)
    console.print(
        _("Restored #%(id)s %(name)s.") % {"id": restored.pk, "name": restored.display_name}
    )


@members.command("merges", help=_("List the merges made in a community, newest first."))
@community_option
def list_merges(community_slug: str) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.members.models import MemberMerge

    community = get_community(community_slug)
    table = Table(title=_("Merges"), title_justify="left")
    for header in (
        _("Id"),
        _("Merged"),
        _("Into"),
        _("Accounts"),
        _("Reason"),
        _("When"),
        _("Undone"),
    ):
        table.add_column(header)
    for merge in MemberMerge.objects.filter(community=community).select_related("target"):
        table.add_row(
            str(merge.pk),
            merge.source_snapshot.get("display_name", ""),
            f"#{merge.target_id} {merge.target.display_name}",
            str(len(merge.identity_ids)),
            merge.reason,
            f"{merge.created_at:%Y-%m-%d %H:%M}",
            f"{merge.undone_at:%Y-%m-%d %H:%M}" if merge.undone_at else "-",
        )
    console.print(table)


@members.command(
    "map",
    help=_(
        "Load an identity mapping file (CSV with header platform,platform_user_id,member_key): "
        "accounts with the same key become one member now and on every later import."
    ),
)
@community_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def map_identities(community_slug: str, path: Path) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.members.mapping import do_load_identity_mapping

    result = do_load_identity_mapping(get_community(community_slug), path)
    console.print(
        _(
            "%(rows)d mappings loaded; %(matched)d existing accounts matched, %(merged)d members "
            "merged, %(keys)d keys assigned."
        )
        % {
            "rows": result.rows,
            "matched": result.accounts_matched,
            "merged": result.members_merged,
            "keys": result.keys_assigned,
        }
    )


@members.command(
    "suggestions",
    help=_(
        "Members who may be one person (same e-mail, handle or name on different channels), with "
        "a confidence and the evidence. Accept or reject them with: shequn members accept|reject ID"
    ),
)
@community_option
@click.option(
    "--refresh/--no-refresh",
    default=True,
    show_default=True,
    help=_("Recompute suggestions from the current data first."),
)
def list_suggestions(community_slug: str, refresh: bool) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.members.models import MergeSuggestion
    from shequn.members.suggestions import describe_evidence, do_refresh_suggestions

    community = get_community(community_slug)
    if refresh:
        do_refresh_suggestions(community)
    open_suggestions = MergeSuggestion.objects.filter(
        community=community, status=MergeSuggestion.Status.OPEN
    ).select_related("member_a", "member_b")
    if not open_suggestions:
        console.print(_("No merge suggestions."))
        return
    table = Table(title=_("Merge suggestions"), title_justify="left")
    for header in (_("Id"), _("Member"), _("Possibly the same as"), _("Confidence"), _("Evidence")):
        table.add_column(header)
    for suggestion in open_suggestions:
        table.add_row(
            str(suggestion.pk),
            f"#{suggestion.member_a_id} {suggestion.member_a.display_name}",
            f"#{suggestion.member_b_id} {suggestion.member_b.display_name}",
            f"{suggestion.confidence:.0%}",
            describe_evidence(suggestion.evidence),
        )
    console.print(table)


def _decide(community_slug: str, suggestion_id: int, *, accept: bool) -> None:
    bootstrap()
    from shequn.cli.base import EXIT_NOT_FOUND, fail
    from shequn.communities.selectors import get_community
    from shequn.members.models import MergeSuggestion
    from shequn.members.suggestions import do_decide_suggestion

    community = get_community(community_slug)
    suggestion = MergeSuggestion.objects.filter(community=community, pk=suggestion_id).first()
    if suggestion is None:
        fail(_("no suggestion #%(id)d in this community") % {"id": suggestion_id}, EXIT_NOT_FOUND)
    do_decide_suggestion(suggestion, accept=accept)
    console.print(_("Merged.") if accept else _("Rejected; this pair will not be suggested again."))


@members.command("accept", help=_("Accept a merge suggestion: the two members become one."))
@community_option
@click.argument("suggestion_id", type=int)
def accept_suggestion(community_slug: str, suggestion_id: int) -> None:
    _decide(community_slug, suggestion_id, accept=True)


@members.command("reject", help=_("Reject a merge suggestion; it is not suggested again."))
@community_option
@click.argument("suggestion_id", type=int)
def reject_suggestion(community_slug: str, suggestion_id: int) -> None:
    _decide(community_slug, suggestion_id, accept=False)
