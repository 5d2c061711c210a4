"""The REST API, /api/v1 (Django Ninja): one router per resource in ``routers/``.

Every endpoint needs an API token (``Authorization: Bearer …``) or the web app's session, and
sees only the communities the account has access to: another community's objects answer 404,
exactly as in the web app. Errors are problem details (RFC 9457).
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from shequn.api import errors
from shequn.api.auth import AUTH
from shequn.api.routers import (
    activities,
    charter,
    commerce,
    communities,
    culture,
    diagnoses,
    events,
    exchange,
    imports,
    members,
    points,
    tiers,
    tokens,
)

ERROR_STATUSES = {
    "400": "The request body cannot be parsed.",
    "401": "Not signed in: no valid API token or session.",
    "403": "Your role in this community does not allow this.",
    "404": "No such object, or not in a community you can see.",
    "422": "The request's parameters or body are invalid.",
}


class ShequnAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Document the problem-details errors every operation may answer, with their media
        type, so clients (and schemathesis) know every status and body they can get."""
        schema = super().get_openapi_schema(*args, **kwargs)
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        schema["components"].setdefault("schemas", {})["Problem"] = (
            errors.Problem.model_json_schema()
        )
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses[status] = {
                        "description": description,
                        "content": {errors.PROBLEM: problem},
                    }
        return schema


api = ShequnAPI(
    title="shequn API",
    version="1",
    urls_namespace="api",
    auth=AUTH,
    description=(
        "Communities, members, identities, events, imports, tiers, points, activities, rituals "
        "and diagnoses of the communities your account can see. Authenticate with an API token: "
        "`Authorization: Bearer <token>`."
    ),
)
errors.install(api)
for module in (
    communities,
    members,
    events,
    imports,
    tokens,
    tiers,
    points,
    activities,
    diagnoses,
    culture,
    charter,
    exchange,
    commerce,
):
    api.add_router("", module.router)
