"""Banned words: a list operators edit; a message containing one as a whole word is flagged.

SQL narrows the messages to those containing a word anywhere (``LIKE`` on each word while the
list is short; a regular expression on PostgreSQL for a long list; no narrowing for words such
as Cyrillic ones where the database folds the case of ASCII letters only: SQLite, or PostgreSQL
with the C character type); Python then checks those
candidates only, with word boundaries for Latin-script words and jieba's segmentation for
Chinese (``shequn.charter.words``). One violation per message.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.charter.detectors.base import (
    MESSAGES,
    Detector,
    Finding,
    Param,
    Scope,
    aware,
    excerpt,
    register,
)
from shequn.charter.words import WordMatcher
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member

# Up to this many words, SQL tests each with LIKE; beyond, PostgreSQL matches one regular
# expression and SQLite hands every stored text in the range to Python.
PREFILTER_WORDS = 64
FETCH = 2_000


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _cased_beyond_ascii(word: str) -> bool:
    """Has the word a letter outside ASCII with an upper and a lower case (Cyrillic, Greek,
    accented Latin)? SQLite's LIKE ignores case for ASCII letters only."""
    return any(not char.isascii() and char.lower() != char.upper() for char in word)


def _folds_unicode_case() -> bool:
    """Does the database's ``LIKE``/``ILIKE`` ignore case beyond ASCII? Never on SQLite; on
    PostgreSQL unless the database's character type is plain C (or POSIX)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
        (ctype,) = cursor.fetchone()
    return ctype not in ("C", "POSIX")


def prefilter(words: list[str]) -> tuple[str, list[Any]]:
    """SQL over the events ``e`` keeping the texts that contain one of ``words`` anywhere
    (every stored text when a word's case could differ beyond ASCII and the database folds
    ASCII only)."""
    cased = any(map(_cased_beyond_ascii, words))
    if cased and not _folds_unicode_case():
        return "1 = 1", []
    # ILIKE lowercases a capital sigma to σ, never to a word's final ς: such words go to the
    # regular expression, whose case-blind match knows both
    if len(words) <= PREFILTER_WORDS and not cased:
        like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        terms = " OR ".join([f"e.text {like} %s ESCAPE '\\'"] * len(words))
        return f"({terms})", [_like_pattern(word) for word in words]
    if connection.vendor == "postgresql":
        return "e.text ~* %s", ["|".join(re.escape(word) for word in words)]
    return "1 = 1", []


@register
class BannedWords(Detector):
    kind = "banned_words"
    label = gettext_lazy("Banned words")
    help_text = gettext_lazy(
        "A message that contains one of the words, as a whole word (Chinese by jieba's "
        "segmentation, other scripts by word boundaries, any case)."
    )
    params = (
        Param(
            "words",
            "words",
            [],
            gettext_lazy("One word or phrase per line (or separated by commas)."),
            max_items=1_000,
            max_length=50,
        ),
    )

    def check(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        if not params["words"]:
            return [("words", _("list at least one word"))]
        return []

    def find(self, scope: Scope) -> list[Finding]:
        words = scope.params["words"]
        matcher = WordMatcher(words)
        events, members = InteractionEvent._meta.db_table, Member._meta.db_table
        in_time, time_params = scope.time_sql("e.occurred_at")
        judged, judged_params = scope.judged_sql("m")
        contains, contains_params = prefilter(words)
        kinds = ", ".join(["%s"] * len(MESSAGES))
        sql = (
            "SELECT e.id, e.member_id, e.occurred_at, e.text"
            f" FROM {events} AS e JOIN {members} AS m ON m.id = e.member_id"
            f" WHERE e.community_id = %s AND e.kind IN ({kinds}) AND {in_time}"
            f" AND e.text IS NOT NULL AND {contains} AND {judged}"
            " ORDER BY e.occurred_at, e.id"
        )
        params = [scope.community.pk, *MESSAGES, *time_params, *contains_params, *judged_params]
        findings = []
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(FETCH):
                for event_id, member_id, occurred_at, text in rows:
                    found = matcher.matches(text)
                    if found:
                        findings.append(
                            Finding(
                                key=f"event:{event_id}",
                                member_id=member_id,
                                event_id=event_id,
                                occurred_at=aware(occurred_at),
                                detail={"words": found, "excerpt": excerpt(text)},
                            )
                        )
        return findings

    def describe(self, detail: dict[str, Any]) -> str:
        return _("banned words: %(words)s") % {"words": ", ".join(detail.get("words", []))}
