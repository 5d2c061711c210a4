"""``shequn goals``: goals with their progress computed from the data, the forecast, and the
members' public link."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from shequn.cli.base import EXIT_INVALID_DATA, bootstrap, console
from shequn.cli.culture.common import (
    base_url_option,
    community_argument,
    community_of,
    goal_of,
    member_of,
    number,
    parse_day,
    refused,
    say,
)
from shequn.cli.i18n import _

goal_argument = click.argument("goal_id", metavar="GOAL_ID", type=int)
on_option = click.option(
    "--on", "on", default=None, metavar="DAY", help=_("As of this day (default: today).")
)


def _goal_options(required: bool) -> Any:
    """The options that set a goal's fields (required ones only when creating)."""

    def decorate(command: Any) -> Any:
        for option in reversed(
            [
                click.option("--title", required=required, help=_("What the goal is called.")),
                click.option("--description", default=None, help=_("What it is for.")),
                click.option(
                    "--metric",
                    required=required,
                    help=_("What it measures (see: shequn goals metrics)."),
                ),
                click.option(
                    "--param",
                    "params",
                    multiple=True,
                    metavar="NAME=VALUE",
                    help=_("A parameter of the metric, e.g. level=3; repeat for several."),
                ),
                click.option("--target", required=required, help=_("The value to reach.")),
                click.option("--start", default=None, metavar="DAY", help=_("Default: today.")),
                click.option(
                    "--deadline", required=required, metavar="DAY", help=_("The last day.")
                ),
                click.option(
                    "--owner",
                    required=required,
                    metavar="MEMBER",
                    help=_("The member who answers for it (id, key, name or handle)."),
                ),
            ]
        ):
            command = option(command)
        return command

    return decorate


def _values(community: Any, given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option, field in (
        ("title", "title"),
        ("description", "description"),
        ("metric", "metric"),
        ("target", "target"),
        ("start", "start_on"),
        ("deadline", "deadline"),
    ):
        if given.get(option) is not None:
            values[field] = given[option]
    if given.get("params"):
        values["params"] = "\n".join(given["params"])
    if given.get("owner"):
        values["owner"] = member_of(community, given["owner"])
    return values


@click.group(help=_("Goals: a metric computed from the data, a target, a deadline, an owner."))
def goals() -> None:
    pass


@goals.command("metrics", help=_("What a goal can measure, with each metric's parameters."))
def list_metrics() -> None:
    bootstrap()
    from shequn.culture.metrics import metrics

    table = Table(title=escape(_("Goal metrics")), title_justify="left")
    for header in (_("Code"), _("Measures"), _("Parameters")):
        table.add_column(header)
    for found in metrics():
        table.add_row(
            found.code,
            escape(str(found.label)) + (f" ({escape(str(found.unit))})" if found.unit else ""),
            "\n".join(f"{name}: {escape(str(words))}" for name, words in found.parameters.items())
            or "-",
        )
    console.print(table)


@goals.command("list", help=_("The goals with their progress and status."))
@community_argument
@on_option
def list_goals(community_slug: str, on: str | None) -> None:
    community = community_of(community_slug)
    from shequn.culture.selectors import goals_with_progress
    from shequn.culture.texts import status_label

    rows = goals_with_progress(community, parse_day(on, "--on"))
    table = Table(
        title=escape(_("Goals of %(name)s") % {"name": community.name}), title_justify="left"
    )
    for header in (
        _("Id"),
        _("Goal"),
        _("Now"),
        _("Target"),
        _("Progress"),
        _("Deadline"),
        _("Status"),
        _("Public"),
    ):
        table.add_column(header)
    for progress in rows:
        fc = progress.forecast
        table.add_row(
            str(progress.goal.pk),
            f"{escape(progress.goal.title)}\n[dim]{escape(progress.metric_text)}[/]",
            number(fc.current),
            number(fc.target),
            f"{fc.percent:.0f}%" if fc.percent is not None else "-",
            progress.goal.deadline.isoformat(),
            status_label(progress.status),
            _("yes") if progress.goal.public_token else _("no"),
        )
    console.print(table)
    if not rows:
        say(_("No goals yet (add one with: shequn goals add)."))


@goals.command("show", help=_("One goal: its progress week by week and the forecast."))
@community_argument
@goal_argument
@on_option
def show(community_slug: str, goal_id: int, on: str | None) -> None:
    community = community_of(community_slug)
    from shequn.culture.selectors import goal_progress
    from shequn.culture.texts import forecast_text, status_label

    goal = goal_of(community, goal_id)
    progress = goal_progress(goal, parse_day(on, "--on"))
    fc = progress.forecast
    say(f"[bold]{escape(goal.title)}[/]  #{goal.pk}  {status_label(progress.status)}")
    facts = [
        (_("Measured by"), f"{progress.metric_text} ({goal.metric})"),
        (_("Target"), f"{number(goal.target)} {progress.unit}".strip()),
        (_("Period"), f"{goal.start_on} – {goal.deadline}"),
        (_("Owner"), goal.owner.display_name if goal.owner_id else "-"),
        (_("Now"), f"{number(fc.current)} ({fc.percent:.0f}%)" if fc.percent is not None else "-"),
        (_("Pace a week"), number(fc.pace_per_week)),
        (_("Needed a week"), number(fc.needed_per_week)),
        (_("Projected at the deadline"), number(fc.projected)),
    ]
    for label, value in facts:
        say(f"{escape(label)}: {escape(value)}")
    say(escape(forecast_text(progress)))
    if progress.values:
        table = Table(title=escape(_("Progress by week")), title_justify="left")
        table.add_column(_("Day"))
        table.add_column(_("Value"), justify="right")
        last = len(progress.values) - 1
        for index, (day, value) in enumerate(zip(progress.days, progress.values, strict=True)):
            if index % 7 == 0 or index == last:
                table.add_row(day.isoformat(), number(value))
        console.print(table)


@goals.command("add", help=_("Add a goal; its progress is computed from the data."))
@community_argument
@_goal_options(required=True)
def add(community_slug: str, **given: Any) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.services import do_create_goal

    try:
        goal = do_create_goal(community, _values(community, given))
    except CultureError as exc:
        refused(exc, EXIT_INVALID_DATA)
    say(_("Goal #%(id)d added: %(title)s") % {"id": goal.pk, "title": escape(goal.title)})


@goals.command("edit", help=_("Change a goal's fields (only those given)."))
@community_argument
@goal_argument
@_goal_options(required=False)
def edit(community_slug: str, goal_id: int, **given: Any) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.services import do_update_goal

    goal = goal_of(community, goal_id)
    try:
        do_update_goal(goal, _values(community, given))
    except CultureError as exc:
        refused(exc, EXIT_INVALID_DATA)
    say(_("Goal #%(id)d saved.") % {"id": goal.pk})


@goals.command("delete", help=_("Delete a goal."))
@community_argument
@goal_argument
def delete(community_slug: str, goal_id: int) -> None:
    community = community_of(community_slug)
    from shequn.culture.services import do_delete_goal

    goal = goal_of(community, goal_id)
    do_delete_goal(goal)
    say(_("Goal #%(id)d deleted.") % {"id": goal_id})


@goals.command("publish", help=_("Give the goal a public progress page members can open."))
@community_argument
@goal_argument
@base_url_option
def publish(community_slug: str, goal_id: int, base_url: str) -> None:
    community = community_of(community_slug)
    from django.urls import reverse

    from shequn.culture.services import do_publish_goal

    goal = do_publish_goal(goal_of(community, goal_id))
    link = base_url.rstrip("/") + reverse("web:goal_public", args=[goal.public_token])
    say(_("Members can follow goal #%(id)d at: %(url)s") % {"id": goal.pk, "url": link})


@goals.command("unpublish", help=_("Turn the public page off; its link stops working."))
@community_argument
@goal_argument
def unpublish(community_slug: str, goal_id: int) -> None:
    community = community_of(community_slug)
    from shequn.culture.services import do_unpublish_goal

    do_unpublish_goal(goal_of(community, goal_id))
    say(_("Goal #%(id)d has no public page now.") % {"id": goal_id})
