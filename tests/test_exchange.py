"""The needs-and-offers exchange: matching quality on a bilingual set (with its evidence), the
pairs never suggested, confirming a connection (the tie, the points, once), outcomes and the
value per month, public submissions, validation, the goal metric and merges."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from conftest import table_counts as base_counts
from conftest import with_account
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from shequn.audit.models import AuditEntry
from shequn.communities.services import do_create_community
from shequn.exchange.advocacy import HelpedThroughExchange
from shequn.exchange.matching import analyse
from shequn.exchange.metrics import NEEDS_MATCHED
from shequn.exchange.models import Connection, Post
from shequn.exchange.selectors import (
    connections_summary,
    monthly_report,
    pair_evidence,
    suggestions,
)
from shequn.exchange.services import (
    ExchangeError,
    do_approve_post,
    do_close_post,
    do_close_public_form,
    do_confirm_connection,
    do_create_post,
    do_dismiss_suggestion,
    do_open_public_form,
    do_record_outcome,
    do_reject_post,
    do_reopen_post,
    do_submit_public_post,
    do_update_post,
    do_update_settings,
)
from shequn.interactions.models import EventKind, InteractionEvent, MemberDailyRollup
from shequn.interactions.signals import events_imported
from shequn.members.models import Member
from shequn.rewards.models import PointEntry

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def table_counts() -> dict[str, int]:
    """Rows of every shequn table the exchange may write, its own included."""
    from django.apps import apps

    own = {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("exchange").get_models()
    }
    return {**base_counts(), **own}


def member(community, name: str) -> Member:
    return Member.objects.create(community=community, display_name=name)


def post(community, who: Member, kind: str, title: str, description: str = "", tags=()):
    return do_create_post(
        community,
        {"kind": kind, "title": title, "description": description, "tags": list(tags)},
        member=who,
    )


@pytest.fixture
def bilingual(community):
    """Four needs (two Chinese, two English) and offers that meet them among distractors."""
    people = {name: member(community, name) for name in "ABCDEFGHIJKL"}
    p = people
    needs = {
        "miniapp": post(
            community,
            p["A"],
            "need",
            "找人帮忙做微信小程序",
            "我们社群想做一个活动报名的小程序，需要懂前端开发的朋友",
        ),
        "decor": post(community, p["B"], "need", "新房装修需要设计建议", "想找室内设计师聊聊"),
        "wedding": post(
            community,
            p["C"],
            "need",
            "Wedding photographer wanted",
            "Looking for someone to shoot photos at our wedding in May.",
        ),
        "tax": post(
            community,
            p["D"],
            "need",
            "Help with my tax return",
            "Freelancer here, my first tax return as self-employed.",
        ),
    }
    offers = {
        "miniapp": post(
            community, p["E"], "offer", "小程序前端开发", "可以提供微信小程序和网页前端开发"
        ),
        "decor": post(
            community, p["F"], "offer", "室内设计咨询", "十年室内设计经验，提供装修设计方案"
        ),
        "tea": post(community, p["G"], "offer", "茶艺课程", "每周教大家泡茶，了解中国茶文化"),
        "wedding": post(
            community,
            p["H"],
            "offer",
            "Photography for weddings and events",
            "Professional photographer: I shoot weddings, portraits and events.",
        ),
        "tax": post(
            community,
            p["I"],
            "offer",
            "Accounting and tax advice",
            "Chartered accountant: tax returns for freelancers and the self-employed.",
        ),
        "python": post(
            community,
            p["J"],
            "offer",
            "Python and data analysis lessons",
            "I teach pandas, plotting and data analysis to beginners.",
        ),
    }
    return people, needs, offers


def best_offer(community, need: Post) -> Post | None:
    found = suggestions(community, need=need, limit=5)
    return found[0].offer if found else None


def test_analyser_segments_chinese_and_lowercases_latin_words():
    terms = analyse("需要Python数据分析培训, Node.js and Designers")
    assert {"数据", "分析", "数据分析", "培训"} <= set(terms)  # jieba, with the inner words
    assert {"python", "node.js", "designer"} <= set(terms)  # lower-cased, plural folded
    assert "需要" not in terms and "and" not in terms  # stop words of either language


def test_each_need_meets_the_right_offer_among_distractors_with_evidence(community, bilingual):
    _people, needs, offers = bilingual
    for key in ("miniapp", "decor", "wedding", "tax"):
        assert best_offer(community, needs[key]) == offers[key], key
    miniapp = suggestions(community, need=needs["miniapp"], limit=1)[0].match
    assert {"前端", "开发"} <= set(miniapp.shared_terms)
    assert 0 < miniapp.text_score <= 1 and miniapp.score == miniapp.text_score  # no tags
    wedding = suggestions(community, need=needs["wedding"], limit=1)[0].match
    assert {"wedding", "photographer", "shoot"} <= set(wedding.shared_terms)
    # Unrelated pairs are not suggested at all.
    pairs = {(s.need.pk, s.offer.pk) for s in suggestions(community, limit=100)}
    assert (needs["decor"].pk, offers["python"].pk) not in pairs
    assert (needs["tax"].pk, offers["tea"].pk) not in pairs


def test_tags_alone_make_a_match_and_are_the_evidence(community):
    a, b, c = member(community, "A"), member(community, "B"), member(community, "C")
    need = post(community, a, "need", "Lessons", tags=["Spanish", "language"])
    spanish = post(community, b, "offer", "Weekly sessions", tags=["spanish", "french"])
    post(community, c, "offer", "Weekly sessions online", tags=["knitting"])
    found = suggestions(community, need=need)
    assert [s.offer for s in found] == [spanish]
    match = found[0].match
    assert match.shared_tags == ("spanish",)  # tags are normalised to lower case
    assert match.tag_score == pytest.approx(0.5)  # 1 shared of the smaller set's 2
    assert match.score == pytest.approx(0.4 * 0.5)


def test_never_own_offer_closed_pending_connected_or_dismissed_pairs(community):
    a, b, c, d = (member(community, name) for name in "ABCD")
    need = post(community, a, "need", "Need a bicycle repair", tags=["bicycle"])
    own = post(community, a, "offer", "I repair bicycles", tags=["bicycle"])
    other = post(community, b, "offer", "Bicycle repair at home", tags=["bicycle"])
    closed = post(community, c, "offer", "Bicycle repairs cheap", tags=["bicycle"])
    do_close_post(closed, reason="moved away")
    dismissed = post(community, d, "offer", "Bicycle repair shop", tags=["bicycle"])
    do_open_public_form(community)
    pending = do_submit_public_post(
        community,
        {"kind": "offer", "title": "Bicycle repair", "tags": ["bicycle"]},
        name="Eve",
        contact="eve@example.com",
    )
    offers = {s.offer.pk for s in suggestions(community, need=need)}
    assert offers == {other.pk, dismissed.pk}
    do_dismiss_suggestion(need, dismissed)
    assert {s.offer.pk for s in suggestions(community, need=need)} == {other.pk}
    do_confirm_connection(need, other)
    assert suggestions(community) == []
    assert own.pk not in offers and closed.pk not in offers and pending.pk not in offers
    with pytest.raises(ExchangeError, match="own"):
        do_confirm_connection(need, own)
    with pytest.raises(ExchangeError) as closed_error:
        do_confirm_connection(need, closed)
    assert "offer" in closed_error.value.problems


def test_confirming_makes_the_tie_and_the_points_once(community):
    received = []

    def listener(sender, community, summary, **kwargs):
        received.append((community.pk, summary.events_added))

    events_imported.connect(listener, dispatch_uid="test-exchange")
    try:
        asker, helper = member(community, "Asker"), member(community, "Helper")
        do_update_settings(community, {"points_for_offer": 10, "points_for_need": 3})
        need = post(community, asker, "need", "找人帮忙做小程序", tags=["小程序"])
        offer = post(community, helper, "offer", "小程序开发", tags=["小程序"])
        connection = do_confirm_connection(need, offer, note="met at the meetup", close_need=True)
    finally:
        events_imported.disconnect(dispatch_uid="test-exchange")
    event = InteractionEvent.objects.get(kind=EventKind.CONNECTION)
    assert (event.member_id, event.target_member_id) == (asker.pk, helper.pk)
    assert event.channel.external_id == "shequn-exchange"
    assert event.attributes == {"connection": connection.pk, "need": need.pk, "offer": offer.pk}
    assert connection.event_id == event.pk
    assert received == [(community.pk, 1)]
    assert connection.evidence["shared_tags"] == ["小程序"]
    assert connection.score > 0
    entries = {e.idempotency_key: e.amount for e in PointEntry.objects.all()}
    assert entries == {
        f"exchange-connection:{connection.pk}:offer": 10,
        f"exchange-connection:{connection.pk}:need": 3,
    }
    need.refresh_from_db()
    assert need.status == "closed"
    audit = AuditEntry.objects.get(action="exchange.connect")
    assert audit.details["point_entries"] and audit.details["closed_need"] is True
    # Twice: refused, and nothing more is written (the need is closed now; reopened, the pair
    # is still connected).
    do_reopen_post(need)
    before = table_counts()
    with pytest.raises(ExchangeError, match="already connected"):
        do_confirm_connection(need, offer)
    assert table_counts() == before
    assert Connection.objects.count() == 1 and PointEntry.objects.count() == 2
    # Rollups still equal a recount (a connection feeds no daily counter).
    assert not MemberDailyRollup.objects.filter(member__in=[asker, helper]).exists()


def test_no_points_when_the_community_gives_none(community):
    a, b = member(community, "A"), member(community, "B")
    do_update_settings(community, {"points_for_offer": 0})
    need = post(community, a, "need", "Need a ride", tags=["ride"])
    offer = post(community, b, "offer", "Can give a ride", tags=["ride"])
    do_confirm_connection(need, offer)
    assert not PointEntry.objects.exists()
    assert InteractionEvent.objects.filter(kind="connection").count() == 1


def _confirmed(community, need, offer, when: dt.datetime) -> Connection:
    made = do_confirm_connection(need, offer)
    Connection.objects.filter(pk=made.pk).update(confirmed_at=when)
    made.refresh_from_db()
    return made


def test_outcomes_and_value_per_local_month(community):
    community.time_zone = "Asia/Shanghai"
    community.save()
    people = [member(community, f"M{i}") for i in range(6)]
    needs = [post(community, people[i], "need", f"Need {i}", tags=["x"]) for i in range(3)]
    offers = [post(community, people[3 + i], "offer", f"Offer {i}", tags=["x"]) for i in range(3)]
    now = dt.datetime(2024, 5, 20, 12, tzinfo=SHANGHAI)
    this_month = dt.datetime(2024, 5, 1, 9, tzinfo=SHANGHAI)
    # 00:30 in Shanghai on the 1st is still the previous month in UTC: counted locally.
    first_local = this_month.replace(hour=0, minute=30)
    last_month = (this_month - dt.timedelta(days=3)).replace(day=2)
    a = _confirmed(community, needs[0], offers[0], first_local)
    b = _confirmed(community, needs[1], offers[1], first_local + dt.timedelta(minutes=1))
    c = _confirmed(community, needs[2], offers[2], last_month)
    do_record_outcome(a, "deal", value="300", currency="cny", note="paid project")
    do_record_outcome(b, "helped", value=Decimal("50.5"), currency="CNY")
    do_record_outcome(c, "none")
    months = monthly_report(community, months=2, now=now)
    assert [m.month for m in months] == [last_month.date().replace(day=1), this_month.date()]
    assert (months[1].connections, months[1].deals, months[1].helped) == (2, 1, 1)
    assert months[1].value == {"CNY": Decimal("350.50")}
    assert (months[0].connections, months[0].no_result, months[0].value) == (1, 1, {})
    summary = connections_summary(community, this_month.replace(hour=0, minute=0), now)
    assert summary == {
        "connections": 2,
        "helped": 1,
        "deals": 1,
        "no_result": 0,
        "value": {"CNY": Decimal("350.50")},
    }
    # Correcting an outcome is audited with what it replaced.
    do_record_outcome(a, "deal", value="320", currency="CNY")
    latest = AuditEntry.objects.filter(action="exchange.outcome").latest("id")
    assert latest.details["before"]["value"] == "300.00"
    assert latest.details["after"]["value"] == "320.00"


@pytest.mark.parametrize(
    ("outcome", "value", "currency", "field"),
    [
        ("great", None, "", "outcome"),
        ("deal", "300", "", "currency"),
        ("deal", "300", "XYZ", "currency"),
        ("deal", "-5", "CNY", "value"),
        ("deal", "abc", "CNY", "value"),
        ("deal", "1.234", "CNY", "value"),
        ("none", "10", "CNY", "value"),
        ("helped", None, "CNY", "currency"),
    ],
)
def test_outcome_problems_name_the_field_and_change_nothing(
    community, outcome, value, currency, field
):
    a, b = member(community, "A"), member(community, "B")
    made = do_confirm_connection(
        post(community, a, "need", "Need x", tags=["x"]),
        post(community, b, "offer", "Offer x", tags=["x"]),
    )
    before = table_counts()
    with pytest.raises(ExchangeError) as error:
        do_record_outcome(made, outcome, value=value, currency=currency)
    assert field in error.value.problems
    assert table_counts() == before
    made.refresh_from_db()
    assert made.outcome == "" and made.value_amount is None


def test_post_problems_name_each_field(community, other_community):
    a = member(community, "A")
    stranger = member(other_community, "Stranger")
    before = table_counts()
    with pytest.raises(ExchangeError) as error:
        do_create_post(
            community,
            {"kind": "wish", "title": "  ", "tags": ["x" * 41]},
            member=a,
        )
    assert set(error.value.problems) == {"kind", "title", "tags"}
    with pytest.raises(ExchangeError) as error:
        do_create_post(community, {"kind": "need", "title": "t"}, member=stranger)
    assert "member" in error.value.problems
    with pytest.raises(ExchangeError) as error:
        do_create_post(
            community,
            {"kind": "need", "title": "t", "tags": [f"t{i}" for i in range(11)]},
            member=a,
        )
    assert "tags" in error.value.problems
    assert table_counts() == before and not Post.objects.exists()


def test_curating_posts_is_audited(community):
    a = member(community, "A")
    need = post(community, a, "need", "Old title", tags=["a"])
    do_update_post(need, {"title": "New title", "tags": "b，c、B"})
    need.refresh_from_db()
    assert need.title == "New title" and need.tag_names == ["b", "c"]
    do_close_post(need, reason="solved elsewhere")
    with pytest.raises(ExchangeError):
        do_close_post(need)
    do_reopen_post(need)
    actions = list(
        AuditEntry.objects.filter(action__startswith="exchange.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "exchange.post",
        "exchange.post_update",
        "exchange.close",
        "exchange.reopen",
    ]
    update = AuditEntry.objects.get(action="exchange.post_update")
    assert update.details["before"]["tags"] == ["a"] and update.details["after"]["tags"] == [
        "b",
        "c",
    ]


def test_public_submissions_wait_for_approval(community):
    values = {"kind": "offer", "title": "Guitar lessons", "tags": "music"}
    with pytest.raises(ExchangeError):  # the form is off
        do_submit_public_post(community, values, name="Eve", contact="eve@example.com")
    do_open_public_form(community)
    with pytest.raises(ExchangeError) as error:
        do_submit_public_post(community, values, name="", contact="")
    assert set(error.value.problems) == {"name", "contact"}
    first = do_submit_public_post(community, values, name="Eve", contact="Eve@Example.com")
    second = do_submit_public_post(community, values, name="Bob", contact="wechat: bob88")
    spam = do_submit_public_post(community, values, name="Spam", contact="x")
    assert first.status == "pending" and first.member is None
    a, b = member(community, "A"), member(community, "B")
    post(community, a, "need", "Guitar lessons wanted", tags=["music"])
    assert suggestions(community) == []  # pending posts are never matched
    # A new member from the submitter (an e-mail contact becomes the member key) …
    approved = do_approve_post(first, create_member=True)
    assert approved.status == "open"
    assert (approved.member.display_name, approved.member.key) == ("Eve", "eve@example.com")
    # … or the member the operator picks.
    assert do_approve_post(second, member=b).member == b
    with pytest.raises(ExchangeError):
        do_approve_post(second, member=b)  # not pending any more
    with pytest.raises(ExchangeError):
        do_approve_post(spam)  # neither a member nor a new one
    do_reject_post(spam, reason="spam")
    spam.refresh_from_db()
    assert spam.status == "rejected" and spam.member is None
    assert len(suggestions(community)) == 2
    approve = AuditEntry.objects.filter(action="exchange.approve").order_by("id").first()
    assert approve.details["member"]["display_name"] == "Eve" and approve.details["new_member"]
    # Off again: no more submissions.
    do_close_public_form(community)
    with pytest.raises(ExchangeError):
        do_submit_public_post(community, values, name="Eve", contact="eve@example.com")


def test_needs_matched_metric_one_query_for_any_number_of_days(community):
    a, b, c = member(community, "A"), member(community, "B"), member(community, "C")
    design = post(community, a, "need", "Logo design", tags=["design"])
    ride = post(community, b, "need", "Ride to the airport", tags=["travel"])
    offer = post(community, c, "offer", "Design and travel", tags=["design", "travel"])
    start = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    _confirmed(community, design, offer, start)
    _confirmed(community, ride, offer, start + dt.timedelta(days=2))
    # A second connection for the same need does not count it twice.
    other = post(community, b, "offer", "Logo design too", tags=["design"])
    _confirmed(community, design, other, start + dt.timedelta(days=1))
    days = [dt.date(2024, 2, 29) + dt.timedelta(days=i) for i in range(5)]
    with CaptureQueriesContext(db_connection) as queries:
        series = NEEDS_MATCHED.series(community, {}, days)
    assert len(queries) == 1
    assert series == [0.0, 1.0, 1.0, 2.0, 2.0]
    assert NEEDS_MATCHED.series(community, {"tag": "travel"}, days) == [0, 0, 0, 1, 1]
    assert NEEDS_MATCHED.validate({"tag": " Travel "}) == {"tag": "travel"}
    assert NEEDS_MATCHED.validate({}) == {}
    with pytest.raises(ValueError):
        NEEDS_MATCHED.validate({"colour": "red"})


def test_helping_through_the_exchange_is_an_advocacy_act(community):
    a, b = member(community, "A"), member(community, "B")
    need = post(community, a, "need", "Need x", tags=["x"])
    offer = post(community, b, "offer", "Offer x", tags=["x"])
    made = _confirmed(community, need, offer, dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC))
    signal = HelpedThroughExchange()
    assert signal.acts(community, None, dt.date(2024, 3, 1)) == [(b.pk, dt.date(2024, 3, 1), 1)]
    assert signal.acts(community, None, dt.date(2024, 2, 29)) == []
    do_record_outcome(made, "none")
    assert signal.acts(community, None, dt.date(2024, 3, 1)) == []


def test_a_merge_keeps_the_posts_with_the_person(community):
    from shequn.members.models import MemberMerge
    from shequn.members.services import do_merge_members, do_unmerge

    a, a2, b = member(community, "Ann"), member(community, "Ann (2)"), member(community, "Bo")
    with_account(a2, "ann2")
    need = post(community, a2, "need", "Need x", tags=["x"])
    post(community, b, "offer", "Offer x", tags=["x"])
    do_merge_members(a2, a)
    need.refresh_from_db()
    assert need.member == a
    assert len(suggestions(community)) == 1

    restored = do_unmerge(MemberMerge.objects.get())
    need.refresh_from_db()
    assert need.member == restored


def test_settings_are_checked_and_audited(community):
    with pytest.raises(ExchangeError) as error:
        do_update_settings(community, {"points_for_offer": -1, "min_score": 2})
    assert set(error.value.problems) == {"points_for_offer", "min_score"}
    do_update_settings(community, {"min_score": 0.5})
    entry = AuditEntry.objects.get(action="exchange.settings")
    assert entry.details["after"]["min_score"] == 0.5


def test_the_threshold_and_pair_evidence(community):
    a, b = member(community, "A"), member(community, "B")
    need = post(community, a, "need", "Spanish lessons", tags=["spanish", "language"])
    offer = post(community, b, "offer", "Conversation club", tags=["spanish", "french"])
    assert suggestions(community)  # 0.2 by tags
    do_update_settings(community, {"min_score": 0.3})
    assert suggestions(community) == []
    evidence = pair_evidence(community, need, offer)
    assert evidence.shared_tags == ("spanish",) and evidence.score == pytest.approx(0.2)


def test_posts_of_another_community_cannot_be_connected(community):
    other = do_create_community(slug="elsewhere", name="Elsewhere")
    need = post(community, member(community, "A"), "need", "Need x", tags=["x"])
    offer = post(other, member(other, "B"), "offer", "Offer x", tags=["x"])
    with pytest.raises(ExchangeError) as error:
        do_confirm_connection(need, offer)
    assert "offer" in error.value.problems
    assert not Connection.objects.exists()


def test_needs_matched_is_a_goal_metric():
    culture_metrics = pytest.importorskip("shequn.culture.metrics")
    assert culture_metrics.metric("needs_matched") is NEEDS_MATCHED
    with pytest.raises(ValueError) as error:
        NEEDS_MATCHED.validate({"tag": 5})
    assert "tag" in str(error.value)
    assert NEEDS_MATCHED.describe({"tag": "design"}) == "needs tagged design matched"
