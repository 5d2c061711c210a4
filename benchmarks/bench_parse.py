"""Time a format's parser alone (no database) and print a digest of the records it yields.

The digest lets a parser be made faster with proof that it still yields exactly the same
records: run it before and after a change on the same file and compare.

    python benchmarks/bench_parse.py telegram benchmarks/out/telegram-200000-5000-s42 \
        [--option time_zone=Asia/Shanghai] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format")
    parser.add_argument("path", type=Path)
    parser.add_argument("--option", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-digest", action="store_true", help="time the parser only")
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    args = parser.parse_args()

    sys.path.insert(0, str(args.src))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequn.settings")
    os.environ.setdefault("SHEQUN_DATA_DIR", "/tmp/shequn-bench-parse")
    import django

    django.setup()
    from shequn.interactions.importers import source_class

    options = dict(item.split("=", 1) for item in args.option)
    for attempt in range(args.repeat):
        source = source_class(args.format)(args.path, **options)
        digest = hashlib.sha256()
        count = 0
        started = time.perf_counter()
        if args.no_digest:
            for _record in source.records():
                count += 1
        else:
            for record in source.records():
                count += 1
                digest.update(repr(record).encode())
        seconds = time.perf_counter() - started
        print(
            f"{args.format} #{attempt + 1}: {count:,} records in {seconds:.2f} s"
            f" ({count / seconds:,.0f}/s)"
            + ("" if args.no_digest else f" digest {digest.hexdigest()[:16]}")
        )


if __name__ == "__main__":
    main()
