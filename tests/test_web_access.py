"""Accounts see only their communities; roles limit what they change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequn.accounts.models import AccessRole, CommunityAccess
from shequn.accounts.selectors import visible_communities
from shequn.accounts.services import (
    AccessError,
    authenticate_token,
    do_accept_invitation,
    do_change_access_role,
    do_create_token,
    do_invite,
    do_revoke_token,
    find_invitation,
)
from shequn.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_pages_need_login(client, community):
    response = client.get(reverse("web:community", args=[community.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_overview_for_a_viewer_and_404_for_another_community(client_as, community, other_community):
    client = client_as(community, "viewer")
    page = client.get(reverse("web:community", args=[community.slug]))
    assert page.status_code == 200
    assert community.name in page.content.decode()
    assert client.get(reverse("web:community", args=[other_community.slug])).status_code == 404
    assert client.get(reverse("web:community", args=["no-such-club"])).status_code == 404


def test_home_lists_only_communities_with_access(client_as, community, other_community):
    page = client_as(community, "viewer").get(reverse("web:home")).content.decode()
    assert community.name in page
    assert other_community.name not in page


def test_administrator_sees_every_community(make_account, community, other_community):
    admin = make_account("root", is_superuser=True, is_staff=True)
    assert set(visible_communities(admin)) == {community, other_community}


def test_last_founder_cannot_be_demoted(make_account, community):
    founder = make_account("f", community, "founder")
    access = CommunityAccess.objects.get(user=founder)
    with pytest.raises(AccessError):
        do_change_access_role(access, "operator", actor=founder)
    make_account("g", community, "founder")
    do_change_access_role(access, "operator", actor=founder)
    access.refresh_from_db()
    assert access.role == AccessRole.OPERATOR
    assert AuditEntry.objects.filter(action="access.change", community=community).exists()


def test_invitation_grants_its_role_once(make_account, community):
    founder = make_account("f", community, "founder")
    invitation, raw = do_invite(community, "operator", actor=founder)
    invitee = make_account("new")
    do_accept_invitation(find_invitation(raw), invitee)
    assert CommunityAccess.objects.get(user=invitee, community=community).role == "operator"
    assert find_invitation(raw) is None  # used up
    with pytest.raises(AccessError):
        do_accept_invitation(invitation, make_account("late"))


def test_signing_up_through_an_invitation_page(client, make_account, community):
    founder = make_account("f", community, "founder")
    _invitation, raw = do_invite(community, "viewer", actor=founder)
    url = reverse("web:invitation", args=[raw])
    response = client.post(url, {"username": "newbie", "password": "a-long-pass-phrase-42"})
    assert response.status_code == 302
    assert client.get(reverse("web:community", args=[community.slug])).status_code == 200
    assert client.get(url).status_code == 404  # the link works once


def test_api_tokens_are_hashed_and_revocable(make_account):
    user = make_account("ann")
    token, raw = do_create_token(user, "script")
    assert raw not in token.key_hash and raw.startswith("sq_")
    assert authenticate_token(raw) == user
    do_revoke_token(token, actor=user)
    assert authenticate_token(raw) is None
    assert authenticate_token("sq_nonsense") is None


def test_login_is_throttled_after_repeated_failures(client, make_account):
    make_account("ann")
    url = reverse("web:login")
    for _ in range(5):
        client.post(url, {"username": "ann", "password": "wrong"})
    # Even the right password is refused while locked out.
    response = client.post(url, {"username": "ann", "password": "correct horse battery staple"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_works(client, make_account):
    make_account("ann")
    response = client.post(
        reverse("web:login"), {"username": "ann", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_overview_shows_weekly_activity_and_most_active(client_as, community, write_chatlab):
    from shequn.interactions.selectors import weekly_activity
    from shequn.interactions.services import do_import

    # Monday 2023-12-18 and Monday 2023-12-25 (UTC): two weeks, Ann twice, Bob once.
    path = write_chatlab(
        [
            {
                "sender": "a",
                "accountName": "Ann",
                "timestamp": 1702900800,
                "type": 0,
                "content": "one",
            },
            {
                "sender": "b",
                "accountName": "Bob",
                "timestamp": 1702904400,
                "type": 0,
                "content": "two",
            },
            {
                "sender": "a",
                "accountName": "Ann",
                "timestamp": 1703505600,
                "type": 0,
                "content": "three",
            },
        ]
    )
    do_import(community, path, format_name="chatlab")
    weeks = weekly_activity(community, weeks=3)
    assert [(w["week"], w["messages"], w["active_members"]) for w in weeks] == [
        ("2023-12-11", 0, 0),
        ("2023-12-18", 2, 2),
        ("2023-12-25", 1, 1),
    ]
    page = client_as(community, "viewer").get(reverse("web:community", args=[community.slug]))
    html = page.content.decode()
    assert 'id="weekly-data"' in html and "vendor/chart.js/chart.umd.min.js" in html
    most_active = html[html.index("Most active members") :]
    assert most_active.index("Ann") < most_active.index("Bob")
