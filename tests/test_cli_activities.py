"""``shequn activities`` and ``shequn rituals``: thin commands with tables, clear errors and
the documented exit codes (3 invalid data, 4 not found, 5 refused)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest
from click.testing import CliRunner
from django.utils import timezone

from shequn.activities.models import Activity, Registration, Ritual
from shequn.cli import cli
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def runner():
    return CliRunner()


def local(days: int, hour: int = 19) -> str:
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:30"


def create(runner, *extra: str, days: int = 7):
    return runner.invoke(
        cli,
        [
            "activities",
            "create",
            "club",
            "--title",
            "Tea and code",
            "--mode",
            "offline",
            "--type",
            "social",
            "--starts",
            local(days),
            "--ends",
            local(days, 21),
            "--time-zone",
            "Asia/Shanghai",
            "--place",
            "Cafe Lu",
            *extra,
        ],
    )


def test_create_publish_register_check_in_and_report(runner, community):
    missing = create(runner)
    assert missing.exit_code == 3, missing.output
    assert "capacity: is required for an offline activity" in missing.output
    assert "Nothing was changed." in missing.output
    assert not Activity.objects.exists()

    created = create(runner, "--capacity", "1")
    assert created.exit_code == 0, created.output
    activity = Activity.objects.get()
    assert f"Activity #{activity.pk} created (draft)" in created.output
    assert activity.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M") == local(7)
    ident = str(activity.pk)

    refused = runner.invoke(cli, ["activities", "register", "club", ident, "--name", "A"])
    assert refused.exit_code == 5 and "email: is not a valid e-mail address" in refused.output
    published = runner.invoke(cli, ["activities", "publish", "club", ident])
    assert published.exit_code == 0 and "is now published" in published.output
    twice = runner.invoke(cli, ["activities", "publish", "club", ident])
    assert twice.exit_code == 5

    ann = runner.invoke(
        cli,
        ["activities", "register", "club", ident, "--name", "Ann", "--email", "ann@example.org"],
    )
    assert ann.exit_code == 0 and "Ann has a confirmed place" in ann.output
    Member.objects.create(community=community, display_name="Bob")
    bob = runner.invoke(cli, ["activities", "register", "club", ident, "Bob"])
    assert bob.exit_code == 0 and "Bob is number 1 on the waitlist" in bob.output
    nobody = runner.invoke(cli, ["activities", "register", "club", ident, "Nobody"])
    assert nobody.exit_code == 4

    listed = runner.invoke(cli, ["activities", "list", "club"])
    assert listed.exit_code == 0 and "Tea and code" in listed.output and "1/1" in listed.output
    code = Registration.objects.get(member__key="ann@example.org").code
    shown = runner.invoke(cli, ["activities", "show", "club", ident])
    assert shown.exit_code == 0 and code in shown.output and "waitlisted #1" in shown.output

    wrong = runner.invoke(cli, ["activities", "check-in", "club", ident, "NOPE"])
    assert wrong.exit_code == 5 and "No registration has this check-in code." in wrong.output
    ok = runner.invoke(cli, ["activities", "check-in", "club", ident, code.lower()])
    assert ok.exit_code == 0 and "Ann is checked in." in ok.output
    again = runner.invoke(cli, ["activities", "check-in", "club", ident, code])
    assert "already checked in" in again.output

    report = runner.invoke(cli, ["activities", "report", "club", ident])
    assert report.exit_code == 0, report.output
    assert "Registrations" in report.output and "Attended" in report.output

    cancelled = runner.invoke(cli, ["activities", "cancel", "club", ident, "--reason", "Rain"])
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.output
    assert runner.invoke(cli, ["activities", "show", "club", "999"]).exit_code == 4
    assert runner.invoke(cli, ["activities", "list", "nowhere"]).exit_code == 4


def test_a_failing_attendance_import_names_the_line_and_changes_nothing(
    runner, community, tmp_path
):
    create(runner, "--capacity", "5", "--publish", days=-1)
    activity = Activity.objects.get()
    Member.objects.create(community=community, display_name="Ann", key="ann@example.org")
    bad = tmp_path / "door.csv"
    bad.write_text("email,attended\nann@example.org,yes\nbob@example.org,yes\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["activities", "import-attendance", "club", str(activity.pk), str(bad)]
    )
    assert result.exit_code == 3, result.output
    assert "door.csv: line 3" in result.output and "bob@example.org" in result.output
    assert "the database is unchanged" in result.output
    assert not Registration.objects.exists()

    result = runner.invoke(
        cli,
        [
            "activities",
            "import-attendance",
            "club",
            str(activity.pk),
            str(bad),
            "--create-missing",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 checked in now" in result.output and "1 new members" in result.output
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 2

    past = runner.invoke(cli, ["activities", "list", "club", "--past"])
    assert "Tea and code" in past.output


def test_exports_and_calendars(runner, community, tmp_path):
    create(runner, "--capacity", "5", "--publish")
    activity = Activity.objects.get()
    runner.invoke(
        cli,
        [
            "activities",
            "register",
            "club",
            str(activity.pk),
            "--name",
            "Ann",
            "--email",
            "ann@example.org",
        ],
    )
    csv_out = runner.invoke(cli, ["activities", "export-registrations", "club", str(activity.pk)])
    assert csv_out.exit_code == 0 and "ann@example.org" in csv_out.output
    assert csv_out.output.startswith("member_id,member_key")
    target = tmp_path / "club.ics"
    written = runner.invoke(cli, ["activities", "ics", "club", "-o", str(target)])
    assert written.exit_code == 0, written.output
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert [str(event["summary"]) for event in events] == ["Tea and code"]
    one = runner.invoke(cli, ["activities", "ics", "club", str(activity.pk)])
    assert "BEGIN:VCALENDAR" in one.output


def test_rituals_create_generate_and_list(runner, community):
    bad = runner.invoke(
        cli,
        [
            "rituals",
            "create",
            "club",
            "--name",
            "Sharing night",
            "--frequency",
            "custom",
            "--rule",
            "FREQ=SECONDLY",
            "--first",
            local(1),
            "--mode",
            "online",
            "--type",
            "learning",
        ],
    )
    assert bad.exit_code == 3 and "rule:" in bad.output
    created = runner.invoke(
        cli,
        [
            "rituals",
            "create",
            "club",
            "--name",
            "Sharing night",
            "--first",
            local(1),
            "--time-zone",
            "Asia/Shanghai",
            "--mode",
            "online",
            "--type",
            "learning",
        ],
    )
    assert created.exit_code == 0, created.output
    ritual = Ritual.objects.get()
    until = (timezone.now() + dt.timedelta(days=22)).date().isoformat()
    command = ["rituals", "generate", "club", str(ritual.pk), "--until", until]
    generated = runner.invoke(cli, command)
    assert generated.exit_code == 0, generated.output
    assert "occurrences created" in generated.output
    count = ritual.occurrences.count()
    assert count >= 3
    again = runner.invoke(cli, command)
    assert "No new occurrences" in again.output and ritual.occurrences.count() == count
    listed = runner.invoke(cli, ["rituals", "list", "club"])
    assert "Sharing night" in listed.output and "FREQ=WEEKLY" in listed.output
    command[3] = "999"
    assert runner.invoke(cli, command).exit_code == 4
