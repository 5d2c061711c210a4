from __future__ import annotations

import pytest

from shequn.audit.models import AuditEntry
from shequn.communities.services import do_create_community
from shequn.interactions.models import InteractionEvent, MemberDailyRollup
from shequn.interactions.selectors import member_totals
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member
from shequn.members.selectors import AmbiguousMember, MemberNotFound, get_member, search_members
from shequn.members.services import MergeError, do_merge_members

T0 = 1703001600


def _conversation(write_chatlab, group_id: str, sender: str, other: str, name: str):
    from conftest import chatlab_header

    messages = [
        {
            "platformMessageId": "a",
            "sender": sender,
            "accountName": "Alice",
            "timestamp": T0,
            "type": 0,
            "content": "question?",
        },
        {
            "platformMessageId": "b",
            "sender": other,
            "accountName": "Bob",
            "timestamp": T0 + 60,
            "type": 25,
            "content": "answer",
            "replyToMessageId": "a",
        },
        {
            "platformMessageId": "c",
            "sender": sender,
            "accountName": "Alice",
            "timestamp": T0 + 120,
            "type": 25,
            "content": "thanks",
            "replyToMessageId": "b",
        },
    ]
    return write_chatlab(
        messages, header=chatlab_header(group_id=group_id, name=group_id), name=name
    )


def test_merge_moves_identities_events_and_rollups_and_loses_nothing(community, write_chatlab):
    do_import(community, _conversation(write_chatlab, "wechat-group", "wx_alice", "wx_bob", "one"))
    do_import(community, _conversation(write_chatlab, "qq-group", "qq_alice", "qq_bob", "two"))
    alice_wx = get_member(community, "wx_alice")
    alice_qq = get_member(community, "qq_alice")
    totals_before = {
        key: member_totals(alice_wx)[key] + member_totals(alice_qq)[key]
        for key in member_totals(alice_wx)
    }
    events_before = InteractionEvent.objects.count()

    merged = do_merge_members(alice_qq, alice_wx)

    assert not Member.objects.filter(pk=alice_qq.pk).exists()
    assert set(
        Identity.objects.filter(member=merged).values_list("platform_user_id", flat=True)
    ) == {"wx_alice", "qq_alice"}
    assert InteractionEvent.objects.count() == events_before
    assert InteractionEvent.objects.filter(member=merged).count() == 4
    assert InteractionEvent.objects.filter(target_member=merged).count() == 2
    assert member_totals(merged) == totals_before
    assert MemberDailyRollup.objects.filter(member_id=alice_qq.pk).count() == 0
    entry = AuditEntry.objects.get(action="member.merge")
    assert entry.details["source"]["display_name"] == "Alice"
    assert entry.details["moved"]["events"] == 2


def test_merge_keeps_the_higher_role_and_earlier_join(community):
    import datetime as dt

    early = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    a = Member.objects.create(
        community=community, display_name="A", role="operator", joined_at=early
    )
    b = Member.objects.create(
        community=community, display_name="B", role="member", joined_at=early + dt.timedelta(days=9)
    )
    merged = do_merge_members(a, b)
    assert (merged.role, merged.joined_at) == ("operator", early)


def test_merge_refuses_across_communities_and_into_itself(community):
    other = do_create_community(slug="other", name="Other")
    a = Member.objects.create(community=community, display_name="A")
    b = Member.objects.create(community=other, display_name="B")
    with pytest.raises(MergeError):
        do_merge_members(a, b)
    with pytest.raises(MergeError):
        do_merge_members(a, a)
    assert Member.objects.count() == 2


def test_get_member_by_id_name_or_handle(community):
    a = Member.objects.create(community=community, display_name="Same")
    Member.objects.create(community=community, display_name="Same")
    assert get_member(community, str(a.pk)) == a
    with pytest.raises(AmbiguousMember):
        get_member(community, "Same")
    with pytest.raises(MemberNotFound):
        get_member(community, "nobody")


def test_search_members_filters_and_sorts_by_activity(community, write_chatlab):
    do_import(community, _conversation(write_chatlab, "g", "alice", "bob", "one"))
    by_messages = list(search_members(community, sort="messages"))
    assert [m.display_name for m in by_messages] == ["Alice", "Bob"]
    assert by_messages[0].message_total == 2
    assert [m.display_name for m in search_members(community, search="bo")] == ["Bob"]
