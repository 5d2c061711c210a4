from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from shequn.communities.services import do_create_community

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Chinese leaves its language active on the thread (LocaleMiddleware), and
    the next test would read Chinese messages: every test starts from the default."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def community(db):
    return do_create_community(slug="club", name="Club")


def with_account(member: Any, handle: str) -> Any:
    """Give a member made in a test a chat account, as imported members have: a merge of a
    member without any cannot be undone."""
    from shequn.communities.models import Channel
    from shequn.members.models import Identity

    channel, _created = Channel.objects.get_or_create(
        community=member.community, platform="csv", external_id="accounts",
        defaults={"name": "accounts"},
    )  # fmt: skip
    Identity.objects.create(member=member, channel=channel, platform_user_id=handle, handle=handle)
    return member


def table_counts() -> dict[str, int]:
    """Row counts of every shequn table: 'the database is unchanged' means these are equal."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"audit", "communities", "members", "interactions", "accounts", "rewards", "tiers"}
    }


def chatlab_header(
    name: str = "Test group", platform: str = "wechat", group_id: str = "g1"
) -> dict:
    return {
        "chatlab": {"version": "0.0.2", "exportedAt": 1703001600},
        "meta": {"name": name, "platform": platform, "type": "group", "groupId": group_id},
    }


@pytest.fixture
def write_chatlab(tmp_path: Path) -> Callable[..., Path]:
    """Write a ChatLab export as JSON or JSONL and return its path."""

    def write(
        messages: list[dict[str, Any]],
        members: list[dict[str, Any]] | None = None,
        *,
        jsonl: bool = False,
        name: str = "export",
        header: dict[str, Any] | None = None,
    ) -> Path:
        head = header or chatlab_header()
        if jsonl:
            path = tmp_path / f"{name}.jsonl"
            lines = [json.dumps({"_type": "header", **head}, ensure_ascii=False)]
            lines += [
                json.dumps({"_type": "member", **m}, ensure_ascii=False) for m in members or []
            ]
            lines += [json.dumps({"_type": "message", **m}, ensure_ascii=False) for m in messages]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            path = tmp_path / f"{name}.json"
            document = {**head, "members": members or [], "messages": messages}
            path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def other_community(db):
    return do_create_community(slug="other", name="Other club")


@pytest.fixture
def make_account(db):
    """make_account("ann", community, "operator") -> a user with that access role there."""
    from django.contrib.auth import get_user_model

    from shequn.accounts.services import do_grant_access

    def make(username: str, community=None, role: str | None = None, **extra: Any):
        user = get_user_model().objects.create_user(
            username=username, password="correct horse battery staple", **extra
        )
        if community is not None and role is not None:
            do_grant_access(community, user, role)
        return user

    return make


@pytest.fixture
def client_as(client, make_account):
    """client_as(community, "viewer") -> the test client logged in with that role there."""

    def login(community, role: str, username: str | None = None):
        user = make_account(username or f"{role}-{community.slug}", community, role)
        client.force_login(user)
        return client

    return login
