"""Nothing lost, nothing twice, with real parts: a worker killed mid-burst, a mail
server down for longer than any retry budget, a broker down while people work.

Real Redis, real Celery workers (a separate process group where one is killed),
a real SMTP server (aiosmtpd). The waiting below is only for the asynchronous
workers.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import kombu.pools
import pytest
import redis
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from meetings import notifications, services
from meetings.models import DeliveryPause, Notification
from meetings.notifications import outbox
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda
from tests.integration.conftest import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
State = Notification.State


def always_working(team, **fields):
    user = UserFactory(
        work_days=0b1111111, work_start=clock(0, 0), work_end=clock(23, 59, 59), **fields
    )
    MembershipFactory(user=user, team=team)
    return user


def agenda_for(team, attendees: int):
    """A meeting of `attendees` people (and its organizer) with an agenda ready to send."""
    organizer = always_working(team, time_zone="Europe/Berlin")
    people = [always_working(team) for _ in range(attendees)]
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=people, now=now)
    ready_agenda(meeting, by=organizer)
    return meeting, organizer, [organizer, *people]


def copies_per_recipient(sink) -> collections.Counter:
    with sink.lock:
        return collections.Counter(m["To"] for m in sink.messages)


def worker_env(settings, sink, **extra) -> dict[str, str]:
    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_URL": f"smtp://{sink.host}:{sink.port}",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker_group(env: dict[str, str], concurrency: int) -> subprocess.Popen:
    """A prefork worker (main process and pool children) in a process group of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
         f"--concurrency={concurrency}", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip


def stop_group(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def test_a_worker_group_killed_mid_burst_resends_at_most_one_message_per_process(
    clean_broker, smtp_sink, settings, team
):
    meeting, organizer, everyone = agenda_for(team, attendees=199)
    concurrency = 2

    def slow(message) -> None:
        time.sleep(0.02)  # a real server takes a moment per message

    smtp_sink.before_reply = slow
    env = worker_env(settings, smtp_sink)
    worker = start_worker_group(env, concurrency)
    try:
        services.send_agenda(meeting=meeting, by=organizer, now=timezone.now())
        wait_for(lambda: len(smtp_sink.messages) >= 40, what="40 messages")
        # SIGKILL to the whole group: the main process and every pool process.
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        arrived_before = len(smtp_sink.messages)
        assert arrived_before < 200, "the burst finished before the kill; slow the sink down"
        worker = start_worker_group(env, concurrency)
        # The killed tasks are gone; the re-drive queues their rows once the
        # lease is over (here: asked as of after it).
        step = outbox.outbox_lease() + timedelta(seconds=1)
        clock = timezone.now() + step
        assert notifications.dispatch_ready(now=clock) > 0
        # Beat re-drives every few minutes: a row the new worker skipped because a
        # killed process's lock had not yet been released by PostgreSQL is queued
        # again after its lease, as in production (the clock moves a lease a turn).
        last = time.monotonic()

        def all_sent() -> bool:
            nonlocal clock, last
            if time.monotonic() - last > 5:
                clock += step
                notifications.dispatch_ready(now=clock)
                last = time.monotonic()
            return Notification.objects.filter(state=State.SENT).count() == len(everyone)

        wait_for(all_sent, timeout=120, what="every row sent")
    finally:
        stop_group(worker)
    copies = copies_per_recipient(smtp_sink)
    assert set(copies) == {u.email for u in everyone}  # nobody missed it
    duplicates = sum(copies.values()) - len(everyone)
    assert duplicates <= concurrency, copies.most_common(5)
    by_recipient = collections.defaultdict(set)
    with smtp_sink.lock:
        for message in smtp_sink.messages:
            by_recipient[message["To"]].add(message["Message-ID"])
    # A copy carries the same Message-ID as the first, so it can be dropped on arrival.
    assert all(len(ids) == 1 for ids in by_recipient.values())


def test_smtp_server_down_longer_than_any_retry_budget_loses_nothing(
    celery_worker, smtp_sink, fast_retries, team
):
    meeting, organizer, everyone = agenda_for(team, attendees=5)
    controller_port = smtp_sink.port
    # The server goes away (connections refused) before the agenda goes out.
    smtp_sink.controller.stop()
    services.send_agenda(meeting=meeting, by=organizer, now=timezone.now())
    wait_for(lambda: DeliveryPause.objects.filter(until__isnull=False).exists())
    # Longer than ten retries at the capped interval (the old budget): 12 s.
    time.sleep(12)
    assert Notification.objects.filter(state=State.PENDING).count() == len(everyone)
    probes = DeliveryPause.objects.get().failures
    assert probes >= 5  # it kept probing
    smtp_sink.controller = Controller(smtp_sink, hostname=smtp_sink.host, port=controller_port)
    smtp_sink.controller.start()
    wait_for(
        lambda: Notification.objects.filter(state=State.SENT).count() == len(everyone),
        timeout=60,
        what="every row sent after the outage",
    )
    copies = copies_per_recipient(smtp_sink)
    assert copies == collections.Counter({u.email: 1 for u in everyone})
    assert DeliveryPause.objects.get().until is None
    attempts = list(Notification.objects.values_list("attempts", flat=True))
    # Each probe spent one attempt of one row; the others waited without spending any.
    failed_attempts = sum(a - 1 for a in attempts)
    assert failed_attempts <= probes + 1 < len(everyone) * probes


@pytest.fixture
def private_redis():
    """A redis-server of this test's own (never the shared one), on a free port, that
    the test can stop and start; Celery and the settings point at it meanwhile."""
    from django.conf import settings as django_settings

    from config.celery import app

    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"]  # fmt: skip

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process: subprocess.Popen | None = None

        def start(self) -> None:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            wait_for(lambda: self.ping(), timeout=10, what="the private redis")

        def stop(self) -> None:
            if self.process is not None:
                self.process.terminate()
                self.process.wait(10)
                self.process = None

        def ping(self) -> bool:
            try:
                return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
            except redis.RedisError:
                return False

    def point_celery_at(url: str) -> None:
        # Celery reads the URL from the environment first, and keeps its connection
        # and producer pools once made: drop them so the next publish uses `url`,
        # as Celery itself does after a fork (kombu's global pools too, or a later
        # publish acquires from the pool closed here: "Acquire on closed pool").
        os.environ["CELERY_BROKER_URL"] = django_settings.CELERY_BROKER_URL = url
        app.conf.update(broker_url=url)
        app.pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    server = Server()
    server.start()
    saved = django_settings.CELERY_BROKER_URL
    point_celery_at(server.url)
    try:
        yield server
    finally:
        server.stop()
        point_celery_at(saved)


def test_broker_down_the_web_and_the_sweep_keep_working_and_nothing_is_lost(
    private_redis, smtp_sink, team, client
):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from tests.integration.conftest import worker_connections_closed

    meeting, organizer, everyone = agenda_for(team, attendees=3)
    due = MeetingFactory(
        team=team, organizer=organizer, now=timezone.now(),
        starts_at=timezone.now() + timedelta(hours=23, minutes=50),
    )  # fmt: skip
    private_redis.stop()
    # The web: sending the agenda through the page commits and answers normally.
    client.force_login(organizer)
    response = client.post(f"/meetings/{meeting.pk}/agenda/send/")
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.agenda_sent_at is not None
    # The sweep: queues the due meeting's reminder in the database, raises nothing.
    result = notifications.sweep(now=timezone.now())
    assert result.queued == 1
    pending = Notification.objects.filter(state=State.PENDING)
    assert pending.count() == len(everyone) + 1
    # Nothing went anywhere, and nothing is waiting out a lease for a task that
    # was never queued: the re-drive takes all of them once the broker is back.
    assert not pending.filter(send_after__gt=timezone.now()).exists()
    private_redis.start()
    with (
        worker_connections_closed(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20),
    ):
        with transaction.atomic():
            assert notifications.dispatch_ready(now=timezone.now()) == len(everyone) + 1
        wait_for(
            lambda: Notification.objects.filter(state=State.SENT).count() == len(everyone) + 1,
            timeout=60,
            what="everything queued in the database delivered",
        )
    copies = copies_per_recipient(smtp_sink)
    assert copies[organizer.email] == 2  # the agenda and the due reminder, each once
    assert all(copies[u.email] == 1 for u in everyone[1:])
    assert due.notifications.get().state == State.SENT
