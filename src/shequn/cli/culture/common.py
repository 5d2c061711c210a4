"""What the culture commands share: finding the community, a member, a goal or a testimonial,
and printing refusals with the field they concern."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NoReturn

import click

from shequn.cli.base import EXIT_NOT_FOUND, EXIT_REFUSED, bootstrap, console, fail
from shequn.cli.i18n import _

if TYPE_CHECKING:
    from shequn.communities.models import Community
    from shequn.culture.models import Goal, Testimonial
    from shequn.members.models import Member

community_argument = click.argument("community_slug", metavar="COMMUNITY")
base_url_option = click.option(
    "--base-url",
    envvar="SHEQUN_BASE_URL",
    default="",
    metavar="URL",
    help=_("The site's address, e.g. https://shequn.example.org, for full links."),
)


def community_of(slug: str) -> Community:
    bootstrap()
    from shequn.communities.selectors import get_community

    return get_community(slug)


def member_of(community: Community, text: str) -> Member:
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


def goal_of(community: Community, goal_id: int) -> Goal:
    from shequn.culture.selectors import goal_in

    found = goal_in(community, goal_id)
    if found is None:
        fail(
            _("no goal #%(id)d in this community (list them with: shequn goals list)")
            % {"id": goal_id},
            EXIT_NOT_FOUND,
        )
    return found


def testimonial_of(community: Community, testimonial_id: int) -> Testimonial:
    from shequn.culture.selectors import testimonial_in

    found = testimonial_in(community, testimonial_id)
    if found is None:
        fail(_("no testimonial #%(id)d in this community") % {"id": testimonial_id}, EXIT_NOT_FOUND)
    return found


def refused(error: Exception, exit_code: int) -> NoReturn:
    """Every problem of a refused change, one per line with its field, then exit."""
    problems = getattr(error, "problems", None) or {"": str(error)}
    lines = [f"{field}: {message}" if field else message for field, message in problems.items()]
    fail("\n".join(lines) + "\n" + _("Nothing was changed."), exit_code)


def say(text: str) -> None:
    """A message on one logical line (a terminal wraps it; nothing is cut in a pipe)."""
    console.print(text, soft_wrap=True, highlight=False)


def parse_day(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            _("must be a day like %(example)s") % {"example": "2024-12-31"}, param_hint=option
        ) from None


def number(value: Any) -> str:
    from shequn.culture.onboarding import number as as_text

    return as_text(value)
