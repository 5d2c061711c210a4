"""``shequn testimonials``: the benefit showcase — what members gained, recorded, published
with their consent, listed."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from shequn.cli.base import EXIT_INVALID_DATA, EXIT_REFUSED, console
from shequn.cli.culture.common import (
    community_argument,
    community_of,
    member_of,
    refused,
    say,
    testimonial_of,
)
from shequn.cli.i18n import _

testimonial_argument = click.argument("testimonial_id", metavar="TESTIMONIAL_ID", type=int)
BENEFITS = ("knowledge", "connection", "business", "career", "wellbeing", "other")


@click.group(help=_("Testimonials: what members gained, published with their consent."))
def testimonials() -> None:
    pass


@testimonials.command("add", help=_("Record what a member said they gained."))
@community_argument
@click.option("--member", required=True, metavar="MEMBER", help=_("Who gained it."))
@click.option("--text", required=True, help=_("In the member's own words."))
@click.option("--benefit", type=click.Choice(BENEFITS), default="other", show_default=True)
@click.option("--said-on", default=None, metavar="DAY", help=_("Default: today."))
@click.option("--source", default="", help=_("Where it was said: a link, or the channel and day."))
@click.option("--consent", is_flag=True, help=_("The member agreed to publish it."))
@click.option("--publish", is_flag=True, help=_("Publish at once (needs --consent)."))
def add(
    community_slug: str,
    member: str,
    text: str,
    benefit: str,
    said_on: str | None,
    source: str,
    consent: bool,
    publish: bool,
) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.services import do_record_testimonial

    values = {
        "member": member_of(community, member),
        "text": text,
        "benefit": benefit,
        "source": source,
        "consent": consent,
    }
    if said_on:
        values["said_on"] = said_on
    try:
        testimonial = do_record_testimonial(community, values, publish=publish)
    except CultureError as exc:
        refused(exc, EXIT_INVALID_DATA)
    state = _("published") if testimonial.is_published else _("not published")
    say(_("Testimonial #%(id)d recorded (%(state)s).") % {"id": testimonial.pk, "state": state})


@testimonials.command("list", help=_("The testimonials, newest first."))
@community_argument
@click.option("--published/--unpublished", default=None, help=_("Only those (not) published."))
def list_testimonials(community_slug: str, published: bool | None) -> None:
    community = community_of(community_slug)
    from shequn.culture.selectors import community_testimonials

    rows = list(community_testimonials(community, published=published)[:500])
    table = Table(
        title=escape(_("Testimonials of %(name)s") % {"name": community.name}), title_justify="left"
    )
    for header in (_("Id"), _("Member"), _("What they gained"), _("Said on"), _("Published")):
        table.add_column(header)
    for testimonial in rows:
        table.add_row(
            str(testimonial.pk),
            escape(testimonial.member.display_name),
            f"{escape(testimonial.text)}\n[dim]{testimonial.get_benefit_display()}[/]",
            testimonial.said_on.isoformat(),
            _("yes")
            if testimonial.is_published
            else (_("no") if testimonial.consent else _("no (no consent)")),
        )
    console.print(table)
    if not rows:
        say(_("No testimonials."))


def _transition(community_slug: str, testimonial_id: int, action_name: str, done: str) -> None:
    community = community_of(community_slug)
    from shequn.culture import services
    from shequn.culture.errors import CultureError

    testimonial = testimonial_of(community, testimonial_id)
    try:
        getattr(services, action_name)(testimonial)
    except CultureError as exc:
        refused(exc, EXIT_REFUSED)
    say(done % {"id": testimonial_id})


@testimonials.command("publish", help=_("Publish a testimonial (needs the member's consent)."))
@community_argument
@testimonial_argument
def publish(community_slug: str, testimonial_id: int) -> None:
    _transition(
        community_slug,
        testimonial_id,
        "do_publish_testimonial",
        _("Testimonial #%(id)d published."),
    )


@testimonials.command("unpublish", help=_("Unpublish a testimonial."))
@community_argument
@testimonial_argument
def unpublish(community_slug: str, testimonial_id: int) -> None:
    _transition(
        community_slug,
        testimonial_id,
        "do_unpublish_testimonial",
        _("Testimonial #%(id)d unpublished."),
    )


@testimonials.command("consent", help=_("Record the member's consent (or --withdraw it)."))
@community_argument
@testimonial_argument
@click.option("--withdraw", is_flag=True, help=_("Withdrawn consent unpublishes it."))
def consent(community_slug: str, testimonial_id: int, withdraw: bool) -> None:
    community = community_of(community_slug)
    from shequn.culture.errors import CultureError
    from shequn.culture.services import do_update_testimonial

    testimonial = testimonial_of(community, testimonial_id)
    try:
        do_update_testimonial(testimonial, {"consent": not withdraw})
    except CultureError as exc:
        refused(exc, EXIT_INVALID_DATA)
    say(_("Testimonial #%(id)d saved.") % {"id": testimonial_id})


@testimonials.command("delete", help=_("Delete a testimonial."))
@community_argument
@testimonial_argument
def delete(community_slug: str, testimonial_id: int) -> None:
    _transition(
        community_slug, testimonial_id, "do_delete_testimonial", _("Testimonial #%(id)d deleted.")
    )
