"""End to end: ``shequn demo`` on the bundled sample, then ``shequn serve`` answering a browser."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["SHEQUN_DATA_DIR"] = str(data_dir)
    env["SHEQUN_LANGUAGE"] = "en"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "shequn", "demo", "--no-serve", "--data-dir", str(data_dir)],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    password = re.search(r"log in as 'demo' with password '([^']+)'", result.stdout)
    assert password, result.stdout
    assert "CC BY-SA 3.0" in result.stdout and "MIT" in result.stdout
    return data_dir, password.group(1)


def _counts(data_dir: Path, slug: str) -> tuple[dict[str, int], int]:
    community = "(SELECT id FROM communities_community WHERE slug = ?)"
    with sqlite3.connect(data_dir / "shequn.sqlite3") as db:
        kinds = dict(
            db.execute(
                "SELECT kind, COUNT(*) FROM interactions_interactionevent "
                f"WHERE community_id = {community} GROUP BY kind",
                [slug],
            ).fetchall()
        )
        members = db.execute(
            f"SELECT COUNT(*) FROM members_member WHERE community_id = {community}", [slug]
        ).fetchone()[0]
    return kinds, members


def test_demo_imports_the_slack_meetup_community(demo_dir):
    kinds, members = _counts(demo_dir[0], "houston-datavis")
    # SOURCE.md: 1,382 message records from 71 users (docs/formats/slack.md has the split).
    assert members == 71
    assert (kinds["join"], kinds["leave"]) == (320, 3)
    records = ("message", "reply", "system", "join", "leave")
    assert sum(kinds[kind] for kind in records) == 1382


def test_demo_imports_the_whole_bundled_sample(demo_dir):
    kinds, members = _counts(demo_dir[0], "history-meta")
    # SOURCE.md: 1,657 posts, 3,454 comments, 4,931 badges, 2,295 users.
    assert kinds["badge"] == 4931
    assert kinds["join"] == 2295
    assert kinds["message"] + kinds["reply"] == 1657 + 3454
    assert members >= 2295


def test_demo_runs_its_charter_over_the_real_data_and_sets_a_goal(demo_dir):
    with sqlite3.connect(demo_dir[0] / "shequn.sqlite3") as db:
        rewards = dict(
            db.execute(
                "SELECT r.key, COUNT(*) FROM charter_reward AS w"
                " JOIN charter_charterrule AS r ON r.id = w.rule_id"
                " JOIN communities_community AS c ON c.id = r.community_id"
                " WHERE c.slug = 'history-meta' GROUP BY r.key"
            ).fetchall()
        )
        goals = db.execute("SELECT COUNT(*) FROM culture_goal").fetchone()[0]
        versions = db.execute("SELECT COUNT(*) FROM charter_charterversion").fetchone()[0]
    # Answers within the hour and welcomes of newcomers are found in the Stack Exchange data.
    assert rewards["fast-answer"] > 0 and rewards["welcome"] > 0
    assert (goals, versions) == (2, 2)


def test_serve_answers_with_the_web_app_its_static_files_and_the_demo_login(demo_dir):
    data_dir, password = demo_dir
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "shequn", "serve", "--port", str(port), "--workers", "1"],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        for _ in range(100):
            try:
                login_page = opener.open(f"{base}/account/login/", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        stylesheet = re.search(r'href="(/static/web/shequn[^"]*\.css)"', login_page).group(1)
        assert opener.open(base + stylesheet, timeout=5).status == 200

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "demo", "password": password, "next": "/"}
        ).encode()
        request = urllib.request.Request(
            f"{base}/account/login/", data=form, headers={"Referer": f"{base}/account/login/"}
        )
        home = opener.open(request, timeout=10).read().decode()
        assert "History Meta Stack Exchange" in home and "Houston Data Visualization" in home
        overview = opener.open(f"{base}/c/houston-datavis/", timeout=10).read().decode()
        # The charting library is served by the app itself (collected from node_modules).
        chart = re.search(r'src="(/static/vendor/chart\.js/chart\.umd\.min[^"]*\.js)"', overview)
        assert chart and opener.open(base + chart.group(1), timeout=5).status == 200
        assert opener.open(f"{base}/api/v1/openapi.json", timeout=5).status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
