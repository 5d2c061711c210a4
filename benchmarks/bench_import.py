#!/usr/bin/env python
"""Import throughput and memory of large synthetic exports, per format, against raw bulk insert.

    python benchmarks/bench_import.py                          # ChatLab, 1M messages, both DBs
    python benchmarks/bench_import.py --format all --messages 200000
    python benchmarks/bench_import.py --format slack,qq --messages 100000 --databases sqlite
    python benchmarks/bench_import.py --rss-only-scaling       # peak RSS at 200k and 1M messages

For each format (``--format``, default chatlab; the generators are in ``generate_formats.py``)
and each database, in a fresh child process (so peak RSS is that run's own):

1. migrate an empty database (in a process of its own), create a community, import the
   generated export with ``shequn.interactions.services.do_import`` and record the wall time,
   events/s (events read / seconds) and the peak RSS (the kernel's VmHWM, reset just before the
   import; see ``peak_rss_mb``), read right after the import, before anything else allocates;
2. read back every event row the import stored (the columns of ``writers.EVENT_COLUMNS``, in
   insertion order) into memory, empty the events table (members, identities and the import run
   stay, so foreign keys hold), and time only the raw bulk insert of exactly those rows and its
   commit: SQLite ``executemany`` of a plain ``INSERT`` in one transaction on the raw ``sqlite3``
   connection, PostgreSQL ``COPY ... FROM STDIN`` with ``write_row`` in one transaction.

The ratio import events/s / raw rows/s says how close the whole import (parsing, member
creation, duplicate handling, reply targets, rollups) comes to the cheapest possible insert of
its rows into the same table with the same indexes. Reading the rows back makes the baseline the
same for every format and always in step with what the importer stores.

PostgreSQL: ``--postgres-url`` (default ``$BENCH_POSTGRES_URL`` or
postgres://postgres@127.0.0.1:5432/shequn_bench); the database is dropped and created by this
script, so point it at a throw-away name. Skipped with a message when the server is unreachable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/shequn_bench"
)
TIME_ZONE = "Asia/Shanghai"
GOAL_RATIO = 0.40
GOAL_RSS_MB = 400


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process (Linux >= 4.0), so that VmHWM then
    measures what follows only. False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak RSS.

    On Linux the kernel's VmHWM: ``ru_maxrss`` of a child started by ``subprocess`` (vfork +
    exec) starts at the *parent's* high-water mark, so it would report the benchmark driver's
    memory rather than the import's. Elsewhere ``ru_maxrss``.
    """
    hwm = vm_hwm_mb()
    if hwm is not None:
        return hwm
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / 1024 / 1024 if sys.platform == "darwin" else value / 1024  # bytes vs KiB


# --------------------------------------------------------------------------------------- child
def child_main(spec: dict) -> dict:
    """Runs in a fresh interpreter whose environment already names the database."""
    import django

    sys.path.insert(0, spec.get("src") or str(REPO / "src"))
    django.setup()
    if spec.get("migrate_only"):
        # Its own process, so that migrate's memory does not count in the import's peak RSS.
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        return {"migrated": True}
    from django.db import connection

    from shequn.communities.services import do_create_community
    from shequn.interactions.services import do_import

    rss_before = peak_rss_mb()
    community = do_create_community(slug="bench", name="Benchmark", time_zone=TIME_ZONE)
    hwm_setup = vm_hwm_mb()
    hwm_reset = reset_peak_rss()
    load_before = os.getloadavg()[0]
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    summary = do_import(
        community,
        spec["file"],
        format_name=spec["format"],
        options=spec.get("options"),
        recompute=False,  # the import alone; tiers and points have their own benchmark
    )
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    # Before the raw baseline allocates its rows. The process peak includes Django's setup; the
    # import's own peak is the high-water mark since it was reset just before the import.
    import_hwm = vm_hwm_mb() if hwm_reset else None
    rss_peak = max(hwm_setup or 0.0, import_hwm or 0.0) if hwm_reset else peak_rss_mb()
    ru_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load_after = os.getloadavg()[0]
    result = {
        "format": spec["format"],
        "database": connection.vendor,
        "file": spec["file"],
        "file_mb": size_of(Path(spec["file"])) / 1e6,
        "events_read": summary.events_read,
        "events_added": summary.events_added,
        "members_new": summary.members_new,
        "seconds": seconds,
        "pipeline_seconds": summary.seconds,
        "events_per_s": summary.events_read / seconds,
        "peak_rss_mb": rss_peak,
        "rss_after_setup_mb": rss_before,
        "hwm_setup_mb": hwm_setup,
        # the high-water mark reset just before the import: the import's own peak
        "import_peak_rss_mb": import_hwm,
        "ru_maxrss_mb": ru_maxrss,  # for reference; see peak_rss_mb()
        "server_version": server_version(connection),
        "profiled": bool(profiler),
        # 1-minute load average before and after the import: other work on the machine skews
        # the figures; compare runs made on a quiet machine only.
        "load_before": load_before,
        "load_after": load_after,
    }
    if spec.get("raw", True):
        result.update(raw_baseline())
        result["ratio"] = result["events_per_s"] / result["raw_rows_per_s"]
        if result["raw_rows"] != summary.events_read:
            result["warning"] = (
                f"the import read {summary.events_read:,} events but stored "
                f"{result['raw_rows']:,} (duplicates in the file?): the raw baseline inserts "
                "the stored rows only"
            )
    return result


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def server_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        return str(cursor.fetchone()[0])


def raw_baseline() -> dict:
    """Read back the rows the import stored, empty the table, time the raw insert of those rows.

    The rows are read in insertion order (``ORDER BY id``) with the values a bulk writer would
    send: on SQLite through a plain ``sqlite3`` connection (no Django converters), so datetimes
    and days stay the naive UTC text Django stores; on PostgreSQL aware datetimes, dates, and
    JSON as text (the import's writer sends JSON text too). Only the insert and its commit are
    timed, in one transaction, into the same table with the same indexes and constraints.
    """
    from django.db import connection

    from shequn.interactions.importers.writers import EVENT_COLUMNS, event_table

    table = event_table()
    columns = ", ".join(EVENT_COLUMNS)
    select = f"SELECT {columns} FROM {table} ORDER BY id"
    sqlite = connection.vendor == "sqlite"
    connection.ensure_connection()
    raw = connection.connection

    started = time.perf_counter()
    if sqlite:
        reader = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            rows = reader.execute(select).fetchall()
        finally:
            reader.close()
        raw.execute(f"DELETE FROM {table}")
        raw.execute("VACUUM")  # the import started on an empty file too; do not reuse its pages
    else:
        from psycopg.types.string import TextLoader

        with raw.cursor() as cursor:
            cursor.adapters.register_loader("json", TextLoader)
            cursor.adapters.register_loader("jsonb", TextLoader)
            cursor.execute(select)
            rows = cursor.fetchall()
            cursor.execute(f"TRUNCATE {table}")
    read_seconds = time.perf_counter() - started

    # Django keeps the raw connections in autocommit mode: BEGIN and COMMIT by hand, so that
    # everything is one transaction, like the import.
    cursor = raw.cursor()
    started = time.perf_counter()
    if sqlite:
        placeholders = ", ".join("?" for _ in EVENT_COLUMNS)
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
    else:
        cursor.execute("BEGIN")
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
    before_commit = time.perf_counter()
    cursor.execute("COMMIT")  # PostgreSQL runs Django's deferred foreign-key checks here
    insert_seconds = time.perf_counter() - started
    commit_seconds = time.perf_counter() - before_commit
    cursor.close()

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        stored = cursor.fetchone()[0]
    if stored != len(rows):
        raise RuntimeError(f"raw insert stored {stored} rows, expected {len(rows)}")
    return {
        "raw_rows": len(rows),
        "raw_read_seconds": read_seconds,
        "raw_seconds": insert_seconds,
        "raw_commit_seconds": commit_seconds,
        "raw_rows_per_s": len(rows) / insert_seconds,
    }


# -------------------------------------------------------------------------------------- parent
def machine_info(pg_version: str | None, src: Path = REPO / "src") -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import django
    import orjson
    import psycopg

    try:
        revision = subprocess.run(
            ["git", "-C", str(src), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        revision = f"{src} (not a git checkout)"
    if revision.endswith("-dirty"):
        # Which uncommitted state of the import path was measured: a digest of ``git diff src``.
        try:
            diff = subprocess.run(
                ["git", "-C", str(src), "diff", "HEAD", "--", "."],
                capture_output=True,
                check=True,
            ).stdout
            if diff:
                revision += f" (src diff sha256 {hashlib.sha256(diff).hexdigest()[:12]})"
        except (OSError, subprocess.CalledProcessError):
            pass
    return {
        "date": dt.date.today().isoformat(),
        "shequn": revision,
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": pg_version or "not reachable",
        "Django": django.get_version(),
        "psycopg": psycopg.__version__,
        "orjson": orjson.__version__,
    }


def pg_admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "shequn_bench"
    return urlunsplit(parts._replace(path="/postgres")), name


def pg_server_version(url: str) -> str | None:
    import psycopg

    admin, _ = pg_admin_url(url)
    try:
        with psycopg.connect(admin, connect_timeout=5) as conn:
            return conn.execute("show server_version").fetchone()[0]
    except psycopg.Error:
        return None


def pg_recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    admin, name = pg_admin_url(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_file(work_dir: Path, format_name: str, messages: int, members: int, seed: int) -> Path:
    """Generate (or reuse, from ``work_dir``) the export; return the path to import."""
    sys.path.insert(0, str(HERE))
    from generate_formats import generate, import_path, output_name

    path = work_dir / output_name(format_name, messages, members, seed)
    if path.exists():
        print(f"reusing {path} ({size_of(path) / 1e6:.0f} MB)")
        return import_path(format_name, path)
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".partial")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    counts = generate(format_name, tmp, messages=messages, members=members, seed=seed)
    tmp.rename(path)
    summary = ", ".join(f"{value:,} {key}" for key, value in counts.items())
    print(
        f"generated {path}: {summary}, {size_of(path) / 1e6:.0f} MB "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return import_path(format_name, path)


def run_child(format_name: str, database: str, file: Path, args, *, raw: bool) -> dict | None:
    from generate_formats import FORMATS

    tag = f"[{format_name}/{database}]"
    data_dir = Path(tempfile.mkdtemp(prefix=f"shequn-bench-{database}-"))
    env = dict(os.environ)
    env.update(
        {
            "SHEQUN_DATA_DIR": str(data_dir),
            "SHEQUN_SECRET_KEY": "benchmark-not-secret",
            "DJANGO_SETTINGS_MODULE": "shequn.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(args.src), env.get("PYTHONPATH")])),
        }
    )
    if args.batch_size:
        env["SHEQUN_IMPORT_BATCH_SIZE"] = str(args.batch_size)
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    else:
        pg_recreate(args.postgres_url)
        env["DATABASE_URL"] = args.postgres_url
    profile = None
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        profile = str(args.profile / f"import-{database}-{file.stem}.prof")
    spec = json.dumps(
        {
            "src": str(args.src),
            "file": str(file),
            "format": format_name,
            "options": FORMATS[format_name].options,
            "raw": raw,
            "profile": profile,
        }
    )
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    print(f"{tag} migrating, then importing {file.name} ...", flush=True)
    try:
        proc = subprocess.run(
            [*command, json.dumps({"migrate_only": True, "src": str(args.src)})],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            proc = subprocess.run(
                [*command, spec], env=env, capture_output=True, text=True, check=False
            )
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database == "postgresql":
                pg_recreate(args.postgres_url, drop_only=True)
        else:
            print(f"{tag} kept: {data_dir if database == 'sqlite' else args.postgres_url}")
    if proc.returncode != 0:
        print(f"{tag} FAILED (exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}")
        return None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    line = (
        f"{tag} {result['events_read']:,} events in {result['seconds']:.1f} s "
        f"({result['events_per_s']:,.0f}/s; {result['seconds'] - result['pipeline_seconds']:.1f} s "
        f"of it after the pipeline's clock: commit, deferred FK checks), "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
        + (
            f" (the import's own high-water mark {result['import_peak_rss_mb']:.0f} MB)"
            if result.get("import_peak_rss_mb")
            else ""
        )
    )
    if "raw_rows_per_s" in result:
        line += (
            f"; raw {result['raw_rows']:,} rows in {result['raw_seconds']:.1f} s "
            f"(commit {result['raw_commit_seconds']:.1f} s) "
            f"({result['raw_rows_per_s']:,.0f}/s), ratio {result['ratio']:.0%}"
        )
    print(line, flush=True)
    busy = os.cpu_count() or 1
    if max(result["load_before"], result["load_after"]) > 0.75 * busy + 1:
        print(
            f"{tag} NOTE: load average {result['load_before']:.1f} -> "
            f"{result['load_after']:.1f} on {busy} cores: something else was running, "
            "the figures are pessimistic"
        )
    if result.get("warning"):
        print(f"{tag} WARNING: {result['warning']}")
    if profile:
        import pstats

        print(f"{tag} profile written to {profile} (timings inflated by cProfile); top 25:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return result


def print_machine(info: dict[str, str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Machine", show_header=False)
    for key, value in info.items():
        table.add_row(key, value)
    Console(width=max(120, shutil.get_terminal_size().columns)).print(table)


def _label(r: dict) -> str:
    label = f"{r['database']} {r['server_version'].split()[0]}"
    if r.get("repeats", 1) > 1:
        label += f" #{r['run']}"
    return label


def print_results(results: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Import vs raw bulk insert")
    for column in (
        "format",
        "database",
        "messages",
        "file MB",
        "events",
        "seconds",
        "events/s",
        "raw s",
        "raw rows/s",
        "ratio",
        "peak RSS MB",
    ):
        table.add_column(column, justify="left" if column in ("format", "database") else "right")
    for r in results:
        ratio = r.get("ratio")
        table.add_row(
            r["format"],
            _label(r),
            f"{r['messages']:,}",
            f"{r['file_mb']:.0f}",
            f"{r['events_read']:,}",
            f"{r['seconds']:.1f}",
            f"{r['events_per_s']:,.0f}",
            f"{r['raw_seconds']:.1f}" if "raw_seconds" in r else "-",
            f"{r['raw_rows_per_s']:,.0f}" if "raw_rows_per_s" in r else "-",
            f"{ratio:.1%}" if ratio is not None else "-",
            f"{r['peak_rss_mb']:.0f}",
        )
    Console(width=max(140, shutil.get_terminal_size().columns)).print(table)
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        if r.get("ratio") is not None:
            groups.setdefault((r["format"], r["database"]), []).append(r)
    for (format_name, database), runs in groups.items():
        where = f"  {format_name} on {database}"
        if any(r.get("profiled") for r in runs):
            print(f"{where}: run under cProfile; figures not comparable, no verdict")
            continue
        ratios = sorted(r["ratio"] for r in runs)
        ratio = statistics.median(ratios)
        peak = max(r["peak_rss_mb"] for r in runs)
        spread = (
            f" (median of {len(runs)}: {ratios[0]:.1%}..{ratios[-1]:.1%})" if len(runs) > 1 else ""
        )
        print(
            f"{where}: import at {ratio:.1%} of raw{spread}: throughput goal "
            f"(>= {GOAL_RATIO:.0%}) {'MET' if ratio >= GOAL_RATIO else 'NOT MET'}; "
            f"peak RSS {peak:.0f} MB: RSS goal (< {GOAL_RSS_MB} MB) "
            f"{'MET' if peak < GOAL_RSS_MB else 'NOT MET'}"
        )


def print_scaling(results: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Peak RSS against file size")
    for column in (
        "format",
        "database",
        "messages",
        "file MB",
        "events",
        "seconds",
        "events/s",
        "setup MB",
        "import peak MB",
        "process peak MB",
    ):
        table.add_column(column, justify="left" if column in ("format", "database") else "right")
    for r in results:
        table.add_row(
            r["format"],
            r["database"],
            f"{r['messages']:,}",
            f"{r['file_mb']:.0f}",
            f"{r['events_read']:,}",
            f"{r['seconds']:.1f}",
            f"{r['events_per_s']:,.0f}",
            f"{r['rss_after_setup_mb']:.0f}",
            f"{r['import_peak_rss_mb']:.0f}" if r.get("import_peak_rss_mb") else "-",
            f"{r['peak_rss_mb']:.0f}",
        )
    Console(width=max(140, shutil.get_terminal_size().columns)).print(table)
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["format"], r["database"]), []).append(r)
    for (format_name, database), runs in groups.items():
        runs.sort(key=lambda r: r["messages"])
        small, large = runs[0], runs[-1]
        growth = large["peak_rss_mb"] - small["peak_rss_mb"]
        factor = large["messages"] / small["messages"]
        print(
            f"  {format_name} on {database}: {factor:.0f}x the messages -> peak RSS "
            f"{small['peak_rss_mb']:.0f} -> {large['peak_rss_mb']:.0f} MB ({growth:+.0f} MB); "
            f"goal < {GOAL_RSS_MB} MB "
            f"{'MET' if max(r['peak_rss_mb'] for r in runs) < GOAL_RSS_MB else 'NOT MET'}"
        )


def parse_formats(values: list[str] | None, known: list[str]) -> list[str]:
    """``--format`` values: repeatable and comma-separated; ``all`` is every format."""
    names: list[str] = []
    for value in values or ["chatlab"]:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            for item in known if name == "all" else [name]:
                if item not in names:
                    names.append(item)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown formats: {', '.join(unknown)} (known: {', '.join(known)}, all)")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark shequn's imports, per format, against raw bulk insert."
    )
    parser.add_argument(
        "--format",
        action="append",
        metavar="NAME",
        help="format(s) to generate and import: repeatable or comma-separated, 'all' for every "
        "format (default: chatlab)",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=1_000_000,
        help="messages per format (Stack Exchange: posts and comments)",
    )
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="SHEQUN_IMPORT_BATCH_SIZE for the import (default: the setting's)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each database N times; goals use the median"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite data dir and the PostgreSQL database"
    )
    parser.add_argument(
        "--rss-only-scaling",
        action="store_true",
        help="only import --scaling-sizes files (no raw baseline), compare peak RSS",
    )
    parser.add_argument("--scaling-sizes", default="200000,1000000")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=HERE / "out",
        help="where generated files are cached (default benchmarks/out)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the import under cProfile, write DIR/import-<db>-<export>.prof and "
        "print the top functions (figures are then not comparable)",
    )
    parser.add_argument(
        "--src",
        type=Path,
        default=REPO / "src",
        metavar="DIR",
        help="import shequn from DIR instead of this checkout's src/ (e.g. a commit's src/ from "
        "'git archive'), so the figures belong to one commit while the tree is being edited",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child_main(json.loads(args.child))))
        return 0

    sys.path.insert(0, str(HERE))
    from generate_formats import FORMATS

    try:
        formats = parse_formats(args.format, list(FORMATS))
    except ValueError as exc:
        parser.error(str(exc))
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    pg_version = pg_server_version(args.postgres_url)
    if "postgresql" in databases and pg_version is None:
        print(f"PostgreSQL not reachable at {args.postgres_url}: skipping it.")
        databases.remove("postgresql")
    args.src = args.src.resolve()
    info = machine_info(pg_version, args.src)
    print_machine(info)
    args.work_dir.mkdir(parents=True, exist_ok=True)

    results: list[dict] = []
    if args.rss_only_scaling:
        sizes = [int(s) for s in args.scaling_sizes.split(",")]
        for format_name in formats:
            for size in sizes:
                file = ensure_file(args.work_dir, format_name, size, args.members, args.seed)
                for database in databases:
                    result = run_child(format_name, database, file, args, raw=False)
                    if result:
                        result["messages"] = size
                        results.append(result)
        print_scaling(results)
    else:
        for format_name in formats:
            file = ensure_file(args.work_dir, format_name, args.messages, args.members, args.seed)
            for run in range(1, args.repeat + 1):
                for database in databases:
                    result = run_child(format_name, database, file, args, raw=True)
                    if result:
                        result.update(messages=args.messages, run=run, repeats=args.repeat)
                        results.append(result)
        print_results(results)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2))
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
