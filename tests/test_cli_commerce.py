"""``shequn commerce``: offers, purchases, refunds, order files, costs and the report, with clear
errors and the documented exit codes (3 invalid data, 4 not found, 5 refused)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from shequn.cli import cli
from shequn.commerce.models import Cost, Offer, Purchase
from shequn.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def ann(community):
    return Member.objects.create(community=community, display_name="Ann", key="ann@example.com")


def run(runner, *args: str):
    return runner.invoke(cli, ["commerce", *args])


def add_course(runner) -> Offer:
    result = run(
        runner,
        "offers", "add", "club", "--kind", "course", "--name", "Python course",
        "--price", "199", "--currency", "CNY", "--code", "PY-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return Offer.objects.get(code="PY-1")


def test_offers_add_list_edit_and_deactivate(runner, community):
    offer = add_course(runner)
    assert offer.price == Decimal("199.00")
    bad = run(
        runner, "offers", "add", "club", "--kind", "course", "--name", "X",
        "--price", "12,50", "--currency", "YEN",
    )  # fmt: skip
    assert bad.exit_code == 3
    assert (
        "price:" in bad.output and "currency:" in bad.output and "Nothing was changed" in bad.output
    )
    listed = run(runner, "offers", "list", "club")
    assert "Python course" in listed.output and "199.00 CNY" in listed.output
    assert run(runner, "offers", "edit", "club", "PY-1", "--price", "149").exit_code == 0
    assert Offer.objects.get().price == Decimal("149.00")
    assert run(runner, "offers", "deactivate", "club", "python course").exit_code == 0
    assert Offer.objects.get().active is False
    assert run(runner, "offers", "edit", "club", "Yoga", "--price", "1").exit_code == 4
    assert run(runner, "offers", "list", "nowhere").exit_code == 4


def test_purchases_add_refund_and_list(runner, community, ann):
    add_course(runner)
    added = run(
        runner, "purchases", "add", "club", "--member", "ann@example.com", "--offer", "PY-1",
        "--amount", "149", "--at", "2024-03-07 19:30", "--source", "referral",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    purchase = Purchase.objects.get()
    assert purchase.amount == Decimal("149.00") and purchase.source == "referral"
    assert (
        run(runner, "purchases", "add", "club", "--member", "Zed", "--offer", "PY-1").exit_code == 4
    )
    bad = run(
        runner, "purchases", "add", "club", "--member", "Ann", "--offer", "PY-1", "--amount", "x"
    )
    assert bad.exit_code == 3 and "amount" in bad.output
    too_much = run(runner, "purchases", "refund", "club", str(purchase.pk), "--amount", "150")
    assert too_much.exit_code == 5 and "149.00" in too_much.output
    refunded = run(runner, "purchases", "refund", "club", str(purchase.pk), "--amount", "49")
    assert refunded.exit_code == 0 and "49.00" in refunded.output
    assert run(runner, "purchases", "refund", "club", "999999").exit_code == 4
    listed = run(runner, "purchases", "list", "club", "--refunded", "yes")
    assert "Ann" in listed.output and "referral" in listed.output


def test_import_dry_run_error_exit_code_and_reimport(runner, community, ann, tmp_path):
    add_course(runner)
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,time,member_key,offer,amount,currency,source\n"
        "1001,2024-03-07 19:05,ann@example.com,PY-1,99,CNY,ad\n"
        "1002,2024-03-08 09:00,eve@example.com,PY-1,199,CNY,\n",
        encoding="utf-8",
    )
    refused = run(runner, "purchases", "import", "club", str(path))
    assert refused.exit_code == 3
    assert "orders.csv: line 3" in refused.output and "--create-members" in refused.output
    assert "Nothing was imported" in refused.output
    checked = run(runner, "purchases", "import", "club", str(path), "--dry-run", "--create-members")
    assert checked.exit_code == 0 and "nothing imported" in checked.output
    assert Purchase.objects.count() == 0
    done = run(
        runner, "purchases", "import", "club", str(path), "--create-members",
        "--time-zone", "Asia/Shanghai",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "2 purchases added" in done.output and "1 new members" in done.output
    again = run(runner, "purchases", "import", "club", str(path), "--time-zone", "Asia/Shanghai")
    assert "0 purchases added, 2 imported before" in again.output
    wrong_zone = run(runner, "purchases", "import", "club", str(path), "--time-zone", "Mars")
    assert wrong_zone.exit_code == 3 and "time_zone" in wrong_zone.output


def test_costs_and_the_report(runner, community, ann):
    add_course(runner)
    run(runner, "purchases", "add", "club", "--member", "Ann", "--offer", "PY-1")
    from django.utils import timezone

    month = timezone.now().strftime("%Y-%m")
    added = run(
        runner, "costs", "add", "club", "--month", month, "--category", "venue",
        "--amount", "300", "--currency", "CNY",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    bad = run(
        runner, "costs", "add", "club", "--month", "someday", "--category", "venue",
        "--amount", "300", "--currency", "CNY",
    )  # fmt: skip
    assert bad.exit_code == 3 and "month" in bad.output
    assert "300.00 CNY" in run(runner, "costs", "list", "club").output
    text = run(runner, "report", "club", "--months", "1")
    assert text.exit_code == 0, text.output
    assert "Does not pay for itself" in text.output and "Python course" in text.output
    data = json.loads(run(runner, "report", "club", "--json").output)
    assert data["totals"]["CNY"]["revenue"] == "199.00"
    assert data["totals"]["CNY"]["balance"] == "-101.00"
    cost = Cost.objects.get()
    assert run(runner, "costs", "delete", "club", str(cost.pk)).exit_code == 0
    assert run(runner, "costs", "delete", "club", str(cost.pk)).exit_code == 4


def test_from_activities_with_nothing_paid(runner, community):
    result = run(runner, "purchases", "from-activities", "club")
    assert result.exit_code == 0 and "0 purchases added" in result.output
