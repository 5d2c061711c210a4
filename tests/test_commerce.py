"""The business model's services and figures: offers, purchases and refunds, costs, the order
file import (all or nothing, idempotent, time zones, every kind of bad row) and the reports on
hand-worked numbers (per month, tier on the purchase day, channel, offer, renewals, multiple
currencies), checked on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import with_account
from django.apps import apps
from django.utils import timezone

from shequn.activities.models import Registration
from shequn.activities.services import (
    do_create_activity,
    do_publish_activity,
    do_register,
    do_set_fee_status,
)
from shequn.audit.models import AuditEntry
from shequn.commerce.models import Cost, Offer, Purchase, Refund
from shequn.commerce.selectors import business_report, revenue_summary
from shequn.commerce.services import (
    CommerceError,
    do_add_cost,
    do_create_offer,
    do_delete_cost,
    do_import_activity_tickets,
    do_import_purchases,
    do_record_purchase,
    do_refund_purchase,
    do_set_offer_active,
    do_update_offer,
)
from shequn.communities.models import Channel
from shequn.communities.services import do_update_community_profile
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.models import InteractionEvent
from shequn.members.models import Identity, Member, MemberMerge
from shequn.members.services import do_merge_members, do_unmerge
from shequn.tiers.models import TierChange, TierRun
from shequn.tiers.selectors import tiers_on

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HEADER = "order_id,time,member_key,offer,amount,currency,source\n"


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A clock time in Shanghai."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def commerce_counts() -> dict[str, int]:
    """Rows of every table an import may touch: equal before and after means nothing changed."""
    labels = {"commerce", "members", "communities", "audit"}
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in labels
    }


@pytest.fixture
def shop(community):
    """A Shanghai community selling a yearly membership, a course (CNY) and a T-shirt (USD),
    with four members who have member keys."""
    do_update_community_profile(community, time_zone="Asia/Shanghai")
    offers = {
        "membership": do_create_offer(
            community,
            {
                "kind": "membership",
                "name": "Annual membership",
                "code": "M-365",
                "price": "399",
                "currency": "CNY",
                "duration_days": 365,
            },
        ),
        "course": do_create_offer(
            community,
            {"kind": "course", "name": "Python course", "price": "199.00", "currency": "cny"},
        ),
        "shirt": do_create_offer(
            community, {"kind": "product", "name": "T-shirt", "price": "20", "currency": "USD"}
        ),
    }
    members = {
        name: Member.objects.create(
            community=community, display_name=name.title(), key=f"{name}@example.com"
        )
        for name in ("ann", "bob", "cid", "dee")
    }
    return community, offers, members


def buy(community, member, offer, when, amount=None, **values) -> Purchase:
    return do_record_purchase(
        community,
        {
            "member": member,
            "offer": offer,
            "purchased_at": when,
            **({"amount": amount} if amount is not None else {}),
            **values,
        },
    )


# ------------------------------------------------------------------------------ offers
def test_offers_are_validated_unique_by_name_and_code_and_audited(shop):
    community, offers, _members = shop
    assert offers["course"].currency == "CNY"
    assert offers["membership"].price == Decimal("399.00")
    with pytest.raises(CommerceError) as error:
        do_create_offer(
            community,
            {
                "kind": "course",
                "name": "python COURSE",
                "code": "M-365",
                "price": "-1",
                "currency": "RMB",
                "duration_days": 30,
            },
        )
    problems = error.value.problems
    assert set(problems) == {"price", "currency", "duration_days"}
    assert "RMB" in problems["currency"]
    with pytest.raises(CommerceError) as error:
        do_create_offer(
            community, {"kind": "course", "name": "python COURSE", "price": "1", "currency": "CNY"}
        )
    assert "name" in error.value.problems
    with pytest.raises(CommerceError) as error:
        do_create_offer(
            community,
            {"kind": "course", "name": "Other", "code": "M-365", "price": "1", "currency": "CNY"},
        )
    assert "code" in error.value.problems
    with pytest.raises(CommerceError) as error:
        do_create_offer(
            community, {"kind": "course", "name": "Cheap", "price": "1.999", "currency": "CNY"}
        )
    assert "two decimal" in error.value.problems["price"]
    assert Offer.objects.filter(community=community).count() == 3
    assert AuditEntry.objects.filter(action="commerce.offer.create").count() == 3

    updated = do_update_offer(offers["course"], {"price": "249"})
    assert updated.price == Decimal("249.00")
    entry = AuditEntry.objects.filter(action="commerce.offer.update").get()
    assert entry.details == {"before": {"price": "199.00"}, "after": {"price": "249.00"}}
    do_update_offer(offers["course"], {"price": "249.00"})  # no change: nothing audited
    assert AuditEntry.objects.filter(action="commerce.offer.update").count() == 1
    # No longer a membership: the duration goes with it.
    product = do_update_offer(offers["membership"], {"kind": "product"})
    assert product.duration_days is None
    off = do_set_offer_active(offers["shirt"], False)
    assert off.active is False and Offer.objects.get(pk=off.pk).active is False


# --------------------------------------------------------------------------- purchases
def test_recording_a_purchase_defaults_to_the_list_price_and_refuses_bad_values(
    shop, other_community
):
    community, offers, members = shop
    purchase = buy(community, members["ann"], offers["course"], at(2024, 2, 5))
    assert (purchase.amount, purchase.currency) == (Decimal("199.00"), "CNY")
    assert purchase.origin == Purchase.Origin.OPERATOR
    discounted = buy(
        community, members["bob"], offers["course"], "2024-02-06 10:00", "149", order_id="A-1"
    )
    assert discounted.amount == Decimal("149.00")
    # A clock time without an offset is the community's (Shanghai).
    assert discounted.purchased_at == at(2024, 2, 6, 10)
    entry = AuditEntry.objects.get(action="commerce.purchase.record", target_id=str(discounted.pk))
    assert entry.details["after"]["amount"] == "149.00"

    stranger = Member.objects.create(community=other_community, display_name="Stranger")
    before = Purchase.objects.count()
    with pytest.raises(CommerceError) as error:
        do_record_purchase(
            community,
            {
                "member": stranger,
                "offer": offers["course"],
                "amount": 12.5,
                "purchased_at": timezone.now() + dt.timedelta(days=3),
                "order_id": "A-1",
            },
        )
    problems = error.value.problems
    assert set(problems) == {"member", "amount", "purchased_at", "order_id"}
    assert "A-1" in problems["order_id"]
    assert Purchase.objects.count() == before


def test_refunds_are_rows_partial_or_full_and_never_more_than_paid(shop):
    community, offers, members = shop
    purchase = buy(community, members["bob"], offers["membership"], at(2024, 3, 1))
    with pytest.raises(CommerceError) as error:
        do_refund_purchase(purchase, amount="400")
    assert "399.00" in error.value.problems["amount"]
    with pytest.raises(CommerceError) as error:
        do_refund_purchase(purchase, amount="10", refunded_at=at(2024, 2, 1))
    assert "refunded_at" in error.value.problems
    assert Refund.objects.count() == 0

    do_refund_purchase(purchase, amount="99", reason="late start")
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("99.00")
    assert purchase.net_amount == Decimal("300.00") and not purchase.fully_refunded
    do_refund_purchase(purchase)  # the rest
    purchase.refresh_from_db()
    assert purchase.fully_refunded
    assert list(Refund.objects.order_by("id").values_list("amount", flat=True)) == [
        Decimal("99.00"),
        Decimal("300.00"),
    ]
    with pytest.raises(CommerceError, match="already refunded"):
        do_refund_purchase(purchase)
    entries = AuditEntry.objects.filter(action="commerce.purchase.refund").order_by("id")
    assert [entry.details["refunded_in_total"] for entry in entries] == ["99.00", "399.00"]
    assert Purchase.objects.filter(pk=purchase.pk).exists()  # kept, never deleted


def test_costs_repeat_monthly_are_validated_and_deletion_is_audited(shop):
    community, _offers, _members = shop
    costs = do_add_cost(
        community,
        {"month": "2024-11", "category": "tools", "amount": "30", "currency": "USD"},
        repeat=3,
    )
    assert [cost.month for cost in costs] == [
        dt.date(2024, 11, 1),
        dt.date(2024, 12, 1),
        dt.date(2025, 1, 1),
    ]
    with pytest.raises(CommerceError) as error:
        do_add_cost(
            community, {"month": "2024-13", "category": "food", "amount": "0", "currency": ""}
        )
    assert set(error.value.problems) == {"month", "category", "amount", "currency"}
    with pytest.raises(CommerceError):
        do_add_cost(
            community,
            {"month": "2024-01", "category": "tools", "amount": "1", "currency": "CNY"},
            repeat=0,
        )
    do_delete_cost(costs[0])
    assert Cost.objects.count() == 2
    entry = AuditEntry.objects.get(action="commerce.cost.delete")
    assert entry.details["amount"] == "30.00" and entry.details["month"] == "2024-11-01"


def test_a_merge_keeps_the_purchases_with_the_person_and_undoing_it_gives_them_back(shop):
    community, offers, members = shop
    twin = with_account(
        Member.objects.create(community=community, display_name="Ann (phone)"), "p1"
    )
    buy(community, twin, offers["course"], at(2024, 2, 1))
    buy(community, members["ann"], offers["shirt"], at(2024, 2, 2))
    do_merge_members(twin, members["ann"])
    assert set(Purchase.objects.values_list("member", flat=True)) == {members["ann"].pk}

    restored = do_unmerge(MemberMerge.objects.get())

    assert Purchase.objects.get(offer=offers["course"]).member == restored
    assert Purchase.objects.get(offer=offers["shirt"]).member == members["ann"]
    given = AuditEntry.objects.get(action="member.unmerge").details["given_back"]
    assert given == {"commerce.Purchase": 1}


# -------------------------------------------------------------------------- import
def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    HEADER
    + "1001,2024-01-10 09:00,ann@example.com,Annual membership,399,CNY,referral\n"
    + "1002,2024-01-31T23:30:00,BOB@example.com,python course,149.00,,WeChat group A\n"
    + "1003,2024-02-29T20:00:00Z,cid@example.com,#{shirt},20,USD,\n"
    + "1004,1707375600,dee@example.com,M-365,399,,ad\n"
)


def good_file(tmp_path, offers) -> Path:
    return write(tmp_path, GOOD.replace("{shirt}", str(offers["shirt"].pk)))


def test_import_a_good_file_then_again_changes_nothing(shop, tmp_path):
    community, offers, members = shop
    path = good_file(tmp_path, offers)
    result = do_import_purchases(community, path)
    assert (result.rows, result.added, result.unchanged, result.members_created) == (4, 4, 0, 0)
    assert result.revenue_added == {"CNY": "947.00", "USD": "20.00"}
    stored = {p.order_id: p for p in Purchase.objects.select_related("member", "offer")}
    assert stored["1002"].member == members["bob"]  # the member key, in any case
    assert stored["1002"].offer == offers["course"]  # the name, in any case
    assert stored["1002"].currency == "CNY"  # empty: the offer's currency
    assert stored["1003"].offer == offers["shirt"]  # "#id"
    assert stored["1004"].offer == offers["membership"]  # the code
    # Times: a clock time is Shanghai's; an offset or Z is kept; digits are Unix seconds.
    assert stored["1001"].purchased_at == at(2024, 1, 10, 9)
    assert stored["1002"].purchased_at == at(2024, 1, 31, 23, 30)
    assert stored["1003"].purchased_at == dt.datetime(2024, 2, 29, 20, tzinfo=dt.UTC)
    assert stored["1004"].purchased_at == dt.datetime.fromtimestamp(1707375600, dt.UTC)
    assert all(p.origin == Purchase.Origin.IMPORT for p in stored.values())
    assert AuditEntry.objects.filter(action="commerce.purchases.import").count() == 1

    before = commerce_counts()
    again = do_import_purchases(community, path)
    assert (again.added, again.unchanged, again.refunds_added) == (0, 4, 0)
    assert commerce_counts() == before


def test_import_reads_clock_times_in_the_time_zone_asked_for(shop, tmp_path):
    community, _offers, _members = shop
    path = write(tmp_path, HEADER + "9,2024-03-01 00:30,ann@example.com,T-shirt,20,USD,\n")
    do_import_purchases(community, path, time_zone_name="Europe/Berlin")
    assert Purchase.objects.get().purchased_at == dt.datetime(
        2024, 3, 1, 0, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")
    )
    with pytest.raises(CommerceError) as error:
        do_import_purchases(community, path, time_zone_name="Mars/Olympus")
    assert error.value.field == "time_zone"


BAD_ROWS = {
    "unknown offer": ("1,2024-01-01,ann@example.com,Yoga,10,CNY,", "no offer 'Yoga'"),
    "unknown member": (
        "1,2024-01-01,zed@example.com,T-shirt,20,USD,",
        "no member matches 'zed@example.com'",
    ),
    "bad amount": ('1,2024-01-01,ann@example.com,T-shirt,"1,299",USD,', "'1,299'"),
    "empty amount": ("1,2024-01-01,ann@example.com,T-shirt,,USD,", "amount is empty"),
    "negative amount": ("1,2024-01-01,ann@example.com,T-shirt,-5,USD,", "'-5'"),
    "bad time": ("1,next tuesday,ann@example.com,T-shirt,20,USD,", "'next tuesday'"),
    "bad currency": ("1,2024-01-01,ann@example.com,T-shirt,20,RMB,", "'RMB'"),
    "empty order id": (",2024-01-01,ann@example.com,T-shirt,20,USD,", "order_id is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_row_names_file_line_and_problem_and_nothing_is_imported(shop, tmp_path, case):
    community, _offers, _members = shop
    row, problem = BAD_ROWS[case]
    good = "7,2024-01-01,bob@example.com,T-shirt,20,USD,\n"
    path = write(tmp_path, HEADER + good + row + "\n")
    before = commerce_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import_purchases(community, path)
    message = str(error.value)
    assert str(path) in message and "line 3" in message, message
    assert problem in message, message
    assert commerce_counts() == before


def test_bad_headers_duplicates_and_statuses_are_refused(shop, tmp_path):
    community, _offers, _members = shop
    cases = {
        "order_id,member_key,offer\n1,ann@example.com,T-shirt\n": "time",
        "order_id,time,offer\n1,2024-01-01,T-shirt\n": "who bought",
        "": "empty",
        HEADER + "1,2024-01-01,ann@example.com,T-shirt,20,USD,\n"
        "1,2024-01-02,bob@example.com,T-shirt,20,USD,\n": "already on line 2",
        "order_id,time,member_key,offer,amount,status\n"
        "1,2024-01-01,ann@example.com,T-shirt,20,partially refunded\n": "refund_amount",
        "order_id,time,member_key,offer,amount,status\n"
        "1,2024-01-01,ann@example.com,T-shirt,20,lost in the post\n": "not known",
        "order_id,time,member_key,offer,amount,refund_amount\n"
        "1,2024-01-01,ann@example.com,T-shirt,20,25\n": "more than the amount paid",
        'order_id,time,member_key,offer\n1,2024-01-01,ann@example.com,"T-shirt\n': "malformed",
    }
    before = commerce_counts()
    for text, problem in cases.items():
        with pytest.raises(ImportFormatError) as error:
            do_import_purchases(community, write(tmp_path, text))
        assert problem in str(error.value), (text, str(error.value))
    with pytest.raises(ImportFormatError, match="UTF-8"):
        path = tmp_path / "gbk.csv"
        path.write_bytes(HEADER.encode() + "1,2024-01-01,张三,T-shirt,20,USD,\n".encode("gbk"))
        do_import_purchases(community, path)
    assert commerce_counts() == before


def test_members_by_id_account_and_name_ambiguity_and_creating_them(shop, tmp_path):
    community, _offers, members = shop
    channel = Channel.objects.create(community=community, platform="wechat", external_id="g1")
    Identity.objects.create(member=members["cid"], channel=channel, platform_user_id="wxid_cid")
    Member.objects.create(community=community, display_name="Ann")  # a second "Ann"
    header = "order_id,time,member_id,account,platform,name,offer\n"
    rows = (
        f"1,2024-01-01,{members['bob'].pk},,,,T-shirt\n"
        "2,2024-01-01,,wxid_cid,wechat,,T-shirt\n"
        "3,2024-01-01,,,,Dee,T-shirt\n"
    )
    result = do_import_purchases(community, write(tmp_path, header + rows))
    assert result.added == 3
    assert {p.order_id: p.member.key for p in Purchase.objects.all()} == {
        "1": "bob@example.com",
        "2": "cid@example.com",
        "3": "dee@example.com",
    }
    before = commerce_counts()
    with pytest.raises(ImportFormatError, match="'Ann' matches several members"):
        do_import_purchases(community, write(tmp_path, header + "4,2024-01-01,,,,Ann,T-shirt\n"))
    with pytest.raises(ImportFormatError, match="no member #999999"):
        do_import_purchases(community, write(tmp_path, header + "4,2024-01-01,999999,,,,T-shirt\n"))
    new_people = (
        "order_id,time,member_key,account,platform,name,offer\n"
        "5,2024-01-01,eve@example.com,,,Eve,T-shirt\n"
        "6,2024-01-02,eve@example.com,,,Eve,Python course\n"
        "7,2024-01-03,,wxid_fay,wechat,Fay,T-shirt\n"
    )
    path = write(tmp_path, new_people)
    with pytest.raises(ImportFormatError, match="--create-members"):
        do_import_purchases(community, path)
    assert commerce_counts() == before
    result = do_import_purchases(community, path, create_members=True)
    assert (result.added, result.members_created) == (3, 2)
    eve = Member.objects.get(key="eve@example.com")
    assert eve.display_name == "Eve" and eve.purchases.count() == 2
    fay = Identity.objects.get(platform_user_id="wxid_fay")
    assert fay.member.display_name == "Fay" and fay.channel.platform == "wechat"
    again = do_import_purchases(community, path, create_members=True)
    assert (again.added, again.members_created) == (0, 0)


def test_refunds_in_the_file_and_in_a_later_export(shop, tmp_path):
    community, _offers, _members = shop
    header = "order_id,time,member_key,offer,amount,currency,status,refund_amount,refunded_at\n"
    first = (
        "1,2024-01-01,ann@example.com,Python course,199,CNY,paid,,\n"
        "2,2024-01-02,bob@example.com,Python course,199,CNY,refunded,,2024-01-05\n"
        "3,2024-01-03,cid@example.com,Python course,199,CNY,,50,2024-01-06\n"
        "4,2024-01-04,dee@example.com,Python course,199,CNY,cancelled,,\n"
    )
    result = do_import_purchases(community, write(tmp_path, header + first))
    assert (result.rows, result.added, result.not_paid, result.refunds_added) == (3, 3, 1, 2)
    assert result.revenue_added == {"CNY": "348.00"}
    stored = {p.order_id: p for p in Purchase.objects.all()}
    assert stored["2"].fully_refunded
    assert stored["3"].refunded_amount == Decimal("50.00")
    assert Refund.objects.get(purchase=stored["2"]).refunded_at == at(2024, 1, 5, 0)
    # The shop's next export: order 1 was refunded since; order 3 is unchanged.
    later = first.replace(
        "1,2024-01-01,ann@example.com,Python course,199,CNY,paid,,",
        ("1,2024-01-01,ann@example.com,Python course,199,CNY,refunded,,2024-02-01"),
    )
    result = do_import_purchases(community, write(tmp_path, header + later))
    assert (result.added, result.refunds_added, result.unchanged) == (0, 1, 2)
    assert Purchase.objects.get(order_id="1").fully_refunded
    # An order stored before that now says another amount is refused, not rewritten.
    changed = later.replace(",199,CNY,,50,", ",189,CNY,,50,")
    before = commerce_counts()
    with pytest.raises(ImportFormatError, match="imported before") as error:
        do_import_purchases(community, write(tmp_path, header + changed))
    assert "line 4" in str(error.value) and "189.00" in str(error.value)
    assert commerce_counts() == before


def test_dry_run_checks_and_counts_but_writes_nothing(shop, tmp_path):
    community, offers, _members = shop
    before = commerce_counts()
    result = do_import_purchases(community, good_file(tmp_path, offers), dry_run=True)
    assert (result.added, result.dry_run) == (4, True)
    assert commerce_counts() == before


# ------------------------------------------------------------------------- reports
@pytest.fixture
def sales(shop):
    """Hand-worked sales (Shanghai time) — revenue CNY: Jan 548, Feb 199, Mar 300; USD: Feb 20.

    Ann: membership 399 (Jan 10, referral), course 199 (Feb 5, no source).
    Bob: course 149 (Jan 31 23:30, "Referral"), membership 399 on Mar 1 04:00 (Feb 29 in UTC,
         "referral") with 99 refunded.
    Cid: T-shirt 20 USD (Feb 10, no source). Dee: course 199 (Feb 20), refunded in full.
    """
    community, offers, members = shop
    ann, bob, cid, dee = (members[name] for name in ("ann", "bob", "cid", "dee"))
    buy(community, ann, offers["membership"], at(2024, 1, 10), source="referral")
    buy(community, bob, offers["course"], at(2024, 1, 31, 23, 30), "149", source="Referral")
    buy(community, ann, offers["course"], at(2024, 2, 5))
    buy(community, cid, offers["shirt"], at(2024, 2, 10))
    do_refund_purchase(buy(community, dee, offers["course"], at(2024, 2, 20)))
    late = buy(community, bob, offers["membership"], at(2024, 3, 1, 4), source="referral")
    do_refund_purchase(late, amount="99")
    do_add_cost(
        community, {"month": "2024-02", "category": "tools", "amount": "100", "currency": "CNY"}
    )
    do_add_cost(
        community, {"month": "2024-03", "category": "venue", "amount": "500", "currency": "CNY"}
    )
    do_add_cost(
        community, {"month": "2024-01", "category": "tools", "amount": "10", "currency": "USD"}
    )
    # Where they came from: Ann's account in WeChat group A; Cid spoke first on Discord
    # (an event) although his WeChat account is older.
    wechat = Channel.objects.create(
        community=community, platform="wechat", external_id="ga", name="Group A"
    )
    discord = Channel.objects.create(
        community=community, platform="discord", external_id="gen", name="general"
    )
    Identity.objects.create(member=ann, channel=wechat, platform_user_id="wx-ann")
    Identity.objects.create(member=cid, channel=wechat, platform_user_id="wx-cid")
    InteractionEvent.objects.create(
        community=community,
        channel=discord,
        member=cid,
        kind="message",
        occurred_at=at(2023, 12, 1),
        day=dt.date(2023, 12, 1),
        source_id="m1",
    )
    # Tiers: Ann a follower from Dec 1, an advocate from Feb 1; Bob a participant from Jan 1;
    # Cid and Dee never tiered.
    TierRun.objects.create(
        community=community, as_of=dt.date(2024, 3, 1), finished_at=timezone.now()
    )
    for member, tier, day in (
        (ann, "follower", dt.date(2023, 12, 1)),
        (ann, "advocate", dt.date(2024, 2, 1)),
        (bob, "participant", dt.date(2024, 1, 1)),
    ):
        TierChange.objects.create(member=member, community=community, to_tier=tier, changed_on=day)
    return community, offers, members


def test_report_per_month_currency_costs_and_pays_for_itself(sales):
    community, _offers, _members = sales
    report = business_report(community, months=3, now=at(2024, 3, 15))
    assert report["currencies"] == ["CNY", "USD"]
    assert [month["month"] for month in report["months"]] == [
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
    ]
    cny = [month["currencies"]["CNY"] for month in report["months"]]
    assert [m["revenue"] for m in cny] == [Decimal("548.00"), Decimal("199.00"), Decimal("300.00")]
    assert [m["costs"] for m in cny] == [Decimal("0.00"), Decimal("100.00"), Decimal("500.00")]
    assert [m["balance"] for m in cny] == [Decimal("548.00"), Decimal("99.00"), Decimal("-200.00")]
    assert [m["purchases"] for m in cny] == [2, 1, 1]
    usd = [month["currencies"]["USD"] for month in report["months"]]
    assert [m["revenue"] for m in usd] == [Decimal("0.00"), Decimal("20.00"), Decimal("0.00")]
    totals = report["totals"]["CNY"]
    assert totals["revenue"] == Decimal("1047.00")
    assert totals["refunded"] == Decimal("298.00")  # Dee's 199 and Bob's 99
    assert totals["gross"] == Decimal("1345.00")
    assert (totals["costs"], totals["balance"]) == (Decimal("600.00"), Decimal("447.00"))
    assert totals["pays_for_itself"] is True
    assert (totals["months_covered"], totals["months_with_costs"]) == (1, 2)
    # Revenue per paying member: 1047 / (Ann 598, Bob 449); the top 10 % (one buyer) is Ann.
    assert totals["revenue_per_paying_member"] == Decimal("523.50")
    assert totals["top_buyers_share"] == pytest.approx(598 / 1047)
    assert report["totals"]["USD"]["balance"] == Decimal("10.00")
    # Ann and Bob bought twice, Cid once; Dee's purchase was refunded in full.
    assert (report["purchases"], report["buyers"], report["repeat_buyers"]) == (5, 3, 2)
    assert report["repeat_rate"] == pytest.approx(2 / 3)
    assert report["refunded_in_full"] == 1


def test_report_per_tier_on_the_purchase_day(sales):
    community, _offers, members = sales
    report = business_report(community, months=3, now=at(2024, 3, 15))
    rows = {row["tier"]: row for row in report["by_tier"]}
    assert list(rows) == ["advocate", "participant", "follower", "unknown"]
    assert rows["advocate"]["revenue"] == {"CNY": Decimal("199.00")}  # Ann in February
    assert rows["follower"]["revenue"] == {"CNY": Decimal("399.00")}  # Ann in January
    assert rows["participant"]["revenue"] == {"CNY": Decimal("449.00")}
    assert (rows["participant"]["purchases"], rows["participant"]["buyers"]) == (2, 1)
    assert rows["unknown"]["revenue"] == {"USD": Decimal("20.00")}
    assert rows["follower"]["share"]["CNY"] == pytest.approx(399 / 1047)
    # The same tiers as the tiers app says for those days.
    assert tiers_on(community, dt.date(2024, 1, 10))[members["ann"].pk] == "follower"
    assert tiers_on(community, dt.date(2024, 2, 5))[members["ann"].pk] == "advocate"


def test_report_without_a_tier_run_counts_every_purchase_as_unknown(shop):
    community, offers, members = shop
    buy(community, members["ann"], offers["course"], at(2024, 2, 5))
    report = business_report(community, months=2, now=at(2024, 3, 1))
    assert report["tiers_known"] is False
    assert [row["tier"] for row in report["by_tier"]] == ["unknown"]


def test_report_per_channel_source_else_first_seen(sales):
    community, _offers, _members = sales
    report = business_report(community, months=3, now=at(2024, 3, 15))
    rows = {row["channel"]: row for row in report["by_channel"]}
    assert set(rows) == {"referral", "WeChat: Group A", "Discord: general"}
    referral = rows["referral"]  # "Referral" and "referral" are one source
    assert (referral["origin"], referral["purchases"], referral["buyers"]) == ("source", 3, 2)
    assert referral["revenue"] == {"CNY": Decimal("848.00")}
    assert rows["WeChat: Group A"]["origin"] == "first_seen"
    assert rows["WeChat: Group A"]["revenue"] == {"CNY": Decimal("199.00")}
    assert rows["Discord: general"]["revenue"] == {"USD": Decimal("20.00")}
    assert report["by_channel"][0]["channel"] == "referral"  # most purchases first


def test_report_per_offer_and_repurchase(sales):
    community, offers, members = sales
    buy(community, members["ann"], offers["course"], at(2024, 3, 2), "99")
    report = business_report(community, months=3, now=at(2024, 3, 15))
    rows = {row["name"]: row for row in report["by_offer"]}
    course = rows["Python course"]
    assert (course["purchases"], course["buyers"], course["repeat_buyers"]) == (3, 2, 1)
    assert course["repurchase_rate"] == pytest.approx(0.5)
    assert course["revenue"] == {"CNY": Decimal("447.00")}
    membership = rows["Annual membership"]
    assert (membership["kind"], membership["purchases"], membership["repurchase_rate"]) == (
        "membership",
        2,
        0.0,
    )
    assert membership["renewal"] is None  # no year-long term ended yet


def test_membership_renewals_due_renewed_and_pending(shop):
    community, _offers, members = shop
    monthly = do_create_offer(
        community,
        {
            "kind": "membership",
            "name": "Monthly",
            "price": "30",
            "currency": "CNY",
            "duration_days": 30,
        },
    )
    buy(community, members["ann"], monthly, at(2024, 1, 1))  # ends Jan 31: renewed Jan 25
    buy(community, members["ann"], monthly, at(2024, 1, 25))  # ends Feb 24: grace until Mar 25
    buy(community, members["bob"], monthly, at(2024, 1, 5))  # ends Feb 4: not renewed
    buy(community, members["cid"], monthly, at(2024, 2, 20))  # ends Mar 21: not yet due
    report = business_report(community, months=3, now=at(2024, 3, 15))
    renewal = next(row for row in report["by_offer"] if row["name"] == "Monthly")["renewal"]
    assert renewal == {"due": 3, "renewed": 1, "pending": 1, "rate": 0.5}


def test_revenue_summary_is_the_contract_the_diagnosis_reads(sales):
    community, _offers, _members = sales
    february = revenue_summary(community, at(2024, 2, 1, 0), at(2024, 3, 1, 0))
    assert february == {
        "purchases": 2,
        "buyers": 2,
        "revenue": {"CNY": "199.00", "USD": "20.00"},
        "costs": {"CNY": "100.00"},
        "repeat_rate": 0.0,
    }
    # Part of a month: its costs pro rata (15 of February's 29 days: 100 × 15 / 29).
    half = revenue_summary(community, at(2024, 2, 15, 0), at(2024, 3, 1, 0))
    assert half["costs"] == {"CNY": "51.72"}
    whole = revenue_summary(community, at(2024, 1, 1, 0), at(2024, 4, 1, 0))
    assert whole["revenue"] == {"CNY": "1047.00", "USD": "20.00"}
    assert whole["repeat_rate"] == pytest.approx(2 / 3)
    empty = revenue_summary(community, at(2020, 1, 1), at(2020, 2, 1))
    assert empty == {"purchases": 0, "buyers": 0, "revenue": {}, "costs": {}, "repeat_rate": None}


# ----------------------------------------------------------------- activity tickets
def test_paid_registrations_become_ticket_purchases_idempotently(shop):
    community, _offers, members = shop
    start = timezone.now() + dt.timedelta(days=5)
    activity = do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Workshop",
                "mode": "offline",
                "content_type": "learning",
                "place": "Hall",
                "capacity": 10,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
                "fee_amount": "88",
                "currency": "CNY",
            },
        )
    )
    paid = do_register(activity, members["ann"])
    refunded = do_register(activity, members["bob"])
    do_register(activity, members["cid"])  # unpaid: not a purchase
    do_set_fee_status(paid, Registration.FeeStatus.PAID)
    do_set_fee_status(refunded, Registration.FeeStatus.PAID)
    do_set_fee_status(refunded, Registration.FeeStatus.REFUNDED)
    result = do_import_activity_tickets(community)
    assert (result.added, result.refunds_added, result.offers_created) == (2, 1, 1)
    offer = Offer.objects.get(activity=activity)
    assert offer.kind == "ticket" and offer.price == Decimal("88.00")
    purchases = {p.member_id: p for p in Purchase.objects.filter(offer=offer)}
    assert purchases[members["ann"].pk].net_amount == Decimal("88.00")
    assert purchases[members["bob"].pk].fully_refunded
    again = do_import_activity_tickets(community)
    assert (again.added, again.refunds_added, again.unchanged) == (0, 0, 2)
    # Set back to unpaid (a mistake corrected): the purchase is refunded, not deleted.
    do_set_fee_status(paid, Registration.FeeStatus.UNPAID)
    fixed = do_import_activity_tickets(community)
    assert fixed.refunds_added == 1
    assert Purchase.objects.get(pk=purchases[members["ann"].pk].pk).fully_refunded
    assert Purchase.objects.count() == 2
