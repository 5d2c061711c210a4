"""Operator accounts (Django auth users)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from shequn.audit import services as audit


@transaction.atomic
def ensure_first_operator(*, username: str, email: str, password: str) -> bool:
    """Create the first (administrator) operator unless one exists; True when created."""
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return False
    try:
        validate_password(password, user_model(username=username, email=email))
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from None
    user = user_model.objects.create_superuser(username=username, email=email, password=password)
    audit.record("account.create_first_operator", target=user, details={"username": username})
    return True


@transaction.atomic
def set_demo_operator(*, username: str, password: str) -> None:
    """The demo's login: created or reset, an administrator so the admin UI shows everything."""
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
