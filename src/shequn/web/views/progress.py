"""A member's own progress page: a private link an operator gives to that member.

Members have no accounts; the link carries a signature of the member's id, so it opens that
member's page only, without a login, and cannot be guessed or altered. Rotating the secret key
(SHEQUN_SECRET_KEY) invalidates every link.
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from shequn.members.models import Member
from shequn.rewards.selectors import member_level, points_history
from shequn.tiers.reasons import tier_label
from shequn.tiers.selectors import member_progress, member_tier

SALT = "shequn.member-progress"
RECENT_ENTRIES = 10


def progress_token(member: Member) -> str:
    return signing.dumps({"m": member.pk, "c": member.community_id}, salt=SALT, compress=True)


def progress_url(member: Member) -> str:
    return reverse("web:member_progress", args=[progress_token(member)])


def _member_for(token: str) -> Member | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return (
        Member.objects.select_related("community")
        .filter(pk=data.get("m"), community_id=data.get("c"))
        .first()
    )


@never_cache
def member_progress_page(request: HttpRequest, token: str) -> HttpResponse:
    member = _member_for(token)
    if member is None:
        raise Http404
    state = member_tier(member)
    progress = member_progress(member)
    response = render(
        request,
        "web/progress.html",
        {
            "member": member,
            "community_name": member.community.name,
            "mission": member.community.mission,
            "tier": state,
            "progress": progress,
            "next_tier_label": (
                tier_label(progress["next_tier"]) if progress.get("next_tier") else ""
            ),
            "level": member_level(member),
            "entries": points_history(member, limit=RECENT_ENTRIES),
        },
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
