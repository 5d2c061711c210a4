#!/usr/bin/env python
"""How long a community diagnosis (社群诊断) takes on a large community.

    python benchmarks/bench_insights.py                              # 10M events, 50k members
    python benchmarks/bench_insights.py --events 200000 --members 2000 --databases sqlite

Works on the community that ``bench_scoring.py`` builds (and caches under ``benchmarks/out/``:
a SQLite file, a PostgreSQL template database; built here first if it is not there yet): one
channel, ``--members`` members, ``--events`` events over three years and their daily rollups.
Every run takes a fresh copy, migrates it and computes the tiers once (bench_scoring's
``tiers-first`` step, untimed here: the diagnosis reads the tier history), then times, each
step in a fresh process with its own peak RSS:

* ``probe`` (not a goal): the period's end as the report command picks it by default
  (``default_end``: the day after the last event) and the first event's day;
* ``30 days``: ``diagnose`` of the 30 days before that end (the default period);
* ``365 days``: the same with ``days=365``;
* ``whole span``: the same over every day from the first event on;
* ``render``: ``render_report_html`` of the 30-day diagnosis (English; the stored history of
  30-day periods, empty on a fresh copy), with the HTML's size.

Each diagnosis step also lists its SQL statements, slowest first (seconds, the insights
function that ran it), from an execute wrapper on every connection the step opens (the
diagnosis reads on worker threads too, so the seconds are summed over threads and may exceed
the step's). A statement's time is its ``execute``: on SQLite, rows a statement produces only
as they are fetched (a ``DISTINCT`` read along an index) are not in it; the profile has them
under ``fetchall``. ``--profile DIR`` runs the steps under cProfile
(``DIR/<database>-<step>.prof``, the figures are then inflated) and prints each profile's top
functions; there the diagnosis runs inside a transaction, so that what it reads on worker
threads otherwise (unseen by cProfile) it reads in turn on the profiled thread.

Goals (issue #7): every step under 60 s and 4 GB peak RSS at 10M events / 50k members.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_scoring  # noqa: E402  (the builder, copies and measurement helpers)

GOAL_SECONDS = 60.0
GOAL_RSS_MB = 4 * 1024.0
STEPS = ("diagnose-30", "diagnose-365", "diagnose-span", "render")
LABELS = {
    "probe": "default end and first day (default_end, MIN(day))",
    "diagnose-30": "diagnose, 30 days (the default period)",
    "diagnose-365": "diagnose, 365 days",
    "diagnose-span": "diagnose, the whole span",
    "render": "render_report_html of the 30-day diagnosis",
}


# ---------------------------------------------------------------------------------- the steps
class QueryLog:
    """Seconds per SQL statement and the insights function that issued it."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            caller = "?"
            for frame in inspect.stack(0)[2:]:
                if "/shequn/" in frame.filename and "/django/" not in frame.filename:
                    caller = f"{Path(frame.filename).stem}.{frame.function}"
                    break
            self.rows.append(
                {
                    "seconds": round(seconds, 3),
                    "caller": caller,
                    "thread": threading.current_thread().name,
                    "sql": " ".join(sql.split()),
                }
            )

    def attach(self, sender, connection, **kwargs) -> None:
        """``connection_created`` receiver: the connections that worker threads open."""
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)

    @contextlib.contextmanager
    def everywhere(self):
        """Log every connection of this process, this thread's and those opened meanwhile."""
        from django.db import connection
        from django.db.backends.signals import connection_created

        connection_created.connect(self.attach, weak=False)
        connection.execute_wrappers.append(self)
        try:
            yield self
        finally:
            connection.execute_wrappers.remove(self)
            connection_created.disconnect(self.attach)

    def slowest(self, count: int = 12) -> list[dict[str, Any]]:
        return sorted(self.rows, key=lambda row: -row["seconds"])[:count]

    def by_caller(self) -> dict[str, list[float]]:
        """Function -> [seconds, statements], most seconds first."""
        totals: dict[str, list[float]] = {}
        for row in self.rows:
            total = totals.setdefault(row["caller"], [0.0, 0])
            total[0] += row["seconds"]
            total[1] += 1
        ranked = sorted(totals.items(), key=lambda item: -item[1][0])
        return {caller: [round(seconds, 2), count] for caller, (seconds, count) in ranked}


def run_step(spec: dict) -> dict:
    """One step in this (child) process: returns seconds, peak RSS and what the step reports."""
    import django

    django.setup()
    from django.db import transaction

    from shequn.communities.models import Community

    community = Community.objects.get(slug="bench")
    step = spec["step"]
    log = QueryLog()
    detail: dict[str, Any] = {}
    if step == "render":
        from shequn.insights.render import render_report_html
        from shequn.insights.selectors import history

        data = json.loads(Path(spec["data"]).read_text(encoding="utf-8"))
        bench_scoring.reset_peak_rss()
        started = time.perf_counter()
        html = render_report_html(
            data, history(community, days=data["period"]["days"]), language="en"
        )
        seconds = time.perf_counter() - started
        detail["html_bytes"] = len(html.encode("utf-8"))
        Path(spec["data"]).with_suffix(".html").write_text(html, encoding="utf-8")
        return {"seconds": seconds, "peak_rss_mb": bench_scoring.peak_rss_mb(), "detail": detail}
    if step == "probe":
        from django.db.models import Min

        from shequn.insights.selectors import default_end
        from shequn.interactions.models import InteractionEvent

        bench_scoring.reset_peak_rss()
        started = time.perf_counter()
        end = default_end(community)
        middle = time.perf_counter()
        first = InteractionEvent.objects.filter(community=community).aggregate(first=Min("day"))
        seconds = time.perf_counter() - started
        detail = {
            "end": end.isoformat(),
            "first_day": first["first"].isoformat(),
            "default_end_s": round(middle - started, 2),
        }
        return {"seconds": seconds, "peak_rss_mb": bench_scoring.peak_rss_mb(), "detail": detail}
    from shequn.insights.diagnosis import diagnose

    end, days = dt.date.fromisoformat(spec["end"]), spec["days"]
    bench_scoring.reset_peak_rss()
    started = time.perf_counter()
    # Under the profiler the diagnosis runs inside a transaction, where it reads in turn on this
    # thread what it otherwise reads on worker threads (which cProfile would not see).
    serial = transaction.atomic() if spec.get("profile") else contextlib.nullcontext()
    with log.everywhere(), serial:
        data = diagnose(community, end, days=days)
    seconds = time.perf_counter() - started
    peak = bench_scoring.peak_rss_mb()
    text = json.dumps(data, ensure_ascii=False)
    if spec.get("data"):
        Path(spec["data"]).write_text(text, encoding="utf-8")
    detail = {
        "period": data["period"],
        "verdict": data["verdict"],
        "active": data["active"],
        "network_members": data["network"]["members"],
        "ties": data["network"]["ties"],
        "json_bytes": len(text.encode("utf-8")),
        "queries": len(log.rows),
        "sql_s": round(sum(row["seconds"] for row in log.rows), 2),  # summed over threads
        "threads": len({row["thread"] for row in log.rows}),
        "by_caller": log.by_caller(),
        "slowest": log.slowest(),
    }
    return {"seconds": seconds, "peak_rss_mb": peak, "detail": detail}


def child(spec: dict, env: dict[str, str], label: str) -> dict:
    """``bench_scoring.child`` for this script's steps (that one runs bench_scoring's)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"{label}: step {spec['step']} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------- driver
def short(row: dict) -> str:
    figures = f"{row['seconds']:.2f} s, peak RSS {row['peak_rss_mb']:.0f} MB"
    detail = {
        key: value
        for key, value in row.get("detail", {}).items()
        if key not in ("slowest", "by_caller")
    }
    return f"{figures} {json.dumps(detail, ensure_ascii=False)}"


def print_profile(path: Path, count: int = 25) -> None:
    import pstats

    print(f"\n--- {path.name}: top {count} by cumulative time")
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=bench_scoring.DEFAULT_PG_URL)
    parser.add_argument("--src", type=Path, default=bench_scoring.REPO / "src")
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help="which timed steps to run (render needs diagnose-30); default: all",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the timed steps under cProfile, writing DIR/<database>-<step>.prof"
        " (the figures are then inflated)",
    )
    parser.add_argument(
        "--keep-report",
        type=Path,
        metavar="DIR",
        help="copy the 30-day diagnosis (JSON) and its HTML report into DIR",
    )
    args = parser.parse_args(argv)
    if args.child:
        return bench_scoring.run_child(args.child, run_step)
    steps = [name.strip() for name in args.steps.split(",") if name.strip()]
    if unknown := set(steps) - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    if "render" in steps and "diagnose-30" not in steps:
        parser.error("render needs diagnose-30")
    bench_scoring.OUT.mkdir(exist_ok=True)
    results = []
    for database in [name.strip() for name in args.databases.split(",") if name.strip()]:
        data_dir = Path(tempfile.mkdtemp(prefix=f"shequn-insights-{database}-"))
        try:
            url = bench_scoring.prepare(database, args, data_dir)
            env = bench_scoring.environment(url, data_dir, args.src)
            # A database cached by an older checkout gets this one's later migrations.
            bench_scoring.child({"step": "migrate"}, env, database)
            print(f"[{database}] setup: tiers first run (untimed) ...", flush=True)
            tiers = bench_scoring.child({"step": "tiers-first"}, env, database)
            print(f"[{database}] setup: tiers first run: {tiers['seconds']:.1f} s", flush=True)
            row: dict[str, Any] = {"database": database}
            row["probe"] = child({"step": "probe"}, env, database)
            print(f"[{database}] probe: {short(row['probe'])}", flush=True)
            end = dt.date.fromisoformat(row["probe"]["detail"]["end"])
            first = dt.date.fromisoformat(row["probe"]["detail"]["first_day"])
            days = {"diagnose-30": 30, "diagnose-365": 365, "diagnose-span": (end - first).days}
            data_file = data_dir / "diagnosis-30.json"
            for step in steps:
                spec: dict[str, Any] = {
                    "step": step,
                    **bench_scoring.profiled(args, database, step),
                }
                if step == "render":
                    spec["data"] = str(data_file)
                else:
                    spec.update(end=end.isoformat(), days=days[step])
                    if step == "diagnose-30":
                        spec["data"] = str(data_file)
                print(f"[{database}] {step} ...", flush=True)
                row[step] = child(spec, env, database)
                print(f"[{database}] {step}: {short(row[step])}", flush=True)
                by_caller = row[step].get("detail", {}).get("by_caller", {})
                for caller, (seconds, count) in list(by_caller.items())[:8]:
                    print(f"    {seconds:8.2f} s  {caller} ({count} statements)", flush=True)
                for query in row[step].get("detail", {}).get("slowest", [])[:8]:
                    print(
                        f"    {query['seconds']:8.3f} s  {query['caller']}: {query['sql'][:110]}",
                        flush=True,
                    )
            if args.keep_report and data_file.exists():
                args.keep_report.mkdir(parents=True, exist_ok=True)
                for path in (data_file, data_file.with_suffix(".html")):
                    if path.exists():
                        shutil.copyfile(path, args.keep_report / f"{database}-{path.name}")
            results.append(row)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database == "postgresql":
                _, work = bench_scoring.pg_admin(args.postgres_url)
                bench_scoring.pg_execute(
                    args.postgres_url, f"DROP DATABASE IF EXISTS {work} WITH (FORCE)"
                )
    if args.profile:
        for row in results:
            for step in steps:
                path = args.profile / f"{row['database']}-{step}.prof"
                if path.exists():
                    print_profile(path)
    print()
    print(f"{args.events:,} events, {args.members:,} members")
    print("| step | database | seconds | peak RSS MB | goal (< 60 s, < 4 GB) |")
    print("|---|---|---:|---:|---|")
    for row in results:
        for step in ("probe", *steps):
            figures = row[step]
            met = figures["seconds"] < GOAL_SECONDS and figures["peak_rss_mb"] < GOAL_RSS_MB
            extra = (
                f" ({figures['detail']['html_bytes']:,} bytes)"
                if step == "render"
                else f" ({figures['detail']['period']['days']} days)"
                if step.startswith("diagnose")
                else ""
            )
            print(
                f"| {LABELS[step]}{extra} | {row['database']} | {figures['seconds']:.2f} | "
                f"{figures['peak_rss_mb']:.0f} | "
                f"{'–' if step == 'probe' else 'met' if met else 'NOT MET'} |"
            )
    for row in results:
        timed = [row[step] for step in steps]
        slowest = max(figures["seconds"] for figures in timed)
        peak = max(figures["peak_rss_mb"] for figures in timed)
        met = slowest < GOAL_SECONDS and peak < GOAL_RSS_MB
        print(
            f"  {row['database']}: slowest step {slowest:.1f} s, highest peak RSS {peak:.0f} MB:"
            f" goals (< {GOAL_SECONDS:.0f} s, < {GOAL_RSS_MB / 1024:.0f} GB)"
            f" {'MET' if met else 'NOT MET'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
