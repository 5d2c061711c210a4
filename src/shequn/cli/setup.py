"""``shequn init``: create or migrate the database and the first operator account."""

from __future__ import annotations

import os
import secrets
import sys

import click

from shequn.cli.base import EXIT_USAGE, bootstrap, console, fail, migrate_database
from shequn.cli.i18n import _


@click.command(help=_("Create or migrate the database and create the first operator account."))
@click.option(
    "--username", default="admin", show_default=True, help=_("Login of the first operator.")
)
@click.option("--email", default="", help=_("E-mail of the first operator."))
@click.option(
    "--password",
    envvar="SHEQUN_ADMIN_PASSWORD",
    help=_("Password (or SHEQUN_ADMIN_PASSWORD). Asked for on a terminal; generated otherwise."),
)
@click.option("--no-account", is_flag=True, help=_("Only create or migrate the database."))
def init(username: str, email: str, password: str | None, no_account: bool) -> None:
    bootstrap(migrate=False)
    from django.conf import settings

    applied = migrate_database(verbose=False)
    database = settings.DATABASES["default"]
    console.print(
        _("Database ready: %(engine)s %(name)s (%(count)d migrations applied).")
        % {
            "engine": database["ENGINE"].rsplit(".", 1)[-1],
            "name": database["NAME"],
            "count": len(applied),
        }
    )
    if no_account:
        return
    from shequn.accounts.services import ensure_first_operator

    if password is None and sys.stdin.isatty() and not os.environ.get("CI"):
        password = click.prompt(
            _("Password for %(user)s") % {"user": username},
            hide_input=True,
            confirmation_prompt=True,
        )
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    try:
        created = ensure_first_operator(username=username, email=email, password=password)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    if not created:
        console.print(_("An operator account already exists; none was created."))
        return
    console.print(_("Created operator account '%(user)s'.") % {"user": username})
    if generated:
        console.print(_("Generated password: %(password)s") % {"password": password})
