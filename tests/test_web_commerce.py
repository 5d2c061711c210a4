"""The business pages as operators and viewers meet them: the figures with the pays-for-itself
line and the chart data, offers, recording and refunding purchases, costs, the order file
upload with its error, paid activity registrations, in English and Chinese."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from shequn.audit.models import AuditEntry
from shequn.commerce.models import Cost, Offer, Purchase, Refund
from shequn.commerce.services import (
    do_add_cost,
    do_create_offer,
    do_record_purchase,
    do_refund_purchase,
)
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def url(name: str, community, *args) -> str:
    return reverse(f"web:{name}", args=[community.slug, *args])


@pytest.fixture
def course(community):
    return do_create_offer(
        community, {"kind": "course", "name": "Python course", "price": "199", "currency": "CNY"}
    )


@pytest.fixture
def ann(community):
    return Member.objects.create(community=community, display_name="Ann", key="ann@example.com")


def this_month(day: int = 2) -> dt.datetime:
    now = timezone.now().astimezone(SHANGHAI)
    return now.replace(day=day, hour=12, minute=0, second=0, microsecond=0)


def test_the_business_page_shows_revenue_costs_verdict_and_tables(
    client_as, community, course, ann
):
    do_record_purchase(
        community, {"member": ann, "offer": course, "purchased_at": this_month(1), "source": "ad"}
    )
    month = this_month().strftime("%Y-%m")
    do_add_cost(
        community, {"month": month, "category": "venue", "amount": "500", "currency": "CNY"}
    )
    client = client_as(community, "viewer")
    response = client.get(url("commerce", community))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Does not pay for itself" in page
    assert "199.00" in page and "500.00" in page and "-301.00" in page
    assert "Python course" in page and "ad" in page
    assert 'data-chart="commerce-revenue"' in page
    assert "commerce/revenue" in page and "chart.umd" in page  # drawn locally, no CDN
    chart = response.context["charts"][0]
    assert chart["currency"] == "CNY"
    assert chart["rows"][-1] == {
        "month": month,
        "revenue": "199.00",
        "costs": "500.00",
        "balance": "-301.00",
    }
    # A viewer reads but is offered no way to write.
    assert url("commerce_import", community) not in page
    assert client.get(url("commerce", community) + "?months=3").context["months"] == 3
    assert client.get(url("commerce", community) + "?months=999").status_code == 200


def test_the_business_page_in_chinese(client_as, community, course, ann):
    do_record_purchase(community, {"member": ann, "offer": course})
    client = client_as(community, "operator")
    response = client.get(url("commerce", community), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_an_empty_community_is_told_what_to_do(client_as, community):
    response = client_as(community, "operator").get(url("commerce", community))
    assert "No purchases or costs in this period" in response.content.decode()


def test_operators_create_edit_and_take_offers_off_sale(client_as, community):
    client = client_as(community, "operator")
    refused = client.post(
        url("commerce_offer_new", community),
        {"kind": "course", "name": "", "price": "abc", "currency": "XXX1"},
    )
    assert refused.status_code == 400
    errors = refused.context["form"].errors
    assert {"name", "price", "currency"} <= set(errors)
    assert Offer.objects.count() == 0
    created = client.post(
        url("commerce_offer_new", community),
        {
            "kind": "membership",
            "name": "Yearly",
            "price": "399",
            "currency": "cny",
            "duration_days": "365",
            "active": "on",
        },
    )
    assert created.status_code == 302
    offer = Offer.objects.get()
    assert (offer.currency, offer.duration_days, offer.active) == ("CNY", 365, True)
    edit = client.get(url("commerce_offer_edit", community, offer.pk))
    assert edit.context["form"].initial["price"] == "399.00"
    client.post(
        url("commerce_offer_edit", community, offer.pk),
        {"kind": "membership", "name": "Yearly", "price": "349", "currency": "CNY", "active": "on"},
    )
    offer.refresh_from_db()
    assert offer.price == 349 and offer.duration_days is None
    client.post(url("commerce_offer_active", community, offer.pk), {"active": "0"})
    offer.refresh_from_db()
    assert offer.active is False
    page = client.get(url("commerce_offers", community)).content.decode()
    assert "off sale" in page and "Yearly" in page
    assert AuditEntry.objects.filter(action__startswith="commerce.offer").count() == 3


def test_recording_and_refunding_a_purchase(client_as, community, course, ann):
    client = client_as(community, "operator")
    refused = client.post(
        url("commerce_purchase_new", community),
        {"member": "nobody", "offer": str(course.pk), "amount": "1.234"},
    )
    assert refused.status_code == 400
    assert "nobody" in str(refused.context["form"].errors["member"])
    assert Purchase.objects.count() == 0
    response = client.post(
        url("commerce_purchase_new", community),
        {
            "member": "ann@example.com",
            "offer": str(course.pk),
            "amount": "149",
            "purchased_at": "2024-03-07T19:30",
            "source": "referral",
        },
    )
    purchase = Purchase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("commerce_purchase", community, purchase.pk)
    assert purchase.purchased_at == dt.datetime(2024, 3, 7, 19, 30, tzinfo=dt.UTC)  # a UTC club
    too_much = client.post(
        url("commerce_purchase_refund", community, purchase.pk), {"amount": "150"}
    )
    assert too_much.status_code == 400 and Refund.objects.count() == 0
    assert "149.00" in too_much.content.decode()
    client.post(
        url("commerce_purchase_refund", community, purchase.pk), {"amount": "49", "reason": "late"}
    )
    page = client.get(url("commerce_purchase", community, purchase.pk)).content.decode()
    assert "late" in page and "Up to 100.00 CNY" in page
    listing = client.get(url("commerce_purchases", community) + "?refunded=yes").content.decode()
    assert "Ann" in listing
    assert (
        "Ann"
        not in client.get(url("commerce_purchases", community) + "?refunded=no").content.decode()
    )
    csv_text = client.get(url("commerce_purchases_csv", community)).content.decode()
    assert csv_text.splitlines()[0].startswith("purchase_id,order_id,time")
    assert "149.00,49.00,CNY,referral" in csv_text


def test_the_csv_export_keeps_formulas_as_text(client_as, community, course):
    evil = Member.objects.create(community=community, display_name="=HYPERLINK(1)")
    do_record_purchase(community, {"member": evil, "offer": course, "note": "+1"})
    text = client_as(community, "viewer").get(url("commerce_purchases_csv", community)).content
    assert b"'=HYPERLINK(1)" in text and b"'+1" in text


def test_costs_are_recorded_for_several_months_and_removed(client_as, community):
    client = client_as(community, "operator")
    refused = client.post(
        url("commerce_cost_new", community),
        {"month": "March", "category": "tools", "amount": "-3", "currency": "CNY", "repeat": "1"},
    )
    assert refused.status_code == 400
    assert {"month", "amount"} <= set(refused.context["form"].errors)
    client.post(
        url("commerce_cost_new", community),
        {"month": "2024-03", "category": "tools", "amount": "30", "currency": "USD", "repeat": "3"},
    )
    assert sorted(Cost.objects.values_list("month", flat=True)) == [
        dt.date(2024, 3, 1),
        dt.date(2024, 4, 1),
        dt.date(2024, 5, 1),
    ]
    cost = Cost.objects.order_by("month").first()
    client.post(url("commerce_cost_delete", community, cost.pk))
    assert Cost.objects.count() == 2
    assert "2024-05" in client.get(url("commerce_costs", community)).content.decode()


def test_uploading_an_order_file_shows_the_result_or_the_error(client_as, community, course, ann):
    client = client_as(community, "operator")
    page = client.get(url("commerce_import", community))
    assert page.context["form"].initial["time_zone"] == "UTC"
    bad = SimpleUploadedFile(
        "orders.csv",
        b"order_id,time,member_key,offer\n1,2024-01-01,ann@example.com,Yoga\n",
    )
    response = client.post(
        url("commerce_import", community), {"file": bad, "time_zone": "Asia/Shanghai"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was imported" in text and "orders.csv: line 2" in text and "Yoga" in text
    assert Purchase.objects.count() == 0
    good = (
        b"order_id,time,member_key,offer,amount\n"
        b"1,2024-01-01 10:00,ann@example.com,Python course,99\n"
    )
    checked = client.post(
        url("commerce_import", community),
        {"file": SimpleUploadedFile("o.csv", good), "time_zone": "Asia/Shanghai", "dry_run": "on"},
    )
    assert checked.status_code == 200 and checked.context["result"].dry_run
    assert Purchase.objects.count() == 0
    done = client.post(
        url("commerce_import", community),
        {"file": SimpleUploadedFile("o.csv", good), "time_zone": "Asia/Shanghai"},
    )
    assert done.context["result"].added == 1
    assert "1 purchases added" in done.content.decode()
    assert Purchase.objects.get().purchased_at == dt.datetime(2024, 1, 1, 2, tzinfo=dt.UTC)


def test_paid_registrations_from_the_business_page(client_as, community):
    from shequn.activities.services import (
        do_create_activity,
        do_publish_activity,
        do_register,
        do_set_fee_status,
    )

    start = timezone.now() + dt.timedelta(days=3)
    activity = do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Meetup",
                "mode": "online",
                "content_type": "social",
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=1),
                "fee_amount": "20",
                "currency": "USD",
            },
        )
    )
    member = Member.objects.create(community=community, display_name="Bo")
    do_set_fee_status(do_register(activity, member), "paid")
    response = client_as(community, "operator").post(url("commerce_tickets", community))
    assert response.status_code == 302
    assert Purchase.objects.get().amount == 20


def test_viewers_cannot_write(client_as, community, course, ann):
    purchase = do_record_purchase(community, {"member": ann, "offer": course})
    cost = do_add_cost(
        community, {"month": "2024-01", "category": "tools", "amount": "5", "currency": "CNY"}
    )[0]
    client = client_as(community, "viewer")
    for name, args in (
        ("commerce_offer_new", ()),
        ("commerce_offer_edit", (course.pk,)),
        ("commerce_offer_active", (course.pk,)),
        ("commerce_purchase_new", ()),
        ("commerce_purchase_refund", (purchase.pk,)),
        ("commerce_cost_new", ()),
        ("commerce_cost_delete", (cost.pk,)),
        ("commerce_import", ()),
        ("commerce_tickets", ()),
    ):
        assert client.post(url(name, community, *args)).status_code == 403, name
    assert client.get(url("commerce_purchase", community, purchase.pk)).status_code == 200
    assert Refund.objects.count() == 0 and Cost.objects.count() == 1


def test_refunded_purchase_shows_and_the_figures_leave_it_out(client_as, community, course, ann):
    purchase = do_record_purchase(community, {"member": ann, "offer": course})
    do_refund_purchase(purchase)
    response = client_as(community, "viewer").get(url("commerce", community))
    assert response.context["report"]["refunded_in_full"] == 1
    assert response.context["report"]["purchases"] == 0
    data = json.dumps(response.context["charts"])
    assert '"revenue": "0.00"' in data
