#!/usr/bin/env python
"""How fast the members list (and one member's page) answers on a large community.

    python benchmarks/bench_members_page.py                      # 100k members, SQLite
    python benchmarks/bench_members_page.py --members 20000 --days 20
    python benchmarks/bench_members_page.py --database-url postgres://postgres@127.0.0.1:5432/shequn_bench_members

Builds a throw-away database (a temporary SQLite file, or the PostgreSQL database named by
``--database-url``, which is DROPPED and created again: point it at a throw-away name), migrates
it and fills it with bulk inserts, no importer: one community of ``--members`` members (names in
Chinese and English, 1 % bots, some left or muted, 10 % without a join date) with an account on
one of three channels and a third of them on a second, ``--days`` active days per member on
average (heavy-tailed, so a few million daily rollup rows at the defaults), a small second
community beside it, and raw events for a few members (for the member page's timeline).

Then, for the common cases of the list (first page by name, by messages, by last active and by
joined; a name search, an exact platform user id, a channel filter, a role filter, bots and
left members hidden, a deep page and the last page) it times, ``--repeat`` times, and prints
the median and worst:

* ``query``: the list selector alone: count, one page of 50 and its members' channels;
* ``page``: the whole page through Django's test client (as an administrator), with its number
  of SQL queries.

Both phases adapt to the code they find: without the web pages (before they existed) only the
selector is timed, through ``search_members`` and Django's ``Paginator``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PAGE_SIZE = 50
HISTORY_DAYS = 3 * 365
FIRST_DAY = dt.date(2022, 1, 1)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
LATIN = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
]  # fmt: skip


# ------------------------------------------------------------------------------------ database
def pg_recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name == "postgres":
        sys.exit("--database-url must name a throw-away database: it is dropped and created")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """The cheapest insert each database offers: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection

    count = 0
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    placeholders = ", ".join("?" * len(columns))
    raw = connection.connection
    batch: list[Sequence[Any]] = []
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    for row in rows:
        batch.append(row)
        if len(batch) == 50_000:
            raw.executemany(statement, batch)
            count += len(batch)
            batch.clear()
    raw.executemany(statement, batch)
    return count + len(batch)


# ------------------------------------------------------------------------------------ building
def member_name(rng: random.Random, index: int) -> str:
    if rng.random() < 0.6:
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if index % 2 else "")
    return f"{rng.choice(LATIN).title()} {index}"


def build(members: int, days: int, seed: int) -> dict[str, Any]:
    """Fill the database; return what the cases need (ids, a search term)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shequn.communities.models import Channel, Community
    from shequn.interactions.models import InteractionEvent, MemberDailyRollup
    from shequn.members.models import Identity, Member

    rng = random.Random(seed)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        community = Community.objects.create(slug="bench", name="Benchmark")
        other = Community.objects.create(slug="other", name="Other")
        channels = [
            Channel.objects.create(community=community, platform=platform, external_id=f"{i}")
            for i, platform in enumerate(["wechat", "telegram", "discord"])
        ]
        other_channel = Channel.objects.create(community=other, platform="wechat", external_id="o")
        member_table = Member._meta.db_table
        first_id = (Member.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1

        def member_rows() -> Iterable[tuple]:
            for index in range(members):
                joined = FIRST_DAY + dt.timedelta(days=rng.randrange(HISTORY_DAYS))
                joined_at = dt.datetime.combine(joined, dt.time(12), dt.UTC)
                left = rng.random() < 0.08
                yield (
                    community.pk,
                    member_name(rng, index),
                    "founder" if index == 0 else "operator" if index < 20 else "member",
                    rng.random() < 0.01,
                    "",
                    None if rng.random() < 0.1 else joined_at,
                    joined_at + dt.timedelta(days=30) if left else None,
                    joined_at + dt.timedelta(days=10) if not left and rng.random() < 0.03 else None,
                    now,
                    now,
                )
            for index in range(1000):
                yield (other.pk, f"Other {index}", "member", False, "", None, None, None, now, now)

        columns = [
            "community_id", "display_name", "role", "is_bot", "key",
            "joined_at", "left_at", "muted_at", "created_at", "updated_at",
        ]  # fmt: skip
        bulk_insert(member_table, columns, member_rows())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{member_table}', 'id'),"
                    f" (SELECT MAX(id) FROM {member_table}))"
                )
        ids = range(first_id, first_id + members)

        def identity_rows() -> Iterable[tuple]:
            for offset, member_id in enumerate(ids):
                home = rng.randrange(3)
                wanted = [home] + ([(home + 1) % 3] if rng.random() < 0.33 else [])
                for number, channel_index in enumerate(wanted):
                    user_id = str(10_000_000 + offset * 2 + number)
                    yield (
                        member_id,
                        channels[channel_index].pk,
                        user_id,
                        f"user{offset}",
                        "{}",
                        now,
                    )
            for index, member_id in enumerate(range(first_id + members, first_id + members + 1000)):
                yield (member_id, other_channel.pk, f"o{index}", f"user{index}", "{}", now)

        identities = bulk_insert(
            Identity._meta.db_table,
            ["member_id", "channel_id", "platform_user_id", "handle", "profile", "created_at"],
            identity_rows(),
        )

        def rollup_rows() -> Iterable[tuple]:
            for member_id in ids:
                # Pareto-like: most members a few days, a few members most days.
                active = min(HISTORY_DAYS, int(rng.paretovariate(1.3) * days * 0.25))
                for offset in rng.sample(range(HISTORY_DAYS), active):
                    messages = rng.randrange(0, 12)
                    yield (
                        community.pk,
                        member_id,
                        FIRST_DAY + dt.timedelta(days=offset),
                        messages,
                        messages * 30,
                        messages // 3,
                        rng.randrange(3),
                        rng.randrange(2),
                        rng.randrange(2),
                        rng.randrange(4),
                        rng.randrange(4),
                        0,
                        0,
                        0,
                    )

        rollups = bulk_insert(
            MemberDailyRollup._meta.db_table,
            [
                "community_id", "member_id", "day", "messages", "characters", "replies_given",
                "replies_received", "mentions_given", "mentions_received", "reactions_given",
                "reactions_received", "joins", "leaves", "mutes",
            ],
            rollup_rows(),
        )  # fmt: skip

        # Events for the member page: one very active member and a few ordinary ones.
        heavy = first_id + 1
        event_members = [heavy] * 20_000 + [
            member_id for member_id in rng.sample(list(ids), 200) for _ in range(20)
        ]
        identity_of = dict(
            Identity.objects.filter(member_id__in=set(event_members)).values_list("member_id", "id")
        )
        channel_of = dict(
            Identity.objects.filter(member_id__in=set(event_members)).values_list(
                "member_id", "channel_id"
            )
        )

        def event_rows() -> Iterable[tuple]:
            for number, member_id in enumerate(event_members):
                at = dt.datetime.combine(FIRST_DAY, dt.time(0), dt.UTC) + dt.timedelta(
                    minutes=rng.randrange(HISTORY_DAYS * 1440)
                )
                kind = "reply" if number % 4 == 0 else "message"
                target = rng.choice(ids) if kind == "reply" else None
                text = "一段消息 some message text " * rng.randrange(1, 6)
                yield (
                    community.pk, channel_of[member_id], member_id, target, kind, at, at.date(),
                    f"e{number}", None, None, "text", len(text), text, None,
                    identity_of[member_id], None, None,
                )  # fmt: skip

        events = bulk_insert(
            InteractionEvent._meta.db_table,
            [
                "community_id", "channel_id", "member_id", "target_member_id", "kind",
                "occurred_at", "day", "source_id", "parent_source_id", "thread_source_id",
                "content_type", "text_length", "text", "attributes", "identity_id",
                "target_identity_id", "import_run_id",
            ],
            event_rows(),
        )  # fmt: skip
    built = time.perf_counter() - started
    refreshed = None
    try:
        from shequn.interactions.rollups import refresh_member_totals
    except ImportError:
        refresh_member_totals = None  # before the totals were kept on members
    if refresh_member_totals is not None:
        started = time.perf_counter()
        with transaction.atomic():
            refresh_member_totals(community_id=community.pk)
        refreshed = time.perf_counter() - started
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load on PostgreSQL (statistics and the
        # visibility map that index-only scans need); statistics on SQLite.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "community": community,
        "channel": channels[1],
        "heavy_member": heavy,
        "members": members,
        "identities": identities,
        "rollups": rollups,
        "events": events,
        "build_s": built,
        "refresh_s": refreshed,
    }


# ------------------------------------------------------------------------------------- timing
def cases(built: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    last_page = str(-(-built["members"] // PAGE_SIZE))
    deep = str(max(1, int(last_page) // 2))
    return [
        ("first page by name", {}),
        ("first page by messages", {"sort": "messages"}),
        ("first page by last active", {"sort": "last_active"}),
        ("first page by joined", {"sort": "joined"}),
        ("search a name part", {"q": "Alice 12"}),
        ("search a common name part", {"q": "王"}),
        ("search a platform user id", {"q": "10000042"}),
        ("channel filter", {"channel": str(built["channel"].pk)}),
        ("channel filter by messages", {"channel": str(built["channel"].pk), "sort": "messages"}),
        ("role filter (operators)", {"role": "operator"}),
        ("no bots, no left/muted, by msgs",
         {"bots": "hide", "status": "current", "sort": "messages"}),
        (f"deep page {deep} by name", {"page": deep}),
        (f"deep page {deep} by messages", {"sort": "messages", "page": deep}),
        (f"last page {last_page} by name", {"page": last_page}),
    ]  # fmt: skip


def measure(function: Callable[[], Any], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def selector_call(community: Any, params: dict[str, str]) -> Callable[[], Any]:
    """The list's database work: the new page selector where there is one, else the old one."""
    try:
        from shequn.members.selectors import MemberFilters, members_page
    except ImportError:
        from django.core.paginator import Paginator

        from shequn.members.selectors import search_members

        def old() -> Any:
            rows = search_members(
                community,
                search=params.get("q", ""),
                role=params.get("role"),
                channel_id=int(params["channel"]) if "channel" in params else None,
                sort=params.get("sort", "name"),
            )
            page = Paginator(rows, PAGE_SIZE).get_page(params.get("page", 1))
            return list(page.object_list)

        return old

    filters = MemberFilters(
        search=params.get("q", ""),
        role=params.get("role", ""),
        channel_id=int(params["channel"]) if "channel" in params else None,
        bots=params.get("bots", ""),
        status=params.get("status", ""),
        sort=params.get("sort", "name"),
    )

    def new() -> Any:
        page = members_page(community, filters, params.get("page", 1))
        return list(page.object_list)

    return new


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30, help="mean active days per member")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL of a THROW-AWAY database (dropped and created); default: a "
        "temporary SQLite file",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="shequn-bench-members-"))
    os.environ["SHEQUN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("SHEQUN_ALLOWED_HOSTS", "testserver,localhost")
    os.environ["DJANGO_SETTINGS_MODULE"] = "shequn.settings"
    if args.database_url:
        pg_recreate(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    call_command("migrate", verbosity=0, interactive=False)
    built = build(args.members, args.days, args.seed)
    community = built["community"]
    vendor = connection.vendor
    print(
        f"{vendor} {connection.Database.sqlite_version if vendor == 'sqlite' else ''}"
        f"{connection.pg_version if vendor == 'postgresql' else ''}: "
        f"{built['members']:,} members, {built['identities']:,} accounts, "
        f"{built['rollups']:,} daily rollups, {built['events']:,} events; "
        f"built in {built['build_s']:.1f} s"
        + (
            f", member totals refreshed in {built['refresh_s']:.2f} s"
            if built["refresh_s"] is not None
            else ""
        )
    )
    try:
        list_url = reverse("web:members", args=[community.slug])
    except NoReverseMatch:
        list_url = None
    admin = get_user_model().objects.create_superuser("bench", password="bench-pass-phrase")
    client = Client()
    client.force_login(admin)

    header = (
        f"{'case':36} {'query ms (median/max)':>22} {'page ms (median/max)':>21} {'queries':>7}"
    )
    print(header)
    print("-" * len(header))
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        for name, params in cases(built):
            call = selector_call(community, params)
            call()  # warm the caches once
            q_median, q_max = measure(call, args.repeat)
            page_text, queries = "-", "-"
            if list_url:
                url = f"{list_url}?{urlencode(params)}"
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                with CaptureQueriesContext(connection) as captured:
                    client.get(url)
                queries = str(len(captured))
                p_median, p_max = measure(lambda url=url: client.get(url), args.repeat)
                page_text = f"{p_median:8.1f} / {p_max:8.1f}"
            print(f"{name:36} {q_median:10.1f} / {q_max:8.1f} {page_text:>21} {queries:>7}")
        try:
            member_url = reverse("web:member", args=[community.slug, built["heavy_member"]])
        except NoReverseMatch:
            member_url = None
        if member_url:
            for label, url in (
                ("member page (20k events)", member_url),
                ("member page, timeline page 100", f"{member_url}?page=100"),
            ):
                assert client.get(url).status_code == 200
                with CaptureQueriesContext(connection) as captured:
                    client.get(url)
                queries = len(captured)  # before the next request empties the query log
                p_median, p_max = measure(lambda url=url: client.get(url), args.repeat)
                page_text = f"{p_median:8.1f} / {p_max:8.1f}"
                print(f"{label:36} {'-':>22} {page_text:>21} {queries:>7}")
    connection.close()
    if args.keep:
        print(f"kept: {args.database_url or data_dir}")
        return
    if args.database_url:
        pg_recreate(args.database_url, drop_only=True)
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
