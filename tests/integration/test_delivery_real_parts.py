"""Reminders and digests end to end: real Redis broker, real Celery worker, real SMTP.

Scenarios of issue 3: (a) one "due now" reminder, (b) two concurrent sweeps over
500 due meetings, (c) 451 then recovery, (d) 550, (e) a worker killed with
SIGKILL mid-delivery, (f) a rolled-back transaction, (g) a canceled meeting.
(h), constant digest queries with 5 vs 50 attendees, is in
tests/meetings/notifications/test_messages.py. Time comes from `now=` arguments; the waiting
below is only for the asynchronous worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from meetings import notifications, services, tasks
from meetings.models import Meeting, Notification
from meetings.notifications import outbox
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Kind = Notification.Kind
State = Notification.State
ROOT = Path(__file__).resolve().parents[2]


def always_working(**fields):
    return UserFactory(
        work_days=0b1111111, work_start=time(0, 0), work_end=time(23, 59, 59), **fields
    )


@pytest.fixture
def crew(team):
    organizer = always_working(time_zone="Europe/Berlin")
    member = always_working(time_zone="America/New_York")
    for user in (organizer, member):
        MembershipFactory(user=user, team=team)
    return organizer, member


def sentinel(user) -> int:
    """Queue a message behind everything else; once it arrives, the queue is drained."""
    meeting = Meeting.objects.filter(organizer=user).first() or MeetingFactory(
        team=user.memberships.first().team, organizer=user, title="Sentinel"
    )
    with transaction.atomic():
        ids = outbox.insert_notifications(
            [outbox.Row(Kind.RECAP_REMINDER, f"sentinel@{timezone.now().timestamp()}",
                           user.pk, meeting.pk, timezone.now())],
            now=timezone.now(),
        )  # fmt: skip
        # Delivered regardless of the meeting's state: send the row directly.
        for pk in ids:
            tasks.deliver_notification.delay_on_commit(pk)
    return ids[0]


def test_a_meeting_without_agenda_at_lead_time_gets_exactly_one_due_now(
    celery_worker, smtp_sink, team, crew
):
    organizer, member = crew
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                             starts_at=now + timedelta(hours=24, minutes=-1), now=now)  # fmt: skip
    for _ in range(3):  # beat fires again and again
        tasks.sweep_reminders.delay()
    wait_for(lambda: smtp_sink.messages, what="the reminder")
    Meeting.objects.filter(pk=meeting.pk).update(next_reminder_at=now)  # a stale due time
    tasks.sweep_reminders.delay()
    tasks.redrive_outbox.delay()
    sentinel(member)
    wait_for(lambda: smtp_sink.subjects_to(member.email), what="the sentinel")
    row = Notification.objects.get(meeting=meeting)
    assert row.stage.startswith("due_now")
    assert row.state == State.SENT
    subjects = smtp_sink.subjects_to(organizer.email)
    assert len(subjects) == 1
    assert subjects[0].startswith("Agenda due now")


def test_b_two_concurrent_sweeps_over_500_due_meetings_send_each_message_once(
    celery_worker, smtp_sink, team
):
    now = timezone.now()
    people = [always_working() for _ in range(20)]
    for person in people:
        MembershipFactory(user=person, team=team)
    starts = now + timedelta(hours=47)
    Meeting.objects.bulk_create(
        Meeting(team=team, organizer=people[n % 20], title=f"Meeting {n}", starts_at=starts,
                ends_at=starts + timedelta(hours=1), time_zone="UTC", created_at=now,
                next_reminder_at=now - timedelta(minutes=1))
        for n in range(500)
    )  # fmt: skip
    barrier = threading.Barrier(2)
    results: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(notifications.sweep(now=now, batch_size=50).queued)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 500
    wait_for(lambda: len(smtp_sink.messages) >= 500, timeout=180, what="500 messages")
    wait_for(lambda: Notification.objects.filter(state=State.SENT).count() == 500)
    ids = smtp_sink.ids()
    assert len(ids) == len(set(ids)) == 500
    for person in people:
        subjects = smtp_sink.subjects_to(person.email)
        assert len(subjects) == len(set(subjects)) == 25


def test_c_smtp_451_for_a_while_then_recovery_every_message_arrives_once(
    celery_worker, smtp_sink, fast_retries, team, crew
):
    organizer, member = crew
    others = [always_working() for _ in range(3)]
    for person in others:
        MembershipFactory(user=person, team=team)
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member, *others], now=now)
    ready_agenda(meeting, by=organizer)
    smtp_sink.replies = ["451 4.3.0 Try again later"] * 8
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    wait_for(lambda: Notification.objects.filter(state=State.SENT).count() == 5, timeout=90)
    assert smtp_sink.attempts >= 5 + 8
    recipients = sorted(m["To"] for m in smtp_sink.messages)
    assert recipients == sorted(u.email for u in [organizer, member, *others])
    retried = Notification.objects.filter(attempts__gt=1)
    assert retried.exists()
    assert all(n.last_error.startswith("451") for n in retried)


def test_d_smtp_550_is_not_retried_and_recorded_as_failed(
    celery_worker, smtp_sink, fast_retries, team, crew
):
    organizer, member = crew
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, now=now)
    ready_agenda(meeting, by=organizer)
    smtp_sink.replies = ["550 5.1.1 No such user"]
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    wait_for(lambda: Notification.objects.filter(state=State.FAILED).exists())
    sentinel(organizer)
    wait_for(lambda: smtp_sink.messages, what="the sentinel")
    failed = Notification.objects.get(state=State.FAILED)
    assert failed.attempts == 1
    assert failed.last_error.startswith("550")
    assert smtp_sink.attempts == 2  # the 550 once, the sentinel once: no retry


def test_e_worker_killed_mid_delivery_is_redelivered_by_the_redrive_at_most_once_more(
    clean_broker, smtp_sink, team, crew, settings
):
    organizer, member = crew
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, now=now)
    ready_agenda(meeting, by=organizer)
    received = threading.Event()
    release = threading.Event()

    def hold(message) -> None:
        # The server has the message but has not answered: the worker is mid-send.
        if not release.is_set():
            received.set()
            release.wait(30)

    smtp_sink.before_reply = hold
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_URL": f"smtp://{smtp_sink.host}:{smtp_sink.port}",
        "CONN_MAX_AGE": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        services.send_agenda(meeting=meeting, by=organizer, now=now)
        assert received.wait(60), "the worker never reached the SMTP server"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        release.set()
    row = Notification.objects.get()
    assert row.state == State.PENDING  # never marked sent: the worker died first
    # The lost task: once its lease runs out, the re-drive queues it again.
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    smtp_sink.before_reply = None
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        later = timezone.now() + outbox.outbox_lease() + timedelta(seconds=1)
        assert notifications.dispatch_ready(now=later) == 1
        wait_for(lambda: Notification.objects.filter(state=State.SENT).exists(), timeout=60)
    copies = [i for i in smtp_sink.ids() if i == str(row.pk)]
    assert 1 <= len(copies) <= 2  # the server may have kept the first: at most once more


def test_f_rolled_back_transaction_sends_nothing(celery_worker, smtp_sink, team, crew):
    organizer, member = crew
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    ready_agenda(meeting, by=organizer)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send_agenda(meeting=meeting, by=organizer, now=now)
        raise RuntimeError("the request failed after the send")
    sentinel(organizer)
    wait_for(lambda: smtp_sink.messages, what="the sentinel")
    assert len(smtp_sink.messages) == 1
    assert not Notification.objects.filter(kind=Kind.AGENDA_DIGEST).exists()


def test_g_canceled_meeting_gets_nothing(celery_worker, smtp_sink, team, crew):
    organizer, member = crew
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], title="Doomed",
                             starts_at=now + timedelta(hours=3), now=now)  # fmt: skip
    services.cancel_meeting(meeting=meeting, by=organizer, now=now)
    for _ in range(2):
        tasks.sweep_reminders.delay()
        tasks.redrive_outbox.delay()
    MeetingFactory(team=team, organizer=member, title="Other", starts_at=now + timedelta(days=9))
    sentinel_id = sentinel(member)
    wait_for(lambda: str(sentinel_id) in smtp_sink.ids(), what="the sentinel")
    assert smtp_sink.ids() == [str(sentinel_id)]
    assert not Notification.objects.filter(meeting=meeting).exists()
