"""``shequn`` commands for culture and goals."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
