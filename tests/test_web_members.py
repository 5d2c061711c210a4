"""The members list and a member's page: what an operator sees, finds and cannot see."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from shequn.communities.models import Channel
from shequn.interactions.models import InteractionEvent, MemberDailyRollup
from shequn.interactions.rollups import refresh_member_totals
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member
from shequn.members.services import do_merge_members

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 5, 1)


def member_with(
    community,
    name: str,
    channels: list[Channel],
    *,
    handle: str = "",
    user_id: str = "",
    messages: int = 0,
    active_on: dt.date | None = None,
    **fields,
) -> Member:
    """A member with an account on each channel and ``messages`` on ``active_on`` (rollups)."""
    member = Member.objects.create(community=community, display_name=name, **fields)
    for index, channel in enumerate(channels):
        Identity.objects.create(
            member=member,
            channel=channel,
            platform_user_id=f"{user_id or name}-{index}" if index else (user_id or name),
            handle=handle,
        )
    if messages:
        MemberDailyRollup.objects.create(
            community=community, member=member, day=active_on or DAY, messages=messages
        )
    return member


@pytest.fixture
def channels(community):
    return [
        Channel.objects.create(
            community=community, platform="wechat", external_id="w", name="Chat"
        ),
        Channel.objects.create(community=community, platform="slack", external_id="s", name="Work"),
    ]


@pytest.fixture
def crowd(community, channels):
    """Five people with different roles, channels, activity and status."""
    wechat, slack = channels
    people = {
        "Alice": member_with(
            community, "Alice", [wechat, slack], handle="ally", user_id="wx_alice",
            messages=30, active_on=dt.date(2024, 4, 1), role="founder",
            joined_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        ),
        "Bob": member_with(
            community, "Bob", [wechat], handle="bobby", user_id="wx_bob", messages=50,
            active_on=dt.date(2024, 3, 1), joined_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
        ),
        "Carol": member_with(
            community, "Carol", [slack], handle="cc", user_id="U123", messages=5,
            active_on=dt.date(2024, 5, 1), role="operator",
            joined_at=dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
        ),
        "Dan": member_with(
            community, "Dan", [wechat], user_id="wx_dan",
            left_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        ),
        "Robo": member_with(community, "Robo", [slack], user_id="B1", messages=500, is_bot=True),
    }  # fmt: skip
    refresh_member_totals(community_id=community.pk)
    return people


def names(response) -> list[str]:
    """Member names in the list's table, in order."""
    body = response.content.decode()
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    return re.findall(r'<a href="/c/[^/]+/members/\d+/">([^<]+)</a>', table)


def test_anonymous_is_sent_to_login(client, community, crowd):
    for url in (
        reverse("web:members", args=[community.slug]),
        reverse("web:member", args=[community.slug, crowd["Alice"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))


def test_viewer_sees_the_list_with_role_channels_totals_and_last_active(
    client_as, community, crowd
):
    response = client_as(community, "viewer").get(reverse("web:members", args=[community.slug]))
    assert response.status_code == 200
    assert names(response) == ["Alice", "Bob", "Carol", "Dan", "Robo"]
    body = response.content.decode()
    alice_row = body[body.index(">Alice<") : body.index(">Bob<")]
    assert "founder" in alice_row
    assert "Chat" in alice_row and "Work" in alice_row
    assert ">30<" in alice_row
    assert "2024-04-01" in alice_row
    assert "5 members" in body


def test_search_by_name_handle_and_exact_user_id(client_as, community, crowd):
    client = client_as(community, "viewer")
    url = reverse("web:members", args=[community.slug])
    assert names(client.get(url, {"q": "ali"})) == ["Alice"]
    assert names(client.get(url, {"q": "BOBB"})) == ["Bob"]  # handle, any case
    assert names(client.get(url, {"q": "U123"})) == ["Carol"]  # exact platform user id
    assert names(client.get(url, {"q": "U12"})) == []  # user ids match whole only
    assert "No members match." in client.get(url, {"q": "nobody"}).content.decode()


def test_filters_by_channel_role_bots_and_status(client_as, community, channels, crowd):
    client = client_as(community, "viewer")
    url = reverse("web:members", args=[community.slug])
    wechat, slack = channels
    assert names(client.get(url, {"channel": slack.pk})) == ["Alice", "Carol", "Robo"]
    assert names(client.get(url, {"channel": wechat.pk})) == ["Alice", "Bob", "Dan"]
    assert names(client.get(url, {"role": "operator"})) == ["Carol"]
    assert names(client.get(url, {"bots": "hide"})) == ["Alice", "Bob", "Carol", "Dan"]
    assert names(client.get(url, {"bots": "only"})) == ["Robo"]
    assert names(client.get(url, {"status": "gone"})) == ["Dan"]
    assert names(client.get(url, {"status": "current", "bots": "hide"})) == [
        "Alice",
        "Bob",
        "Carol",
    ]
    assert names(client.get(url, {"channel": slack.pk, "q": "car"})) == ["Carol"]


def test_sorts(client_as, community, crowd):
    client = client_as(community, "viewer")
    url = reverse("web:members", args=[community.slug])
    assert names(client.get(url, {"sort": "messages"})) == ["Robo", "Bob", "Alice", "Carol", "Dan"]
    # Never-active members and unknown join dates come last.
    # Same day: by name. Never-active members and unknown join dates come last.
    assert names(client.get(url, {"sort": "last_active"})) == [
        "Carol",
        "Robo",
        "Alice",
        "Bob",
        "Dan",
    ]
    assert names(client.get(url, {"sort": "joined"}))[:3] == ["Bob", "Carol", "Alice"]


def test_bad_parameters_fall_back_instead_of_failing(client_as, community, other_community, crowd):
    client = client_as(community, "viewer")
    url = reverse("web:members", args=[community.slug])
    foreign = Channel.objects.create(community=other_community, platform="qq", external_id="q")
    for params in (
        {"sort": "bogus"},
        {"channel": "abc"},
        {"channel": foreign.pk},  # another community's channel is not a choice
        {"page": "999"},
        {"page": "x"},
        {"status": "nope", "bots": "maybe", "role": "king"},
    ):
        response = client.get(url, params)
        assert response.status_code == 200, params
        assert len(names(response)) == 5, params


def test_pagination_keeps_the_filters(client_as, community, channels):
    wechat, _slack = channels
    for index in range(60):
        member_with(community, f"Member {index:02}", [wechat], handle="same")
    member_with(community, "Zed", [wechat], handle="other")
    client = client_as(community, "viewer")
    url = reverse("web:members", args=[community.slug])
    first = client.get(url, {"q": "same", "channel": wechat.pk})
    assert len(names(first)) == 50
    assert "Page 1 of 2" in first.content.decode()
    next_link = re.search(r'href="(\?[^"]*)" rel="next"', first.content.decode()).group(1)
    next_link = next_link.replace("&amp;", "&")
    assert "q=same" in next_link and f"channel={wechat.pk}" in next_link and "page=2" in next_link
    second = client.get(url + next_link)
    assert names(second) == [f"Member {index:02}" for index in range(50, 60)]


def test_list_queries_do_not_grow_with_the_page(
    client_as, community, channels, django_assert_max_num_queries
):
    client = client_as(community, "viewer")
    url = reverse("web:members", args=[community.slug])
    member_with(community, "First", channels, messages=1)
    client.get(url)  # the session and its user are warm from here on
    with django_assert_max_num_queries(10):
        assert len(names(client.get(url))) == 1
    for index in range(120):
        member_with(community, f"M{index:03}", channels, messages=index + 1)
    refresh_member_totals(community_id=community.pk)
    for params in ({}, {"sort": "messages", "channel": channels[0].pk}, {"page": 3, "q": "M"}):
        with django_assert_max_num_queries(10):
            response = client.get(url, params)
        assert len(names(response)) in {50, 20}


@pytest.mark.parametrize("per_page", [5, 50, 200])
def test_list_selector_queries_are_the_same_for_any_page_size(
    community, channels, per_page, django_assert_max_num_queries, monkeypatch
):
    from shequn.members import selectors

    monkeypatch.setattr(selectors, "LIST_HEAD", 30)  # pages beyond the first ids fetched
    for index in range(300):
        member_with(community, f"M{index:03}", channels)
    for number in (1, 2):
        with django_assert_max_num_queries(5):
            page = selectors.members_page(
                community, selectors.MemberFilters(), number, per_page=per_page
            )
        assert all(member.channels == channels[::-1] for member in page)  # slack, then wechat


@pytest.mark.parametrize("head", [3, 7, 1000])
def test_pages_are_the_same_whatever_was_fetched_ahead(community, crowd, head, monkeypatch):
    from shequn.members import selectors

    monkeypatch.setattr(selectors, "LIST_HEAD", head)
    for index in range(12):
        member_with(community, f"Extra {index:02}", [], messages=index)
    refresh_member_totals(community_id=community.pk)
    seen = []
    for sort in ("name", "messages", "last_active", "joined"):
        filters = selectors.MemberFilters(sort=sort, bots="hide")
        pages = [
            selectors.members_page(community, filters, number, per_page=4)
            for number in (1, 2, 3, 4)
        ]
        assert {page.paginator.count for page in pages} == {16}
        seen.append([member.display_name for page in pages for member in page])
    assert [len(set(names)) for names in seen] == [16, 16, 16, 16]
    assert seen[0] == sorted(seen[0])
    assert seen[1][:2] == ["Bob", "Alice"]


def test_another_communitys_member_is_not_found(client_as, community, other_community, crowd):
    stranger = Member.objects.create(community=other_community, display_name="Stranger")
    client = client_as(community, "viewer")
    assert client.get(reverse("web:member", args=[community.slug, stranger.pk])).status_code == 404
    assert client.get(reverse("web:member", args=[community.slug, 999_999])).status_code == 404
    # Nor can this community's member be reached under a community the account cannot see.
    other_url = reverse("web:member", args=[other_community.slug, crowd["Alice"].pk])
    assert client.get(other_url).status_code == 404
    assert client.get(reverse("web:members", args=[other_community.slug])).status_code == 404


def test_member_page_shows_accounts_from_two_channels_totals_and_activity(
    client_as, community, crowd
):
    alice = crowd["Alice"]
    MemberDailyRollup.objects.filter(member=alice).update(reactions_given=4)
    response = client_as(community, "viewer").get(
        reverse("web:member", args=[community.slug, alice.pk])
    )
    assert response.status_code == 200
    body = response.content.decode()
    accounts = body[body.index("Accounts") : body.index("</table>", body.index("Accounts"))]
    assert "WeChat" in accounts and "Slack" in accounts
    assert "Chat" in accounts and "Work" in accounts
    assert "wx_alice" in accounts and "ally" in accounts
    assert "founder" in body
    chart = json.loads(re.search(r'id="activity-data"[^>]*>(.*?)</script>', body, re.S).group(1))
    assert chart == [
        {"period": "2024-04-01", "messages": 30, "reactions": 4, "reactions_received": 0}
    ]
    assert 'data-chart="activity"' in body and 'data-source="activity-data"' in body


def test_member_page_timeline_newest_first_in_the_communitys_time_zone(
    client_as, community, crowd, channels
):
    community.time_zone = "Asia/Shanghai"
    community.save()
    alice, bob = crowd["Alice"], crowd["Bob"]
    wechat = channels[0]
    start = dt.datetime(2024, 4, 1, 0, 30, tzinfo=dt.UTC)
    InteractionEvent.objects.bulk_create(
        InteractionEvent(
            community=community,
            channel=wechat,
            member=alice,
            target_member=bob if index == 59 else None,
            kind="reply" if index == 59 else "message",
            occurred_at=start + dt.timedelta(hours=index),
            day=(start + dt.timedelta(hours=index)).date(),
            source_id=f"m{index}",
            text=f"message number {index} " + "long " * (60 if index == 59 else 0),
            text_length=len(f"message number {index} ") + (300 if index == 59 else 0),
        )
        for index in range(60)
    )
    client = client_as(community, "viewer")
    url = reverse("web:member", args=[community.slug, alice.pk])
    body = client.get(url).content.decode()
    timeline = body[body.index('id="timeline"') :]
    assert "60 events" in timeline
    newest = start + dt.timedelta(hours=59)  # 2024-04-03 11:30 UTC = 19:30 in Shanghai
    assert "2024-04-03 19:30" in timeline
    assert timeline.index("message number 59") < timeline.index("message number 58")
    assert "…" in timeline  # the long reply is cut
    assert f'href="/c/{community.slug}/members/{bob.pk}/">Bob</a>' in timeline
    assert "message number 9 " not in timeline  # on the second page
    older = client.get(url, {"page": 2}).content.decode()
    assert "message number 9 " in older and "message number 59" not in older
    assert newest.isoformat() not in timeline


def test_member_page_lists_merges(client_as, community, crowd):
    merged = do_merge_members(crowd["Dan"], crowd["Bob"], reason="same phone")
    body = (
        client_as(community, "viewer")
        .get(reverse("web:member", args=[community.slug, merged.pk]))
        .content.decode()
    )
    assert "Dan merged into this member" in body and "same phone" in body


def test_totals_follow_imports_and_survive_a_stale_save(community, write_chatlab):
    from conftest import chatlab_header

    messages = [
        {"platformMessageId": str(i), "sender": "wx_a", "accountName": "A", "timestamp": 1703001600 + i * 60, "type": 0, "content": "hi"}  # noqa: E501
        for i in range(3)
    ]  # fmt: skip
    do_import(community, write_chatlab(messages, header=chatlab_header(), name="one"))
    stale = Member.objects.get(community=community)
    assert (stale.message_total, str(stale.last_active_on)) == (3, "2023-12-19")
    more = [{**m, "platformMessageId": f"x{m['platformMessageId']}"} for m in messages]
    do_import(community, write_chatlab(more, header=chatlab_header(), name="two"))
    stale.display_name = "Renamed"
    stale.save()  # loaded before the second import
    fresh = Member.objects.get(pk=stale.pk)
    assert (fresh.display_name, fresh.message_total) == ("Renamed", 6)


def test_the_member_page_shows_charter_needs_offers_and_purchases(client_as, community):
    from shequn.charter.services import (
        do_acknowledge,
        do_enable_rule,
        do_publish_charter,
        do_report_violation,
        do_save_rule,
    )
    from shequn.commerce.services import do_create_offer, do_record_purchase
    from shequn.exchange.services import do_create_post

    ann = Member.objects.create(community=community, display_name="Ann")
    url = reverse("web:member", args=[community.slug, ann.pk])
    client = client_as(community, "viewer")
    empty = client.get(url).content.decode()
    assert "No charter is written down yet." in empty and 'id="member-posts"' not in empty

    do_publish_charter(community, "Be kind.", actor=None)
    do_acknowledge(ann)
    do_publish_charter(community, "Be kind. No ads.", actor=None)
    rule = do_save_rule(
        community,
        {"key": "ads", "name": "No ads", "kind": "reported", "consequence": "warning"},
        actor=None,
    )
    do_enable_rule(rule, actor=None)
    do_report_violation(rule, ann, note="posted an ad")
    do_create_post(community, {"kind": "need", "title": "A mentor for Rust"}, member=ann)
    course = do_create_offer(
        community, {"kind": "course", "name": "Rust course", "price": "99", "currency": "CNY"}
    )
    do_record_purchase(community, {"member": ann, "offer": course})

    page = client.get(url).content.decode()
    assert "Acknowledged version 1, not yet the current version 2." in page
    violations = page.split('id="member-violations"')[1].split("</ul>")[0]
    assert "No ads" in violations
    assert "A mentor for Rust" in page.split('id="member-posts"')[1].split("</ul>")[0]
    assert "Rust course" in page.split('id="member-purchases"')[1].split("</ul>")[0]
