"""The last places of an activity are never oversold, however many people register at once.

Each thread has its own database connection and they all start together, on SQLite and on
PostgreSQL (CI runs the suite on both; ``DATABASE_URL`` picks PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from shequn.activities.models import Registration
from shequn.activities.services import (
    do_cancel_registration,
    do_create_activity,
    do_publish_activity,
    do_register,
)
from shequn.members.models import Member

CAPACITY = 5
PEOPLE = 30


@pytest.fixture
def database_for_threads(transactional_db, tmp_path):
    """On SQLite, this test and its threads use a copy of the test database in a file.

    The in-memory test database is one shared cache: a second writer gets "table is locked"
    at once instead of waiting its turn, which no installation sees. A file behaves as a real
    installation (WAL, BEGIN IMMEDIATE, a 30 s busy timeout): writers wait for each other.
    """
    if connection.vendor != "sqlite":
        yield
        return
    path = tmp_path / "threads.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()
    memory = connections["default"]
    shared = connections.settings["default"]  # what every new connection is made from
    memory.settings_dict = dict(shared)  # the in-memory connection keeps its own name
    original_name = shared["NAME"]
    shared["NAME"] = str(path)
    file_connection = connections.create_connection("default")
    connections["default"] = file_connection
    try:
        yield
    finally:
        file_connection.close()
        shared["NAME"] = original_name
        memory.settings_dict = shared
        connections["default"] = memory


def _run_together(work, items) -> list[BaseException]:
    """Run ``work(item)`` for every item in its own thread, released at the same moment."""
    barrier = threading.Barrier(len(items))
    errors: list[BaseException] = []

    def run(item) -> None:
        try:
            barrier.wait(timeout=30)
            work(item)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.django_db(transaction=True)
def test_thirty_people_register_at_once_for_five_places(community, database_for_threads):
    start = timezone.now() + dt.timedelta(days=3)
    activity = do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Small workshop",
                "mode": "offline",
                "content_type": "learning",
                "place": "Room 3",
                "capacity": CAPACITY,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
            },
        )
    )
    members = Member.objects.bulk_create(
        Member(community=community, display_name=f"Person {n}") for n in range(PEOPLE)
    )

    errors = _run_together(lambda member: do_register(activity, member, self_service=True), members)

    assert errors == []
    statuses = list(Registration.objects.filter(activity=activity).values_list("status", flat=True))
    assert statuses.count("confirmed") == CAPACITY
    assert statuses.count("waitlisted") == PEOPLE - CAPACITY

    # Cancellations at once promote exactly as many people from the waitlist, in order.
    confirmed = list(Registration.objects.filter(activity=activity, status="confirmed"))
    first_waiting = list(
        Registration.objects.filter(activity=activity, status="waitlisted")
        .order_by("waitlisted_at", "id")
        .values_list("pk", flat=True)[:3]
    )
    errors = _run_together(
        lambda registration: do_cancel_registration(registration, self_service=True),
        confirmed[:3],
    )
    assert errors == []
    now_confirmed = set(
        Registration.objects.filter(activity=activity, status="confirmed").values_list(
            "pk", flat=True
        )
    )
    assert len(now_confirmed) == CAPACITY
    assert set(first_waiting) <= now_confirmed


def _public_activity(community, capacity: int):
    start = timezone.now() + dt.timedelta(days=3)
    return do_publish_activity(
        do_create_activity(
            community,
            {
                "title": "Open evening",
                "mode": "offline",
                "content_type": "social",
                "place": "Hall",
                "capacity": capacity,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
            },
        )
    )


@pytest.mark.django_db(transaction=True)
def test_people_registering_at_once_on_the_public_page_never_overfill_it(
    community, database_for_threads
):
    """Real requests through the public registration page, all at once."""
    from django.test import Client

    activity = _public_activity(community, CAPACITY)
    url = f"/a/{activity.public_token}/"
    answers: list[int] = []

    def post(number: int) -> None:
        response = Client().post(url, {"name": f"Guest {number}", "email": f"g{number}@ex.org"})
        answers.append(response.status_code)

    errors = _run_together(post, list(range(20)))

    assert errors == [] and answers == [302] * 20
    statuses = list(Registration.objects.filter(activity=activity).values_list("status", flat=True))
    assert statuses.count("confirmed") == CAPACITY and statuses.count("waitlisted") == 20 - CAPACITY


@pytest.mark.django_db(transaction=True)
def test_one_person_sending_the_form_several_times_at_once_registers_once(
    community, database_for_threads
):
    from django.test import Client

    activity = _public_activity(community, CAPACITY)
    url = f"/a/{activity.public_token}/"
    answers: list[int] = []

    def post(_number: int) -> None:
        response = Client().post(url, {"name": "Same Person", "email": "same@ex.org"})
        answers.append(response.status_code)

    errors = _run_together(post, list(range(6)))

    assert errors == []
    assert all(code in (302, 400) for code in answers) and answers.count(302) == 1
    assert Registration.objects.filter(activity=activity).count() == 1
    assert Member.objects.filter(community=community, key="same@ex.org").count() == 1
