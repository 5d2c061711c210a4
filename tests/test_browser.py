"""The web app in a real browser: Debian's Chromium driven by Playwright.

Logs in to a database holding the demo's sample communities, opens a community and a member,
switches to Chinese and back, and uploads a small export through the import page. Screenshots
go to $SHEQUN_TEST_ARTIFACTS (default: test-artifacts/ in the repository).

.ci/run installs Chromium (apt-get install chromium chromium-driver) and sets
SHEQUN_REQUIRE_BROWSER=1, so there a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import chatlab_header

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(
    os.environ.get("SHEQUN_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
)
PASSWORD = "a demo pass phrase 2026"

if not Path(CHROMIUM).exists():
    if os.environ.get("SHEQUN_REQUIRE_BROWSER"):
        raise RuntimeError(f"Chromium is required for the browser test and missing: {CHROMIUM}")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def demo_site(transactional_db, live_server, settings):
    from shequn.accounts.services import set_demo_operator
    from shequn.demo import load_demo_communities

    settings.SHEQUN_IMPORT_JOBS = "thread"
    communities = [community for community, _summary in load_demo_communities()]
    set_demo_operator(username="demo", password=PASSWORD)
    return live_server.url, communities


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_operator_journey(demo_site, page, tmp_path):
    url, communities = demo_site
    external = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url)
            if request.url.startswith(("http:", "https:")) and not request.url.startswith(url)
            else None
        ),
    )

    page.goto(url + "/")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Communities")
    shot(page, "01-communities")

    slack = next(c for c in communities if c.slug == "houston-datavis")
    page.click(f"text={slack.name}")
    page.wait_for_selector("#weekly-chart")
    # The canvas comes before the scripts at the end of the page: wait until they have run.
    page.wait_for_load_state("load")
    chart = page.evaluate("typeof window.Chart")
    assert chart == "function", f"Chart.js did not load: {chart}"  # served locally
    shot(page, "02-overview")

    page.click("nav.subnav >> text=Members")
    page.wait_for_selector("table")
    shot(page, "03-members")
    page.click("main table tbody tr >> nth=0 >> a")
    page.wait_for_selector("text=Timeline")
    shot(page, "04-member")

    page.select_option("#language-select", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    assert "时间线" in page.content(), "the member page is not in Chinese"  # "Timeline"
    shot(page, "05-member-zh")
    page.click("nav.subnav >> text=分层")
    page.wait_for_selector("#funnel-title")
    assert "代言人" in page.content(), "the tiers page is not in Chinese"  # "advocate"
    shot(page, "05b-tiers-zh")
    page.select_option("#language-select", "en")
    page.wait_for_selector("html[lang=en]")
    assert "advocate" in page.content().lower(), "the tiers page is not back in English"
    page.wait_for_selector("#flows-chart")
    shot(page, "05c-tiers")
    page.click("nav.subnav >> text=Points")
    page.wait_for_selector("#board-title")
    page.click("text=All time")
    page.wait_for_selector("main table tbody tr")
    shot(page, "05d-points")

    # The demo keeps six monthly diagnoses: the latest, with its charts and network drawn.
    page.click("nav.subnav >> text=Diagnosis")
    page.wait_for_selector("[data-verdict]")
    page.wait_for_load_state("load")
    drawn = page.evaluate(
        "['forces-chart', 'ladder-chart', 'history-chart']"
        ".map(id => !!window.Chart.getChart(document.getElementById(id)))"
    )
    assert drawn == [True, True, True], f"diagnosis charts not drawn: {drawn}"
    assert page.locator("section.network svg circle").count() >= 3
    shot(page, "05e-diagnosis")

    export = tmp_path / "wechat-group.json"
    export.write_text(
        json.dumps(
            {
                **chatlab_header(name="Browser test group", group_id="browser"),
                "members": [],
                "messages": [
                    {
                        "sender": "b1",
                        "accountName": "Lin",
                        "timestamp": 1703001600,
                        "type": 0,
                        "content": "你好",
                    },
                    {
                        "sender": "b2",
                        "accountName": "Wu",
                        "timestamp": 1703001700,
                        "type": 0,
                        "content": "hello",
                    },
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    page.click("nav.subnav >> text=Imports")
    page.set_input_files("input[name=file]", str(export))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#job-summary", timeout=60_000)
    assert "wechat-group.json" in page.content(), "the job page does not name the file"
    shot(page, "06-import-done")
    assert external == [], f"the page fetched from outside: {external}"
