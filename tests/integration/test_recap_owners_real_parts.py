"""Issue 11, item 3 end to end: a published recap through the real Redis broker, a
real Celery worker and a real SMTP server reaches every attendee and every
action-item owner, attended or not, exactly once, with the owner's items first and
no "I have read this" link for the organizer nor for an owner who was not there."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import Notification
from tests.factories import MeetingFactory, MembershipFactory, UserFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACK = "/email/acknowledge/"


def text_of(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode().replace("\r\n", "\n")


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def html_of(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode().replace("\r\n", "\n")


def test_every_owner_gets_the_recap_once_whether_or_not_they_attended(
    celery_worker, smtp_sink, team
):
    organizer, attendee, absent = (
        UserFactory(display_name=name) for name in ("Orga", "Atta", "Absent")
    )
    for user in (organizer, attendee, absent):
        MembershipFactory(user=user, team=team)
    now = timezone.now()
    meeting = MeetingFactory(
        team=team,
        organizer=organizer,
        attendees=[attendee],
        starts_at=now - timedelta(hours=2),
        now=now - timedelta(days=1),
    )
    meeting.recap_summary = "We ship on Friday."
    meeting.save()
    for description, owner in (("Order the cake", absent), ("Send the invites", attendee),
                               ("Book the room", organizer)):  # fmt: skip
        due = meeting.local_date + timedelta(days=2)
        services.add_action_item(
            meeting=meeting, description=description, owner=owner, due_date=due, now=now
        )
    services.publish_recap(meeting=meeting, by=organizer, now=now)
    wait_for(lambda: len(smtp_sink.messages) >= 3, what="three recap digests")
    wait_for(
        lambda: not Notification.objects.filter(state=Notification.State.PENDING).exists(),
        what="the outbox to drain",
    )

    assert Counter(m["To"] for m in smtp_sink.messages) == Counter(
        [organizer.email, attendee.email, absent.email]
    )
    by_address = {m["To"]: m for m in smtp_sink.messages}

    to_absent = by_address[absent.email]
    assert subject_of(to_absent).startswith(f"Recap: {meeting.title} · 1 action item for you")
    body = text_of(to_absent)
    assert body.startswith("Your action items (Orga assigned them to you; you were not at")
    assert body.index("Order the cake") < body.index("We ship on Friday.")
    assert ACK not in body and ACK not in html_of(to_absent)

    to_organizer = text_of(by_address[organizer.email])
    assert to_organizer.startswith("Your action items\n")
    assert to_organizer.index("Book the room") < to_organizer.index("We ship on Friday.")
    assert ACK not in to_organizer and ACK not in html_of(by_address[organizer.email])

    to_attendee = text_of(by_address[attendee.email])
    assert to_attendee.index("Send the invites") < to_attendee.index("We ship on Friday.")
    assert ACK in to_attendee
