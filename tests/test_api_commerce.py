"""The business model API: offers, purchases and refunds, order files, costs, activity tickets
and the figures; refusals answer 422 naming the field and change nothing; viewers read only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shequn.accounts.services import do_create_token
from shequn.audit.models import AuditEntry
from shequn.commerce.models import Cost, Offer, Purchase
from shequn.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, make_account):
    def make(community, role: str):
        user = make_account(f"api-{role}-{community.slug}", community, role)
        _token, key = do_create_token(user, "test")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        def call(method: str, path: str, body=None, **kwargs):
            if body is not None:
                kwargs.update(data=body, content_type="application/json")
            return getattr(client, method)(
                f"/api/v1/communities/{community.slug}/commerce{path}", **headers, **kwargs
            )

        return call

    return make


@pytest.fixture
def ann(community):
    return Member.objects.create(community=community, display_name="Ann", key="ann@example.com")


def new_offer(call, **values) -> dict:
    body = {"kind": "course", "name": "Python course", "price": "199.00", "currency": "CNY"}
    response = call("post", "/offers", {**body, **values})
    assert response.status_code == 201, response.content
    return response.json()


def test_offers_create_change_list_and_deactivate(api, community):
    call = api(community, "operator")
    offer = new_offer(call, price=199)  # a JSON number is accepted
    assert offer["price"] == "199.00" and offer["sold"] == 0
    refused = call(
        "post", "/offers", {"kind": "hobby", "name": "", "price": "1.005", "currency": "X"}
    )
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    fields = {error["loc"][-1] for error in refused.json()["errors"]}
    assert fields == {"kind", "name", "price", "currency"}
    assert Offer.objects.count() == 1
    changed = call("patch", f"/offers/{offer['id']}", {"price": "149.5"})
    assert changed.status_code == 200 and changed.json()["price"] == "149.50"
    off = call("post", f"/offers/{offer['id']}/deactivate")
    assert off.json()["active"] is False
    assert call("get", "/offers?active=true").json() == []
    assert call("post", f"/offers/{offer['id']}/activate").json()["active"] is True
    assert call("patch", f"/offers/{offer['id']}", {"colour": "red"}).status_code == 422


def test_purchases_record_refund_list_and_detail(api, community, ann):
    call = api(community, "operator")
    offer = new_offer(call)
    response = call(
        "post",
        "/purchases",
        {
            "member_id": ann.pk,
            "offer_id": offer["id"],
            "amount": "149",
            "purchased_at": "2024-03-07T19:30",
            "source": "referral",
            "order_id": "A-1",
        },
    )
    assert response.status_code == 201, response.content
    purchase = response.json()
    assert (purchase["amount"], purchase["currency"], purchase["display_name"]) == (
        "149.00",
        "CNY",
        "Ann",
    )
    again = call(
        "post", "/purchases", {"member_id": ann.pk, "offer_id": offer["id"], "order_id": "A-1"}
    )
    assert again.status_code == 422
    assert [error["loc"][-1] for error in again.json()["errors"]] == ["order_id"]
    nobody = call("post", "/purchases", {"member_id": 999999, "offer_id": offer["id"]})
    assert nobody.status_code == 422 and "member" in nobody.json()["detail"]
    refunded = call(
        "post", f"/purchases/{purchase['id']}/refunds", {"amount": "49", "reason": "late"}
    )
    assert refunded.status_code == 201
    assert refunded.json()["refunded_amount"] == "49.00"
    assert refunded.json()["refunds"][0]["reason"] == "late"
    too_much = call("post", f"/purchases/{purchase['id']}/refunds", {"amount": "101"})
    assert too_much.status_code == 422
    page = call("get", "/purchases?refunded=yes&q=A-1").json()
    assert page["count"] == 1 and page["items"][0]["order_id"] == "A-1"
    assert call("get", "/purchases?refunded=no").json()["count"] == 0
    detail = call("get", f"/purchases/{purchase['id']}").json()
    assert detail["refunds"][0]["amount"] == "49.00"
    assert AuditEntry.objects.filter(action="commerce.purchase.refund").count() == 1


def test_order_file_import_dry_run_error_and_idempotence(api, community, ann):
    call = api(community, "operator")
    new_offer(call)
    text = (
        b"order_id,time,member_key,offer,amount\n"
        b"1,2024-01-01 10:00,ann@example.com,Python course,99\n"
    )

    def upload(data: bytes, **form):
        return call(
            "post",
            "/purchases/import",
            data={"file": SimpleUploadedFile("orders.csv", data), **form},
        )

    checked = upload(text, dry_run="true", time_zone="Asia/Shanghai")
    assert checked.status_code == 200 and checked.json()["added"] == 1
    assert Purchase.objects.count() == 0
    done = upload(text, time_zone="Asia/Shanghai")
    assert done.json()["revenue_added"] == {"CNY": "99.00"}
    assert Purchase.objects.get().purchased_at == dt.datetime(2024, 1, 1, 2, tzinfo=dt.UTC)
    assert upload(text, time_zone="Asia/Shanghai").json()["unchanged"] == 1
    bad = upload(text.replace(b"Python course", b"Yoga"))
    assert bad.status_code == 422
    assert "orders.csv: line 2" in bad.json()["detail"]
    assert upload(text, time_zone="Nowhere/Atlantis").status_code == 422


def test_costs_report_and_summary(api, community, ann):
    call = api(community, "operator")
    offer = new_offer(call)
    call("post", "/purchases", {"member_id": ann.pk, "offer_id": offer["id"]})
    month = dt.date.today().strftime("%Y-%m")
    made = call(
        "post",
        "/costs",
        {"month": month, "category": "tools", "amount": "50", "currency": "CNY", "repeat": 2},
    )
    assert made.status_code == 201 and len(made.json()) == 2
    refused = call(
        "post", "/costs", {"month": "soon", "category": "tools", "amount": "5", "currency": "CNY"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"][-1] == "month"
    assert call("get", "/costs").json()["count"] == 2
    report = call("get", "/report?months=1").json()
    assert report["currencies"] == ["CNY"]
    assert report["totals"]["CNY"]["revenue"] == "199.00"
    assert report["totals"]["CNY"]["costs"] == "50.00"
    assert report["totals"]["CNY"]["pays_for_itself"] is True
    assert report["by_offer"][0]["name"] == "Python course"
    summary = call("get", "/summary").json()
    assert summary["purchases"] == 1 and summary["revenue"] == {"CNY": "199.00"}
    assert call("get", "/summary?start=2024-02-01&end=2024-01-01").status_code == 422
    assert call("get", "/summary?start=0001-01-01T00:00:00").status_code == 422
    cost = made.json()[0]
    assert call("delete", f"/costs/{cost['id']}").status_code == 204
    assert Cost.objects.count() == 1


def test_activity_tickets_endpoint(api, community):
    response = api(community, "operator")("post", "/purchases/from-activities")
    assert response.status_code == 200 and response.json()["added"] == 0


def test_viewers_read_but_cannot_write(api, community, ann):
    operator = api(community, "operator")
    offer = new_offer(operator)
    purchase = operator("post", "/purchases", {"member_id": ann.pk, "offer_id": offer["id"]}).json()
    viewer = api(community, "viewer")
    assert viewer("get", "/offers").status_code == 200
    assert viewer("get", "/report").status_code == 200
    for method, path, body in (
        ("post", "/offers", {"kind": "course", "name": "x", "price": "1", "currency": "CNY"}),
        ("patch", f"/offers/{offer['id']}", {"price": "1"}),
        ("post", f"/offers/{offer['id']}/deactivate", None),
        ("post", "/purchases", {"member_id": ann.pk, "offer_id": offer["id"]}),
        ("post", f"/purchases/{purchase['id']}/refunds", {}),
        (
            "post",
            "/costs",
            {"month": "2024-01", "category": "tools", "amount": "1", "currency": "CNY"},
        ),
        ("post", "/purchases/from-activities", None),
    ):
        response = viewer(method, path, body)
        assert response.status_code == 403, (method, path)
    assert Purchase.objects.get().refunded_amount == Decimal("0")
