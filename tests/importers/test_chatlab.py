from __future__ import annotations

import json

import pytest
from conftest import table_counts
from django.utils import translation

from shequn.interactions.importers import detect_format
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.models import ImportRun, InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

T0 = 1703001600  # 2023-12-19 16:00 UTC

MEMBERS = [
    {
        "platformId": "u1",
        "accountName": "张三",
        "groupNickname": "群主-张三",
        "roles": [{"id": "owner"}],
    },
    {"platformId": "u2", "accountName": "李四", "roles": [{"id": "admin"}]},
    {"platformId": "u3", "accountName": "Wang Wu", "roles": [{"id": "vip", "name": "VIP"}]},
    {"platformId": "u4", "accountName": "赵六"},
]
MESSAGES = [
    {
        "platformMessageId": "m1",
        "sender": "u1",
        "accountName": "张三",
        "timestamp": T0,
        "type": 0,
        "content": "大家好 @李四 请看",
    },
    {
        "platformMessageId": "m2",
        "sender": "u2",
        "accountName": "李四",
        "timestamp": T0 + 10,
        "type": 25,
        "content": "收到！",
        "replyToMessageId": "m1",
    },
    {
        "platformMessageId": "m3",
        "sender": "u3",
        "accountName": "Wang Wu",
        "timestamp": T0 + 20,
        "type": 7,
        "content": "https://example.org",
    },
    {
        "platformMessageId": "m4",
        "sender": "u1",
        "accountName": "张三",
        "timestamp": T0 + 30,
        "type": 80,
        "content": '"张三"邀请"赵六"加入了群聊',
    },
    {
        "platformMessageId": "m5",
        "sender": "u4",
        "accountName": "赵六",
        "timestamp": T0 + 40,
        "type": 0,
        "content": "hi",
    },
    {
        "platformMessageId": "m6",
        "sender": "u3",
        "accountName": "Wang Wu",
        "timestamp": T0 + 50,
        "type": 80,
        "content": "Wang Wu left",
    },
]


@pytest.mark.parametrize("jsonl", [False, True], ids=["json", "jsonl"])
def test_chatlab_import_maps_members_roles_replies_mentions_and_system_messages(
    community, write_chatlab, jsonl
):
    path = write_chatlab(MESSAGES, MEMBERS, jsonl=jsonl)
    assert detect_format(path) == "chatlab"

    summary = do_import(community, path)

    assert summary.events_added == summary.events_read == 7  # 6 messages + 1 mention
    assert summary.members_new == 4
    assert summary.source_counts == {"chat": 1, "members": 4, "messages": 6}
    roles = dict(Member.objects.values_list("display_name", "role"))
    assert roles == {
        "群主-张三": "founder",
        "李四": "operator",
        "Wang Wu": "member",
        "赵六": "member",
    }
    assert Identity.objects.get(platform_user_id="u3").profile["roles"] == ["VIP"]

    events = {
        e.source_id: e for e in InteractionEvent.objects.select_related("member", "target_member")
    }
    assert events["m2"].kind == "reply"
    assert events["m2"].target_member.display_name == "群主-张三"
    assert events["m1#mention0"].kind == "mention"
    assert events["m1#mention0"].target_member.display_name == "李四"
    assert events["m3"].content_type == "link"
    # The invitee joins, not the inviter; an English "left" line is a leave.
    assert events["m4"].kind == "join" and events["m4"].member.display_name == "赵六"
    assert events["m6"].kind == "leave" and events["m6"].member.display_name == "Wang Wu"

    founder = Member.objects.get(display_name="群主-张三")
    rollup = MemberDailyRollup.objects.get(member=founder)
    assert (rollup.messages, rollup.replies_received, rollup.mentions_given) == (1, 1, 1)
    assert rollup.characters == len("大家好 @李四 请看")


def test_a_join_naming_an_unknown_account_is_not_given_to_the_inviter(community, write_chatlab):
    invite = {
        "platformMessageId": "j1",
        "sender": "u1",
        "accountName": "张三",
        "timestamp": T0,
        "type": 80,
        "content": '"张三"邀请"陌生人"加入了群聊',
    }
    do_import(community, write_chatlab([invite], MEMBERS[:1]))
    join = InteractionEvent.objects.get(source_id="j1")
    assert join.kind == "join"
    assert join.member is None
    assert join.attributes["subject_name"] == "陌生人"


def test_leaving_and_coming_back_update_the_member(community, write_chatlab):
    def system(mid, offset, text):
        return {
            "platformMessageId": mid,
            "sender": "u3",
            "accountName": "Wang Wu",
            "timestamp": T0 + offset,
            "type": 80,
            "content": text,
        }

    do_import(
        community,
        write_chatlab(
            [system("s1", 0, "Wang Wu joined"), system("s2", 100, "Wang Wu left")],
            MEMBERS,
            name="a",
        ),
    )
    member = Member.objects.get(identities__platform_user_id="u3")
    assert member.joined_at.timestamp() == T0
    assert member.left_at.timestamp() == T0 + 100

    summary = do_import(community, write_chatlab([system("s3", 200, "Wang Wu joined")], name="b"))
    member.refresh_from_db()
    assert member.left_at is None
    assert summary.members_updated == 1


def test_reimport_adds_nothing_and_reports_duplicates(community, write_chatlab):
    path = write_chatlab(MESSAGES, MEMBERS)
    do_import(community, path)
    before = table_counts()
    rollups = list(MemberDailyRollup.objects.order_by("id").values())

    again = do_import(community, path)

    assert again.events_added == 0
    assert again.duplicates_skipped == again.events_read == 7
    assert again.members_new == 0
    after = table_counts()
    # Only the run itself and its audit entry are new.
    assert after["interactions.InteractionEvent"] == before["interactions.InteractionEvent"]
    assert after["members.Member"] == before["members.Member"]
    assert list(MemberDailyRollup.objects.order_by("id").values()) == rollups


def test_messages_without_ids_are_still_deduplicated(community, write_chatlab):
    messages = [
        {"sender": "u1", "accountName": "A", "timestamp": T0, "type": 0, "content": "same"},
        {"sender": "u1", "accountName": "A", "timestamp": T0, "type": 0, "content": "same"},
        {"sender": "u2", "accountName": "B", "timestamp": T0 + 1, "type": 0, "content": "other"},
    ]
    path = write_chatlab(messages, jsonl=True)
    first = do_import(community, path)
    second = do_import(community, path)
    assert first.events_added == 3  # two identical messages in one second are both kept
    assert second.events_added == 0


def test_reply_to_a_message_from_an_earlier_import_finds_its_author(community, write_chatlab):
    do_import(community, write_chatlab(MESSAGES[:1], MEMBERS[:1], name="first"))
    later = [
        {
            "platformMessageId": "m9",
            "sender": "u2",
            "accountName": "李四",
            "timestamp": T0 + 99,
            "type": 25,
            "content": "late answer",
            "replyToMessageId": "m1",
        }
    ]
    do_import(community, write_chatlab(later, name="second"))
    reply = InteractionEvent.objects.get(source_id="m9")
    assert reply.target_member.display_name == "群主-张三"


def test_platform_roles_never_lower_a_role(community, write_chatlab):
    do_import(community, write_chatlab(MESSAGES[:1], MEMBERS[:1], name="a"))
    demoted = [{**MEMBERS[0], "roles": []}]
    summary = do_import(community, write_chatlab(MESSAGES[:1], demoted, name="b"))
    assert Member.objects.get(identities__platform_user_id="u1").role == "founder"
    assert summary.members_updated == 0


def test_text_is_not_stored_when_disabled(community, write_chatlab):
    do_import(community, write_chatlab(MESSAGES), store_text=False)
    event = InteractionEvent.objects.get(source_id="m1")
    assert event.text is None
    assert event.text_length == len("大家好 @李四 请看")


def test_days_follow_the_community_time_zone(db, write_chatlab):
    from shequn.communities.services import do_create_community

    shanghai = do_create_community(slug="sh", name="SH", time_zone="Asia/Shanghai")
    # 2023-12-19 16:00 UTC is already 2023-12-20 00:00 in Shanghai.
    do_import(shanghai, write_chatlab(MESSAGES[:1]))
    assert str(InteractionEvent.objects.get().day) == "2023-12-20"


MALFORMED = [
    (
        "missing sender",
        {"accountName": "X", "timestamp": T0, "type": 0, "content": "x"},
        "field 'sender'",
    ),
    (
        "bad timestamp",
        {"sender": "u1", "accountName": "X", "timestamp": "yesterday", "type": 0, "content": "x"},
        "field 'timestamp'",
    ),
    (
        "bad type",
        {"sender": "u1", "accountName": "X", "timestamp": T0, "type": "text", "content": "x"},
        "field 'type'",
    ),
    (
        "content not text",
        {"sender": "u1", "accountName": "X", "timestamp": T0, "type": 0, "content": {"a": 1}},
        "field 'content'",
    ),
]


@pytest.mark.parametrize("jsonl", [False, True], ids=["json", "jsonl"])
@pytest.mark.parametrize(("label", "bad", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_message_names_file_record_and_problem_and_changes_nothing(
    community, write_chatlab, settings, jsonl, label, bad, problem
):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # good rows are flushed before the bad one
    path = write_chatlab([*MESSAGES[:4], bad], MEMBERS, jsonl=jsonl)
    before = table_counts()

    with pytest.raises(ImportFormatError) as error:
        do_import(community, path)

    message = str(error.value)
    assert str(path) in message
    assert problem in message
    assert ("line 10" if jsonl else "messages[4]") in message  # header + 4 members + 5th message
    assert table_counts() == before
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("jsonl", "location"), [(False, "消息 messages[4]"), (True, "第 10 行")], ids=["json", "jsonl"]
)
def test_malformed_message_is_reported_in_the_users_language(
    community, write_chatlab, jsonl, location
):
    bad = {"sender": "u1", "accountName": "X", "timestamp": "yesterday", "type": 0, "content": "x"}
    path = write_chatlab([*MESSAGES[:4], bad], MEMBERS, jsonl=jsonl)
    before = table_counts()

    with translation.override("zh-hans"), pytest.raises(ImportFormatError) as error:
        do_import(community, path)

    assert error.value.location == location
    assert error.value.problem == "字段“timestamp”应为 int 或 float 类型，实际为 str 'yesterday'"
    assert str(error.value) == f"{path}: {location}: {error.value.problem}"
    assert table_counts() == before
    with pytest.raises(ImportFormatError, match="field 'timestamp' must be a int or float"):
        do_import(community, path)  # and in English again once the language is back


def test_invalid_json_line_is_reported_with_its_line_number(community, tmp_path):
    path = tmp_path / "broken.jsonl"
    header = {
        "_type": "header",
        "chatlab": {"version": "0.0.2", "exportedAt": T0},
        "meta": {"name": "g", "platform": "qq", "type": "group"},
    }
    good = {
        "_type": "message",
        "sender": "u1",
        "accountName": "A",
        "timestamp": T0,
        "type": 0,
        "content": "ok",
    }
    path.write_text(
        json.dumps(header) + "\n" + json.dumps(good) + "\n{not json\n", encoding="utf-8"
    )
    with pytest.raises(ImportFormatError, match=r"broken\.jsonl: line 3: invalid JSON"):
        do_import(community, path, format_name="chatlab")
    assert InteractionEvent.objects.count() == 0


def test_truncated_json_document_is_rejected(community, write_chatlab):
    path = write_chatlab(MESSAGES, MEMBERS)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ImportFormatError, match="invalid JSON"):
        do_import(community, path)
    assert InteractionEvent.objects.count() == 0


def test_header_must_come_first_in_jsonl(community, tmp_path):
    path = tmp_path / "noheader.jsonl"
    path.write_text(json.dumps({"_type": "message", "sender": "u"}) + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="line 1: the first line must be the header"):
        do_import(community, path, format_name="chatlab")


def test_unsupported_version_is_rejected(community, write_chatlab):
    header = {
        "chatlab": {"version": "1.0.0", "exportedAt": T0},
        "meta": {"name": "g", "platform": "qq", "type": "group"},
    }
    with pytest.raises(ImportFormatError, match=r"version 1\.0\.0 is not supported"):
        do_import(community, write_chatlab(MESSAGES, header=header))


def test_members_after_messages_in_json_are_still_read(community, tmp_path):
    path = tmp_path / "reordered.json"
    document = {
        "chatlab": {"version": "0.0.2", "exportedAt": T0},
        "meta": {"name": "g", "platform": "qq", "type": "group"},
        "messages": MESSAGES[:2],
        "members": MEMBERS[:2],
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    do_import(community, path)
    assert Member.objects.get(identities__platform_user_id="u1").role == "founder"
    assert InteractionEvent.objects.filter(kind="reply").count() == 1


def test_nul_characters_are_dropped_from_text_and_names_but_refused_in_ids(
    community, write_chatlab
):
    nul_text = {
        "platformMessageId": "n1",
        "sender": "u1",
        "accountName": "A\x00B",
        "timestamp": T0,
        "type": 0,
        "content": "be\x00fore",
    }
    nul_system = {**nul_text, "platformMessageId": "n3", "type": 80, "content": "A\x00B joined"}
    do_import(community, write_chatlab([nul_text, nul_system], name="nul"))
    event = InteractionEvent.objects.get(source_id="n1")
    assert event.text == "before"
    assert event.member.display_name == "AB"
    assert InteractionEvent.objects.get(source_id="n3").attributes["system_text"] == "AB joined"

    nul_id = {**nul_text, "platformMessageId": "n\x002"}
    with pytest.raises(ImportFormatError, match="contains a NUL character"):
        do_import(community, write_chatlab([nul_id], name="nulid"))


@pytest.mark.parametrize("jsonl", [False, True], ids=["json", "jsonl"])
def test_progress_ends_at_the_file_size(community, write_chatlab, settings, jsonl):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    path = write_chatlab(MESSAGES, MEMBERS, jsonl=jsonl)
    reports = []
    do_import(community, path, progress=lambda done, total, records: reports.append((done, total)))
    assert len(reports) > 1
    assert reports[-1] == (path.stat().st_size, path.stat().st_size)
    assert all(done <= total for done, total in reports)


def test_a_message_with_an_empty_sender_belongs_to_nobody(community, write_chatlab):
    system = {
        "sender": "",
        "accountName": "",
        "timestamp": T0,
        "type": 80,
        "content": "群公告已更新",
    }
    summary = do_import(community, write_chatlab([system, *MESSAGES[:1]], MEMBERS[:1]))
    assert summary.members_new == 1
    assert InteractionEvent.objects.get(kind="system").member is None


def test_a_reply_imported_before_its_parent_finds_it_later(community, write_chatlab):
    reply = {
        "platformMessageId": "r1",
        "sender": "u2",
        "accountName": "李四",
        "timestamp": T0 + 5,
        "type": 25,
        "content": "agreed",
        "replyToMessageId": "m1",
    }
    do_import(community, write_chatlab([reply], MEMBERS[:2], name="later-part"))
    assert InteractionEvent.objects.get(source_id="r1").target_member is None

    do_import(community, write_chatlab(MESSAGES[:1], MEMBERS[:1], name="earlier-part"))

    founder = Member.objects.get(identities__platform_user_id="u1")
    assert InteractionEvent.objects.get(source_id="r1").target_member == founder
    assert MemberDailyRollup.objects.get(member=founder).replies_received == 1
