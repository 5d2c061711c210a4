"""Testimonials (利益证明): recorded and curated by operators, published only with consent,
audited; publishing one is an advocate's act for the tiers; merges keep them with the person."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import table_counts, with_account
from test_culture_support import Chat

from shequn.audit.models import AuditEntry
from shequn.culture import models
from shequn.culture.advocacy import PublishedTestimonials
from shequn.culture.errors import TestimonialError as Refused
from shequn.culture.services import (
    do_create_goal,
    do_delete_testimonial,
    do_mark_onboarded,
    do_publish_testimonial,
    do_record_testimonial,
    do_unpublish_testimonial,
    do_update_testimonial,
)
from shequn.members.models import Member
from shequn.tiers.models import MemberTier, TierChange, TierRun
from shequn.tiers.reasons import describe
from shequn.tiers.services import do_recompute_tiers

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2024, 1, 1)


@pytest.fixture
def ann(community):
    return Member.objects.create(community=community, display_name="Ann")


def test_recording_checks_every_field_and_changes_nothing(community, other_community, ann):
    stranger = Member.objects.create(community=other_community, display_name="Stranger")
    before = table_counts()
    with pytest.raises(Refused) as refused:
        do_record_testimonial(
            community,
            {"member": stranger, "text": "  ", "benefit": "fame", "said_on": "yesterday"},
        )
    problems = refused.value.problems
    assert problems["member"] == "must be a member of this community"
    assert problems["text"] == "is required"
    assert "knowledge" in problems["benefit"] and "2024-12-31" in problems["said_on"]
    with pytest.raises(Refused) as no_consent:
        do_record_testimonial(community, {"member": ann, "text": "Great"}, publish=True)
    assert no_consent.value.field == "consent"
    assert table_counts() == before and not models.Testimonial.objects.exists()


def test_publish_needs_consent_and_withdrawing_it_unpublishes(community, ann):
    testimonial = do_record_testimonial(
        community,
        {
            "member": ann,
            "text": "I learnt SQL here.",
            "benefit": "knowledge",
            "said_on": "2024-03-02",
            "source": "WeChat group, 2 March",
        },
    )
    assert not testimonial.is_published and testimonial.benefit == "knowledge"
    with pytest.raises(Refused) as refused:
        do_publish_testimonial(testimonial)
    assert refused.value.field == "consent"
    do_update_testimonial(testimonial, {"consent": "yes"})
    do_publish_testimonial(testimonial)
    testimonial.refresh_from_db()
    assert testimonial.is_published
    with pytest.raises(Refused):
        do_publish_testimonial(testimonial)
    do_update_testimonial(testimonial, {"consent": False})
    testimonial.refresh_from_db()
    assert not testimonial.is_published
    withdrawn = AuditEntry.objects.filter(action="testimonial.update").order_by("id").last()
    assert withdrawn.details["unpublished"] is True
    with pytest.raises(Refused):
        do_unpublish_testimonial(testimonial)
    actions = list(
        AuditEntry.objects.filter(action__startswith="testimonial.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "testimonial.create",
        "testimonial.update",
        "testimonial.publish",
        "testimonial.update",
    ]
    do_delete_testimonial(testimonial)
    assert not models.Testimonial.objects.exists()
    assert AuditEntry.objects.get(action="testimonial.delete").details["text"].startswith("I lea")


def test_a_published_testimonial_makes_an_active_member_an_advocate(community, write_chatlab):
    chat = Chat()
    chat.weekly("ann", MONDAY, 13)  # active every week, helps nobody: a participant
    chat.import_into(community, write_chatlab)
    do_recompute_tiers(community)
    ann = Member.objects.get(display_name="Ann")
    assert MemberTier.objects.get(member=ann).tier == "participant"

    testimonial = do_record_testimonial(
        community,
        {
            "member": ann,
            "text": "Found my co-founder.",
            "consent": True,
            "said_on": MONDAY + dt.timedelta(weeks=10),
        },
        publish=True,
    )
    state = MemberTier.objects.get(member=ann)
    assert state.tier == "advocate"
    acts = [reason for reason in state.reasons if reason.get("code") == "testimonial"]
    assert acts and describe(acts[0]) == "published 1 testimonial"
    # Only the member it is about was replayed, and as a full run would have done it.
    assert TierRun.objects.latest("id").evaluated == 1
    assert tiers_and_paths(community) == tiers_and_paths(community, full=True)

    # Said earlier, or unpublished: replayed again, still as a full run would.
    do_update_testimonial(testimonial, {"said_on": MONDAY + dt.timedelta(weeks=2)})
    assert tiers_and_paths(community) == tiers_and_paths(community, full=True)
    do_unpublish_testimonial(testimonial)
    assert PublishedTestimonials().acts(community, None, MONDAY + dt.timedelta(weeks=20)) == []
    assert tiers_and_paths(community) == tiers_and_paths(community, full=True)


def tiers_and_paths(community, *, full: bool = False) -> tuple[list, list]:
    """Every member's stored tier and path (after a full recompute, with ``full``)."""
    if full:
        do_recompute_tiers(community, full=True)
    return (
        sorted(MemberTier.objects.values_list("member_id", "tier", "since", "reasons")),
        sorted(TierChange.objects.values_list("member_id", "changed_on", "to_tier", "reasons")),
    )


def test_the_advocacy_provider_counts_published_ones_by_day(community, ann):
    bob = Member.objects.create(community=community, display_name="Bob")
    day = dt.date(2024, 5, 1)
    for member, said, publish in (
        (ann, day, True),
        (ann, day, True),
        (bob, day, False),
        (bob, day + dt.timedelta(days=9), True),
    ):
        do_record_testimonial(
            community,
            {"member": member, "text": "x", "consent": True, "said_on": said},
            publish=publish,
        )
    provider = PublishedTestimonials()
    assert provider.acts(community, None, day + dt.timedelta(days=30)) == [
        (ann.pk, day, 2),
        (bob.pk, day + dt.timedelta(days=9), 1),
    ]
    assert provider.acts(community, {bob.pk}, day) == []


def test_a_merge_keeps_goals_testimonials_and_onboarding_with_the_person(community, ann):
    from shequn.members.models import MemberMerge
    from shequn.members.services import do_merge_members, do_unmerge

    twin = with_account(
        Member.objects.create(community=community, display_name="Ann (WeChat)"), "w"
    )
    fay = Member.objects.create(community=community, display_name="Fay", role="founder")
    do_record_testimonial(community, {"member": twin, "text": "Met friends."})
    goal = do_create_goal(
        community,
        {
            "title": "Grow",
            "metric": "members",
            "target": 100,
            "deadline": "2030-01-01",
            "owner": twin,
        },
    )
    do_mark_onboarded(community, [twin], platform="wechat")
    do_mark_onboarded(community, [ann], platform="discord")
    do_merge_members(twin, ann)
    assert models.Testimonial.objects.get().member == ann
    assert models.Goal.objects.get(pk=goal.pk).owner == ann
    # Both were onboarded: the earlier date stays with the one record left.
    onboarding = models.Onboarding.objects.get()
    assert onboarding.member == ann and onboarding.platform == "wechat"
    assert fay.pk != ann.pk

    # Undoing the merge gives the testimonial, the goal and the onboarding back.
    restored = do_unmerge(MemberMerge.objects.get())
    assert models.Testimonial.objects.get().member == restored
    assert models.Goal.objects.get(pk=goal.pk).owner == restored
    assert models.Onboarding.objects.get(member=restored).platform == "wechat"
    assert models.Onboarding.objects.filter(member=ann).count() == 1
