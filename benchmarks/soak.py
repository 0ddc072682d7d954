"""Soak test: Bookend as production runs it, under faults, for minutes on end.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... \\
        .venv/bin/python -m benchmarks.soak [--seconds 600]

PostgreSQL, Redis, two Celery worker processes, Celery beat and an aiosmtpd
server. Meetings are created all along with short team policies, so that agenda
reminders, no-agenda notices, recap reminders and escalations come due while it
runs; agendas are sent and recaps published (digests to every attendee). Every
minute one worker is killed (SIGKILL to its process group) and started again;
twice the SMTP server goes away for 45 s. Then the load stops and the outbox is
drained (the re-drive asked as of after the lease, as beat would ask a few
minutes later).

Every outbox row that was not dropped as no longer needed is a message someone
must get, exactly once. The last line is

    expected=<n> delivered=<n> duplicates=<n> lost=<n>

and the run fails unless lost=0 and duplicates <= the number of kills (a killed
worker may resend the one message it had in flight, never more). It runs in a
throw-away database (DATABASE_URL's name + `_soak`) and Redis db 14, both
dropped at the end.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "soak-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
django.setup()

import logging  # noqa: E402

import redis  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BROKER_DB = 14
# Fast enough that every stage and fault happens within minutes (the settings'
# minimums where they have one).
FAST = {
    "REMINDER_SWEEP_SECONDS": "5",
    "OUTBOX_REDRIVE_SECONDS": "10",
    "OUTBOX_LEASE_SECONDS": "60",
    "OUTBOX_RETRY_BASE_SECONDS": "2",
    "OUTBOX_RETRY_MAX_SECONDS": "10",
    "EMAIL_TIMEOUT": "5",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "0",
}


class Sink:
    """An SMTP server that records what it accepts, and can go away and come back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, str]] = []  # (notification id, Message-ID)
        self.port = 0
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        import email

        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.received.append(
                (message["X-Bookend-Notification"] or "", message["Message-ID"] or "")
            )
        return "250 Message accepted"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port or free_port())
        self.controller.start()
        self.port = self.controller.port

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_for(db_name: str, broker: str, sink: Sink) -> dict[str, str]:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return {
        **os.environ,
        **FAST,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/"
        f"{db_name}",
        "CELERY_BROKER_URL": broker,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "BOOKEND_VAR_DIR": str(ROOT / "var" / "soak"),
    }


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def start_worker(env: dict[str, str], name: str) -> subprocess.Popen:
    # One pool process per worker: a kill loses at most the one message in flight.
    return start(["worker", "--pool=prefork", "--concurrency=1", "-n", f"{name}@%h",
                  "--without-gossip", "--without-mingle", "-l", "WARNING"], env)  # fmt: skip


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class Load:
    """Meetings created all along; agendas sent and recaps published on the way."""

    def __init__(self) -> None:
        from accounts.models import Membership, Team, User

        self.team = Team.objects.create(
            name="Soak", slug="soak", agenda_lead_time=timedelta(minutes=2),
            recap_grace=timedelta(minutes=2), escalate_after=timedelta(minutes=4),
        )  # fmt: skip
        self.people = [
            User.objects.create_user(
                f"person{n}@example.com", "x", display_name=f"Person {n}",
                work_days=0b1111111, work_start=clock(0, 0), work_end=clock(23, 59, 59),
            )
            for n in range(12)
        ]  # fmt: skip
        for n, user in enumerate(self.people):
            role = "admin" if n < 2 else "member"
            Membership.objects.create(user=user, team=self.team, role=role)
        self.meetings: list = []

    def step(self, rng: random.Random) -> None:
        from meetings import services
        from meetings.models import Meeting

        now = timezone.now()
        organizer, *attendees = rng.sample(self.people, rng.randint(3, 7))
        start_at = now + timedelta(minutes=rng.uniform(3, 6))
        meeting = services.create_meeting(
            team=self.team, organizer=organizer, title=f"Soak {len(self.meetings)}",
            starts_at=start_at, ends_at=start_at + timedelta(minutes=rng.uniform(1, 3)),
            time_zone="Europe/Berlin", attendees=attendees, now=now,
        )  # fmt: skip
        self.meetings.append(meeting.pk)
        if rng.random() < 0.6:
            meeting.desired_outcome = "Decide."
            meeting.save(update_fields=["desired_outcome"])
            services.add_agenda_item(meeting=meeting, title="Item", added_by=organizer)
            services.send_agenda(meeting=meeting, by=organizer, now=now)
        # Recaps for some meetings that have ended meanwhile.
        for ended in Meeting.objects.awaiting_recap(now).filter(team=self.team)[:3]:
            if rng.random() < 0.5:
                ended.recap_summary, ended.no_action_items = "Done.", True
                ended.save(update_fields=["recap_summary", "no_action_items"])
                services.publish_recap(meeting=ended, by=ended.organizer, now=now)


def drain(sink: Sink, deadline: float) -> None:
    from meetings import notifications
    from meetings.models import Notification
    from meetings.notifications.outbox import outbox_lease

    while time.monotonic() < deadline:
        pending = Notification.objects.filter(state=Notification.State.PENDING)
        if not pending.exists():
            return
        # What beat's re-drive does once the leases of lost tasks have run out
        # (a killed worker takes the tasks it had prefetched with it).
        notifications.dispatch_ready(now=timezone.now() + outbox_lease() + timedelta(seconds=1))
        time.sleep(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600, help="how long the load runs")
    args = parser.parse_args()
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        raise SystemExit("The soak test needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise SystemExit("The soak test needs Redis: set CELERY_BROKER_URL=redis://...")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # This process queues work too (the load's services, the drain): the same
    # short lease and retries as the workers and beat.
    for name in ("OUTBOX_LEASE_SECONDS", "OUTBOX_RETRY_BASE_SECONDS", "OUTBOX_RETRY_MAX_SECONDS"):
        setattr(settings, name, int(FAST[name]))
    broker = settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + f"/{BROKER_DB}"
    redis.Redis.from_url(broker).flushdb()

    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_soak"
    old_name = settings.DATABASES["default"]["NAME"]
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    sink = Sink()
    sink.start()
    env = env_for(db_name, broker, sink)
    workers = {name: start_worker(env, name) for name in ("one", "two")}
    beat = start(["beat", "-l", "WARNING", "-s", str(ROOT / "var" / "soak-beat-schedule")], env)
    # This process queues work too (services, the drain): the same broker.
    from config.celery import app

    os.environ["CELERY_BROKER_URL"] = broker
    app.conf.update(broker_url=broker)
    rng = random.Random(20261127)
    kills = outages = 0
    try:
        load = Load()
        began = time.monotonic()
        next_kill = began + 60
        outage_at = [began + args.seconds * 0.3, began + args.seconds * 0.65]
        outage_ends = 0.0
        while time.monotonic() - began < args.seconds:
            load.step(rng)
            moment = time.monotonic()
            if moment >= next_kill:
                name = rng.choice(sorted(workers))
                kill_group(workers[name])
                workers[name] = start_worker(env, name)
                kills += 1
                next_kill = moment + 60
                print(f"{moment - began:5.0f} s: killed worker {name} (kill {kills})")
            if outage_at and moment >= outage_at[0]:
                outage_at.pop(0)
                sink.stop()
                outages += 1
                outage_ends = moment + 45
                print(f"{moment - began:5.0f} s: SMTP server down (outage {outages})")
            if outage_ends and moment >= outage_ends:
                sink.start()
                outage_ends = 0.0
                print(f"{moment - began:5.0f} s: SMTP server back")
            time.sleep(rng.uniform(2, 4))
        if sink.controller is None:
            sink.start()
        # No new reminders from here on: every row queued so far must arrive.
        kill_group(beat, signal.SIGTERM)
        print(f"load stopped after {time.monotonic() - began:.0f} s; draining the outbox")
        drain(sink, time.monotonic() + 120)
        time.sleep(5)  # the last messages in flight
        report(sink, kills)
    finally:
        for process in (*workers.values(), beat):
            kill_group(process, signal.SIGTERM)
        sink.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        redis.Redis.from_url(broker).flushdb()


def report(sink: Sink, kills: int) -> None:
    from meetings.models import Notification

    rows = dict(Notification.objects.values_list("pk", "state"))
    states = collections.Counter(rows.values())
    with sink.lock:
        arrivals = collections.Counter(pk for pk, _ in sink.received)
        ids_by_row = collections.defaultdict(set)
        for pk, message_id in sink.received:
            ids_by_row[pk].add(message_id)
    expected = len(rows)
    delivered = sum(1 for pk in rows if arrivals[str(pk)])
    duplicates = sum(count - 1 for count in arrivals.values() if count > 1)
    lost = expected - delivered
    print(f"outbox rows: {dict(states)}; kills: {kills}")
    for row in Notification.objects.exclude(state=Notification.State.SENT)[:10]:
        print(f"  not sent: {row.pk} {row.kind} {row.stage} {row.state} attempts={row.attempts} "
              f"send_after={row.send_after:%H:%M:%S} error={row.last_error[:80]!r}")  # fmt: skip
    from meetings.models import DeliveryPause

    print(f"  pause: {DeliveryPause.objects.first()}; now {timezone.now():%H:%M:%S}")
    mixed = [pk for pk, ids in ids_by_row.items() if len(ids) > 1]
    if mixed:
        print(f"copies with a different Message-ID: {mixed[:10]}")
    print(f"expected={expected} delivered={delivered} duplicates={duplicates} lost={lost}")
    if lost or duplicates > kills or mixed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
