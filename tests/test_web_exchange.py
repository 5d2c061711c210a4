"""The exchange pages as operators, viewers and the public meet them: posting, suggestions
with their evidence and the confirm button, connections and outcomes, the monthly chart, the
public form (off → 404, honeypot, throttle, waiting for approval), permissions and audit."""

from __future__ import annotations

import html
import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from shequn.audit.models import AuditEntry
from shequn.exchange.models import Connection, Post
from shequn.exchange.selectors import exchange_settings
from shequn.exchange.services import (
    do_confirm_connection,
    do_create_post,
    do_open_public_form,
    do_record_outcome,
)
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Member
from shequn.rewards.models import PointEntry
from shequn.web.exchange.public import SUBMISSIONS_PER_HOUR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The throttle lives in the cache, shared by the whole test run."""
    cache.clear()
    yield
    cache.clear()


def url(name: str, community, *args) -> str:
    return reverse(f"web:{name}", args=[community.slug, *args])


def section(body: str, name: str) -> str:
    """The part of a page inside the ``<section … id=name>``."""
    return body.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]


def post(community, who, kind, title, description="", tags=()):
    return do_create_post(
        community,
        {"kind": kind, "title": title, "description": description, "tags": list(tags)},
        member=who,
    )


@pytest.fixture
def pair(community):
    asker = Member.objects.create(community=community, display_name="Lin Asker")
    helper = Member.objects.create(community=community, display_name="Wang Helper")
    need = post(community, asker, "need", "找人做微信小程序", "活动报名小程序，需要前端开发")
    offer = post(community, helper, "offer", "小程序前端开发", "可以提供微信小程序前端开发")
    return need, offer


def test_operator_posts_confirms_a_suggestion_and_reports_the_outcome(client_as, community, pair):
    need, offer = pair
    client = client_as(community, "operator")
    page = client.get(url("exchange", community))
    assert page.status_code == 200
    body = page.content.decode()
    # The suggestion with its evidence and a confirm button.
    assert f'id="suggestion-{need.pk}-{offer.pk}"' in body
    assert "前端" in body and "小程序" in body
    assert url("exchange_connect", community) in body
    # Posting a new offer for a member by name; problems go next to the fields.
    bad = client.post(
        url("exchange_post_new", community),
        {"kind": "offer", "member": "Nobody", "title": "x", "tags": ""},
    )
    assert bad.status_code == 400 and "Nobody" in html.unescape(bad.content.decode())
    made = client.post(
        url("exchange_post_new", community),
        {
            "kind": "offer",
            "member": "Wang Helper",
            "title": "Photography",
            "description": "",
            "tags": "photo, Events",
        },
    )
    photo = Post.objects.get(title="Photography")
    assert made.status_code == 302 and photo.tag_names == ["photo", "events"]
    # Confirming: the connection, the tie, the points; back to the page with a message.
    confirmed = client.post(
        url("exchange_connect", community),
        {"need": need.pk, "offer": offer.pk, "note": "met at the meetup", "close_need": "on"},
        follow=True,
    )
    connection = Connection.objects.get()
    assert "Lin Asker" in confirmed.content.decode()
    assert connection.note == "met at the meetup" and connection.confirmed_by is not None
    assert InteractionEvent.objects.filter(kind="connection").count() == 1
    assert PointEntry.objects.filter(member=offer.member, amount=10).exists()
    need.refresh_from_db()
    assert need.status == "closed"
    # Confirming again is refused, with the reason shown.
    again = client.post(
        url("exchange_connect", community), {"need": need.pk, "offer": offer.pk}, follow=True
    )
    assert "already connected" in again.content.decode()
    assert Connection.objects.count() == 1
    # The outcome with its value; a value without a currency is refused.
    refused = client.post(
        url("exchange_connection_outcome", community, connection.pk),
        {"outcome": "deal", "value": "300", "currency": ""},
        follow=True,
    )
    assert "currency" in refused.content.decode()
    client.post(
        url("exchange_connection_outcome", community, connection.pk),
        {"outcome": "deal", "value": "300", "currency": "CNY", "note": "paid"},
    )
    connection.refresh_from_db()
    assert (connection.outcome, str(connection.value_amount)) == ("deal", "300.00")
    page = client.get(url("exchange", community)).content.decode()
    assert "300.00 CNY" in page
    chart = json.loads(
        page.split('id="exchange-data" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["deals"][-1] == 1 and chart["value"][-1] == 300 and chart["currency"] == "CNY"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"exchange.post", "exchange.connect", "exchange.outcome"} <= actions


def test_filters_and_the_post_page(client_as, community, pair):
    need, offer = pair
    client = client_as(community, "viewer")
    page = client.get(url("exchange", community), {"kind": "need"}).content.decode()
    listed = section(page, "posts")
    assert f"#{need.pk} {need.title}" in listed and f"#{offer.pk} {offer.title}" not in listed
    searched = client.get(url("exchange", community), {"q": "前端开发", "kind": ""})
    assert f"#{offer.pk} " in section(searched.content.decode(), "posts")
    assert f"#{need.pk} " in section(searched.content.decode(), "posts")  # 需要前端开发
    tagged = client.get(url("exchange", community), {"tag": "nothing"}).content.decode()
    assert "Nothing matches these filters." in section(tagged, "posts")
    page = client.get(url("exchange_post", community, need.pk)).content.decode()
    assert "Offers that may meet this need" in page and f"#{offer.pk} " in page
    assert url("exchange_connect", community) not in page  # viewers see no write controls


def test_viewers_read_but_cannot_change(client_as, community, pair):
    need, offer = pair
    client = client_as(community, "viewer")
    assert client.get(url("exchange", community)).status_code == 200
    assert client.get(url("exchange_connections", community)).status_code == 200
    for name, args in (
        ("exchange_connect", ()),
        ("exchange_post_close", (need.pk,)),
        ("exchange_public_form", ()),
    ):
        response = client.post(url(name, community, *args), {"need": need.pk, "offer": offer.pk})
        assert response.status_code == 403, name
    assert client.get(url("exchange_settings", community)).status_code == 403
    assert not Connection.objects.exists()


def test_public_form_off_honeypot_throttle_and_approval(client, client_as, community):
    values = {
        "kind": "need",
        "title": "Need a logo",
        "description": "For our new café",
        "tags": "design",
        "name": "Zhao",
        "contact": "zhao@example.com",
        "website": "",
    }
    assert client.get("/needs-offers/not-a-token/").status_code == 404
    operator = client_as(community, "operator", username="op")
    operator.post(url("exchange_public_form", community), {"action": "open"})
    token = exchange_settings(community).public_token
    assert token
    settings_page = operator.get(url("exchange_settings", community)).content.decode()
    public = f"/needs-offers/{token}/"
    assert public in settings_page
    operator.logout()
    form = client.get(public)
    assert form.status_code == 200 and form["X-Robots-Tag"] == "noindex"
    # A robot fills in the hidden field: thanked, nothing kept.
    robot = client.post(public, {**values, "website": "http://spam.example"})
    assert robot.status_code == 302 and not Post.objects.exists()
    sent = client.post(public, values, follow=True)
    assert "Thank you" in sent.content.decode()
    waiting = Post.objects.get()
    assert (waiting.status, waiting.member, waiting.submitter_contact) == (
        "pending",
        None,
        "zhao@example.com",
    )
    # Problems are shown next to the fields.
    missing = client.post(public, {**values, "title": "", "contact": ""})
    assert missing.status_code == 400 and not Post.objects.filter(title="").exists()
    # The throttle: a few submissions per address and hour, then 429.
    for _i in range(SUBMISSIONS_PER_HOUR - 2):
        assert client.post(public, values).status_code == 302
    assert Post.objects.count() == SUBMISSIONS_PER_HOUR - 1
    throttled = client.post(public, values)
    assert throttled.status_code == 429
    assert Post.objects.count() == SUBMISSIONS_PER_HOUR - 1
    # Another address is not throttled.
    other = client.post(public, values, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302
    # The operator approves one for a new member, rejects another.
    operator = client_as(community, "operator", username="op2")
    page = operator.get(url("exchange", community)).content.decode()
    assert "Waiting for approval" in page and "zhao@example.com" in page
    first, second = Post.objects.order_by("id")[:2]
    operator.post(url("exchange_post_approve", community, first.pk), {"create_member": "on"})
    operator.post(url("exchange_post_reject", community, second.pk), {"reason": "duplicate"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "open" and first.member.display_name == "Zhao"
    assert second.status == "rejected" and second.status_note == "duplicate"
    # Turned off: the link answers 404.
    operator.post(url("exchange_public_form", community), {"action": "close"})
    operator.logout()
    assert client.get(public).status_code == 404
    assert client.post(public, values).status_code == 404


def test_approving_for_an_existing_member_by_name(client_as, community):
    do_open_public_form(community)
    from shequn.exchange.services import do_submit_public_post

    waiting = do_submit_public_post(
        community, {"kind": "offer", "title": "Tea"}, name="Mei", contact="mei"
    )
    mei = Member.objects.create(community=community, display_name="Mei Chen")
    viewer = client_as(community, "viewer", username="viewer")
    assert viewer.get(url("exchange_post", community, waiting.pk)).status_code == 404
    pending_list = viewer.get(url("exchange", community), {"status": "pending"}).content.decode()
    assert "Tea" not in section(pending_list, "posts")
    viewer.logout()
    client = client_as(community, "operator")
    wrong = client.post(
        url("exchange_post_approve", community, waiting.pk), {"member": "Nobody"}, follow=True
    )
    assert "was not approved" in wrong.content.decode()
    client.post(url("exchange_post_approve", community, waiting.pk), {"member": "Mei Chen"})
    waiting.refresh_from_db()
    assert waiting.member == mei and waiting.status == "open"


def test_settings_page_changes_points(client_as, community):
    client = client_as(community, "operator")
    bad = client.post(
        url("exchange_settings", community),
        {"points_for_offer": "-3", "points_for_need": "0", "min_score": "0.1"},
    )
    assert bad.status_code == 400
    client.post(
        url("exchange_settings", community),
        {"points_for_offer": "25", "points_for_need": "5", "min_score": "0.2"},
    )
    current = exchange_settings(community)
    assert (current.points_for_offer, current.points_for_need, current.min_score) == (25, 5, 0.2)


def test_connections_page_and_chinese(client_as, community, pair):
    need, offer = pair
    connection = do_confirm_connection(need, offer)
    do_record_outcome(connection, "helped")
    client = client_as(community, "viewer")
    client.cookies["django_language"] = "zh-hans"
    page = client.get(url("exchange_connections", community), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'lang="zh-hans"' in body and f'id="connection-{connection.pk}"' in body
