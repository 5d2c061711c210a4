"""Levels from lifetime points: a quadratic curve (as MEE6 and other Discord bots) or a table.

Lifetime points are the balance (the ledger sum): a penalty or reversal can take a member back
below a threshold, so the level shown is that of the balance, while a ``LevelUp`` row records
the first time each level was reached and is kept.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from shequn.rewards.models import LevelScheme

# Default curve: points from level n to n + 1 = 5n² + 50n + 100 (MEE6).
DEFAULT_CURVE = (5, 50, 100)
# A quadratic curve is generated up to this level at most (beyond 10¹² points anyway).
MAX_CURVE_LEVEL = 10_000


class LevelCurve:
    """Level numbers, names and thresholds of one scheme; level 0 means none reached yet.

    Level n (n >= 1) is reached at ``thresholds[n - 1]`` points; thresholds strictly increase.
    """

    def __init__(
        self,
        *,
        kind: str = LevelScheme.Kind.QUADRATIC,
        a: int = DEFAULT_CURVE[0],
        b: int = DEFAULT_CURVE[1],
        c: int = DEFAULT_CURVE[2],
        table: Iterable[tuple[int, str]] = (),
    ) -> None:
        self.kind = kind
        self.a, self.b, self.c = a, b, c
        self.names: list[str] = []
        self.thresholds: list[int] = []
        if kind == LevelScheme.Kind.TABLE:
            for threshold, name in sorted(table):
                self.thresholds.append(threshold)
                self.names.append(name)
            self.bounded = True
        else:
            self.bounded = False
            self._extend(2)

    @classmethod
    def of(cls, scheme: LevelScheme | None) -> LevelCurve:
        if scheme is None:
            return cls()
        if scheme.kind == LevelScheme.Kind.TABLE:
            levels = scheme.levels.all() if scheme.pk else []
            return cls(kind=scheme.kind, table=[(lv.threshold, lv.name) for lv in levels])
        return cls(kind=scheme.kind, a=scheme.a, b=scheme.b, c=scheme.c)

    def _extend(self, count: int) -> None:
        thresholds = self.thresholds
        while len(thresholds) < count and len(thresholds) < MAX_CURVE_LEVEL:
            n = len(thresholds)  # the step from level n to n + 1
            step = self.a * n * n + self.b * n + self.c
            thresholds.append((thresholds[-1] if thresholds else 0) + step)

    def _cover(self, points: int) -> None:
        """Make sure the thresholds go past ``points`` (quadratic curves are unbounded)."""
        if self.bounded:
            return
        thresholds = self.thresholds
        while thresholds[-1] <= points and len(thresholds) < MAX_CURVE_LEVEL:
            self._extend(len(thresholds) * 2)

    def level_of(self, points: int) -> int:
        """The highest level whose threshold ``points`` reaches (0: none)."""
        thresholds = self.thresholds
        if not self.bounded and thresholds[-1] <= points:
            self._cover(points)
        return bisect_right(thresholds, points)

    def threshold(self, number: int) -> int:
        """Points needed for level ``number`` (0 for level 0)."""
        if number <= 0:
            return 0
        if not self.bounded:
            self._extend(number)
        return self.thresholds[number - 1]

    def has_level(self, number: int) -> bool:
        return number >= 0 and (not self.bounded or number <= len(self.thresholds))

    def name(self, number: int) -> str:
        if number <= 0:
            return ""
        if self.bounded:
            return self.names[number - 1]
        return _("Level %(number)d") % {"number": number}

    def thresholds_up_to(self, points: int) -> list[tuple[int, int]]:
        """(level, threshold) of every level reached at or below ``points``."""
        top = self.level_of(points)
        return [(n, self.threshold(n)) for n in range(1, top + 1)]


@dataclass(frozen=True)
class LevelStatus:
    """Where a member stands: current level, and what the next one needs."""

    number: int
    name: str
    points: int
    threshold: int
    next_number: int | None
    next_name: str | None
    next_threshold: int | None
    points_missing: int

    @property
    def progress(self) -> float:
        """Share of the way from this level's threshold to the next one (1.0 at the top)."""
        if self.next_threshold is None:
            return 1.0
        span = self.next_threshold - self.threshold
        done = self.points - self.threshold
        return max(0.0, min(1.0, done / span)) if span > 0 else 1.0


def level_status(curve: LevelCurve, points: int) -> LevelStatus:
    number = curve.level_of(points)
    following = number + 1
    if curve.has_level(following):
        next_threshold = curve.threshold(following)
        return LevelStatus(
            number=number,
            name=curve.name(number),
            points=points,
            threshold=curve.threshold(number),
            next_number=following,
            next_name=curve.name(following),
            next_threshold=next_threshold,
            points_missing=max(0, next_threshold - points),
        )
    return LevelStatus(
        number=number,
        name=curve.name(number),
        points=points,
        threshold=curve.threshold(number),
        next_number=None,
        next_name=None,
        next_threshold=None,
        points_missing=0,
    )


def level_case_sql(curve: LevelCurve, column: str, top_points: int) -> str:
    """A SQL expression giving the level of ``column`` for values up to ``top_points``."""
    steps = curve.thresholds_up_to(max(top_points, 0))
    if not steps:
        return "0"
    whens = " ".join(
        f"WHEN {column} >= {threshold} THEN {number}" for number, threshold in reversed(steps)
    )
    return f"CASE {whens} ELSE 0 END"
