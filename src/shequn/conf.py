"""Where shequn keeps its files, and the secrets it must generate rather than ship.

Kept free of Django imports so the settings module and the CLI can both use it before
Django is configured.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def data_dir() -> Path:
    """The per-user data directory; ``SHEQUN_DATA_DIR`` overrides it."""
    configured = os.environ.get("SHEQUN_DATA_DIR")
    path = (
        Path(configured).expanduser()
        if configured
        else Path(platformdirs.user_data_dir("shequn", appauthor=False))
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'shequn.sqlite3'}"


def secret_key() -> str:
    """``SHEQUN_SECRET_KEY`` if set, else a key generated on first run and kept in the data dir.

    Never a hard-coded key: every installation signs sessions with its own.
    """
    configured = os.environ.get("SHEQUN_SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir() / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(50)
    # Create with owner-only permissions; O_EXCL makes concurrent first runs agree on one key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
