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
a bounded deque of recent message ids is kept for reply targets. Stdlib only (no numpy).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
import time
from collections import deque
from pathlib import Path

import orjson

DAY = 86_400
HOUR = 3_600
# Activity by local hour (UTC+8, as a Chinese WeChat group): night trough, lunch and evening peaks.
HOUR_WEIGHTS = (
    0.9,
    0.5,
    0.25,
    0.12,
    0.08,
    0.08,
    0.2,
    0.6,
    1.4,
    2.2,
    2.6,
    2.7,
    2.9,
    2.4,
    2.3,
    2.5,
    2.6,
    2.4,
    2.2,
    2.7,
    3.3,
    3.6,
    3.0,
    1.8,
)
LOCAL_OFFSET = 8 * HOUR
# Monday..Sunday
WEEKDAY_WEIGHTS = (1.05, 1.05, 1.05, 1.0, 1.0, 0.8, 0.75)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文斌鹏辉玲燕红云飞宇浩然子轩梓涵"
    "欣怡思远博文雨萱晨阳佳琪俊杰嘉怡一诺"
)
ENGLISH_FIRST = (
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Ivy",
    "Jack",
    "Kate",
    "Leo",
    "Mia",
    "Nick",
    "Olivia",
    "Peter",
    "Quinn",
    "Rose",
    "Sam",
    "Tina",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yuki",
    "Zoe",
    "Amy",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Finn",
    "Gina",
    "Hugo",
    "Iris",
)
ENGLISH_LAST = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Lin",
    "Smith",
    "Lee",
    "Tan",
    "Ng",
    "Ho",
    "Kim",
)
NICK_PREFIX = ("", "", "", "【运营】", "[产品]", "老", "小", "阿")
NICK_SUFFIX = ("", "", "", "_北京", "-上海", "·深圳", "🌟", "(杭州)", "_PM", "-dev")

ZH_PHRASES = (
    "大家好",
    "今天的分享很有收获",
    "谢谢群主",
    "这个问题我也遇到过",
    "可以看看官方文档",
    "周末有线下活动吗",
    "我觉得可以试试",
    "哈哈哈哈",
    "收到",
    "同意楼上",
    "有人知道怎么解决吗",
    "新版本什么时候发布",
    "我这边复现不了",
    "麻烦把日志发一下",
    "这个思路不错",
    "晚上一起吃饭吗",
    "刚下班",
    "早上好",
    "已经修好了",
    "我去查一下",
    "求推荐一本入门书",
    "链接在这里",
    "上次的录屏有吗",
    "这个功能很实用",
    "感觉性能还可以再优化",
    "欢迎新朋友",
    "明天开会记得带电脑",
    "我们团队也在用",
    "不太确定",
    "赞👍",
    "辛苦了",
    "有道理",
    "这周的周报大家交了吗",
    "服务器好像挂了",
    "重启一下试试",
    "数据库迁移跑完了",
    "社群规则请看群公告",
    "我来补充一点",
    "这个需求优先级不高",
    "有没有更简单的办法",
)
EN_PHRASES = (
    "hi all",
    "thanks for sharing",
    "does anyone know how to fix this",
    "+1",
    "I had the same issue last week",
    "check the docs first",
    "any updates on the release?",
    "works on my machine",
    "can you post the logs",
    "nice idea",
    "good morning",
    "see you at the meetup",
    "the build is green again",
    "let me look into it",
    "lol",
    "I think we should try the other approach",
    "PR is up for review",
    "merged, thanks!",
    "what's the ETA",
    "that makes sense",
    "not sure about that",
    "agreed",
    "the server seems down",
    "try restarting it",
    "migration finished",
    "welcome aboard",
)
EMOJI = ("", "", "", "", " 😂", " 👍", " 🙏", " [捂脸]", " [强]", " 🎉", "!", "?", "。", "～")


def _random_names(rng: random.Random, members: int) -> list[tuple[str, str, str]]:
    """(platformId, accountName, groupNickname) per member; names are unique and have no spaces."""
    seen: set[str] = set()
    result = []
    for index in range(members):
        while True:
            if rng.random() < 0.7:
                name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
            else:
                name = f"{rng.choice(ENGLISH_FIRST)}_{rng.choice(ENGLISH_LAST)}"
            if name in seen:
                name = f"{name}{rng.randint(2, 9999)}"
            if name not in seen:
                seen.add(name)
                break
        nickname = ""
        if rng.random() < 0.45:
            nickname = f"{rng.choice(NICK_PREFIX)}{name}{rng.choice(NICK_SUFFIX)}"
            if nickname in seen or nickname == name:
                nickname = ""
            else:
                seen.add(nickname)
        platform_id = f"wxid_{index:06d}{rng.getrandbits(32):08x}"
        result.append((platform_id, name, nickname))
    return result


class Clock:
    """Yields ``n`` ascending timestamps spread over ``[start, start + span)`` with a rhythm.

    The rhythm is a piecewise-constant density, one weight per hour of the span (hour of day x
    weekday x slow growth). ``n`` sorted uniform numbers are drawn one after another (order
    statistics, U(i) = 1 - (1 - U(i-1)) * V ** (1 / (n - i + 1))) and mapped through the inverse
    of the density's cumulative function with a pointer that only moves forward: O(1) per message,
    no list of n numbers.
    """

    def __init__(self, rng: random.Random, n: int, start: int, span_seconds: int) -> None:
        self.rng = rng
        self.n = n
        self.start = start
        hours = max(1, span_seconds // HOUR)
        weights = []
        for h in range(hours):
            t = start + h * HOUR + LOCAL_OFFSET
            local_hour = (t // HOUR) % 24
            weekday = ((t // DAY) + 3) % 7  # 1970-01-01 was a Thursday
            growth = 0.35 + 0.65 * h / hours  # the group gets busier
            weights.append(HOUR_WEIGHTS[local_hour] * WEEKDAY_WEIGHTS[weekday] * growth)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def __iter__(self):
        rng = self.rng
        cumulative = self.cumulative
        total = self.total
        start = self.start
        last_hour = len(cumulative) - 1
        u = 0.0
        hour = 0
        for i in range(self.n):
            # next order statistic of the remaining n - i uniforms
            u = 1.0 - (1.0 - u) * rng.random() ** (1.0 / (self.n - i))
            target = u * total
            while hour < last_hour and cumulative[hour] <= target:
                hour += 1
            before = cumulative[hour - 1] if hour else 0.0
            width = cumulative[hour] - before
            fraction = (target - before) / width if width > 0 else 0.0
            yield start + hour * HOUR + min(HOUR - 1, int(fraction * HOUR))


def _phrase_pool(rng: random.Random, size: int = 4000) -> list[str]:
    """Sentences of varied length and language, drawn once and reused (keeps generation fast)."""
    pool = []
    for _ in range(size):
        english = rng.random() < 0.25
        phrases = EN_PHRASES if english else ZH_PHRASES
        # mostly short chat lines, a tail of long ones
        count = max(1, min(40, int(rng.lognormvariate(0.2, 0.8))))
        glue = ", " if english else "，"
        text = glue.join(rng.choices(phrases, k=count)) + rng.choice(EMOJI)
        pool.append(text)
    return pool


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
    start: int = 1_672_531_200,  # 2023-01-01T00:00:00Z
    group_name: str = "shequn 合成测试群",
) -> dict[str, int]:
    """Write the export to ``path`` and return counts (messages, replies, mentions, members)."""
    rng = random.Random(seed)
    people = _random_names(rng, members)
    # Who is active is not who joined first: shuffle ranks over members.
    ranked = people[:]
    rng.shuffle(ranked)
    cum_weights = list(itertools.accumulate(1.0 / (rank**zipf_s) for rank in range(1, members + 1)))
    total_weight = cum_weights[-1]
    pool = _phrase_pool(rng)
    recent: deque[str] = deque(maxlen=256)
    clock = iter(Clock(rng, messages, start, int(years * 365 * DAY)))
    dumps = orjson.dumps
    random_ = rng.random
    n_replies = n_mentions = 0
    chunk = 10_000
    first_id = 7_000_000_000_000_000_000

    with open(path, "wb", buffering=1 << 20) as out:
        header = {
            "_type": "header",
            "chatlab": {
                "version": "0.0.2",
                "exportedAt": start + int(years * 365 * DAY) + DAY,
                "generator": "shequn benchmarks/generate_chatlab.py",
            },
            "meta": {
                "name": group_name,
                "platform": "wechat",
                "type": "group",
                "groupId": f"{rng.getrandbits(40)}@chatroom",
            },
        }
        out.write(dumps(header) + b"\n")
        for platform_id, name, nickname in people:
            member = {"_type": "member", "platformId": platform_id, "accountName": name}
            if nickname:
                member["groupNickname"] = nickname
            out.write(dumps(member) + b"\n")

        lines: list[bytes] = []
        written = 0
        while written < messages:
            k = min(chunk, messages - written)
            senders = rng.choices(ranked, cum_weights=cum_weights, k=k)
            texts = rng.choices(pool, k=k)
            for (platform_id, name, nickname), text in zip(senders, texts, strict=True):
                message_id = str(first_id + written)
                written += 1
                if random_() < mention_share:
                    # mention someone active (by rank, so mostly the regulars)
                    other = ranked[bisect.bisect(cum_weights, random_() * total_weight) % members]
                    if other[0] != platform_id:
                        text = f"@{other[2] or other[1]}\u2005{text}"
                        n_mentions += 1
                message = {
                    "_type": "message",
                    "platformMessageId": message_id,
                    "sender": platform_id,
                    "accountName": name,
                    "timestamp": next(clock),
                    "type": 0,
                    "content": text,
                }
                if nickname:
                    message["groupNickname"] = nickname
                if recent and random_() < reply_share:
                    # most replies answer one of the last few messages
                    back = min(len(recent) - 1, int(rng.expovariate(0.25)))
                    message["type"] = 25
                    message["replyToMessageId"] = recent[-1 - back]
                    n_replies += 1
                recent.append(message_id)
                lines.append(dumps(message))
            lines.append(b"")
            out.write(b"\n".join(lines))
            lines.clear()
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
