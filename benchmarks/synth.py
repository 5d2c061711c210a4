"""The activity model shared by the synthetic exports of every format (``generate_chatlab.py``,
``generate_formats.py``): who writes, when, what, to whom.

* members with Chinese or English names, 45 % of them with a group nickname;
* Zipf-like activity: the member of rank k (ranks shuffled over members) sends with probability
  proportional to 1 / k**s (s = 1.1);
* ``reply_share`` of the messages answer a recent message (most often one of the last few);
* ``mention_share`` of the messages mention another member (by rank, so mostly the regulars);
* ``reaction_share`` of the messages get reactions (1 to 10 people, mostly one or two);
* timestamps spread over ``years`` years, ascending, with a day/night rhythm (UTC+8 evenings busy,
  3-6 a.m. nearly silent), quieter weekends and a group that grows busier over time;
* Chinese and English text of varied length.

``Activity.messages()`` yields abstract ``Message`` objects; each format's writer renders them.
Memory is constant in the number of messages: only a bounded deque of recent messages is kept.
The random draws happen in the order of the original ChatLab generator, so for a given seed the
ChatLab file is the same byte for byte; reactions draw only when ``reaction_share`` > 0.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections import deque
from collections.abc import Iterator
from typing import NamedTuple


class Person(NamedTuple):
    index: int  # joining order, 0-based: a stable small number for formats' numeric ids
    platform_id: str  # a WeChat-style id (wxid_...); formats with other id shapes derive theirs
    name: str  # account name, unique, no spaces
    nickname: str  # group nickname, unique, or ""

    @property
    def display(self) -> str:
        return self.nickname or self.name


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
START = 1_672_531_200  # 2023-01-01T00:00:00Z
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


def random_names(rng: random.Random, members: int) -> list[Person]:
    """One Person per member, in joining order; names are unique and have no spaces."""
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
        result.append(Person(index, platform_id, name, nickname))
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


def phrase_pool(rng: random.Random, size: int = 4000) -> list[str]:
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


# (Slack name, character) of the reactions drawn by ``Activity.messages(reaction_share=...)``.
REACTIONS = (
    ("+1", "👍"),
    ("heart", "❤️"),
    ("joy", "😂"),
    ("tada", "🎉"),
    ("pray", "🙏"),
    ("eyes", "👀"),
)
REACTION_WEIGHTS = tuple(itertools.accumulate((45, 20, 15, 10, 6, 4)))


class Message:
    """One drawn message; formats render it. ``reply_to`` is the ``index`` of an earlier message
    (always one of the 256 before it) and ``reply_sender`` its sender."""

    __slots__ = (
        "index",
        "mention",
        "reactions",
        "reply_sender",
        "reply_to",
        "sender",
        "text",
        "ts",
    )

    def __init__(self, index: int, sender: Person, ts: int, text: str) -> None:
        self.index = index
        self.sender = sender
        self.ts = ts  # seconds since 1970, UTC
        self.text = text  # without the mention, which each format writes its own way
        self.mention: Person | None = None  # never the sender
        self.reply_to: int | None = None
        self.reply_sender: Person | None = None
        # (index into REACTIONS, who): distinct pairs, possibly the sender themselves
        self.reactions: list[tuple[int, Person]] = []


class Activity:
    """The members of a synthetic group and the stream of its messages.

    Constructing it draws the members and the phrase pool; a format may draw a few values of its
    own from ``rng`` (a group id) before calling ``messages()``, which draws the rest.
    """

    def __init__(
        self,
        *,
        members: int,
        seed: int = 42,
        years: float = 3.0,
        zipf_s: float = 1.1,
        start: int = START,
    ) -> None:
        self.rng = rng = random.Random(seed)
        self.people = random_names(rng, members)
        # Who is active is not who joined first: shuffle ranks over members.
        self.ranked = ranked = self.people[:]
        rng.shuffle(ranked)
        self.cum_weights = list(
            itertools.accumulate(1.0 / (rank**zipf_s) for rank in range(1, members + 1))
        )
        self.total_weight = self.cum_weights[-1]
        self.pool = phrase_pool(rng)
        self.start = start
        self.span = int(years * 365 * DAY)
        self.end = start + self.span

    def regular(self) -> Person:
        """Someone drawn by activity rank (mostly the regulars)."""
        rng = self.rng
        ranked = self.ranked
        return ranked[
            bisect.bisect(self.cum_weights, rng.random() * self.total_weight) % len(ranked)
        ]

    def messages(
        self,
        n: int,
        *,
        reply_share: float = 0.3,
        mention_share: float = 0.03,
        reaction_share: float = 0.0,
        chunk: int = 10_000,
    ) -> Iterator[Message]:
        rng = self.rng
        random_ = rng.random
        ranked = self.ranked
        cum_weights = self.cum_weights
        total_weight = self.total_weight
        members = len(ranked)
        recent: deque[tuple[int, Person]] = deque(maxlen=256)
        clock = iter(Clock(rng, n, self.start, self.span))
        written = 0
        while written < n:
            k = min(chunk, n - written)
            senders = rng.choices(ranked, cum_weights=cum_weights, k=k)
            texts = rng.choices(self.pool, k=k)
            for sender, text in zip(senders, texts, strict=True):
                index = written
                written += 1
                mention = None
                if random_() < mention_share:
                    other = ranked[bisect.bisect(cum_weights, random_() * total_weight) % members]
                    if other.platform_id != sender.platform_id:
                        mention = other
                message = Message(index, sender, next(clock), text)
                message.mention = mention
                if recent and reply_share and random_() < reply_share:
                    back = min(len(recent) - 1, int(rng.expovariate(0.25)))
                    message.reply_to, message.reply_sender = recent[-1 - back]
                if reaction_share and random_() < reaction_share:
                    count = 1 + min(9, int(rng.expovariate(0.9)))
                    seen = set()
                    for _ in range(count):
                        who = ranked[bisect.bisect(cum_weights, random_() * total_weight) % members]
                        emoji = bisect.bisect(REACTION_WEIGHTS, random_() * REACTION_WEIGHTS[-1])
                        if (emoji, who.index) not in seen:
                            seen.add((emoji, who.index))
                            message.reactions.append((emoji, who))
                recent.append((index, sender))
                yield message
