"""``shequn serve``, ``shequn demo`` and ``shequn manage``."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import click

from shequn.cli.base import bootstrap, console
from shequn.cli.i18n import _

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample"
# The demo's real sample communities: (profile, sample folder, format, channel override).
DEMO_COMMUNITIES = [
    (
        {
            "slug": "history-meta",
            "name": "History Meta Stack Exchange",
            "carrier": "History Stack Exchange, the Q&A site about history",
            "positioning": (
                "Users of History Stack Exchange who discuss the site's own rules, scope and "
                "governance."
            ),
            "mission": (
                "Keep History Stack Exchange a place for good questions and well-sourced answers."
            ),
            "values_advocated": ["well-sourced answers", "clear scope", "civility"],
            "values_opposed": ["opinion-based questions", "homework dumps"],
        },
        "history-meta-se",
        "stackexchange",
        "history.meta.stackexchange.com",
    ),
    (
        {
            "slug": "houston-datavis",
            "name": "Houston Data Visualization meetup",
            "carrier": "Monthly meetups and a Slack workspace",
            "positioning": "People in Houston who make or want to learn data visualisation.",
            "mission": "Learn data visualisation together and show Houston what data can say.",
            "values_advocated": ["sharing work in progress", "helping newcomers", "open data"],
            "values_opposed": ["gatekeeping"],
            "time_zone": "America/Chicago",
        },
        "houstondatavis-slack-2016",
        "slack",
        None,
    ),
]
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

    from shequn.wsgi import application

    class ShequnServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
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
    from shequn.accounts import set_demo_operator
    from shequn.cli.importing import print_summary
    from shequn.communities.models import Community
    from shequn.communities.services import do_create_community
    from shequn.interactions.services import do_import

    for profile, folder, format_name, channel in DEMO_COMMUNITIES:
        community = Community.objects.filter(slug=profile["slug"]).first()
        if community is None:
            community = do_create_community(**profile)
        console.print(
            _("Importing the bundled sample into '%(slug)s' …") % {"slug": community.slug}
        )
        summary = do_import(
            community, SAMPLE_DIR / folder, format_name=format_name, channel=channel
        )
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
