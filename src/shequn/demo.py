"""The demo's real sample communities, loaded by ``shequn demo`` and by the browser test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
# The demo's real sample communities: (profile, sample folder, format, channel override,
# points preset).
DEMO_COMMUNITIES = [
    (
        {
            "slug": "history-meta",
            "name": "History Meta Stack Exchange",
            "carrier": "History Stack Exchange, the Q&A site about history",
            "positioning": (
                "Users of History Stack Exchange who discuss the site's own rules, scope and "
                "governance."
            ),
            "mission": (
                "Keep History Stack Exchange a place for good questions and well-sourced answers."
            ),
            "values_advocated": ["well-sourced answers", "clear scope", "civility"],
            "values_opposed": ["opinion-based questions", "homework dumps"],
        },
        "history-meta-se",
        "stackexchange",
        "history.meta.stackexchange.com",
        # The sample has no Votes.xml (see its SOURCE.md), so reputation cannot be replayed:
        # the default rules reward its posts, answers, comments and badges.
        "default",
    ),
    (
        {
            "slug": "houston-datavis",
            "name": "Houston Data Visualization meetup",
            "carrier": "Monthly meetups and a Slack workspace",
            "positioning": "People in Houston who make or want to learn data visualisation.",
            "mission": "Learn data visualisation together and show Houston what data can say.",
            "values_advocated": ["sharing work in progress", "helping newcomers", "open data"],
            "values_opposed": ["gatekeeping"],
            "time_zone": "America/Chicago",
        },
        "houstondatavis-slack-2016",
        "slack",
        None,
        "default",
    ),
]


def load_demo_communities(
    announce: Callable[[Any], None] | None = None,
) -> list[tuple[Any, Any]]:
    """Create the sample communities (if missing) with their points rules, and import their
    bundled data (idempotent); the import computes points and tiers.

    ``announce(community)`` is called before each import. Returns (community, summary) pairs.
    """
    from shequn.communities.models import Community
    from shequn.communities.services import do_create_community
    from shequn.interactions.services import do_import
    from shequn.rewards.services import do_apply_preset

    loaded = []
    for profile, folder, format_name, channel, preset in DEMO_COMMUNITIES:
        community = Community.objects.filter(slug=profile["slug"]).first()
        if community is None:
            community = do_create_community(**profile)
            # Rules first, so that the import awards points (and tiers follow it).
            do_apply_preset(community, preset, actor=None)
        if announce is not None:
            announce(community)
        summary = do_import(
            community, SAMPLE_DIR / folder, format_name=format_name, channel=channel
        )
        set_up_demo_culture(community)
        keep_demo_diagnoses(community)
        loaded.append((community, summary))
    return loaded


# The demo's charter: its text (written for the demo) and rules run over the real data, so the
# violation log and the rewards show what the rules find in it.
DEMO_CHARTER = """1. Be kind: criticise ideas, never people.
2. Stay on topic; say where a side discussion belongs instead of starting it here.
3. No flooding: say it in one message rather than ten.
4. Welcome newcomers and answer questions: help given is what this community is for.
Breaking these rules costs points; an operator decides every reported case, and any decision
can be appealed."""
DEMO_RULES = [
    {
        "key": "flood",
        "name": "No flooding",
        "kind": "flood",
        "params": {"messages": 5, "seconds": 60},
        "consequence": "penalty",
        "points": 5,
    },
    {
        "key": "welcome",
        "name": "Welcome a newcomer",
        "kind": "welcome",
        "params": {"days": 7},
        "consequence": "reward",
        "points": 5,
    },
    {
        "key": "fast-answer",
        "name": "Answer a question within the hour",
        "kind": "fast_answer",
        "params": {"minutes": 60},
        "consequence": "reward",
        "points": 10,
    },
]


def set_up_demo_culture(community: Any) -> None:
    """Once per demo community: the charter and its rules (checked over the whole archive), and
    a goal over the archive's last six months owned by its most active member."""
    import datetime as dt

    from django.db.models import Sum

    from shequn.charter.models import CharterRule
    from shequn.charter.services import do_check, do_publish_charter, do_save_rule
    from shequn.culture.models import Goal
    from shequn.culture.services import do_create_goal
    from shequn.interactions.selectors import latest_event_day
    from shequn.members.models import Member

    if not CharterRule.objects.filter(community=community).exists():
        do_publish_charter(community, DEMO_CHARTER, actor=None)
        for values in DEMO_RULES:
            do_save_rule(community, {**values, "enabled": True, "applies_from": None}, actor=None)
        do_check(community, full=True)
    last = latest_event_day(community)
    if last is None or Goal.objects.filter(community=community).exists():
        return
    owner = (
        Member.objects.filter(community=community, is_bot=False)
        .annotate(messages=Sum("daily_rollups__messages"))
        .filter(messages__gt=0)
        .order_by("-messages", "pk")
        .first()
    )
    if owner is None:
        return
    do_create_goal(
        community,
        {
            "title": "Fifty members who have not lapsed",
            "metric": "members",
            "params": {},
            "target": 50,
            "start_on": last - dt.timedelta(days=180),
            "deadline": last,
            "owner": owner,
        },
        actor=None,
    )


# The demo keeps this many monthly diagnoses, so the diagnosis page has periods to compare.
DEMO_DIAGNOSES = 6


def keep_demo_diagnoses(community: Any) -> None:
    """Diagnose the last ``DEMO_DIAGNOSES`` 30-day periods of the sample's data."""
    import datetime as dt

    from shequn.insights.selectors import default_end
    from shequn.insights.services import do_save_diagnosis

    end = default_end(community)
    for back in range(DEMO_DIAGNOSES - 1, -1, -1):
        do_save_diagnosis(community, end=end - dt.timedelta(days=30 * back), days=30)
