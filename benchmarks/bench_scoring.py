#!/usr/bin/env python
"""How long recomputing tiers, points and levels takes on a large community.

    python benchmarks/bench_scoring.py                              # 10M events, 50k members
    python benchmarks/bench_scoring.py --events 1000000 --members 5000 --databases sqlite

Builds (once, cached under ``benchmarks/out/``, which git ignores) a database of one community
with ``--members`` members on one channel and ``--events`` interaction events over three years,
written by bulk insert, no importer: each member has a join day, an active span (heavy-tailed:
most stay weeks, a few stay years) and a Zipf-like rate; events are 55 % messages, 25 % replies
to another member active that day, 15 % reactions, 5 % mentions, plus one join per member; then
the daily rollups are built by the same SQL the importer uses.

Every run works on a copy of that database (a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL) and times, each step in a fresh process with its own peak RSS:

* ``baseline``: one aggregating pass over the daily rollups (per member: sums of every counter,
  active days, first and last day): the yardstick the goals are stated against;
* ``baseline weekly`` (reported, not a goal): the same pass over the weekly rollups the tiers
  read since they exist, a stricter yardstick;
* ``tiers first``: the first ``do_recompute_tiers`` of a community, which also folds the reply
  and mention ties and the invitations out of the events (later runs fold only new events);
* ``tiers full``: ``do_recompute_tiers(full=True)`` again: every member's history replayed;
* ``points first award``: the ``default`` preset applied (its rules, then a full award on an
  empty ledger: the one-time cost of switching points on for an existing archive; it writes
  the whole ledger);
* ``points refresh``: every member's balance (the ledger's sum) and level, set-based;
* ``points full rescan``: ``do_award_points(full=True)`` again, which looks at every event and
  must add nothing (a repair, not part of the routine);
* ``incremental``: a ``--increment``-event CSV (existing members, later days) imported without
  recompute, then the incremental points award and tiers recompute that every import triggers.

With ``--reuse-scored`` the copy was scored by whichever checkout made it: a full recompute
runs once untimed first (``tiers settle``), so the timed one finds its own code's rows and
fingerprints, as a community recomputed by this version would.

Goals (issue #5): a full recompute (tiers full + points refresh) within 3x of the baseline
pass; an incremental recompute after a 10k-event import under 2 s on SQLite; peak RSS is
reported.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
DEFAULT_PG_URL = os.environ.get(
    "SHEQUN_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/shequn_bench_scoring"
)
FIRST_DAY = dt.date(2023, 1, 2)
DAYS = 3 * 365
TIME_ZONE = "Asia/Shanghai"
CHANNEL = "bench"  # the CSV importer's channel for a file named bench.csv
GOAL_RATIO = 3.0
GOAL_INCREMENTAL_S = 2.0
EVENT_COLUMNS = [
    "community_id", "channel_id", "member_id", "target_member_id", "kind", "occurred_at", "day",
    "source_id", "parent_source_id", "thread_source_id", "content_type", "text_length", "text",
    "attributes", "identity_id", "target_identity_id", "import_run_id",
]  # fmt: skip


# ------------------------------------------------------------------------------------- memory
def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----------------------------------------------------------------------------------- database
def pg_admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name == "postgres":
        sys.exit("--postgres-url must name a throw-away database: it is dropped and created")
    return urlunsplit(parts._replace(path="/postgres")), name


def pg_execute(url: str, statement: str) -> list[tuple]:
    import psycopg

    admin, _ = pg_admin(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY on PostgreSQL, executemany on SQLite."""
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
    raw = connection.connection
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 50_000:
            raw.executemany(statement, batch)
            count += len(batch)
            batch.clear()
    raw.executemany(statement, batch)
    return count + len(batch)


# ------------------------------------------------------------------------------------ building
def member_plan(rng: random.Random, members: int) -> list[tuple[int, int, float]]:
    """(join day, last day, events per active day) per member, by rank."""
    plan = []
    weights = [1 / (rank + 1) ** 1.1 for rank in range(members)]
    total = sum(weights)
    for rank in range(members):
        join = rng.randrange(DAYS - 7)
        span = min(DAYS - join, max(7, int(rng.paretovariate(0.9) * 20)))
        plan.append((join, join + span - 1, weights[rank] / total))
    return plan


def build(spec: dict) -> dict:
    """Fill the (migrated, empty) database; runs in a child process."""
    from django.db import connection, transaction

    from shequn.communities.models import Channel, Community
    from shequn.interactions.models import InteractionEvent
    from shequn.interactions.rollups import rebuild_community_rollups
    from shequn.members.models import Identity, Member

    events, members, seed = spec["events"], spec["members"], spec["seed"]
    rng = random.Random(seed)
    started = time.perf_counter()
    plan = member_plan(rng, members)
    # Events per member: its share of the total, spread over its active days.
    span_weight = [(last - join + 1) * rate for join, last, rate in plan]
    scale = (events - members) / sum(span_weight)
    counts = [max(1, round(weight * scale)) for weight in span_weight]
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        community = Community.objects.create(slug="bench", name="Benchmark", time_zone=TIME_ZONE)
        channel = Channel.objects.create(
            community=community, platform="csv", external_id=CHANNEL, name=CHANNEL
        )
        member_table, identity_table = Member._meta.db_table, Identity._meta.db_table
        bulk_insert(
            member_table,
            ["community_id", "display_name", "role", "is_bot", "key", "joined_at", "created_at",
             "updated_at", "message_total", "reactions_received_total"],
            (
                (community.pk, f"member {rank}", "founder" if rank == 0 else
                 "operator" if rank < 5 else "member", rank % 500 == 499, "",
                 dt.datetime.combine(FIRST_DAY + dt.timedelta(days=join), dt.time(4), dt.UTC),
                 now, now, 0, 0)
                for rank, (join, _last, _rate) in enumerate(plan)
            ),
        )  # fmt: skip
        member_ids = list(
            Member.objects.filter(community=community).order_by("id").values_list("id", flat=True)
        )
        bulk_insert(
            identity_table,
            ["member_id", "channel_id", "platform_user_id", "handle", "profile", "created_at"],
            ((member_id, channel.pk, f"u{rank}", f"member{rank}", "{}", now)
             for rank, member_id in enumerate(member_ids)),
        )  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in (member_table, identity_table):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT MAX(id) FROM {table}))"
                    )
        identity_of = dict(Identity.objects.filter(channel=channel).values_list("member_id", "id"))
        # Who is around on a day, for reply/reaction/mention targets: members by join day.
        by_join: dict[int, list[int]] = {}
        for rank, (join, _last, _rate) in enumerate(plan):
            by_join.setdefault(join, []).append(rank)

        def target_for(rank: int, day: int) -> int | None:
            for _ in range(4):
                other = min(int(rng.paretovariate(0.8)) - 1, members - 1)
                if other != rank and plan[other][0] <= day <= plan[other][1]:
                    return other
                other = rng.randrange(members)
                if other != rank and plan[other][0] <= day <= plan[other][1]:
                    return other
            return None

        def rows() -> Iterable[tuple]:
            number = 0
            for rank, (join, last, _rate) in enumerate(plan):
                member_id = member_ids[rank]
                identity = identity_of[member_id]
                joined = dt.datetime.combine(
                    FIRST_DAY + dt.timedelta(days=join), dt.time(4), dt.UTC
                )
                number += 1
                yield (
                    community.pk, channel.pk, member_id, None, "join", joined,
                    FIRST_DAY + dt.timedelta(days=join), f"j{rank}", None, None, "", 0, None,
                    None, identity, None, None,
                )  # fmt: skip
                for _ in range(counts[rank]):
                    day = rng.randint(join, last)
                    # UTC times between 00:00 and 15:59 are the same local day in UTC+8.
                    at = dt.datetime.combine(
                        FIRST_DAY + dt.timedelta(days=day), dt.time(0), dt.UTC
                    ) + dt.timedelta(seconds=rng.randrange(16 * 3600))
                    draw = rng.random()
                    kind = (
                        "message" if draw < 0.55 else "reply" if draw < 0.80
                        else "reaction" if draw < 0.95 else "mention"
                    )  # fmt: skip
                    target = target_for(rank, day) if kind != "message" else None
                    if target is None:
                        kind = "message"
                    length = rng.randrange(4, 200) if kind in ("message", "reply") else 0
                    number += 1
                    target_id = member_ids[target] if target is not None else None
                    yield (
                        community.pk, channel.pk, member_id, target_id, kind, at,
                        at.date(), f"e{number}", None, None,
                        "reaction" if kind == "reaction" else "text", length, None, None,
                        identity, identity_of[target_id] if target_id else None, None,
                    )  # fmt: skip

        written = bulk_insert(InteractionEvent._meta.db_table, EVENT_COLUMNS, rows())
        inserted = time.perf_counter() - started
        rebuild_community_rollups(community.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM interactions_memberdailyrollup")
        rollups = cursor.fetchone()[0]
    return {
        "events": written,
        "members": members,
        "rollups": rollups,
        "insert_s": round(inserted, 1),
        "build_s": round(time.perf_counter() - started, 1),
        "last_day": str(FIRST_DAY + dt.timedelta(days=DAYS - 1)),
    }


def write_increment(path: Path, events: int, members: int, seed: int) -> None:
    """A CSV of ``events`` interactions by existing members in the week after the data."""
    rng = random.Random(seed + 1)
    start = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=DAYS), dt.time(1), dt.UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "member_id", "time", "kind", "text", "reply_to"])
        for number in range(events):
            rank = min(int(rng.paretovariate(0.7)) - 1, members - 1)
            at = start + dt.timedelta(seconds=number * 7 * 86400 // events)
            reply = f"x{rng.randrange(number)}" if number and rng.random() < 0.3 else ""
            writer.writerow([f"x{number}", f"u{rank}", at.isoformat(), "message", "hi", reply])


# ---------------------------------------------------------------------------------- the steps
COUNTERS = [
    "messages", "characters", "replies_given", "replies_received", "mentions_given",
    "mentions_received", "reactions_given", "reactions_received", "joins", "leaves", "mutes",
]  # fmt: skip


def baseline_pass(community_id: int) -> int:
    from django.db import connection

    sums = ", ".join(f"SUM({name})" for name in COUNTERS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, {sums}, COUNT(*), MIN(day), MAX(day) "
            "FROM interactions_memberdailyrollup WHERE community_id = %s GROUP BY member_id",
            [community_id],
        )
        return len(cursor.fetchall())


def baseline_weekly_pass(community_id: int) -> int:
    """The same pass over the weekly rollups (per member: every counter, weeks, first and last
    week), through the member table as the tiers read them (the table has no community index)."""
    from django.db import connection

    sums = ", ".join(f"SUM({name})" for name in COUNTERS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, {sums}, COUNT(*), MIN(week), MAX(week) "
            "FROM interactions_memberweeklyrollup WHERE member_id IN"
            " (SELECT id FROM members_member WHERE community_id = %s) GROUP BY member_id",
            [community_id],
        )
        return len(cursor.fetchall())


def run_step(spec: dict) -> dict:
    """One step in this (child) process: returns seconds, peak RSS and what the step reports."""
    import django

    django.setup()
    from shequn.communities.models import Community

    if spec["step"] in ("build", "migrate"):
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        return build(spec) if spec["step"] == "build" else {}
    community = Community.objects.get(slug="bench")
    if spec["step"] == "increment-import":
        from shequn.interactions.services import do_import

        summary = do_import(community, spec["file"], format_name="csv", recompute=False)
        return {"events": summary.events_created if hasattr(summary, "events_created") else None}
    # The code a step runs is imported before the clock starts, as in a server or a command
    # that imports and then recomputes: loading modules (numpy's alone takes 0.2 s) is no part
    # of a recompute.
    from shequn.rewards import engine as _rewards_engine  # noqa: F401
    from shequn.rewards import services as _rewards_services  # noqa: F401
    from shequn.tiers import services as _tiers_services  # noqa: F401

    reset_peak_rss()
    started = time.perf_counter()
    detail: Any = None
    if spec["step"] == "baseline":
        detail = {"members": baseline_pass(community.pk)}
    elif spec["step"] == "baseline-weekly":
        detail = {"members": baseline_weekly_pass(community.pk)}
    elif spec["step"] in ("tiers-first", "tiers-settle", "tiers-full"):
        from shequn.tiers.services import do_recompute_tiers

        detail = _fields(do_recompute_tiers(community, full=True))
    elif spec["step"] == "points-refresh":
        from django.db import transaction

        from shequn.rewards.engine import refresh_member_points

        with transaction.atomic():
            refresh_member_points(community)
        detail = {}
    elif spec["step"] == "points-first":
        from shequn.rewards.services import do_apply_preset

        # The default rules, then a full award: what switching points on for an archive costs.
        detail = _fields(do_apply_preset(community, "default", actor=None))
    elif spec["step"] == "points-rescan":
        from shequn.rewards.services import do_award_points

        detail = _fields(do_award_points(community, full=True))
    elif spec["step"] == "incremental":
        from shequn.rewards.services import do_award_points
        from shequn.tiers.services import do_recompute_tiers

        points = do_award_points(community)
        middle = time.perf_counter()
        tiers = do_recompute_tiers(community)
        detail = {
            "points": _fields(points),
            "points_s": round(middle - started, 2),
            "tiers": _fields(tiers),
            "tiers_s": round(time.perf_counter() - middle, 2),
        }
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "detail": detail}


def _fields(result: Any) -> Any:
    if hasattr(result, "__dataclass_fields__"):
        return {
            name: (value if isinstance(value, int | float | str | bool | None) else str(value))
            for name, value in vars(result).items()
        }
    return str(result)


def child(spec: dict, env: dict[str, str], label: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"{label}: step {spec['step']} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------- driver
def environment(database_url: str, data_dir: Path, src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "SHEQUN_DATA_DIR": str(data_dir),
            "SHEQUN_SECRET_KEY": "benchmark-not-secret",
            "DJANGO_SETTINGS_MODULE": "shequn.settings",
            "SHEQUN_BENCH_SRC": str(src),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")])),
        }
    )
    return env


def prepare(database: str, args, data_dir: Path) -> str:
    """The URL of a fresh working copy of the cached built database (built first if needed)."""
    key = f"scoring-{args.events}-{args.members}-s{args.seed}"
    if database == "sqlite":
        cached = OUT / f"{key}.sqlite3"
        if not cached.exists():
            building = OUT / f"{key}.building.sqlite3"
            building.unlink(missing_ok=True)
            env = environment(f"sqlite:///{building}", data_dir, args.src)
            print(f"[{database}] building {key} (once) ...", flush=True)
            report = child({**vars_of(args), "step": "build"}, env, database)
            print(f"[{database}] built: {report}", flush=True)
            building.rename(cached)
        work = data_dir / "work.sqlite3"
        shutil.copyfile(cached, work)
        return f"sqlite:///{work}"
    pg_admin(args.postgres_url)  # refuses a database name it must not drop
    template = f"shequn_bench_{key.replace('-', '_')}"
    exists = pg_execute(
        args.postgres_url, f"SELECT 1 FROM pg_database WHERE datname = '{template}'"
    )
    if not exists:
        building_url = urlunsplit(
            urlsplit(args.postgres_url)._replace(path=f"/{template}_building")
        )
        pg_execute(args.postgres_url, f"DROP DATABASE IF EXISTS {template}_building WITH (FORCE)")
        pg_execute(args.postgres_url, f"CREATE DATABASE {template}_building")
        env = environment(building_url, data_dir, args.src)
        print(f"[{database}] building {key} (once) ...", flush=True)
        report = child({**vars_of(args), "step": "build"}, env, database)
        print(f"[{database}] built: {report}", flush=True)
        pg_execute(args.postgres_url, f"ALTER DATABASE {template}_building RENAME TO {template}")
    _, work = pg_admin(args.postgres_url)
    pg_execute(args.postgres_url, f"DROP DATABASE IF EXISTS {work} WITH (FORCE)")
    pg_execute(args.postgres_url, f"CREATE DATABASE {work} TEMPLATE {template}")
    return args.postgres_url


def _scored_template(args) -> str:
    return f"shequn_bench_scoring_{args.events}_{args.members}_s{args.seed}_scored"


def scored_copy_exists(database: str, args, scored: Path) -> bool:
    if database == "sqlite":
        return scored.exists()
    name = _scored_template(args)
    return bool(
        pg_execute(args.postgres_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    )


def use_scored_copy(database: str, args, scored: Path, data_dir: Path) -> None:
    """Replace the fresh working copy with the scored one."""
    if database == "sqlite":
        shutil.copyfile(scored, data_dir / "work.sqlite3")
        return
    _, work = pg_admin(args.postgres_url)
    pg_execute(args.postgres_url, f"DROP DATABASE IF EXISTS {work} WITH (FORCE)")
    pg_execute(args.postgres_url, f"CREATE DATABASE {work} TEMPLATE {_scored_template(args)}")


def keep_scored_copy(database: str, args, scored: Path, data_dir: Path) -> None:
    """Keep the working copy as it is after the first award, for later ``--reuse-scored``."""
    if scored_copy_exists(database, args, scored):
        return
    if database == "sqlite":
        shutil.copyfile(data_dir / "work.sqlite3", scored)
        return
    _, work = pg_admin(args.postgres_url)
    pg_execute(args.postgres_url, f"CREATE DATABASE {_scored_template(args)} TEMPLATE {work}")


def settle_postgres(args) -> None:
    """What autovacuum does on a live server after the first award's 3M-row bulk write: the
    visibility map and statistics, without which every balance is summed from the heap (a
    refresh took 17-22 s right after the award, 0.7 s of it once vacuumed)."""
    import psycopg

    with psycopg.connect(args.postgres_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("VACUUM ANALYZE")


def profiled(args, database: str, step: str) -> dict:
    if not args.profile:
        return {}
    args.profile.mkdir(parents=True, exist_ok=True)
    return {"profile": str(args.profile / f"{database}-{step}.prof")}


def vars_of(args) -> dict:
    return {"events": args.events, "members": args.members, "seed": args.seed}


def run_child(spec_json: str, step: Any) -> int:
    """Run one timed step in this (child) process, under cProfile when the spec names a
    profile file, and print its result as JSON for the parent."""
    sys.path.insert(0, os.environ.get("SHEQUN_BENCH_SRC", str(REPO / "src")))
    spec = json.loads(spec_json)
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(step, spec)
        profiler.dump_stats(spec["profile"])
    else:
        result = step(spec)
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--increment", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument("--src", type=Path, default=REPO / "src")
    parser.add_argument(
        "--skip-rescan", action="store_true", help="leave out the points full rescan (slow)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the timed steps under cProfile, writing DIR/<database>-<step>.prof"
        " (the figures are then inflated)",
    )
    parser.add_argument(
        "--reuse-scored",
        action="store_true",
        help="start from a cached copy of the database as it was after the first tiers run and"
        " the first points award (made by the first run with this option: a file on SQLite, a"
        " template database on PostgreSQL), leaving those two one-time steps out: for timing"
        " the recomputes again after a change",
    )
    args = parser.parse_args(argv)
    if args.child:
        return run_child(args.child, run_step)
    OUT.mkdir(exist_ok=True)
    results = []
    for database in [name.strip() for name in args.databases.split(",") if name.strip()]:
        data_dir = Path(tempfile.mkdtemp(prefix=f"shequn-scoring-{database}-"))
        try:
            url = prepare(database, args, data_dir)
            env = environment(url, data_dir, args.src)
            row: dict[str, Any] = {"database": database}
            steps = (
                "baseline", "baseline-weekly", "tiers-first", "tiers-settle", "tiers-full",
                "points-first", "points-refresh", "points-rescan",
            )  # fmt: skip
            skipped = {"points-rescan"} if args.skip_rescan else set()
            skipped.add("tiers-settle")  # only after starting from a scored copy
            scored = OUT / f"scoring-{args.events}-{args.members}-s{args.seed}.scored.sqlite3"
            reuse = args.reuse_scored
            if reuse and scored_copy_exists(database, args, scored):
                use_scored_copy(database, args, scored, data_dir)
                skipped |= {"tiers-first", "points-first"}
                skipped.discard("tiers-settle")
                print(f"[{database}] starting from the scored copy", flush=True)
            # A database cached by an older checkout gets this one's later migrations.
            child({"step": "migrate"}, env, database)
            for step in steps:
                if step in skipped:
                    row[step] = {"seconds": float("nan"), "peak_rss_mb": 0.0}
                    continue
                print(f"[{database}] {step} ...", flush=True)
                row[step] = child({"step": step, **profiled(args, database, step)}, env, database)
                print(f"[{database}] {step}: {row[step]}", flush=True)
                if step == "points-first" and database == "postgresql":
                    settle_postgres(args)
                if reuse and step == "points-first":
                    keep_scored_copy(database, args, scored, data_dir)
            increment = data_dir / f"{CHANNEL}.csv"
            write_increment(increment, args.increment, args.members, args.seed)
            child({"step": "increment-import", "file": str(increment)}, env, database)
            row["incremental"] = child(
                {"step": "incremental", **profiled(args, database, "incremental")}, env, database
            )
            print(f"[{database}] incremental: {row['incremental']}", flush=True)
            results.append(row)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database == "postgresql":
                _, work = pg_admin(args.postgres_url)
                pg_execute(args.postgres_url, f"DROP DATABASE IF EXISTS {work} WITH (FORCE)")
    print()
    print(f"{args.events:,} events, {args.members:,} members")
    print(
        "| database | baseline pass s | weekly pass s | tiers first s | tiers full s "
        "| points first award s | points refresh s | points rescan s | full recompute / baseline "
        "| / weekly pass | incremental s (points + tiers) | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        base = row["baseline"]["seconds"]
        full = row["tiers-full"]["seconds"] + row["points-refresh"]["seconds"]
        steps = [key for key in row if isinstance(row[key], dict) and "peak_rss_mb" in row[key]]
        peak = max(row[step]["peak_rss_mb"] for step in steps)
        weekly = row["baseline-weekly"]["seconds"]
        print(
            f"| {row['database']} | {base:.2f} | {weekly:.2f} | "
            f"{row['tiers-first']['seconds']:.2f} | "
            f"{row['tiers-full']['seconds']:.2f} | {row['points-first']['seconds']:.2f} | "
            f"{row['points-refresh']['seconds']:.2f} | {row['points-rescan']['seconds']:.2f} | "
            f"{full / base:.1f}x | {full / weekly:.1f}x | {row['incremental']['seconds']:.2f} | "
            f"{peak:.0f} |"
        )
    for row in results:
        base = row["baseline"]["seconds"]
        ratio = (row["tiers-full"]["seconds"] + row["points-refresh"]["seconds"]) / base
        incremental = row["incremental"]["seconds"]
        print(
            f"  {row['database']}: full recompute {ratio:.1f}x the baseline pass: goal (<= "
            f"{GOAL_RATIO:.0f}x) {'MET' if ratio <= GOAL_RATIO else 'NOT MET'}; incremental "
            f"{incremental:.2f} s"
            + (
                f": goal (< {GOAL_INCREMENTAL_S:.0f} s on SQLite) "
                f"{'MET' if incremental < GOAL_INCREMENTAL_S else 'NOT MET'}"
                if row["database"] == "sqlite"
                else ""
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
