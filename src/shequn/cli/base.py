"""Shared CLI plumbing: Django start-up, error-to-exit-code mapping, the console."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click
from rich.console import Console

from shequn.cli.i18n import _, cli_language

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INVALID_DATA = 3
EXIT_NOT_FOUND = 4
EXIT_REFUSED = 5

console = Console()
error_console = Console(stderr=True)


class CommandFailed(click.ClickException):
    """An expected failure: print the message (no traceback) and exit with ``exit_code``."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        label = _("Error:")
        error_console.print(
            f"[bold red]{label}[/] {self.format_message()}", highlight=False, soft_wrap=True
        )


def fail(message: str, exit_code: int) -> NoReturn:
    raise CommandFailed(message, exit_code)


_bootstrapped = False


def bootstrap(*, migrate: bool = True) -> None:
    """Configure Django (once) and bring the database schema up to date.

    Deferred to each command so options such as ``demo --data-dir`` can set the
    environment first.
    """
    global _bootstrapped
    if _bootstrapped:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequn.settings")
    import django

    django.setup()
    from django.utils import translation

    translation.activate(cli_language())
    _bootstrapped = True
    if migrate:
        migrate_database(verbose=False)


def migrate_database(*, verbose: bool) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


class ShequnGroup(click.Group):
    """Turns known domain errors into clear messages with documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # mapped below; anything else is a bug
            mapped = _map_error(exc)
            if mapped is None:
                raise
            mapped.show()
            sys.exit(mapped.exit_code)


def _map_error(exc: Exception) -> CommandFailed | None:
    from shequn.communities.selectors import CommunityNotFound
    from shequn.communities.services import CommunityError
    from shequn.interactions.importers.records import ImportFormatError
    from shequn.interactions.services import UnsupportedOption
    from shequn.members.selectors import AmbiguousMember, MemberNotFound
    from shequn.members.services import MergeError

    if isinstance(exc, ImportFormatError):
        return CommandFailed(
            f"{exc}\n" + _("Nothing was imported; the database is unchanged."), EXIT_INVALID_DATA
        )
    if isinstance(exc, CommunityNotFound):
        return CommandFailed(
            _("no community with slug '%(slug)s' (list them with: shequn communities)")
            % {"slug": exc.args[0]},
            EXIT_NOT_FOUND,
        )
    if isinstance(exc, MemberNotFound):
        return CommandFailed(
            _("no member '%(member)s' in this community") % {"member": exc.args[0]}, EXIT_NOT_FOUND
        )
    if isinstance(exc, UnsupportedOption):
        names = ", ".join("--" + option.replace("_", "-") for option in exc.options)
        return CommandFailed(
            _("the %(format)s format does not take %(options)s")
            % {"format": exc.format_name, "options": names},
            EXIT_USAGE,
        )
    if isinstance(exc, AmbiguousMember):
        choices = ", ".join(f"#{m.pk} {m.display_name}" for m in exc.candidates)
        return CommandFailed(
            _("'%(key)s' matches several members (%(choices)s); use the member's id")
            % {"key": exc.key, "choices": choices},
            EXIT_REFUSED,
        )
    if isinstance(exc, CommunityError | MergeError):
        return CommandFailed(str(exc), EXIT_REFUSED)
    return None


community_option = click.option(
    "--community",
    "-c",
    "community_slug",
    required=True,
    metavar="SLUG",
    help=_("The community's slug (see: shequn communities)."),
)
