"""Helpers the culture tests share (no tests here): a ChatLab conversation built message by
message, and activities held in the past with people who came."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from shequn.interactions.services import do_import


def noon(day: dt.date, offset: int = 0) -> int:
    return int(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp()) + offset


class Chat:
    """A ChatLab group conversation, each message at noon UTC of its day."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.members: dict[str, dict[str, Any]] = {}

    def member(self, who: str, role: str | None = None) -> None:
        entry: dict[str, Any] = {"platformId": who, "accountName": who.title()}
        if role:
            entry["roles"] = [{"id": role}]
        self.members[who] = entry

    def say(self, who: str, day: dt.date, text: str = "hi") -> str:
        self.members.setdefault(who, {"platformId": who, "accountName": who.title()})
        message_id = f"m{len(self.messages) + 1}"
        self.messages.append(
            {
                "platformMessageId": message_id,
                "sender": who,
                "accountName": who.title(),
                "timestamp": noon(day, len(self.messages)),
                "type": 0,
                "content": text,
            }
        )
        return message_id

    def weekly(self, who: str, first: dt.date, weeks: int, text: str = "hi") -> None:
        for n in range(weeks):
            self.say(who, first + dt.timedelta(weeks=n), text)

    def import_into(self, community, write_chatlab, name: str = "export") -> None:
        path = write_chatlab(self.messages, list(self.members.values()), name=name)
        do_import(community, path, recompute=False)


def held_activity(community, starts_at: dt.datetime, members, came, *, ritual=None, **values):
    """A published activity that took place at ``starts_at``: every one of ``members``
    registered, those in ``came`` checked in."""
    from shequn.activities.models import Activity
    from shequn.activities.services import (
        do_check_in,
        do_create_activity,
        do_publish_activity,
        do_register,
    )

    defaults = {
        "title": "Reading circle",
        "mode": "online",
        "content_type": "learning",
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(hours=2),
    }
    activity = do_create_activity(community, {**defaults, **values}, ritual=ritual)
    # Registration opens when an activity is published and closes when it starts: publish it
    # before, register, then move it to the past.
    start, end = activity.starts_at, activity.ends_at
    future = timezone.now() + dt.timedelta(days=1)
    Activity.objects.filter(pk=activity.pk).update(
        starts_at=future, ends_at=future + dt.timedelta(hours=2)
    )
    activity.refresh_from_db()
    activity = do_publish_activity(activity)
    registrations = [do_register(activity, member) for member in members]
    Activity.objects.filter(pk=activity.pk).update(starts_at=start, ends_at=end)
    activity.refresh_from_db()
    for registration in registrations:
        if registration.member in came:
            do_check_in(
                activity, registration.code, at=start + dt.timedelta(minutes=5), recompute=False
            )
    return activity
