"""WhatsApp "Export chat" text: Android and iOS layouts, date orders, system lines, errors.

The sample lines follow what real exports contain, as documented by the parsers that read them
(whatsapp-chat-parser's test formats, whatstk's header formats, whats_json's sample exports,
ChatLab's WhatsApp parser): Android ``31/12/2021, 21:05 - Name: text``; iOS
``[12/31/21, 9:05:12 PM] Name: text`` with a left-to-right mark and a narrow no-break space;
older iOS ``7/1/16, 4:56:55 PM: Name: text``.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import psutil
import pytest
from conftest import table_counts

from shequn.communities.models import Channel
from shequn.interactions.importers import ImportFormatError, detect_format
from shequn.interactions.importers.pipeline import ImportPipeline
from shequn.interactions.importers.records import EventRecord
from shequn.interactions.importers.whatsapp import (
    WhatsAppSource,
    _media,
    _parse_system,
)
from shequn.interactions.models import EventKind, InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

LRM = "\u200e"
NNBSP = "\u202f"  # iOS puts a narrow no-break space before AM/PM

ANDROID = """\
15/03/2024, 09:00 - Messages and calls are end-to-end encrypted. No one outside of this chat, \
not even WhatsApp, can read or listen to them. Tap to learn more.
15/03/2024, 09:00 - Ann Lee created group "Book Club"
15/03/2024, 09:01 - Ann Lee added Bob, Carol and +44 7700 900123
15/03/2024, 09:05 - Ann Lee: Welcome everyone! @Bob please introduce yourself
15/03/2024, 09:06 - Bob: Hi all
I'm Bob, I read sci-fi.

[31/12/2021, 21:05:12] Bob: a quoted iOS line stays in the message
2021/12/31 21:05 - so does a date in another order
15/03/2024, 09:07 - +44 7700 900123: <Media omitted>
15/03/2024, 09:08 - Carol: Hi @447700900123, who are you?
16/03/2024, 18:30 - Dan joined using this group's invite link
16/03/2024, 18:31 - Dan: https://example.org/book
16/03/2024, 18:32 - Bob: This message was deleted
17/03/2024, 20:00 - Carol left
"""
ANDROID_NAME = "WhatsApp Chat with Book Club.txt"

PHOTO = "00000007-PHOTO-2024-01-13-09-42-10.jpg"
IOS = (
    f"{LRM}[1/5/24, 8:15:02{NNBSP}PM] Trip: {LRM}Messages and calls are end-to-end encrypted."
    " No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
    f"{LRM}[1/5/24, 8:15:02{NNBSP}PM] Trip: {LRM}Ali created group “Trip”\n"
    f"{LRM}[1/5/24, 8:15:03{NNBSP}PM] Trip: {LRM}Ali added Veli and Zoe\n"
    f"[1/13/24, 9:41:35{NNBSP}AM] Ali: Packing list @\u2068Veli\u2069\n"
    "- tent\n"
    "- stove\n"
    f"{LRM}[1/13/24, 9:42:10{NNBSP}AM] Veli: {LRM}<attached: {PHOTO}>\n"
    f"{LRM}[1/13/24, 12:01:00{NNBSP}PM] Zoe: {LRM}image omitted\n"
    f"[1/13/24, 12:05:00{NNBSP}PM] Zoe: {LRM}You deleted this message.\n"
    f"{LRM}[1/14/24, 12:00:00{NNBSP}AM] Trip: {LRM}Zoe left\n"
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def write_zip(tmp_path: Path, name: str, members: dict[str, str | bytes]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def first_event(tmp_path: Path, content: str, **options: str) -> tuple[EventRecord, WhatsAppSource]:
    source = WhatsAppSource(write(tmp_path, "chat.txt", content), **options)
    record = next(r for r in source.records() if isinstance(r, EventRecord))
    return record, source


# ------------------------------------------------------------------- imports
@pytest.mark.django_db
def test_android_export_maps_members_joins_mentions_media_and_system_lines(community, tmp_path):
    path = write(tmp_path, ANDROID_NAME, ANDROID)
    assert detect_format(path) == "whatsapp"

    summary = do_import(community, path)

    assert summary.events_added == summary.events_read == 15
    assert summary.members_new == 5
    assert summary.source_counts == {
        "messages": 6, "system": 5, "members": 5, "media": 1, "deleted": 1, "mentions": 2,
    }  # fmt: skip
    channel = Channel.objects.get(community=community)
    assert (channel.platform, channel.external_id, channel.name) == (
        "whatsapp", "Book Club", "Book Club",
    )  # fmt: skip
    # People are who the export names; a phone number is kept in one +digits form.
    phone = Identity.objects.get(platform_user_id="+447700900123")
    assert phone.member.display_name == "+44 7700 900123"
    assert phone.profile == {"phone": "+447700900123"}
    assert set(Member.objects.values_list("display_name", flat=True)) == {
        "Ann Lee", "Bob", "Carol", "+44 7700 900123", "Dan",
    }  # fmt: skip

    by_kind: dict[str, list[InteractionEvent]] = {}
    for event in InteractionEvent.objects.select_related("member", "target_member").order_by(
        "occurred_at", "id"
    ):
        by_kind.setdefault(event.kind, []).append(event)
    joins = by_kind["join"]
    assert [e.member.display_name for e in joins] == [
        "Ann Lee", "Bob", "Carol", "+44 7700 900123", "Dan",
    ]  # fmt: skip
    assert joins[0].attributes["created_group"] is True
    assert joins[1].attributes["added_by"] == "Ann Lee"
    assert joins[1].occurred_at == utc(2024, 3, 15, 9, 1)
    mentions = by_kind["mention"]
    assert [(m.member.display_name, m.target_member.display_name) for m in mentions] == [
        ("Ann Lee", "Bob"),
        ("Carol", "+44 7700 900123"),
    ]
    messages = by_kind["message"]
    bob = next(m for m in messages if m.member.display_name == "Bob")
    assert bob.text == (
        "Hi all\nI'm Bob, I read sci-fi.\n\n"
        "[31/12/2021, 21:05:12] Bob: a quoted iOS line stays in the message\n"
        "2021/12/31 21:05 - so does a date in another order"
    )
    media = next(m for m in messages if m.content_type == "media")
    assert (media.member.display_name, media.text, media.attributes) == (
        "+44 7700 900123", None, {"media": "media"},
    )  # fmt: skip
    assert next(m for m in messages if m.member.display_name == "Dan").content_type == "link"
    deleted = next(e for e in by_kind["system"] if e.member)
    assert (deleted.member.display_name, deleted.content_type) == ("Bob", "deleted")
    notice = next(e for e in by_kind["system"] if e.member is None)
    assert notice.text.startswith("Messages and calls are end-to-end encrypted")
    assert [e.member.display_name for e in by_kind["leave"]] == ["Carol"]

    carol = Member.objects.get(display_name="Carol")
    assert carol.joined_at == utc(2024, 3, 15, 9, 1)
    assert carol.left_at == utc(2024, 3, 17, 20, 0)
    ann = Member.objects.get(display_name="Ann Lee")
    rollup = MemberDailyRollup.objects.get(member=ann, day=dt.date(2024, 3, 15))
    assert (rollup.messages, rollup.mentions_given, rollup.joins) == (1, 1, 1)
    assert rollup.characters == len("Welcome everyone! @Bob please introduce yourself")
    bob_day = MemberDailyRollup.objects.get(member__display_name="Bob", day=dt.date(2024, 3, 15))
    assert (bob_day.messages, bob_day.mentions_received, bob_day.joins) == (1, 1, 1)


@pytest.mark.django_db
def test_ios_archive_reads_chat_txt_and_the_groups_own_lines_are_system(community, tmp_path):
    path = write_zip(
        tmp_path,
        "WhatsApp Chat - Trip.zip",
        {"_chat.txt": IOS, "00000007-PHOTO-2024-01-13-09-42-10.jpg": b"\xff\xd8" * 500},
    )
    assert detect_format(path) == "whatsapp"
    calls = []

    summary = do_import(community, path, progress=lambda *args: calls.append(args))

    assert summary.events_added == 10
    assert set(Member.objects.values_list("display_name", flat=True)) == {"Ali", "Veli", "Zoe"}
    assert Channel.objects.get(community=community).external_id == "Trip"
    assert calls[-1][0] == calls[-1][1] == path.stat().st_size
    stored = list(InteractionEvent.objects.select_related("member", "target_member").order_by("id"))
    kinds = [(e.kind, e.member.display_name if e.member else None) for e in stored]
    assert kinds == [
        ("system", None),
        ("join", "Ali"),
        ("join", "Veli"),
        ("join", "Zoe"),
        ("message", "Ali"),
        ("mention", "Ali"),
        ("message", "Veli"),
        ("message", "Zoe"),
        ("system", "Zoe"),
        ("leave", "Zoe"),
    ]
    assert stored[4].occurred_at == utc(2024, 1, 13, 9, 41, 35)
    assert stored[4].text == "Packing list @\u2068Veli\u2069\n- tent\n- stove"
    assert stored[5].target_member.display_name == "Veli"
    assert stored[6].attributes == {
        "media": "image", "file": "00000007-PHOTO-2024-01-13-09-42-10.jpg",
    }  # fmt: skip
    assert stored[7].occurred_at == utc(2024, 1, 13, 12, 1)  # 12:01 PM is noon
    assert stored[8].content_type == "deleted"
    assert stored[9].occurred_at == utc(2024, 1, 14, 0, 0)  # 12:00 AM is midnight


@pytest.mark.django_db
def test_reimport_adds_nothing(community, tmp_path):
    path = write(tmp_path, ANDROID_NAME, ANDROID)
    do_import(community, path)
    before = table_counts()
    rollups = list(MemberDailyRollup.objects.order_by("id").values())

    again = do_import(community, path)

    assert again.events_added == 0
    assert again.duplicates_skipped == again.events_read == 15
    assert again.members_new == 0
    after = table_counts()
    assert after["interactions.InteractionEvent"] == before["interactions.InteractionEvent"]
    assert after["members.Member"] == before["members.Member"]
    assert list(MemberDailyRollup.objects.order_by("id").values()) == rollups


@pytest.mark.django_db
def test_identical_messages_are_kept_and_still_deduplicated(community, tmp_path):
    path = write(
        tmp_path,
        "WhatsApp Chat with Duo.txt",
        "31/12/2021, 21:05 - Ann: ok\n31/12/2021, 21:05 - Ann: ok\n31/12/2021, 21:05 - Bob: ok\n",
    )
    assert do_import(community, path).events_added == 3
    assert do_import(community, path).events_added == 0


@pytest.mark.django_db
def test_export_with_media_matches_the_export_without(community, tmp_path):
    """The same chat exported "without media" (.txt) and "include media" (.zip): same ids."""
    lines = "31/12/2021, 21:04 - Ann: look\n31/12/2021, 21:05 - Ann: {media}\n"
    without = write(tmp_path, "WhatsApp Chat with Pics.txt", lines.format(media="<Media omitted>"))
    with_media = write_zip(
        tmp_path,
        "WhatsApp Chat with Pics.zip",
        {
            "WhatsApp Chat with Pics.txt": lines.format(
                media="IMG-20211231-WA0001.jpg (file attached)"
            ),
            "IMG-20211231-WA0001.jpg": b"\xff\xd8",
        },
    )
    assert detect_format(with_media) == "whatsapp"
    assert do_import(community, without).events_added == 2
    assert do_import(community, with_media).events_added == 0
    event = InteractionEvent.objects.get(content_type="media")
    assert event.attributes == {"media": "media"}


@pytest.mark.django_db
def test_time_zone_option_reads_wall_clock_times_in_that_zone(community, tmp_path):
    path = write(tmp_path, "WhatsApp Chat with Tz.txt", "31/12/2021, 21:05 - Ann: hi\n")
    ImportPipeline(community, WhatsAppSource(path, time_zone="Asia/Shanghai")).run()
    assert InteractionEvent.objects.get().occurred_at == utc(2021, 12, 31, 13, 5)

    record, _ = first_event(tmp_path, "31/12/2021, 21:05 - Ann: hi\n", tz="America/New_York")
    assert record.occurred_at.astimezone(dt.UTC) == utc(2022, 1, 1, 2, 5)
    record, _ = first_event(tmp_path, "31/12/2021, 21:05 - Ann: hi\n")
    assert record.occurred_at == utc(2021, 12, 31, 21, 5)  # UTC by default


@pytest.mark.django_db
def test_channel_name_comes_from_the_file_name_or_the_override(community, tmp_path):
    line = "31/12/2021, 21:05 - 张三: 你好\n"
    assert do_import(community, write(tmp_path, "与开心每一天的 WhatsApp 聊天.txt", line))
    assert do_import(community, write(tmp_path, "WhatsApp Chat with Book Club (1).txt", line))
    assert do_import(community, write(tmp_path, "export.txt", line))
    do_import(community, write(tmp_path, "other.txt", line), channel="club-main")
    assert set(Channel.objects.values_list("external_id", "name")) == {
        ("开心每一天", "开心每一天"),
        ("Book Club", "Book Club"),
        ("export", "export"),
        ("club-main", "other"),
    }


@pytest.mark.django_db
def test_mentions_prefer_the_longest_known_name(community, tmp_path):
    content = (
        "01/02/2024, 10:00 - Ann: hi\n"
        "01/02/2024, 10:01 - Ann Lee: hello\n"
        "01/02/2024, 10:02 - Bob: @Ann Lee, and @Ann too; @Nobody and @Bob are skipped\n"
    )
    do_import(community, write(tmp_path, "WhatsApp Chat with M.txt", content))
    targets = InteractionEvent.objects.filter(kind=EventKind.MENTION).order_by("source_id")
    assert [m.target_member.display_name for m in targets] == ["Ann Lee", "Ann"]


# ---------------------------------------------------------------- date forms
DATE_FORMS = {
    "android US 12h": ("12/31/21, 9:05 PM - Ann: hi\n", (2021, 12, 31, 21, 5), "MDY"),
    "android EU 24h": ("31/12/2021, 21:05 - Ann: hi\n", (2021, 12, 31, 21, 5), "DMY"),
    "dots, 2-digit year": ("31.12.21, 21:05 - Ann: hi\n", (2021, 12, 31, 21, 5), "DMY"),
    "dashes, seconds": ("31-12-2021 21:05:07 - Ann: hi\n", (2021, 12, 31, 21, 5, 7), "DMY"),
    "iOS 24h": ("[31/12/2021, 21:05:12] Ann: hi\n", (2021, 12, 31, 21, 5, 12), "DMY"),
    "iOS 12h with marks": (
        f"{LRM}[12/31/21, 9:05:12{NNBSP}PM] Ann: hi\n",
        (2021, 12, 31, 21, 5, 12),
        "MDY",
    ),
    "iOS without comma, dotted time": (
        "[26/01/21 21.05.53] Ann: hi\n",
        (2021, 1, 26, 21, 5, 53),
        "DMY",
    ),
    "year first (Chinese Android)": (
        "2021/12/31 21:05 - 张三: 你好\n",
        (2021, 12, 31, 21, 5),
        "YMD",
    ),
    "year first, iOS": ("[2021-12-31, 21:05:12] Ann: hi\n", (2021, 12, 31, 21, 5, 12), "YMD"),
    "older iOS, colon": ("7/13/16, 4:56:55 PM: Ann: hi\n", (2016, 7, 13, 16, 56, 55), "MDY"),
    "p. m.": ("23/06/2018, 01:55 p. m. - Ann: hi\n", (2018, 6, 23, 13, 55), "DMY"),
    "Finnish klo": ("13.6.2018 klo 21.25.15 - Ann: hi\n", (2018, 6, 13, 21, 25, 15), "DMY"),
    "midnight in 12h": ("12/31/21, 12:05 AM - Ann: hi\n", (2021, 12, 31, 0, 5), "MDY"),
    "marker before the time": ("2021/12/31 下午9:05 - 张三: 你好\n", (2021, 12, 31, 21, 5), "YMD"),
}


@pytest.mark.parametrize("form", DATE_FORMS)
def test_date_and_time_forms(form, tmp_path):
    content, expected, order = DATE_FORMS[form]
    record, source = first_event(tmp_path, content)
    assert record.occurred_at == utc(*expected)
    assert source.date_order == order


ORDER_EVIDENCE = {
    "day decreases within a year": (
        "12/01/21, 10:00 - Ann: a\n01/02/21, 10:00 - Ann: b\n",
        (2021, 1, 12, 10),
        "DMY",
    ),
    "second number decreases": (
        "01/12/21, 10:00 - Ann: a\n02/01/21, 10:00 - Ann: b\n",
        (2021, 1, 12, 10),
        "MDY",
    ),
    "a day above 12 far down the file": (
        "05/06/21, 10:00 - Ann: a\n"
        + "05/06/21, 10:01 - Ann: more\n" * 50
        + "06/13/21, 10:00 - Ann: b\n",
        (2021, 5, 6, 10),
        "MDY",
    ),
}


@pytest.mark.parametrize("case", ORDER_EVIDENCE)
def test_the_date_order_comes_from_the_whole_file(case, tmp_path):
    content, expected, order = ORDER_EVIDENCE[case]
    record, source = first_event(tmp_path, content)
    assert (record.occurred_at, source.date_order) == (utc(*expected), order)


def test_an_ambiguous_file_reads_day_first_unless_told(tmp_path):
    content = "05/06/21, 10:00 - Ann: a\n05/06/21, 11:00 - Ann: b\n"
    record, source = first_event(tmp_path, content)
    assert record.occurred_at == utc(2021, 6, 5, 10)
    assert source.counts["dates_ambiguous"] == 1
    record, source = first_event(tmp_path, content, date_order="mdy")
    assert record.occurred_at == utc(2021, 5, 6, 10)
    assert "dates_ambiguous" not in source.counts


# ---------------------------------------------------------- recognised lines
SYSTEM_LINES = [
    ('Ann changed the subject from "A" to "B: c"', EventKind.SYSTEM, ["Ann"], None),
    ("You removed Bob", EventKind.LEAVE, ["Bob"], "You"),
    ("Ann added you", EventKind.JOIN, ["you"], "Ann"),
    ("+1 555 123 4567 left", EventKind.LEAVE, ["+1 555 123 4567"], None),
    ("Ann se unió usando el enlace de invitación de este grupo", EventKind.JOIN, ["Ann"], None),
    ("Ann añadió a Bob y Carol", EventKind.JOIN, ["Bob", "Carol"], "Ann"),
    ("Ann eliminó a Bob", EventKind.LEAVE, ["Bob"], "Ann"),
    ("Ana entrou usando o link de convite deste grupo", EventKind.JOIN, ["Ana"], None),
    ("Ana adicionou Bia e Caio", EventKind.JOIN, ["Bia", "Caio"], "Ana"),
    ("Bia saiu", EventKind.LEAVE, ["Bia"], None),
    ("Anna hat Ben hinzugefügt", EventKind.JOIN, ["Ben"], "Anna"),
    ("Ben hat die Gruppe verlassen", EventKind.LEAVE, ["Ben"], None),
    ("张三 添加了 李四、王五", EventKind.JOIN, ["李四", "王五"], "张三"),
    ("李四 退出了群组", EventKind.LEAVE, ["李四"], None),
    ("张三 移除了 王五", EventKind.LEAVE, ["王五"], "张三"),
]


@pytest.mark.parametrize(("text", "kind", "names", "by"), SYSTEM_LINES)
def test_system_lines_in_several_languages(text, kind, names, by):
    pattern, found, doer = _parse_system(text)
    assert (pattern.kind, found, doer) == (kind, names, by)


def test_ordinary_text_is_not_a_system_line():
    assert _parse_system("Anna Set the table") is None
    assert _parse_system("hello there") is None


MEDIA = [
    ("<Media omitted>", ("media", None)),
    ("image omitted", ("image", None)),
    ("<Medien ausgeschlossen>", ("media", None)),
    ("<省略影音内容>", ("media", None)),
    (
        "<附件：00000001-PHOTO-2024-01-01-10-00-00.jpg>",
        ("image", "00000001-PHOTO-2024-01-01-10-00-00.jpg"),
    ),
    ("IMG-20200319-WA0011.jpg (file attached)", ("image", "IMG-20200319-WA0011.jpg")),
    ("Resume.pdf • 2 pages document omitted", ("document", "Resume.pdf • 2 pages")),
    ("report.pdf (see above)", None),
    ("hello", None),
]


@pytest.mark.parametrize(("text", "expected"), MEDIA)
def test_media_placeholders(text, expected):
    assert _media(text) == expected


# ----------------------------------------------------------------- detection
def test_detection_is_specific(tmp_path):
    assert WhatsAppSource.sniff(write(tmp_path, "a.txt", "\ufeff" + ANDROID))
    assert WhatsAppSource.sniff(write(tmp_path, "b.txt", "\n\n" + IOS))
    assert not WhatsAppSource.sniff(write(tmp_path, "c.csv", "member_id,time\nu1,1709257000\n"))
    assert not WhatsAppSource.sniff(write(tmp_path, "d.json", '{"chatlab": {"version": "0.0.2"}}'))
    assert not WhatsAppSource.sniff(write(tmp_path, "e.txt", "hello\n31/12/2021, 21:05 - A: b\n"))
    assert not WhatsAppSource.sniff(write(tmp_path, "f.txt", "2021-12-31 21:05:12 张三(12345)\n"))
    assert not WhatsAppSource.sniff(write(tmp_path, "g.txt", ""))
    assert not WhatsAppSource.sniff(write_zip(tmp_path, "h.zip", {"photo.jpg": b"x"}))
    assert not WhatsAppSource.sniff(tmp_path)


# ------------------------------------------------------------------- errors
GOOD = (
    "31/12/2021, 21:05 - Ann: one\n"
    "31/12/2021, 21:06 - Bob: two\n"
    "31/12/2021, 21:07 - Ann: three\n"
    "31/12/2021, 21:08 - Bob: four\n"
)
MALFORMED = {
    "not an export": ("Hello there\n" + GOOD, "line 1", "not a WhatsApp message line"),
    "no such date": (
        GOOD + "31/02/2022, 10:00 - Bob: x\n",
        "line 5",
        "'31/02/2022, 10:00' is not a valid date and time read as DMY",
    ),
    "PM hour above 12": (
        GOOD.replace("21:0", "9:0").replace(" - ", " PM - ") + "31/12/2021, 13:05 PM - Bob: x\n",
        "line 5",
        "'31/12/2021, 13:05 PM' is not a valid date and time",
    ),
    "dates disagree": (
        GOOD + "12/31/2021, 21:09 - Bob: x\n",
        "line 5",
        "the dates disagree on their order: '12/31/2021' has the month first but line 1",
    ),
    "invalid UTF-8": (
        GOOD.encode() + b"31/12/2021, 21:09 - Bob: " + "中文".encode("gbk") + b"\n",
        "line 5",
        "not valid UTF-8 (byte 0xd6",
    ),
    "empty": ("", "line 1", "the file is empty"),
    "blank lines only": ("\n\r\n", "line 1", "the file is empty"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_file_is_rejected_and_changes_nothing(case, community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2  # so good lines are flushed before the bad one
    do_import(community, write(tmp_path, "WhatsApp Chat with Earlier.txt", ANDROID))
    content, location, problem = MALFORMED[case]
    path = write(tmp_path, "WhatsApp Chat with Bad.txt", content)
    before = table_counts()

    with pytest.raises(ImportFormatError) as caught:
        do_import(community, path, format_name="whatsapp")

    assert str(path) in str(caught.value)
    assert caught.value.location == location
    assert problem in caught.value.problem
    assert table_counts() == before


@pytest.mark.django_db
def test_errors_inside_an_archive_name_the_member_and_line(community, tmp_path, settings):
    settings.SHEQUN_IMPORT_BATCH_SIZE = 2
    path = write_zip(
        tmp_path, "WhatsApp Chat - Bad.zip", {"_chat.txt": GOOD + "30/02/2021, 21:09 - Bob: x\n"}
    )
    before = table_counts()
    with pytest.raises(ImportFormatError) as caught:
        do_import(community, path, format_name="whatsapp")
    assert caught.value.location == "_chat.txt, line 5"
    assert table_counts() == before

    empty = write_zip(tmp_path, "photos.zip", {"IMG-1.jpg": b"x"})
    with pytest.raises(ImportFormatError, match="the archive holds no chat text"):
        do_import(community, empty, format_name="whatsapp")
    assert table_counts() == before


def test_bad_options_are_rejected(tmp_path):
    path = write(tmp_path, "chat.txt", GOOD)
    with pytest.raises(ImportFormatError, match="unknown time zone 'Mars/Base'"):
        WhatsAppSource(path, time_zone="Mars/Base")
    with pytest.raises(ImportFormatError, match="unknown date order 'DYM'"):
        WhatsAppSource(path, date_order="DYM")
    assert WhatsAppSource(path, channel="x", unrelated_option=1).channel_override == "x"


@pytest.mark.django_db
def test_a_damaged_archive_or_a_folder_is_rejected(community, tmp_path):
    path = tmp_path / "WhatsApp Chat - Broken.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("_chat.txt", GOOD)
    data = bytearray(path.read_bytes())
    data[data.index(b"Bob: two") + 5] ^= 0x20  # the CRC no longer matches
    path.write_bytes(bytes(data))
    before = table_counts()
    with pytest.raises(ImportFormatError, match="cannot read the archive"):
        do_import(community, path, format_name="whatsapp")
    with pytest.raises(ImportFormatError, match="found a folder"):
        do_import(community, tmp_path, format_name="whatsapp")
    assert table_counts() == before


@pytest.mark.django_db
def test_one_to_one_chat_keeps_the_contacts_messages(community, tmp_path):
    """iOS names the other person as the author of the encryption notice, but they also write."""
    content = (
        "[3/18/22, 14:56:01] Elon Musk: Messages and calls are end-to-end encrypted. No one outside"
        " of this chat, not even WhatsApp, can read or listen to them.\n"
        "[3/27/22, 21:41:35] Dmitry S: Hello World\n"
        "[3/27/22, 21:41:55] Elon Musk: image omitted\n"
        "[3/27/22, 21:54:45] Elon Musk: Bob left\n"
    )
    summary = do_import(community, write(tmp_path, "_chat.txt", content))
    assert Channel.objects.get(community=community).external_id == "Elon Musk"
    assert summary.source_counts["messages"] == 3
    kinds = InteractionEvent.objects.order_by("id").values_list("kind", "member__display_name")
    assert list(kinds) == [
        ("system", None),
        ("message", "Dmitry S"),
        ("message", "Elon Musk"),
        ("message", "Elon Musk"),
    ]


def test_lines_are_read_alike_across_blocks_line_ends_and_a_bom(tmp_path):
    """The file is read in blocks: lines that span two, CRLF ends, a BOM, no final line end."""
    lines = ["\ufeff01/02/2024, 10:00 - Ann: first"]
    for n in range(3000):  # about 150 KB: several blocks, lines cut between them
        lines.append(f"01/02/2024, 10:{n % 60:02d} - P{n % 7}: message {n} " + "é" * (n % 50))
        if n % 10 == 0:
            lines.append(f"continued {n}\r")  # "\r\r\n": every CR before the LF goes
    lines.append("01/02/2024, 11:00 - Bob: last, with no line end")
    path = write(tmp_path, "chat.txt", "\r\n".join(lines))
    events = [r for r in WhatsAppSource(path).records() if isinstance(r, EventRecord)]
    assert len(events) == 3002
    assert events[0].text == "first"
    assert events[1].text == "message 0\ncontinued 0"
    assert events[12].text == "message 11 " + "é" * 11
    assert not any("\r" in (event.text or "") for event in events)
    assert events[-1].text == "last, with no line end"
    assert events[-1].location == f"line {len(lines)}"


def test_invalid_utf8_far_into_the_file_names_its_line(tmp_path):
    good = "".join(f"01/02/2024, 10:{n % 60:02d} - Ann: message {n}\n" for n in range(5000))
    path = write(tmp_path, "chat.txt", good.encode() + b"01/02/2024, 11:00 - Bob: \xff\n")
    with pytest.raises(ImportFormatError) as caught:
        list(WhatsAppSource(path).records())
    assert caught.value.location == "line 5001"
    assert "byte 0xff at byte 26 of the line" in caught.value.problem


# ------------------------------------------------------------------- memory
def test_large_export_is_streamed_in_constant_memory(tmp_path):
    """About 24 MB of messages: memory must not grow with them."""
    path = tmp_path / "WhatsApp Chat with Big.txt"
    body = "x" * 1200
    with path.open("w", encoding="utf-8") as handle:
        for n in range(20_000):
            handle.write(
                f"{1 + n % 28:02d}/0{1 + n // 4000}/2024, 10:{n % 60:02d} - P{n % 9}: {body}\n"
            )
            handle.write("second line of the message\n")
    assert path.stat().st_size > 24_000_000
    source = WhatsAppSource(path)
    process = psutil.Process()
    baseline = peak = process.memory_info().rss
    seen = 0
    for record in source.records():
        if isinstance(record, EventRecord):
            seen += 1
            if seen % 1000 == 0:
                peak = max(peak, process.memory_info().rss)
    assert seen == 20_000
    assert source.progress() == (source.total_bytes, source.total_bytes)
    assert peak - baseline < 15_000_000


@pytest.mark.parametrize("archived", [False, True], ids=["text-file", "zip"])
def test_progress_is_readable_while_reading_and_reaches_every_pass(tmp_path, archived):
    # The import asks for progress at every batch it writes: a chat long enough for one batch
    # asked it mid-file (a plain text file had failed there).
    if archived:
        path = write_zip(tmp_path, "WhatsApp Chat - Trip.zip", {"_chat.txt": IOS})
    else:
        path = write(tmp_path, ANDROID_NAME, ANDROID)
    source = WhatsAppSource(path)
    seen = [source.progress() for _record in source.records()]
    total = source.total_bytes
    assert all(known == total for _done, known in seen)
    done = [value for value, _known in seen]
    assert done == sorted(done) and 0 < done[-1] <= total
    assert source.progress() == (total, total)
