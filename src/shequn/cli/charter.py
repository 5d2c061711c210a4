"""``shequn charter``: the charter's text and acknowledgements, machine rules and their dry run,
checks, the violation log (reports, decisions), mute recommendations and rewards. Thin: every
change goes through ``shequn.charter.services``; refused changes name the problem and exit
non-zero (3 invalid values, 4 not found, 5 refused)."""

from __future__ import annotations

import sys
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
from shequn.cli.i18n import _

if TYPE_CHECKING:
    from shequn.charter.models import CharterRule
    from shequn.communities.models import Community

community_argument = click.argument("community_slug", metavar="COMMUNITY")
key_argument = click.argument("key", metavar="RULE_KEY")


@click.group(
    help=_(
        "The charter (社群公约): its text and who acknowledged it, machine rules with a dry "
        "run, the appealable violation log, mute recommendations and rewards."
    )
)
def charter() -> None:
    pass


@charter.group("rules", help=_("Machine rules: list, add, edit, switch on or off, delete."))
def rules() -> None:
    pass


# ------------------------------------------------------------------------------ helpers
def _community(slug: str) -> Community:
    bootstrap()
    from shequn.communities.selectors import get_community

    return get_community(slug)


def _say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)


def _refused(error: Exception, exit_code: int = EXIT_REFUSED) -> NoReturn:
    problems = getattr(error, "problems", None) or {"": str(error)}
    lines = [f"{field}: {message}" if field else message for field, message in problems.items()]
    fail("\n".join(lines) + "\n" + _("Nothing was changed."), exit_code)


def _rule(community: Community, key: str) -> CharterRule:
    from shequn.charter.models import CharterRule

    found = CharterRule.objects.filter(community=community, key=key).first()
    if found is None:
        fail(
            _("no rule '%(key)s' in this community (list them with: shequn charter rules list)")
            % {"key": key},
            EXIT_NOT_FOUND,
        )
    found.community = community
    return found


def _member(community: Community, text: str) -> Any:
    from shequn.charter.selectors import find_member

    return find_member(community, text)


def _params(pairs: tuple[str, ...], files: tuple[str, ...]) -> dict[str, str]:
    """``name=value`` options (a name given twice collects both values, one per line) and
    ``name=FILE`` options whose value is the file's text (e.g. a list of banned words)."""
    params: dict[str, list[str]] = {}
    for pair, from_file in [*((p, False) for p in pairs), *((f, True) for f in files)]:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            fail(_("'%(pair)s' is not a name=value pair") % {"pair": pair}, EXIT_USAGE)
        if from_file:
            try:
                value = Path(value).read_text(encoding="utf-8-sig")
            except OSError as exc:
                fail(
                    _("cannot read %(path)s: %(problem)s")
                    % {"path": value, "problem": exc.strerror},
                    EXIT_NOT_FOUND,
                )
        params.setdefault(name.strip(), []).append(value)
    return {name: "\n".join(values) for name, values in params.items()}


def _rule_values(options: dict[str, Any]) -> dict[str, Any]:
    """The rule fields the options set (None: not given, so unchanged)."""
    values: dict[str, Any] = {}
    for option, field in (
        ("name", "name"),
        ("description", "description"),
        ("consequence", "consequence"),
        ("points", "points"),
    ):
        if options.get(option) is not None:
            values[field] = options[option]
    if options.get("applies_from") is not None:
        values["applies_from"] = "" if options["applies_from"] == "all" else options["applies_from"]
    if options.get("judge_staff") is not None:
        values["exempt_staff"] = not options["judge_staff"]
    if options.get("judge_bots") is not None:
        values["exempt_bots"] = not options["judge_bots"]
    params = _params(options.get("param") or (), options.get("param_file") or ())
    if params:
        values["params"] = params
    return values


def _consequence(rule: Any) -> str:
    text = str(rule.get_consequence_display())
    if rule.points:
        text += f" {'+' if rule.consequence == 'reward' else '-'}{rule.points}"
    return text


rule_options = [
    click.option("--name", default=None, help=_("What operators call it.")),
    click.option("--description", default=None, help=_("Which part of the charter it enforces.")),
    click.option(
        "--consequence",
        type=click.Choice(["warning", "penalty", "mute", "reward"]),
        default=None,
        help=_("What happens when it fires (reward kinds: reward)."),
    ),
    click.option("--points", type=int, default=None, help=_("Points taken or given.")),
    click.option(
        "--param",
        "-p",
        multiple=True,
        metavar="NAME=VALUE",
        help=_("A parameter, e.g. -p messages=5 -p seconds=60 (see: shequn charter kinds)."),
    ),
    click.option(
        "--param-file",
        multiple=True,
        metavar="NAME=FILE",
        help=_("A parameter read from a file, e.g. --param-file words=banned.txt."),
    ),
    click.option(
        "--applies-from",
        default=None,
        metavar="DATE",
        help=_("Judge events from this local day (default for a new rule: today); 'all': all."),
    ),
    click.option(
        "--judge-staff/--exempt-staff",
        default=None,
        help=_("Whether founders' and operators' messages are judged (default: exempt)."),
    ),
    click.option(
        "--judge-bots/--exempt-bots",
        default=None,
        help=_("Whether bots' messages are judged (default: exempt)."),
    ),
]


def with_rule_options(command: Any) -> Any:
    for option in reversed(rule_options):
        command = option(command)
    return command


# ------------------------------------------------------------------------------- text
@charter.command("show", help=_("The current charter text and whether it is enforced."))
@community_argument
def show(community_slug: str) -> None:
    found = _community(community_slug)
    from shequn.charter.selectors import charter_status, current_charter

    version = current_charter(found)
    status = charter_status(found)
    if version is None:
        _say(_("No charter yet: publish one with: shequn charter publish %(slug)s FILE")
             % {"slug": found.slug})  # fmt: skip
    else:
        _say(
            _("Version %(n)d, published %(day)s.")
            % {"n": version.number, "day": f"{version.published_at:%Y-%m-%d}"}
        )
        click.echo(version.text)
    _say(
        _(
            "%(acks)d members acknowledged it; %(rules)d rules switched on; %(recent)d "
            "violations in 30 days, %(open)d waiting for a decision."
        )
        % {
            "acks": status["acknowledged"],
            "rules": status["rules_enabled"],
            "recent": status["violations_30d"],
            "open": status["open_violations"],
        }
    )


@charter.command("publish", help=_("Publish a new version of the charter from a text file."))
@community_argument
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--note", default="", help=_("What changed."))
def publish(community_slug: str, file: str, note: str) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_publish_charter

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(
            _("cannot read %(path)s: %(problem)s") % {"path": file, "problem": exc}, EXIT_NOT_FOUND
        )
    try:
        version = do_publish_charter(found, text, None, note=note)
    except CharterError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(_("Version %(n)d published.") % {"n": version.number})


@charter.command("versions", help=_("Every version of the charter, newest first."))
@community_argument
def versions(community_slug: str) -> None:
    found = _community(community_slug)
    from shequn.charter.selectors import charter_versions

    table = Table(title=_("Charter versions"), title_justify="left")
    for header in (_("Version"), _("Published"), _("Acknowledged"), _("What changed")):
        table.add_column(header)
    for version in charter_versions(found):
        table.add_row(
            str(version.number),
            f"{version.published_at:%Y-%m-%d}",
            str(version.acknowledged),
            escape(version.note),
        )
    console.print(table)


@charter.command("acknowledge", help=_("Record that a member accepted the charter."))
@community_argument
@click.argument("member_text", metavar="MEMBER")
@click.option("--version", "number", type=int, default=None, help=_("Default: the current one."))
@click.option(
    "--via",
    type=click.Choice(["chat", "form", "in_person", "operator", "import"]),
    default="operator",
    show_default=True,
)
@click.option("--at", default=None, metavar="DATE", help=_("When, e.g. 2024-05-01 (default: now)."))
def acknowledge(
    community_slug: str, member_text: str, number: int | None, via: str, at: str | None
) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_acknowledge

    member = _member(found, member_text)
    try:
        ack = do_acknowledge(member, number, via, None, at=at)
    except CharterError as exc:
        _refused(exc)
    _say(
        _("%(member)s acknowledged version %(n)d.")
        % {"member": escape(member.display_name), "n": ack.version.number}
    )


@charter.command(
    "acknowledgements", help=_("Who acknowledged a version (default: the current one).")
)
@community_argument
@click.option("--version", "number", type=int, default=None)
@click.option("--missing", is_flag=True, help=_("Instead: members who have not acknowledged it."))
@click.option("--limit", default=100, show_default=True)
def acknowledgements(community_slug: str, number: int | None, missing: bool, limit: int) -> None:
    found = _community(community_slug)
    from shequn.charter.models import CharterVersion
    from shequn.charter.selectors import (
        current_charter,
        members_to_acknowledge,
        version_acknowledgements,
    )

    version = (
        current_charter(found)
        if number is None
        else CharterVersion.objects.filter(community=found, number=number).first()
    )
    if version is None:
        fail(_("no such version of the charter"), EXIT_NOT_FOUND)
    if missing:
        rows = members_to_acknowledge(found, version)
        _say(_("%(n)d members have not acknowledged version %(v)d.")
             % {"n": rows.count(), "v": version.number})  # fmt: skip
        for member in rows[:limit]:
            _say(f"#{member.pk} {escape(member.display_name)}")
        return
    table = Table(title=_("Acknowledgements of version %(n)d") % {"n": version.number})
    for header in (_("Member"), _("Via"), _("When")):
        table.add_column(header)
    for ack in version_acknowledgements(version)[:limit]:
        table.add_row(
            f"#{ack.member_id} {escape(ack.member.display_name)}",
            str(ack.get_via_display()),
            f"{ack.acknowledged_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@charter.command(
    "import-acknowledgements",
    help=_(
        "Import acknowledgements from a CSV file (member, acknowledged_at, via); all or nothing."
    ),
)
@community_argument
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--version", "number", type=int, default=None, help=_("Default: the current one."))
def import_acknowledgements(community_slug: str, file: str, number: int | None) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_import_acknowledgements

    try:
        content = Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(_("no file %(path)s") % {"path": file}, EXIT_NOT_FOUND)
    except (OSError, UnicodeDecodeError) as exc:
        fail(
            _("cannot read %(path)s: %(problem)s") % {"path": file, "problem": exc},
            EXIT_INVALID_DATA,
        )
    try:
        result = do_import_acknowledgements(found, content, version=number, source=Path(file).name)
    except CharterError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(
        _("%(created)d acknowledgements of version %(v)d recorded; %(already)d already were.")
        % {"created": result.created, "v": result.version, "already": result.already}
    )


# ------------------------------------------------------------------------------ rules
@charter.command("kinds", help=_("The kinds of rules and their parameters."))
def kinds() -> None:
    bootstrap(migrate=False)
    from shequn.charter.selectors import rule_kinds

    for kind in rule_kinds():
        marks = _(" (reward)") if kind["reward"] else ""
        _say(f"[bold]{kind['kind']}[/]{marks} — {escape(kind['label'])}: {escape(kind['help'])}")
        for param in kind["params"]:
            _say(
                f"  -p {param['name']}=…  ({param['type']}, "
                + _("default %(value)s") % {"value": param["default"]}
                + f") {escape(param['help'])}"
            )


@rules.command("list", help=_("The rules, switched-on first."))
@community_argument
def list_rules(community_slug: str) -> None:
    found = _community(community_slug)
    from shequn.charter.selectors import community_rules

    table = Table(title=_("Charter rules of %(name)s") % {"name": escape(found.name)})
    for header in (_("Key"), _("Kind"), _("Parameters"), _("Consequence"), _("On"), _("Log")):
        table.add_column(header)
    for rule in community_rules(found):
        params = ", ".join(
            f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in rule.params.items()
        )
        log = (
            _("%(n)d rewards") % {"n": rule.rewards_given}
            if rule.consequence == "reward"
            else _("%(n)d violations (%(open)d open)")
            % {"n": rule.violations_counted, "open": rule.violations_open}
        )
        table.add_row(
            rule.key,
            rule.kind,
            escape(params[:80]),
            _consequence(rule),
            _("yes") if rule.enabled else _("no"),
            log,
        )
    console.print(table)


@rules.command("add", help=_("Add a rule (switched off unless --enable; read its dry run first)."))
@community_argument
@key_argument
@click.option(
    "--kind",
    required=True,
    help=_("flood, spam, banned_words, off_hours, reported, welcome, fast_answer."),
)
@with_rule_options
@click.option("--enable", is_flag=True, help=_("Switch it on at once."))
def add_rule(community_slug: str, key: str, kind: str, enable: bool, **options: Any) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_save_rule

    values = {"key": key, "kind": kind, "enabled": enable, **_rule_values(options)}
    try:
        rule = do_save_rule(found, values, actor=None)
    except CharterError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(
        _("Rule %(key)s added (%(state)s), judging events from %(day)s.")
        % {
            "key": rule.key,
            "state": _("switched on") if rule.enabled else _("switched off"),
            "day": rule.applies_from.isoformat() if rule.applies_from else _("the first one"),
        }
    )


@rules.command("edit", help=_("Change a rule; parameters not given keep their values."))
@community_argument
@key_argument
@click.option("--key", "new_key", default=None, help=_("A new key."))
@with_rule_options
def edit_rule(community_slug: str, key: str, new_key: str | None, **options: Any) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_save_rule

    rule = _rule(found, key)
    values = _rule_values(options)
    if new_key:
        values["key"] = new_key
    try:
        rule = do_save_rule(found, values, actor=None, rule=rule)
    except CharterError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    _say(_("Rule %(key)s saved.") % {"key": rule.key})


def _switch(community_slug: str, key: str, on: bool) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_disable_rule, do_enable_rule

    rule = _rule(found, key)
    try:
        (do_enable_rule if on else do_disable_rule)(rule, actor=None)
    except CharterError as exc:
        _refused(exc)
    _say(
        (_("Rule %(key)s switched on.") if on else _("Rule %(key)s switched off."))
        % {"key": rule.key}
    )


@rules.command("enable", help=_("Switch a rule on: it judges at the next import or check."))
@community_argument
@key_argument
def enable_rule(community_slug: str, key: str) -> None:
    _switch(community_slug, key, True)


@rules.command("disable", help=_("Switch a rule off; its log stays."))
@community_argument
@key_argument
def disable_rule(community_slug: str, key: str) -> None:
    _switch(community_slug, key, False)


@rules.command("delete", help=_("Delete a rule that never fired (switch the others off)."))
@community_argument
@key_argument
def delete_rule(community_slug: str, key: str) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_delete_rule

    rule = _rule(found, key)
    try:
        do_delete_rule(rule, actor=None)
    except CharterError as exc:
        _refused(exc)
    _say(_("Rule %(key)s deleted.") % {"key": key})


@charter.command(
    "dry-run",
    help=_("What a new (--kind) or changed (--rule) rule would have flagged; writes nothing."),
)
@community_argument
@click.option("--kind", default=None, help=_("A new rule of this kind."))
@click.option("--rule", "rule_key", default=None, help=_("An existing rule, with any changes."))
@with_rule_options
@click.option("--days", default=30, show_default=True, help=_("Up to the latest imported event."))
def dry_run_command(
    community_slug: str, kind: str | None, rule_key: str | None, days: int, **options: Any
) -> None:
    found = _community(community_slug)
    from shequn.charter.selectors import dry_run
    from shequn.charter.services import CharterError, rule_values

    if bool(kind) == bool(rule_key):
        fail(_("give either --kind or --rule"), EXIT_USAGE)
    rule = _rule(found, rule_key) if rule_key else None
    values = rule_values(rule) if rule is not None else {"kind": kind}
    changes = _rule_values(options)
    if rule is not None and "params" in changes:
        changes["params"] = {**rule.params, **changes["params"]}
    try:
        result = dry_run(found, {**values, **changes}, days, rule=rule)
    except CharterError as exc:
        _refused(exc, EXIT_INVALID_DATA)
    if not result.automatic:
        _say(_("Operators report these violations by hand: there is nothing to detect."))
        return
    _say(
        (
            _("%(n)d rewards for %(members)d members over %(days)d days (%(start)s – %(end)s).")
            if result.reward
            else _(
                "%(n)d violations by %(members)d members over %(days)d days (%(start)s – %(end)s)."
            )
        )
        % {
            "n": result.total,
            "members": result.members_total,
            "days": result.days,
            "start": f"{result.start:%Y-%m-%d %H:%M}",
            "end": f"{result.end:%Y-%m-%d %H:%M}",
        }
    )
    if result.points:
        _say(_("Points: %(points)s.") % {"points": f"{result.points:+d}"})
    if result.already_recorded:
        _say(_("%(n)d of them are already in the log.") % {"n": result.already_recorded})
    table = Table(title=_("Members"), title_justify="left")
    for header in (_("Member"), _("Times"), _("Points")):
        table.add_column(header)
    for row in result.members:
        table.add_row(
            f"#{row.member_id} {escape(row.display_name)}", str(row.count), str(row.points)
        )
    console.print(table)
    for example in result.examples:
        _say(
            f"{example.occurred_at:%Y-%m-%d %H:%M} {escape(example.display_name)}: "
            f"{escape(example.why)}" + (f" — “{escape(example.text)}”" if example.text else "")
        )


@charter.command("check", help=_("Run the switched-on rules over the events they have not judged."))
@community_argument
@click.option(
    "--full",
    is_flag=True,
    help=_("Judge every event from each rule's start day again; nothing is recorded twice."),
)
def check(community_slug: str, full: bool) -> None:
    found = _community(community_slug)
    from shequn.charter.services import do_check

    result = do_check(found, full=full)
    for outcome in result.rules:
        _say(
            _(
                "%(key)s: %(violations)d new violations, %(rewards)d new rewards "
                "(%(points)s points)."
            )
            % {
                "key": outcome.key,
                "violations": outcome.violations,
                "rewards": outcome.rewards,
                "points": f"{outcome.points:+d}",
            }
        )
    _say(
        _("Checked up to event %(id)d with %(rules)d rules.")
        % {"id": result.watermark, "rules": len(result.rules)}
    )


# ------------------------------------------------------------------------- violations
@charter.command("violations", help=_("The violation log, newest first."))
@community_argument
@click.option("--status", type=click.Choice(["open", "upheld", "overturned"]), default=None)
@click.option("--rule", "rule_key", default=None, metavar="RULE_KEY")
@click.option("--member", "member_text", default=None, metavar="MEMBER")
@click.option("--limit", default=50, show_default=True)
def list_violations(
    community_slug: str,
    status: str | None,
    rule_key: str | None,
    member_text: str | None,
    limit: int,
) -> None:
    found = _community(community_slug)
    from shequn.charter.detectors import detector_for
    from shequn.charter.selectors import ViolationFilters, violations

    filters = ViolationFilters(
        status=status or "",
        rule_id=_rule(found, rule_key).pk if rule_key else None,
        member_id=_member(found, member_text).pk if member_text else None,
    )
    rows = violations(found, filters)
    table = Table(title=_("%(n)d violations") % {"n": rows.count()}, title_justify="left")
    for header in (
        _("Id"),
        _("When"),
        _("Member"),
        _("Rule"),
        _("Why"),
        _("Consequence"),
        _("Status"),
    ):
        table.add_column(header)
    zone = found.zoneinfo
    for violation in rows[:limit]:
        detector = detector_for(violation.rule.kind)
        why = violation.note or (detector.describe(violation.detail) if detector else "")
        table.add_row(
            str(violation.pk),
            f"{violation.occurred_at.astimezone(zone):%Y-%m-%d %H:%M}",
            escape(violation.member.display_name),
            violation.rule.key,
            escape(why),
            f"{violation.get_consequence_display()}"
            + (f" -{violation.points}" if violation.points else ""),
            str(violation.get_status_display()),
        )
    console.print(table)


@charter.command(
    "decide", help=_("Decide an appeal: upheld, or overturned (its penalty is reversed).")
)
@click.argument("violation_id", metavar="VIOLATION_ID", type=int)
@click.argument("decision", type=click.Choice(["upheld", "overturned"]))
@click.option("--note", default="", help=_("Why (required to overturn)."))
def decide(violation_id: int, decision: str, note: str) -> None:
    bootstrap()
    from shequn.charter.models import Violation
    from shequn.charter.services import CharterError, do_decide_violation

    violation = Violation.objects.filter(pk=violation_id).select_related("member").first()
    if violation is None:
        fail(_("no violation #%(id)d") % {"id": violation_id}, EXIT_NOT_FOUND)
    try:
        decided = do_decide_violation(violation, decision, note, actor=None)
    except CharterError as exc:
        _refused(exc)
    _say(
        _("Violation #%(id)d is now %(status)s.")
        % {"id": decided.pk, "status": decided.get_status_display()}
    )
    if decided.reversal_entry_id:
        _say(
            _("%(points)d points given back to %(member)s.")
            % {
                "points": decided.reversal_entry.amount,
                "member": escape(decided.member.display_name),
            }
        )


@charter.command("report", help=_("Report a violation no machine sees."))
@community_argument
@key_argument
@click.argument("member_text", metavar="MEMBER")
@click.option(
    "--event",
    "event_ref",
    default=None,
    metavar="MESSAGE",
    help=_("The message id in the export, or shequn's event id."),
)
@click.option("--note", required=True, help=_("What happened."))
def report(
    community_slug: str, key: str, member_text: str, event_ref: str | None, note: str
) -> None:
    found = _community(community_slug)
    from shequn.charter.selectors import events_by_reference
    from shequn.charter.services import CharterError, do_report_violation

    rule = _rule(found, key)
    member = _member(found, member_text)
    event = None
    if event_ref:
        events = events_by_reference(found, event_ref)
        if not events:
            fail(_("no message '%(ref)s' in this community") % {"ref": event_ref}, EXIT_NOT_FOUND)
        if len(events) > 1:
            fail(
                _("several messages have the id '%(ref)s'; use shequn's event id")
                % {"ref": event_ref},
                EXIT_REFUSED,
            )
        event = events[0]
    try:
        violation = do_report_violation(rule, member, event, note, actor=None)
    except CharterError as exc:
        _refused(exc)
    _say(_("Violation #%(id)d recorded.") % {"id": violation.pk})


@charter.command("mutes", help=_("Members with waiting mute recommendations."))
@community_argument
def mutes(community_slug: str) -> None:
    found = _community(community_slug)
    from shequn.charter.selectors import mute_recommendations

    table = Table(title=_("Mute recommendations"), title_justify="left")
    for header in (_("Member"), _("Violations"), _("Latest"), _("Rules")):
        table.add_column(header)
    for item in mute_recommendations(found):
        table.add_row(
            f"#{item.member.pk} {escape(item.member.display_name)}",
            str(item.violations),
            f"{item.latest_at.astimezone(found.zoneinfo):%Y-%m-%d %H:%M}",
            ", ".join(item.rules),
        )
    console.print(table)


@charter.command(
    "mute-handled", help=_("Close a member's mute recommendations: muted or dismissed.")
)
@community_argument
@click.argument("member_text", metavar="MEMBER")
@click.argument("action", type=click.Choice(["muted", "dismissed"]))
@click.option("--note", default="")
def mute_handled(community_slug: str, member_text: str, action: str, note: str) -> None:
    found = _community(community_slug)
    from shequn.charter.services import CharterError, do_act_on_mute

    member = _member(found, member_text)
    try:
        closed = do_act_on_mute(member, action, note, actor=None)
    except CharterError as exc:
        _refused(exc)
    _say(_("%(n)d mute recommendations closed.") % {"n": closed})


@charter.command("rewards", help=_("Points reward rules gave, newest first."))
@community_argument
@click.option("--limit", default=50, show_default=True)
def list_rewards(community_slug: str, limit: int) -> None:
    found = _community(community_slug)
    from shequn.charter.detectors import detector_for
    from shequn.charter.selectors import rewards

    table = Table(title=_("Charter rewards"), title_justify="left")
    for header in (_("When"), _("Member"), _("Rule"), _("Why"), _("Points")):
        table.add_column(header)
    for reward in rewards(found)[:limit]:
        detector = detector_for(reward.rule.kind)
        table.add_row(
            f"{reward.occurred_at.astimezone(found.zoneinfo):%Y-%m-%d %H:%M}",
            escape(reward.member.display_name),
            reward.rule.key,
            escape(detector.describe(reward.detail) if detector else ""),
            f"+{reward.points}",
        )
    console.print(table)


COMMANDS: list[click.Command] = [charter]
