"""The single place that writes audit entries, so every action records them the same way."""

from __future__ import annotations

import getpass
from typing import Any

from shequn.audit.models import AuditEntry


def cli_actor_label() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def record(
    action: str,
    *,
    community: Any = None,
    actor: Any = None,
    target: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one change; call inside the transaction that makes the change."""
    label = getattr(actor, "get_username", lambda: "")() if actor is not None else cli_actor_label()
    return AuditEntry.objects.create(
        community=community,
        actor=actor,
        actor_label=label,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
    )
