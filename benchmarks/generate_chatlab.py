#!/usr/bin/env python
"""Write a synthetic ChatLab JSONL export (a WeChat group) of any size, streaming.

    python benchmarks/generate_chatlab.py --messages 1000000 --members 5000 -o big.jsonl

What the file looks like, so an import of it behaves like an import of a real group:

* a header line, then one ``member`` line per member, then the messages in time order;
* Zipf-like activity: member k (by rank) sends with probability proportional to 1 / k**s (s=1.1),
  so a few members write most messages and a long tail writes almost nothing;
* ``--reply-share`` of the messages (30 % by default) are replies (type 25) to a recent message,
  most often the last few;
* timestamps spread over ``--years`` years, ascending, with a day/night rhythm (UTC+8 evenings
  busy, 3-6 a.m. nearly silent), quieter weekends and a group that grows busier over time;
* Chinese and English text of varied length, a few "@name" mentions of other members.

Memory stays constant whatever ``--messages`` is: messages are written as they are drawn, and only
a bounded deque of recent message ids is kept for reply targets. Stdlib and orjson only. The
activity model lives in ``synth.py``, shared with the other formats' generators
(``generate_formats.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

try:
    from synth import DAY, START, Activity
except ImportError:  # imported as benchmarks.generate_chatlab
    from benchmarks.synth import DAY, START, Activity


def generate(
    path: Path | str,
    *,
    messages: int,
    members: int,
    years: float = 3.0,
    reply_share: float = 0.3,
    mention_share: float = 0.03,
    zipf_s: float = 1.1,
    seed: int = 42,
    start: int = START,
    group_name: str = "shequn 合成测试群",
) -> dict[str, int]:
    """Write the export to ``path`` and return counts (messages, replies, mentions, members)."""
    activity = Activity(members=members, seed=seed, years=years, zipf_s=zipf_s, start=start)
    dumps = orjson.dumps
    n_replies = n_mentions = 0
    first_id = 7_000_000_000_000_000_000

    with open(path, "wb", buffering=1 << 20) as out:
        header = {
            "_type": "header",
            "chatlab": {
                "version": "0.0.2",
                "exportedAt": activity.end + DAY,
                "generator": "shequn benchmarks/generate_chatlab.py",
            },
            "meta": {
                "name": group_name,
                "platform": "wechat",
                "type": "group",
                "groupId": f"{activity.rng.getrandbits(40)}@chatroom",
            },
        }
        out.write(dumps(header) + b"\n")
        for person in activity.people:
            member = {
                "_type": "member",
                "platformId": person.platform_id,
                "accountName": person.name,
            }
            if person.nickname:
                member["groupNickname"] = person.nickname
            out.write(dumps(member) + b"\n")

        lines: list[bytes] = []
        for m in activity.messages(messages, reply_share=reply_share, mention_share=mention_share):
            sender = m.sender
            text = m.text
            if m.mention is not None:
                text = f"@{m.mention.display}\u2005{text}"
                n_mentions += 1
            message = {
                "_type": "message",
                "platformMessageId": str(first_id + m.index),
                "sender": sender.platform_id,
                "accountName": sender.name,
                "timestamp": m.ts,
                "type": 0,
                "content": text,
            }
            if sender.nickname:
                message["groupNickname"] = sender.nickname
            if m.reply_to is not None:
                # most replies answer one of the last few messages
                message["type"] = 25
                message["replyToMessageId"] = str(first_id + m.reply_to)
                n_replies += 1
            lines.append(dumps(message))
            if len(lines) == 10_000:
                lines.append(b"")
                out.write(b"\n".join(lines))
                lines.clear()
        lines.append(b"")
        out.write(b"\n".join(lines))
    return {"messages": messages, "replies": n_replies, "mentions": n_mentions, "members": members}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--reply-share", type=float, default=0.3)
    parser.add_argument("--mention-share", type=float, default=0.03)
    parser.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent of member activity")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.messages < 1 or args.members < 1:
        parser.error("--messages and --members must be positive")
    started = time.perf_counter()
    counts = generate(
        args.output,
        messages=args.messages,
        members=args.members,
        years=args.years,
        reply_share=args.reply_share,
        mention_share=args.mention_share,
        zipf_s=args.zipf,
        seed=args.seed,
    )
    seconds = time.perf_counter() - started
    size = args.output.stat().st_size
    print(
        f"wrote {args.output}: {counts['messages']:,} messages ({counts['replies']:,} replies, "
        f"{counts['mentions']:,} mentions), {counts['members']:,} members, "
        f"{size / 1e6:.1f} MB in {seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
