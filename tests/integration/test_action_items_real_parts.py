"""Issue 13 end to end, with a real Redis broker, a real Celery worker and a real SMTP
server: an owner gets "due tomorrow", answers "New due date" from the e-mail's link,
and gets no "overdue" for the old date when the sweep runs past it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from meetings import notifications, tasks
from meetings import services as meeting_services
from meetings.models import ActionItem, Notification
from meetings.notifications import outbox
from tests.factories import MeetingFactory, MembershipFactory, UserFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Kind = Notification.Kind


def always_working(**fields):
    return UserFactory(
        work_days=0b1111111, work_start=time(0, 0), work_end=time(23, 59, 59), **fields
    )


def text_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def link_after(text: str, label: str) -> str:
    line = next(line for line in text.splitlines() if line.strip().startswith(f"{label}: "))
    return line.split(": ", 1)[1].strip().removeprefix("http://localhost:8000")


def test_owner_redates_from_the_due_tomorrow_email_and_gets_no_overdue_for_the_old_date(
    celery_worker, smtp_sink, team
):
    organizer = always_working(time_zone="Europe/Berlin")
    owner = always_working(time_zone="America/New_York", display_name="Nia Owner")
    for user in (organizer, owner):
        MembershipFactory(user=user, team=team)
    now = timezone.now()
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=[owner],
        starts_at=now - timedelta(hours=3), now=now - timedelta(days=1),
    )  # fmt: skip
    meeting.recap_summary = "We ship."
    meeting.save(update_fields=["recap_summary"])
    # Due tomorrow where the owner is: "due tomorrow" is due at once.
    due = now.astimezone(owner.zone).date() + timedelta(days=1)
    item = meeting_services.add_action_item(meeting=meeting, description="Write the notes",
                                            owner=owner, due_date=due, now=now)  # fmt: skip
    meeting_services.publish_recap(meeting=meeting, by=organizer, now=now)

    tasks.sweep_reminders.delay()
    wait_for(
        lambda: any(s.startswith("Due tomorrow") for s in smtp_sink.subjects_to(owner.email)),
        timeout=120,
        what="the due-tomorrow reminder",
    )
    reminder = next(
        m for m in smtp_sink.messages
        if m["To"] == owner.email and str(m["Subject"]).startswith("Due tomorrow")
    )  # fmt: skip
    assert str(reminder["Subject"]) == "Due tomorrow: Write the notes"

    # The owner clicks "New due date": a page with a date field, then its button.
    link = link_after(text_of(reminder), "New due date")
    client = Client()
    assert "When will it be done?" in client.get(link).content.decode()
    new_due = due + timedelta(days=7)
    response = client.post(link, {"due_date": new_due.isoformat()})
    assert response.status_code == 200
    assert "Moved." in response.content.decode()
    item.refresh_from_db()
    assert (item.due_date, item.redated_count, item.original_due_date) == (new_due, 1, due)

    # The sweep runs past the old date: two days after it, in the owner's zone.
    past_old = datetime.combine(due + timedelta(days=2), time(10), tzinfo=owner.zone)
    notifications.sweep(now=past_old)
    assert not Notification.objects.filter(
        kind=Kind.ACTION_DUE, stage__startswith="overdue"
    ).exists()
    # And a reminder for the old date queued before the move (as a sweep that ran
    # just before it would have): delivery drops it.
    stale_stage = f"overdue1d.{item.pk}@{due:%Y%m%d}"
    with transaction.atomic():
        [stale] = outbox.insert_notifications(
            [outbox.Row(Kind.ACTION_DUE, stale_stage, owner.pk, meeting.pk, timezone.now())],
            now=timezone.now(),
        )
        tasks.deliver_notification.delay_on_commit(stale)
    wait_for(lambda: not Notification.objects.filter(pk=stale).exists(), timeout=120,
             what="the stale reminder to be dropped")  # fmt: skip

    # Once a sentinel behind them arrives, everything queued has been handled.
    sentinel_meeting = MeetingFactory(team=team, organizer=owner, title="Sentinel")
    with transaction.atomic():
        [sentinel] = outbox.insert_notifications(
            [outbox.Row(Kind.RECAP_REMINDER, "sentinel@1", owner.pk, sentinel_meeting.pk,
                        timezone.now())],
            now=timezone.now(),
        )  # fmt: skip
        tasks.deliver_notification.delay_on_commit(sentinel)
    wait_for(lambda: str(sentinel) in smtp_sink.ids(), timeout=120, what="the sentinel")
    subjects = smtp_sink.subjects_to(owner.email)
    assert [s for s in subjects if s.startswith("Due tomorrow")] == [
        "Due tomorrow: Write the notes"
    ]
    assert not [s for s in subjects if s.lower().startswith("overdue")]
    assert ActionItem.objects.get(pk=item.pk).next_reminder_at > past_old
