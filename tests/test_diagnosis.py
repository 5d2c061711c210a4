"""The community diagnosis end to end: made from imported events, kept per period, written as
one offline HTML file or JSON by ``shequn report``, shown on the dashboard and served by the API;
validated on Zachary's karate club and on the History Meta Stack Exchange sample."""

from __future__ import annotations

import datetime as dt
import json

import networkx as nx
import pytest
from click.testing import CliRunner
from conftest import chatlab_header
from django.utils import translation

from shequn.accounts.services import do_create_token
from shequn.audit.models import AuditEntry
from shequn.cli import cli
from shequn.communities.services import do_create_community
from shequn.insights.diagnosis import diagnose
from shequn.insights.facts import gather_facts
from shequn.insights.models import DiagnosisReport
from shequn.insights.render import render_report_html
from shequn.insights.services import DiagnosisError, do_save_diagnosis
from shequn.interactions.services import do_import

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 3, 4, tzinfo=dt.UTC)
END = dt.date(2024, 2, 1)


def karate_messages() -> list[dict]:
    """Each friendship of the club as a short exchange: one speaks, the other replies, the
    first answers back (a tie each way)."""
    club = nx.karate_club_graph()
    messages, minute = [], 0
    for n, (a, b) in enumerate(club.edges()):
        for turn, (who, parent) in enumerate(((a, None), (b, 0), (a, 1))):
            minute += 7
            message = {
                "platformMessageId": f"e{n}-{turn}",
                "sender": f"m{who}",
                "accountName": f"member {who}",
                "timestamp": int((START + dt.timedelta(minutes=minute)).timestamp()),
                "type": 0,
                "content": "…",
            }
            if parent is not None:
                message.update(type=25, replyToMessageId=f"e{n}-{parent}")
            messages.append(message)
    return messages


@pytest.fixture
def karate(write_chatlab):
    community = do_create_community(slug="karate", name="Zachary's karate club")
    do_import(community, write_chatlab(karate_messages()))
    return community


def test_the_karate_club_diagnosis_names_its_two_centres_and_their_camps(karate):
    data = diagnose(karate, END)
    centres = [centre["name"] for centre in data["network"]["centres"][:2]]
    # Member 0 is the instructor (Mr. Hi), member 33 the administrator (the Officer).
    assert set(centres) == {"member 0", "member 33"}
    facts = gather_facts(karate, END)
    names = {member: name for member, name in facts.names.items()}
    camps = facts.network.camps(2)
    known = nx.karate_club_graph()
    leader = {"member 0": "Mr. Hi", "member 33": "Officer"}
    agree = sum(
        leader[names[camps[member]]] == known.nodes[int(names[member].split()[1])]["club"]
        for member in camps
    )
    assert len(camps) == 34 and agree / 34 >= 0.9
    multi = next(check for check in data["iron_rules"] if check["code"] == "multi_centre")
    assert multi["evidence"]["hubs"] >= 2
    assert data["network"]["reciprocity"] == 1.0


def test_a_kept_diagnosis_is_replaced_for_the_same_period_and_audited(karate, make_account):
    founder = make_account("founder", karate, "founder")
    first = do_save_diagnosis(karate, end=END, actor=founder)
    again = do_save_diagnosis(karate, end=END, actor=founder)
    other = do_save_diagnosis(karate, end=END, days=7)
    assert first.pk == again.pk and other.pk != first.pk
    assert DiagnosisReport.objects.filter(community=karate).count() == 2
    assert list(
        AuditEntry.objects.filter(community=karate, action__startswith="diagnosis.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["diagnosis.create", "diagnosis.replace", "diagnosis.create"]
    assert again.data["period"] == {"start": "2024-01-02", "end": "2024-02-01", "days": 30}
    with pytest.raises(DiagnosisError, match="1 to 3660 days"):
        do_save_diagnosis(karate, end=END, days=0)
    with pytest.raises(DiagnosisError, match="outside"):
        do_save_diagnosis(karate, end=dt.date(1, 1, 1))
    assert DiagnosisReport.objects.filter(community=karate).count() == 2


def test_the_report_file_stands_alone_in_either_language(karate):
    data = diagnose(karate, END)
    english = render_report_html(data, [], language="en")
    chinese = render_report_html(data, [], language="zh-hans")
    for html in (english, chinese):
        assert "<script src=" not in html and "<link" not in html and "http://" not in html
        assert "Chart.js v4" in html  # inlined from node_modules
        assert html.count("<circle") >= 30  # the network drawn
        assert "member 0" in html and "member 33" in html
    assert "Group dynamics" in english and "The seven iron rules" in english
    assert "群体动力" in chinese and "七大社群铁规" in chinese and "未达标" in chinese
    assert '<html lang="zh-hans">' in chinese


def test_shequn_report_writes_html_and_json_and_keeps_the_period(karate, tmp_path):
    runner = CliRunner()
    target = tmp_path / "report.html"
    result = runner.invoke(cli, ["report", "karate", "-o", str(target), "--end", "2024-02-01"])
    assert result.exit_code == 0, result.output
    assert "2024-01-02 to 2024-01-31" in result.output
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    result = runner.invoke(
        cli, ["report", "karate", "--json", "--end", "2024-02-01", "--days", "7"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == {"start": "2024-01-25", "end": "2024-02-01", "days": 7}
    assert data["top_line"][0]["title"].startswith("Creates value")
    assert data["history"][-1]["end"] == "2024-02-01"
    assert DiagnosisReport.objects.filter(community=karate).count() == 2
    # The default period ends the day after the last imported event.
    result = runner.invoke(cli, ["report", "karate", "--json"])
    assert json.loads(result.output)["period"]["end"] == "2024-01-05"
    bad = runner.invoke(cli, ["report", "karate", "--days", "0", "-o", str(tmp_path / "x.html")])
    assert bad.exit_code == 2 and "1 to 3660 days" in bad.output
    assert not (tmp_path / "x.html").exists()
    missing = runner.invoke(cli, ["report", "nobody"])
    assert missing.exit_code == 4


def test_the_dashboard_shows_runs_downloads_and_deletes(karate, client_as):
    operator = client_as(karate, "operator")
    page = operator.get("/c/karate/diagnosis/")
    assert page.status_code == 200 and "No diagnosis yet." in page.content.decode()
    response = operator.post("/c/karate/diagnosis/run/", {"end": "2024-02-01", "days": "30"})
    report = DiagnosisReport.objects.get(community=karate)
    assert response.status_code == 302 and response.url.endswith(f"/diagnosis/{report.pk}/")
    html = operator.get(response.url).content.decode()
    assert 'data-check="multi_centre"' in html and "member 33" in html
    download = operator.get(f"/c/karate/diagnosis/{report.pk}/report.html?lang=zh-hans")
    assert "attachment" in download["Content-Disposition"]
    assert "七大社群铁规" in download.content.decode()
    as_json = json.loads(operator.get(f"/c/karate/diagnosis/{report.pk}/report.json").content)
    assert as_json["period"]["end"] == "2024-02-01"
    refused = operator.post("/c/karate/diagnosis/run/", {"days": "0"})
    assert refused.status_code == 302
    too_long = operator.post("/c/karate/diagnosis/run/", {"days": "400"}, follow=True)
    assert "No diagnosis made" in too_long.content.decode()
    assert DiagnosisReport.objects.filter(community=karate).count() == 1
    assert operator.post(f"/c/karate/diagnosis/{report.pk}/delete/").status_code == 302
    assert not DiagnosisReport.objects.filter(community=karate).exists()


def test_viewers_read_diagnoses_but_do_not_make_them(karate, client_as):
    report = do_save_diagnosis(karate, end=END)
    viewer = client_as(karate, "viewer")
    page = viewer.get("/c/karate/diagnosis/").content.decode()
    assert "Diagnose a period" not in page and "data-verdict" in page
    assert viewer.post("/c/karate/diagnosis/run/", {"days": "30"}).status_code == 403
    assert viewer.post(f"/c/karate/diagnosis/{report.pk}/delete/").status_code == 403


def test_the_api_makes_lists_reads_and_deletes_diagnoses(karate, client, make_account):
    user = make_account("api-operator", karate, "operator")
    _token, key = do_create_token(user, "test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    base = "/api/v1/communities/karate/diagnoses"
    made = client.post(
        base, {"end": "2024-02-01", "days": 30}, content_type="application/json", **auth
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["period_end"] == "2024-02-01" and body["days"] == 30
    assert body["changes"] == []  # nothing kept before it
    checks = {check["code"]: check for check in body["diagnosis"]["iron_rules"]}
    assert checks["multi_centre"]["title"].startswith("1.")
    # No charter written down in shequn, no rule on, no moderation imported.
    assert (checks["charter"]["status"], checks["charter"]["reason"]) == ("not_met", "no_charter")
    listed = client.get(base, **auth).json()
    assert [row["id"] for row in listed] == [body["id"]]
    chinese = client.get(f"{base}/{body['id']}", HTTP_ACCEPT_LANGUAGE="zh-hans", **auth).json()
    assert chinese["diagnosis"]["top_line"][0]["title"] == "创造价值"
    bad = client.post(base, {"days": 0}, content_type="application/json", **auth)
    assert bad.status_code == 422
    # Within a request at most a year; longer periods with ``shequn report``.
    too_long = client.post(base, {"days": 367}, content_type="application/json", **auth)
    assert too_long.status_code == 422
    assert client.delete(f"{base}/{body['id']}", **auth).status_code == 204
    assert client.get(base, **auth).json() == []


def test_a_period_without_anyone_active_has_no_data_rather_than_failing(karate):
    data = diagnose(karate, dt.date(2020, 1, 1))
    assert data["active"] == 0 and data["verdict"] == "no_data"
    assert data["drawing"] == {"nodes": [], "edges": []}
    with translation.override("en"):
        assert "Nobody was active" in render_report_html(data, [])


@pytest.mark.slow
def test_history_meta_stack_exchange_end_to_end(tmp_path):
    """The bundled History Meta sample (2011-2018) imported as the demo does, then its second
    year diagnosed by ``shequn report``: a Q&A site whose members answer each other."""
    from shequn.demo import DEMO_COMMUNITIES, SAMPLE_DIR

    profile, folder, format_name, channel, _preset = DEMO_COMMUNITIES[0]
    community = do_create_community(**profile)
    do_import(community, SAMPLE_DIR / folder, format_name=format_name, channel=channel)
    runner = CliRunner()
    args = ["report", "history-meta", "--end", "2013-01-01", "--days", "365"]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    checks = {
        check["code"]: check
        for group in ("top_line", "iron_rules", "misconceptions", "linton")
        for check in data[group]
    }
    assert data["active"] == 73
    # The two members who answered most that year carry about a quarter of the interaction
    # each; eight members are hubs, so no one person holds the site together.
    centres = [centre["name"] for centre in data["network"]["centres"][:2]]
    assert set(centres) == {"Steven Drennon", "T.E.D."}
    assert checks["multi_centre"]["status"] == "met"
    assert checks["multi_centre"]["evidence"]["hubs"] >= 3
    # Nine in ten active members answered someone else: value is created by helping.
    assert checks["altruism"]["status"] == "met"
    assert checks["altruism"]["evidence"]["help_share"] > 0.8
    assert checks["creates_value"]["status"] == "met"
    # Cohesion holds and more arrive than lapse, but nobody is recorded as an operator.
    sustained = checks["runs_sustainably"]
    assert (sustained["status"], sustained["evidence"]["operated"]) == ("at_risk", False)
    assert sustained["evidence"]["cohesion_holds"] and sustained["evidence"]["multi_centre"]
    assert data["verdict"] == "at_risk"
    # Answers and comments make threads of three people or more: cooperation is reached, but
    # a Q&A site holds no collective activities.
    assert data["ladder"]["stage"] == "cooperation"
    rungs = {rung["code"]: rung for rung in data["ladder"]["rungs"]}
    assert rungs["collective_action"]["reached"] is False
    assert checks["not_chat_group"]["status"] == "at_risk"
    # Mission, positioning and values come from the demo profile; no charter is recorded.
    assert checks["not_crowd"]["status"] == "met"
    assert checks["charter"]["status"] == "not_met"
    forces = data["dynamics"]["forces"]
    assert all(forces[code]["score"] is not None for code in forces)
    assert forces["cohesion"]["previous"] is not None  # 2011's late months are the period before
    target = tmp_path / "history-meta.html"
    result = runner.invoke(cli, [*args, "-o", str(target), "--language", "zh-hans"])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert "History Meta Stack Exchange" in html and "七大社群铁规" in html
    assert "Steven Drennon" in html
    assert DiagnosisReport.objects.filter(community=community).count() == 1


def test_a_report_names_the_checks_that_changed_since_the_last_kept_period(karate, client_as):
    quiet = do_save_diagnosis(karate, end=dt.date(2024, 1, 2))  # before anyone spoke
    busy = do_save_diagnosis(karate, end=END)
    assert quiet.data["verdict"] == "no_data" and busy.data["verdict"] != "no_data"
    html = client_as(karate, "viewer").get(f"/c/karate/diagnosis/{busy.pk}/").content.decode()
    assert "Since the kept period 2023-12-03 – 2024-01-02" in html
    assert 'data-change="multi_centre"' in html and 'data-change="charter"' not in html
    first = client_as(karate, "viewer", "v2").get(f"/c/karate/diagnosis/{quiet.pk}/")
    assert "Since the kept period" not in first.content.decode()


def whatsapp_messages(people: list[str], rounds: int) -> list[dict]:
    """A group without reply data: people take turns a minute apart, in bursts an hour
    apart."""
    messages, n = [], 0
    for burst in range(rounds):
        for turn, who in enumerate(people * 2):
            at = START + dt.timedelta(hours=burst, minutes=turn)
            messages.append(
                {
                    "platformMessageId": f"w{n}",
                    "sender": who,
                    "accountName": who.title(),
                    "timestamp": int(at.timestamp()),
                    "type": 0,
                    "content": "ok",
                }
            )
            n += 1
    return messages


def test_a_chat_without_reply_data_is_judged_on_what_it_shows(write_chatlab):
    """WeChat and WhatsApp exports carry no replies: quick turns stand in for answers (ties)
    and bursts of talk for threads (cooperation); help given cannot be seen, so it is no data
    rather than absent."""
    community = do_create_community(slug="wa", name="WhatsApp group")
    header = {**chatlab_header(platform="whatsapp", group_id="wa")}
    path = write_chatlab(whatsapp_messages(["ann", "bob", "cid", "dee"], 6), header=header)
    do_import(community, path)

    data = diagnose(community, END)

    checks = {
        check["code"]: check
        for group in ("top_line", "iron_rules", "misconceptions", "linton")
        for check in data[group]
    }
    rungs = {rung["code"]: rung for rung in data["ladder"]["rungs"]}
    assert rungs["cooperation"]["reached"] and rungs["cooperation"]["detail"]["threads"] == 6
    assert checks["shared_interest"]["status"] == "met"
    assert (checks["altruism"]["status"], checks["altruism"]["reason"]) == (
        "no_data",
        "no_reply_data",
    )
    value = checks["creates_value"]
    assert value["reason"] == "no_help_data" and value["evidence"]["help"] is None
    assert value["status"] == "at_risk"  # cooperation seen; no activities
    # Each speaker answers the one before: ann -> dee, bob -> ann, cid -> bob, dee -> cid.
    assert (data["network"]["members"], data["network"]["ties"]) == (4, 4)
    unanswered = next(
        c
        for c in data["dynamics"]["forces"]["dissipative"]["components"]
        if c["code"] == "unanswered"
    )
    assert unanswered["status"] == "no_data"


def test_meeting_at_the_same_activities_is_no_conversation(karate, make_account):
    """Co-attendance ties people for the network's centres and sub-groups, but reciprocity,
    deep links and frequent interaction count only conversation."""
    from shequn.activities.services import (
        do_check_in,
        do_create_activity,
        do_publish_activity,
        do_register,
    )
    from shequn.members.models import Member

    community = do_create_community(slug="meet", name="Meetups only")
    people = [Member.objects.create(community=community, display_name=f"p{n}") for n in range(6)]
    start = dt.datetime(2024, 1, 10, 11, tzinfo=dt.UTC)
    activity = do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Meetup",
                "mode": "offline",
                "content_type": "social",
                "place": "Hall",
                "capacity": 10,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
            },
        )
    )
    for person in people:
        registration = do_register(activity, person, override=True)
        do_check_in(activity, registration.code, at=start, recompute=False)

    data = diagnose(community, END)

    assert data["network"]["members"] == 6  # they are tied by the meetup
    assert data["network"]["reciprocity"] == 0.0  # but nobody answered anybody
    cohesion = {c["code"]: c for c in data["dynamics"]["forces"]["cohesion"]["components"]}
    assert cohesion["deep_links"]["value"] == 0.0
    linton = {check["code"]: check for check in data["linton"]}
    assert linton["frequent_interaction"]["evidence"]["connected"] == 0


def test_names_from_imported_data_are_escaped_in_the_report(write_chatlab):
    community = do_create_community(slug="xss", name="<img src=x onerror=alert(1)>")
    people = ["<script>alert(1)</script>", "bob", "cid"]
    messages = []
    for n, who in enumerate(people * 3):
        messages.append(
            {
                "platformMessageId": f"x{n}",
                "sender": f"s{n % 3}",
                "accountName": who,
                "timestamp": int((START + dt.timedelta(minutes=n)).timestamp()),
                "type": 25 if n else 0,
                "content": "hi",
                **({"replyToMessageId": f"x{n - 1}"} if n else {}),
            }
        )
    do_import(community, write_chatlab(messages))
    html = render_report_html(diagnose(community, END), [])
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.django_db(transaction=True)
def test_reading_on_two_connections_at_once_gives_the_same_diagnosis(write_chatlab):
    """Outside a transaction the heaviest reads run two at a time, each on its own
    connection; inside one (as in a web request) one after the other. Both agree."""
    from django.db import connection, transaction

    community = do_create_community(slug="karate2", name="Karate")
    do_import(community, write_chatlab(karate_messages()))
    assert not connection.in_atomic_block
    at_once = diagnose(community, END)
    with transaction.atomic():
        in_turn = diagnose(community, END)
    for data in (at_once, in_turn):
        data.pop("generated_at")
    assert at_once == in_turn
    assert at_once["ladder"]["contributions"] == 3 * 78
