"""Finding banned words in a text, as a reader would: whole words only.

Latin-script words (English, pinyin, Vietnamese …) match where no letter or digit of the same
script touches them, case-insensitively: "ass" is not in "class", but "spam" is in "spam!!" and
in "spam链接". Chinese has no spaces, so a Chinese word matches where jieba's segmentation of
the sentence puts a word boundary before and after it — "大麻" is in "他在卖大麻" (他/在/卖/大麻)
but not in "这是个大麻烦" (这/是/个/大/麻烦) — or where jieba's search mode finds it as a word
of its own inside a longer one ("发票" in "代开发票", cut 代/开发票). Only texts that contain a
word at all are segmented.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

_lock = threading.Lock()


def is_cjk(ch: str) -> bool:
    """A Chinese, Japanese or Korean character (written without spaces between words)."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, kana, CJK unified ideographs and extension A
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFF66 <= code <= 0xFF9F  # half-width kana
        or 0x20000 <= code <= 0x3134F  # extensions B …
    )


def _joins(ch: str) -> bool:
    """Whether a neighbouring character would make a Latin-script word part of a longer one."""
    return (ch.isalnum() or ch == "_") and not is_cjk(ch)


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    """jieba's tokenizer, loaded once (about a second: it reads its dictionary)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
    return tokenizer


def _occurrences(text: str, word: str) -> list[int]:
    starts, at = [], text.find(word)
    while at >= 0:
        starts.append(at)
        at = text.find(word, at + 1)
    return starts


class WordMatcher:
    """Matches a fixed list of words against many texts."""

    def __init__(self, words: list[str]) -> None:
        self.words = [word for word in dict.fromkeys(w.strip() for w in words) if word]
        self._latin = [(w, w.lower()) for w in self.words if not any(map(is_cjk, w))]
        self._cjk = [(w, w.lower()) for w in self.words if any(map(is_cjk, w))]

    def matches(self, text: str | None) -> list[str]:
        """The words found in ``text``, in list order."""
        if not text:
            return []
        lowered = text.lower()
        found = [word for word, low in self._latin if self._latin_match(lowered, low)]
        present = [(word, low) for word, low in self._cjk if low in lowered]
        if present:
            found += self._cjk_matches(lowered, present)
        order = {word: n for n, word in enumerate(self.words)}
        return sorted(found, key=order.__getitem__)

    @staticmethod
    def _latin_match(text: str, word: str) -> bool:
        check_start, check_end = _joins(word[0]), _joins(word[-1])
        for start in _occurrences(text, word):
            end = start + len(word)
            if check_start and start > 0 and _joins(text[start - 1]):
                continue
            if check_end and end < len(text) and _joins(text[end]):
                continue
            return True
        return False

    @staticmethod
    def _cjk_matches(text: str, present: list[tuple[str, str]]) -> list[str]:
        tokenizer = _tokenizer()
        boundaries, position = {0}, 0
        for token in tokenizer.cut(text, HMM=True):
            position += len(token)
            boundaries.add(position)
        spans = {(start, end) for _word, start, end in tokenizer.tokenize(text, mode="search")}
        found = []
        for word, low in present:
            for start in _occurrences(text, low):
                end = start + len(low)
                if (start in boundaries and end in boundaries) or (start, end) in spans:
                    found.append(word)
                    break
        return found
