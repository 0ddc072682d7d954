"""Reminder sweep and delivery at scale: 100,000 meetings on PostgreSQL, 1 % due.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... \\
        .venv/bin/python -m benchmarks.reminders [--meetings N] [--workers N] [--rounds N]

Creates a throw-away database (Django's test database machinery: DATABASE_URL's
name with a `test_` prefix and `_reminders` suffix), fills it with SQL
`generate_series`, runs ANALYZE, then measures in this one run, in rounds (3 by
default; each round puts the due meetings back, vacuums, and measures each
figure next to its baseline, and the medians of the rounds are reported):

- `sweep_vs_writes`: the sweep's wall time over the due meetings (select with
  SKIP LOCKED, stage computation, outbox insert, next_reminder_at update,
  delivery tasks published to Redis after commit) divided by the time of a
  hand-written statement making only the writes any sweep must make for those
  rows (claim, move the due time, insert an outbox row each; best of 3); for
  scale it also prints `sweep_vs_sql`, against a bare SELECT of the due rows;
- `sweep_queries`: the sweep's query count, and the same for a tenth of the
  meetings (it must not change);
- `delivery_vs_smtplib`: end-to-end throughput (sweep, real Celery workers,
  rendering, SMTP to a local aiosmtpd sink, rows marked sent) divided by the
  throughput of plain `smtplib` sending the very same message bytes over one
  connection to the same sink.

The last line is `sweep_vs_writes=<ratio> sweep_queries=<n> delivery_vs_smtplib=<ratio>`.
The database is dropped at the end, even on failure.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault(
    "SECRET_KEY", "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
)
django.setup()

import logging  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DUE_SHARE = 100  # one meeting in a hundred is due
BENCH_QUEUE = "bookend-bench"
USERS = 100


class Sink:
    """An SMTP server that keeps the bytes of every message it accepts."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        with self.lock:
            self.received.append(envelope.original_content or envelope.content)
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(meetings: int, now) -> int:
    """Users that always work (no working-hours waits), one team, `meetings` meetings.

    One in DUE_SHARE is due now (its "due tomorrow" stage); the rest are due in
    the coming weeks. Returns the number of due meetings.
    """
    from accounts.models import Membership, Team, User

    team = Team.objects.create(name="Bench", slug="bench")
    users = User.objects.bulk_create(
        User(
            email=f"person{n}@example.com",
            display_name=f"Person {n}",
            work_days=0b1111111,
            work_start="00:00",
            work_end="23:59:59",
        )
        for n in range(USERS)
    )
    Membership.objects.bulk_create(Membership(user=u, team=team) for u in users)
    ids = [u.pk for u in users]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO meetings_meeting (
                team_id, title, organizer_id, starts_at, ends_at, time_zone, location,
                created_at, desired_outcome, sequence, recap_summary, recap_notes,
                no_action_items, next_reminder_at)
            SELECT %(team)s, 'Meeting ' || g, (%(users)s::bigint[])[1 + g %% %(n_users)s],
                   s.starts, s.starts + interval '1 hour', 'UTC', '', %(now)s, '', 0, '', '',
                   false, s.starts - interval '48 hours'
            FROM generate_series(1, %(count)s) AS g,
            LATERAL (SELECT CASE WHEN g %% %(share)s = 0
                                 THEN %(now)s + interval '47 hours'
                                 ELSE %(now)s + interval '49 hours'
                                      + (g %% 5000) * interval '1 hour'
                            END AS starts) AS s
            """,
            {
                "team": team.pk,
                "users": ids,
                "n_users": USERS,
                "now": now,
                "count": meetings,
                "share": DUE_SHARE,
            },
        )
        cursor.execute("VACUUM ANALYZE meetings_meeting")
    return meetings // DUE_SHARE


HAND_WRITTEN_SQL = """
    SELECT m.id, m.team_id, m.organizer_id, m.starts_at, m.ends_at, m.created_at,
           m.agenda_sent_at, m.recap_published_at, m.canceled_at, m.next_reminder_at
    FROM meetings_meeting m
    WHERE m.next_reminder_at IS NOT NULL AND m.next_reminder_at <= %s
    ORDER BY m.next_reminder_at, m.id
    FOR UPDATE SKIP LOCKED
"""


# The least any sweep must write for the same rows, by hand: claim them, move
# their due time on (to the next stage, 24 hours before the start), insert one
# outbox row each with conflicts ignored, and check the outbox's foreign keys
# (deferred to commit otherwise). It computes no stage, finds no recipient but
# the organizer, is rolled back, and publishes nothing: a floor, not a sweep.
HAND_WRITTEN_WRITES = """
    WITH claimed AS MATERIALIZED (
        SELECT m.id, m.organizer_id, m.starts_at FROM meetings_meeting m
        WHERE m.next_reminder_at IS NOT NULL AND m.next_reminder_at <= %(now)s
        ORDER BY m.next_reminder_at, m.id
        FOR UPDATE SKIP LOCKED
    ),
    moved AS (
        UPDATE meetings_meeting m SET next_reminder_at = c.starts_at - interval '24 hours'
        FROM claimed c WHERE m.id = c.id
    )
    INSERT INTO meetings_notification (
        meeting_id, kind, stage, recipient_id, state, send_after, attempts, last_error,
        created_at)
    SELECT id, 'agenda_reminder', 'due_tomorrow@' || id, organizer_id, 'pending', %(now)s,
           0, '', %(now)s
    FROM claimed
    ON CONFLICT DO NOTHING
    RETURNING id
"""


def best_time(sql: str, params, expected: int, *, repeat: int, check_keys: bool = False) -> float:
    """The best of `repeat` runs of one statement, each in a transaction rolled back.

    `check_keys`: also run the deferred foreign-key checks (at commit otherwise).
    """
    best = float("inf")
    for _ in range(repeat):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if check_keys:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            best = min(best, time.perf_counter() - started)
            transaction.set_rollback(True)
        assert len(rows) == expected, (len(rows), expected)
    return best


def sweep_queries_for(now, due_rows: int) -> int:
    """The sweep's query count, measured inside a transaction that is rolled back."""
    from meetings import notifications

    with CaptureQueriesContext(connection) as ctx:
        try:
            with transaction.atomic():
                result = notifications.sweep(now=now, batch_size=due_rows + 1)
                assert result.meetings == due_rows, result
                raise _Rollback
        except _Rollback:
            pass
    return len(ctx.captured_queries)


class _Rollback(Exception):
    pass


def start_workers(db_name: str, sink_port: int, concurrency: int) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
            f"@{db['HOST']}:{db['PORT'] or 5432}/{db_name}"
        ),
        "EMAIL_URL": f"smtp://127.0.0.1:{sink_port}",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork",
         f"--concurrency={concurrency}", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "-l", "WARNING", "-Q", BENCH_QUEUE],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def wait_until(condition, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("Timed out waiting for delivery.")
        time.sleep(0.01)


def purge(app) -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(BENCH_QUEUE)


def wait_for_workers(app, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise SystemExit("The Celery workers did not start.")


def reset_due(now) -> None:
    """Put the due meetings back as the seed left them, with no outbox rows, and
    vacuum, so that every round starts from the same state."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE meetings_notification")
        cursor.execute(
            "UPDATE meetings_meeting SET next_reminder_at = starts_at - interval '48 hours' "
            "WHERE starts_at < %s",
            [now + timedelta(hours=48)],
        )
        cursor.execute("VACUUM ANALYZE meetings_meeting")
        cursor.execute("VACUUM ANALYZE meetings_notification")


@dataclass
class Round:
    sql: float
    writes: float
    sweep: float
    delivered: float
    smtplib: float

    @property
    def sweep_vs_sql(self) -> float:
        return self.sweep / self.sql

    @property
    def delivery_vs_smtplib(self) -> float:
        return self.smtplib / self.delivered


def measure_round(app, sink: Sink, now, due: int) -> Round:
    """One sweep and delivery of the `due` meetings, each next to its baseline."""
    from meetings import notifications
    from meetings.models import Notification

    reset_due(now)
    with sink.lock:
        sink.received.clear()
    sql_seconds = best_time(HAND_WRITTEN_SQL, [now], due, repeat=5)
    writes_seconds = best_time(HAND_WRITTEN_WRITES, {"now": now}, due, repeat=3, check_keys=True)
    # The workers are not consuming: the sweep publishes its delivery tasks to
    # Redis after each batch's commit, and they wait there.
    started = time.perf_counter()
    result = notifications.sweep(now=now)
    sweep_seconds = time.perf_counter() - started
    assert result.queued == due, result
    # Delivery: from telling the workers to consume the queue until every
    # message is in the sink and every row is marked sent. End to end = sweep + that.
    started = time.perf_counter()
    # limit=1: the one worker node's reply ends the wait; without it the
    # broadcast waits out its whole timeout (5 s) for more replies.
    app.control.add_consumer(BENCH_QUEUE, reply=True, timeout=5, limit=1)
    wait_until(lambda: sink.count() >= due)
    wait_until(lambda: Notification.objects.filter(state="sent").count() == due)
    delivered_seconds = sweep_seconds + time.perf_counter() - started
    app.control.cancel_consumer(BENCH_QUEUE, reply=True, timeout=5, limit=1)
    if sink.count() != due:
        raise SystemExit(f"{sink.count()} messages arrived for {due} due meetings.")
    assert Notification.objects.count() == due
    # Plain smtplib: the same bytes, one connection, to the same sink.
    messages = list(sink.received)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as client:
        for raw in messages:
            client.sendmail("bookend@localhost", ["person@example.com"], raw)
    smtplib_seconds = time.perf_counter() - started
    return Round(sql_seconds, writes_seconds, sweep_seconds, delivered_seconds, smtplib_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="worker processes (4: the worker as docker-compose.yml runs it)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    args = parser.parse_args()
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        raise SystemExit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise SystemExit("The benchmark needs Redis: set CELERY_BROKER_URL=redis://...")

    from config.celery import app

    # aiosmtpd logs every SMTP command at INFO: thousands of lines written by the
    # sink inside this process, on the CPU the workers and smtplib need (both sides
    # of the delivery ratio paid it, but it measured the terminal, not Bookend).
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    # A queue of its own: purging it can never drop another process's tasks, and
    # no other worker on this Redis picks up the benchmark's.
    app.conf.task_default_queue = BENCH_QUEUE
    from meetings.models import Notification

    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_reminders"
    old_name = settings.DATABASES["default"]["NAME"]
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    workers = None
    try:
        controller.start()
        sink.port = controller.port
        purge(app)
        now = timezone.now()

        # The query count must not follow the table: a tenth of the meetings first.
        small_due = seed(args.meetings // 10, now)
        small_queries = sweep_queries_for(now, small_due)
        # Warm-up: the workers deliver the small set for real (imports, templates,
        # database and SMTP connections in every worker process), then stop
        # consuming, so that they take nothing while a sweep is timed.
        from meetings import notifications

        workers = start_workers(db_name, sink.port, args.workers)
        wait_for_workers(app)
        notifications.sweep(now=now)
        wait_until(lambda: Notification.objects.filter(state="sent").count() == small_due)
        app.control.cancel_consumer(BENCH_QUEUE, reply=True, timeout=5, limit=1)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE meetings_meeting, accounts_team, accounts_user CASCADE")
        started = time.perf_counter()
        due = seed(args.meetings, now)
        print(f"seeded {args.meetings:,} meetings ({due:,} due) in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        queries = sweep_queries_for(now, due)
        print(f"sweep queries: {queries} with {args.meetings:,} meetings, "
              f"{small_queries} with {args.meetings // 10:,}")  # fmt: skip
        rounds = []
        for number in range(1, args.rounds + 1):
            r = measure_round(app, sink, now, due)
            rounds.append(r)
            print(
                f"round {number}: SQL {r.sql * 1000:.2f} ms, its writes alone "
                f"{r.writes * 1000:.1f} ms, sweep {r.sweep * 1000:.1f} ms "
                f"(x{r.sweep_vs_sql:.1f}, x{r.sweep / r.writes:.1f} the writes); "
                f"end to end {r.delivered:.2f} s "
                f"({due / r.delivered:.0f}/s, {args.workers} worker processes), "
                f"smtplib {r.smtplib:.2f} s ({due / r.smtplib:.0f}/s) "
                f"(x{r.delivery_vs_smtplib:.2f})"
            )
    finally:
        if workers is not None:
            workers.terminate()
            try:
                workers.wait(20)
            except subprocess.TimeoutExpired:
                workers.kill()
        controller.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    sweep_vs_sql = statistics.median(r.sweep_vs_sql for r in rounds)
    writes_vs_sql = statistics.median(r.writes / r.sql for r in rounds)
    sweep_vs_writes = statistics.median(r.sweep / r.writes for r in rounds)
    print(
        f"medians: the writes alone are x{writes_vs_sql:.1f} the SELECT; "
        f"the sweep is x{sweep_vs_writes:.1f} the writes alone"
    )
    delivery_vs_smtplib = statistics.median(r.delivery_vs_smtplib for r in rounds)
    print(f"sweep_vs_sql={sweep_vs_sql:.2f} (the sweep against the bare SELECT, for scale)")
    print(
        f"sweep_vs_writes={sweep_vs_writes:.2f} sweep_queries={queries} "
        f"delivery_vs_smtplib={delivery_vs_smtplib:.2f}"
    )


if __name__ == "__main__":
    main()
