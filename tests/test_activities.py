"""Activities and rituals as operators and members meet them: creating one, registering,
the waitlist, fees, check-in, feedback, rituals, calendars, CSV in and out, and the report."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import icalendar
import pytest
from conftest import with_account
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from shequn.activities import csv_io, selectors
from shequn.activities.advocacy import HostedActivities, SpokeAtActivities, register
from shequn.activities.ical import activity_ics, community_ics
from shequn.activities.models import Activity, Feedback, Guest, Registration, Ritual
from shequn.activities.qr import checkin_payload, qr_png, qr_svg
from shequn.activities.services import (
    ACTIVITY_CHANNEL_ID,
    ActivityError,
    CheckInError,
    RegistrationError,
    RitualError,
    do_add_guest,
    do_cancel_activity,
    do_cancel_registration,
    do_check_in,
    do_complete_activity,
    do_create_activity,
    do_create_ritual,
    do_delete_activity,
    do_generate_occurrences,
    do_import_attendance,
    do_leave_feedback,
    do_publish_activity,
    do_register,
    do_register_contact,
    do_set_fee_status,
    do_update_activity,
    do_update_ritual,
)
from shequn.audit.models import AuditEntry
from shequn.communities.services import get_or_create_channel
from shequn.interactions.importers.records import ImportFormatError
from shequn.interactions.models import EventKind, InteractionEvent, MemberDailyRollup
from shequn.members.models import Member, MemberMerge
from shequn.members.services import do_merge_members, do_unmerge
from shequn.rewards.models import PointEntry
from shequn.rewards.services import do_save_rule
from shequn.tiers.signals import advocacy_signal

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
APPS = {"audit", "communities", "members", "interactions", "rewards", "tiers", "activities"}


def table_counts() -> dict[str, int]:
    """Row counts of every shequn table, this app's included."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in APPS
    }


def soon(days: int = 7, hour: int = 19) -> dt.datetime:
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def person(community, name: str, **extra) -> Member:
    return Member.objects.create(community=community, display_name=name, **extra)


def activity(community, *, publish: bool = True, **values) -> Activity:
    start = values.pop("starts_at", soon())
    defaults = {
        "title": "Tea and code",
        "mode": "offline",
        "content_type": "social",
        "place": "Cafe Lu, 12 Wuding Rd",
        "capacity": 10,
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "time_zone": "Asia/Shanghai",
    }
    created = do_create_activity(community, {**defaults, **values})
    return do_publish_activity(created) if publish else created


def past_activity(community, days_ago: int = 3, **values) -> Activity:
    """A published activity that already took place (people are registered by an operator)."""
    return activity(community, starts_at=soon(-days_ago), **values)


# ------------------------------------------------------------------------------ creating
def test_offline_activity_needs_a_capacity_and_a_place_and_nothing_is_written(community):
    before = table_counts()
    with pytest.raises(ActivityError) as error:
        activity(community, capacity=None, place="", publish=False)
    assert set(error.value.problems) == {"capacity", "place"}
    assert "offline" in error.value.problems["capacity"]
    assert table_counts() == before


def test_every_wrong_field_is_named(community):
    start = soon()
    with pytest.raises(ActivityError) as error:
        do_create_activity(
            community,
            {
                "title": "",
                "mode": "both",
                "content_type": "learning",
                "starts_at": start,
                "ends_at": start - dt.timedelta(hours=1),
                "time_zone": "Asia/Shanghai",
                "capacity": 0,
                "place": "Hall",
                "fee_amount": "12.345",
                "currency": "RMB",
                "link": "ftp://example.org",
                "colour": "red",
            },
        )
    problems = error.value.problems
    assert set(problems) == {
        "title",
        "mode",
        "ends_at",
        "capacity",
        "fee_amount",
        "currency",
        "link",
        "colour",
    }
    assert "ISO 4217" in problems["currency"]
    assert not Activity.objects.exists()


def test_a_fee_needs_a_currency_and_a_free_activity_needs_none(community):
    with pytest.raises(ActivityError) as error:
        activity(community, fee_amount="49", publish=False)
    assert error.value.field == "currency"
    paid = activity(community, fee_amount="49.5", currency="cny", publish=False)
    assert (paid.fee_amount, paid.currency) == (Decimal("49.50"), "CNY")
    assert not paid.is_free
    assert activity(community, publish=False).is_free


def test_clock_times_without_an_offset_are_read_in_the_activitys_time_zone(community):
    created = do_create_activity(
        community,
        {
            "title": "Online reading circle",
            "mode": "online",
            "content_type": "learning",
            "starts_at": "2030-03-07T19:30",
            "ends_at": dt.datetime(2030, 3, 7, 21, 0),
            "time_zone": "Europe/Berlin",
            "link": "https://meet.example.org/reading",
        },
    )
    assert created.capacity is None  # online: unlimited
    assert created.starts_at == dt.datetime(2030, 3, 7, 18, 30, tzinfo=UTC)
    assert created.ends_at == dt.datetime(2030, 3, 7, 20, 0, tzinfo=UTC)
    assert AuditEntry.objects.filter(action="activity.create", target_id=created.pk).exists()


def test_organised_by_staff_or_by_a_member(community):
    operator = person(community, "Olga", role="operator")
    member = person(community, "Mia")
    assert activity(community, organiser=operator, publish=False).organised_by_staff
    by_member = activity(community, organiser=member, publish=False)
    assert not by_member.organised_by_staff
    assert activity(community, publish=False).organised_by_staff  # run by the operators' account


def test_only_a_draft_without_registrations_can_be_deleted(community):
    draft = activity(community, publish=False)
    do_delete_activity(draft)
    assert not Activity.objects.filter(pk=draft.pk).exists()
    published = activity(community)
    with pytest.raises(ActivityError):
        do_delete_activity(published)


# -------------------------------------------------------------------------- registration
def test_waitlist_is_served_in_order_when_places_free_up(community):
    meetup = activity(community, capacity=2)
    ann, bob, cai, dan = (person(community, name) for name in ("Ann", "Bob", "Cai", "Dan"))
    regs = {m.display_name: do_register(meetup, m, self_service=True) for m in (ann, bob, cai, dan)}
    assert [regs[n].status for n in ("Ann", "Bob", "Cai", "Dan")] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]
    assert [r.member.display_name for r in selectors.waitlist(meetup)] == ["Cai", "Dan"]
    assert selectors.waitlist_position(regs["Dan"]) == 2

    promoted = do_cancel_registration(regs["Ann"], self_service=True)

    assert [r.member.display_name for r in promoted] == ["Cai"]
    regs["Dan"].refresh_from_db()
    assert selectors.waitlist_position(regs["Dan"]) == 1
    do_cancel_registration(regs["Bob"])
    assert set(
        Registration.objects.filter(activity=meetup, status="confirmed").values_list(
            "member__display_name", flat=True
        )
    ) == {"Cai", "Dan"}
    assert AuditEntry.objects.filter(action="activity.unregister").count() == 1  # Bob's operator
    assert [
        (r.member.display_name, r.status) for r in selectors.activity_registrations(meetup)
    ] == [
        ("Cai", "confirmed"),
        ("Dan", "confirmed"),
        ("Ann", "cancelled"),
        ("Bob", "cancelled"),
    ]


def test_cancelling_a_waitlisted_place_promotes_nobody(community):
    meetup = activity(community, capacity=1)
    ann, bob, cai = (person(community, n) for n in ("Ann", "Bob", "Cai"))
    do_register(meetup, ann)
    waiting_bob = do_register(meetup, bob)
    do_register(meetup, cai)
    assert do_cancel_registration(waiting_bob) == []
    assert [r.member.display_name for r in selectors.waitlist(meetup)] == ["Cai"]


def test_nobody_registers_twice(community):
    meetup = activity(community)
    ann = person(community, "Ann")
    do_register(meetup, ann, self_service=True)
    with pytest.raises(RegistrationError) as error:
        do_register(meetup, ann, self_service=True)
    assert error.value.field == "member"
    assert "already registered" in str(error.value)
    assert Registration.objects.count() == 1
    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            activity=meetup,
            member=ann,
            status="confirmed",
            fee_status="not_applicable",
            source="self",
            code="ZZZZZZZZZZ",
            registered_at=timezone.now(),
        )


def test_registering_again_after_cancelling_goes_to_the_back(community):
    meetup = activity(community, capacity=1)
    ann, bob = person(community, "Ann"), person(community, "Bob")
    first = do_register(meetup, ann)
    do_register(meetup, bob)
    do_cancel_registration(first)  # Bob gets the place
    again = do_register(meetup, ann)
    assert again.pk == first.pk and again.status == "waitlisted"


def test_registration_only_while_published_and_the_window_is_open(community):
    ann = person(community, "Ann")
    draft = activity(community, publish=False)
    with pytest.raises(RegistrationError, match="not published"):
        do_register(draft, ann)
    closed = activity(community, registration_closes_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(RegistrationError, match="Registration closed at"):
        do_register(closed, ann)
    later = activity(community, registration_opens_at=soon(2))
    with pytest.raises(RegistrationError, match="Registration opens at"):
        do_register(later, ann)
    started = past_activity(community)
    with pytest.raises(RegistrationError, match="closed"):
        do_register(started, ann)
    assert not Registration.objects.exists()
    # An operator may override the window and the draft, never a cancellation.
    assert do_register(closed, ann, override=True).status == "confirmed"
    assert do_register(draft, ann, override=True).status == "confirmed"
    cancelled = do_cancel_activity(activity(community), reason="rain")
    with pytest.raises(RegistrationError, match="cancelled"):
        do_register(cancelled, ann, override=True)
    register_entry = AuditEntry.objects.filter(action="activity.register").first()
    assert register_entry.details["override"] is True


def test_registering_by_e_mail_finds_or_creates_the_member(community):
    meetup = activity(community)
    known = person(community, "Ann", key="ann@example.org")
    first = do_register_contact(meetup, name="Ann Li", email="Ann@Example.org")
    assert first.member == known and first.source == "self"
    new = do_register_contact(meetup, name="Bo", email="bo@example.org")
    assert new.member.key == "bo@example.org" and new.member.display_name == "Bo"
    with pytest.raises(RegistrationError) as error:
        do_register_contact(meetup, name="", email="not-an-address")
    assert set(error.value.problems) == {"name", "email"}


def test_a_larger_capacity_moves_people_up_and_a_smaller_one_is_refused(community):
    meetup = activity(community, capacity=1)
    people = [person(community, n) for n in ("Ann", "Bob", "Cai")]
    for member in people:
        do_register(meetup, member)
    with pytest.raises(ActivityError) as error:
        do_update_activity(meetup, {"capacity": 0})
    assert error.value.field == "capacity"
    updated = do_update_activity(meetup, {"capacity": 2, "title": "Tea, code and cake"})
    assert updated.title == "Tea, code and cake"
    assert list(selectors.waitlist(meetup).values_list("member__display_name", flat=True)) == [
        "Cai"
    ]
    entry = AuditEntry.objects.filter(action="activity.update").get()
    assert entry.details["before"]["capacity"] == 1 and entry.details["after"]["capacity"] == 2
    assert AuditEntry.objects.filter(action="activity.promote").exists()
    with pytest.raises(ActivityError) as error:
        do_update_activity(meetup, {"capacity": 1})
    assert "2 places" in error.value.message
    with pytest.raises(ActivityError) as error:
        do_update_activity(meetup, {"fee_amount": "10", "currency": "CNY"})
    assert error.value.field == "fee_amount"


# ------------------------------------------------------------------------------- fees
def test_fee_status_changes_are_audited_with_before_and_after(community, make_account):
    treasurer = make_account("treasurer", community, "operator")
    paid = activity(community, fee_amount="49", currency="CNY")
    free = activity(community)
    ann = person(community, "Ann")
    registration = do_register(paid, ann, self_service=True)
    assert registration.fee_status == "unpaid"
    assert do_register(free, ann).fee_status == "not_applicable"

    do_set_fee_status(registration, "paid", actor=treasurer, note="WeChat Pay 0042")
    do_set_fee_status(registration, "paid", actor=treasurer)  # no change, no entry
    do_set_fee_status(registration, "refunded", actor=treasurer)
    with pytest.raises(RegistrationError) as error:
        do_set_fee_status(registration, "waived", actor=treasurer)
    assert error.value.field == "fee_status"
    with pytest.raises(RegistrationError):
        do_set_fee_status(Registration.objects.get(activity=free), "paid")

    history = list(selectors.fee_history(registration))
    assert [(e.details["before"], e.details["after"]["fee_status"]) for e in history] == [
        ({"fee_status": "unpaid"}, "paid"),
        ({"fee_status": "paid"}, "refunded"),
    ]
    assert history[0].details["after"]["note"] == "WeChat Pay 0042"
    assert {e.actor for e in history} == {treasurer}
    registration.refresh_from_db()
    assert registration.fee_status == "refunded"


def test_paid_activities_have_a_waitlist_too(community):
    paid = activity(community, capacity=1, fee_amount="20", currency="USD")
    do_register(paid, person(community, "Ann"))
    waiting = do_register(paid, person(community, "Bob"))
    assert (waiting.status, waiting.fee_status) == ("waitlisted", "unpaid")


# --------------------------------------------------------------------------- check-in
@pytest.fixture
def attend_rule(community):
    return do_save_rule(
        community, {"key": "attended", "event_kind": "attend", "amount": 10}, actor=None
    )


def test_check_in_records_attendance_points_and_rollups_once(community, attend_rule, make_account):
    door = make_account("door", community, "operator")
    meetup = past_activity(community, content_type="learning")
    ann = person(community, "Ann")
    registration = do_register(meetup, ann, override=True)

    result = do_check_in(meetup, registration.code.lower(), actor=door)
    again = do_check_in(meetup, f"{registration.code[:5]}-{registration.code[5:]}", actor=door)

    assert not result.already and again.already
    registration.refresh_from_db()
    assert registration.checked_in_at is not None and registration.checked_in_by == door
    event = InteractionEvent.objects.get(kind=EventKind.ATTEND)
    assert event.member == ann and event.channel.external_id == ACTIVITY_CHANNEL_ID
    assert event.thread_source_id == f"activity-{meetup.pk}"
    assert event.content_type == "learning" and event.attributes["activity"] == meetup.pk
    assert MemberDailyRollup.objects.get(member=ann).attended == 1
    entries = PointEntry.objects.filter(member=ann)
    assert [(e.amount, e.rule_key) for e in entries] == [(10, "attended")]
    assert AuditEntry.objects.filter(action="activity.check_in").count() == 1


def test_points_for_quick_check_ins_arrive_when_the_activity_is_done(community, attend_rule):
    meetup = past_activity(community)
    people = [person(community, name) for name in ("Ann", "Bob")]
    for member in people:
        registration = do_register(meetup, member, override=True)
        do_check_in(meetup, registration.code, recompute=False)
    assert not PointEntry.objects.exists()

    do_complete_activity(meetup)

    assert sorted(PointEntry.objects.values_list("member__display_name", "amount")) == [
        ("Ann", 10),
        ("Bob", 10),
    ]


def test_check_in_explains_codes_that_do_not_let_anyone_in(community):
    meetup = activity(community, capacity=1)
    other = activity(community, title="Board games")
    ann, bob, cai = (person(community, n) for n in ("Ann", "Bob", "Cai"))
    do_register(meetup, ann)
    waiting = do_register(meetup, bob)
    elsewhere = do_register(other, cai)
    cancelled = do_register(other, ann)
    do_cancel_registration(cancelled)

    with pytest.raises(CheckInError, match="No registration"):
        do_check_in(meetup, "NOPE-NOPE")
    with pytest.raises(CheckInError, match="another activity: Board games"):
        do_check_in(meetup, elsewhere.code)
    with pytest.raises(CheckInError, match="waitlist"):
        do_check_in(meetup, waiting.code)
    with pytest.raises(CheckInError, match="cancelled"):
        do_check_in(other, cancelled.code)
    assert not InteractionEvent.objects.exists()
    assert not Registration.objects.filter(checked_in_at__isnull=False).exists()


def test_qr_code_holds_the_check_in_url_or_code(community):
    meetup = activity(community)
    registration = do_register(meetup, person(community, "Ann"))
    url = f"https://club.example.org/checkin/{registration.code}"
    assert checkin_payload(registration) == registration.code
    assert checkin_payload(registration, url=url) == url
    svg = qr_svg(registration, url=url)
    assert svg.startswith("<svg") and "path" in svg
    assert svg != qr_svg(registration)
    assert qr_png(registration).startswith(b"\x89PNG")


def test_a_member_who_checked_in_cannot_cancel(community):
    meetup = past_activity(community)
    registration = do_register(meetup, person(community, "Ann"), override=True)
    do_check_in(meetup, registration.code, recompute=False)
    with pytest.raises(RegistrationError, match="checked in"):
        do_cancel_registration(registration)


# ----------------------------------------------------------------- hosting and speaking
def test_hosting_and_speaking_count_for_tiers_and_become_events(community):
    register()  # the tier tests replace providers with stand-ins; make sure ours are in
    host = person(community, "Hui", role="member")
    speaker = person(community, "Sam")
    meetup = past_activity(community, organiser=host)
    do_add_guest(meetup, member=speaker, role="speaker", affiliation="Fudan")
    do_add_guest(meetup, name="Prof. Wang", affiliation="Tongji", bio="Urban planning")
    with pytest.raises(ActivityError) as error:
        do_add_guest(meetup, name="")
    assert error.value.field == "name"
    day = meetup.starts_at.astimezone(community.zoneinfo).date()

    assert isinstance(advocacy_signal("hosted"), HostedActivities)
    assert HostedActivities().acts(community, None, day) == [(host.pk, day, 1)]
    assert SpokeAtActivities().acts(community, {speaker.pk}, day) == [(speaker.pk, day, 1)]
    assert SpokeAtActivities().acts(community, {host.pk}, day) == []
    assert HostedActivities().acts(community, None, day - dt.timedelta(days=1)) == []
    assert HostedActivities().describe({"code": "hosted", "count": 2}) == "hosted 2 activities"

    done = do_complete_activity(meetup)
    assert done.status == "done"
    kinds = dict(InteractionEvent.objects.values_list("member__display_name", "kind"))
    assert kinds == {"Hui": "host", "Sam": "speak"}
    do_add_guest(done, member=host, role="host")  # already recorded as host: nothing new
    assert InteractionEvent.objects.count() == 2
    with pytest.raises(ActivityError):
        do_complete_activity(activity(community))  # a future one is not done yet


def test_attending_is_a_contribution_that_makes_a_member_a_participant(community):
    """DESIGN.md: attending an activity is a contribution, so a member who never writes but
    comes to three activities in three weeks is a participant, not a follower."""
    from shequn.tiers.models import MemberTier
    from shequn.tiers.services import do_recompute_tiers

    lin = person(community, "Lin")
    for days_ago in (3, 10, 17):
        meetup = past_activity(community, days_ago=days_ago, title=f"Meetup {days_ago}")
        registration = do_register(meetup, lin, override=True)
        do_check_in(meetup, registration.code, at=meetup.starts_at + dt.timedelta(minutes=5))
    do_recompute_tiers(community, full=True)

    state = MemberTier.objects.get(member=lin)
    assert state.tier == "participant"
    assert state.reasons[0]["code"] == "active_weeks"
    assert state.reasons[0]["weeks"] == 3 and state.reasons[0]["contributions"] == 3
    lin.refresh_from_db()
    assert lin.last_active_on == soon(-3).date()


# ----------------------------------------------------------------------------- feedback
def test_only_attendees_rate_and_may_change_it_for_a_while(community):
    meetup = past_activity(community, days_ago=2)
    ann, bob = person(community, "Ann"), person(community, "Bob")
    came = do_register(meetup, ann, override=True)
    stayed_home = do_register(meetup, bob, override=True)
    do_check_in(meetup, came.code, recompute=False)
    came.refresh_from_db()

    with pytest.raises(RegistrationError, match="attended"):
        do_leave_feedback(stayed_home, rating=5)
    with pytest.raises(RegistrationError) as error:
        do_leave_feedback(came, rating=6)
    assert error.value.field == "rating"
    do_leave_feedback(came, rating=3, comment="too loud")
    do_leave_feedback(came, rating="4", comment="quieter after 8")
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.comment) == (4, "quieter after 8")

    old = past_activity(community, days_ago=30)
    late = do_register(old, bob, override=True)
    do_check_in(old, late.code, recompute=False)
    late.refresh_from_db()
    with pytest.raises(RegistrationError, match="Feedback closed"):
        do_leave_feedback(late, rating=5)


# ------------------------------------------------------------------------------ rituals
def test_ritual_occurrences_from_a_custom_rule_are_generated_once(community):
    before = table_counts()
    with pytest.raises(RitualError) as error:
        do_create_ritual(
            community,
            {
                "name": "Hourly",
                "frequency": "custom",
                "rule": "FREQ=HOURLY",
                "first_starts_at": "2030-01-03T19:30",
                "mode": "online",
                "content_type": "learning",
            },
        )
    assert error.value.field == "rule"
    with pytest.raises(RitualError, match="BYDAY"):
        do_create_ritual(
            community,
            {
                "name": "Broken",
                "frequency": "custom",
                "rule": "FREQ=MONTHLY;BYDAY=XX",
                "first_starts_at": "2030-01-03T19:30",
                "mode": "online",
                "content_type": "learning",
            },
        )
    assert table_counts() == before

    # The first Thursday of each month, 19:30 in Berlin, summer time or not.
    ritual = do_create_ritual(
        community,
        {
            "name": "First-Thursday talks",
            "frequency": "custom",
            "rule": "RRULE:FREQ=MONTHLY;BYDAY=1TH",
            "first_starts_at": "2030-01-03T19:30",
            "time_zone": "Europe/Berlin",
            "duration_minutes": 90,
            "mode": "offline",
            "place": "Betahaus",
            "capacity": 40,
            "content_type": "learning",
            "fee_amount": "5",
            "currency": "EUR",
        },
    )
    assert ritual.rule == "FREQ=MONTHLY;BYDAY=1TH"

    created = do_generate_occurrences(ritual, until=dt.date(2030, 6, 30))

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert [a.starts_at.astimezone(berlin).strftime("%m-%d %H:%M") for a in created] == [
        "01-03 19:30",
        "02-07 19:30",
        "03-07 19:30",
        "04-04 19:30",
        "05-02 19:30",
        "06-06 19:30",
    ]
    assert created[3].starts_at.utcoffset() == dt.timedelta(0)  # stored in UTC
    assert created[3].starts_at.hour == 17  # 19:30 CEST
    first = created[0]
    assert (first.title, first.capacity, first.fee_amount, first.status) == (
        "First-Thursday talks",
        40,
        Decimal("5.00"),
        "published",
    )
    assert first.ends_at - first.starts_at == dt.timedelta(minutes=90)

    do_cancel_activity(created[1])
    assert do_generate_occurrences(ritual, until=dt.date(2030, 6, 30)) == []
    more = do_generate_occurrences(ritual, until=dt.date(2030, 8, 31))
    assert len(more) == 2
    assert Activity.objects.filter(ritual=ritual).count() == 8

    do_update_ritual(ritual, {"capacity": 30})
    assert Activity.objects.get(pk=first.pk).capacity == 40  # generated ones keep theirs


def test_weekly_ritual_and_its_attendance_over_time(community):
    ritual = do_create_ritual(
        community,
        {
            "name": "Friday board games",
            "frequency": "weekly",
            "first_starts_at": soon(-15, hour=20),
            "mode": "offline",
            "place": "Club room",
            "capacity": 8,
            "content_type": "game",
        },
    )
    occurrences = do_generate_occurrences(ritual, until=soon(-1).date())
    assert len(occurrences) == 3
    people = [person(community, n) for n in ("Ann", "Bob", "Cai")]
    for index, occurrence in enumerate(occurrences):
        for member in people[: index + 1]:
            registration = do_register(occurrence, member, override=True)
            if member is not people[0] or index == 0:
                do_check_in(occurrence, registration.code, recompute=False)

    rows = selectors.ritual_attendance(ritual)

    assert [(row.registered, row.attended) for row in rows] == [(1, 1), (2, 1), (3, 2)]
    assert [row.starts_at for row in rows] == sorted(row.starts_at for row in rows)


# ---------------------------------------------------------------------------- calendars
def test_ics_files_parse_back_with_time_zone_place_and_cancellation(community):
    meetup = activity(community, title="Tea and code", description="Bring a laptop")
    online = activity(
        community,
        title="Reading circle",
        mode="online",
        capacity=None,
        place="",
        link="https://meet.example.org/r",
    )
    cancelled = do_cancel_activity(activity(community, title="Picnic"))
    draft = activity(community, title="Secret draft", publish=False)
    assert selectors.public_activity(draft.public_token) is None
    assert selectors.public_activity(cancelled.public_token) == cancelled

    single = icalendar.Calendar.from_ical(activity_ics(meetup, url="https://x.example/a/1"))
    (event,) = single.walk("VEVENT")
    assert str(event["UID"]) == f"{meetup.public_token}@shequn"
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event["DTSTART"].dt == meetup.starts_at
    assert str(event["LOCATION"]) == "Cafe Lu, 12 Wuding Rd"
    assert str(event["URL"]) == "https://x.example/a/1"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert single.walk("VTIMEZONE")

    feed = icalendar.Calendar.from_ical(community_ics(community))
    events = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    assert set(events) == {"Tea and code", "Reading circle", "Picnic"}
    assert str(events["Picnic"]["STATUS"]) == "CANCELLED"
    assert str(events["Reading circle"]["LOCATION"]) == "https://meet.example.org/r"
    assert cancelled.status == "cancelled" and online.capacity is None


# ---------------------------------------------------------------------------------- CSV
def test_registrations_export_lists_people_fee_and_check_in(community):
    meetup = past_activity(community, fee_amount="30", currency="CNY", capacity=1)
    ann = person(community, "=HYPERLINK(1)", key="ann@example.org")
    bob = person(community, "Bob")
    first = do_register(meetup, ann, override=True)
    do_register(meetup, bob, override=True)
    do_set_fee_status(first, "paid")
    do_check_in(meetup, first.code, recompute=False)

    lines = csv_io.registrations_csv(meetup).splitlines()

    assert lines[0].startswith("member_id,member_key,display_name,status,fee_status")
    assert lines[1].split(",")[1:6] == [
        "ann@example.org",
        "'=HYPERLINK(1)",
        "confirmed",
        "paid",
        "operator",
    ]
    assert "+08:00" in lines[1]
    assert lines[2].split(",")[2:5] == ["Bob", "waitlisted", "unpaid"]


ATTENDANCE = """\
Email,Name,Ticket type,Attended,Checked in at
ann@example.org,Ann,VIP,yes,2024-05-01 19:05
,Bob,Standard,no,
cai@example.org,Cai,Standard,是,1714561800
"""


def write(tmp_path, text: str, name: str = "luma-export.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_attendance_import_checks_people_in_once(community, tmp_path, attend_rule):
    meetup = past_activity(community, capacity=2)
    ann = person(community, "Ann", key="Ann@Example.org")
    bob = person(community, "Bob")
    cai = person(community, "Cai", key="cai@example.org")
    do_register(meetup, ann, override=True)
    do_register(meetup, bob, override=True)
    do_register(meetup, cai, override=True)  # waitlisted, but came
    path = write(tmp_path, ATTENDANCE)

    result = do_import_attendance(meetup, path)

    assert (result.rows, result.attended, result.checked_in, result.no_shows) == (3, 2, 2, 1)
    assert result.registered == 0 and result.ignored_columns == ["Ticket type"]
    checked = dict(
        Registration.objects.filter(activity=meetup).values_list(
            "member__display_name", "checked_in_at"
        )
    )
    assert checked["Ann"] == dt.datetime(2024, 5, 1, 11, 5, tzinfo=UTC)  # 19:05 in Shanghai
    assert checked["Cai"] == dt.datetime.fromtimestamp(1714561800, UTC)
    assert checked["Bob"] is None
    assert Registration.objects.get(member=cai).status == "confirmed"
    assert InteractionEvent.objects.filter(kind="attend").count() == 2
    assert PointEntry.objects.filter(rule_key="attended").count() == 2
    state = table_counts()

    again = do_import_attendance(meetup, path)

    assert (again.checked_in, again.already_checked_in, again.registered) == (0, 2, 0)
    assert {k: v for k, v in table_counts().items() if k != "audit.AuditEntry"} == {
        k: v for k, v in state.items() if k != "audit.AuditEntry"
    }


def test_attendance_import_registers_walk_ins_and_can_add_new_members(community, tmp_path):
    meetup = past_activity(community)
    person(community, "Ann", key="ann@example.org")
    text = "email,name,attended\nann@example.org,Ann,yes\nnew@example.org,Newbie,yes\n"

    with pytest.raises(ImportFormatError) as error:
        do_import_attendance(meetup, write(tmp_path, text))
    assert error.value.location == "line 3" and "new@example.org" in error.value.problem

    result = do_import_attendance(
        meetup, io.BytesIO(text.encode()), name="walk-ins.csv", create_missing=True
    )
    assert (result.registered, result.members_created, result.checked_in) == (2, 1, 2)
    newbie = Member.objects.get(key="new@example.org")
    registration = Registration.objects.get(member=newbie)
    assert registration.source == "import" and registration.registered_at == meetup.starts_at


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("email,attended\nann@example.org,yes\nann@example.org,maybe\n", 3, "neither yes nor"),
        ("email,attended,checked_in_at\nann@example.org,yes,yesterday\n", 2, "is not a time"),
        ("ticket,attended\nVIP,yes\n", 1, "who"),
        ("email,name\nann@example.org,Ann\n", 1, "who came"),
        ("name,attended\nTwin,yes\n", 2, "2 members are called"),
        ("name,attended\nNobody,yes\n", 2, "no member is called"),
        ('email,attended\n"ann@example.org,yes\n', 2, "malformed CSV"),
        ("", 1, "empty"),
    ],
)
def test_attendance_import_errors_name_the_file_and_line_and_change_nothing(
    community, tmp_path, text, line, words
):
    meetup = past_activity(community)
    person(community, "Ann", key="ann@example.org")
    person(community, "Twin")
    person(community, "Twin")
    before = table_counts()
    with pytest.raises(ImportFormatError) as error:
        do_import_attendance(meetup, write(tmp_path, text, "export.csv"))
    assert error.value.path.endswith("export.csv")
    assert error.value.location == f"line {line}"
    assert words in error.value.problem
    assert table_counts() == before


def test_attendance_file_that_is_not_utf8_names_its_line(community, tmp_path):
    meetup = past_activity(community)
    path = tmp_path / "gbk.csv"
    path.write_bytes(b"name,attended\n" + "张三,是\n".encode("gbk"))
    with pytest.raises(ImportFormatError) as error:
        do_import_attendance(meetup, path)
    assert error.value.location == "line 2" and "UTF-8" in error.value.problem


# ------------------------------------------------------------------------------- report
def _say(channel, member, at: dt.datetime) -> None:
    community = channel.community
    InteractionEvent.objects.create(
        community=community,
        channel=channel,
        member=member,
        kind="message",
        occurred_at=at,
        day=at.astimezone(community.zoneinfo).date(),
        source_id=f"m{InteractionEvent.objects.count() + 1}",
    )


def test_report_on_a_hand_built_activity(community):
    """Forty days ago: Old (a regular), Ret (came to an earlier one) and three newcomers came;
    Nia stayed (wrote after 30 days), Lou left on day 10, Qui never came back; Nos did not
    show up; Wai stayed on the waitlist and Can cancelled."""
    chat, _created = get_or_create_channel(community, platform="wechat", external_id="g1")
    now = timezone.now()
    earlier = past_activity(community, days_ago=60, title="Earlier")
    meetup = past_activity(community, days_ago=40, capacity=6)
    names = ("Old", "Ret", "Nia", "Lou", "Qui", "Nos", "Wai", "Can")
    m = {name: person(community, name) for name in names}
    _say(chat, m["Old"], now - dt.timedelta(days=100))  # known long before
    first = do_register(earlier, m["Ret"], override=True)
    do_check_in(earlier, first.code, recompute=False)
    m["Lou"].left_at = meetup.starts_at + dt.timedelta(days=10)
    m["Lou"].save()
    for name in names:
        registration = do_register(meetup, m[name], override=True)
        # They registered a week before it, and came on time.
        Registration.objects.filter(pk=registration.pk).update(
            registered_at=meetup.starts_at - dt.timedelta(days=7)
        )
        if name in ("Old", "Ret", "Nia", "Lou", "Qui"):
            do_check_in(meetup, registration.code, recompute=False, at=meetup.starts_at)
            # Rated at the time (the feedback window has closed since).
            Feedback.objects.create(
                registration=registration, rating={"Old": 5, "Nia": 4}.get(name, 3)
            )
        if name == "Can":
            do_cancel_registration(registration)
    _say(chat, m["Nia"], meetup.starts_at + dt.timedelta(days=31))
    _say(chat, m["Lou"], meetup.starts_at + dt.timedelta(days=35))  # left already: not stayed
    _say(chat, m["Qui"], meetup.starts_at + dt.timedelta(days=2))  # then nothing

    report = selectors.activity_report(meetup)

    assert (report.registered, report.confirmed, report.waitlisted, report.cancelled) == (
        8,
        6,
        1,
        1,
    )
    assert (report.attended, report.no_shows, report.no_show_rate) == (5, 1, pytest.approx(1 / 6))
    assert (report.first_time, report.returning) == (4, 1)
    assert (report.rating_mean, report.rating_count) == (3.6, 5)
    ids = {m[name].pk: name for name in names}
    assert sorted(ids[i] for i in report.newcomers) == ["Lou", "Nia", "Qui"]
    assert [ids[i] for i in report.stayed] == ["Nia"]
    assert report.pending == [] and report.newcomers_stayed_rate == pytest.approx(1 / 3)
    assert report.fee_statuses == {"not_applicable": 7}

    # Asked about the day after the activity, every newcomer is still pending.
    early = selectors.activity_report(meetup, as_of=meetup.ends_at + dt.timedelta(days=1))
    assert len(early.pending) == 3 and early.stayed == []


def test_community_mix_turnout_and_co_attendance(community):
    host = person(community, "Mia")
    a, b, c = (person(community, n) for n in ("Ann", "Bob", "Cai"))
    talk = past_activity(community, days_ago=2, content_type="learning")
    games = past_activity(
        community,
        days_ago=3,
        content_type="game",
        organiser=host,
        mode="online",
        capacity=None,
        place="",
    )
    activity(community, title="Future one")
    do_cancel_activity(past_activity(community, days_ago=4, title="Rained off"))
    for event, people in ((talk, (a, b, c)), (games, (a, b))):
        for member in people:
            registration = do_register(event, member, override=True)
            do_check_in(event, registration.code, recompute=False)
    do_register(talk, host, override=True)  # did not come

    mix = selectors.activity_mix(community)
    assert mix.total == 3
    assert mix.by_mode["offline"].activities == 2 and mix.by_mode["online"].attended == 2
    assert mix.by_content_type["learning"].attended == 3
    assert mix.by_content_type["game"].activities == 1
    assert mix.by_organiser["members"].activities == 1
    assert mix.by_organiser["staff"].activities == 2

    months = selectors.turnout_by_month(community, months=3)
    assert len(months) == 3 and months[-1].month.day == 1
    assert sum(m.activities for m in months) == 2
    assert sum(m.attended for m in months) == 5 and sum(m.confirmed for m in months) == 6

    ties = {(t.member_a, t.member_b): t for t in selectors.co_attendance(community)}
    assert ties[(a.pk, b.pk)].activities == 2
    assert ties[(a.pk, b.pk)].weight == pytest.approx(0.5 + 1.0)
    assert ties[(a.pk, c.pk)].activities == 1
    assert (a.pk, host.pk) not in ties and (host.pk, a.pk) not in ties
    events = InteractionEvent.objects.filter(kind="attend", thread_source_id=f"activity-{talk.pk}")
    assert events.count() == 3

    upcoming = selectors.upcoming_activities(community)
    assert [u.title for u in upcoming] == ["Future one"]


def test_merging_members_keeps_their_registrations(community):
    meetup = activity(community)
    other = activity(community, title="Other")
    wechat_ann = person(community, "Ann (WeChat)")
    qq_ann = with_account(person(community, "Ann (QQ)"), "qq-ann")
    do_register(meetup, wechat_ann)
    do_register(meetup, qq_ann)
    do_register(other, qq_ann)
    guest = do_add_guest(other, member=qq_ann)

    do_merge_members(qq_ann, wechat_ann)

    assert sorted(
        Registration.objects.filter(member=wechat_ann).values_list("activity__title", flat=True)
    ) == ["Other", "Tea and code"]
    assert Guest.objects.get(pk=guest.pk).member == wechat_ann
    assert Ritual.objects.count() == 0

    # Undone: each gets their own registrations back, the one set aside included.
    restored = do_unmerge(MemberMerge.objects.get())
    titles = {
        member: sorted(
            Registration.objects.filter(member=member).values_list("activity__title", flat=True)
        )
        for member in (restored, wechat_ann)
    }
    assert titles == {restored: ["Other", "Tea and code"], wechat_ann: ["Tea and code"]}
    assert Guest.objects.get(pk=guest.pk).member == restored


def test_far_years_and_nul_characters_are_refused_by_name(community):
    before = table_counts()
    with pytest.raises(ActivityError) as error:
        do_create_activity(
            community,
            {
                "title": "Tea\x00 and code",
                "mode": "online",
                "content_type": "social",
                "link": "https://meet.example/tea",
                "starts_at": "0001-01-01T00:00",
                "ends_at": "0001-01-01T02:00",
                "time_zone": "Asia/Shanghai",
            },
        )
    assert set(error.value.problems) >= {"title", "starts_at", "ends_at"}
    assert "NUL" in error.value.problems["title"]
    assert table_counts() == before
