"""The settings pages: profile, access management and the audit log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from shequn.accounts.models import AccessRole, CommunityAccess, Invitation
from shequn.accounts.services import do_invite
from shequn.audit.models import AuditEntry
from shequn.audit.services import record
from shequn.communities.models import Community
from shequn.interactions.models import InteractionEvent, MemberDailyRollup
from shequn.interactions.services import do_import

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "Club Deluxe",
    "carrier": "A coffee roastery",
    "positioning": "Home brewers in Shanghai who want better coffee",
    "mission": "Learn together, brew better",
    "values_advocated": "  sharing \n\n honesty\n sharing\n",
    "values_opposed": "spam\n   \nhard selling",
    "time_zone": "Asia/Shanghai",
}


def url(name: str, community: Community, *args: int) -> str:
    return reverse(f"web:{name}", args=[community.slug, *args])


def test_settings_page_shows_profile_to_a_viewer_without_edit_or_audit(client_as, community):
    record("community.create", community=community, details={"secret": "x"})
    page = client_as(community, "viewer").get(url("manage", community))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Why are we together?" in html
    assert url("manage_profile", community) not in html
    assert url("manage_audit", community) not in html


def test_editing_the_profile_changes_it_and_is_audited(client_as, community):
    client = client_as(community, "operator")
    form = client.get(url("manage_profile", community))
    assert form.status_code == 200
    assert "What do we want to achieve?" in form.content.decode()

    response = client.post(url("manage_profile", community), PROFILE)
    assert response.status_code == 302

    community.refresh_from_db()
    assert community.name == "Club Deluxe"
    assert community.mission == "Learn together, brew better"
    assert community.values_advocated == ["sharing", "honesty"]
    assert community.values_opposed == ["spam", "hard selling"]
    assert community.time_zone == "Asia/Shanghai"
    entry = AuditEntry.objects.get(action="community.update_profile", community=community)
    assert entry.actor_label == "operator-club"
    assert entry.details["after"]["mission"] == "Learn together, brew better"

    audit_page = client.get(url("manage_audit", community)).content.decode()
    assert "edited the community profile" in audit_page
    assert "operator-club" in audit_page
    assert "Learn together, brew better" in audit_page
    # The settings page shows the profile and the latest changes.
    settings_page = client.get(url("manage", community)).content.decode()
    assert "hard selling" in settings_page
    assert "edited the community profile" in settings_page

    # Saving the same profile again changes nothing and records nothing.
    client.post(url("manage_profile", community), PROFILE)
    assert AuditEntry.objects.filter(action="community.update_profile").count() == 1


def test_an_unknown_time_zone_is_refused(client_as, community):
    client = client_as(community, "founder")
    response = client.post(url("manage_profile", community), {**PROFILE, "time_zone": "Mars/Base"})
    assert response.status_code == 400
    assert "not a known time zone" in response.content.decode()
    community.refresh_from_db()
    assert community.time_zone == "UTC" and community.name == "Club"
    assert not AuditEntry.objects.filter(action="community.update_profile").exists()


def test_a_viewer_cannot_edit_the_profile(client_as, community):
    client = client_as(community, "viewer")
    assert client.get(url("manage_profile", community)).status_code == 403
    assert client.post(url("manage_profile", community), PROFILE).status_code == 403
    community.refresh_from_db()
    assert community.name == "Club" and community.mission == ""
    assert not AuditEntry.objects.filter(action="community.update_profile").exists()


def test_changing_the_time_zone_moves_events_to_their_local_day(
    client_as, community, write_chatlab
):
    # 2023-12-19 20:00 UTC is already 2023-12-20 in Shanghai.
    at = int(dt.datetime(2023, 12, 19, 20, 0, tzinfo=dt.UTC).timestamp())
    messages = [
        {"platformMessageId": "a", "sender": "u1", "accountName": "Ann", "timestamp": at,
         "type": 0, "content": "late evening"},
    ]  # fmt: skip
    do_import(community, write_chatlab(messages))
    assert list(MemberDailyRollup.objects.values_list("day", flat=True)) == [dt.date(2023, 12, 19)]

    client = client_as(community, "founder")
    assert client.post(url("manage_profile", community), PROFILE).status_code == 302

    assert list(InteractionEvent.objects.values_list("day", flat=True)) == [dt.date(2023, 12, 20)]
    rollup = MemberDailyRollup.objects.get()
    assert (rollup.day, rollup.messages) == (dt.date(2023, 12, 20), 1)


def test_a_founder_invites_and_the_link_works_once(client_as, community, client):
    founder_client = client_as(community, "founder")
    response = founder_client.post(
        url("manage_invite", community), {"role": "operator", "email": "new@example.org"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    link = re.search(r"http://testserver/invitations/[\w-]+/", html)
    assert link, html
    assert AuditEntry.objects.filter(action="access.invite", community=community).exists()
    # The link is shown once: the access page does not show it again.
    assert link.group(0) not in founder_client.get(url("manage_access", community)).content.decode()

    newcomer = Client()
    path = link.group(0).removeprefix("http://testserver")
    assert path == reverse("web:invitation", args=[path.split("/")[-2]])
    signed_up = newcomer.post(path, {"username": "newbie", "password": "a-long-pass-phrase-42"})
    assert signed_up.status_code == 302
    access = CommunityAccess.objects.get(user__username="newbie", community=community)
    assert access.role == AccessRole.OPERATOR
    assert newcomer.get(url("community", community)).status_code == 200
    assert newcomer.get(path).status_code == 404  # used up

    log = founder_client.get(url("manage_audit", community), {"action": "access"}).content
    assert "accepted an invitation" in log.decode()


def test_a_founder_changes_a_role_and_removes_access(client_as, make_account, community):
    client = client_as(community, "founder")
    ann = make_account("ann", community, "viewer")
    access = CommunityAccess.objects.get(user=ann)

    page = client.get(url("manage_access", community)).content.decode()
    assert "ann" in page and url("manage_access_change", community, access.pk) in page

    response = client.post(url("manage_access_change", community, access.pk), {"role": "operator"})
    assert response.status_code == 302
    access.refresh_from_db()
    assert access.role == AccessRole.OPERATOR
    assert AuditEntry.objects.filter(action="access.change", details__to="operator").exists()

    client.post(url("manage_access_change", community, access.pk), {"remove": "1"})
    assert not CommunityAccess.objects.filter(pk=access.pk).exists()
    assert AuditEntry.objects.filter(action="access.revoke", details__user="ann").exists()
    log = client.get(url("manage_audit", community)).content.decode()
    assert "removed access" in log and "changed an access role" in log


def test_a_founder_withdraws_an_invitation(client_as, community):
    client = client_as(community, "founder")
    invitation, token = do_invite(community, "viewer")
    page = client.get(url("manage_access", community)).content.decode()
    assert url("manage_invitation_revoke", community, invitation.pk) in page
    client.post(url("manage_invitation_revoke", community, invitation.pk))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert Client().get(reverse("web:invitation", args=[token])).status_code == 404


def test_the_last_founder_cannot_be_removed(client_as, community):
    client = client_as(community, "founder")
    access = CommunityAccess.objects.get(community=community, role="founder")
    change = url("manage_access_change", community, access.pk)

    response = client.post(change, {"remove": "1"}, follow=True)
    assert "A community keeps at least one founder." in response.content.decode()
    response = client.post(change, {"role": "viewer"}, follow=True)
    assert "A community keeps at least one founder." in response.content.decode()

    access.refresh_from_db()
    assert access.role == AccessRole.FOUNDER
    assert not AuditEntry.objects.filter(action__in=["access.revoke", "access.change"]).exists()


def test_operators_read_the_access_list_and_viewers_are_refused(client_as, make_account, community):
    make_account("boss", community, "founder")
    operator = client_as(community, "operator")
    page = operator.get(url("manage_access", community))
    assert page.status_code == 200
    assert "boss" in page.content.decode()
    access = CommunityAccess.objects.get(user__username="boss")
    assert url("manage_access_change", community, access.pk) not in page.content.decode()
    assert (
        operator.post(
            url("manage_access_change", community, access.pk), {"remove": "1"}
        ).status_code
        == 403
    )
    assert operator.post(url("manage_invite", community), {"role": "founder"}).status_code == 403
    assert not Invitation.objects.exists()

    operator.logout()
    viewer = client_as(community, "viewer")
    assert viewer.get(url("manage_access", community)).status_code == 403
    assert viewer.get(url("manage_audit", community)).status_code == 403
    assert CommunityAccess.objects.filter(user__username="boss").exists()


def test_objects_of_another_community_answer_404(
    client_as, make_account, community, other_community
):
    client = client_as(community, "founder")
    theirs = make_account("theirs", other_community, "operator")
    their_access = CommunityAccess.objects.get(user=theirs)
    their_invitation, _token = do_invite(other_community, "viewer")

    assert (
        client.post(
            url("manage_access_change", community, their_access.pk), {"remove": "1"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            url("manage_access_change", community, their_access.pk), {"role": "viewer"}
        ).status_code
        == 404
    )
    assert (
        client.post(url("manage_invitation_revoke", community, their_invitation.pk)).status_code
        == 404
    )
    their_access.refresh_from_db()
    their_invitation.refresh_from_db()
    assert their_access.role == "operator" and their_invitation.revoked_at is None
    # And another community's settings pages are not found at all.
    for name in ("manage", "manage_profile", "manage_access", "manage_audit"):
        assert client.get(url(name, other_community)).status_code == 404
    assert client.post(url("manage_profile", other_community), PROFILE).status_code == 404
    other_community.refresh_from_db()
    assert other_community.name == "Other club"


def test_audit_log_filters_paginates_and_shows_local_times(client_as, community, other_community):
    community.time_zone = "Asia/Shanghai"
    community.save()
    client = client_as(community, "operator")  # its access grant is recorded (by the CLI)
    operator = get_user_model().objects.get(username="operator-club")
    for i in range(55):
        record("import.run", community=community, details={"format": "chatlab", "n": i})
    record("member.merge", community=community, actor=operator, details={"reason": "same one"})
    record("something.new", community=community, details={"k": "v"})
    record("import.run", community=other_community, details={"format": "their-secret"})
    AuditEntry.objects.filter(community=community).update(
        created_at=dt.datetime(2024, 1, 1, 23, 30, tzinfo=dt.UTC)
    )

    first = client.get(url("manage_audit", community)).content.decode()
    assert "59 entries" in first  # with the community's creation and the operator's grant
    assert "Page 1 of 2" in first
    assert "something.new" in first and "k: v" in first  # unknown actions are shown raw
    assert "2024-01-02 07:30" in first  # Shanghai time
    assert "their-secret" not in first

    merges = client.get(url("manage_audit", community), {"action": "member"}).content.decode()
    assert "1 entry" in merges and "reason: same one" in merges

    second = client.get(url("manage_audit", community), {"action": "import", "page": 2})
    assert second.status_code == 200
    assert "55 entries" in second.content.decode() and "Page 2 of 2" in second.content.decode()

    by_account = client.get(url("manage_audit", community), {"actor": "operator-club"})
    assert "1 entry" in by_account.content.decode()
    assert "merged two members" in by_account.content.decode()
    # An unknown filter value is ignored rather than failing.
    assert client.get(url("manage_audit", community), {"action": "nonsense"}).status_code == 200


def test_csrf_is_enforced_on_the_profile_form(make_account, community):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_account("ann", community, "founder"))
    response = client.post(url("manage_profile", community), PROFILE)
    assert response.status_code == 403
    community.refresh_from_db()
    assert community.name == "Club"

    page = client.get(url("manage_profile", community))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    response = client.post(
        url("manage_profile", community), {**PROFILE, "csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code == 302
    community.refresh_from_db()
    assert community.name == "Club Deluxe"
