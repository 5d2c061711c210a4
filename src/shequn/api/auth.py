"""API authentication: a bearer token (programs) or the web app's session (its own pages)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from shequn.accounts.services import authenticate_token


class TokenAuth(HttpBearer):
    openapi_description = "An API token created on the account's 'API tokens' page."

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = authenticate_token(token)
        if user is not None:
            request.user = user  # selectors and services read the account from the request
        return user


AUTH = [TokenAuth(), SessionAuth()]
