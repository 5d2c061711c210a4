from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from conftest import table_counts

from shequn.cli import cli
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

T0 = 1703001600
MESSAGES = [
    {
        "platformMessageId": "m1",
        "sender": "u1",
        "accountName": "Alice",
        "timestamp": T0,
        "type": 0,
        "content": "hello",
    },
    {
        "platformMessageId": "m2",
        "sender": "u2",
        "accountName": "Bob",
        "timestamp": T0 + 5,
        "type": 25,
        "content": "hi Alice",
        "replyToMessageId": "m1",
    },
]


@pytest.fixture
def runner():
    return CliRunner()


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _walk(command, (*prefix, name))


@pytest.mark.parametrize("path", list(_walk(cli)), ids=lambda p: " ".join(p))
def test_every_command_has_help(runner, path):
    if path == ("manage",):
        pytest.skip("manage passes --help on to Django")
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.django_db
def test_import_prints_a_reconciled_summary_and_is_idempotent(runner, tmp_path, write_chatlab):
    path = write_chatlab(MESSAGES, jsonl=True)
    first = runner.invoke(cli, ["import", str(path), "--community", "club", "--create"])
    assert first.exit_code == 0, first.output
    assert "Created community 'club'" in first.output
    assert "Events added" in first.output
    assert InteractionEvent.objects.count() == 2

    second = runner.invoke(cli, ["import", "chatlab", str(path), "-c", "club", "--json"])
    assert second.exit_code == 0, second.output
    summary = json.loads(second.output)
    assert summary["events_added"] == 0
    assert summary["duplicates_skipped"] == 2
    assert summary["channels"]["g1"]["events_read"] == 2


@pytest.mark.django_db
def test_malformed_input_exits_3_names_the_record_and_changes_nothing(runner, community, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"_type":"header","chatlab":{"version":"0.0.2","exportedAt":1},'
        '"meta":{"name":"g","platform":"qq","type":"group"}}\n'
        '{"_type":"message","sender":"u1","accountName":"A","timestamp":"noon","type":0,"content":"x"}\n',
        encoding="utf-8",
    )
    before = table_counts()
    result = runner.invoke(cli, ["import", str(path), "-c", "club"])
    assert result.exit_code == 3
    assert "bad.jsonl: line 2: field 'timestamp'" in result.output
    assert "database is unchanged" in result.output
    assert table_counts() == before


@pytest.mark.django_db
def test_missing_community_file_and_format_have_their_exit_codes(
    runner, community, tmp_path, write_chatlab
):
    path = write_chatlab(MESSAGES)
    assert runner.invoke(cli, ["import", str(path), "-c", "nope"]).exit_code == 4
    assert (
        runner.invoke(cli, ["import", str(tmp_path / "missing.json"), "-c", "club"]).exit_code == 4
    )
    assert runner.invoke(cli, ["import", "telex", str(path), "-c", "club"]).exit_code == 2
    unknown = tmp_path / "notes.txt"
    unknown.write_text("just some text\n")
    result = runner.invoke(cli, ["import", str(unknown), "-c", "club"])
    assert result.exit_code == 3
    assert "cannot tell the format" in result.output


@pytest.mark.django_db
def test_communities_create_list_and_refuse_duplicates(runner):
    created = runner.invoke(
        cli,
        [
            "communities",
            "create",
            "makers",
            "--name",
            "Makers",
            "--mission",
            "Build things together",
            "--advocates",
            "sharing",
        ],
    )
    assert created.exit_code == 0, created.output
    assert runner.invoke(cli, ["communities", "create", "makers"]).exit_code == 5
    assert runner.invoke(cli, ["communities", "create", "Bad Slug"]).exit_code == 5
    assert (
        runner.invoke(cli, ["communities", "create", "tz", "--time-zone", "Mars/Base"]).exit_code
        == 2
    )
    listed = runner.invoke(cli, ["communities"])
    assert "makers" in listed.output and "Makers" in listed.output


@pytest.mark.django_db
def test_members_list_show_and_merge(runner, community, write_chatlab):
    runner.invoke(cli, ["import", str(write_chatlab(MESSAGES)), "-c", "club"])
    listed = runner.invoke(cli, ["members", "list", "-c", "club", "--sort", "messages"])
    assert listed.exit_code == 0, listed.output
    assert "Alice" in listed.output and "Bob" in listed.output

    shown = runner.invoke(cli, ["members", "show", "-c", "club", "Bob"])
    assert shown.exit_code == 0, shown.output
    assert "u2" in shown.output and "replies given" in shown.output

    assert runner.invoke(cli, ["members", "show", "-c", "club", "Nobody"]).exit_code == 4

    alice, bob = Member.objects.get(display_name="Alice"), Member.objects.get(display_name="Bob")
    refused = runner.invoke(
        cli, ["members", "merge", "-c", "club", str(bob.pk), str(alice.pk)], input="n\n"
    )
    assert refused.exit_code == 1  # aborted at the confirmation
    assert Member.objects.count() == 2
    merged = runner.invoke(
        cli, ["members", "merge", "-c", "club", str(bob.pk), str(alice.pk), "--yes"]
    )
    assert merged.exit_code == 0, merged.output
    assert list(Member.objects.values_list("display_name", flat=True)) == ["Alice"]


def test_cli_speaks_chinese_when_the_locale_asks(monkeypatch):
    import importlib

    import shequn.cli.i18n as i18n

    monkeypatch.setenv("SHEQUN_LANGUAGE", "zh_CN.UTF-8")
    try:
        importlib.reload(i18n)
        assert i18n.cli_language() == "zh-hans"
        assert i18n._("Events added") == "新增事件"
    finally:
        monkeypatch.delenv("SHEQUN_LANGUAGE")
        importlib.reload(i18n)


@pytest.mark.django_db
def test_init_creates_the_first_operator_once(runner, monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.delenv("SHEQUN_ADMIN_PASSWORD", raising=False)
    first = runner.invoke(cli, ["init", "--username", "founder"])
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output
    generated = first.output.split("Generated password: ")[1].split()[0]
    user = get_user_model().objects.get(username="founder")
    assert user.is_superuser and user.check_password(generated)

    again = runner.invoke(cli, ["init", "--username", "second", "--password", "x8#Kq!pLm2"])
    assert again.exit_code == 0
    assert "already exists" in again.output
    assert not get_user_model().objects.filter(username="second").exists()


@pytest.mark.django_db
def test_init_rejects_a_weak_password(runner):
    result = runner.invoke(cli, ["init", "--password", "123"])
    assert result.exit_code == 2
    assert "too short" in result.output


@pytest.mark.django_db
def test_format_options_reach_the_importer_and_others_are_refused(runner, community, tmp_path):
    chat = tmp_path / "WhatsApp Chat with Club.txt"
    chat.write_text("31/12/2023, 23:30 - Ann: happy new year\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["import", "whatsapp", str(chat), "-c", "club", "--time-zone", "Asia/Shanghai"]
    )
    assert result.exit_code == 0, result.output
    event = InteractionEvent.objects.get()
    assert event.occurred_at.isoformat() == "2023-12-31T15:30:00+00:00"
    assert str(event.day) == "2023-12-31"

    refused = runner.invoke(
        cli, ["import", "chatlab", str(chat), "-c", "club", "--time-zone", "Asia/Shanghai"]
    )
    assert refused.exit_code == 2
    assert "does not take --time-zone" in refused.output
