"""The generic CSV importer: the documented layout, idempotence, rollups and clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import table_counts

from shequn.communities.models import Channel
from shequn.communities.services import do_create_community
from shequn.interactions.importers import ImportFormatError, detect_format
from shequn.interactions.importers.csv_format import CsvSource
from shequn.interactions.models import ImportRun, InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

HEADER = "message_id,member_id,member_name,time,kind,text,reply_to,target_member_id,channel,role\n"
MULTILINE_TEXT = "多行\n文本, with a comma"
VALID = HEADER + (
    "m1,u1,张三,2024-03-01T09:30:00+08:00,message,大家好,,,,founder\n"
    "m2,u2,李四,1709257000,message,你好,m1,,,\n"
    "m3,u3,王五,2024-03-01T01:40:00Z,mention,@张三 欢迎,,u1,,\n"
    "m4,u2,,2024-03-01T09:45:00.5+08:00,reaction,👍,m1,,,\n"
    "j1,u4,赵六,1709258000.25,join,,,,,\n"
    'm5,u1,,2024-03-02T10:00:00+08:00,reply,"多行\n文本, with a comma",m3,,,operator\n'
    "l1,u4,,2024-03-02T12:00:00+08:00,leave,,,,,\n"
    "x1,u5,Eve,2024-03-01T23:30:00Z,message,hello,,,,\n"
)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def community(db):
    """Overrides conftest's: a community whose local day differs from UTC."""
    return do_create_community(slug="csv-test", name="CSV test", time_zone="Asia/Shanghai")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def snapshot() -> dict[str, int]:
    counts = table_counts()  # every shequn table, the audit log included
    for model in (Member, Identity, Channel, InteractionEvent, ImportRun, MemberDailyRollup):
        assert model._meta.label in counts
    return counts


def rollup(member: Member, day: str) -> dict[str, int]:
    row = MemberDailyRollup.objects.get(member=member, day=dt.date.fromisoformat(day))
    counters = (
        "messages",
        "characters",
        "replies_given",
        "replies_received",
        "mentions_given",
        "mentions_received",
        "reactions_given",
        "reactions_received",
        "joins",
        "leaves",
        "mutes",
    )
    return {name: getattr(row, name) for name in counters if getattr(row, name)}


@pytest.mark.django_db
def test_valid_file_imports_every_kind(community, tmp_path):
    path = write(tmp_path, "wechat-group.csv", VALID)
    summary = do_import(community, path, format_name="csv")

    assert summary.format == "csv"
    assert summary.events_read == 8
    assert summary.events_added == 8
    assert summary.members_new == 5
    assert summary.source_counts == {
        "channels": 1,
        "members": 5,
        "rows": 8,
        "message": 2,
        "reply": 2,
        "mention": 1,
        "reaction": 1,
        "join": 1,
        "leave": 1,
    }
    channel = Channel.objects.get(community=community)
    assert (channel.platform, channel.external_id) == ("csv", "wechat-group")
    assert channel.name == "wechat-group"

    members = {i.platform_user_id: i.member for i in Identity.objects.select_related("member")}
    assert members["u1"].display_name == "张三"
    assert members["u1"].role == "founder"  # a later, lower role never lowers it
    assert members["u2"].display_name == "李四"
    assert members["u5"].display_name == "Eve"
    assert members["u2"].role == "member"

    events = {e.source_id: e for e in InteractionEvent.objects.all()}
    assert {sid: e.kind for sid, e in events.items()} == {
        "m1": "message",
        "m2": "reply",
        "m3": "mention",
        "m4": "reaction",
        "j1": "join",
        "m5": "reply",
        "l1": "leave",
        "x1": "message",
    }
    # Replies and reactions point at the author of what they answer.
    assert events["m2"].target_member == members["u1"]
    assert events["m4"].target_member == members["u1"]
    assert events["m5"].target_member == members["u3"]
    assert events["m3"].target_member == members["u1"]
    assert events["m1"].target_member is None
    assert events["m2"].parent_source_id == "m1"
    # Times: offsets, Z, epoch seconds with and without fractions.
    assert events["m1"].occurred_at == dt.datetime(2024, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert events["m2"].occurred_at == dt.datetime(2024, 3, 1, 1, 36, 40, tzinfo=dt.UTC)
    assert events["m4"].occurred_at == dt.datetime(2024, 3, 1, 9, 45, 0, 500000, tzinfo=SHANGHAI)
    assert events["j1"].occurred_at == dt.datetime(2024, 3, 1, 1, 53, 20, 250000, tzinfo=dt.UTC)
    # The day is local to the community: 23:30 UTC is the next morning in Shanghai.
    assert events["x1"].day == dt.date(2024, 3, 2)
    assert events["m5"].text == MULTILINE_TEXT
    assert events["m1"].text == "大家好"
    assert events["m1"].text_length == 3

    assert rollup(members["u1"], "2024-03-01") == {
        "messages": 1,
        "characters": 3,
        "replies_received": 1,
        "mentions_received": 1,
        "reactions_received": 1,
    }
    assert rollup(members["u1"], "2024-03-02") == {
        "messages": 1,
        "characters": len(MULTILINE_TEXT),
        "replies_given": 1,
    }
    assert rollup(members["u2"], "2024-03-01") == {
        "messages": 1,
        "characters": 2,
        "replies_given": 1,
        "reactions_given": 1,
    }
    assert rollup(members["u3"], "2024-03-01") == {"mentions_given": 1}
    assert rollup(members["u3"], "2024-03-02") == {"replies_received": 1}
    assert rollup(members["u4"], "2024-03-01") == {"joins": 1}
    assert rollup(members["u4"], "2024-03-02") == {"leaves": 1}
    assert rollup(members["u5"], "2024-03-02") == {"messages": 1, "characters": 5}
    assert MemberDailyRollup.objects.count() == 8


@pytest.mark.django_db
def test_reimport_adds_nothing(community, tmp_path):
    path = write(tmp_path, "group.csv", VALID)
    do_import(community, path, format_name="csv")
    before = snapshot()
    rollups = list(MemberDailyRollup.objects.order_by("id").values())

    again = do_import(community, path, format_name="csv")

    assert again.events_read == 8
    assert again.events_added == 0
    assert again.duplicates_skipped == again.events_read
    assert again.members_new == 0
    after = snapshot()
    assert after["interactions.ImportRun"] == before["interactions.ImportRun"] + 1
    for label in (
        "members.Member",
        "members.Identity",
        "communities.Channel",
        "interactions.InteractionEvent",
        "interactions.MemberDailyRollup",
    ):
        assert after[label] == before[label]
    assert list(MemberDailyRollup.objects.order_by("id").values()) == rollups


@pytest.mark.django_db
def test_file_without_message_ids_is_idempotent(community, tmp_path):
    rows = (
        "member_id,member_name,time,text\n"
        "u1,Ann,2024-03-01T09:30:00+08:00,hi\n"
        "u1,Ann,2024-03-01T09:30:00+08:00,hi\n"  # the same row twice in one second: two messages
        "u2,Bob,2024-03-01T09:30:00+08:00,hi\n"
        "u1,Ann,2024-03-01T09:31:00+08:00,hi\n"
    )
    path = write(tmp_path, "nomsgid.csv", rows)
    first = do_import(community, path, format_name="csv")
    assert (first.events_read, first.events_added) == (4, 4)
    assert len(set(InteractionEvent.objects.values_list("source_id", flat=True))) == 4

    second = do_import(community, path, format_name="csv")
    assert (second.events_read, second.events_added, second.duplicates_skipped) == (4, 0, 4)

    # A longer export of the same chat adds only the new rows.
    path.write_text(rows + "u1,Ann,2024-03-01T09:30:00+08:00,hi\nu2,Bob,1709257000,new\n")
    third = do_import(community, path, format_name="csv")
    assert (third.events_read, third.events_added) == (6, 2)
    assert InteractionEvent.objects.count() == 6
    ann = Member.objects.get(display_name="Ann")
    assert rollup(ann, "2024-03-01") == {"messages": 4, "characters": 8}


@pytest.mark.django_db
def test_channels_per_row_and_override(community, tmp_path):
    rows = (
        "Member_ID, TIME ,Channel,Text\n"  # column names are case- and space-insensitive
        "u1,1709257000,general,a\n"
        "u1,1709257001,random,b\n"
        "u2,1709257002,,c\n"
    )
    path = write(tmp_path, "export.csv", "\ufeff" + rows)  # with a byte-order mark
    summary = do_import(community, path, format_name="csv")
    assert set(summary.channels) == {"general", "random", "export"}
    assert summary.source_counts["channels"] == 3
    # The same member id on two channels is two accounts until merged.
    assert summary.members_new == 3
    assert Identity.objects.filter(platform_user_id="u1").count() == 2

    other = do_create_community(slug="csv-other", name="Other")
    summary = do_import(other, path, format_name="csv", channel="wechat-1")
    assert set(summary.channels) == {"general", "random", "wechat-1"}
    assert all(c.platform == "csv" for c in Channel.objects.filter(community=other))


@pytest.mark.django_db
def test_progress_reaches_the_end(community, tmp_path):
    path = write(tmp_path, "group.csv", VALID)
    calls = []
    do_import(community, path, format_name="csv", progress=lambda *a: calls.append(a))
    done, total, records = calls[-1]
    assert done == total == path.stat().st_size
    assert records > 0


def test_detects_csv(tmp_path):
    path = write(tmp_path, "group.csv", VALID)
    assert CsvSource.sniff(path)
    assert detect_format(path) == "csv"
    assert CsvSource.sniff(write(tmp_path, "bom.csv", "\ufeffMEMBER_ID,Time\nu1,1\n"))
    assert not CsvSource.sniff(write(tmp_path, "group.txt", VALID))
    assert not CsvSource.sniff(write(tmp_path, "other.csv", "user,date\nu1,1\n"))
    assert not CsvSource.sniff(write(tmp_path, "empty.csv", ""))
    assert not CsvSource.sniff(tmp_path)


GOOD_ROWS = (
    "g1,u1,Ann,2024-03-01T09:30:00+08:00,message,hi,,,,\n"
    "g2,u2,Bob,2024-03-01T09:31:00+08:00,message,yo,g1,,,\n"
)
MALFORMED = {
    "bad time": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,2024-13-45T09:00:00+08:00,message,hi,,,,\n",
        "line 4",
        "time '2024-13-45T09:00:00+08:00' is not ISO 8601",
    ),
    "naive time": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,2024-03-01 09:00:00,message,hi,,,,\n",
        "line 4",
        "has no UTC offset",
    ),
    "unknown kind": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,1709257000,like,hi,,,,\n",
        "line 4",
        "unknown kind 'like' (one of: message, reply, mention, reaction, join, leave, mute)",
    ),
    "empty member id": (
        HEADER + GOOD_ROWS + "g3,,Cy,1709257000,message,hi,,,,\n",
        "line 4",
        "member_id is empty",
    ),
    "empty time": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,,message,hi,,,,\n",
        "line 4",
        "time is empty",
    ),
    "unknown role": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,1709257000,message,hi,,,,admin\n",
        "line 4",
        "unknown role 'admin'",
    ),
    "too few fields": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,1709257000,message,hi\n",
        "line 4",
        "expected 10 fields like the header, found 6",
    ),
    "too many fields": (
        HEADER + GOOD_ROWS + "g3,u3,Cy,1709257000,message,hi, there,,,,\n",
        "line 4",
        "expected 10 fields like the header, found 11",
    ),
    "error after a multi-line row": (
        HEADER + GOOD_ROWS + 'g3,u3,Cy,1709257000,message,"two\nlines",,,,\n'
        "g4,u3,Cy,yesterday,message,hi,,,,\n",
        "line 6",
        "time 'yesterday' is not ISO 8601",
    ),
    "quote left open": (
        HEADER + GOOD_ROWS + 'g3,u3,Cy,1709257000,message,"never closed,,,,\n',
        "line 4",
        "malformed CSV",
    ),
    "bad quoting": (
        HEADER + GOOD_ROWS + 'g3,u3,Cy,1709257000,message,"quoted"tail,,,,\n',
        "line 4",
        "malformed CSV",
    ),
    "missing required column": (
        "message_id,member_id,text\nm1,u1,hi\n",
        "line 1",
        "missing required column time",
    ),
    "unknown column": (
        "messsage_id,member_id,time\nm1,u1,1709257000\n",
        "line 1",
        "unknown column 'messsage_id' (known columns: message_id, member_id,",
    ),
    "duplicate column": (
        "member_id,time,Time\nu1,1709257000,1709257000\n",
        "line 1",
        "column time appears more than once",
    ),
    "unnamed column": (
        "member_id,time,\nu1,1709257000,\n",
        "line 1",
        "column 3 of the header has no name",
    ),
    "empty file": ("", "line 1", "the file is empty"),
    "invalid UTF-8": (
        HEADER.encode()
        + GOOD_ROWS.encode()
        + b"g3,u3,Cy,1709257000,message,"
        + "中文".encode("gbk")
        + b",,,,\n",
        "line 4",
        "not valid UTF-8",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_file_is_rejected_and_changes_nothing(case, community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # so good rows are flushed before the bad one
    do_import(community, write(tmp_path, "earlier.csv", VALID), format_name="csv")
    content, location, problem = MALFORMED[case]
    path = write(tmp_path, "bad.csv", content)
    before = snapshot()

    with pytest.raises(ImportFormatError) as caught:
        do_import(community, path, format_name="csv")

    message = str(caught.value)
    assert str(path) in message
    assert f": {location}: " in message
    assert problem in message
    assert caught.value.location == location
    assert snapshot() == before


@pytest.mark.django_db
def test_invalid_utf8_deep_in_a_large_file_changes_nothing(community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 50
    good = "".join(
        f"m{n},u{n % 7},名字{n % 7},{1709257000 + n},message,第{n}条消息\n" for n in range(2000)
    )
    content = (
        b"message_id,member_id,member_name,time,kind,text\n"
        + good.encode()
        + b"bad,u1,x,1709260000,message,\xff\xfe\n"
    )
    path = write(tmp_path, "big.csv", content)
    before = snapshot()
    with pytest.raises(ImportFormatError) as caught:
        do_import(community, path, format_name="csv")
    assert caught.value.location == "line 2002"
    assert "not valid UTF-8 (byte 0xff" in str(caught.value)
    assert snapshot() == before


@pytest.mark.django_db
def test_folder_is_rejected(community, tmp_path):
    with pytest.raises(ImportFormatError, match="expected a CSV file"):
        do_import(community, tmp_path, format_name="csv")


@pytest.mark.django_db
def test_members_learnt_across_batches(community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    rows = (
        "member_id,member_name,time,kind,target_member_id,role,text\n"
        "u1,Ann,1709257000,MENTION,u9,,@u9 hi\n"  # u9 first seen as a target, without a name
        "u1,Ann,1709257001,message,,,x\n"
        ",,,,,,\n"  # an empty spreadsheet row is skipped
        "\n"
        "u9,Nine,1709257002,Message,,,hello\n"  # now named, after u9 was stored
        "u1,,1709257003,message,,operator,y\n"  # a role learnt later raises the stored one
        "u9,Nine,1709257004,reaction,u1,主导者,\n"
    )
    summary = do_import(community, write(tmp_path, "later.csv", rows), format_name="csv")
    assert summary.events_read == summary.events_added == 5
    members = {i.platform_user_id: i.member for i in Identity.objects.select_related("member")}
    assert (members["u9"].display_name, members["u9"].role) == ("Nine", "founder")
    assert (members["u1"].display_name, members["u1"].role) == ("Ann", "operator")
    reaction = InteractionEvent.objects.get(kind="reaction")
    assert reaction.target_member == members["u1"]
    assert reaction.text is None
