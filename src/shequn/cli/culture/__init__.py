"""``shequn culture``, ``shequn goals``, ``shequn onboarding`` and ``shequn testimonials``: the
culture's three questions, goals with progress and forecast, the welcome message per platform
and who is waiting for it, and the benefit showcase. Thin: every change goes through
``shequn.culture.services``; refused changes name the field and exit non-zero (3 invalid
values, 4 not found, 5 refused)."""

from __future__ import annotations

import click

from shequn.cli.culture.goals import goals
from shequn.cli.culture.onboarding import onboarding
from shequn.cli.culture.show import culture
from shequn.cli.culture.testimonials import testimonials

COMMANDS: list[click.Command] = [culture, goals, onboarding, testimonials]
