"""A stored diagnosis in words and pictures: the context the dashboard page and the report file
share, and the report as one self-contained HTML file (styles, script, Chart.js and the network
drawing inlined; no network access needed to open it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from shequn.insights import texts
from shequn.insights.diagnosis import status_changes

SVG_SIZE = 640
SVG_MARGIN = 24
NODE_MIN, NODE_MAX = 3.0, 16.0
PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"]
OTHER_COLOUR = "#9ca3af"
CHART_JS = "vendor/chart.js/chart.umd.min.js"
REPORT_JS = "insights/diagnosis.js"
REPORT_CSS = "insights/report.css"


def _svg(drawing: dict[str, Any]) -> dict[str, Any]:
    """Pixel positions for the template's SVG."""
    span = SVG_SIZE - 2 * SVG_MARGIN
    nodes = [
        {
            **node,
            "cx": round(SVG_MARGIN + node["x"] * span, 1),
            "cy": round(SVG_MARGIN + node["y"] * span, 1),
            "radius": round(NODE_MIN + node["r"] * (NODE_MAX - NODE_MIN), 1),
            "colour": PALETTE[node["group"]] if 0 <= node["group"] < len(PALETTE) else OTHER_COLOUR,
        }
        for node in drawing.get("nodes", [])
    ]
    edges = [
        {
            "x1": nodes[a]["cx"],
            "y1": nodes[a]["cy"],
            "x2": nodes[b]["cx"],
            "y2": nodes[b]["cy"],
            "width": round(0.5 + 3 * weight, 2),
            "opacity": round(0.15 + 0.5 * weight, 2),
        }
        for a, b, weight in drawing.get("edges", [])
    ]
    labelled = sorted(nodes, key=lambda node: -node["r"])[:12]
    return {"size": SVG_SIZE, "nodes": nodes, "edges": edges, "labels": labelled}


def _forces(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for code, force in data["dynamics"]["forces"].items():
        rows.append(
            {
                "code": code,
                "label": str(texts.FORCES[code]),
                "score": force["score"],
                "previous": force["previous"],
                "change": force["change"],
                "components": [
                    {
                        **component,
                        "label": str(texts.COMPONENTS.get(component["code"], component["code"])),
                        "value_text": texts.component_value(component["code"], component["value"]),
                        "no_data": component["status"] == "no_data",
                    }
                    for component in force["components"]
                ],
            }
        )
    return rows


def describe_changes(data: dict[str, Any], previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    if previous is None:
        return []
    return [
        {
            **change,
            "title": texts.title(change),
            "before_label": texts.status_label(change["before"]),
            "after_label": texts.status_label(change["after"]),
        }
        for change in status_changes(data, previous)
    ]


def report_context(
    data: dict[str, Any],
    history: list[dict[str, Any]],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the ``insights/_diagnosis.html`` partial shows, in the active language;
    ``previous`` is an earlier kept diagnosis to name the checks whose status changed."""
    period = data["period"]
    rungs = [
        {
            **rung,
            "label": str(texts.RUNGS[rung["code"]]),
            "share_text": texts.percent(rung["share"]),
        }
        for rung in data["ladder"]["rungs"]
    ]
    network = data["network"]
    forces = _forces(data)
    charts = {
        "forces": {
            "labels": [force["label"] for force in forces],
            "now": [force["score"] for force in forces],
            "previous": [force["previous"] for force in forces],
            "now_label": _("this period"),
            "previous_label": _("previous period"),
        },
        "ladder": {
            "labels": [rung["label"] for rung in rungs],
            "shares": [None if r["share"] is None else round(100 * r["share"], 1) for r in rungs],
            "label": _("share of behaviour (%)"),
        },
        "history": {
            "labels": [row["end"] for row in history],
            "series": [
                {"label": str(texts.FORCES[code]), "data": [row[code] for row in history]}
                for code in ("cohesion", "driving", "dissipative")
            ],
        },
    }
    return {
        "data": data,
        "first_day": dt.date.fromisoformat(period["start"]),
        "last_day": dt.date.fromisoformat(period["end"]) - dt.timedelta(days=1),
        "verdict_label": texts.status_label(data["verdict"]),
        "top_line": [texts.describe(check) for check in data["top_line"]],
        "iron_rules": [texts.describe(check) for check in data["iron_rules"]],
        "misconceptions": [texts.describe(check) for check in data["misconceptions"]],
        "linton": [texts.describe(check) for check in data["linton"]],
        "forces": forces,
        "stage_label": str(texts.RUNGS[data["ladder"]["stage"]])
        if data["ladder"]["stage"]
        else str(texts.NO_STAGE),
        "rungs": rungs,
        "network": network,
        "fragmentation": [
            {"removed": int(k), "share_text": texts.percent(v)}
            for k, v in sorted(network["fragmentation"].items(), key=lambda item: int(item[0]))
        ],
        "centres": [
            {**centre, "share_text": texts.percent(centre["share"])}
            for centre in network["centres"]
        ],
        "svg": _svg(data.get("drawing", {})),
        "palette": PALETTE,
        "history": history,
        "history_rows": [
            {**row, "verdict_label": texts.status_label(row["verdict"])} for row in history
        ],
        "charts": charts,
        "previous_period": None if previous is None else previous["period"],
        "changes": describe_changes(data, previous),
    }


def _read_static(path: str) -> str:
    """A static file's text for inlining (a script may not close its own element early)."""
    found = finders.find(path)
    text = Path(found).read_text(encoding="utf-8") if found else ""
    return text.replace("</script", "<\\/script")


def render_report_html(
    data: dict[str, Any],
    history: list[dict[str, Any]],
    *,
    previous: dict[str, Any] | None = None,
    language: str | None = None,
) -> str:
    """The report as one HTML file that opens offline; charts need Chart.js, installed with
    ``npm ci`` — without it every figure is still in the tables."""
    with translation.override(language or translation.get_language()):
        context = report_context(data, history, previous)
        context.update(
            standalone=True,
            language_code=translation.get_language(),
            inline_css=_read_static(REPORT_CSS),
            inline_chart_js=_read_static(CHART_JS),
            inline_report_js=_read_static(REPORT_JS),
        )
        return render_to_string("insights/report.html", context)
