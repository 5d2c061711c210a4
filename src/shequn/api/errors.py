"""Errors as RFC 9457 problem details (application/problem+json), the same shape everywhere."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from shequn.accounts.selectors import NoAccess, RoleTooLow

PROBLEM = "application/problem+json"


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM
    return response


def _plain(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors without the offending input echoed back (it may be huge or binary)."""
    return [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in errors
    ]


def install(api: NinjaAPI) -> None:
    @api.exception_handler(Http404)
    @api.exception_handler(NoAccess)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(api, request, 404, _("Not found"))

    @api.exception_handler(RoleTooLow)
    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(
            api,
            request,
            403,
            _("Not allowed"),
            _("Your role in this community does not allow this."),
        )

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
        response = problem(
            api,
            request,
            401,
            _("Not signed in"),
            _("Send an API token as 'Authorization: Bearer <token>'."),
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return problem(api, request, 422, _("Invalid request"), errors=_plain(list(exc.errors)))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(api, request, exc.status_code, str(exc))
