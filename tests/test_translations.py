"""Every string in the Chinese catalogue is translated, and the compiled catalogue matches."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import shequn

PACKAGE = Path(shequn.__file__).resolve().parent
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{[^}]*\}")


def _po_entries(*, with_context: bool = False) -> dict:
    """msgid -> msgstr of the entries without a context (or, ``with_context``, those with
    one, keyed (context, msgid)), plural entries left out. A field may go on over lines (a
    string with newlines)."""
    entries: dict = {}
    fields: dict[str, str] = {}
    current = ""

    def finish() -> None:
        msgid = fields.get("msgid")
        plural = "msgid_plural" in fields  # its msgstr follows the plural form: not compared
        if msgid and not plural and "msgstr" in fields and ("msgctxt" in fields) == with_context:
            key = (fields["msgctxt"], msgid) if with_context else msgid
            entries[key] = fields["msgstr"]
        fields.clear()

    for line in (CATALOGUE / "django.po").read_text(encoding="utf-8").splitlines():
        if line.startswith('"') and current:
            fields[current] += ast.literal_eval(line)
            continue
        keyword, _space, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr", "msgstr[0]"):
            if keyword in ("msgctxt", "msgid") and "msgstr" in fields:
                finish()
            current = "msgstr" if keyword == "msgstr[0]" else keyword
            fields[current] = ast.literal_eval(rest)
        else:
            current = ""
    finish()
    return entries


def _marked_strings() -> set[str]:
    """String literals passed to _()/gettext*() anywhere in the package's Python code."""
    found: set[str] = set()
    names = {"_", "gettext", "gettext_lazy", "_lazy"}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_catalogue_entry_is_translated_with_the_same_placeholders():
    entries = _po_entries()
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []
    for msgid, msgstr in entries.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_every_marked_string_is_in_the_catalogue():
    missing = sorted(_marked_strings() - set(_po_entries()))
    assert missing == [], "run makemessages (see CONTRIBUTING.md) and translate: " + repr(missing)


def test_compiled_catalogue_matches_the_source():
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in _po_entries().items():
        assert compiled.gettext(msgid) == msgstr, msgid
    contexted = _po_entries(with_context=True)
    for (context, msgid), msgstr in contexted.items():
        assert msgstr, (context, msgid)
        assert compiled.pgettext(context, msgid) == msgstr, (context, msgid)
