"""``shequn charter``: publishing and acknowledging, rules with a dry run, checks, the log,
decisions and reports — thin commands with the documented exit codes (3 invalid values,
4 not found, 5 refused)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from shequn.charter.models import Acknowledgement, CharterRule, CharterVersion, Violation
from shequn.cli import cli
from shequn.rewards.selectors import member_balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def chat(community, tmp_path):
    from test_charter import import_rows, say

    rows = [say(f"a{n}", "ann", n, "买发票找我") for n in range(7)]
    rows += [say("b1", "bob", 60, "早上好")]
    import_rows(community, tmp_path, rows)
    return community


def run(runner, *args: str, code: int = 0):
    result = runner.invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_publish_show_and_acknowledge(runner, chat, tmp_path):
    text = tmp_path / "charter.txt"
    text.write_text("一、友善交流。\n二、不发广告。\n", encoding="utf-8")
    assert "Version 1 published" in run(runner, "charter", "publish", "club", str(text))
    assert "nothing to publish" in run(runner, "charter", "publish", "club", str(text), code=3)
    assert "不发广告" in run(runner, "charter", "show", "club")
    run(runner, "charter", "acknowledge", "club", "Ann", "--via", "chat")
    assert "already acknowledged" in run(runner, "charter", "acknowledge", "club", "Ann", code=5)
    assert "no member" in run(runner, "charter", "acknowledge", "club", "Zed", code=4)
    acks = tmp_path / "acks.csv"
    acks.write_text("member,via\nBob,form\n", encoding="utf-8")
    assert "1 acknowledgements of version 1 recorded" in run(
        runner, "charter", "import-acknowledgements", "club", str(acks)
    )
    assert Acknowledgement.objects.count() == 2
    assert CharterVersion.objects.count() == 1


def test_rules_dry_run_check_and_decide(runner, chat, tmp_path):
    words = tmp_path / "banned.txt"
    words.write_text("发票\n广告\n", encoding="utf-8")
    dry = run(
        runner, "charter", "dry-run", "club", "--kind", "banned_words",
        "--param-file", f"words={words}", "--consequence", "penalty", "--points", "2",
    )  # fmt: skip
    assert "7 violations by 1 members" in dry and "Points: -14" in dry
    assert not CharterRule.objects.exists()

    run(
        runner, "charter", "rules", "add", "club", "no-ads", "--kind", "banned_words",
        "--param-file", f"words={words}", "--consequence", "penalty", "--points", "2",
        "--applies-from", "all",
    )  # fmt: skip
    assert "no-ads" in run(runner, "charter", "rules", "list", "club")
    run(runner, "charter", "rules", "enable", "club", "no-ads")
    assert "7 new violations" in run(runner, "charter", "check", "club")
    assert "0 new violations" in run(runner, "charter", "check", "club", "--full")
    log = run(runner, "charter", "violations", "club", "--status", "open")
    assert "7 violations" in log and "发票" in log

    violation = Violation.objects.order_by("pk").first()
    assert "must not be empty" in run(
        runner, "charter", "decide", str(violation.pk), "overturned", code=5
    )
    out = run(runner, "charter", "decide", str(violation.pk), "overturned", "--note", "a quote")
    assert "2 points given back" in out
    assert member_balance(violation.member) == -12
    assert "no violation #999999" in run(runner, "charter", "decide", "999999", "upheld", code=4)


def test_bad_parameters_exit_3_and_change_nothing(runner, chat):
    out = run(
        runner, "charter", "rules", "add", "club", "flood", "--kind", "flood",
        "-p", "messages=0", code=3,
    )  # fmt: skip
    assert "params.messages" in out and "Nothing was changed" in out
    assert not CharterRule.objects.exists()
    assert "not a name=value" in run(
        runner, "charter", "dry-run", "club", "--kind", "flood", "-p", "messages", code=2
    )
    assert "no rule 'nope'" in run(runner, "charter", "rules", "enable", "club", "nope", code=4)


def test_report_and_mute_recommendations(runner, chat):
    run(
        runner, "charter", "rules", "add", "club", "rude", "--kind", "reported",
        "--consequence", "mute", "--enable",
    )  # fmt: skip
    out = run(runner, "charter", "report", "club", "rude", "Bob", "--event", "b1", "--note", "rude")
    assert "recorded" in out
    assert "Bob" in run(runner, "charter", "mutes", "club")
    assert "1 mute recommendations closed" in run(
        runner, "charter", "mute-handled", "club", "Bob", "muted"
    )
    assert "someone else" in run(
        runner, "charter", "report", "club", "rude", "Ann", "--event", "b1", "--note", "x", code=5
    )


def test_kinds_lists_every_kind_with_its_parameters(runner, db):
    out = run(runner, "charter", "kinds")
    for kind in (
        "flood",
        "spam",
        "banned_words",
        "off_hours",
        "reported",
        "welcome",
        "fast_answer",
    ):
        assert kind in out
    assert "-p messages=" in out
