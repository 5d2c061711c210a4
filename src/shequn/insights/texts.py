"""Words for a diagnosis: each check's title, its evidence sentence and its suggested action,
translated when shown (a stored report keeps only codes and numbers)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from shequn.insights.checks import AT_RISK, CHECK_GROUPS, MET, NO_DATA, NOT_MET

STATUS_LABELS = {
    MET: pgettext_lazy("diagnosis status", "met"),
    AT_RISK: pgettext_lazy("diagnosis status", "at risk"),
    NOT_MET: pgettext_lazy("diagnosis status", "not met"),
    NO_DATA: pgettext_lazy("diagnosis status", "no data"),
}

TITLES = {
    "creates_value": gettext_lazy("Creates value (创造价值)"),
    "runs_sustainably": gettext_lazy("Runs sustainably (持续运行)"),
    "multi_centre": gettext_lazy("1. Multi-centre: neither one centre nor none"),
    "deep_links": gettext_lazy("2. Deep links between ordinary members"),
    "altruism": gettext_lazy("3. Altruism: members help each other"),
    "beyond_interest": gettext_lazy("4. More than a shared hobby"),
    "activity_not_health": gettext_lazy("5. Activity alone is not health"),
    "charter": gettext_lazy("6. A charter that is enforced"),
    "culture": gettext_lazy("7. A culture behind it"),
    "not_chat_group": gettext_lazy("A community is not a chat group"),
    "not_fan_club": gettext_lazy("A community is not a fan club"),
    "not_venue": gettext_lazy("A community is not a venue"),
    "not_crowd": gettext_lazy("A community is not a crowd"),
    "similar_culture": gettext_lazy("Similar culture"),
    "frequent_interaction": gettext_lazy("Frequent interaction"),
    "shared_interest": gettext_lazy("Shared interest"),
}

# Evidence sentences by (check, reason); "" is the usual one.
EVIDENCE = {
    ("creates_value", ""): gettext_lazy(
        "%(help_share)s of active members answered someone else; %(cooperative_threads)s "
        "conversations drew three or more people; %(attendees)s members took part in a "
        "collective activity; %(connections_made)s needs were connected with an offer "
        "(%(connections_helped)s of them helped or made a deal)."
    ),
    ("creates_value", "no_help_data"): gettext_lazy(
        "%(cooperative_threads)s conversations drew three or more people; %(attendees)s "
        "members took part in a collective activity; %(connections_made)s needs were connected "
        "with an offer. Help between members cannot be seen without reply data."
    ),
    ("runs_sustainably", ""): gettext_lazy(
        "Cohesion %(cohesion)s against dissipative force %(dissipative)s; net inflow "
        "%(net_inflow)s of active members; %(operators)s operators besides the founders."
    ),
    ("multi_centre", ""): gettext_lazy(
        "The most central person carries %(top_share)s of all interaction; %(hubs)s people are "
        "hubs; without the top person %(split_without_top)s of the rest fall apart; half of all "
        "contributions come from %(bus_factor)s people."
    ),
    ("multi_centre", "one_centre"): gettext_lazy(
        "One person carries %(top_share)s of all interaction and is the only hub; without them "
        "%(split_without_top)s of the rest fall apart."
    ),
    ("multi_centre", "no_centre"): gettext_lazy(
        "Nobody carries a notable share of the interaction (the most central person: "
        "%(top_share)s): there is no centre people gather around."
    ),
    ("multi_centre", "small_group"): gettext_lazy(
        "Only %(members)s people interact, too few for several centres with their own "
        "following; the most central person carries %(top_share)s of the interaction."
    ),
    ("multi_centre", "no_network"): gettext_lazy(
        "Fewer than three people interacted with each other in the period."
    ),
    ("deep_links", ""): gettext_lazy(
        "%(deep_members)s of %(active)s active members (%(deep_share)s) have two or more "
        "two-way ties to ordinary members."
    ),
    ("altruism", ""): gettext_lazy(
        "%(helpers)s of %(active)s active members (%(help_share)s) answered someone else."
    ),
    ("altruism", "no_reply_data"): gettext_lazy(
        "The imported channels carry no replies, so help between members cannot be seen."
    ),
    ("beyond_interest", ""): gettext_lazy(
        "Positioning or mission written down: %(declared)s. Active members per 30 days over "
        "the last six periods: %(monthly_active)s (change: %(trend)s)."
    ),
    ("activity_not_health", ""): gettext_lazy(
        "%(contributions)s contributions; %(cooperation_share)s of them in conversations of "
        "three or more people; the top 10%% of members made %(concentration)s; noise "
        "%(noise_share)s."
    ),
    ("charter", ""): gettext_lazy(
        "Charter version %(version)s is written down and acknowledged by %(acknowledged)s "
        "members; %(rules_enabled)s rules are switched on; %(violations_30d)s violations in the "
        "last 30 days, %(decided_30d)s decided; %(moderation_events)s moderation actions "
        "imported for the period."
    ),
    ("charter", "not_enforced"): gettext_lazy(
        "Charter version %(version)s is written down, but no rule is switched on, no violation "
        "was decided in the last 30 days and no moderation action was imported."
    ),
    ("charter", "unwritten"): gettext_lazy(
        "Rules are enforced (%(rules_enabled)s rules switched on, %(moderation_events)s "
        "moderation actions imported) but no charter text is written down for members to read."
    ),
    ("charter", "no_charter"): gettext_lazy(
        "No charter is written down and nothing shows it enforced: no rule switched on, no "
        "moderation action imported."
    ),
    ("culture", ""): gettext_lazy(
        "Mission written down: %(mission)s; values advocated or opposed: %(values)s; rituals: "
        "%(rituals)s, attended lately by %(ritual_attendees)s active members; goals set: "
        "%(goals)s; testimonials published: %(testimonials)s."
    ),
    ("not_chat_group", ""): gettext_lazy(
        "Common goal (a mission or goals): %(common_goal)s; cooperation reached: "
        "%(cooperation)s; collective action reached: %(collective_action)s."
    ),
    ("not_fan_club", ""): gettext_lazy(
        "%(ordinary_share)s of the interaction runs between ordinary members, not through the "
        "founders, operators or the most central person."
    ),
    ("not_venue", ""): gettext_lazy(
        "%(reciprocity)s of the %(ties)s ties are answered the other way."
    ),
    ("not_crowd", ""): gettext_lazy(
        "Mission: %(mission)s; positioning: %(positioning)s; values written down: %(values)s; "
        "goals set: %(goals)s."
    ),
    ("similar_culture", ""): gettext_lazy(
        "Mission written down: %(mission)s; values: %(values)s; %(ritual_attendees)s of "
        "%(active)s active members (%(ritual_share)s) attended a ritual in the last 90 days."
    ),
    ("frequent_interaction", ""): gettext_lazy(
        "%(connected)s of %(active)s active members (%(connected_share)s) interacted with "
        "%(partners)s or more people; the median member with %(median_partners)s."
    ),
    ("shared_interest", ""): gettext_lazy(
        "%(thread_people)s of %(active)s active members (%(thread_share)s) took part in a "
        "conversation of three or more people."
    ),
}
NO_ACTIVE = gettext_lazy("Nobody was active in the period.")
NO_NETWORK = gettext_lazy("Nobody interacted with anyone else in the period.")

ACTIONS = {
    "creates_value": gettext_lazy(
        "Make help visible: invite questions, thank the people who answer, and run activities "
        "where members learn from each other."
    ),
    "runs_sustainably": gettext_lazy(
        "Spread the work: name operators besides the founder, grow more centres, and win back "
        "members who are drifting before they lapse."
    ),
    "multi_centre": gettext_lazy(
        "Grow more centres: give active members a role (host, moderator, speaker) and let them "
        "lead their own sub-groups or topics."
    ),
    "deep_links": gettext_lazy(
        "Introduce members to each other: small-group activities, pair newcomers with regulars, "
        "ask members to answer each other rather than the operators."
    ),
    "altruism": gettext_lazy(
        "Reward help given: points for answering others, a monthly thank-you to the most "
        "helpful members."
    ),
    "beyond_interest": gettext_lazy(
        "Write down what the community does for its members beyond a shared hobby, and act on "
        "falling participation now."
    ),
    "activity_not_health": gettext_lazy(
        "Turn talk into work together: threads on a shared problem, fewer broadcasts, and "
        "curb noise."
    ),
    "charter": gettext_lazy(
        "Write the charter (what is welcome, what is not, and the consequences) on the Charter "
        "page, switch on its rules (flood, spam, banned words) and decide the violations they "
        "log openly."
    ),
    "culture": gettext_lazy(
        "Write down the mission and values and hold a recurring ritual people attend."
    ),
    "not_chat_group": gettext_lazy(
        "Give the group a common goal and a first collective activity with a clear result."
    ),
    "not_fan_club": gettext_lazy(
        "Step back as the hub: ask members to answer each other and feature their work."
    ),
    "not_venue": gettext_lazy(
        "Build relationships, not traffic: make sure questions get answered and people know "
        "each other's names."
    ),
    "not_crowd": gettext_lazy("Write down the mission and positioning on the community's page."),
    "similar_culture": gettext_lazy(
        "Make the culture practised: a recurring ritual and the values stated when people join."
    ),
    "frequent_interaction": gettext_lazy(
        "Create reasons to talk: regular prompts, small groups, introductions."
    ),
    "shared_interest": gettext_lazy(
        "Gather people around shared problems: topics, challenges and threads others can join."
    ),
}
NO_DATA_ACTIONS = {
    "altruism": gettext_lazy("Import a channel with reply data (Slack, Discord, Telegram …)."),
}

# Evidence values shown as percentages.
PERCENT_KEYS = {
    "help_share",
    "net_inflow",
    "top_share",
    "split_without_top",
    "deep_share",
    "trend",
    "cooperation_share",
    "concentration",
    "noise_share",
    "ordinary_share",
    "reciprocity",
    "ritual_share",
    "connected_share",
    "thread_share",
}


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    rounded = round(100 * value, 1)
    return f"{number_format(int(rounded) if rounded == int(rounded) else rounded)}%"


def _show(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if key in PERCENT_KEYS:
        return percent(value)
    if isinstance(value, list):
        return ", ".join(_show(key, item) for item in value)
    if isinstance(value, int | float):
        return number_format(value, force_grouping=True)
    return str(value)


def title(check: dict[str, Any]) -> str:
    return str(TITLES.get(check["code"], check["code"]))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def evidence(check: dict[str, Any]) -> str:
    template = EVIDENCE.get((check["code"], check.get("reason", "")))
    if template is None:
        reason = check.get("reason", "")
        if reason == "no_active":
            return str(NO_ACTIVE)
        if reason == "no_network":
            return str(NO_NETWORK)
        return ""
    # A report kept before a sentence named a new number has no value for it: a dash.
    values = defaultdict(
        lambda: "–",
        {key: _show(key, value) for key, value in check.get("evidence", {}).items()},
    )
    return str(template) % values


def action(check: dict[str, Any]) -> str:
    if check["status"] == MET:
        return ""
    if check["status"] == NO_DATA:
        return str(NO_DATA_ACTIONS.get(check["code"], ""))
    return str(ACTIONS.get(check["code"], ""))


def describe_report(data: dict[str, Any]) -> dict[str, Any]:
    """A stored diagnosis with the words of every check, for JSON a person reads."""
    return {**data, **{group: [describe(check) for check in data[group]] for group in CHECK_GROUPS}}


def describe(check: dict[str, Any]) -> dict[str, Any]:
    """The check with its words, for templates and the JSON a person reads."""
    return {
        **check,
        "title": title(check),
        "status_label": status_label(check["status"]),
        "evidence_text": evidence(check),
        "action_text": action(check),
    }


FORCES = {
    "cohesion": gettext_lazy("Cohesion (凝聚力)"),
    "driving": gettext_lazy("Driving force (驱动力)"),
    "dissipative": gettext_lazy("Dissipative force (耗散力)"),
}
COMPONENTS = {
    "retention": gettext_lazy("retention"),
    "reciprocity": gettext_lazy("reciprocity"),
    "deep_links": gettext_lazy("deep links"),
    "repeat_attendance": gettext_lazy("repeat attendance"),
    "net_inflow": gettext_lazy("net inflow"),
    "participation_growth": gettext_lazy("participation growth"),
    "activities_turnout": gettext_lazy("activities × turnout"),
    "goal_progress": gettext_lazy("goal progress"),
    "advocates_share": gettext_lazy("advocates' share"),
    "churn": gettext_lazy("churn"),
    "charter_violations": gettext_lazy("charter violations"),
    "unanswered": gettext_lazy("unanswered"),
    "concentration": gettext_lazy("concentration"),
    "noise": gettext_lazy("noise"),
}
RUNGS = {
    "sharing": gettext_lazy("Sharing (共享)"),
    "cooperation": gettext_lazy("Cooperation (合作)"),
    "collective_action": gettext_lazy("Collective action (集体行动)"),
}
NO_STAGE = gettext_lazy("not yet on the ladder")


def component_value(code: str, value: float | None) -> str:
    """A component's raw value as people read it: a ratio for growth, a percentage else."""
    if value is None:
        return "–"
    if code == "participation_growth":
        return f"×{number_format(round(value, 2))}"
    if code == "charter_violations":
        return number_format(round(value, 1))
    return percent(value)
