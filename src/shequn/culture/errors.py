"""The errors of culture, goals, onboarding and testimonials: each names the field at fault.

A refused operation writes nothing. ``problems`` maps each field at fault ("" when no single
field is) to what is wrong with it, already in the active language, so a form can show it next
to the field, the API can point at it and the command line can print it.
"""

from __future__ import annotations

from collections.abc import Mapping


class CultureError(ValueError):
    """A refused change of the culture (mission, values); nothing was written."""

    def __init__(self, problems: Mapping[str, str] | str, field: str = "") -> None:
        self.problems = {field: problems} if isinstance(problems, str) else dict(problems)
        super().__init__(
            "; ".join(f"{name}: {text}" if name else text for name, text in self.problems.items())
        )

    @property
    def field(self) -> str:
        return next(iter(self.problems), "")

    @property
    def message(self) -> str:
        return next(iter(self.problems.values()), "")


class GoalError(CultureError):
    """A goal's values (or a metric's parameters) that cannot be used, or a refused change."""


class TestimonialError(CultureError):
    """A testimonial that cannot be recorded, changed or published as asked."""


class OnboardingError(CultureError):
    """An onboarding template, platform or marking that cannot be used."""
