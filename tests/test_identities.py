"""One person across many channels: mapping files, suggested merges, merge and un-merge."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import chatlab_header, table_counts

from shequn.audit.models import AuditEntry
from shequn.cli import cli
from shequn.communities.models import Channel
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.models import InteractionEvent, MemberDailyRollup
from shequn.interactions.selectors import member_totals
from shequn.interactions.services import do_import
from shequn.members.mapping import do_load_identity_mapping
from shequn.members.models import Identity, Member, MemberMerge, MergeSuggestion
from shequn.members.selectors import get_member
from shequn.members.services import MergeError, do_merge_members, do_unmerge
from shequn.members.suggestions import do_decide_suggestion, do_refresh_suggestions

T0 = 1703001600


def _chat(write_chatlab, platform: str, group: str, alice: str, bob: str):
    messages = [
        {
            "platformMessageId": "1",
            "sender": alice,
            "accountName": "Alice",
            "timestamp": T0,
            "type": 0,
            "content": "hello",
        },
        {
            "platformMessageId": "2",
            "sender": bob,
            "accountName": "Bob",
            "timestamp": T0 + 9,
            "type": 25,
            "content": "hi",
            "replyToMessageId": "1",
        },
        {
            "platformMessageId": "3",
            "sender": alice,
            "accountName": "Alice",
            "timestamp": T0 + 20,
            "type": 25,
            "content": "thanks",
            "replyToMessageId": "2",
        },
    ]
    header = chatlab_header(platform=platform, group_id=group, name=group)
    return write_chatlab(messages, header=header, name=group)


def _mapping(tmp_path, text: str):
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_file_applied_on_import_makes_one_member(community, write_chatlab, tmp_path):
    mapping = _mapping(
        tmp_path,
        "platform,platform_user_id,member_key\n"
        "wechat,wx_alice,alice@example.org\nqq,10001,alice@example.org\n",
    )
    do_import(
        community,
        _chat(write_chatlab, "wechat", "wx-group", "wx_alice", "wx_bob"),
        identity_map=mapping,
    )
    summary = do_import(community, _chat(write_chatlab, "qq", "qq-group", "10001", "10002"))

    alice = Member.objects.get(key="alice@example.org")
    assert set(alice.identities.values_list("platform_user_id", flat=True)) == {"wx_alice", "10001"}
    assert summary.members_new == 1  # only the QQ Bob is new
    assert Member.objects.count() == 3
    assert member_totals(alice)["messages"] == 4
    assert member_totals(alice)["replies_received"] == 2


def test_loading_a_mapping_merges_existing_members_and_is_audited(
    community, write_chatlab, tmp_path
):
    do_import(community, _chat(write_chatlab, "wechat", "wx-group", "wx_alice", "wx_bob"))
    do_import(community, _chat(write_chatlab, "qq", "qq-group", "10001", "10002"))
    assert Member.objects.count() == 4

    result = do_load_identity_mapping(
        community,
        _mapping(
            tmp_path, "platform,platform_user_id,member_key\nwechat,wx_alice,A-1\nqq,10001,A-1\n"
        ),
    )

    assert (result.rows, result.accounts_matched, result.members_merged) == (2, 2, 1)
    assert Member.objects.count() == 3
    merge = MemberMerge.objects.get()
    assert "A-1" in merge.reason
    assert AuditEntry.objects.filter(action="identity_mapping.load").count() == 1
    assert AuditEntry.objects.filter(action="member.merge").count() == 1


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ("platform,user,key\n", "line 1", "the header must be"),
        (
            "platform,platform_user_id,member_key\nwechat,a,k\ntelex,b,k\n",
            "line 3",
            "unknown platform",
        ),
        (
            "platform,platform_user_id,member_key\nwechat,a,k1\nwechat,a,k2\n",
            "line 3",
            "mapped to two keys",
        ),
        (
            "platform,platform_user_id,member_key\nwechat,,k\n",
            "line 2",
            "platform_user_id is empty",
        ),
        ("platform,platform_user_id,member_key\nwechat,a\n", "line 2", "expected 3 fields"),
    ],
)
def test_bad_mapping_files_name_the_line_and_change_nothing(
    community, write_chatlab, tmp_path, content, where, problem
):
    do_import(community, _chat(write_chatlab, "wechat", "g", "a", "b"))
    before = table_counts()
    path = _mapping(tmp_path, content)
    with pytest.raises(ImportFormatError) as error:
        do_load_identity_mapping(community, path)
    assert str(path) in str(error.value) and where in str(error.value)
    assert problem in str(error.value)
    assert table_counts() == before


def _account(community, channel_name: str, user_id: str, name: str, **profile):
    channel, _ = Channel.objects.get_or_create(
        community=community, platform="slack", external_id=channel_name, name=channel_name
    )
    member = Member.objects.create(community=community, display_name=name)
    Identity.objects.create(
        member=member,
        channel=channel,
        platform_user_id=user_id,
        handle=name.lower(),
        profile=profile,
    )
    return member


def test_suggestions_weigh_the_evidence_and_respect_rejections(community):
    a = _account(community, "c1", "U1", "Ann Lee", email="ann@example.org")
    b = _account(community, "c2", "U2", "Annie", email="ANN@example.org")
    c = _account(community, "c1", "U3", "Bo")
    d = _account(community, "c2", "U4", "bo")
    e = _account(community, "c1", "U5", "Cy")
    f = _account(community, "c1", "U6", "Cy")  # same name, same channel: two people

    assert do_refresh_suggestions(community) == 2
    by_pair = {(s.member_a_id, s.member_b_id): s for s in MergeSuggestion.objects.all()}
    assert by_pair[(a.pk, b.pk)].confidence == 0.95
    assert by_pair[(a.pk, b.pk)].evidence == [{"kind": "email", "value": "ann@example.org"}]
    bo = by_pair[(c.pk, d.pk)]
    assert bo.confidence == pytest.approx(1 - 0.4 * 0.6)  # same handle and same name
    assert (e.pk, f.pk) not in by_pair

    do_decide_suggestion(bo, accept=False)
    assert do_refresh_suggestions(community) == 1  # the rejected pair stays rejected
    do_decide_suggestion(MergeSuggestion.objects.get(status="open"), accept=True)
    assert not Member.objects.filter(pk=b.pk).exists()
    assert set(a.identities.values_list("platform_user_id", flat=True)) == {"U1", "U2"}
    with pytest.raises(MergeError):
        do_decide_suggestion(MergeSuggestion.objects.get(status="rejected"), accept=True)
    assert AuditEntry.objects.filter(action="member.suggestion_rejected").count() == 1
    assert AuditEntry.objects.filter(action="member.suggestion_accepted").count() == 1


def test_unmerge_gives_back_every_event_and_rollup(community, write_chatlab):
    do_import(community, _chat(write_chatlab, "wechat", "wx", "wx_alice", "wx_bob"))
    do_import(community, _chat(write_chatlab, "qq", "qq", "10001", "10002"))
    wx_alice, qq_alice = get_member(community, "wx_alice"), get_member(community, "10001")
    events_before = sorted(
        InteractionEvent.objects.values_list(
            "source_id",
            "channel_id",
            "member__identities__platform_user_id",
            "target_member__identities__platform_user_id",
        )
    )
    totals_before = member_totals(qq_alice)

    do_merge_members(qq_alice, wx_alice)
    restored = do_unmerge(MemberMerge.objects.get())

    assert restored.display_name == "Alice"
    assert set(restored.identities.values_list("platform_user_id", flat=True)) == {"10001"}
    assert (
        sorted(
            InteractionEvent.objects.values_list(
                "source_id",
                "channel_id",
                "member__identities__platform_user_id",
                "target_member__identities__platform_user_id",
            )
        )
        == events_before
    )
    assert member_totals(restored) == totals_before
    assert MemberDailyRollup.objects.filter(member=restored).exists()
    assert AuditEntry.objects.filter(action="member.unmerge").count() == 1
    with pytest.raises(MergeError):
        do_unmerge(MemberMerge.objects.get())


def test_members_with_different_keys_are_never_merged(community):
    a = Member.objects.create(community=community, display_name="A", key="k1")
    b = Member.objects.create(community=community, display_name="B", key="k2")
    with pytest.raises(MergeError):
        do_merge_members(a, b)


@pytest.mark.django_db
def test_cli_map_suggest_accept_merges_and_unmerge(community, write_chatlab, tmp_path):
    runner = CliRunner()
    do_import(community, _chat(write_chatlab, "wechat", "wx", "wx_alice", "wx_bob"))
    do_import(community, _chat(write_chatlab, "qq", "qq", "10001", "10002"))

    suggested = runner.invoke(cli, ["members", "suggestions", "-c", "club"])
    assert suggested.exit_code == 0, suggested.output
    assert "Alice" in suggested.output and "76%" in suggested.output
    suggestion = MergeSuggestion.objects.get(member_a__display_name="Alice")
    assert (
        runner.invoke(cli, ["members", "accept", "-c", "club", str(suggestion.pk)]).exit_code == 0
    )
    assert runner.invoke(cli, ["members", "accept", "-c", "club", "999"]).exit_code == 4

    merges = runner.invoke(cli, ["members", "merges", "-c", "club"])
    merge = MemberMerge.objects.get()
    assert str(merge.pk) in merges.output and "Alice" in merges.output
    assert runner.invoke(cli, ["members", "unmerge", "-c", "club", str(merge.pk)]).exit_code == 0
    assert runner.invoke(cli, ["members", "unmerge", "-c", "club", str(merge.pk)]).exit_code == 5

    mapping = _mapping(
        tmp_path, "platform,platform_user_id,member_key\nwechat,wx_bob,bob\nqq,10002,bob\n"
    )
    mapped = runner.invoke(cli, ["members", "map", "-c", "club", str(mapping)])
    assert mapped.exit_code == 0, mapped.output
    assert "1 members merged" in mapped.output
    bad = _mapping(tmp_path, "nope\n")
    assert runner.invoke(cli, ["members", "map", "-c", "club", str(bad)]).exit_code == 3


def test_one_account_in_two_channels_of_a_platform_with_global_ids_is_one_member(
    community, write_chatlab
):
    do_import(community, _chat(write_chatlab, "wechat", "group-one", "wxid_alice", "wxid_bob"))
    summary = do_import(
        community, _chat(write_chatlab, "wechat", "group-two", "wxid_alice", "wxid_carol")
    )
    alice = get_member(community, "wxid_alice")
    assert alice.identities.count() == 2
    assert summary.members_new == 1  # only Carol
    assert summary.members_updated == 1  # Alice gained an account
    assert member_totals(alice)["messages"] == 4


def test_accounts_of_platforms_without_global_ids_stay_apart(community, write_chatlab):
    # WhatsApp and CSV "ids" are names or whatever a file says: not proof of one person.
    do_import(community, _chat(write_chatlab, "whatsapp", "g1", "Alice", "Bob"))
    do_import(community, _chat(write_chatlab, "whatsapp", "g2", "Alice", "Bob"))
    assert Member.objects.filter(display_name="Alice").count() == 2


def test_leaving_one_channel_is_not_leaving_the_community(community, write_chatlab):
    def system(mid, offset, text, who="wxid_alice"):
        return {
            "platformMessageId": mid,
            "sender": who,
            "accountName": "Alice",
            "timestamp": T0 + offset,
            "type": 80,
            "content": text,
        }

    group_one = chatlab_header(platform="wechat", group_id="one", name="one")
    group_two = chatlab_header(platform="wechat", group_id="two", name="two")
    do_import(
        community, write_chatlab([system("a", 0, "Alice joined")], header=group_one, name="1")
    )
    do_import(
        community, write_chatlab([system("b", 5, "Alice joined")], header=group_two, name="2")
    )
    do_import(community, write_chatlab([system("c", 9, "Alice left")], header=group_one, name="3"))
    alice = get_member(community, "wxid_alice")
    assert alice.identities.count() == 2
    assert alice.left_at is None  # still in group two

    do_import(community, write_chatlab([system("d", 20, "Alice left")], header=group_two, name="4"))
    alice.refresh_from_db()
    assert alice.left_at.timestamp() == T0 + 20  # left everywhere: no longer a member
