"""``shequn culture show`` and ``shequn culture set``: the culture's three questions."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from shequn.cli.base import EXIT_INVALID_DATA, console
from shequn.cli.culture.common import community_argument, community_of, number, refused, say
from shequn.cli.i18n import _


@click.group(
    help=_(
        "Culture: why we are together (mission, values), how we get there (rituals) and how "
        "far we are (goals)."
    )
)
def culture() -> None:
    pass


@culture.command("show", help=_("The mission, values, rituals with turnout, goals, testimonials."))
@community_argument
def show(community_slug: str) -> None:
    community = community_of(community_slug)
    from shequn.culture.selectors import (
        community_testimonials,
        culture_status,
        goals_with_progress,
        ritual_summaries,
    )
    from shequn.culture.texts import status_label

    say(f"[bold]{escape(community.name)}[/]")
    say(f"[bold]{escape(_('Why are we together?'))}[/]")
    say(escape(community.mission) if community.mission else _("No mission written down yet."))
    for title, values in (
        (_("We advocate"), community.values_advocated),
        (_("We oppose"), community.values_opposed),
    ):
        say(f"{escape(title)}: " + (escape(", ".join(values)) if values else "-"))

    say(f"\n[bold]{escape(_('How do we get there?'))}[/]")
    rituals = ritual_summaries(community)
    table = Table(title=escape(_("Rituals (last 90 days)")), title_justify="left")
    for header in (_("Ritual"), _("Held"), _("Came"), _("Turnout"), _("Next")):
        table.add_column(header)
    for item in rituals:
        table.add_row(
            escape(item.ritual.name),
            str(item.occurrences),
            str(item.attended),
            f"{100 * item.turnout:.0f}%" if item.turnout is not None else "-",
            f"{item.next_starts_at:%Y-%m-%d %H:%M}" if item.next_starts_at else "-",
        )
    console.print(table)
    if not rituals:
        say(_("No active rituals yet."))

    say(f"\n[bold]{escape(_('How far are we?'))}[/]")
    table = Table(title=escape(_("Goals")), title_justify="left")
    for header in (_("Id"), _("Goal"), _("Now"), _("Target"), _("Deadline"), _("Status")):
        table.add_column(header)
    goals = goals_with_progress(community)
    for progress in goals:
        fc = progress.forecast
        table.add_row(
            str(progress.goal.pk),
            f"{escape(progress.goal.title)}\n[dim]{escape(progress.metric_text)}[/]",
            number(fc.current),
            number(fc.target),
            progress.goal.deadline.isoformat(),
            status_label(progress.status),
        )
    console.print(table)
    if not goals:
        say(_("No goals yet (add one with: shequn goals add)."))

    status = culture_status(community)
    say("\n" + _("Published testimonials: %(count)d") % {"count": status["testimonials"]})
    for testimonial in community_testimonials(community, published=True)[:3]:
        say(f"  “{escape(testimonial.text[:200])}” — {escape(testimonial.member.display_name)}")


@culture.command("set", help=_("Change the mission or the values (each option replaces them)."))
@community_argument
@click.option("--mission", default=None, help=_("Why we are together."))
@click.option(
    "--advocate",
    "advocated",
    multiple=True,
    help=_("A value we advocate; repeat for several. Replaces the list."),
)
@click.option(
    "--oppose",
    "opposed",
    multiple=True,
    help=_("A value we oppose; repeat for several. Replaces the list."),
)
@click.option("--no-advocated", is_flag=True, help=_("Clear the values we advocate."))
@click.option("--no-opposed", is_flag=True, help=_("Clear the values we oppose."))
def set_culture(
    community_slug: str,
    mission: str | None,
    advocated: tuple[str, ...],
    opposed: tuple[str, ...],
    no_advocated: bool,
    no_opposed: bool,
) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.services import do_update_culture

    try:
        do_update_culture(
            community,
            mission=mission,
            values_advocated=[] if no_advocated else (list(advocated) or None),
            values_opposed=[] if no_opposed else (list(opposed) or None),
        )
    except CultureError as exc:
        refused(exc, EXIT_INVALID_DATA)
    say(_("The mission and values of %(name)s are saved.") % {"name": escape(community.name)})
