"""Write operations on interaction data: importing a source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from shequn.communities.models import Community
from shequn.interactions.importers import detect_format, source_class
from shequn.interactions.importers.pipeline import ImportPipeline, ImportSummary, ProgressCallback
from shequn.members.mapping import do_load_identity_mapping


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
) -> ImportSummary:
    """Import one file or folder into ``community``: all of it, once, or nothing.

    ``identity_map`` (a CSV of platform, platform user id, member key) is loaded first, in the
    same transaction, so its accounts land on the right members.
    """
    path = Path(path)
    name = format_name if format_name and format_name != "auto" else detect_format(path)
    source = source_class(name)(path, channel=channel)
    with transaction.atomic():
        if identity_map is not None:
            do_load_identity_mapping(community, Path(identity_map), actor=actor)
        return ImportPipeline(
            community, source, actor=actor, store_text=store_text, progress=progress
        ).run()
