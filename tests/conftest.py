"""Shared fixtures. The suite runs against the real PostgreSQL and Redis.

If either is unreachable the run fails at once (never skips): a green run must
mean the constraints, locks and broker were really exercised.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    ready_agenda,
)


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "The test suite needs PostgreSQL: set DATABASE_URL=postgres://... (make test does)."
        )
    # Under pytest-xdist each process gets its own Redis database (as it gets its
    # own test database), so one process's worker never takes another's tasks.
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if xdist_worker.startswith("gw") and settings.CELERY_BROKER_URL.startswith("redis"):
        from config.celery import app as celery_app

        db = int(xdist_worker[2:]) + 1
        url = re.sub(r"(/\d+)?$", f"/{db}", settings.CELERY_BROKER_URL, count=1)
        # Celery reads CELERY_BROKER_URL from the environment before its settings.
        os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL = url
        celery_app.conf.update(broker_url=url)


@pytest.fixture(scope="session", autouse=True)
def _services_are_up() -> None:
    """Fail the whole run when PostgreSQL or Redis does not answer."""
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg.Error as exc:
        pytest.exit(f"PostgreSQL at {db['HOST']}:{db['PORT']} is unreachable: {exc}", 2)
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        pytest.exit(f"CELERY_BROKER_URL must be a Redis URL for tests, got {broker!r}", 2)
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis at {broker} is unreachable: {exc}", 2)


@pytest.fixture(autouse=True)
def _test_settings(settings) -> None:
    # Tests talk plain HTTP to the test client; production settings redirect to HTTPS.
    settings.SECURE_SSL_REDIRECT = False
    settings.AXES_ENABLED = False
    # Fast hashing: the suite creates many users; the real hasher is tested in accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Webhook and chat tests post to a local receiver; production refuses loopback.
    settings.INTEGRATIONS_ALLOW_LOOPBACK = True
    # Counters (password-reset limits) start from zero in every test.
    cache.clear()


@pytest.fixture
def now() -> datetime:
    """A fixed "now" for tests that pass time explicitly."""
    return datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def organizer(team):
    user = UserFactory(time_zone="Europe/Berlin")
    MembershipFactory(user=user, team=team, role="member")
    return user


@pytest.fixture
def member(team):
    user = UserFactory(time_zone="Asia/Kolkata")
    MembershipFactory(user=user, team=team, role="member")
    return user


@pytest.fixture
def team_admin(team):
    user = UserFactory(time_zone="America/New_York")
    MembershipFactory(user=user, team=team, role="admin")
    return user


@pytest.fixture
def outsider(db):
    user = UserFactory()
    MembershipFactory(user=user)  # a member of some other team
    return user


@pytest.fixture
def meeting(team, organizer, member, now):
    return MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)


# -- Meeting pages (views and browser tests): times relative to the real clock,
# because views read timezone.now().


@pytest.fixture
def htmx() -> dict[str, str]:
    """Headers of an htmx request, for the fragment half of every form test."""
    return {"HX-Request": "true"}


@pytest.fixture
def upcoming(team, organizer, member):
    """A draft meeting starting in two days: organizer (Berlin) and member (Kolkata)."""
    return MeetingFactory(team=team, organizer=organizer, attendees=[member], now=timezone.now())


@pytest.fixture
def ended(team, organizer, member):
    """A meeting whose agenda was sent in time and that ended an hour ago."""
    real_now = timezone.now()
    starts = real_now - timedelta(hours=2)
    meeting = MeetingFactory(
        team=team,
        organizer=organizer,
        attendees=[member],
        starts_at=starts,
        now=starts - timedelta(days=2),
    )
    ready_agenda(meeting, by=organizer, items=2)
    meeting.send_agenda(by=organizer, now=starts - timedelta(days=1))
    return meeting


@pytest.fixture
def as_organizer(client, organizer):
    """The test client, logged in as the organizer."""
    client.force_login(organizer)
    return client


@pytest.fixture
def carry_over_inline(django_capture_on_commit_callbacks):
    """Run the carry-over task that publishing a series recap enqueues, in-process.

    Use as `with carry_over_inline(): services.publish_recap(...)`.
    """
    from contextlib import contextmanager
    from unittest import mock

    from meetings import tasks

    @contextmanager
    def inline():
        with (
            mock.patch.object(
                tasks.carry_over_after_recap, "delay", side_effect=tasks.carry_over_after_recap
            ),
            django_capture_on_commit_callbacks(execute=True),
        ):
            yield

    return inline
