"""Scoring need ↔ offer pairs: shared tags and TF-IDF text similarity, with the evidence.

Texts are turned into terms by ``analyse``: runs of Chinese characters are segmented by
jieba in its search mode (which also yields the shorter words inside a long one, so
"前端开发" meets "前端"), Latin words and numbers are lower-cased (a plural "s" folded, so
"designers" meets "designer"); stop words of either language, and the words every post
uses ("need", "offer", "想找", "提供" …), are dropped, as are single Chinese characters
(mostly particles). scikit-learn's ``TfidfVectorizer`` weighs the terms over all open posts of
the community (a term every post uses weighs little) and the text score is the cosine of the
two posts' vectors; a post's title counts twice.

The tag score is the overlap of the two tag sets: shared tags / tags of the smaller set, so
a need tagged "design" meets an offer tagged "design, branding, illustration" fully. When both
posts have tags, score = 0.4 × tag score + 0.6 × text score; otherwise the text score alone.
Every pair comes with its evidence: the shared tags, the shared terms that weigh the most,
and the scores.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import MultiLabelBinarizer

TAG_WEIGHT = 0.4
TEXT_WEIGHT = 0.6
TOP_TERMS = 5
# Rows of the need × offer score matrix computed at a time (memory stays bounded).
BLOCK = 256

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
# Latin words and numbers, keeping "c++", "c#", "node.js", "wi-fi" whole.
_LATIN = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-][a-z0-9+#]+)*")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words of the exchange itself (every need says it needs, every offer that it offers) and the
# commonest function words: they say nothing about what is needed or offered.
EXCHANGE_WORDS_EN = _words(
    """need needs needed needing looking look want wants wanted seeking seek offer offers
    offering offered provide provides providing help helping anyone someone somebody can could
    would like get please thanks thank hi hello free available ask asking anybody"""
)
STOP_WORDS_ZH = _words(
    """的 了 是 在 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己
    这 那 他 她 它 们 我们 你们 他们 大家 可以 能 能够 需要 需求 想 想要 想找 找 寻找 求 希望
    提供 帮 帮忙 帮助 一下 一些 一名 一位 一起 有人 谁 什么 怎么 如何 或者 还是 以及 及 与
    或 但 但是 而且 并且 因为 所以 如果 这个 那个 这些 那些 哪里 哪位 吗 吧 呢 啊 哦 嗯 呀 么
    请 请问 谢谢 感谢 朋友 各位 欢迎 联系 私聊 私信 愿意 免费 现在 目前 已经 还 再 又 对 把
    被 给 让 从 向 为 为了 关于 等 等等 比较 非常 特别 主要 相关 方面 可 该 其 之
    找人 有没有 求助"""
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | EXCHANGE_WORDS_EN | STOP_WORDS_ZH

_jieba_ready = False


def _segment(run: str) -> list[str]:
    """jieba's search-mode words of a run of Chinese characters (loaded on first use)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)
        _jieba_ready = True
    return jieba.lcut_for_search(run)


def _fold(word: str) -> str:
    """A Latin word with a plural "s" folded (designers → designer), numbers unchanged."""
    if (
        len(word) > 3
        and word.isalpha()
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is"))
    ):
        return word[:-1]
    return word


@lru_cache(maxsize=20_000)
def _analyse(text: str) -> tuple[str, ...]:
    terms: list[str] = []
    lowered = text.lower()
    position = 0
    for match in _CJK_RUN.finditer(lowered):
        terms.extend(_latin_terms(lowered[position : match.start()]))
        terms.extend(
            word for word in _segment(match.group()) if len(word) > 1 and word not in STOP_WORDS
        )
        position = match.end()
    terms.extend(_latin_terms(lowered[position:]))
    return tuple(terms)


def _latin_terms(text: str) -> Iterable[str]:
    for word in _LATIN.findall(text):
        if len(word) > 1 and word not in STOP_WORDS:
            folded = _fold(word)
            if folded not in STOP_WORDS:
                yield folded


def analyse(text: str) -> list[str]:
    """The terms of a text, as the matcher sees them (``TfidfVectorizer``'s analyzer)."""
    return list(_analyse(text or ""))


@dataclass(frozen=True)
class PostText:
    """What the matcher reads of a post."""

    id: int
    member_id: int
    title: str
    description: str
    tags: tuple[str, ...]

    @property
    def document(self) -> str:
        return f"{self.title}\n{self.title}\n{self.description}"


@dataclass(frozen=True)
class Match:
    """One suggested pair with its evidence."""

    need_id: int
    offer_id: int
    score: float
    tag_score: float
    text_score: float
    shared_tags: tuple[str, ...]
    shared_terms: tuple[str, ...]

    def evidence(self) -> dict[str, object]:
        return {
            "score": round(self.score, 3),
            "tag_score": round(self.tag_score, 3),
            "text_score": round(self.text_score, 3),
            "shared_tags": list(self.shared_tags),
            "shared_terms": list(self.shared_terms),
        }


class _Model:
    """The TF-IDF vectors and tag sets of the needs and offers of one community."""

    def __init__(self, needs: Sequence[PostText], offers: Sequence[PostText]) -> None:
        self.needs, self.offers = needs, offers
        documents = [post.document for post in (*needs, *offers)]
        self.vectorizer = TfidfVectorizer(analyzer=analyse, sublinear_tf=True, norm="l2")
        try:
            matrix = self.vectorizer.fit_transform(documents).tocsr()
            self.terms = self.vectorizer.get_feature_names_out()
        except ValueError:  # no post has a single term (empty vocabulary)
            matrix = sparse.csr_matrix((len(documents), 1))
            self.terms = np.array([""])
        self.need_vectors = matrix[: len(needs)]
        self.offer_vectors = matrix[len(needs) :]
        binarizer = MultiLabelBinarizer(sparse_output=True)
        tags = binarizer.fit_transform([post.tags for post in (*needs, *offers)] or [()])
        tags = sparse.csr_matrix(tags, dtype=np.float64)
        if tags.shape[0] != len(documents):  # no posts at all
            tags = sparse.csr_matrix((len(documents), 1))
        self.need_tags = tags[: len(needs)]
        self.offer_tags = tags[len(needs) :]
        self.need_tag_counts = np.array([len(post.tags) for post in needs], dtype=np.float64)
        self.offer_tag_counts = np.array([len(post.tags) for post in offers], dtype=np.float64)

    def block_scores(self, rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(score, tag score, text score) of the needs in ``rows`` against every offer."""
        text = (self.need_vectors[rows] @ self.offer_vectors.T).toarray()
        shared = (self.need_tags[rows] @ self.offer_tags.T).toarray()
        smaller = np.minimum(self.need_tag_counts[rows][:, None], self.offer_tag_counts[None, :])
        both_tagged = smaller > 0
        tag = np.divide(shared, smaller, out=np.zeros_like(shared), where=both_tagged)
        score = np.where(both_tagged, TAG_WEIGHT * tag + TEXT_WEIGHT * text, text)
        return score, tag, text

    def shared_terms(self, need_row: int, offer_row: int) -> tuple[str, ...]:
        """The shared terms that weigh the most in both posts, heaviest first."""
        product = self.need_vectors[need_row].multiply(self.offer_vectors[offer_row]).tocoo()
        order = np.argsort(-product.data, kind="stable")[:TOP_TERMS]
        return tuple(str(self.terms[product.col[index]]) for index in order)

    def match(self, need_row: int, offer_row: int, scores: tuple) -> Match:
        need, offer = self.needs[need_row], self.offers[offer_row]
        score, tag, text = scores
        offer_tags = set(offer.tags)
        return Match(
            need_id=need.id,
            offer_id=offer.id,
            score=float(score),
            tag_score=float(tag),
            text_score=float(text),
            shared_tags=tuple(tag_name for tag_name in need.tags if tag_name in offer_tags),
            shared_terms=self.shared_terms(need_row, offer_row),
        )


def score_pairs(
    needs: Sequence[PostText],
    offers: Sequence[PostText],
    *,
    min_score: float,
    skip: Iterable[tuple[int, int]] = (),
    per_need: int | None = None,
    limit: int | None = None,
    focus_needs: set[int] | None = None,
    focus_offers: set[int] | None = None,
) -> list[Match]:
    """The pairs scoring at least ``min_score`` (and above 0), best first, with evidence.

    All ``needs`` and ``offers`` shape the term weights; only pairs of different members,
    not in ``skip`` (need id, offer id), and within ``focus_needs`` / ``focus_offers`` when
    given, are returned; ``per_need`` keeps each need's best few, ``limit`` the best overall.
    Scores are computed by blocks of needs with matrix products; the evidence only for the
    pairs returned.
    """
    if not needs or not offers:
        return []
    model = _Model(needs, offers)
    need_members = np.array([post.member_id for post in needs])
    offer_members = np.array([post.member_id for post in offers])
    need_allowed = np.array(
        [focus_needs is None or post.id in focus_needs for post in needs], dtype=bool
    )
    offer_allowed = np.array(
        [focus_offers is None or post.id in focus_offers for post in offers], dtype=bool
    )
    offer_column = {post.id: column for column, post in enumerate(offers)}
    skipped: dict[int, list[int]] = defaultdict(list)
    for need_id, offer_id in skip:
        if offer_id in offer_column:
            skipped[need_id].append(offer_column[offer_id])
    candidates: list[tuple[float, float, float, int, int]] = []
    for start in range(0, len(needs), BLOCK):
        rows = slice(start, min(start + BLOCK, len(needs)))
        score, tag, text = model.block_scores(rows)
        usable = (score >= min_score) & (score > 0) & offer_allowed[None, :]
        usable &= need_allowed[rows][:, None]
        usable &= need_members[rows][:, None] != offer_members[None, :]
        for local in np.flatnonzero(usable.any(axis=1)):
            row = start + int(local)
            usable[local, skipped.get(needs[row].id, [])] = False
            columns = np.flatnonzero(usable[local])
            if per_need is not None and len(columns) > per_need:
                best = np.argpartition(-score[local, columns], per_need - 1)[:per_need]
                columns = columns[best]
            candidates.extend(
                (score[local, c], tag[local, c], text[local, c], row, int(c)) for c in columns
            )
    candidates.sort(key=lambda c: (-c[0], needs[c[3]].id, offers[c[4]].id))
    if limit is not None:
        candidates = candidates[:limit]
    return [model.match(row, column, (s, t, x)) for s, t, x, row, column in candidates]


def score_pair(
    needs: Sequence[PostText], offers: Sequence[PostText], need_id: int, offer_id: int
) -> Match:
    """One pair's score and evidence, weighed over the given posts (which include both)."""
    model = _Model(needs, offers)
    need_row = next(i for i, post in enumerate(needs) if post.id == need_id)
    offer_row = next(i for i, post in enumerate(offers) if post.id == offer_id)
    score, tag, text = model.block_scores(slice(need_row, need_row + 1))
    return model.match(
        need_row,
        offer_row,
        (score[0, offer_row], tag[0, offer_row], text[0, offer_row]),
    )
