"""``shequn report``: diagnose a community for a period, keep it, and write the report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from shequn.cli.base import EXIT_NOT_FOUND, EXIT_USAGE, bootstrap, console, fail
from shequn.cli.i18n import _, cli_language


@click.command(
    "report",
    help=_(
        "Diagnose a community (社群诊断) for a period and write the report: one self-contained "
        "HTML file that opens offline, or JSON with --json. The period is kept for comparison."
    ),
)
@click.argument("community_slug", metavar="COMMUNITY")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_(
        "Write to this file (default: report-COMMUNITY-END.html, or standard output with --json)."
    ),
)
@click.option("--json", "as_json", is_flag=True, help=_("Write JSON instead of HTML."))
@click.option(
    "--end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="DATE",
    help=_("The period ends before this day (YYYY-MM-DD; default: the day after the last event)."),
)
@click.option(
    "--days", type=int, default=30, show_default=True, help=_("The period's length in days.")
)
@click.option(
    "--language",
    type=click.Choice(["en", "zh-hans"]),
    default=None,
    help=_("The report's language (default: the command line's)."),
)
def report(
    community_slug: str,
    output: Path | None,
    as_json: bool,
    end: Any,
    days: int,
    language: str | None,
) -> None:
    bootstrap()
    from django.utils import translation

    from shequn.communities.selectors import get_community
    from shequn.insights import texts
    from shequn.insights.render import render_report_html
    from shequn.insights.selectors import default_end, history, previous_report
    from shequn.insights.services import DiagnosisError, do_save_diagnosis

    community = get_community(community_slug)
    period_end = end.date() if end else default_end(community)
    try:
        kept = do_save_diagnosis(community, end=period_end, days=days)
    except DiagnosisError as exc:
        fail(str(exc), EXIT_USAGE)
    data, past = kept.data, history(community, days=days)
    language = language or cli_language()
    if as_json:
        with translation.override(language):
            described = {**texts.describe_report(data), "history": past}
        text = json.dumps(described, ensure_ascii=False, indent=2)
        if output is None:
            click.echo(text)
            return
    else:
        earlier = previous_report(kept)
        text = render_report_html(
            data, past, previous=earlier.data if earlier else None, language=language
        )
        output = output or Path(f"report-{community.slug}-{period_end.isoformat()}.html")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(
            _("cannot write %(path)s: %(error)s") % {"path": output, "error": exc.strerror},
            EXIT_NOT_FOUND,
        )
    with translation.override(language):
        verdict = texts.status_label(data["verdict"])
        lines = [
            f"{texts.title(check)}: {texts.status_label(check['status'])}"
            for check in data["top_line"]
        ]
    console.print(
        _("Diagnosis of %(name)s, %(first)s to %(last)s: %(verdict)s. Written to %(path)s.")
        % {
            "name": community.name,
            "first": data["period"]["start"],
            "last": (kept.period_end - dt.timedelta(days=1)).isoformat(),
            "verdict": verdict,
            "path": output,
        },
        highlight=False,
    )
    for line in lines:
        console.print(f"  {line}", highlight=False)
