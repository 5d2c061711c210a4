"""The activities pages as operators, viewers and the public meet them: the calendar and its
figures, creating and publishing, the public registration page with its waitlist, tickets,
check-in at the door, fees, attendance files, feedback and rituals, in English and Chinese."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from shequn.activities.models import Activity, Feedback, Registration, Ritual
from shequn.activities.services import (
    do_add_guest,
    do_check_in,
    do_create_activity,
    do_publish_activity,
    do_register,
)
from shequn.audit.models import AuditEntry
from shequn.members.models import Member

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(days: int, hour: int = 19) -> str:
    """A clock time in Shanghai, as a datetime-local input sends it."""
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:30"


def form_values(**values) -> dict:
    return {
        "title": "Tea and code",
        "description": "Bring a laptop.",
        "mode": "offline",
        "content_type": "social",
        "time_zone": "Asia/Shanghai",
        "starts_at": local(7),
        "ends_at": local(7, 21),
        "place": "Cafe Lu, 12 Wuding Rd",
        "link": "",
        "capacity": "1",
        "fee_amount": "0",
        "currency": "",
        "organiser": "",
        "registration_opens_at": "",
        "registration_closes_at": "",
        **values,
    }


def make_activity(community, *, publish: bool = True, days: int = 7, **values) -> Activity:
    start = timezone.now() + dt.timedelta(days=days)
    defaults = {
        "title": "Tea and code",
        "mode": "offline",
        "content_type": "social",
        "place": "Cafe Lu",
        "capacity": 10,
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "time_zone": "Asia/Shanghai",
    }
    activity = do_create_activity(community, {**defaults, **values})
    return do_publish_activity(activity) if publish else activity


def url(name: str, community, *args) -> str:
    return reverse(f"web:{name}", args=[community.slug, *args])


def test_create_publish_register_waitlist_cancel_check_in_and_report(client_as, community, client):
    operator = client_as(community, "operator")
    # Problems are shown next to their fields, and nothing is written.
    bad = operator.post(url("activity_new", community), form_values(capacity="", place=""))
    assert bad.status_code == 400
    form = bad.context["form"]
    assert "offline" in form.errors["capacity"][0] and form.errors["place"]
    assert not Activity.objects.exists()

    created = operator.post(url("activity_new", community), form_values(), follow=True)
    activity = Activity.objects.get()
    assert activity.status == "draft" and activity.capacity == 1
    assert activity.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M") == local(7)
    assert "publish it to open registration" in created.content.decode()
    public = reverse("web:activity_public", args=[activity.public_token])
    operator.logout()
    draft = client.get(public)
    assert draft.status_code == 404 and "not published yet" in draft.content.decode()

    operator = client_as(community, "operator", username="op2")
    operator.post(url("activity_publish", community, activity.pk))
    activity.refresh_from_db()
    assert activity.status == "published"
    operator.logout()

    # The public page: the place, the time with its zone, places left, a form.
    page = client.get(public)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Cafe Lu, 12 Wuding Rd" in text and "Asia/Shanghai" in text and "1 place left" in text
    assert "csrfmiddlewaretoken" in text
    # A browser sends a real Origin with the form (no-referrer would make it "null").
    assert page["Referrer-Policy"] == "same-origin"
    first = client.post(public, {"name": "Ann", "email": "Ann@Example.org"}, follow=True)
    ann = Registration.objects.get(member__key="ann@example.org")
    assert ann.status == "confirmed"
    ticket = first.content.decode()
    assert "your place is confirmed" in ticket and ann.code in ticket and "<svg" in ticket

    full = client.get(public).content.decode()
    assert "Join the waitlist" in full
    second = client.post(public, {"name": "Bob", "email": "bob@example.org"}, follow=True)
    bob = Registration.objects.get(member__key="bob@example.org")
    assert bob.status == "waitlisted"
    assert "on the waitlist (number 1)" in second.content.decode()
    assert bob.code not in second.content.decode()  # no code without a place

    # The operator cancels Ann's place: Bob moves up.
    operator = client_as(community, "operator", username="op3")
    cancelled = operator.post(
        url("activity_registration_cancel", community, activity.pk, ann.pk), follow=True
    )
    assert "Bob moved up from the waitlist" in cancelled.content.decode()
    bob.refresh_from_db()
    assert bob.status == "confirmed"

    # Check-in at the door: a wrong code, the right one, the same again.
    door = url("activity_check_in", community, activity.pk)
    page = operator.get(door)
    assert page.status_code == 200 and 'class="code-input"' in page.content.decode()
    wrong = operator.post(door, {"code": "WRONGCODE"})
    assert wrong.status_code == 422 and "Wrong code" in wrong.content.decode()
    cancelled_code = operator.post(door, {"code": ann.code})
    assert "This registration was cancelled." in cancelled_code.content.decode()
    ok = operator.post(door, {"code": bob.code.lower()})
    assert ok.status_code == 200 and "Checked in" in ok.content.decode()
    assert "1 of 1 checked in" in ok.content.decode()
    again = operator.post(door, {"code": bob.code})
    assert "Already checked in" in again.content.decode()

    detail = operator.get(url("activity", community, activity.pk))
    report = detail.context["report"]
    assert (report.registered, report.confirmed, report.cancelled, report.attended) == (2, 1, 1, 1)
    assert report.first_time == 1
    page = detail.content.decode()
    assert "Bob" in page and "1 confirmed, 0 on the waitlist, 1 checked in." in page
    assert AuditEntry.objects.filter(action="activity.check_in").count() == 1


def test_a_scanned_qr_code_opens_the_door_page_with_the_person(client_as, community):
    activity = make_activity(community)
    ann = do_register(activity, Member.objects.create(community=community, display_name="Ann"))
    operator = client_as(community, "operator")
    svg = operator.get(url("activity_registration_qr", community, activity.pk, ann.pk))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b'xmlns="http://www.w3.org/2000/svg"' in svg.content
    page = operator.get(url("activity_registration", community, activity.pk, ann.pk))
    text = page.content.decode()
    assert ann.code in text and "<svg" in text and "/t/" in text and "/f/" in text
    preview = operator.get(url("activity_check_in", community, activity.pk) + f"?code={ann.code}")
    assert "Code of Ann (confirmed)." in preview.content.decode()
    ann.refresh_from_db()
    assert ann.checked_in_at is None  # opening the page changes nothing


def test_the_public_page_refuses_a_closed_window_and_a_cancelled_activity(community, client):
    closes = timezone.now() - dt.timedelta(hours=1)
    activity = make_activity(
        community,
        registration_opens_at=closes - dt.timedelta(days=1),
        registration_closes_at=closes,
    )
    public = reverse("web:activity_public", args=[activity.public_token])
    page = client.get(public).content.decode()
    assert "Registration closed at" in page and 'name="email"' not in page
    refused = client.post(public, {"name": "Ann", "email": "ann@example.org"})
    assert refused.status_code == 400
    assert "Registration closed at" in refused.content.decode()
    assert not Registration.objects.exists()

    from shequn.activities.services import do_cancel_activity

    other = do_cancel_activity(make_activity(community))
    page = client.get(reverse("web:activity_public", args=[other.public_token]))
    assert "This activity was cancelled." in page.content.decode()
    assert client.get(reverse("web:activity_public", args=["nothing-here"])).status_code == 404


def test_pages_in_english_and_chinese(client_as, community):
    activity = make_activity(community)
    do_register(activity, Member.objects.create(community=community, display_name="Ann"))
    client = client_as(community, "operator")
    pages = [
        url("activities", community),
        url("activity", community, activity.pk),
        url("activity_new", community),
        url("activity_edit", community, activity.pk),
        url("activity_check_in", community, activity.pk),
        url("activity_attendance", community, activity.pk),
        url("rituals", community),
        url("ritual_new", community),
        reverse("web:activity_public", args=[activity.public_token]),
    ]
    for page in pages:
        english = client.get(page)
        assert english.status_code == 200, page
        chinese = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert chinese.status_code == 200, page
        assert 'lang="zh-hans"' in chinese.content.decode(), page
    home = client.get(url("activities", community), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert "即将举行" in home.decode()  # "Coming up"
    door = client.get(
        url("activity_check_in", community, activity.pk), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "签到" in door.content.decode()


def test_viewers_read_and_operators_change(client_as, community):
    activity = make_activity(community, publish=False)
    viewer = client_as(community, "viewer")
    assert viewer.get(url("activities", community)).status_code == 200
    page = viewer.get(url("activity", community, activity.pk)).content.decode()
    assert "Publish" not in page
    assert viewer.get(url("activity_new", community)).status_code == 403
    assert viewer.post(url("activity_publish", community, activity.pk)).status_code == 403
    assert viewer.get(url("activity_check_in", community, activity.pk)).status_code == 403
    activity.refresh_from_db()
    assert activity.status == "draft"


def test_editing_cancelling_completing_and_deleting(client_as, community):
    client = client_as(community, "operator")
    activity = make_activity(community, publish=False)
    edit = url("activity_edit", community, activity.pk)
    form = client.get(edit).context["form"]
    assert form.initial["starts_at"] == activity.starts_at.astimezone(SHANGHAI).strftime(
        "%Y-%m-%dT%H:%M"
    )
    values = {name: value if value is not None else "" for name, value in form.initial.items()}
    values.update(title="Tea, code and cake", capacity="20")
    assert client.post(edit, values).status_code == 302
    activity.refresh_from_db()
    assert activity.title == "Tea, code and cake" and activity.capacity == 20
    bad = client.post(edit, {**values, "ends_at": values["starts_at"]})
    assert bad.status_code == 400 and bad.context["form"].errors["ends_at"]

    client.post(url("activity_delete", community, activity.pk))
    assert not Activity.objects.filter(pk=activity.pk).exists()

    later = make_activity(community)
    refused = client.post(url("activity_complete", community, later.pk), follow=True)
    assert "once it has started" in refused.content.decode()
    client.post(url("activity_cancel", community, later.pk), {"reason": "Typhoon"})
    later.refresh_from_db()
    assert later.status == "cancelled"
    entry = AuditEntry.objects.get(action="activity.cancelled")
    assert entry.details["after"]["reason"] == "Typhoon"

    past = make_activity(community, days=-1)
    client.post(url("activity_complete", community, past.pk))
    past.refresh_from_db()
    assert past.status == "done"


def test_guests_and_operator_registration(client_as, community):
    client = client_as(community, "operator")
    activity = make_activity(community, capacity=1)
    ann = Member.objects.create(community=community, display_name="Ann", key="ann@example.org")
    client.post(
        url("activity_guest_add", community, activity.pk), {"member": "Ann", "role": "host"}
    )
    client.post(
        url("activity_guest_add", community, activity.pk),
        {"name": "Dr. Li", "affiliation": "Fudan", "role": "speaker"},
    )
    guests = list(activity.guests.order_by("id"))
    assert [g.display_name for g in guests] == ["Ann", "Dr. Li"]
    client.post(url("activity_guest_remove", community, activity.pk, guests[1].pk))
    assert activity.guests.count() == 1

    register = url("activity_register", community, activity.pk)
    nobody = client.post(register, {"member": "Nobody"}, follow=True)
    assert "no member 'Nobody' in this community" in html.unescape(nobody.content.decode())
    client.post(register, {"member": "ANN@example.org"})
    full = client.post(register, {"name": "Bob", "email": "bob@example.org"}, follow=True)
    assert "Bob is on the waitlist" in full.content.decode()
    statuses = dict(Registration.objects.values_list("member__display_name", "status"))
    assert statuses == {"Ann": "confirmed", "Bob": "waitlisted"}
    assert Registration.objects.get(member=ann).source == "operator"


def test_fee_changes_keep_their_history(client_as, community):
    client = client_as(community, "operator")
    activity = make_activity(community, fee_amount="49.00", currency="CNY")
    ann = do_register(activity, Member.objects.create(community=community, display_name="Ann"))
    fee = url("activity_registration_fee", community, activity.pk, ann.pk)
    client.post(fee, {"fee_status": "paid", "note": "WeChat Pay"})
    refused = client.post(fee, {"fee_status": "waived"}, follow=True)
    assert "cannot go from paid to waived" in refused.content.decode()
    client.post(fee, {"fee_status": "refunded", "note": "could not come", "next": "registration"})
    ann.refresh_from_db()
    assert ann.fee_status == "refunded"
    page = client.get(url("activity_registration", community, activity.pk, ann.pk))
    text = page.content.decode()
    assert "WeChat Pay" in text and "could not come" in text
    assert len(page.context["fee_history"]) == 2


def test_attendance_file_problems_name_the_line_and_change_nothing(client_as, community):
    client = client_as(community, "operator")
    activity = make_activity(community, days=-1)
    Member.objects.create(community=community, display_name="Ann", key="ann@example.org")
    page = url("activity_attendance", community, activity.pk)
    bad = SimpleUploadedFile(
        "door.csv", b"email,attended\nann@example.org,yes\nbob@example.org,yes\n"
    )
    response = client.post(page, {"file": bad})
    text = response.content.decode()
    assert response.status_code == 400
    assert "door.csv" in text and "line 3" in text and "bob@example.org" in text
    assert "Nothing was imported" in text
    assert not Registration.objects.exists()

    good = SimpleUploadedFile("door.csv", b"email,attended,ticket\nann@example.org,yes,VIP\n")
    done = client.post(page, {"file": good}, follow=True)
    assert "1 checked in now" in done.content.decode()
    assert "Columns ignored: ticket." in done.content.decode()
    assert Registration.objects.get().checked_in_at is not None


def test_exports_calendars_and_the_feed(client_as, community, client):
    activity = make_activity(community)
    do_register(activity, Member.objects.create(community=community, display_name="=Ann"))
    operator = client_as(community, "operator")
    csv = operator.get(url("activity_registrations_csv", community, activity.pk))
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[1].split(",")[2] == "'=Ann"
    ics = operator.get(url("activity_ics", community, activity.pk))
    assert ics["Content-Type"].startswith("text/calendar") and b"Tea and code" in ics.content
    home = operator.get(url("activities", community))
    feed = home.context["feed_link"]
    operator.logout()
    subscribed = client.get(feed.replace("http://testserver", ""))
    assert subscribed.status_code == 200 and b"BEGIN:VCALENDAR" in subscribed.content
    tampered = feed.replace("http://testserver", "")[:-8] + "xxxx.ics"
    assert client.get(tampered).status_code == 404
    public_ics = client.get(reverse("web:activity_public_ics", args=[activity.public_token]))
    assert b"Tea and code" in public_ics.content


def test_the_calendar_the_mix_and_the_turnout_chart(client_as, community):
    past = make_activity(community, days=-2, content_type="learning")
    ann = do_register(
        past, Member.objects.create(community=community, display_name="Ann"), override=True
    )
    do_register(past, Member.objects.create(community=community, display_name="Bob"), override=True)
    do_check_in(past, ann.code)
    make_activity(community, days=3, title="Board games", content_type="game", mode="online")
    make_activity(community, days=4, title="Plans", publish=False)
    client = client_as(community, "viewer")
    response = client.get(url("activities", community))
    text = response.content.decode()
    assert "Board games" in text and "Plans" in text  # the calendar, drafts marked
    assert 'data-chart="activity"' in text and 'id="turnout-data"' in text
    months = response.context["months"]
    assert sum(m.confirmed for m in months) == 2 and sum(m.attended for m in months) == 1
    chart = response.context["turnout_chart"]
    assert sum(row["messages"] for row in chart) == 1  # came
    assert sum(row["reactions"] for row in chart) == 1  # registered, did not come
    mix = response.context["mix"]
    assert mix.by_content_type["learning"].activities == 1
    assert mix.by_organiser["staff"].activities == 2  # held ones: past and board games
    assert "Tea and code" in text  # past activities


def test_ticket_cancel_and_feedback_links(client_as, community, client):
    activity = make_activity(community, days=-1)
    ann = do_register(
        activity, Member.objects.create(community=community, display_name="Ann"), override=True
    )
    operator = client_as(community, "operator")
    page = operator.get(url("activity_registration", community, activity.pk, ann.pk))
    ticket = page.context["ticket_link"].replace("http://testserver", "")
    feedback = page.context["feedback_link"].replace("http://testserver", "")
    operator.logout()

    not_yet = client.get(feedback).content.decode()
    assert "Only people who attended can give feedback." in not_yet
    do_check_in(activity, ann.code)
    assert "Rate this activity" in client.get(ticket).content.decode()
    bad = client.post(feedback, {"rating": "7"})
    assert bad.status_code == 400
    client.post(feedback, {"rating": "5", "comment": "Great evening"})
    assert Feedback.objects.get().rating == 5
    again = client.get(feedback).content.decode()
    assert "Your rating: 5/5" in again
    assert client.get(feedback[:-3] + "xx/").status_code == 404

    upcoming = make_activity(community, capacity=1)
    first = do_register(upcoming, Member.objects.create(community=community, display_name="Cy"))
    second = do_register(upcoming, Member.objects.create(community=community, display_name="Di"))
    from shequn.web.views.activities_public import ticket_url

    cancel = reverse("web:activity_ticket_cancel", args=[ticket_url(first).split("/")[2]])
    shown = client.post(cancel, follow=True).content.decode()
    assert "Your registration is cancelled." in shown
    second.refresh_from_db()
    assert second.status == "confirmed"
    detail = client_as(community, "operator", username="op9").get(
        url("activity", community, activity.pk)
    )
    assert "Great evening" in detail.content.decode()


def test_rituals_create_generate_and_attendance_chart(client_as, community):
    client = client_as(community, "operator")
    values = {
        "name": "Sharing night",
        "description": "",
        "frequency": "custom",
        "rule": "FREQ=MINUTELY",
        "time_zone": "Asia/Shanghai",
        "first_starts_at": local(1),
        "duration_minutes": "90",
        "title": "",
        "mode": "online",
        "content_type": "learning",
        "place": "",
        "link": "https://meet.example.org/share",
        "capacity": "",
        "fee_amount": "0",
        "currency": "",
        "organiser": "",
        "active": "on",
    }
    bad = client.post(url("ritual_new", community), values)
    assert bad.status_code == 400 and bad.context["form"].errors["rule"]
    assert not Ritual.objects.exists()
    client.post(url("ritual_new", community), {**values, "rule": "FREQ=WEEKLY;BYDAY=TH,SU"})
    ritual = Ritual.objects.get()
    until = (timezone.now() + dt.timedelta(days=15)).date().isoformat()
    done = client.post(
        url("ritual_generate", community, ritual.pk), {"until": until, "publish": "on"}, follow=True
    )
    assert "occurrences created" in done.content.decode()
    occurrence = ritual.occurrences.order_by("starts_at").first()
    assert occurrence.status == "published" and occurrence.title == "Sharing night"
    ann = do_register(occurrence, Member.objects.create(community=community, display_name="Ann"))
    do_check_in(occurrence, ann.code)
    page = client.get(url("ritual", community, ritual.pk))
    assert 'data-chart="activity"' in page.content.decode()
    assert page.context["attendance_chart"][0]["messages"] == 1
    edit = client.get(url("ritual_edit", community, ritual.pk))
    assert edit.context["form"].initial["first_starts_at"] == local(1)
    listing = client.get(url("rituals", community)).content.decode()
    assert "Sharing night" in listing and "FREQ=WEEKLY;BYDAY=TH,SU" in listing


def test_guests_show_on_the_public_page(community, client):
    activity = make_activity(community)
    do_add_guest(activity, name="Dr. Li", affiliation="Fudan")
    page = client.get(reverse("web:activity_public", args=[activity.public_token]))
    assert "Dr. Li" in page.content.decode() and "Fudan" in page.content.decode()
