"""System checks for what the web app needs on disk."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register


@register()
def front_end_libraries(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    chart = settings.SHEQUN_NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js"
    if chart.is_file():
        return []
    return [
        Warning(
            f"Chart.js is not installed ({chart} is missing): charts will not draw.",
            hint="Run `npm ci` in the repository root (see README), or set SHEQUN_NODE_MODULES.",
            id="shequn.W001",
        )
    ]
