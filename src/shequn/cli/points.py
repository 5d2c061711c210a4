"""``shequn points``: earning rules, presets, awarding, manual entries, leaderboards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

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
    from shequn.communities.models import Community
    from shequn.rewards.engine import AwardResult


@click.group(help=_("Points and levels: earning rules, presets, awards, leaderboards."))
def points() -> None:
    pass


def _community(slug: str) -> Community:
    bootstrap()
    from shequn.communities.selectors import get_community

    return get_community(slug)


def _show_problems(error: Exception, exit_code: int) -> None:
    problems = getattr(error, "problems", None) or [str(error)]
    fail("\n".join(problems) + "\n" + _("Nothing was changed."), exit_code)


def _print_award(result: AwardResult) -> None:
    console.print(
        _(
            "%(events)s events looked at; %(entries)s entries added (%(points)s points) for "
            "%(members)s members; %(levels)s level-ups."
        )
        % {
            "events": f"{result.events_scanned:,}",
            "entries": f"{result.entries_created:,}",
            "points": f"{result.points_awarded:+,}",
            "members": f"{result.members_touched:,}",
            "levels": f"{result.level_ups:,}",
        }
    )


@points.command("recompute", help=_("Award points for events not looked at yet."))
@click.argument("community")
@click.option(
    "--full",
    is_flag=True,
    help=_(
        "Look at every event again (after adding rules or applying a preset); nothing is "
        "ever awarded twice."
    ),
)
def recompute(community: str, full: bool) -> None:
    found = _community(community)
    from shequn.rewards.services import do_award_points

    _print_award(do_award_points(found, full=full))


@points.command("rules", help=_("List the earning rules of a community."))
@click.argument("community")
def list_rules(community: str) -> None:
    found = _community(community)
    from shequn.rewards.selectors import community_rules

    table = Table(title=_("Points rules of %(name)s") % {"name": found.name}, title_justify="left")
    table.add_column(_("Key"), no_wrap=True)
    for header in (
        _("Name"),
        _("Event"),
        _("Points"),
        _("To"),
        _("Cooldown"),
        _("Daily cap"),
        _("On"),
    ):
        table.add_column(header)
    for rule in community_rules(found):
        amount = f"{rule.amount:+d}"
        if rule.amount_from:
            amount = f"{amount} × {rule.amount_from}"
        if rule.first_time_bonus:
            amount += " " + _("(first time %(bonus)+d)") % {"bonus": rule.first_time_bonus}
        table.add_row(
            rule.key,
            rule.name,
            rule.event_kind + (f" {rule.match}" if rule.match else ""),
            amount,
            rule.get_beneficiary_display(),
            f"{rule.cooldown_seconds}s" if rule.cooldown_seconds else "-",
            (f"{rule.daily_cap} ({rule.group})" if rule.cap_group else str(rule.daily_cap))
            if rule.daily_cap
            else "-",
            _("yes") if rule.enabled else _("no"),
        )
    console.print(table)


@points.command("export", help=_("Write the rules and levels as TOML (to a file or the screen)."))
@click.argument("community")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_rules(community: str, output: Path | None) -> None:
    found = _community(community)
    from shequn.rewards.services import export_rules_toml

    text = export_rules_toml(found)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(_("Rules written to %(path)s.") % {"path": output})


@points.command(
    "import",
    help=_(
        "Load rules (and levels) from a TOML file: all of it or nothing. Rules not in the file "
        "are deleted unless --keep-others is given; points already awarded stay."
    ),
)
@click.argument("community")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keep-others", is_flag=True, help=_("Keep rules that the file does not name."))
def import_rules(community: str, path: Path, keep_others: bool) -> None:
    found = _community(community)
    from shequn.rewards.rules import RuleError
    from shequn.rewards.services import do_import_rules_toml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: {exc}", EXIT_INVALID_DATA)
    try:
        result = do_import_rules_toml(found, text, actor=None, replace=not keep_others)
    except RuleError as exc:
        _show_problems(exc, EXIT_INVALID_DATA)
    console.print(
        _("%(created)d rules created, %(updated)d changed, %(deleted)d deleted.")
        % {
            "created": len(result.created),
            "updated": len(result.updated),
            "deleted": len(result.deleted),
        }
    )
    console.print(
        _("Run 'shequn points recompute %(slug)s --full' to award past events.")
        % {"slug": found.slug}
    )


@points.command(
    "preset",
    help=_(
        "Replace the rules and levels with a preset (default, stackexchange) and award every event."
    ),
)
@click.argument("community")
@click.argument("name")
def apply_preset(community: str, name: str) -> None:
    found = _community(community)
    from shequn.rewards.services import PointsError, do_apply_preset

    try:
        result = do_apply_preset(found, name, actor=None)
    except PointsError as exc:
        fail(str(exc), EXIT_NOT_FOUND)
    _print_award(result)


@points.command(
    "award",
    help=_("Award (or, with a negative AMOUNT, deduct) points by hand; a reason is required."),
    context_settings={"ignore_unknown_options": True},
)
@click.argument("community")
@click.argument("member")
@click.argument("amount", type=int)
@click.option("--reason", "-r", required=True, help=_("Why; kept in the ledger and audit log."))
def award(community: str, member: str, amount: int, reason: str) -> None:
    found = _community(community)
    from shequn.members.selectors import get_member
    from shequn.rewards.selectors import member_level
    from shequn.rewards.services import PointsError, do_manual_entry

    person = get_member(found, member)
    try:
        entry = do_manual_entry(person, amount, reason=reason, actor=None)
    except PointsError as exc:
        fail(str(exc), EXIT_REFUSED)
    status = member_level(person)
    console.print(
        _("Entry #%(id)d: %(amount)+d for %(name)s; balance %(balance)d, level %(level)d.")
        % {
            "id": entry.pk,
            "amount": entry.amount,
            "name": person.display_name,
            "balance": status.points,
            "level": status.number,
        }
    )


@points.command("reverse", help=_("Cancel a ledger entry with a reversing entry."))
@click.argument("community")
@click.argument("entry_id", type=int)
@click.option("--reason", "-r", required=True, help=_("Why; kept in the ledger and audit log."))
def reverse(community: str, entry_id: int, reason: str) -> None:
    found = _community(community)
    from shequn.rewards.models import PointEntry
    from shequn.rewards.services import PointsError, do_reverse_entry

    entry = PointEntry.objects.filter(community=found, pk=entry_id).first()
    if entry is None:
        fail(_("no points entry #%(id)d in this community") % {"id": entry_id}, EXIT_NOT_FOUND)
    try:
        reversal = do_reverse_entry(entry, reason=reason, actor=None)
    except PointsError as exc:
        fail(str(exc), EXIT_REFUSED)
    console.print(
        _("Entry #%(id)d reverses #%(original)d (%(amount)+d).")
        % {"id": reversal.pk, "original": entry.pk, "amount": reversal.amount}
    )


@points.command("leaderboard", help=_("Top members by points in the last week, month or ever."))
@click.argument("community")
@click.option(
    "--period",
    type=click.Choice(["week", "month", "all"]),
    default="week",
    show_default=True,
    help=_("Week and month end on the day of the latest event."),
)
@click.option("--limit", default=20, show_default=True, help=_("How many members."))
def show_leaderboard(community: str, period: str, limit: int) -> None:
    found = _community(community)
    from shequn.rewards.selectors import leaderboard

    board = leaderboard(found, period, limit=limit)
    if board.start is None:
        title = _("All-time points, %(name)s") % {"name": found.name}
    else:
        title = _("Points %(start)s to %(end)s, %(name)s") % {
            "start": board.start,
            "end": board.end,
            "name": found.name,
        }
    table = Table(title=title, title_justify="left")
    for header in (_("Rank"), _("Member"), _("Points"), _("Balance"), _("Level")):
        table.add_column(header)
    for row in board.rows:
        table.add_row(
            str(row.rank),
            f"#{row.member_id} {row.display_name}",
            f"{row.points:,}",
            f"{row.balance:,}",
            f"{row.level} {row.level_name}".strip(),
        )
    console.print(table)
    if not board.rows:
        console.print(_("No points in this period."))


@points.command("history", help=_("A member's points: balance, level and ledger entries."))
@click.argument("community")
@click.argument("member")
@click.option("--limit", default=30, show_default=True, help=_("How many entries."))
def history(community: str, member: str, limit: int) -> None:
    found = _community(community)
    from shequn.members.selectors import get_member
    from shequn.rewards.selectors import level_ups, member_level, points_history

    person = get_member(found, member)
    status = member_level(person)
    console.print(
        f"[bold]{person.display_name}[/]  #{person.pk}  "
        + _("%(points)s points, level %(level)d %(name)s")
        % {"points": f"{status.points:,}", "level": status.number, "name": status.name}
    )
    if status.next_threshold is not None:
        console.print(
            _("%(missing)s points to level %(level)d %(name)s")
            % {
                "missing": f"{status.points_missing:,}",
                "level": status.next_number,
                "name": status.next_name,
            }
        )
    table = Table(title=_("Ledger"), title_justify="left")
    for header in (_("Id"), _("When"), _("Points"), _("Balance"), _("Reason")):
        table.add_column(header)
    for entry in points_history(person, limit=limit):
        reason = entry.reason
        if entry.reverses_id:
            reason = _("reverses #%(id)d: %(reason)s") % {"id": entry.reverses_id, "reason": reason}
        table.add_row(
            str(entry.pk),
            f"{entry.occurred_at:%Y-%m-%d %H:%M}",
            f"{entry.amount:+,}",
            f"{entry.balance_after:,}",
            reason,
        )
    console.print(table)
    reached = list(level_ups(person))
    if reached:
        console.print(
            _("Level-ups: %(list)s")
            % {
                "list": ", ".join(
                    f"{lv.level} {lv.name} ({lv.reached_at:%Y-%m-%d})" for lv in reached
                )
            }
        )
