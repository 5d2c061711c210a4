"""``shequn tiers``: recompute, show, member and policy, with their exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import table_counts
from test_tiers import Chat, week

from shequn.cli import cli
from shequn.tiers.models import MemberTier, TierPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def club(community, write_chatlab):
    chat = Chat()
    for name in ("ann", "bob", "cid", "dee", "eve"):
        chat.say(name, week(1))
    chat.active_weeks("ann", range(1, 10))
    questions = [chat.say(name, week(2)) for name in ("bob", "cid", "dee", "eve", "fay")]
    for question in questions:
        chat.say("ann", week(2), reply_to=question)
    chat.active_weeks("bob", range(1, 9), per_week=5)
    chat.active_weeks("bob", [11])
    chat.say("cid", week(12))
    chat.import_into(community, write_chatlab)
    return community


def test_recompute_prints_a_summary_and_the_funnel(runner, club):
    result = runner.invoke(cli, ["tiers", "recompute", "club"])
    assert result.exit_code == 0, result.output
    assert "full run): 6 members evaluated, 6 changed tier" in result.output
    assert "advocate" in result.output and "participant" in result.output

    again = runner.invoke(cli, ["tiers", "recompute", "club", "--as-of", "2024-03-30"])
    assert again.exit_code == 0, again.output
    assert "Tiers as of 2024-03-30 (incremental run)" in again.output
    rebuilt = runner.invoke(cli, ["tiers", "recompute", "club", "--rebuild"])
    assert "(full run): 6 members evaluated" in rebuilt.output


def test_show_lists_funnel_flows_and_members_at_risk(runner, club):
    assert "No tiers yet" in runner.invoke(cli, ["tiers", "show", "club"]).output
    runner.invoke(cli, ["tiers", "recompute", "club"])

    result = runner.invoke(cli, ["tiers", "show", "club", "--months", "3"])

    assert result.exit_code == 0, result.output
    assert "Moves between tiers per month" in result.output
    assert "2024-01" in result.output
    assert "Members at risk" in result.output and "Bob" in result.output
    assert "Check in personally" in result.output


def test_member_shows_reasons_path_and_progress(runner, club):
    runner.invoke(cli, ["tiers", "recompute", "club"])

    result = runner.invoke(cli, ["tiers", "member", "club", "Ann"])

    assert result.exit_code == 0, result.output
    assert "Tier: advocate" in result.output
    assert "replied to 5 messages from 5 different members" in result.output
    assert "To stay an advocate" in result.output
    assert "2024-01-07" in result.output  # the first step of her path
    assert runner.invoke(cli, ["tiers", "member", "club", "Nobody"]).exit_code == 4


def test_policy_shows_and_changes_thresholds(runner, club):
    shown = runner.invoke(cli, ["tiers", "policy", "club"])
    assert shown.exit_code == 0, shown.output
    assert "lapse_days" in shown.output and "60" in shown.output

    changed = runner.invoke(
        cli,
        ["tiers", "policy", "club", "--set", "participant_min_weeks=1", "--set", "lapse_days=45"],
    )
    assert changed.exit_code == 0, changed.output
    assert "every member was recomputed" in changed.output
    assert TierPolicy.objects.get().lapse_days == 45
    assert not MemberTier.objects.filter(tier="follower").exists()


def test_bad_policy_values_exit_2_and_change_nothing(runner, club):
    runner.invoke(cli, ["tiers", "recompute", "club"])
    before = table_counts()

    bad = runner.invoke(cli, ["tiers", "policy", "club", "--set", "lapse_days=soon"])
    assert bad.exit_code == 2
    assert "lapse_days: must be a whole number" in bad.output
    assert "nothing was changed" in bad.output
    malformed = runner.invoke(cli, ["tiers", "policy", "club", "--set", "lapse_days"])
    assert malformed.exit_code == 2
    assert table_counts() == before
    assert TierPolicy.objects.get().lapse_days == 60


def test_unknown_community_and_bad_date_have_their_exit_codes(runner, club):
    assert runner.invoke(cli, ["tiers", "recompute", "nope"]).exit_code == 4
    assert runner.invoke(cli, ["tiers", "recompute", "club", "--as-of", "soon"]).exit_code == 2
