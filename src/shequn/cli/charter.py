"""``shequn`` commands for charter."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
