"""The public form (no login): anyone with the community's link posts a need or an offer, with
a name and a contact; it waits for an operator's approval.

The link's token is the permission: an operator turns the form on (a new token) and off
(the link answers "not found"). Against spam: a honeypot field that people never see (a
submission that fills it in is thanked and dropped) and a per-address throttle kept in the
cache (``SUBMISSIONS_PER_HOUR`` accepted submissions per address and hour, then 429).
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from shequn.exchange.selectors import settings_for_token
from shequn.exchange.services import ExchangeError, do_submit_public_post
from shequn.web.exchange.forms import PublicPostForm

SUBMISSIONS_PER_HOUR = 5
THROTTLE_SECONDS = 3600


def _address(request: HttpRequest) -> str:
    """The client's address as the server saw it (a proxy's forwarded header can be forged,
    so it is not trusted here)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _throttle_key(request: HttpRequest) -> str:
    return f"shequn:exchange-public:{_address(request)}"


def _throttled(request: HttpRequest) -> bool:
    return int(cache.get(_throttle_key(request), 0)) >= SUBMISSIONS_PER_HOUR


def _count(request: HttpRequest) -> None:
    key = _throttle_key(request)
    if not cache.add(key, 1, THROTTLE_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, THROTTLE_SECONDS)


def _private(response: HttpResponse) -> HttpResponse:
    """Keep the token-bearing page out of search engines and its address from other sites."""
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
def public_post(request: HttpRequest, token: str) -> HttpResponse:
    settings = settings_for_token(token)
    if settings is None:
        raise Http404
    community = settings.community
    form = PublicPostForm()
    status = 200
    sent = request.GET.get("sent") == "1"
    if request.method == "POST":
        form = PublicPostForm(request.POST)
        if _throttled(request):
            form.add_error(
                None,
                _("Too many submissions from your address: please try again in an hour."),
            )
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            _count(request)
            if data["website"]:  # the honeypot: a robot filled in the field nobody sees
                return redirect(f"{request.path}?sent=1")
            try:
                do_submit_public_post(
                    community,
                    {
                        "kind": data["kind"],
                        "title": data["title"],
                        "description": data["description"],
                        "tags": data["tags"],
                    },
                    name=data["name"],
                    contact=data["contact"],
                )
            except ExchangeError as exc:
                form.add_problems(exc)
                status = 400
            else:
                return redirect(f"{request.path}?sent=1")
        else:
            status = 400
    context = {"community_name": community.name, "form": form, "sent": sent}
    return _private(render(request, "web/exchange/public.html", context, status=status))
