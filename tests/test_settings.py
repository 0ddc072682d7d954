"""Settings come from the environment and refuse bad values at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import config.settings in a fresh interpreter with exactly this environment."""
    clean = {"PATH": os.environ["PATH"], "BOOKEND_VAR_DIR": "/tmp/bookend-settings-test"}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.MAILERS['default']['BACKEND'], s.CACHES['default']['BACKEND'], s.TIME_ZONE, "
        "s.USE_TZ, s.ALLOWED_HOSTS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_the_embedded_setup():
    result = load_settings(SECRET_KEY=SECRET)
    assert result.returncode == 0, result.stderr
    debug, engine, broker, mailer, cache, tz, use_tz, hosts = result.stdout.split(" ", 7)
    assert debug == "False"
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert mailer == "config.devmail.EmailBackend"
    assert cache == "django.core.cache.backends.locmem.LocMemCache"
    assert (tz, use_tz, hosts.strip()) == ("UTC", "True", "[]")


def test_environment_selects_postgres_redis_and_smtp():
    result = load_settings(
        SECRET_KEY=SECRET,
        DATABASE_URL="postgres://u:p@db.internal:5432/bookend",
        CELERY_BROKER_URL="redis://cache.internal:6379/2",
        EMAIL_URL="smtp://mail.internal:1025",
        CACHE_URL="redis://cache.internal:6379/1",
        ALLOWED_HOSTS="a.example.com, b.example.com",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "django.db.backends.postgresql" in out
    assert "redis://cache.internal:6379/2" in out
    assert "smtp.EmailBackend" in out
    assert "django.core.cache.backends.redis.RedisCache" in out
    assert "['a.example.com', 'b.example.com']" in out


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set when DEBUG is off"),
        ({"SECRET_KEY": SECRET, "DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"SECRET_KEY": SECRET, "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"SECRET_KEY": SECRET, "DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"SECRET_KEY": SECRET, "CELERY_BROKER_URL": "amqp://x"}, "CELERY_BROKER_URL"),
        ({"SECRET_KEY": SECRET, "REMINDER_SWEEP_SECONDS": "often"}, "not a whole number"),
        ({"SECRET_KEY": SECRET, "REMINDER_SWEEP_SECONDS": "0"}, "must be at least 1"),
        ({"SECRET_KEY": SECRET, "SITE_URL": "bookend.example.com"}, "SITE_URL"),
        ({"SECRET_KEY": SECRET, "CACHE_URL": "nonsense"}, "CACHE_URL"),
        ({"SECRET_KEY": SECRET, "PASSWORD_RESETS_PER_ADDRESS": "0"}, "must be at least 1"),
    ],
)
def test_bad_values_stop_start_up_with_a_clear_message(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def production_env(tmp_path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "BOOKEND_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "bookend.example.com",
        "SITE_URL": "https://bookend.example.com",
        "EMAIL_URL": "smtp://mail.example.com:587",
    }


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_like_environment_passes_check_deploy(tmp_path):
    env = production_env(tmp_path)
    collected = run("manage.py", "collectstatic", "--noinput", "-v0", env=env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_email_would_not_be_sent(tmp_path):
    env = production_env(tmp_path)
    del env["EMAIL_URL"]
    assert run("manage.py", "collectstatic", "--noinput", "-v0", env=env).returncode == 0
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "bookend.W001" in result.stderr and "EMAIL_URL" in result.stderr


def test_check_deploy_warns_when_integrations_may_post_to_this_machine(tmp_path):
    env = production_env(tmp_path) | {"INTEGRATIONS_ALLOW_LOOPBACK": "1"}
    assert run("manage.py", "collectstatic", "--noinput", "-v0", env=env).returncode == 0
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "bookend.W002" in result.stderr


def test_without_collected_static_files_start_up_stops_with_the_fix_in_the_message(tmp_path):
    env = production_env(tmp_path)  # DEBUG off, nothing collected into STATIC_ROOT
    checked = run("manage.py", "check", "--deploy", env=env)
    assert checked.returncode != 0
    assert "bookend.E001" in checked.stderr
    assert "collectstatic --noinput" in checked.stderr
    # gunicorn runs no checks: importing the WSGI application refuses instead.
    served = run("-c", "import config.wsgi", env=env)
    assert served.returncode != 0
    assert "ImproperlyConfigured" in served.stderr and "collectstatic" in served.stderr
    # Collected, both start.
    assert run("manage.py", "collectstatic", "--noinput", "-v0", env=env).returncode == 0
    assert run("-c", "import config.wsgi", env=env).returncode == 0
