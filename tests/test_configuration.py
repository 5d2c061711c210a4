from __future__ import annotations

import os
import stat

import pytest

from shequn import conf


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEQUN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHEQUN_SECRET_KEY", raising=False)
    return tmp_path / "data"


def test_secret_key_is_generated_once_kept_private_and_reused(data_dir):
    first = conf.secret_key()
    second = conf.secret_key()
    assert first == second
    assert len(first) >= 50
    key_file = data_dir / "secret_key"
    assert key_file.read_text() == first
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_each_installation_gets_its_own_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SHEQUN_SECRET_KEY", raising=False)
    monkeypatch.setenv("SHEQUN_DATA_DIR", str(tmp_path / "one"))
    one = conf.secret_key()
    monkeypatch.setenv("SHEQUN_DATA_DIR", str(tmp_path / "two"))
    assert conf.secret_key() != one


def test_secret_key_from_environment_wins(data_dir, monkeypatch):
    monkeypatch.setenv("SHEQUN_SECRET_KEY", "from-env")
    assert conf.secret_key() == "from-env"
    assert not (data_dir / "secret_key").exists()


def test_default_database_is_sqlite_in_the_data_dir(data_dir):
    assert conf.default_database_url() == f"sqlite:///{data_dir / 'shequn.sqlite3'}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("1", True),
        ("yes", True),
        ("TRUE", True),
    ],
)
def test_debug_flag_is_off_unless_asked(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("SHEQUN_DEBUG", raising=False)
    else:
        monkeypatch.setenv("SHEQUN_DEBUG", value)
    assert conf.env_flag("SHEQUN_DEBUG") is expected


def test_settings_are_time_zone_aware():
    from django.conf import settings

    assert settings.USE_TZ is True
