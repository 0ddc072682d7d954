"""Links in emails use SITE_URL, never a process's own PORT."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def site_url(**env: str) -> str:
    clean = {"PATH": os.environ["PATH"], "BOOKEND_VAR_DIR": "/tmp/bookend-settings-test"}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
        "django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_process_port_never_becomes_the_site_address():
    # honcho gives the worker PORT=5100: its links must still reach the web process.
    assert site_url(DEBUG="1", PORT="5100") == "http://localhost:8000"


def test_development_default_port_is_8000():
    assert site_url(DEBUG="1") == "http://localhost:8000"


def test_explicit_site_url_wins_over_the_port():
    assert site_url(DEBUG="1", PORT="8790", SITE_URL="https://b.example.com/") == (
        "https://b.example.com"
    )


def test_production_ignores_a_platform_port():
    # Behind a proxy PORT is the container's, never the public address.
    secret = "a-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"
    assert site_url(SECRET_KEY=secret, PORT="5000") == "http://localhost:8000"
