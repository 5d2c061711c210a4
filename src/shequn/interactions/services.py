"""Write operations on interaction data: importing a source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from shequn.communities.models import Community
from shequn.interactions.importers import detect_format, source_class
from shequn.interactions.importers.pipeline import ImportPipeline, ImportSummary, ProgressCallback
from shequn.interactions.signals import events_imported
from shequn.members.mapping import do_load_identity_mapping


class UnsupportedOption(ValueError):
    """An option the chosen format does not take (e.g. a time zone for a format with offsets)."""

    def __init__(self, format_name: str, options: list[str]) -> None:
        super().__init__(format_name, options)
        self.format_name = format_name
        self.options = options


def do_import(
    community: Community,
    path: Path | str,
    *,
    format_name: str | None = None,
    channel: str | None = None,
    actor: Any = None,
    store_text: bool | None = None,
    progress: ProgressCallback | None = None,
    identity_map: Path | str | None = None,
    options: dict[str, Any] | None = None,
    recompute: bool = True,
) -> ImportSummary:
    """Import one file or folder into ``community``: all of it, once, or nothing.

    ``identity_map`` (a CSV of platform, platform user id, member key) is loaded first, in the
    same transaction, so its accounts land on the right members. Once an import that changed
    anything has committed, derived data (points, tiers) is brought up to date, unless
    ``recompute`` is false (tests and benchmarks that time or drive those runs themselves).
    """
    path = Path(path)
    name = format_name if format_name and format_name != "auto" else detect_format(path)
    source_type = source_class(name)
    unsupported = sorted(set(options or {}) - set(source_type.OPTIONS))
    if unsupported:
        raise UnsupportedOption(name, unsupported)
    source = source_type(path, channel=channel, **(options or {}))
    with transaction.atomic():
        if identity_map is not None:
            do_load_identity_mapping(community, Path(identity_map), actor=actor)
        summary = ImportPipeline(
            community, source, actor=actor, store_text=store_text, progress=progress
        ).run()
    changed = summary.events_added or summary.members_new or summary.members_updated
    if recompute and changed:
        events_imported.send(sender=do_import, community=community, summary=summary)
    return summary
