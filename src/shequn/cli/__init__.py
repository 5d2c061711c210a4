"""The ``shequn`` command line. Commands stay thin: they parse, then call services/selectors.

Exit codes (also in the README):
  0  success
  1  unexpected error (a bug: please report it with the message)
  2  usage error (unknown option, missing argument)
  3  invalid input data (a file that cannot be imported; nothing was changed)
  4  not found (community, member, file)
  5  refused (the request conflicts with existing data, e.g. a slug that is taken)
"""

from __future__ import annotations

import click

from shequn import __version__
from shequn.cli import charter as charter_cli
from shequn.cli import commerce as commerce_cli
from shequn.cli import culture as culture_cli
from shequn.cli import exchange as exchange_cli
from shequn.cli.activities import activities, rituals
from shequn.cli.base import ShequnGroup
from shequn.cli.communities import communities
from shequn.cli.importing import import_command
from shequn.cli.members import members
from shequn.cli.points import points
from shequn.cli.report import report
from shequn.cli.server import demo, manage, serve
from shequn.cli.setup import init
from shequn.cli.tiers import tiers


@click.group(cls=ShequnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shequn")
def cli() -> None:
    """shequn (社群): build, run and measure a community.

    \b
    Exit codes: 0 ok, 1 unexpected error, 2 usage error, 3 invalid input data,
    4 not found, 5 refused (conflicts with existing data).
    Configuration comes from the environment: DATABASE_URL, SHEQUN_DATA_DIR, … (see README).
    """


cli.add_command(init)
cli.add_command(import_command)
cli.add_command(communities)
cli.add_command(members)
cli.add_command(points)
cli.add_command(serve)
cli.add_command(demo)
cli.add_command(manage)
cli.add_command(tiers)
cli.add_command(activities)
cli.add_command(rituals)
cli.add_command(report)
for module in (culture_cli, charter_cli, exchange_cli, commerce_cli):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli()
