"""The outbox: rows inserted once, delivery after commit, retries, failures, re-drive."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from meetings import notifications, services
from meetings.models import DeliveryPause, Notification
from meetings.notifications import delivery, messages, outbox
from tests.factories import ready_agenda

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
State = Notification.State


class ScriptedBackend(BaseEmailBackend):
    """A mail backend that raises the scripted errors in turn, then accepts."""

    script: list[BaseException | None] = []
    accepted: list = []

    def send_messages(self, messages):
        step = ScriptedBackend.script.pop(0) if ScriptedBackend.script else None
        if step is not None:
            raise step
        ScriptedBackend.accepted.extend(messages)
        return len(messages)


@pytest.fixture
def scripted(settings):
    ScriptedBackend.script, ScriptedBackend.accepted = [], []
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.ScriptedBackend"}}
    return ScriptedBackend


@pytest.fixture
def run_tasks():
    """Run delivery tasks in-process when they are enqueued (after commit)."""
    calls: list[int] = []

    def deliver(ids: list[int]) -> None:
        for pk in ids:
            calls.append(pk)
            notifications.deliver(pk, now=run_tasks_now[0])

    run_tasks_now = [None]
    with mock.patch("meetings.tasks.deliver_notifications.delay", side_effect=deliver):
        yield run_tasks_now, calls


@pytest.fixture
def agenda_delivered(meeting, organizer, now, run_tasks, django_capture_on_commit_callbacks):
    """`meeting` with its agenda sent and delivered; the outbox emptied afterwards."""
    run_tasks[0][0] = now
    ready_agenda(meeting, by=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_agenda(meeting=meeting, by=organizer, now=now)
    mail.outbox.clear()
    return meeting


def ics_text(message) -> str:
    ics = message.attachments[0][1]
    return ics.decode() if isinstance(ics, bytes) else ics


def pending_reminder(meeting, user, now, stage="after_end@x") -> Notification:
    return Notification.objects.create(
        meeting=meeting,
        kind=Kind.RECAP_REMINDER,
        stage=stage,
        recipient=user,
        send_after=now,
        created_at=now,
    )


def test_insert_ignores_existing_rows_and_returns_only_new_ids(meeting, organizer, now):
    row = outbox.Row(Kind.AGENDA_REMINDER, "due_now@x", organizer.pk, meeting.pk, now)
    first = outbox.insert_notifications([row], now=now)
    again = outbox.insert_notifications([row, row], now=now)
    assert len(first) == 1
    assert again == []
    assert Notification.objects.count() == 1


def test_daily_digest_rows_are_unique_per_day_without_a_meeting(organizer, now):
    row = outbox.Row(Kind.DAILY_DIGEST, "2026-03-04", organizer.pk, None, now)
    assert len(outbox.insert_notifications([row], now=now)) == 1
    assert outbox.insert_notifications([row], now=now) == []


def test_sending_an_agenda_delivers_one_digest_per_attendee_after_commit(
    meeting, organizer, member, now, run_tasks, django_capture_on_commit_callbacks
):
    clock, calls = run_tasks
    clock[0] = now
    ready_agenda(meeting, by=organizer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.send_agenda(meeting=meeting, by=organizer, now=now)
    assert calls == []  # nothing before commit
    assert len(callbacks) == 1  # one delivery task for the burst
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([organizer.email, member.email])
    assert set(Notification.objects.values_list("state", flat=True)) == {State.SENT}


def test_every_amendment_is_one_new_digest_per_attendee(
    meeting, organizer, now, run_tasks, django_capture_on_commit_callbacks
):
    run_tasks[0][0] = now
    ready_agenda(meeting, by=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_agenda(meeting=meeting, by=organizer, now=now)
    services.add_agenda_item(meeting=meeting, title="Late addition", added_by=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        services.amend_agenda(meeting=meeting, by=organizer, now=now + timedelta(hours=1))
    stages = sorted(Notification.objects.values_list("stage", flat=True))
    assert stages == ["1", "1", "2", "2"]
    assert len(mail.outbox) == 4
    assert sum("Updated agenda" in m.subject for m in mail.outbox) == 2


def test_rolled_back_transaction_queues_and_sends_nothing(
    meeting, organizer, now, run_tasks, django_capture_on_commit_callbacks
):
    run_tasks[0][0] = now
    ready_agenda(meeting, by=organizer)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.send_agenda(meeting=meeting, by=organizer, now=now)
        raise RuntimeError("the request failed after sending")
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_delivery_marks_sent_and_a_second_run_sends_nothing(meeting, organizer, now):
    notification = pending_reminder(meeting, organizer, now)
    at = meeting.ends_at + timedelta(hours=2)
    assert notifications.deliver(notification.pk, now=at).status == "sent"
    assert notifications.deliver(notification.pk, now=at).status == "not pending"
    notification.refresh_from_db()
    assert (notification.state, notification.sent_at, notification.attempts) == (State.SENT, at, 1)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPDataError(451, b"Try again later"),
        smtplib.SMTPRecipientsRefused({"x@example.com": (450, b"Mailbox busy")}),
        # Twice: one disconnect of a reused connection is retried at once.
        [smtplib.SMTPServerDisconnected("closed"), smtplib.SMTPServerDisconnected("closed")],
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
)
def test_temporary_failures_retry_with_backoff(meeting, organizer, now, scripted, error):
    notification = pending_reminder(meeting, organizer, now)
    at = meeting.ends_at + timedelta(hours=2)
    scripted.script = list(error) if isinstance(error, list) else [error]
    outcome = notifications.deliver(notification.pk, now=at)
    assert outcome.status == "retry"
    assert 15 <= outcome.retry_in <= 30  # first retry: base 30 s, jittered over the upper half
    notification.refresh_from_db()
    assert notification.state == State.PENDING
    assert notification.attempts == 1
    assert notification.last_error
    # The re-drive leaves it to the retry.
    assert notification.send_after > at + timedelta(seconds=outcome.retry_in)
    assert notifications.deliver(notification.pk, now=at + timedelta(minutes=1)).status == "sent"
    assert len(scripted.accepted) == 1


def test_permanent_failure_is_recorded_and_not_retried(meeting, organizer, now, scripted):
    notification = pending_reminder(meeting, organizer, now)
    scripted.script = [smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})]
    outcome = notifications.deliver(notification.pk, now=meeting.ends_at + timedelta(hours=2))
    assert outcome.status == "failed"
    notification.refresh_from_db()
    assert notification.state == State.FAILED
    assert notification.last_error.startswith("550")
    assert notifications.dispatch_ready(now=meeting.ends_at + timedelta(days=9)) == 0


def test_temporary_refusals_retry_until_the_age_runs_out_then_expire_and_admins_hear(
    meeting, organizer, team_admin, now, scripted, settings
):
    settings.OUTBOX_MAX_AGE = timedelta(days=3)
    notification = pending_reminder(meeting, organizer, now)
    queued = notification.created_at
    # Far more attempts than any fixed budget: each refusal is "for now".
    for hours in range(1, 71, 3):
        scripted.script = [smtplib.SMTPRecipientsRefused({"x@example.com": (452, b"Full")})]
        at = queued + timedelta(hours=hours)
        assert notifications.deliver(notification.pk, now=at).status == "retry"
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (State.PENDING, 24)
    # Past its age the next refusal expires it...
    scripted.script = [smtplib.SMTPRecipientsRefused({"x@example.com": (452, b"Full")})]
    assert notifications.deliver(notification.pk, now=queued + timedelta(days=3)).status == (
        "expired"
    )
    notification.refresh_from_db()
    assert notification.state == State.EXPIRED and notification.given_up_at is not None


def test_rows_waiting_past_their_age_expire_on_the_redrive_and_team_admins_are_told(
    meeting, organizer, team_admin, now, settings
):
    settings.OUTBOX_MAX_AGE = timedelta(days=3)
    stuck = pending_reminder(meeting, organizer, now)
    fresh = pending_reminder(meeting, organizer, now, stage="grace@x")
    Notification.objects.filter(pk=fresh.pk).update(created_at=now + timedelta(days=2))
    later = now + timedelta(days=3, minutes=1)
    notifications.dispatch_ready(now=later)
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.state, stuck.given_up_at) == (State.EXPIRED, later)
    assert fresh.state == State.PENDING
    notice = Notification.objects.get(kind=Kind.DELIVERY_EXPIRED)
    assert (notice.recipient, notice.meeting) == (team_admin, None)
    message = messages.message_for(notice, now=later)
    assert organizer.email in message.body and meeting.title in message.body
    # Once a day per admin, however many re-drives run.
    notifications.dispatch_ready(now=later + timedelta(minutes=5))
    assert Notification.objects.filter(kind=Kind.DELIVERY_EXPIRED).count() == 1


def test_staff_send_again_requeues_failed_and_expired_rows_once(
    meeting, organizer, now, django_capture_on_commit_callbacks
):
    failed = pending_reminder(meeting, organizer, now)
    expired = pending_reminder(meeting, organizer, now, stage="grace@x")
    sent = pending_reminder(meeting, organizer, now, stage="daily1@x")
    Notification.objects.filter(pk=failed.pk).update(
        state=State.FAILED, given_up_at=now, attempts=1, last_error="550 no"
    )
    Notification.objects.filter(pk=expired.pk).update(state=State.EXPIRED, given_up_at=now)
    Notification.objects.filter(pk=sent.pk).update(state=State.SENT, sent_at=now)
    at = now + timedelta(days=5)
    with (
        mock.patch("meetings.tasks.deliver_notifications.delay") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert outbox.send_again([failed.pk, expired.pk, sent.pk], now=at) == 2
        assert outbox.send_again([failed.pk, expired.pk, sent.pk], now=at) == 0
    assert enqueue.call_count == 1
    rows = {n.pk: n for n in Notification.objects.all()}
    assert rows[failed.pk].state == rows[expired.pk].state == State.PENDING
    assert rows[failed.pk].requeued_at == at and rows[failed.pk].attempts == 0
    assert rows[sent.pk].state == State.SENT


def test_message_id_names_the_row_in_the_sites_domain_and_is_the_same_on_a_resend(
    meeting, organizer, now, settings
):
    settings.SITE_URL = "https://bookend.example.org"
    notification = pending_reminder(meeting, organizer, now)
    at = meeting.ends_at + timedelta(hours=2)
    notifications.deliver(notification.pk, now=at)
    Notification.objects.filter(pk=notification.pk).update(state=State.PENDING, sent_at=None)
    notifications.deliver(notification.pk, now=at)
    first, second = (m.extra_headers["Message-ID"] for m in mail.outbox)
    assert first == second
    assert first.startswith("<") and first.endswith("@bookend.example.org>")


def test_each_row_is_marked_sent_as_soon_as_the_server_accepts_it(team, meeting, now, scripted):
    ids = _reminders_for_many(team, meeting, now, 4)

    class Killed(BaseException):
        """The worker dies (SIGKILL) while sending the third message."""

    scripted.script = [None, None, Killed()]
    with pytest.raises(Killed):
        notifications.deliver_many(ids, now=meeting.ends_at + timedelta(hours=2))
    states = dict(Notification.objects.values_list("pk", "state"))
    assert [states[pk] for pk in ids] == [State.SENT, State.SENT, State.PENDING, State.PENDING]


def test_retry_delay_grows_exponentially_up_to_the_cap():
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (12, 300)]:
        delays = [delivery.retry_delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter


def test_redrive_picks_up_a_row_whose_task_was_lost(
    meeting, organizer, now, django_capture_on_commit_callbacks
):
    at = meeting.ends_at + timedelta(hours=2)
    notification = pending_reminder(meeting, organizer, at)
    with (
        mock.patch("meetings.tasks.deliver_notifications.delay") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert outbox.enqueue([notification.pk], now=at) == [notification.pk]
        # The task is in flight: a re-drive now leaves the row alone...
        assert notifications.dispatch_ready(now=at + timedelta(minutes=1)) == 0
        # ...and queues it again once the lease has run out (the task was lost).
        later = at + outbox.outbox_lease() + timedelta(seconds=1)
        assert notifications.dispatch_ready(now=later) == 1
    assert enqueue.call_count == 2


def test_reminder_no_longer_needed_is_dropped_at_delivery(meeting, organizer, now):
    notification = Notification.objects.create(
        meeting=meeting, kind=Kind.AGENDA_REMINDER, stage="due_now@x", recipient=organizer
    )
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    assert notifications.deliver(notification.pk, now=now).status == "skipped"
    assert not Notification.objects.filter(pk=notification.pk).exists()
    assert mail.outbox == []


def test_earlier_stage_waiting_for_working_hours_is_superseded(meeting, organizer, now):
    older = pending_reminder(meeting, organizer, now, stage="after_end@x")
    pending_reminder(meeting, organizer, now + timedelta(hours=1), stage="grace@x")
    Notification.objects.filter(stage="grace@x").update(created_at=now + timedelta(hours=1))
    at = meeting.ends_at + timedelta(days=2)
    assert notifications.deliver(older.pk, now=at).status == "skipped"


def test_canceled_meeting_gets_nothing(meeting, organizer, member, now):
    queued = Notification.objects.create(
        meeting=meeting, kind=Kind.AGENDA_REMINDER, stage="due_tomorrow@x", recipient=organizer
    )
    services.cancel_meeting(meeting=meeting, by=organizer, now=now)
    for hours in (0, 30, 47, 49, 100):
        notifications.sweep(now=meeting.starts_at - timedelta(hours=48) + timedelta(hours=hours))
    assert notifications.deliver(queued.pk, now=now).status == "skipped"
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_cancellation_after_a_sent_agenda_tells_attendees_with_a_cancel_invite(
    agenda_delivered, organizer, member, now, django_capture_on_commit_callbacks
):
    meeting = agenda_delivered
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_meeting(meeting=meeting, by=organizer, now=now + timedelta(hours=1))
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject.startswith("Canceled:")
    assert "METHOD:CANCEL" in ics_text(message)


def _reminders_for_many(team, meeting, now, count):
    from tests.factories import MembershipFactory, UserFactory

    rows = []
    for _ in range(count):
        user = UserFactory()
        MembershipFactory(user=user, team=team)
        rows.append(pending_reminder(meeting, user, now))
    return [n.pk for n in rows]


def test_a_chunk_shares_one_connection_and_marks_every_row(team, meeting, now):
    ids = _reminders_for_many(team, meeting, now, 5)
    outcomes = notifications.deliver_many(ids, now=meeting.ends_at + timedelta(hours=2))
    assert [o.status for o in outcomes.values()] == ["sent"] * 5
    assert Notification.objects.filter(state=State.SENT).count() == 5
    assert len({m.message()["X-Bookend-Notification"] for m in mail.outbox}) == 5


def test_unreachable_server_pauses_everyone_without_spending_the_others_attempts(
    team, meeting, now, scripted
):
    ids = _reminders_for_many(team, meeting, now, 4)
    scripted.script = [ConnectionRefusedError(111, "Connection refused")]
    at = meeting.ends_at + timedelta(hours=2)
    outcomes = notifications.deliver_many(ids, now=at)
    assert [o.status for o in outcomes.values()] == ["retry", "paused", "paused", "paused"]
    assert scripted.script == []  # one connection attempt, not four
    attempts = dict(Notification.objects.values_list("pk", "attempts"))
    assert [attempts[pk] for pk in ids] == [1, 0, 0, 0]
    pause = DeliveryPause.objects.get()
    assert at < pause.until <= at + timedelta(seconds=30) and pause.failures == 1
    assert "Connection refused" in pause.reason
    # While paused nothing is tried, nor counted, however many tasks come.
    scripted.script = [AssertionError("no send while paused")]
    again = notifications.deliver_many(ids, now=at + timedelta(seconds=1))
    assert {o.status for o in again.values()} == {"paused"}
    assert len(scripted.script) == 1
    # After the pause the first chunk is the probe: it goes through and closes it.
    scripted.script = []
    done = notifications.deliver_many(ids, now=pause.until + timedelta(seconds=1))
    assert {o.status for o in done.values()} == {"sent"}
    assert DeliveryPause.objects.get().until is None


def test_each_pause_after_a_failed_probe_is_longer_up_to_the_cap(
    meeting, organizer, now, scripted
):
    notification = pending_reminder(meeting, organizer, now)
    at = meeting.ends_at + timedelta(hours=2)
    pauses = []
    for _ in range(6):
        scripted.script = [TimeoutError("timed out")]
        assert notifications.deliver(notification.pk, now=at).status == "retry"
        pause = DeliveryPause.objects.get()
        pauses.append((pause.until - at).total_seconds())
        at = pause.until + timedelta(seconds=1)
    assert pauses[1] > pauses[0] / 2 and pauses[3] > pauses[1]
    assert all(seconds <= 300 for seconds in pauses)  # OUTBOX_RETRY_MAX_SECONDS
    notification.refresh_from_db()
    assert notification.state == State.PENDING  # six outage probes lost nothing


def test_slow_chunk_hands_the_rest_to_another_task(team, meeting, now, monkeypatch):
    ids = _reminders_for_many(team, meeting, now, 3)
    monkeypatch.setattr(delivery, "CHUNK_TIME_BUDGET_SECONDS", -1)  # out of time at once
    outcomes = notifications.deliver_many(ids, now=meeting.ends_at + timedelta(hours=2))
    assert [o.status for o in outcomes.values()] == ["deferred"] * 3
    assert Notification.objects.filter(state=State.PENDING).count() == 3
    assert mail.outbox == []


def test_moving_a_meeting_with_a_sent_agenda_sends_the_new_invitation(
    agenda_delivered, organizer, member, now, django_capture_on_commit_callbacks
):
    meeting = agenda_delivered
    new_start = meeting.starts_at + timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_meeting(meeting=meeting, by=organizer, title=meeting.title,
                                starts_at=new_start, ends_at=new_start + timedelta(hours=1),
                                now=now + timedelta(minutes=5))  # fmt: skip
    assert sorted(m.to[0] for m in mail.outbox) == sorted([organizer.email, member.email])
    assert "SEQUENCE:2" in ics_text(mail.outbox[0])
    meeting.refresh_from_db()
    assert meeting.next_reminder_at == new_start + timedelta(hours=2)  # 1 h after the new end


def test_attendee_added_after_the_agenda_was_sent_gets_it_once(
    meeting, organizer, member, team, now, run_tasks, django_capture_on_commit_callbacks
):
    from tests.factories import MembershipFactory, UserFactory

    run_tasks[0][0] = now
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, team=team)
    ready_agenda(meeting, by=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_agenda(meeting=meeting, by=organizer, now=now)
    mail.outbox.clear()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.update_meeting(meeting=meeting, by=organizer, title=meeting.title,
                                    starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                                    attendees=[member, newcomer], now=now)  # fmt: skip
    assert [m.to for m in mail.outbox] == [[newcomer.email]]
