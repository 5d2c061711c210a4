"""Walk every URL pattern and every API operation: another community's pages and objects must
answer 404, and nothing but the login and invitation pages opens without an account.

New views are covered automatically; a new URL keyword needs an entry in OTHER_OBJECTS (the test
says so), so that its objects are tried from the wrong community too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from shequn.accounts.models import CommunityAccess
from shequn.accounts.services import do_create_token, do_invite
from shequn.insights.services import do_save_diagnosis
from shequn.interactions.jobs import do_queue_import
from shequn.members.models import Member
from shequn.rewards.services import do_manual_entry, do_save_rule

pytestmark = pytest.mark.django_db

# URL prefixes that are not community pages: Django's admin (its own staff-only rules), the
# language switch, the API (walked separately below) and static files.
NOT_COMMUNITY_PAGES = ("admin/", "i18n/", "api/v1/", "static/")
# Pages anyone may open: logging in, and an invitation link (its token is the permission).
PUBLIC = {
    "web:login",
    "web:invitation",
    "web:logout",
    "web:member_progress",
    # An activity's public registration page and calendar file (its unguessable token is the
    # permission), a registration's signed ticket and feedback links, the signed feed.
    "web:activity_public",
    "web:activity_public_ics",
    "web:activity_ticket",
    "web:activity_ticket_cancel",
    "web:activity_feedback",
    "web:activities_feed",
    # The exchange's public form (the community's revocable token is the permission).
    "web:exchange_public",
    # A goal's members' progress page (opt-in and revocable; its token is the permission).
    "web:goal_public",
}


def walk(
    patterns: list, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def web_patterns() -> list[tuple[str, str, URLPattern]]:
    return [
        item
        for item in walk(get_resolver().url_patterns)
        if not item[0].startswith(NOT_COMMUNITY_PAGES)
    ]


def fill(route: str, values: dict[str, object]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(2)
        if name not in values:
            pytest.fail(
                f"URL {route!r} has a keyword {name!r} this test does not know: add an object "
                "of another community for it to OTHER_OBJECTS in tests/test_url_access.py"
            )
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


@pytest.fixture
def other_objects(community, other_community, make_account, settings):
    """One object of every kind a URL names, all in the OTHER community."""
    settings.SHEQUN_IMPORT_JOBS = "inline"
    other_founder = make_account("other-founder", other_community, "founder")
    member = Member.objects.create(community=other_community, display_name="Stranger")
    job = do_queue_import(other_community, SimpleUploadedFile("x.json", b"{}"), actor=other_founder)
    invitation, _raw = do_invite(other_community, "viewer", actor=other_founder)
    token, _key = do_create_token(other_founder, "theirs")
    rule = do_save_rule(
        other_community,
        {"key": "theirs", "event_kind": "message", "amount": 1},
        actor=other_founder,
    )
    entry = do_manual_entry(member, 5, reason="theirs", actor=other_founder)
    activity, registration, guest, ritual = _other_activity(other_community, member)
    report = do_save_diagnosis(other_community, end=dt.date(2024, 1, 1), actor=other_founder)
    offer, purchase, cost = _other_commerce(other_community, member)
    exchange_post, exchange_connection = _other_exchange(other_community, member)
    goal, testimonial = _other_culture(other_community, member)
    charter_version, charter_rule, violation = _other_charter(other_community, member)
    return {
        "token_id": token.pk,  # another account's token
        "member_id": member.pk,
        "job_id": job.pk,
        "access_id": CommunityAccess.objects.get(user=other_founder).pk,
        "invitation_id": invitation.pk,
        "rule_id": rule.pk,
        "entry_id": entry.pk,
        "activity_id": activity.pk,
        "registration_id": registration.pk,
        "guest_id": guest.pk,
        "ritual_id": ritual.pk,
        "report_id": report.pk,
        "offer_id": offer.pk,
        "purchase_id": purchase.pk,
        "cost_id": cost.pk,
        "post_id": exchange_post.pk,
        "connection_id": exchange_connection.pk,
        "goal_id": goal.pk,
        "testimonial_id": testimonial.pk,
        "charter_version_id": charter_version.pk,
        "charter_rule_id": charter_rule.pk,
        "violation_id": violation.pk,
    }


def _other_charter(other_community, member):
    """A charter version, a rule and a reported violation of the other community."""
    from shequn.charter.services import do_publish_charter, do_report_violation
    from shequn.charter.services import do_save_rule as do_save_charter_rule

    version = do_publish_charter(other_community, "Theirs", actor=None)
    rule = do_save_charter_rule(
        other_community, {"key": "theirs", "kind": "reported", "enabled": True}, actor=None
    )
    return version, rule, do_report_violation(rule, member, note="theirs")


def _other_culture(other_community, member):
    """A goal and a testimonial of the other community."""
    from shequn.culture.services import do_create_goal, do_record_testimonial

    goal = do_create_goal(
        other_community,
        {
            "title": "Theirs",
            "metric": "members",
            "target": 10,
            "deadline": "2030-01-01",
            "owner": member,
        },
    )
    return goal, do_record_testimonial(other_community, {"member": member, "text": "Theirs"})


def _other_exchange(other_community, member):
    """A need of the other community and its connection with an offer."""
    from shequn.exchange.services import do_confirm_connection, do_create_post

    helper = Member.objects.create(community=other_community, display_name="Their helper")
    need = do_create_post(other_community, {"kind": "need", "title": "Theirs"}, member=member)
    offer = do_create_post(other_community, {"kind": "offer", "title": "Theirs"}, member=helper)
    return need, do_confirm_connection(need, offer)


def _other_commerce(other_community, member):
    """An offer of the other community, a purchase of it and a month's cost."""
    from shequn.commerce.services import do_add_cost, do_create_offer, do_record_purchase

    offer = do_create_offer(
        other_community, {"kind": "course", "name": "Theirs", "price": "9", "currency": "CNY"}
    )
    purchase = do_record_purchase(other_community, {"member": member, "offer": offer})
    cost = do_add_cost(
        other_community,
        {"month": "2024-01", "category": "tools", "amount": "5", "currency": "CNY"},
    )[0]
    return offer, purchase, cost


def _other_activity(other_community, member):
    """A published activity of the other community with a registration and a guest, and a
    ritual."""
    import datetime as dt

    from django.utils import timezone

    from shequn.activities.services import (
        do_add_guest,
        do_create_activity,
        do_create_ritual,
        do_publish_activity,
        do_register,
    )

    start = timezone.now() + dt.timedelta(days=7)
    values = {
        "title": "Their meetup",
        "mode": "offline",
        "content_type": "social",
        "place": "Their hall",
        "capacity": 10,
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
    }
    activity = do_publish_activity(do_create_activity(other_community, values))
    registration = do_register(activity, member)
    guest = do_add_guest(activity, name="Their speaker")
    ritual = do_create_ritual(
        other_community,
        {
            "name": "Their weekly",
            "frequency": "weekly",
            "first_starts_at": start,
            "mode": "online",
            "content_type": "learning",
        },
    )
    return activity, registration, guest, ritual


def community_pages() -> list[tuple[str, str, URLPattern]]:
    return [item for item in web_patterns() if item[0].startswith("c/<slug:slug>/")]


def test_every_community_page_goes_through_the_access_check():
    pages = community_pages()
    assert len(pages) >= 5
    for route, name, pattern in pages:
        assert hasattr(pattern.callback, "community_minimum_role"), (
            f"{name} ({route}) is a community page but not wrapped in web.access.community_view"
        )


def test_another_communitys_pages_and_objects_answer_404(
    client_as, community, other_community, other_objects
):
    client = client_as(community, "founder")
    for route, name, _pattern in community_pages():
        # The other community's page, with its own objects: 404 as if it did not exist.
        foreign = fill(route, {"slug": other_community.slug, **other_objects})
        for method in ("get", "post"):
            response = getattr(client, method)(foreign)
            assert response.status_code == 404, f"{method.upper()} {foreign} ({name})"
        # This community's page with the other community's objects: 404 too (a POST-only
        # view may answer a GET 405 whatever the object, which tells nothing).
        if re.search(r"<int:", route):
            mixed = fill(route, {"slug": community.slug, **other_objects})
            statuses = {
                method: getattr(client, method)(mixed).status_code for method in ("get", "post")
            }
            assert statuses["post"] == 404, f"POST {mixed} ({name})"
            assert statuses["get"] in (404, 405), f"GET {mixed} ({name})"


def test_another_accounts_token_cannot_be_revoked(client_as, community, other_objects):
    client = client_as(community, "founder")
    response = client.post(fill("account/tokens/<int:token_id>/revoke/", other_objects))
    assert response.status_code == 404


def test_nothing_opens_without_logging_in(client, community, other_objects):
    for route, name, _pattern in web_patterns():
        if name in PUBLIC:
            continue
        url = fill(route, {"slug": community.slug, "token": "x", **other_objects})
        response = client.get(url)
        assert response.status_code == 302 and "/account/login/" in response["Location"], (
            f"GET {url} ({name}) answered {response.status_code} without a login"
        )


def test_every_api_operation_hides_another_community(
    client, make_account, community, other_community, other_objects
):
    user = make_account("api-founder", community, "founder")
    _token, key = do_create_token(user, "walk")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    schema = client.get("/api/v1/openapi.json").json()
    walked = 0

    def valid_body(operation: dict) -> dict:
        """The smallest JSON body the operation's schema accepts (required fields only)."""
        content = operation["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" in content:
            content = schema["components"]["schemas"][content["$ref"].rsplit("/", 1)[1]]
        samples = {"integer": 1, "string": "x", "boolean": False, "number": 1}
        return {
            name: samples[content["properties"][name].get("type", "string")]
            for name in content.get("required", [])
        }

    def call(method: str, path: str, values: dict):
        url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        operation = schema["paths"][path][method]
        content = operation.get("requestBody", {}).get("content", {})
        # A valid body, so that the answer is about access, not about the input.
        if "multipart/form-data" in content:
            body = {"file": SimpleUploadedFile("a.json", b"{}")}
            return url, getattr(client, method)(url, body, **auth)
        if "application/json" in content:
            body = json.dumps(valid_body(operation))
            return url, getattr(client, method)(url, body, content_type="application/json", **auth)
        if content:  # e.g. a TOML file
            return url, getattr(client, method)(url, "", content_type="text/plain", **auth)
        return url, getattr(client, method)(url, **auth)

    for path, operations in schema["paths"].items():
        if "{slug}" not in path:
            continue
        for method in operations:
            values = {"slug": other_community.slug, **other_objects}
            url, response = call(method, path, values)
            assert response.status_code == 404, f"{method.upper()} {url}"
            assert response["Content-Type"] == "application/problem+json"
            if re.search(r"\{(?!slug)\w+\}", path):
                url, response = call(method, path, {**values, "slug": community.slug})
                assert response.status_code == 404, f"{method.upper()} {url}"
            walked += 1
    assert walked >= 6
    # And without a token, every operation is refused.
    for path, operations in schema["paths"].items():
        url = re.sub(r"\{(\w+)\}", "1", path)
        for method in operations:
            assert getattr(client, method)(url).status_code == 401, f"{method.upper()} {url}"
