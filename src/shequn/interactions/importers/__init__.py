"""Source formats and the import pipeline they all feed."""

from __future__ import annotations

import importlib
from pathlib import Path

from django.utils.translation import gettext as _

from shequn.interactions.importers.base import Source
from shequn.interactions.importers.records import ImportFormatError

# Format name -> "module:Class". Detection tries them in this order.
FORMATS: dict[str, str] = {
    "chatlab": "shequn.interactions.importers.chatlab:ChatLabSource",
    "stackexchange": "shequn.interactions.importers.stackexchange:StackExchangeSource",
    "csv": "shequn.interactions.importers.csv_format:CsvSource",
    "discord": "shequn.interactions.importers.discord:DiscordSource",
    "qq": "shequn.interactions.importers.qq:QQTextSource",
    "telegram": "shequn.interactions.importers.telegram:TelegramSource",
    "slack": "shequn.interactions.importers.slack:SlackSource",
    "whatsapp": "shequn.interactions.importers.whatsapp:WhatsAppSource",
}


def source_class(format_name: str) -> type[Source]:
    try:
        target = FORMATS[format_name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ImportFormatError(
            "",
            "",
            _("unknown format %(format)s (known: %(known)s)")
            % {"format": repr(format_name), "known": known},
        ) from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def detect_format(path: Path) -> str:
    """Name the format of ``path`` from its contents, or raise ImportFormatError."""
    if not path.exists():
        raise ImportFormatError(path, "", _("no such file or folder"))
    for name in FORMATS:
        if source_class(name).sniff(path):
            return name
    raise ImportFormatError(
        path,
        "",
        _("cannot tell the format; name it explicitly (one of: %(formats)s)")
        % {"formats": ", ".join(FORMATS)},
    )


__all__ = ["FORMATS", "ImportFormatError", "Source", "detect_format", "source_class"]
