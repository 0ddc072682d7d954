"""docker-compose.yml cannot run here (no Docker engine), so check its wiring."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = [name for name, spec in SERVICES.items() if spec.get("image") == "bookend:latest"]


def settings_env_names() -> set[str]:
    """Every environment variable config/settings.py reads."""
    source = (ROOT / "config" / "settings.py").read_text()
    readers = r"os\.environ\.get|env_bool|env_int|env_list|env\.(?:db|email|cache)_url"
    pattern = rf'(?:{readers})\(\s*"(\w+)"'
    return set(re.findall(pattern, source))


def test_compose_has_every_service_with_health_checks():
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(SERVICES)
    for name in ("postgres", "redis", "web", "mailpit", "worker"):
        assert "healthcheck" in SERVICES[name], name
    assert SERVICES["mailpit"]["ports"] == ["8025:8025"]


def test_app_services_run_modules_that_exist():
    commands = {name: SERVICES[name]["command"] for name in APP_SERVICES}
    assert set(commands) >= {"web", "worker", "beat", "migrate"}
    wsgi_module, _, attribute = commands["web"][1].partition(":")
    assert commands["web"][0] == "gunicorn"
    assert callable(getattr(importlib.import_module(wsgi_module), attribute))
    for name in ("worker", "beat"):
        command = commands[name]
        assert command[:2] == ["celery", "-A"]
        app_module = importlib.import_module(command[2])
        assert app_module.celery_app.main == "bookend"
        assert command[3] == name
    assert commands["migrate"][:2] == ["python", "manage.py"]
    assert (ROOT / "manage.py").exists()


def test_every_env_var_compose_sets_is_read_by_settings():
    read = settings_env_names()
    for name in APP_SERVICES:
        unknown = set(SERVICES[name]["environment"]) - read
        assert not unknown, f"{name} sets variables settings never read: {unknown}"


def test_compose_mail_and_broker_urls_point_at_compose_services():
    env = SERVICES["web"]["environment"]
    assert env["EMAIL_URL"] == "smtp://mailpit:1025"
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
    assert (
        env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    )


@pytest.mark.parametrize("service", ["web", "worker", "beat", "migrate"])
def test_app_services_wait_for_their_dependencies(service):
    depends = SERVICES[service]["depends_on"]
    chain = set(depends) | set(SERVICES.get("migrate", {}).get("depends_on", {}))
    assert {"postgres", "redis"} <= chain


def test_dockerfile_builds_the_project_it_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile
    assert "config.wsgi:application" in dockerfile
    assert "collectstatic" in dockerfile
