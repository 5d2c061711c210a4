"""Per-community access for views: every community URL goes through ``community_view``.

An account without access to a community gets 404 (not 403), so nobody learns which
communities exist; an account whose role is too low for a change gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import NoAccess, RoleTooLow, community_for

View = Callable[..., HttpResponse]


def community_view(minimum: AccessRole = AccessRole.VIEWER) -> Callable[[View], View]:
    """Resolve the URL's ``slug`` to ``request.community`` (and ``request.access_role``)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                community, role = community_for(request.user, slug, minimum)
            except NoAccess:
                raise Http404 from None
            except RoleTooLow:
                raise PermissionDenied from None
            request.community = community
            request.access_role = role
            return view(request, *args, **kwargs)

        wrapper.community_minimum_role = minimum  # the URL-walking test reads this
        return wrapper

    return decorate
