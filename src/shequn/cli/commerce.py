"""``shequn`` commands for business model."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
