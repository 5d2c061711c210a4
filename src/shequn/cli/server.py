"""``shequn serve``, ``shequn demo`` and ``shequn manage``."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import click

from shequn.cli.base import bootstrap, console
from shequn.cli.i18n import _

SAMPLE_ATTRIBUTION = _(
    "Sample data: History Meta Stack Exchange data dump (history.meta.stackexchange.com), "
    "user contributions licensed under CC BY-SA 3.0 with attribution to Stack Exchange and the "
    "authors; the Houston Data Visualization meetup's public Slack export "
    "(houstondatavis/slack-export, MIT licence), with e-mail addresses and tokens redacted."
)


def _collect_static() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def run_server(host: str, port: int, workers: int) -> None:
    """Serve the WSGI app with gunicorn (a production server), static files by WhiteNoise."""
    from gunicorn.app.base import BaseApplication

    from shequn.interactions.jobs import fail_interrupted_jobs
    from shequn.wsgi import application

    # Imports run in background threads of the server; any a previous server left unfinished
    # were rolled back with it, and say so.
    fail_interrupted_jobs()

    class ShequnServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads: a page keeps answering while an upload's import runs in the background.
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)

        def load(self):
            return application

    ShequnServer().run()


@click.command(
    help=_("Serve the web app with a production server (gunicorn; static files included).")
)
@click.option("--host", default="127.0.0.1", show_default=True, help=_("Address to listen on."))
@click.option("--port", default=8000, show_default=True, help=_("Port to listen on."))
@click.option("--workers", default=2, show_default=True, help=_("Worker processes."))
def serve(host: str, port: int, workers: int) -> None:
    bootstrap()
    _collect_static()
    console.print(
        _("Serving on http://%(host)s:%(port)d/ (Ctrl+C to stop)") % {"host": host, "port": port}
    )
    run_server(host, port, workers)


@click.command(
    help=_(
        "Start a demo: a fresh database, the bundled real sample community imported, a demo login, "
        "and the web app served."
    )
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=_("Where to keep the demo database (default: a new temporary folder)."),
)
@click.option("--host", default="127.0.0.1", show_default=True, help=_("Address to listen on."))
@click.option("--port", default=8000, show_default=True, help=_("Port to listen on."))
@click.option("--no-serve", is_flag=True, help=_("Prepare the demo, print the login, and exit."))
def demo(data_dir: Path | None, host: str, port: int, no_serve: bool) -> None:
    directory = data_dir or Path(tempfile.mkdtemp(prefix="shequn-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["SHEQUN_DATA_DIR"] = str(directory)
    # The demo always uses its own SQLite file, never a configured production database.
    os.environ.pop("DATABASE_URL", None)
    bootstrap()
    from shequn.accounts.services import set_demo_operator
    from shequn.cli.importing import print_summary
    from shequn.demo import load_demo_communities

    def announce(community) -> None:
        console.print(
            _("Importing the bundled sample into '%(slug)s' …") % {"slug": community.slug}
        )

    for _community, summary in load_demo_communities(announce):
        print_summary(summary)
    password = secrets.token_urlsafe(9)
    set_demo_operator(username="demo", password=password)
    _collect_static()
    url = f"http://{host}:{port}/"
    console.rule(_("shequn demo"))
    console.print(_("Data directory: %(dir)s") % {"dir": directory})
    console.print(
        _("Open %(url)s and log in as 'demo' with password '%(password)s'.")
        % {"url": url, "password": password}
    )
    console.print(SAMPLE_ATTRIBUTION)
    if no_serve:
        return
    run_server(host, port, workers=2)


@click.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    help=_("Run a Django management command (e.g. shequn manage createsuperuser)."),
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def manage(arguments: tuple[str, ...]) -> None:
    bootstrap(migrate=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shequn manage", *arguments])
