"""Settings for the test run: the real settings, with a throw-away data directory."""

import os
import tempfile

os.environ.setdefault("SHEQUN_DATA_DIR", tempfile.mkdtemp(prefix="shequn-test-"))

from shequn.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405  (WhiteNoise warns about a missing folder)
