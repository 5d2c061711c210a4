"""Schemathesis drives every endpoint with inputs generated from the API's own OpenAPI schema:
whatever it sends, the API must never answer 500, and what it answers must match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from shequn.accounts.services import do_create_token, do_grant_access
from shequn.communities.services import do_create_community
from shequn.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schemathesis.serializer("application/toml")
def toml_body(ctx, value) -> bytes:
    """Rules files are sent as text: whatever string was generated, as UTF-8."""
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI app is called directly (not through Django's test client), so its request
    signals would close the test's database connection, in the middle of its transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(django_user_model) -> dict[str, str]:
    user = django_user_model.objects.create_user(username="robot", password="x-very-long-pass")
    community = do_create_community(slug="club", name="Club")
    do_grant_access(community, user, "operator")
    _token, key = do_create_token(user, "schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_fails_on_generated_input(case, bearer):
    # Every default check but one: an empty file part counts as "no file" for Django (422),
    # which OpenAPI's binary type cannot express, so schema-valid empty uploads are refused.
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])
