"""``shequn exchange``: post, list, suggest (with evidence), connect (once), outcome, report,
settings and the public form, with the documented exit codes (3 invalid values, 4 not found,
5 refused)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from shequn.cli import cli
from shequn.exchange.models import Connection, Post
from shequn.members.models import Member
from shequn.rewards.models import PointEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args: str):
    return runner.invoke(cli, ["exchange", *args])


@pytest.fixture
def people(community):
    return (
        Member.objects.create(community=community, display_name="Lin"),
        Member.objects.create(community=community, display_name="Wang"),
    )


def test_post_suggest_connect_outcome_report(runner, community, people):
    _lin, wang = people
    missing = run(runner, "post", "club", "--member", "Lin", "--title", "x")
    assert missing.exit_code == 2 and "--need or --offer" in missing.output
    nobody = run(runner, "post", "club", "--need", "--member", "Nobody", "--title", "x")
    assert nobody.exit_code == 4
    invalid = run(runner, "post", "club", "--need", "--member", "Lin", "--title", " ")
    assert invalid.exit_code == 3 and "title" in invalid.output
    need = run(
        runner,
        "post",
        "club",
        "--need",
        "--member",
        "Lin",
        "--title",
        "找人做微信小程序",
        "--description",
        "活动报名，需要前端开发",
        "--tags",
        "小程序,前端",
    )
    assert need.exit_code == 0, need.output
    offer = run(
        runner,
        "post",
        "club",
        "--offer",
        "--member",
        str(wang.pk),
        "--title",
        "小程序前端开发",
        "--tags",
        "小程序",
    )
    assert offer.exit_code == 0, offer.output
    need_post, offer_post = Post.objects.get(kind="need"), Post.objects.get(kind="offer")
    listed = run(runner, "list", "club", "--kind", "need")
    assert "找人做微信小程序" in listed.output and "小程序前端开发" not in listed.output
    suggested = run(runner, "suggest", "club", "--need", str(need_post.pk))
    assert suggested.exit_code == 0, suggested.output
    assert "小程序前端开发" in suggested.output and "shared tags: 小程序" in suggested.output
    connected = run(runner, "connect", str(need_post.pk), str(offer_post.pk))
    assert connected.exit_code == 0, connected.output
    assert "Connection #" in connected.output
    again = run(runner, "connect", str(need_post.pk), str(offer_post.pk))
    assert again.exit_code == 5 and "already connected" in again.output
    assert Connection.objects.count() == 1 and PointEntry.objects.count() == 1
    wrong_way = run(runner, "connect", str(offer_post.pk), str(need_post.pk))
    assert wrong_way.exit_code == 4
    connection = Connection.objects.get()
    bad = run(runner, "outcome", str(connection.pk), "deal", "--value", "300")
    assert bad.exit_code == 3 and "currency" in bad.output
    good = run(runner, "outcome", str(connection.pk), "deal", "--value", "300", "--currency", "CNY")
    assert good.exit_code == 0 and "300.00 CNY" in good.output
    assert run(runner, "outcome", "999", "helped").exit_code == 4
    report = run(runner, "report", "club", "--months", "2")
    assert report.exit_code == 0 and "CNY" in report.output and "300.00" in report.output
    shown = run(runner, "connections", "club")
    assert "Lin" in shown.output and "Wang" in shown.output and "300.00" in shown.output


def test_curate_approve_reject_settings_and_public_form(runner, community, people):
    off = run(runner, "public-form", "club")
    assert "off" in off.output
    on = run(runner, "public-form", "club", "--on")
    assert on.exit_code == 0 and "/needs-offers/" in on.output
    from shequn.exchange.services import do_submit_public_post

    waiting = do_submit_public_post(
        community, {"kind": "need", "title": "Logo"}, name="Zhao", contact="zhao@example.com"
    )
    spam = do_submit_public_post(community, {"kind": "need", "title": "$$$"}, name="S", contact="s")
    both = run(runner, "approve", str(waiting.pk), "--member", "Lin", "--new-member")
    assert both.exit_code == 2
    approved = run(runner, "approve", str(waiting.pk), "--new-member")
    assert approved.exit_code == 0, approved.output
    waiting.refresh_from_db()
    assert waiting.status == "open" and waiting.member.key == "zhao@example.com"
    assert run(runner, "reject", str(spam.pk), "--reason", "spam").exit_code == 0
    assert run(runner, "reject", str(spam.pk)).exit_code == 5  # not waiting any more
    assert run(runner, "close", str(waiting.pk), "--reason", "found someone").exit_code == 0
    assert run(runner, "reopen", str(waiting.pk)).exit_code == 0
    edited = run(runner, "edit", str(waiting.pk), "--tags", "design, logo")
    assert edited.exit_code == 0
    waiting.refresh_from_db()
    assert waiting.tag_names == ["design", "logo"]
    shown = run(runner, "show", str(waiting.pk))
    assert "design, logo" in shown.output and "zhao@example.com" in shown.output
    settings = run(runner, "settings", "club", "--points-offer", "15", "--min-score", "0.2")
    assert settings.exit_code == 0 and "15 for the member with the offer" in settings.output
    assert run(runner, "settings", "club", "--min-score", "7").exit_code == 3
    assert run(runner, "public-form", "club", "--off").output.strip().endswith("off.")
    assert run(runner, "list", "nowhere").exit_code == 4
