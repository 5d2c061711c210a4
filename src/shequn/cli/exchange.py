"""``shequn`` commands for needs and offers."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
