"""A meeting moved after its agenda went out: the new digest leads with the move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from meetings import notifications, services
from meetings.models import Notification
from meetings.notifications import messages
from tests.factories import MembershipFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db


def deliver_all(now) -> None:
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notifications.deliver(pk, now=now)


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


@pytest.fixture
def sent(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    deliver_all(now)
    mail.outbox.clear()
    return meeting


def move(meeting, organizer, now, *, hours: int = 3, attendees=None):
    start = meeting.starts_at + timedelta(hours=hours)
    services.update_meeting(
        meeting=meeting, by=organizer, title=meeting.title, starts_at=start,
        ends_at=start + timedelta(hours=1), attendees=attendees, now=now,
    )  # fmt: skip
    deliver_all(now)


def test_moved_digest_says_moved_with_new_and_old_time_first(sent, organizer, member, now):
    old_start = sent.starts_at
    move(sent, organizer, now + timedelta(minutes=5))
    message = next(m for m in mail.outbox if m.to == [member.email])
    # The member reads Kolkata time (UTC+5:30).
    new_local = (old_start + timedelta(hours=3)).astimezone(member.zone)
    old_local = old_start.astimezone(member.zone)
    # Times in the subject name their zone (IST, the member's).
    expected = (
        f"Moved: {new_local:%a} {new_local.day} {new_local:%b, %H:%M} {new_local:%Z} "
        f"(was {old_local:%a} {old_local.day} {old_local:%b, %H:%M} {old_local:%Z})"
    )
    assert message.subject.startswith(expected)
    assert message.body.startswith(
        f"Moved: {new_local:%A} {new_local.day} {new_local:%B %Y, %H:%M}"
    )
    assert (
        f"(was {old_local:%A} {old_local.day} {old_local:%B %Y, %H:%M}"
        in message.body.split("\n")[0]
    )
    assert html_of(message).split("<body", 1)[1].index("Moved:") < html_of(message).split(
        "<body", 1
    )[1].index("Desired outcome")


def test_digest_of_a_change_without_a_move_does_not_say_moved(sent, organizer, member, now):
    services.update_meeting(
        meeting=sent, by=organizer, title="Renamed", starts_at=sent.starts_at,
        ends_at=sent.ends_at, now=now + timedelta(minutes=5),
    )  # fmt: skip
    deliver_all(now + timedelta(minutes=5))
    message = next(m for m in mail.outbox if m.to == [member.email])
    assert "Moved" not in message.subject and "Moved" not in message.body


def test_first_agenda_does_not_say_moved(meeting, organizer, member, now):
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    deliver_all(now)
    message = next(m for m in mail.outbox if m.to == [member.email])
    assert message.subject.startswith("Agenda:")


def test_attendee_change_after_a_move_sends_nothing_twice(sent, organizer, member, team, now):
    move(sent, organizer, now + timedelta(minutes=5))
    assert len(mail.outbox) == 2
    mail.outbox.clear()
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, team=team)
    services.update_meeting(
        meeting=sent, by=organizer, title=sent.title, starts_at=sent.starts_at,
        ends_at=sent.ends_at, attendees=[member, newcomer], now=now + timedelta(minutes=6),
    )  # fmt: skip
    deliver_all(now + timedelta(minutes=6))
    assert [m.to for m in mail.outbox] == [[newcomer.email]]


def test_cancellation_after_a_move_goes_out_and_supersedes_the_moved_digest(
    sent, organizer, member, now
):
    start = sent.starts_at + timedelta(hours=3)
    services.update_meeting(
        meeting=sent, by=organizer, title=sent.title, starts_at=start,
        ends_at=start + timedelta(hours=1), now=now + timedelta(minutes=5),
    )  # fmt: skip
    services.cancel_meeting(meeting=sent, by=organizer, now=now + timedelta(minutes=6))
    deliver_all(now + timedelta(minutes=6))
    subjects = [m.subject for m in mail.outbox if m.to == [member.email]]
    assert len(subjects) == 1 and "Moved" not in subjects[0]


def test_stage_round_trips_and_fits_the_column():
    start = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    end = start + timedelta(hours=1)
    stage = messages.agenda_digest_stage(1234, (start, end))
    assert len(stage) <= Notification._meta.get_field("stage").max_length
    assert messages.parse_agenda_digest_stage(stage) == ("1234", (start, end))
    assert messages.parse_agenda_digest_stage("7") == ("7", None)
