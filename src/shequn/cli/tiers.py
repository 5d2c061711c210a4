"""``shequn tiers``: recompute tiers, show the funnel, one member's tier and path, the policy."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from shequn.cli.base import EXIT_USAGE, bootstrap, console, fail
from shequn.cli.i18n import _

community_argument = click.argument("community_slug", metavar="COMMUNITY")


@click.group(
    help=_("Tiers: who is an advocate, a participant, a follower or no longer a member, and why.")
)
def tiers() -> None:
    pass


def _print_funnel(community: Any) -> None:
    from shequn.tiers.selectors import tier_funnel

    table = Table(title=_("Tier funnel"), title_justify="left")
    for header in (_("Tier"), _("Members"), _("Share"), _("Staff")):
        table.add_column(header, justify="left" if header == _("Tier") else "right")
    for row in tier_funnel(community):
        share = "" if row["share"] is None else f"{row['share']:.0%}"
        table.add_row(row["label"], f"{row['count']:,}", share, str(row["staff"] or ""))
    console.print(table)


@tiers.command(
    "recompute",
    help=_(
        "Recompute tiers: only the members touched since the last run, or everyone with --full."
    ),
)
@community_argument
@click.option(
    "--full", is_flag=True, help=_("Replay every member, not only those touched since last run.")
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="DATE",
    help=_("Evaluate as of this day (YYYY-MM-DD; default: the latest day in the data)."),
)
@click.option(
    "--rebuild",
    is_flag=True,
    help=_(
        "Also re-read replies and invitations from all events and compare every stored tier "
        "and step with what the run computes, not only their fingerprints (slow; needed only "
        "after changes made outside shequn)."
    ),
)
def recompute(community_slug: str, full: bool, as_of: Any, rebuild: bool) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.tiers.services import do_recompute_tiers

    community = get_community(community_slug)
    result = do_recompute_tiers(
        community, full=full, as_of=as_of.date() if as_of else None, rebuild=rebuild
    )
    console.print(
        _(
            "Tiers as of %(as_of)s (%(kind)s run): %(evaluated)s members evaluated, "
            "%(changed)s changed tier, in %(seconds).2f s."
        )
        % {
            "as_of": result.as_of.isoformat(),
            "kind": _("full") if result.full else _("incremental"),
            "evaluated": f"{result.evaluated:,}",
            "changed": f"{result.changed:,}",
            "seconds": result.seconds,
        }
    )
    _print_funnel(community)


@tiers.command(
    "show", help=_("The tier funnel, the monthly moves between tiers and the members at risk.")
)
@community_argument
@click.option("--months", default=6, show_default=True, help=_("How many months of moves."))
@click.option("--limit", default=20, show_default=True, help=_("How many members at risk."))
def show(community_slug: str, months: int, limit: int) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.tiers.reasons import action_text, describe_risk, tier_label
    from shequn.tiers.selectors import latest_tier_run, members_at_risk, monthly_tier_flows

    community = get_community(community_slug)
    run = latest_tier_run(community)
    if run is None:
        console.print(
            _("No tiers yet; compute them with: shequn tiers recompute %(slug)s")
            % {"slug": community.slug}
        )
        return
    console.print(_("As of %(as_of)s.") % {"as_of": run.as_of.isoformat()})
    _print_funnel(community)

    kinds = ("new", "up", "down", "lapsed", "came_back")
    headers = {
        "new": _("New"),
        "up": _("Moved up"),
        "down": _("Moved down"),
        "lapsed": _("Lapsed"),
        "came_back": _("Came back"),
    }
    per_month: dict[str, dict[str, int]] = {}
    for flow in monthly_tier_flows(community, months=months):
        counts = per_month.setdefault(flow["month"], dict.fromkeys(kinds, 0))
        counts[flow["kind"]] += flow["count"]
    flows = Table(title=_("Moves between tiers per month"), title_justify="left")
    flows.add_column(_("Month"))
    for kind in kinds:
        flows.add_column(headers[kind], justify="right")
    for month, counts in sorted(per_month.items()):
        flows.add_row(month, *(f"{counts[kind]:,}" for kind in kinds))
    console.print(flows)

    at_risk = members_at_risk(community, limit=limit)
    if not at_risk:
        console.print(_("No member is at risk."))
        return
    table = Table(title=_("Members at risk"), title_justify="left")
    for header in (_("Member"), _("Tier"), _("Why"), _("Suggested action")):
        table.add_column(header)
    for state in at_risk:
        table.add_row(
            f"#{state.member_id} {state.member.display_name}",
            tier_label(state.tier),
            describe_risk(state.risk),
            action_text(state.action),
        )
    console.print(table)


@tiers.command("member", help=_("One member's tier with the reasons, their path and progress."))
@community_argument
@click.argument("member")
def member(community_slug: str, member: str) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.members.selectors import get_member
    from shequn.tiers.reasons import action_text, describe, describe_risk, tier_label
    from shequn.tiers.selectors import member_progress, member_tier, member_tier_path

    community = get_community(community_slug)
    found = get_member(community, member)
    state = member_tier(found)
    console.print(f"[bold]{found.display_name}[/]  #{found.pk}  {found.get_role_display()}")
    if state is None:
        console.print(
            _("No tier: bots get none.")
            if found.is_bot
            else _("No tier yet; compute them with: shequn tiers recompute %(slug)s")
            % {"slug": community.slug}
        )
        return
    since = f" ({_('since')} {state.since.isoformat()})" if state.since else ""
    staff_note = _("staff: not counted in community figures")
    staff = f"  [{staff_note}]" if state.is_staff else ""
    console.print(f"{_('Tier')}: [bold]{tier_label(state.tier)}[/]{since}{staff}")
    for reason in state.reasons:
        console.print(f"  • {describe(reason)}")
    if state.at_risk:
        at_risk = _("At risk")
        console.print(f"[yellow]{at_risk}:[/] {describe_risk(state.risk)}")
    console.print(f"{_('Suggested action')}: {action_text(state.action)}")

    progress = member_progress(found)
    if progress.get("texts"):
        title = (
            _("To become %(tier)s") % {"tier": tier_label(progress["next_tier"])}
            if progress.get("next_tier")
            else _("To stay an advocate")
        )
        console.print(f"{title}:")
        for text in progress["texts"]:
            console.print(f"  • {text}")

    path = Table(title=_("Path"), title_justify="left")
    for header in (_("Date"), _("From"), _("To"), _("Why")):
        path.add_column(header)
    for change in member_tier_path(found):
        path.add_row(
            change.changed_on.isoformat(),
            tier_label(change.from_tier) if change.from_tier else "-",
            tier_label(change.to_tier),
            "; ".join(describe(reason) for reason in change.reasons),
        )
    console.print(path)


@tiers.command(
    "policy",
    help=_(
        "Show the community's tier thresholds, or change them with --set name=value "
        "(then every member is recomputed)."
    ),
)
@community_argument
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help=_("A threshold to change, e.g. --set lapse_days=45 (repeatable)."),
)
def policy(community_slug: str, assignments: tuple[str, ...]) -> None:
    bootstrap()
    from shequn.communities.selectors import get_community
    from shequn.tiers.models import TierPolicy
    from shequn.tiers.policy import POLICY_FIELDS, TierPolicyError
    from shequn.tiers.selectors import tier_policy
    from shequn.tiers.services import do_update_tier_policy

    community = get_community(community_slug)
    if assignments:
        values: dict[str, str] = {}
        for assignment in assignments:
            name, sep, value = assignment.partition("=")
            if not sep or not name.strip():
                fail(
                    _("'%(value)s' is not NAME=VALUE (e.g. lapse_days=45)") % {"value": assignment},
                    EXIT_USAGE,
                )
            values[name.strip()] = value.strip()
        try:
            do_update_tier_policy(community, **values)
        except TierPolicyError as exc:
            fail(
                _("%(field)s: %(problem)s; nothing was changed.")
                % {"field": exc.field, "problem": exc.message},
                EXIT_USAGE,
            )
        console.print(_("Policy updated; every member was recomputed."))
    current = tier_policy(community)
    table = Table(title=_("Tier policy"), title_justify="left")
    for header in (_("Setting"), _("Value"), _("Meaning")):
        table.add_column(header)
    for name in POLICY_FIELDS:
        field = TierPolicy._meta.get_field(name)
        value = getattr(current, name)
        if isinstance(value, dict):
            value = ",".join(f"{kind}={weight}" for kind, weight in value.items())
        table.add_row(name, str(value), f"{field.verbose_name}: {field.help_text}")
    console.print(table)
