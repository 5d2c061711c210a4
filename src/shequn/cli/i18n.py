"""Translations for the command line.

The CLI reads the same catalogue as the web app (``locale/*/LC_MESSAGES/django.mo``) through the
standard library, because help texts are needed before Django is configured. The language
comes from the usual environment (``SHEQUN_LANGUAGE``, then ``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``).
"""

from __future__ import annotations

import gettext as _gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def cli_language() -> str:
    """'zh-hans' or 'en', from the environment."""
    for variable in ("SHEQUN_LANGUAGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if not value or value in ("C", "POSIX", "C.UTF-8"):
            continue
        first = value.split(":")[0].lower().replace("_", "-")
        if first.startswith("zh") and not first.startswith(("zh-tw", "zh-hk", "zh-hant", "zh-mo")):
            return "zh-hans"
        return "en"
    return "en"


def _catalogue() -> _gettext.NullTranslations:
    if cli_language() == "zh-hans":
        return _gettext.translation("django", LOCALE_DIR, languages=["zh_Hans"], fallback=True)
    return _gettext.NullTranslations()


_translations = _catalogue()


def _(message: str) -> str:
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)
