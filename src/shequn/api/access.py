"""The API's view of per-community access: the same rules as the web app."""

from __future__ import annotations

from django.http import HttpRequest

from shequn.accounts.models import AccessRole
from shequn.accounts.selectors import community_for
from shequn.communities.models import Community


def community_or_404(
    request: HttpRequest, slug: str, minimum: AccessRole = AccessRole.VIEWER
) -> Community:
    """Raises NoAccess (answered 404) or RoleTooLow (answered 403), see errors.install."""
    community, _role = community_for(request.user, slug, minimum)
    return community
