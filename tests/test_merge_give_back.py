"""Undoing merges gives every row back to its owner: the order merges are undone in, rows set
aside as duplicates, rows they point at deleted since, reversed points, microsecond times, and
the tiers right after (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from conftest import table_counts, with_account
from django.utils import timezone
from test_tiers_incremental import _chatlab, _messages, _state

from shequn.activities.models import Guest, Registration
from shequn.activities.services import (
    do_add_guest,
    do_cancel_registration,
    do_create_activity,
    do_delete_activity,
    do_publish_activity,
    do_register,
)
from shequn.communities.services import do_create_community
from shequn.interactions.services import do_import
from shequn.members.models import Member, MemberMerge
from shequn.members.services import MergeError, do_merge_members, do_unmerge
from shequn.rewards.models import PointEntry
from shequn.rewards.selectors import member_balance
from shequn.rewards.services import do_manual_entry, do_reverse_entry
from shequn.tiers.services import do_recompute_tiers


def person(community, name: str) -> Member:
    return with_account(Member.objects.create(community=community, display_name=name), name)


def make_activity(community, *, publish: bool = True, title: str = "Tea"):
    start = timezone.now() + dt.timedelta(days=7)
    created = do_create_activity(
        community,
        {
            "title": title, "mode": "offline", "content_type": "social", "place": "Cafe",
            "capacity": 10, "starts_at": start, "ends_at": start + dt.timedelta(hours=2),
            "time_zone": "Asia/Shanghai",
        },
    )  # fmt: skip
    return do_publish_activity(created) if publish else created


def three_registrations(community):
    """Ann, Bob and Cid registered for one activity, each stronger than the one before; Ann
    merged into Bob, then Cid into Bob: each merge set a weaker registration aside."""
    tea = make_activity(community)
    ann, bob, cid = person(community, "ann"), person(community, "bob"), person(community, "cid")
    do_cancel_registration(do_register(tea, bob))  # bob: cancelled (weakest)
    do_register(tea, ann)  # ann: confirmed (beats bob's)
    cid_reg = do_register(tea, cid)  # cid: confirmed and checked in (beats ann's)
    Registration.objects.filter(pk=cid_reg.pk).update(checked_in_at=timezone.now())
    own = {m.display_name: Registration.objects.get(member=m).code for m in (ann, bob, cid)}
    do_merge_members(ann, bob)
    do_merge_members(cid, bob)
    return bob, own


def test_merges_that_set_rows_aside_are_undone_newest_first(community):
    bob, own = three_registrations(community)
    first, second = MemberMerge.objects.order_by("id")
    before = table_counts()

    with pytest.raises(MergeError) as refused:
        do_unmerge(first)  # the older one first: refused, nothing changed
    assert f"#{second.pk}" in str(refused.value)
    assert table_counts() == before

    cid = do_unmerge(second)
    ann = do_unmerge(first)
    codes = {
        m.display_name: list(Registration.objects.filter(member=m).values_list("code", flat=True))
        for m in (ann, Member.objects.get(pk=bob.pk), cid)
    }
    assert codes == {"ann": [own["ann"]], "bob": [own["bob"]], "cid": [own["cid"]]}


def test_merges_that_set_nothing_aside_are_undone_in_any_order(community):
    bob, ann, cid = person(community, "bob"), person(community, "ann"), person(community, "cid")
    mine = {m.display_name: do_manual_entry(m, 10, reason="hi", actor=None).pk for m in (ann, cid)}
    do_merge_members(ann, bob)
    do_merge_members(cid, bob)
    first, second = MemberMerge.objects.order_by("id")
    ann, cid = do_unmerge(first), do_unmerge(second)
    assert PointEntry.objects.get(pk=mine["ann"]).member == ann
    assert PointEntry.objects.get(pk=mine["cid"]).member == cid


@pytest.mark.django_db(transaction=True)
def test_a_set_aside_row_whose_activity_was_deleted_since_is_left_out():
    community = do_create_community(slug="club2", name="Club")
    draft = make_activity(community, publish=False, title="Draft talk")
    ann, twin = person(community, "ann"), person(community, "twin")
    do_add_guest(draft, member=ann)
    do_add_guest(draft, member=twin)
    do_merge_members(twin, ann)  # twin's guest row is set aside (ann is a guest already)
    do_delete_activity(draft)  # a draft without registrations may be deleted

    # Foreign keys are checked at commit: a guest place recreated for the deleted draft would
    # have undone the whole un-merge there.
    restored = do_unmerge(MemberMerge.objects.get())
    assert restored.identities.exists() and not Guest.objects.exists()


def test_an_entry_reversed_after_the_merge_goes_back_with_its_reversal(community):
    ann, twin = person(community, "ann"), person(community, "twin")
    entry = do_manual_entry(twin, 50, reason="Helped at the meetup", actor=None)
    do_merge_members(twin, ann)
    do_reverse_entry(PointEntry.objects.get(pk=entry.pk), reason="a mistake", actor=None)
    assert member_balance(ann) == 0

    restored = do_unmerge(MemberMerge.objects.get())

    # the entry and its reversal cancel out: nobody should end up with +50 / -50
    assert (member_balance(restored), member_balance(ann)) == (0, 0)


def _import(community, drawn):
    with tempfile.TemporaryDirectory() as folder:
        do_import(community, _chatlab(_messages(drawn), Path(folder), "part0"))


DRAWN = (
    [("eve", day, "message", 0, 0) for day in range(0, 120, 2)]
    + [("fay", day, "message", 0, 0) for day in (1, 60)]
    + [(who, day, "message", 0, 0) for day in range(0, 120, 7) for who in ("ann", "bob")]
)


def test_tiers_right_after_a_merge_are_those_of_a_full_run(community):
    _import(community, DRAWN)
    do_recompute_tiers(community)
    found = {m.display_name: m for m in Member.objects.filter(community=community)}

    do_merge_members(found["Eve"], found["Fay"])  # members_changed -> incremental run
    after_merge = _state(community)
    do_recompute_tiers(community, full=True)
    assert after_merge == _state(community)


def test_tiers_right_after_an_unmerge_are_those_of_a_full_run(community):
    _import(community, DRAWN)
    do_recompute_tiers(community)
    found = {m.display_name: m for m in Member.objects.filter(community=community)}
    do_merge_members(found["Eve"], found["Fay"])
    do_recompute_tiers(community, full=True)

    do_unmerge(MemberMerge.objects.get())  # members_changed -> incremental run
    after_unmerge = _state(community)
    do_recompute_tiers(community, full=True)
    assert after_unmerge == _state(community)


def test_a_set_aside_registration_comes_back_with_its_own_times(community):
    tea = make_activity(community)
    ann, twin = person(community, "ann"), person(community, "twin")
    do_register(tea, ann)
    original = do_register(tea, twin)  # equal strength: the merged member's row is set aside
    Registration.objects.filter(pk=original.pk).update(
        registered_at=dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    )
    do_merge_members(twin, ann)
    restored = do_unmerge(MemberMerge.objects.get())
    back = Registration.objects.get(member=restored)
    assert back.pk == original.pk
    assert back.registered_at == dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
