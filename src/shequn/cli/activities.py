"""``shequn activities`` and ``shequn rituals``: the calendar, one activity, creating and
publishing, registering, check-in, attendance files, registrations as CSV, the report, calendar
files; rituals and their occurrences. Thin: every change goes through
``shequn.activities.services``; refused changes name the problem and exit non-zero."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
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
from shequn.cli.i18n import _, ngettext

if TYPE_CHECKING:
    from shequn.activities.models import Activity, Ritual
    from shequn.communities.models import Community
    from shequn.members.models import Member

community_argument = click.argument("community_slug", metavar="COMMUNITY")
activity_argument = click.argument("activity_id", metavar="ACTIVITY_ID", type=int)


@click.group(
    help=_(
        "Activities: the calendar, registration with a waitlist, fees, check-in, attendance "
        "files and reports."
    )
)
def activities() -> None:
    pass


@click.group(help=_("Rituals: recurring activities and their occurrences."))
def rituals() -> None:
    pass


# ------------------------------------------------------------------------------ helpers
def _community(slug: str) -> Community:
    bootstrap()
    from shequn.communities.selectors import get_community

    return get_community(slug)


def _activity(community: Community, activity_id: int) -> Activity:
    from shequn.activities.models import Activity

    found = Activity.objects.filter(community=community, pk=activity_id).first()
    if found is None:
        fail(
            _("no activity #%(id)d in this community (list them with: shequn activities list)")
            % {"id": activity_id},
            EXIT_NOT_FOUND,
        )
    return found


def _ritual(community: Community, ritual_id: int) -> Ritual:
    from shequn.activities.models import Ritual

    found = Ritual.objects.filter(community=community, pk=ritual_id).first()
    if found is None:
        fail(_("no ritual #%(id)d in this community") % {"id": ritual_id}, EXIT_NOT_FOUND)
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


def _when(moment: dt.datetime | None, zone_name: str) -> str:
    from shequn.activities.validation import zone_of

    if moment is None:
        return "-"
    return f"{moment.astimezone(zone_of(zone_name) or dt.UTC):%Y-%m-%d %H:%M}"


def _span(activity: Activity) -> str:
    return (
        f"{_when(activity.starts_at, activity.time_zone)} – "
        f"{_when(activity.ends_at, activity.time_zone)} {activity.time_zone}"
    )


def _fee(activity: Any) -> str:
    return _("free") if not activity.fee_amount else f"{activity.fee_amount} {activity.currency}"


def _say(text: str) -> None:
    """A message on one logical line (a terminal wraps it; nothing is cut in a pipe)."""
    console.print(text, soft_wrap=True, highlight=False)


def _write(text: str, output: Path | None, what: str) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    _say(_("%(what)s written to %(path)s.") % {"what": what, "path": output})


# --------------------------------------------------------------------------- activities
@activities.command("list", help=_("The coming activities (drafts included), or past ones."))
@community_argument
@click.option("--past", is_flag=True, help=_("Activities that are over, newest first."))
@click.option("--limit", default=50, show_default=True, help=_("How many activities."))
def list_activities(community_slug: str, past: bool, limit: int) -> None:
    found = _community(community_slug)
    from django.utils import timezone

    from shequn.activities.selectors import community_activities, upcoming_activities

    now = timezone.now()
    if past:
        rows = list(
            community_activities(found).filter(ends_at__lte=now).order_by("-starts_at")[:limit]
        )
        title = _("Past activities of %(name)s") % {"name": found.name}
    else:
        rows = upcoming_activities(found, now=now, limit=limit, include_drafts=True)
        title = _("Coming activities of %(name)s") % {"name": found.name}
    table = Table(title=escape(title), title_justify="left")
    for header in (_("Id"), _("Starts"), _("Activity"), _("Status"), _("Places"), _("Came")):
        table.add_column(header)
    for activity in rows:
        places = str(activity.confirmed)
        if activity.capacity:
            places += f"/{activity.capacity}"
        if activity.waitlisted:
            places += f" +{activity.waitlisted}"
        table.add_row(
            str(activity.pk),
            _when(activity.starts_at, activity.time_zone),
            f"{escape(activity.title)}\n[dim]{activity.get_mode_display()} · "
            f"{activity.get_content_type_display()}[/]",
            str(activity.get_status_display()),
            places,
            str(activity.attended),
        )
    console.print(table)
    if not rows:
        _say(_("No activities."))


@activities.command("show", help=_("One activity: when, where, places, guests, registrations."))
@community_argument
@activity_argument
def show(community_slug: str, activity_id: int) -> None:
    found = _community(community_slug)
    from shequn.activities.selectors import activity_guests, activity_registrations
    from shequn.activities.web_selectors import (
        activity_with_counts,
        places_left,
        registration_refusal,
        waitlist_positions,
    )

    activity = activity_with_counts(_activity(found, activity_id))
    _say(f"[bold]{escape(activity.title)}[/]  #{activity.pk}  {activity.get_status_display()}")
    left = places_left(activity)
    facts = [
        (_("When"), _span(activity)),
        (_("Kind"), f"{activity.get_mode_display()} · {activity.get_content_type_display()}"),
        (_("Place"), activity.place or "-"),
        (_("Link"), activity.link or "-"),
        (_("Places left"), _("unlimited") if left is None else str(left)),
        (_("Fee"), _fee(activity)),
        (_("Registration"), registration_refusal(activity) or _("open")),
    ]
    for label, value in facts:
        _say(f"{escape(label)}: {escape(str(value))}")
    guests = list(activity_guests(activity))
    if guests:
        _say(
            _("Guests: %(list)s")
            % {
                "list": ", ".join(
                    f"{escape(g.display_name)} ({g.get_role_display()})" for g in guests
                )
            }
        )
    registrations = list(activity_registrations(activity))
    positions = waitlist_positions(registrations)
    table = Table(title=_("Registrations"), title_justify="left")
    for header in (
        _("Id"),
        _("Member"),
        _("Status"),
        _("Fee"),
        _("Code"),
        _("Checked in"),
    ):
        table.add_column(header)
    for registration in registrations:
        status = str(registration.get_status_display())
        if registration.pk in positions:
            status += f" #{positions[registration.pk]}"
        table.add_row(
            str(registration.pk),
            escape(registration.member.display_name),
            status,
            str(registration.get_fee_status_display()),
            registration.code,
            _when(registration.checked_in_at, activity.time_zone)
            if registration.checked_in_at
            else "",
        )
    console.print(table)


@activities.command("create", help=_("Create an activity (a draft unless --publish)."))
@community_argument
@click.option("--title", required=True, help=_("What it is called."))
@click.option("--mode", type=click.Choice(["online", "offline"]), required=True)
@click.option(
    "--type", "content_type", type=click.Choice(["learning", "social", "game"]), required=True
)
@click.option(
    "--starts",
    required=True,
    metavar="TIME",
    help=_("Local clock time in the time zone, e.g. 2024-03-07T19:30."),
)
@click.option("--ends", required=True, metavar="TIME", help=_("Local clock time, as --starts."))
@click.option("--time-zone", default=None, help=_("e.g. Asia/Shanghai (default: the community's)."))
@click.option("--place", default="", help=_("Address or room; required offline."))
@click.option("--link", default="", help=_("Where to join online (https://…)."))
@click.option("--capacity", type=int, default=None, help=_("Places; required offline."))
@click.option("--fee", default="0", help=_("0 (free) or an amount, e.g. 49.00."))
@click.option("--currency", default="", help=_("ISO 4217, e.g. CNY (with a fee)."))
@click.option("--organiser", default=None, metavar="MEMBER", help=_("A member's id or name."))
@click.option("--description", default="", help=_("What people will do."))
@click.option("--opens", default=None, metavar="TIME", help=_("When registration opens."))
@click.option("--closes", default=None, metavar="TIME", help=_("When registration closes."))
@click.option("--publish", is_flag=True, help=_("Publish it at once."))
def create(community_slug: str, **options: Any) -> None:
    found = _community(community_slug)
    from shequn.activities.services import ActivityError, do_create_activity, do_publish_activity

    values = {
        "title": options["title"],
        "mode": options["mode"],
        "content_type": options["content_type"],
        "starts_at": options["starts"],
        "ends_at": options["ends"],
        "time_zone": options["time_zone"],
        "place": options["place"],
        "link": options["link"],
        "capacity": options["capacity"],
        "fee_amount": options["fee"],
        "currency": options["currency"],
        "description": options["description"],
        "registration_opens_at": options["opens"],
        "registration_closes_at": options["closes"],
        "organiser": _member(found, options["organiser"]) if options["organiser"] else None,
    }
    try:
        activity = do_create_activity(found, values)
        if options["publish"]:
            activity = do_publish_activity(activity)
    except ActivityError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(
        _("Activity #%(id)d created (%(status)s): %(title)s, %(when)s.")
        % {
            "id": activity.pk,
            "status": activity.get_status_display(),
            "title": escape(activity.title),
            "when": _span(activity),
        }
    )
    _say(_("Public page: /a/%(token)s/") % {"token": activity.public_token})


def _transition(community_slug: str, activity_id: int, action: str, **kwargs: Any) -> None:
    found = _community(community_slug)
    from shequn.activities import services

    activity = _activity(found, activity_id)
    do = {
        "publish": services.do_publish_activity,
        "cancel": services.do_cancel_activity,
        "complete": services.do_complete_activity,
    }[action]
    try:
        activity = do(activity, **kwargs)
    except services.ActivityError as exc:
        _refused(exc)
    _say(
        _("Activity #%(id)d is now %(status)s.")
        % {"id": activity.pk, "status": activity.get_status_display()}
    )


@activities.command("publish", help=_("Publish a draft: registration can open."))
@community_argument
@activity_argument
def publish(community_slug: str, activity_id: int) -> None:
    _transition(community_slug, activity_id, "publish")


@activities.command("cancel", help=_("Call an activity off; registrations are kept."))
@community_argument
@activity_argument
@click.option("--reason", default="", help=_("Why; kept in the audit log."))
def cancel(community_slug: str, activity_id: int, reason: str) -> None:
    _transition(community_slug, activity_id, "cancel", reason=reason)


@activities.command(
    "complete", help=_("Mark a published activity that has started as done (points and tiers).")
)
@community_argument
@activity_argument
def complete(community_slug: str, activity_id: int) -> None:
    _transition(community_slug, activity_id, "complete")


@activities.command(
    "register",
    help=_("Register a member (id, key or name) or someone by --name and --email."),
)
@community_argument
@activity_argument
@click.argument("member", required=False)
@click.option("--name", default="", help=_("A new person's name (with --email)."))
@click.option("--email", default="", help=_("Their e-mail address: their member key."))
@click.option("--override", is_flag=True, help=_("Even outside the registration window."))
def register(
    community_slug: str,
    activity_id: int,
    member: str | None,
    name: str,
    email: str,
    override: bool,
) -> None:
    found = _community(community_slug)
    from shequn.activities.services import ActivityError, do_register, do_register_contact
    from shequn.activities.web_selectors import waitlist_positions

    activity = _activity(found, activity_id)
    if not member and not (name or email):
        fail(_("give a MEMBER, or --name and --email"), EXIT_USAGE)
    try:
        if member:
            registration = do_register(activity, _member(found, member), override=override)
        else:
            registration = do_register_contact(
                activity, name=name, email=email, self_service=False, override=override
            )
    except ActivityError as exc:
        _refused(exc)
    if registration.status == "confirmed":
        _say(
            _("%(name)s has a confirmed place; check-in code %(code)s.")
            % {"name": escape(registration.member.display_name), "code": registration.code}
        )
    else:
        from shequn.activities.selectors import waitlist

        position = waitlist_positions(waitlist(activity)).get(registration.pk)
        _say(
            _("The activity is full: %(name)s is number %(position)s on the waitlist.")
            % {"name": escape(registration.member.display_name), "position": position}
        )


@activities.command("check-in", help=_("Check the holder of a code in."))
@community_argument
@activity_argument
@click.argument("code")
def check_in(community_slug: str, activity_id: int, code: str) -> None:
    found = _community(community_slug)
    from shequn.activities.services import ActivityError, do_check_in

    activity = _activity(found, activity_id)
    try:
        result = do_check_in(activity, code)
    except ActivityError as exc:
        _refused(exc)
    name = escape(result.registration.member.display_name)
    if result.already:
        _say(
            _("%(name)s was already checked in at %(when)s.")
            % {"name": name, "when": _when(result.registration.checked_in_at, activity.time_zone)}
        )
    else:
        _say(_("%(name)s is checked in.") % {"name": name})


@activities.command(
    "import-attendance",
    help=_(
        "Import who attended from a CSV file (member_key, email or name; attended and/or "
        "checked_in_at): all of it or nothing."
    ),
)
@community_argument
@activity_argument
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-missing", is_flag=True, help=_("Add people who are not members yet."))
def import_attendance(
    community_slug: str, activity_id: int, path: Path, create_missing: bool
) -> None:
    found = _community(community_slug)
    from shequn.activities.services import ActivityError, do_import_attendance

    activity = _activity(found, activity_id)
    try:
        result = do_import_attendance(activity, path, create_missing=create_missing)
    except ActivityError as exc:
        _refused(exc)
    _say(
        _(
            "%(file)s imported: %(rows)s rows, %(checked_in)s checked in now "
            "(%(already)s already were), %(registered)s registered, %(created)s new "
            "members, %(no_shows)s did not come."
        )
        % {
            "file": path.name,
            "rows": result.rows,
            "checked_in": result.checked_in,
            "already": result.already_checked_in,
            "registered": result.registered,
            "created": result.members_created,
            "no_shows": result.no_shows,
        }
    )
    if result.ignored_columns:
        _say(_("Columns ignored: %(columns)s.") % {"columns": ", ".join(result.ignored_columns)})


@activities.command("export-registrations", help=_("The registrations as CSV."))
@community_argument
@activity_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_registrations(community_slug: str, activity_id: int, output: Path | None) -> None:
    found = _community(community_slug)
    from shequn.activities.csv_io import registrations_csv

    _write(registrations_csv(_activity(found, activity_id)), output, _("Registrations"))


@activities.command(
    "report",
    help=_("Registered, attended, no-shows, first-time and returning, rating, newcomers."),
)
@community_argument
@activity_argument
def report(community_slug: str, activity_id: int) -> None:
    found = _community(community_slug)
    from shequn.activities.selectors import activity_report

    activity = _activity(found, activity_id)
    figures = activity_report(activity)

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    table = Table(
        title=escape(_("Report: %(title)s") % {"title": activity.title}),
        title_justify="left",
        show_header=False,
    )
    table.add_column()
    table.add_column(justify="right")
    rows = [
        (_("Registrations"), figures.registered),
        (_("Confirmed"), figures.confirmed),
        (_("Waitlisted"), figures.waitlisted),
        (_("Cancelled"), figures.cancelled),
        (_("Attended"), figures.attended),
        (_("No-shows"), "-" if figures.no_shows is None else figures.no_shows),
        (_("No-show rate"), rate(figures.no_show_rate)),
        (_("First-time"), figures.first_time),
        (_("Returning"), figures.returning),
        (
            _("Rating"),
            "-"
            if figures.rating_mean is None
            else f"{figures.rating_mean} ({figures.rating_count})",
        ),
        (_("Came via this activity"), len(figures.newcomers)),
        (_("Of them stayed"), len(figures.stayed)),
        (_("Too early to tell"), len(figures.pending)),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)


@activities.command("ics", help=_("The community's calendar, or one activity, as iCalendar."))
@community_argument
@click.argument("activity_id", metavar="[ACTIVITY_ID]", type=int, required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def ics(community_slug: str, activity_id: int | None, output: Path | None) -> None:
    found = _community(community_slug)
    from shequn.activities.ical import activity_ics, community_ics

    data = (
        activity_ics(_activity(found, activity_id))
        if activity_id is not None
        else community_ics(found)
    )
    _write(data.decode("utf-8"), output, _("Calendar"))


# ------------------------------------------------------------------------------- rituals
@rituals.command("list", help=_("The community's rituals."))
@community_argument
def list_rituals(community_slug: str) -> None:
    found = _community(community_slug)
    from shequn.activities.selectors import community_rituals

    table = Table(
        title=escape(_("Rituals of %(name)s") % {"name": found.name}), title_justify="left"
    )
    for header in (_("Id"), _("Name"), _("Repeats"), _("First"), _("Occurrences"), _("Active")):
        table.add_column(header)
    found_any = False
    for ritual in community_rituals(found):
        found_any = True
        table.add_row(
            str(ritual.pk),
            escape(ritual.name),
            f"{ritual.get_frequency_display()} {ritual.rule}",
            f"{_when(ritual.first_starts_at, ritual.time_zone)} {ritual.time_zone}",
            str(ritual.occurrences_count),
            _("yes") if ritual.active else _("no"),
        )
    console.print(table)
    if not found_any:
        _say(_("No rituals yet."))


@rituals.command("create", help=_("Create a ritual: weekly, monthly or a custom RRULE."))
@community_argument
@click.option("--name", required=True)
@click.option("--frequency", type=click.Choice(["weekly", "monthly", "custom"]), default="weekly")
@click.option("--rule", default="", help=_("An RFC 5545 RRULE (custom only)."))
@click.option(
    "--first", required=True, metavar="TIME", help=_("The first occurrence's local start.")
)
@click.option("--time-zone", default=None)
@click.option("--duration", type=int, default=60, show_default=True, help=_("Minutes."))
@click.option("--title", default="", help=_("Title of each occurrence (default: the name)."))
@click.option("--mode", type=click.Choice(["online", "offline"]), required=True)
@click.option(
    "--type", "content_type", type=click.Choice(["learning", "social", "game"]), required=True
)
@click.option("--place", default="")
@click.option("--link", default="")
@click.option("--capacity", type=int, default=None)
@click.option("--fee", default="0")
@click.option("--currency", default="")
@click.option("--organiser", default=None, metavar="MEMBER")
@click.option("--description", default="")
def create_ritual(community_slug: str, **options: Any) -> None:
    found = _community(community_slug)
    from shequn.activities.services import ActivityError, do_create_ritual

    values = {
        "name": options["name"],
        "frequency": options["frequency"],
        "rule": options["rule"],
        "first_starts_at": options["first"],
        "time_zone": options["time_zone"],
        "duration_minutes": options["duration"],
        "title": options["title"],
        "mode": options["mode"],
        "content_type": options["content_type"],
        "place": options["place"],
        "link": options["link"],
        "capacity": options["capacity"],
        "fee_amount": options["fee"],
        "currency": options["currency"],
        "description": options["description"],
        "organiser": _member(found, options["organiser"]) if options["organiser"] else None,
    }
    try:
        ritual = do_create_ritual(found, values)
    except ActivityError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(
        _("Ritual #%(id)d created: %(name)s (%(rule)s).")
        % {"id": ritual.pk, "name": escape(ritual.name), "rule": ritual.rule}
    )


@rituals.command(
    "generate", help=_("Create a ritual's occurrences up to a day; existing ones are kept.")
)
@community_argument
@click.argument("ritual_id", metavar="RITUAL_ID", type=int)
@click.option(
    "--until",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help=_("The last local day (YYYY-MM-DD), included."),
)
@click.option("--draft", is_flag=True, help=_("Create them as drafts instead of publishing."))
def generate(community_slug: str, ritual_id: int, until: dt.datetime, draft: bool) -> None:
    found = _community(community_slug)
    from shequn.activities.services import ActivityError, do_generate_occurrences

    ritual = _ritual(found, ritual_id)
    try:
        created = do_generate_occurrences(ritual, until=until.date(), publish=not draft)
    except ActivityError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    if not created:
        _say(_("No new occurrences: they exist already."))
    else:
        _say(
            ngettext(
                "%(count)d occurrence created.", "%(count)d occurrences created.", len(created)
            )
            % {"count": len(created)}
        )
    for activity in created:
        _say(f"  #{activity.pk}  {_span(activity)}")
