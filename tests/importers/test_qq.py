"""The QQ message manager text export: chats, senders, system lines, encodings, clear errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import table_counts

from shequn.communities.models import Channel
from shequn.interactions.importers import ImportFormatError, detect_format, qq
from shequn.interactions.importers.pipeline import ImportPipeline
from shequn.interactions.importers.qq import QQTextSource
from shequn.interactions.models import InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

TITLE = "消息记录（此消息记录为文本格式，不支持重新导入）"
RULE = "=" * 64
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def chat(grouping: str, name: str, messages: list[tuple[str, str]]) -> list[str]:
    """One chat block as QQ writes it: header block, then each message and a blank line."""
    lines = [RULE, f"消息分组:{grouping}", RULE, f"消息对象:{name}", RULE, ""]
    for header, body in messages:
        lines += [header, *body.split("\n"), ""]
    return lines


def export(*chats: list[str], title: bool = True) -> str:
    lines = [TITLE, ""] if title else []
    for block in chats:
        lines += block
    return "\r\n".join(lines) + "\r\n"


def write(tmp_path: Path, text: str, name: str = "全部消息记录.txt", encoding="utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


GROUP = [
    ("2016-01-02 12:34:56 【群主】张三(123456789)", "大家好\n\n欢迎 @李四 和 @Bob (UK) 加入"),
    ("2016-01-02 12:35:10 【管理员】李四(222222)", "谢谢群主！"),
    ("2016-01-02 12:35:30 Bob (UK)(333333)", "[图片]"),
    ("2016-01-02 12:36:00 王(五)<wangwu@example.com>", "看这个 https://example.org/a"),
    ("2016-01-02 12:40:00 系统消息(1000000)", "真核生物独幕剧加入本群。"),
    ("2016-01-02 12:41:00 【潜水】李四(222222)", "2016-01-02 12:00:00 这行不是消息头\n" + RULE),
    ("2016-01-02 12:42:00 系统消息(10000)", "李四退出了本群。"),
    ("2016-01-02 12:43:00 系统消息(10000)", "Bob (UK)被管理员移出本群"),
    ("2016-01-02 12:44:00 系统消息(10000)", "王(五)撤回了一条消息"),
    ("2016-01-02 12:45:00 小怪兽(80000000)", "匿名说话"),
]


def group_export() -> str:
    return export(chat("我的群聊", "某某交流群", GROUP))


def by_time(when: str, kind: str = "message") -> InteractionEvent:
    local = dt.datetime.fromisoformat(f"2016-01-02T{when}").replace(tzinfo=SHANGHAI)
    return InteractionEvent.objects.select_related("member", "target_member").get(
        occurred_at=local, kind=kind
    )


@pytest.mark.django_db
def test_group_export_maps_senders_badges_mentions_and_system_lines(community, tmp_path):
    path = write(tmp_path, group_export())
    assert detect_format(path) == "qq"

    summary = do_import(community, path, format_name="qq")

    assert summary.source_counts == {
        "chats": 1,
        "messages": 10,
        "members": 4,
        "system_messages": 4,
        "anonymous_messages": 1,
    }
    assert summary.events_added == summary.events_read == 12  # 10 messages + 2 mentions
    channel = Channel.objects.get()
    assert (channel.platform, channel.external_id, channel.name) == (
        "qq",
        "qq-group:某某交流群",
        "某某交流群",
    )
    roles = dict(Member.objects.values_list("display_name", "role"))
    assert roles == {
        "张三": "founder",
        "李四": "operator",
        "Bob (UK)": "member",
        "王(五)": "member",
    }
    lisi = Identity.objects.get(platform_user_id="222222")
    assert lisi.profile == {"qq": "222222", "badge": "【潜水】"}  # the latest badge
    assert Identity.objects.get(handle="王(五)").profile == {"email": "wangwu@example.com"}

    first = by_time("12:34:56")
    assert first.member.display_name == "张三"
    assert first.text == "大家好\n\n欢迎 @李四 和 @Bob (UK) 加入"  # a blank line inside a body
    assert first.occurred_at == dt.datetime(2016, 1, 2, 4, 34, 56, tzinfo=dt.UTC)
    assert first.attributes == {"badges": ["群主"]}
    mentioned = {
        e.target_member.display_name for e in InteractionEvent.objects.filter(kind="mention")
    }
    assert mentioned == {"李四", "Bob (UK)"}  # a nickname with a space and parentheses
    assert by_time("12:35:30").content_type == "image"
    assert by_time("12:36:00").content_type == "link"
    # A date-led line without a sender id and a separator line are message text.
    assert by_time("12:41:00").text == "2016-01-02 12:00:00 这行不是消息头\n" + RULE

    join = by_time("12:40:00", "join")
    assert join.member is None and join.attributes["subject_name"] == "真核生物独幕剧"
    leave = by_time("12:42:00", "leave")
    assert leave.member.display_name == "李四"
    assert by_time("12:43:00", "leave").member.display_name == "Bob (UK)"
    recall = by_time("12:44:00", "system")
    assert (recall.member, recall.content_type) == (None, "recall")
    assert by_time("12:45:00").member is None  # anonymous posts belong to nobody
    assert not Identity.objects.filter(platform_user_id__in=["10000", "1000000", "80000000"])
    lisi.member.refresh_from_db()
    assert lisi.member.left_at == leave.occurred_at

    zhang = Member.objects.get(display_name="张三")
    rollup = MemberDailyRollup.objects.get(member=zhang)
    assert (rollup.messages, rollup.mentions_given) == (1, 2)
    assert rollup.characters == len(first.text)


@pytest.mark.django_db
def test_reimport_and_a_longer_later_export_add_only_what_is_new(community, tmp_path):
    path = write(tmp_path, group_export())
    do_import(community, path, format_name="qq")
    before = table_counts()

    again = do_import(community, path, format_name="qq")
    assert again.events_added == 0
    assert again.duplicates_skipped == again.events_read == 12
    after = table_counts()
    assert after["interactions.InteractionEvent"] == before["interactions.InteractionEvent"]
    assert after["members.Member"] == before["members.Member"]

    # A later export of the same chat, as GB18030 and with one more message.
    longer = export(
        chat("我的群聊", "某某交流群", [*GROUP, ("2016-01-03 9:00:01 张三(123456789)", "早")])
    )
    later = do_import(community, write(tmp_path, longer, "later.txt", "gb18030"), format_name="qq")
    assert later.events_added == 1


@pytest.mark.django_db
def test_identical_messages_in_one_second_are_both_kept(community, tmp_path):
    same = ("2016-01-02 12:00:00 张三(123456789)", "+1")
    path = write(tmp_path, export(chat("我的群聊", "群", [same, same])))
    assert do_import(community, path, format_name="qq").events_added == 2
    assert do_import(community, path, format_name="qq").events_added == 0


@pytest.mark.django_db
def test_every_chat_is_a_channel_and_private_chats_are_skipped(community, tmp_path):
    text = export(
        chat("我的群聊", "读书会(12345678)", [("2016-01-02 12:00:00 张三(111111)", "hi")]),
        chat(
            "我的好友",
            "小鹿",
            [("2016-01-02 12:01:00 小鹿", "私聊"), ("2016-01-02 12:02:00 我", "嗯")],
        ),
        chat("已退出的多人聊天", "周末爬山", [("2016-01-02 12:03:00 番茄", "出发")]),
        chat("我的QQ群", "跑团", [("2016-01-02 12:04:00 张三(111111)", "yo")]),
    )
    path = write(tmp_path, text)

    summary = do_import(community, path, format_name="qq")

    assert set(Channel.objects.values_list("external_id", flat=True)) == {
        "qq-group:12345678",  # the group number when the chat name carries one
        "qq-group:周末爬山",  # a discussion group: no numbers, members known by nickname
        "qq-group:跑团",
    }
    assert summary.source_counts["private_chats_skipped"] == 1
    assert summary.source_counts["private_messages_skipped"] == 2
    assert summary.source_counts["chats"] == 3
    assert Channel.objects.get(external_id="qq-group:12345678").name == "读书会"
    assert Identity.objects.get(platform_user_id="番茄").channel.external_id == "qq-group:周末爬山"
    # The same QQ number in two groups is two accounts, one per channel.
    assert Identity.objects.filter(platform_user_id="111111").count() == 2

    source = QQTextSource(path, include_private=True)
    ImportPipeline(community, source).run()
    private = Channel.objects.get(external_id="qq-private:小鹿")
    assert private.events.count() == 2


@pytest.mark.django_db
def test_channel_override(community, tmp_path):
    one = write(tmp_path, group_export())
    do_import(community, one, format_name="qq", channel="my-group")
    assert list(Channel.objects.values_list("external_id", flat=True)) == ["my-group"]

    two = export(
        chat("我的群聊", "A", [("2016-01-02 12:00:00 张三(111111)", "hi")]),
        chat("我的群聊", "B", [("2016-01-02 12:00:00 张三(111111)", "hi")]),
    )
    path = write(tmp_path, two, "two.txt")
    with pytest.raises(ImportFormatError, match="holds several chats") as caught:
        do_import(community, path, format_name="qq", channel="my-group")
    assert caught.value.location == "line 18"  # the second chat's first message


@pytest.mark.django_db
def test_twelve_hour_times_and_time_zone(community, tmp_path):
    messages = [
        ("2019-09-23 8:43:38 PM 骰娘-Roll100(87200175)", "1"),
        ("2019-09-24 12:05:00 AM 暗夜(28084825)", "2"),
        ("2019-09-24 12:06:00 PM 暗夜(28084825)", "3"),
    ]
    path = write(tmp_path, export(chat("我的群聊", "湖之仆从（PST 8pm | BJT 11am）", messages)))
    ImportPipeline(community, QQTextSource(path, time_zone="UTC")).run()
    times = sorted(InteractionEvent.objects.values_list("occurred_at", flat=True))
    assert times == [
        dt.datetime(2019, 9, 23, 20, 43, 38, tzinfo=dt.UTC),
        dt.datetime(2019, 9, 24, 0, 5, tzinfo=dt.UTC),
        dt.datetime(2019, 9, 24, 12, 6, tzinfo=dt.UTC),
    ]
    with pytest.raises(ImportFormatError, match="unknown time zone 'Mars/Base' \\(use an IANA"):
        QQTextSource(path, time_zone="Mars/Base")
    assert QQTextSource(path).zone.key == "Asia/Shanghai"  # the default
    assert QQTextSource(path, tz="UTC", date_order="DMY").zone.key == "UTC"  # others' options


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "utf-16"])
def test_encodings(community, tmp_path, encoding):
    path = write(tmp_path, group_export(), encoding=encoding)
    assert detect_format(path) == "qq"
    summary = do_import(community, path, format_name="qq")
    assert summary.events_added == 12
    assert by_time("12:34:56").text.startswith("大家好")


@pytest.mark.django_db
def test_a_file_without_the_title_block_is_one_chat_named_after_the_file(community, tmp_path):
    text = "2016-01-02 12:00:00 A(123123)\r\n关注\r\n\r\n2016-01-02 12:01:00 B(456456)\r\nTCG\r\n"
    path = write(tmp_path, text, "读书会.txt", "utf-8")
    assert detect_format(path) == "qq"
    do_import(community, path)
    assert Channel.objects.get().external_id == "qq-group:读书会"
    assert InteractionEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_nickname_missing_from_a_header_keeps_the_earlier_name(community, tmp_path):
    messages = [
        ("2016-01-02 12:00:00 张三(111111)", "a"),
        ("2016-01-02 12:01:00 111111(111111)", "b"),
        ("2016-01-02 12:02:00 (111111)", "c"),
    ]
    do_import(community, write(tmp_path, export(chat("我的群聊", "群", messages))))
    assert Identity.objects.get().handle == "张三"
    assert Member.objects.get().display_name == "张三"


@pytest.mark.django_db
def test_progress_reaches_the_end(community, tmp_path):
    path = write(tmp_path, group_export())
    calls = []
    do_import(community, path, format_name="qq", progress=lambda *a: calls.append(a))
    done, total, _records = calls[-1]
    assert done == total == path.stat().st_size


def test_detection_is_specific(tmp_path):
    assert QQTextSource.sniff(write(tmp_path, group_export(), "a.txt"))
    assert QQTextSource.sniff(write(tmp_path, group_export(), "b.txt", "gb18030"))
    others = {
        "chatlab.json": json.dumps({"chatlab": {"version": "0.0.2"}, "meta": {}}),
        "export.csv": "member_id,time,text\nu1,1709257000,hi\n",
        "whatsapp.txt": "1/29/21, 09:19 - Alice: hi\n1/29/21, 09:20 - Bob: 消息记录\n",
        "wechat.txt": "2016-01-02 12:00:00 张三\n你好\n",  # no sender id, no QQ title
        "notes.txt": "消息记录 of our meeting\nnothing else\n",
        "empty.txt": "",
    }
    for name, content in others.items():
        assert not QQTextSource.sniff(write(tmp_path, content, name, "utf-8")), name
    assert not QQTextSource.sniff(tmp_path)


GOOD = [("2016-01-02 12:00:00 张三(111111)", "a"), ("2016-01-02 12:00:01 李四(222222)", "b")]
MALFORMED = {
    "text before the first message": (
        export(chat("我的群聊", "群", [])) + "随便写的一行\r\n",
        "line 9",
        "expected a message header such as 2016-01-02 12:34:56 张三(123456789), "
        "found '随便写的一行'",
    ),
    "impossible date": (
        export(chat("我的群聊", "群", [*GOOD, ("2016-02-30 12:00:00 张三(111111)", "c")])),
        "line 15",
        "'2016-02-30 12:00:00' is not a valid date and time",
    ),
    "impossible 12-hour time": (
        export(chat("我的群聊", "群", [*GOOD, ("2016-02-03 13:00:00 PM 张三(111111)", "c")])),
        "line 15",
        "'2016-02-03 13:00:00 PM' is not a valid date and time",
    ),
    "chat without a name": (
        export(chat("我的群聊", "", GOOD)),
        "line 6",
        "消息对象 is empty",
    ),
    "invalid UTF-8 in a UTF-8 file": (
        export(chat("我的群聊", "群", [*GOOD, ("2016-01-02 12:00:02 张三(111111)", "\udcff")])),
        "line 16",
        "the text is not valid UTF-8",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_file_is_rejected_and_changes_nothing(case, community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # so good messages are flushed before the bad one
    do_import(community, write(tmp_path, group_export(), "earlier.txt"), format_name="qq")
    content, location, problem = MALFORMED[case]
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8", errors="surrogateescape"))
    before = table_counts()

    with pytest.raises(ImportFormatError) as caught:
        do_import(community, path, format_name="qq")

    message = str(caught.value)
    assert str(path) in message
    assert caught.value.location == location
    assert problem in caught.value.problem
    assert table_counts() == before


@pytest.mark.django_db
def test_bad_bytes_after_the_probe_are_reported_with_their_line(community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 50
    messages = [
        (f"2016-01-02 12:{n // 60:02d}:{n % 60:02d} 张三(111111)", "x" * 100) for n in range(900)
    ]
    content = export(chat("我的群聊", "群", messages)).encode("utf-8")
    assert len(content) > 64 * 1024
    path = tmp_path / "big.txt"
    path.write_bytes(content + "2016-01-02 13:00:00 张三(111111)\r\n".encode() + b"\xff\xfe\r\n")
    before = table_counts()
    with pytest.raises(ImportFormatError, match="not valid UTF-8") as caught:
        do_import(community, path, format_name="qq")
    newlines = content.count(b"\n")
    assert caught.value.location == f"line {newlines + 2}"
    assert table_counts() == before


@pytest.mark.django_db
def test_folder_is_rejected(community, tmp_path):
    with pytest.raises(ImportFormatError, match="found a folder"):
        do_import(community, tmp_path, format_name="qq")


@pytest.mark.django_db
def test_a_join_line_names_someone_who_speaks_later(community, tmp_path):
    messages = [
        ("2016-01-02 12:00:00 系统消息(1000000)", "张三邀请王小明加入本群。"),
        ("2016-01-02 12:01:00 张三(111111)", "欢迎@王小明"),
        ("2016-01-02 12:02:00 王小明(777777)", "大家好"),
    ]
    do_import(community, write(tmp_path, export(chat("我的群聊", "群", messages))))
    join = InteractionEvent.objects.get(kind="join")
    assert join.member.display_name == "王小明"  # the invitee, found by name in the whole file
    assert join.member.joined_at == join.occurred_at
    mention = InteractionEvent.objects.get(kind="mention")
    assert (mention.member.display_name, mention.target_member.display_name) == ("张三", "王小明")


@pytest.mark.django_db
def test_a_private_chat_opening_with_a_system_line_stays_private(community, tmp_path):
    messages = [
        ("2016-01-02 12:00:00 系统消息(10000)", "小鹿撤回了一条消息"),
        ("2016-01-02 12:01:00 小鹿", "在吗\n2016-01-02 是周六"),
        ("2016-01-02 12:02:00 我", "在"),
    ]
    path = write(tmp_path, export(chat("我的好友", "小鹿", messages)))
    summary = do_import(community, path)
    assert summary.events_added == 0
    assert summary.source_counts == {"private_chats_skipped": 1, "private_messages_skipped": 3}

    ImportPipeline(community, QQTextSource(path, include_private=True)).run()
    assert Channel.objects.get().external_id == "qq-private:小鹿"
    assert set(Identity.objects.values_list("platform_user_id", flat=True)) == {"小鹿", "我"}
    assert InteractionEvent.objects.get(kind="system").member is None
    texts = InteractionEvent.objects.filter(kind="message").values_list("text", flat=True)
    assert sorted(texts) == ["在", "在吗\n2016-01-02 是周六"]


def records_of(path: Path, **options) -> list[str]:
    return [repr(record) for record in QQTextSource(path, **options).records()]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_where_the_file_is_cut_into_blocks_changes_nothing(tmp_path, monkeypatch, encoding):
    """The parser reads a block of lines at a time; its records do not depend on where the
    blocks end (line ends, a chat's header block, text that looks like a chat line)."""
    messages = [
        (f"2016-01-02 12:{n:02d}:00 {name}", body)
        for n, (name, body) in enumerate(
            [
                ("【管理员】李四(222222)", "欢迎 @王小明\n\n" + RULE + "\n消息对象:不是新的聊天"),
                ("系统消息(10000)", "张三邀请王小明加入本群。"),
                ("张三(111111)", "2016-01-02 12:00:00 这行不是消息头"),
                ("王小明(777777)", "[图片]"),
                ("张三(111111)", "  \n"),
            ]
        )
    ]
    twelve_hour = [("2016-01-03 8:43:38 PM 张三(111111)", "晚上好"), *GROUP[:3]]
    text = export(
        chat("我的群聊", "群(612345678)", messages), chat("我的群聊", "另一群", twelve_hour)
    )
    text = text.replace("大家好\r\n", "大家好\r\r\n")  # a line end with two "\r"
    path = write(tmp_path, text.rstrip("\r\n"), encoding=encoding)  # and none at the end
    whole = records_of(path)
    assert len(whole) > 20
    if encoding != "utf-16":  # (read with universal newlines: there a lone "\r" ends a line)
        assert repr(GROUP[0][1]) in "".join(whole)  # "\r\r\n" ends a line as "\r\n" does
    for size in (1, 7, 64, 300):
        monkeypatch.setattr(qq, "CHUNK_BYTES", size)
        monkeypatch.setattr(qq, "UTF16_BATCH", size)
        assert records_of(path) == whole, size


@pytest.mark.parametrize("block_bytes", [None, 200])
def test_a_nickname_two_accounts_share_names_the_last_one_to_use_it(
    tmp_path, monkeypatch, block_bytes
):
    if block_bytes:
        monkeypatch.setattr(qq, "CHUNK_BYTES", block_bytes)
    messages = [("2016-01-02 12:00:00 李四(222222)", "@张三 在吗")] + [
        (f"2016-01-02 12:{n:02d}:00 {sender}", "在")
        for n, sender in enumerate(
            ["张三(111111)", "【管理员】张三(333333)", "张三(111111)", "李四(222222)"] * 5, 1
        )
    ]
    path = write(tmp_path, export(chat("我的群聊", "群", messages)))
    mentions = [r for r in QQTextSource(path).records() if getattr(r, "kind", "") == "mention"]
    assert [(m.actor, m.target) for m in mentions] == [("222222", "111111")]
