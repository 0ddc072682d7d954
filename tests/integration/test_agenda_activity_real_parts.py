"""Issue 14 end to end, with a real Redis broker, a real Celery worker and a real SMTP
server: a burst of written activity makes one batch per attendee, sent by the
outbox re-drive when their window opens, saying everything that happened."""

from __future__ import annotations

from datetime import time, timedelta
from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from meetings import services, tasks
from meetings.models import AgendaItem, Notification
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Kind = Notification.Kind


def always_working(**fields):
    return UserFactory(
        work_days=0b1111111, work_start=time(0, 0), work_end=time(23, 59, 59), **fields
    )


def subjects_to(sink, address: str) -> list[str]:
    """Subjects as read, "=?utf-8?q?...?=" words decoded (the quotes are not ASCII)."""
    return [str(make_header(decode_header(s))) for s in sink.subjects_to(address)]


def text_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def test_a_burst_of_comments_and_a_settlement_reach_each_attendee_as_one_batch(
    celery_worker, smtp_sink, team
):
    olu = always_working(display_name="Olu", time_zone="UTC")
    berta = always_working(display_name="Berta", time_zone="Europe/Berlin")
    kiran = always_working(display_name="Kiran", time_zone="Asia/Kolkata")
    for user in (olu, berta, kiran):
        MembershipFactory(user=user, team=team)
    now = timezone.now()
    meeting = MeetingFactory(team=team, organizer=olu, attendees=[berta, kiran],
                             title="Budget review", now=now)  # fmt: skip
    ready_agenda(meeting, by=olu, items=2)
    budget, hiring = meeting.agenda_items.all()
    AgendaItem.objects.filter(pk=budget.pk).update(title="Budget")
    AgendaItem.objects.filter(pk=hiring.pk).update(title="Hiring")
    budget.title, hiring.title = "Budget", "Hiring"

    services.add_comment(item=budget, author=olu, body="Is 40k enough?", now=now)
    services.add_comment(item=budget, author=berta, body="@Kiran can you check?", now=now)
    services.settle_item(item=hiring, resolution="One engineer", by=olu, now=now)
    rows = Notification.objects.filter(kind=Kind.AGENDA_ACTIVITY)
    assert sorted(rows.values_list("recipient__display_name", flat=True)) == [
        "Berta", "Kiran", "Olu",
    ]  # fmt: skip
    # Nothing goes before the batch's window (an hour after the first event).
    assert tasks.redrive_outbox() == 0

    # The hour has passed: the re-drive sends each batch.
    rows.update(send_after=timezone.now() - timedelta(seconds=1))
    tasks.redrive_outbox.delay()
    wait_for(lambda: len(smtp_sink.messages) == 3, timeout=120, what="three batches")
    # A row is marked sent after the server took the message: wait for that too.
    wait_for(lambda: not rows.filter(state=Notification.State.PENDING).exists(), timeout=30,
             what="the batches marked sent")  # fmt: skip

    assert subjects_to(smtp_sink, kiran.email) == [
        "Berta mentioned you on “Budget” · 2 comments and 1 item settled on “Budget review”"
    ]
    kirans = text_of(next(m for m in smtp_sink.messages if m["To"] == kiran.email))
    assert "Berta mentioned you on “Budget” (Budget review): “@Kiran can you check?”" in kirans
    assert "Olu on “Budget”: “Is 40k enough?”" in kirans
    assert "Olu settled “Hiring” in writing: One engineer" in kirans
    assert subjects_to(smtp_sink, olu.email) == ["1 comment on “Budget review”"]
    assert subjects_to(smtp_sink, berta.email) == [
        "1 comment and 1 item settled on “Budget review”"
    ]
