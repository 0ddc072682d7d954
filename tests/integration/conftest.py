"""Real parts for integration tests: a Redis broker, a Celery worker, an SMTP server.

The worker runs in a thread of the test process (celery.contrib.testing), so it
sees the test database; tests using it need `transaction=True` so that what they
write is committed and visible to the worker's own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from config.celery import app as celery_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpSink:
    """Records accepted messages; `replies` scripts answers to DATA (e.g. 451, 550)."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[email.message.Message] = field(default_factory=list)
    attempts: int = 0
    replies: list[str] = field(default_factory=list)
    # Called with each message before replying; may block (to simulate a slow server).
    before_reply: Callable[[email.message.Message], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The running server; a test may stop it and start another on the same port.
    controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.attempts += 1
            reply = self.replies.pop(0) if self.replies else "250 Message accepted"
        if self.before_reply is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.before_reply, message)
        if reply.startswith("250"):
            with self.lock:
                self.messages.append(message)
        return reply

    def ids(self) -> list[str]:
        with self.lock:
            return [m["X-Bookend-Notification"] for m in self.messages]

    def subjects_to(self, address: str) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_sink(settings):
    sink = SmtpSink(port=free_port())
    sink.controller = Controller(sink, hostname=sink.host, port=sink.port)
    sink.controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": sink.host, "port": sink.port, "timeout": 5},
        }
    }
    try:
        yield sink
    finally:
        with contextlib.suppress(Exception):  # a test may have stopped it already
            sink.controller.stop()


@pytest.fixture
def clean_broker():
    """An empty Redis db for the test's broker (each helper has its own db number)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def fast_retries(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0.2
    settings.OUTBOX_RETRY_MAX_SECONDS = 1


@pytest.fixture
def celery_worker(clean_broker, smtp_sink, transactional_db):
    """A real worker consuming the real Redis broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    import meetings.tasks  # noqa: F401 - registers the tasks

    with (
        worker_connections_closed(),
        start_worker(
            celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20
        ) as worker,
    ):
        yield worker


@contextlib.contextmanager
def worker_connections_closed():
    """The worker thread's database connection closes after every task (as with
    CONN_MAX_AGE=0), so no idle connection outlives the test and blocks the flush
    or the test database's removal."""
    db = connections.settings[DEFAULT_DB_ALIAS]
    saved = db.get("CONN_MAX_AGE", 0)
    db["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        db["CONN_MAX_AGE"] = saved


def wait_for(condition: Callable[[], bool], *, timeout: float = 60, what: str = "") -> None:
    """Poll until `condition()` holds; the worker runs asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


@pytest.fixture
def receiver():
    """A local webhook receiver (tests/integration/receiver.py), scripted per request."""
    from tests.integration.receiver import Receiver

    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()
