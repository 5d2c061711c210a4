from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import psutil
import pytest
from conftest import SHARED_DATA, table_counts

from shequn.communities.models import Channel
from shequn.interactions.importers import detect_format
from shequn.interactions.importers.records import EventRecord, ImportFormatError, MemberRecord
from shequn.interactions.importers.stackexchange import StackExchangeSource, parse_tags
from shequn.interactions.models import EventKind, ImportRun, InteractionEvent
from shequn.interactions.selectors import member_totals
from shequn.interactions.services import do_import
from shequn.members.models import Identity, Member

HISTORY_META = SHARED_DATA / "history-meta-se"
CARDANO = SHARED_DATA / "cardano-se-2021"
UTC = dt.UTC


def dump_xml(root: str, rows: list[dict[str, Any]]) -> str:
    lines = ['\ufeff<?xml version="1.0" encoding="utf-8"?>', f"<{root}>"]
    for row in rows:
        attributes = " ".join(f"{key}={quoteattr(str(value))}" for key, value in row.items())
        lines.append(f"  <row {attributes} />")
    lines.append(f"</{root}>")
    return "\r\n".join(lines) + "\r\n"


def write_dump(folder: Path, **files: list[dict[str, Any]] | str) -> Path:
    """Write ``Users=[...]``, ``Posts=[...]`` … (rows, or raw text) as ``<Name>.xml`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else dump_xml(name.lower(), content)
        (folder / f"{name}.xml").write_text(text, encoding="utf-8")
    return folder


USERS = [
    {
        "Id": -1,
        "Reputation": 1,
        "CreationDate": "2021-04-01T00:00:00.000",
        "DisplayName": "Community",
        "AboutMe": "<p>I'm not really a person.</p>",
        "AccountId": -1,
    },
    {
        "Id": 1,
        "Reputation": 101,
        "CreationDate": "2021-04-27T15:06:44.553",
        "DisplayName": "Alice",
        "LastAccessDate": "2021-12-01T10:00:00.000",
        "WebsiteUrl": "https://alice.example",
        "Location": "Lisbon",
        "AboutMe": "<p>long text that is not kept</p>",
        "Views": 7,
        "UpVotes": 3,
        "DownVotes": 1,
        "AccountId": 1001,
    },
    {"Id": 2, "Reputation": 15, "CreationDate": "2021-04-28T08:00:00.000", "DisplayName": "Bob"},
    {"Id": 3, "Reputation": 1, "CreationDate": "2021-04-29T08:00:00.000", "DisplayName": "Carol"},
]
QUESTION_BODY = "<p>How do I <b>stream</b> a big XML file?</p>\n"
POSTS = [
    {
        "Id": 10,
        "PostTypeId": 1,
        "AcceptedAnswerId": 11,
        "CreationDate": "2021-05-01T09:00:00.000",
        "Score": 5,
        "ViewCount": 42,
        "Body": QUESTION_BODY,
        "OwnerUserId": 1,
        "Title": "Streaming XML",
        "Tags": "<python><xml>",
        "AnswerCount": 3,
    },
    {
        "Id": 11,
        "PostTypeId": 2,
        "ParentId": 10,
        "CreationDate": "2021-05-01T10:00:00.000",
        "Score": 3,
        "Body": "<p>Use iterparse.</p>",
        "OwnerUserId": 2,
    },
    {
        "Id": 12,
        "PostTypeId": 2,
        "ParentId": 10,
        "CreationDate": "2021-05-01T11:00:00.000",
        "Score": 0,
        "Body": "<p>Me too</p>",
        "OwnerDisplayName": "Ghost",
    },
    {
        "Id": 13,
        "PostTypeId": 1,
        "CreationDate": "2021-05-02T09:00:00.000",
        "Score": -1,
        "Body": "<p>Who wrote this?</p>",
        "Title": "Orphan",
        "Tags": "|misc|",
    },
    {
        "Id": 14,
        "PostTypeId": 5,
        "CreationDate": "2021-05-02T09:30:00.000",
        "Score": 0,
        "Body": "",
        "OwnerUserId": -1,
        "CommunityOwnedDate": "2021-05-02T09:30:00.000",
    },
    {
        "Id": 15,
        "PostTypeId": 2,
        "ParentId": 99,
        "CreationDate": "2021-05-03T09:00:00.000",
        "Score": 1,
        "Body": "<p>An answer to a deleted question</p>",
        "OwnerUserId": 3,
    },
    {
        "Id": 16,
        "PostTypeId": 1,
        "CreationDate": "2021-05-04T09:00:00.000",
        "Score": 0,
        "Body": "<p>From a deleted account</p>",
        "OwnerUserId": 9,
        "OwnerDisplayName": "user9",
        "Title": "Deleted",
        "Tags": "<misc>",
        "ClosedDate": "2021-05-05T00:00:00.000",
    },
]
COMMENTS = [
    {
        "Id": 100,
        "PostId": 11,
        "Score": 2,
        "Text": "Thanks, that works!",
        "CreationDate": "2021-05-01T12:00:00.000",
        "UserId": 1,
    },
    {
        "Id": 101,
        "PostId": 10,
        "Score": 0,
        "Text": "Good question",
        "CreationDate": "2021-05-01T13:00:00.000",
        "UserDisplayName": "Ghost",
    },
    {
        "Id": 102,
        "PostId": 50,
        "Score": 0,
        "Text": "On a deleted post",
        "CreationDate": "2021-05-01T14:00:00.000",
        "UserId": 3,
    },
]
VOTES = [
    {"Id": 1000, "PostId": 10, "VoteTypeId": 2, "CreationDate": "2021-05-01T00:00:00.000"},
    {"Id": 1001, "PostId": 11, "VoteTypeId": 1, "CreationDate": "2021-05-01T00:00:00.000"},
    {"Id": 1002, "PostId": 999, "VoteTypeId": 3, "CreationDate": "2021-05-01T00:00:00.000"},
    {
        "Id": 1003,
        "PostId": 10,
        "VoteTypeId": 8,
        "UserId": 3,
        "CreationDate": "2021-05-02",
        "BountyAmount": 50,
    },
    {
        "Id": 1004,
        "PostId": 11,
        "VoteTypeId": 5,
        "UserId": 1,
        "CreationDate": "2021-05-02T00:00:00.000",
    },
    {"Id": 1005, "PostId": 10, "VoteTypeId": 10, "CreationDate": "2021-05-03T00:00:00.000"},
    {"Id": 1006, "PostId": 10, "VoteTypeId": 99, "CreationDate": "2021-05-03T00:00:00.000"},
]
BADGES = [
    {
        "Id": 1,
        "UserId": 1,
        "Name": "Student",
        "Date": "2021-05-01T09:05:00.000",
        "Class": 3,
        "TagBased": "False",
    },
    {
        "Id": 2,
        "UserId": 2,
        "Name": "python",
        "Date": "2021-05-06T09:05:00.000",
        "Class": 2,
        "TagBased": "True",
    },
]


@pytest.fixture
def small_dump(tmp_path: Path) -> Path:
    return write_dump(
        tmp_path / "tiny.stackexchange.com",
        Users=USERS,
        Posts=POSTS,
        Comments=COMMENTS,
        Votes=VOTES,
        Badges=BADGES,
    )


def events(community) -> dict[str, InteractionEvent]:
    return {
        e.source_id: e
        for e in InteractionEvent.objects.filter(community=community).select_related(
            "member", "target_member"
        )
    }


def member_of(channel: Channel, platform_user_id: str) -> Member:
    return Identity.objects.get(channel=channel, platform_user_id=platform_user_id).member


@pytest.mark.django_db
def test_small_dump_maps_users_posts_comments_votes_and_badges(community, small_dump):
    summary = do_import(community, small_dump, format_name="stackexchange")

    assert summary.source_counts == {
        "users": 4,
        "posts": 7,
        "questions": 3,
        "answers": 3,
        "other_posts": 1,
        "comments": 3,
        "votes": 7,
        "badges": 2,
    }
    assert summary.events_read == summary.events_added == 4 + 7 + 3 + 7 + 2
    channel = Channel.objects.get(community=community)
    assert (channel.platform, channel.external_id) == ("stackexchange", "tiny.stackexchange.com")
    assert channel.name == "Tiny Stack Exchange"
    assert summary.channels["tiny.stackexchange.com"].added_by_kind == {
        "join": 4,
        "message": 4,
        "reply": 6,
        "reaction": 5,
        "moderation": 2,
        "badge": 2,
    }
    # Four users, the name-only "Ghost" and the deleted account 9 that still owns a post.
    assert summary.members_new == 6
    alice, bob, carol = (member_of(channel, uid) for uid in ("1", "2", "3"))
    ghost = member_of(channel, "name:Ghost")
    assert ghost.display_name == "Ghost"
    assert member_of(channel, "9").display_name == "user9"
    community_bot = member_of(channel, "-1")
    assert community_bot.is_bot and not alice.is_bot
    assert alice.joined_at == dt.datetime(2021, 4, 27, 15, 6, 44, 553000, tzinfo=UTC)
    profile = Identity.objects.get(channel=channel, platform_user_id="1").profile
    assert profile == {
        "reputation": 101,
        "account_id": 1001,
        "up_votes": 3,
        "down_votes": 1,
        "views": 7,
        "location": "Lisbon",
        "website": "https://alice.example",
        "last_access": "2021-12-01T10:00:00+00:00",
    }

    by_id = events(community)
    join = by_id["user:1:join"]
    assert (join.kind, join.member, join.occurred_at) == (EventKind.JOIN, alice, alice.joined_at)

    question = by_id["post:10"]
    assert (question.kind, question.member, question.thread_source_id) == (
        EventKind.MESSAGE,
        alice,
        "post:10",
    )
    assert question.content_type == "question"
    assert question.text == QUESTION_BODY and question.text_length == len(QUESTION_BODY)
    assert question.attributes == {
        "post_type": "question",
        "score": 5,
        "title": "Streaming XML",
        "tags": ["python", "xml"],
        "accepted_answer": 11,
        "views": 42,
    }
    assert by_id["post:13"].member is None
    assert by_id["post:13"].attributes["tags"] == ["misc"]
    assert by_id["post:16"].attributes["closed"] is True
    tag_wiki = by_id["post:14"]
    assert (tag_wiki.kind, tag_wiki.content_type, tag_wiki.member) == (
        EventKind.MESSAGE,
        "tag_wiki",
        community_bot,
    )
    assert tag_wiki.attributes == {"post_type": "tag_wiki", "score": 0, "community_wiki": True}

    answer = by_id["post:11"]
    assert (answer.kind, answer.member, answer.target_member) == (EventKind.REPLY, bob, alice)
    assert (answer.parent_source_id, answer.thread_source_id) == ("post:10", "post:10")
    assert answer.attributes == {"post_type": "answer", "score": 3}
    assert (by_id["post:12"].member, by_id["post:12"].target_member) == (ghost, alice)
    orphan_answer = by_id["post:15"]
    assert (orphan_answer.member, orphan_answer.target_member) == (carol, None)

    comment = by_id["comment:100"]
    assert (comment.kind, comment.member, comment.target_member) == (EventKind.REPLY, alice, bob)
    assert (comment.parent_source_id, comment.thread_source_id) == ("post:11", "post:10")
    assert comment.content_type == "comment"
    assert comment.attributes == {"post_type": "comment", "score": 2}
    assert (by_id["comment:101"].member, by_id["comment:101"].target_member) == (ghost, alice)
    assert by_id["comment:102"].target_member is None
    assert by_id["comment:102"].thread_source_id == "post:50"

    up = by_id["vote:1000"]
    assert (up.kind, up.member, up.target_member, up.attributes) == (
        EventKind.REACTION,
        None,
        alice,
        {"vote": "up"},
    )
    assert up.occurred_at == dt.datetime(2021, 5, 1, tzinfo=UTC)
    accept, down = by_id["vote:1001"], by_id["vote:1002"]
    assert (accept.attributes, accept.target_member) == ({"vote": "accept"}, bob)
    assert (down.attributes, down.target_member) == ({"vote": "down"}, None)
    bounty = by_id["vote:1003"]
    assert (bounty.member, bounty.target_member) == (carol, alice)
    assert bounty.attributes == {"vote": "bounty_start", "bounty": 50}
    assert bounty.occurred_at == dt.datetime(2021, 5, 2, tzinfo=UTC)  # date-only: midnight UTC
    favorite = by_id["vote:1004"]
    assert (favorite.member, favorite.attributes) == (alice, {"vote": "favorite"})
    deletion = by_id["vote:1005"]
    assert (deletion.kind, deletion.attributes, deletion.target_member) == (
        EventKind.MODERATION,
        {"vote": "deletion"},
        None,
    )
    assert by_id["vote:1006"].attributes == {"vote": "type_99"}

    badge = by_id["badge:2"]
    assert (badge.kind, badge.member, badge.content_type) == (EventKind.BADGE, bob, "badge")
    assert badge.attributes == {"badge": "python", "class": 2, "tag_based": True}
    assert by_id["badge:1"].attributes["tag_based"] is False

    alice_totals = member_totals(alice)
    assert alice_totals["messages"] == 2  # the question and the comment
    assert alice_totals["replies_received"] == 3  # answers 11 and 12, comment 101
    assert alice_totals["reactions_received"] == 2  # the up vote and the bounty
    assert alice_totals["reactions_given"] == 1  # the favourite
    assert alice_totals["joins"] == 1
    assert member_totals(bob)["reactions_received"] == 2  # accepted and favourited


@pytest.mark.django_db
def test_reimport_adds_nothing(community, small_dump):
    do_import(community, small_dump, format_name="stackexchange")
    before = table_counts()
    summary = do_import(community, small_dump, format_name="stackexchange")
    after = table_counts()
    assert summary.events_added == 0
    assert summary.duplicates_skipped == summary.events_read == 23
    assert summary.members_new == 0
    assert after["interactions.ImportRun"] == before["interactions.ImportRun"] + 1
    for label in (
        "members.Member",
        "members.Identity",
        "interactions.InteractionEvent",
        "interactions.MemberDailyRollup",
        "communities.Channel",
    ):
        assert after[label] == before[label], label


@pytest.mark.django_db
def test_detects_folder_and_posts_file_and_takes_a_channel_override(community, small_dump):
    assert detect_format(small_dump) == "stackexchange"
    assert detect_format(small_dump / "Posts.xml") == "stackexchange"
    assert not StackExchangeSource.sniff(small_dump / "Users.xml")
    summary = do_import(community, small_dump / "Posts.xml")  # auto-detected, folder of the file
    assert summary.format == "stackexchange"
    assert list(summary.channels) == ["tiny.stackexchange.com"]
    assert summary.events_added == 23
    other = do_import(community, small_dump, channel="tiny-copy")
    assert list(other.channels) == ["tiny-copy"] and other.events_added == 23


@pytest.mark.django_db
def test_optional_files_may_be_missing(community, tmp_path):
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=POSTS)
    summary = do_import(community, folder, format_name="stackexchange")
    assert summary.source_counts == {
        "users": 4,
        "posts": 7,
        "questions": 3,
        "answers": 3,
        "other_posts": 1,
    }
    assert summary.events_added == 4 + 7


def assert_rejected(community, folder: Path, *fragments: str) -> ImportFormatError:
    before = table_counts()
    with pytest.raises(ImportFormatError) as caught:
        do_import(community, folder, format_name="stackexchange")
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert table_counts() == before
    return caught.value


@pytest.mark.django_db
def test_malformed_xml_names_file_and_row_and_changes_nothing(community, tmp_path):
    broken = dump_xml("posts", POSTS[:2]).replace(
        "</posts>",
        '  <row Id="17" PostTypeId="1" CreationDate="2021-05-01T09:00" Body="oops />\r\n</posts>',
    )
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=broken, Comments=COMMENTS)
    error = assert_rejected(community, folder, "Posts.xml row 3", "malformed XML")
    assert error.path == str(folder / "Posts.xml")
    assert Member.objects.count() == 0 and ImportRun.objects.count() == 0


@pytest.mark.django_db
def test_bad_date_names_file_row_id_and_field(community, tmp_path):
    comments = [dict(COMMENTS[0]), {**COMMENTS[1], "CreationDate": "yesterday"}]
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=POSTS, Comments=comments)
    error = assert_rejected(
        community,
        folder,
        "Comments.xml",
        "Comments.xml row 2 (Id 101)",
        "'CreationDate'",
        "'yesterday'",
    )
    assert error.path.endswith("Comments.xml")
    assert InteractionEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("files", "fragments"),
    [
        (
            {"Votes": [{**VOTES[0], "VoteTypeId": "up"}]},
            ("Votes.xml row 1 (Id 1000)", "'VoteTypeId' must be an integer", "'up'"),
        ),
        (
            {"Badges": [BADGES[0], {k: v for k, v in BADGES[1].items() if k != "Id"}]},
            ("Badges.xml row 2", "'Id' is missing"),
        ),
        (
            {"Users": [*USERS, {"Id": 4, "DisplayName": "Dan"}]},
            ("Users.xml row 5 (Id 4)", "'CreationDate' is missing"),
        ),
        (
            {"Posts": [*POSTS, {"Id": 20, "PostTypeId": 2, "CreationDate": "2021-05-01T09:00:00"}]},
            ("Posts.xml row 8 (Id 20)", "'ParentId' is missing"),
        ),
        ({"Badges": [{**BADGES[0], "TagBased": "maybe"}]}, ("Badges.xml row 1 (Id 1)", "TagBased")),
        ({"Users": dump_xml("posts", POSTS)}, ("Users.xml row 1", "<users>", "<posts>")),
        ({"Comments": ""}, ("Comments.xml row 1", "malformed XML")),
    ],
    ids=[
        "bad-integer",
        "missing-id",
        "missing-date",
        "answer-without-parent",
        "bad-flag",
        "wrong-file",
        "empty-file",
    ],
)
def test_bad_rows_are_rejected_with_file_row_and_problem(community, tmp_path, files, fragments):
    dump: dict[str, Any] = {"Users": USERS, "Posts": POSTS, **files}
    folder = write_dump(tmp_path / "site", **dump)
    assert_rejected(community, folder, *fragments)


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["Users", "Posts"])
def test_missing_required_file_names_folder_and_file(community, tmp_path, missing):
    dump = {"Users": USERS, "Posts": POSTS, "Comments": COMMENTS}
    del dump[missing]
    folder = write_dump(tmp_path / "site", **dump)
    error = assert_rejected(community, folder, f"{missing}.xml is missing")
    assert error.path == str(folder)


def test_parse_tags_reads_both_dump_styles():
    assert parse_tags("<c#><.net>") == ["c#", ".net"]
    assert parse_tags("|python|django|") == ["python", "django"]
    assert parse_tags("") == []


def test_posts_are_streamed_in_constant_memory(tmp_path):
    """40 MB of posts: the parsed tree must not pile up (it would take more than the file)."""
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "Users.xml").write_text(dump_xml("users", USERS[:2]), encoding="utf-8")
    body = "x" * 2000
    with (folder / "Posts.xml").open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
        for i in range(1, 20_001):
            kind = 'PostTypeId="1"' if i % 2 else f'PostTypeId="2" ParentId="{i - 1}"'
            handle.write(
                f'  <row Id="{i}" {kind} CreationDate="2021-05-01T09:00:00.000" Score="1" '
                f'Body="{body}" OwnerUserId="1" />\n'
            )
        handle.write("</posts>\n")
    assert (folder / "Posts.xml").stat().st_size > 40_000_000
    source = StackExchangeSource(folder)
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    seen = 0
    for record in source.records():
        if isinstance(record, EventRecord) and record.source_id.startswith("post:"):
            seen += 1
            if seen % 1000 == 0:
                peak = max(peak, process.memory_info().rss)
    assert seen == 20_000
    assert source.progress() == (source.total_bytes, source.total_bytes)
    assert peak - baseline < 15_000_000


def parsed(folder: Path) -> dict[str, Any]:
    """A dump's records, read without a database: events by source id, members as member:{id}."""
    records: dict[str, Any] = {}
    for record in StackExchangeSource(folder).records():
        if isinstance(record, EventRecord):
            records[record.source_id] = record
        elif isinstance(record, MemberRecord):
            records[f"member:{record.platform_user_id}"] = record
    return records


def test_escaped_text_is_decoded_once(tmp_path):
    """``&amp;`` and ``&#38;`` are an "&" wherever they are; ``&amp;#38;`` is the text "&#38;"."""
    users = [{**USERS[1], "DisplayName": "Tom & Jerry", "Location": "R&D"}]
    posts = [
        {**POSTS[0], "Title": "Q&A <here>", "Body": "a &#38; b & c", "Tags": "<c&c><xml>"},
        {**POSTS[2], "OwnerDisplayName": "A&B"},
    ]
    comments = [{**COMMENTS[0], "Text": "R&D"}]
    badges = [{**BADGES[0], "Name": "R&D"}]
    folder = write_dump(
        tmp_path / "site", Users=users, Posts=posts, Comments=comments, Badges=badges
    )
    posts_file = folder / "Posts.xml"
    text = posts_file.read_text(encoding="utf-8")
    posts_file.write_text(text.replace("Q&amp;A", "Q&#38;A"), encoding="utf-8")
    records = parsed(folder)
    member = records["member:1"]
    assert (member.display_name, member.profile["location"]) == ("Tom & Jerry", "R&D")
    question = records["post:10"]
    assert question.attributes["title"] == "Q&A <here>"
    assert question.text == "a &#38; b & c"
    assert question.attributes["tags"] == ["c&c", "xml"]
    assert (records["post:12"].actor, records["post:12"].actor_name) == ("name:A&B", "A&B")
    assert records["comment:100"].text == "R&D"
    assert records["badge:1"].attributes["badge"] == "R&D"

    write_dump(folder, Posts=[{**POSTS[0], "Score": "1&2"}])
    with pytest.raises(ImportFormatError, match="'Score' must be an integer, found '1&2'"):
        parsed(folder)


def test_entities_a_doctype_declares_are_expanded(tmp_path):
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=POSTS)
    posts_file = folder / "Posts.xml"
    text = posts_file.read_text(encoding="utf-8")
    text = text.replace("<posts>", '<!DOCTYPE posts [<!ENTITY site "History">]>\r\n<posts>', 1)
    posts_file.write_text(text.replace("Streaming XML", "&site; &amp; XML"), encoding="utf-8")
    records = parsed(folder)
    assert records["post:10"].attributes["title"] == "History & XML"
    assert sum(source_id.startswith("post:") for source_id in records) == len(POSTS)


def test_rows_come_in_the_order_they_end_whatever_their_form(tmp_path):
    """``<row></row>``, rows inside rows or other elements: taken as an element tree ends them."""

    def row(i: int) -> str:
        return f'<row Id="{i}" PostTypeId="1" CreationDate="2021-05-01T09:00:00.000" Score="0"'

    posts = (
        '<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'
        f"  {row(1)}></row>\n"
        f"  {row(2)}>\n    {row(3)} />\n    <note>text</note>\n  </row>\n"
        f"  <other>{row(4)} /></other>\n"
        f"  {row(5)} />\n"
        "</posts>\n"
    )
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=posts)
    records = [r for r in StackExchangeSource(folder).records() if isinstance(r, EventRecord)]
    posts_read = [(r.source_id, r.location) for r in records if r.source_id.startswith("post:")]
    assert posts_read == [
        ("post:1", "Posts.xml row 1"),
        ("post:3", "Posts.xml row 2"),
        ("post:2", "Posts.xml row 3"),
        ("post:4", "Posts.xml row 4"),
        ("post:5", "Posts.xml row 5"),
    ]


def test_unusual_but_valid_values_are_read(tmp_path):
    posts = [
        {
            **POSTS[0],
            "Id": " 10 ",
            "Score": "+5",
            "ViewCount": "1_000",
            "CreationDate": "2021-05-01T11:00:00+02:00",
        },
        {**POSTS[1], "CreationDate": "2021-05-01"},
        {**POSTS[4], "PostTypeId": 99},
    ]
    votes = [{**VOTES[0], "VoteTypeId": 17}, {**VOTES[1], "Id": "0007", "PostId": "011"}]
    badges = [{**BADGES[0], "TagBased": " TRUE "}]
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=posts, Votes=votes, Badges=badges)
    records = parsed(folder)
    question = records["post:10"]
    assert question.occurred_at == dt.datetime(2021, 5, 1, 9, 0, tzinfo=UTC)
    assert (question.attributes["score"], question.attributes["views"]) == (5, 1000)
    assert records["post:11"].occurred_at == dt.datetime(2021, 5, 1, tzinfo=UTC)
    other = records["post:14"]
    assert (other.attributes["post_type"], other.content_type) == ("type_99", "post")
    vote = records["vote:1000"]
    assert (vote.kind, vote.attributes) == (EventKind.MODERATION, {"vote": "type_17"})
    assert records["vote:7"].parent == "post:11"
    assert records["badge:1"].attributes["tag_based"] is True


@pytest.mark.parametrize("layout", ["dense", "sparse", "shuffled"])
def test_comments_on_answers_are_in_their_question_thread(tmp_path, layout):
    """Whatever the answer ids look like (dense, sparse, out of order), threads are the same."""
    offset = 10_000_000 if layout == "sparse" else 0
    posts: list[dict[str, Any]] = []
    for i in range(1, 301, 3):  # a question and its two answers
        question = {**POSTS[3], "Id": i + offset}
        posts.append(question)
        for answer in (i + 1, i + 2):
            posts.append({**POSTS[1], "Id": answer + offset, "ParentId": i + offset})
    if layout == "shuffled":
        posts.reverse()
    comments = [{**COMMENTS[0], "Id": 1000 + i, "PostId": i + offset} for i in range(-1, 305)]
    folder = write_dump(tmp_path / "site", Users=USERS, Posts=posts, Comments=comments)
    source = StackExchangeSource(folder)
    threads = {
        r.source_id: r.thread
        for r in source.records()
        if isinstance(r, EventRecord) and r.source_id.startswith("comment:")
    }
    for i in range(-1, 305):
        post = i + offset
        question = post - (i - 1) % 3 if 1 <= i <= 300 else post
        assert threads[f"comment:{1000 + i}"] == f"post:{question}", i
    assert (source.answers.by_post is not None) == (layout != "sparse")  # both ways were taken


# ------------------------------------------------------------------ real data
def xml_rows(path: Path) -> list[dict[str, str]]:
    return [dict(row.attrib) for row in ET.parse(path).getroot().iter("row")]


def owner_key(row: dict[str, str], id_field: str, name_field: str) -> str | None:
    if row.get(id_field):
        return row[id_field]
    if row.get(name_field):
        return f"name:{row[name_field]}"
    return None


def check_real_dump(community, folder: Path, summary) -> dict[str, Any]:
    """Checks shared by both real dumps; returns what the caller needs for its own."""
    channel = Channel.objects.get(community=community, external_id=folder.name)
    users = xml_rows(folder / "Users.xml")
    posts = xml_rows(folder / "Posts.xml")
    comments = xml_rows(folder / "Comments.xml")
    post_types = Counter(row["PostTypeId"] for row in posts)
    kinds = summary.channels[folder.name].added_by_kind

    assert summary.events_read == summary.events_added  # no duplicates inside one dump
    assert InteractionEvent.objects.filter(channel=channel).count() == summary.events_added
    assert kinds["join"] == len(users) == summary.source_counts["users"]
    assert kinds["message"] == len(posts) - post_types["2"]
    assert kinds["reply"] == post_types["2"] + len(comments)
    assert summary.source_counts["posts"] == len(posts)
    assert summary.source_counts["comments"] == len(comments)

    # Every user is a member, with the reputation of the dump in the identity's profile.
    identities = dict(
        Identity.objects.filter(channel=channel).values_list("platform_user_id", "member_id")
    )
    assert {row["Id"] for row in users} <= set(identities)
    top = max(users, key=lambda row: int(row["Reputation"]))
    profile = Identity.objects.get(channel=channel, platform_user_id=top["Id"]).profile
    assert profile["reputation"] == int(top["Reputation"])
    assert Member.objects.get(pk=identities["-1"]).is_bot

    # Every answer is aimed at its question's author (none when answering oneself); every comment
    # sits in its question's thread.
    owners = {row["Id"]: owner_key(row, "OwnerUserId", "OwnerDisplayName") for row in posts}
    question_of = {row["Id"]: row.get("ParentId", row["Id"]) for row in posts}
    stored = {
        source_id: (member, target, thread)
        for source_id, member, target, thread in InteractionEvent.objects.filter(
            channel=channel, kind=EventKind.REPLY
        ).values_list("source_id", "member_id", "target_member_id", "thread_source_id")
    }
    answers = [row for row in posts if row["PostTypeId"] == "2"]
    for row in answers:
        question_owner = owners.get(row["ParentId"])
        expected_target = identities[question_owner] if question_owner else None
        member, target, thread = stored[f"post:{row['Id']}"]
        if expected_target == member:
            expected_target = None
        assert target == expected_target, row["Id"]
        assert thread == f"post:{row['ParentId']}"
        assert member == identities[owners[row["Id"]]]
    for row in comments:
        member, target, thread = stored[f"comment:{row['Id']}"]
        assert thread == f"post:{question_of.get(row['PostId'], row['PostId'])}"
        author = owner_key(row, "UserId", "UserDisplayName")
        assert member == (identities[author] if author else None)
        post_owner = owners.get(row["PostId"])
        expected = identities[post_owner] if post_owner else None
        assert target == (None if expected == member else expected)
    return {"channel": channel, "owners": owners, "identities": identities, "kinds": kinds}


@pytest.mark.slow
@pytest.mark.django_db
def test_history_meta_imports_completely(community):
    summary = do_import(community, HISTORY_META, format_name="stackexchange")
    # The row counts of SOURCE.md.
    assert summary.source_counts == {
        "users": 2_295,
        "posts": 1_657,
        "questions": 556,
        "answers": 1_095,
        "other_posts": 6,
        "comments": 3_454,
        "badges": 4_931,
    }
    checked = check_real_dump(community, HISTORY_META, summary)
    assert checked["kinds"] == {
        "join": 2_295,
        "message": 556 + 6,
        "reply": 1_095 + 3_454,
        "badge": 4_931,
    }
    assert summary.events_added == 2_295 + 1_657 + 3_454 + 4_931

    again = do_import(community, HISTORY_META, format_name="stackexchange")
    assert again.events_added == 0 and again.members_new == 0


@pytest.mark.slow
@pytest.mark.django_db
def test_cardano_imports_completely_with_votes(community):
    summary = do_import(community, CARDANO, format_name="stackexchange")
    assert summary.source_counts == {
        "users": 3_988,
        "posts": 2_630,
        "questions": 1_042,
        "answers": 1_496,
        "other_posts": 92,
        "comments": 1_829,
        "votes": 9_147,
        "badges": 4_467,
    }
    checked = check_real_dump(community, CARDANO, summary)
    # SOURCE.md: accept 460, up 7,604, down 268, favourite 291, bounty 6 + 6 are reactions;
    # deletion 123, undeletion 7, moderator review 86, approved edit 294, offensive 1 and spam 1
    # are moderation.
    assert checked["kinds"] == {
        "join": 3_988,
        "message": 1_042 + 43 + 43 + 6,
        "reply": 1_496 + 1_829,
        "reaction": 460 + 7_604 + 268 + 291 + 6 + 6,
        "moderation": 123 + 7 + 86 + 294 + 1 + 1,
        "badge": 4_467,
    }
    channel, owners, identities = checked["channel"], checked["owners"], checked["identities"]
    moderation = InteractionEvent.objects.filter(channel=channel, kind=EventKind.MODERATION)
    names = Counter(e["vote"] for e in moderation.values_list("attributes", flat=True))
    assert names == {
        "deletion": 123,
        "undeletion": 7,
        "moderator_review": 86,
        "approve_edit_suggestion": 294,
        "offensive": 1,
        "spam": 1,
    }

    votes = xml_rows(CARDANO / "Votes.xml")
    assert sum(1 for row in votes if row["PostId"] not in owners) == 345  # as SOURCE.md says
    reactions = {
        source_id: (member, target, attributes)
        for source_id, member, target, attributes in InteractionEvent.objects.filter(
            channel=channel, kind=EventKind.REACTION
        ).values_list("source_id", "member_id", "target_member_id", "attributes")
    }
    for row in votes:
        if row["VoteTypeId"] not in {"1", "2", "3", "5", "8", "9"}:
            continue
        member, target, attributes = reactions[f"vote:{row['Id']}"]
        owner = owners.get(row["PostId"])
        expected = identities[owner] if owner else None
        assert member == (identities[row["UserId"]] if row.get("UserId") else None)
        assert target == (None if expected == member else expected), row["Id"]
        if row.get("BountyAmount"):
            assert attributes["bounty"] == int(row["BountyAmount"])
