"""Ready-made rule sets: a community default and Stack Exchange reputation.

Each preset is the same data a TOML rules file holds (``rules`` and ``levels``), so applying
one is importing it; operators then edit the rules like any others.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# Question up-votes earned +5 until Stack Exchange raised them to +10 on 2019-11-13.
SE_QUESTION_VOTE_CHANGE = dt.date(2019, 11, 13)
SE_DAILY_CAP = 200
# Votes on community-wiki posts earn their author nothing.
NOT_WIKI = {"community_wiki": True}

DEFAULT: dict[str, Any] = {
    "rules": [
        {
            "key": "joined",
            "name": "Joined the community",
            "event_kind": "join",
            "amount": 0,
            "first_time_bonus": 5,
        },
        {
            "key": "message",
            "name": "Message",
            "event_kind": "message",
            "amount": 1,
            "cooldown_seconds": 60,
            "daily_cap": 20,
            "first_time_bonus": 5,
        },
        {
            "key": "reply",
            "name": "Reply to someone",
            "event_kind": "reply",
            "amount": 2,
            "cooldown_seconds": 60,
            "daily_cap": 20,
        },
        {
            "key": "reaction_received",
            "name": "Someone reacted to your message",
            "event_kind": "reaction",
            "beneficiary": "target",
            "skip_self": "actor",
            "amount": 1,
            "daily_cap": 10,
        },
        {
            "key": "badge",
            "name": "Badge earned",
            "event_kind": "badge",
            "amount": 5,
        },
        {
            "key": "flagged",
            "name": "Post flagged as spam or offensive",
            "event_kind": "moderation",
            "match": {"vote": ["spam", "offensive"]},
            "beneficiary": "target",
            "amount": -20,
        },
    ],
    "levels": {"kind": "quadratic", "a": 5, "b": 50, "c": 100},
}


def _se_vote(key: str, name: str, vote: str, **values: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "event_kind": "reaction",
        "content_types": ["vote"],
        "match": {"vote": vote},
        "target_exclude": NOT_WIKI,
        "beneficiary": "target",
        **values,
    }


STACKEXCHANGE: dict[str, Any] = {
    "rules": [
        {
            "key": "joined",
            "name": "Every account starts with 1 reputation",
            "event_kind": "join",
            "amount": 1,
        },
        _se_vote(
            "question-up-old",
            "Question voted up (before 2019-11-13)",
            "up",
            target_content_types=["question"],
            skip_self="actor",
            amount=5,
            daily_cap=SE_DAILY_CAP,
            cap_group="votes",
            valid_until=SE_QUESTION_VOTE_CHANGE,
        ),
        _se_vote(
            "question-up",
            "Question voted up",
            "up",
            target_content_types=["question"],
            skip_self="actor",
            amount=10,
            daily_cap=SE_DAILY_CAP,
            cap_group="votes",
            valid_from=SE_QUESTION_VOTE_CHANGE,
        ),
        _se_vote(
            "answer-up",
            "Answer voted up",
            "up",
            target_content_types=["answer"],
            skip_self="actor",
            amount=10,
            daily_cap=SE_DAILY_CAP,
            cap_group="votes",
        ),
        _se_vote(
            "voted-down",
            "Post voted down",
            "down",
            target_content_types=["question", "answer"],
            skip_self="actor",
            amount=-2,
            min_balance=1,
        ),
        _se_vote(
            "accepted",
            "Answer accepted",
            "accept",
            target_content_types=["answer"],
            skip_self="target_parent",
            amount=15,
        ),
        _se_vote(
            "accepted-asker",
            "Accepted an answer",
            "accept",
            target_content_types=["answer"],
            beneficiary="target_parent",
            skip_self="target",
            amount=2,
        ),
        {
            "key": "bounty-offered",
            "name": "Bounty offered",
            "event_kind": "reaction",
            "content_types": ["vote"],
            "match": {"vote": "bounty_start"},
            "beneficiary": "actor",
            "amount": -1,
            "amount_from": "bounty",
        },
        {
            "key": "bounty-awarded",
            "name": "Bounty awarded",
            "event_kind": "reaction",
            "content_types": ["vote"],
            "match": {"vote": "bounty_close"},
            "beneficiary": "target",
            "skip_self": "actor",
            "amount": 1,
            "amount_from": "bounty",
        },
    ],
    # The privileges of a graduated Stack Exchange site, as named levels.
    "levels": {
        "kind": "table",
        "levels": [
            {"threshold": 1, "name": "New user"},
            {"threshold": 15, "name": "Vote up"},
            {"threshold": 50, "name": "Comment everywhere"},
            {"threshold": 75, "name": "Set bounties"},
            {"threshold": 125, "name": "Vote down"},
            {"threshold": 500, "name": "Access review queues"},
            {"threshold": 1000, "name": "Established user"},
            {"threshold": 2000, "name": "Edit questions and answers"},
            {"threshold": 3000, "name": "Cast close and reopen votes"},
            {"threshold": 10000, "name": "Access to moderator tools"},
            {"threshold": 20000, "name": "Trusted user"},
        ],
    },
}

PRESETS: dict[str, dict[str, Any]] = {"default": DEFAULT, "stackexchange": STACKEXCHANGE}
