"""A reminder due outside the recipient's working hours waits for their next window,
unless that would be too late: across time zones, a weekend and a DST change."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from unittest import mock

import pytest

from meetings import notifications
from meetings.models import Notification
from meetings.notifications import outbox
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def person(team, zone: str, **fields):
    user = UserFactory(time_zone=zone, **fields)
    MembershipFactory(user=user, team=team)
    return user


def queued(kind: str) -> Notification:
    return Notification.objects.get(kind=kind)


def went_at_once(send_after: datetime, at: datetime) -> bool:
    # A row ready at once is handed to a delivery task, which leases it.
    return at <= send_after <= at + outbox.outbox_lease()


def test_recap_reminder_on_a_saturday_waits_for_monday_morning(team):
    berlin = person(team, "Europe/Berlin")  # Mon-Fri 09:00-17:00
    # Friday 6 Feb 2026, 16:00-17:00 Berlin; "1 h after end" = Fri 18:00 Berlin.
    start = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
    meeting = MeetingFactory(
        team=team, organizer=berlin, starts_at=start, now=start - timedelta(days=3)
    )
    notifications.sweep(now=datetime(2026, 2, 6, 17, 0, tzinfo=UTC))
    # Monday 9 Feb 09:00 Berlin (CET, UTC+1) = 08:00 UTC.
    assert queued(Kind.RECAP_REMINDER).send_after == datetime(2026, 2, 9, 8, 0, tzinfo=UTC)
    assert meeting.pk


def test_weekend_wait_follows_the_dst_change(team):
    berlin = person(team, "Europe/Berlin")
    # Friday 27 Mar 2026; Europe switches to summer time on Sunday 29 Mar.
    start = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)
    MeetingFactory(team=team, organizer=berlin, starts_at=start, now=start - timedelta(days=3))
    notifications.sweep(now=datetime(2026, 3, 27, 18, 0, tzinfo=UTC))
    # Monday 30 Mar 09:00 Berlin is now CEST (UTC+2) = 07:00 UTC, not 08:00.
    assert queued(Kind.RECAP_REMINDER).send_after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_same_stage_waits_differently_per_recipient_zone(team):
    new_york = person(team, "America/New_York")
    tokyo = person(team, "Asia/Tokyo")
    admin = person(team, "Asia/Tokyo")
    admin.memberships.update(role="admin")
    start = datetime(2026, 2, 3, 15, 0, tzinfo=UTC)  # Tuesday
    meeting = MeetingFactory(team=team, organizer=new_york, attendees=[tokyo], starts_at=start,
                             now=start - timedelta(days=5))  # fmt: skip
    # Escalation 72 h after the end: Friday 6 Feb 16:00 UTC = 11:00 New York, 01:00 Sat Tokyo.
    notifications.sweep(now=meeting.ends_at + timedelta(hours=72))
    times = {
        n.recipient_id: n.send_after
        for n in Notification.objects.filter(kind=Kind.RECAP_ESCALATION)
    }
    assert went_at_once(times[new_york.pk], meeting.ends_at + timedelta(hours=72))
    # Tokyo: Saturday 01:00 -> Monday 9 Feb 09:00 JST = 00:00 UTC.
    assert times[admin.pk] == datetime(2026, 2, 9, 0, 0, tzinfo=UTC)


def test_agenda_reminder_waits_when_the_window_opens_before_the_start(team):
    kolkata = person(team, "Asia/Kolkata")  # 09:00-17:00 IST = 03:30-11:30 UTC
    start = datetime(2026, 2, 5, 10, 0, tzinfo=UTC)  # Thursday 15:30 IST
    MeetingFactory(team=team, organizer=kolkata, starts_at=start, now=start - timedelta(days=5))
    # "Due now" at the lead time: Wed 10:00 UTC = 15:30 IST, working: goes at once.
    # "Due tomorrow": Tue 10:00 UTC, working too. Use a late evening instead:
    late = datetime(2026, 2, 4, 18, 0, tzinfo=UTC)  # Wed 23:30 IST, past "due now"
    notifications.sweep(now=late)
    # Next window Thu 09:00 IST = 03:30 UTC, before the 10:00 UTC start: it waits.
    assert queued(Kind.AGENDA_REMINDER).send_after == datetime(2026, 2, 5, 3, 30, tzinfo=UTC)


def test_reminder_goes_at_once_when_waiting_would_arrive_after_the_start(team):
    kolkata = person(team, "Asia/Kolkata")
    # Starts Thu 02:00 UTC = 07:30 IST, before the working day begins.
    start = datetime(2026, 2, 5, 2, 0, tzinfo=UTC)
    MeetingFactory(team=team, organizer=kolkata, starts_at=start, now=start - timedelta(days=5))
    at = start - timedelta(hours=2)  # last call, 05:30 IST: outside working hours
    notifications.sweep(now=at)
    notification = queued(Kind.AGENDA_REMINDER)
    assert notification.stage.startswith("last_call")
    assert went_at_once(notification.send_after, at)  # not 09:00 IST


def test_due_tomorrow_is_useless_after_the_agenda_deadline(team):
    user = person(team, "UTC", work_days=0b0000001)  # Mondays only
    start = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)  # Friday; deadline Thu 12:00
    MeetingFactory(team=team, organizer=user, starts_at=start, now=start - timedelta(days=7))
    at = start - timedelta(hours=47)  # Wednesday: next window is Monday, after the deadline
    notifications.sweep(now=at)
    assert went_at_once(queued(Kind.AGENDA_REMINDER).send_after, at)


def test_waiting_row_is_queued_only_when_its_window_opens(
    team, django_capture_on_commit_callbacks
):
    berlin = person(team, "Europe/Berlin")
    start = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
    MeetingFactory(team=team, organizer=berlin, starts_at=start, now=start - timedelta(days=3))
    with mock.patch("meetings.tasks.deliver_notifications.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            notifications.sweep(now=datetime(2026, 2, 6, 17, 0, tzinfo=UTC))
        assert delay.call_count == 0
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications.dispatch_ready(now=datetime(2026, 2, 8, 12, 0, tzinfo=UTC)) == 0
        with django_capture_on_commit_callbacks(execute=True):
            assert notifications.dispatch_ready(now=datetime(2026, 2, 9, 8, 0, tzinfo=UTC)) == 1
        assert delay.call_count == 1
    assert queued(Kind.RECAP_REMINDER).send_after > datetime(2026, 2, 9, 8, 0, tzinfo=UTC)


def test_user_working_hours_are_respected_at_the_window_edges(team):
    user = person(team, "UTC", work_start=time(9, 0), work_end=time(17, 0))
    assert user.next_working_moment(datetime(2026, 2, 3, 17, 0, tzinfo=UTC)) == datetime(
        2026, 2, 4, 9, 0, tzinfo=UTC
    )
    assert user.next_working_moment(datetime(2026, 2, 3, 9, 0, tzinfo=UTC)) == datetime(
        2026, 2, 3, 9, 0, tzinfo=UTC
    )


def test_window_opening_exactly_when_the_lease_would_end_still_waits(team):
    user = person(team, "UTC")  # Mon-Fri 09:00-17:00
    start = datetime(2026, 2, 4, 6, 50, tzinfo=UTC)  # Wednesday; ends 07:50
    MeetingFactory(team=team, organizer=user, starts_at=start, now=start - timedelta(days=3))
    at = datetime(2026, 2, 4, 8, 50, tzinfo=UTC)  # "1 h after end"; 09:00 = at + 10 min lease
    assert at + outbox.outbox_lease() == datetime(2026, 2, 4, 9, 0, tzinfo=UTC)
    with mock.patch("meetings.notifications.sweeper.queue_delivery") as queue:
        notifications.sweep(now=at)
    assert queue.call_args.args[0] == []  # nothing handed to a worker before 09:00
    assert queued(Kind.RECAP_REMINDER).send_after == datetime(2026, 2, 4, 9, 0, tzinfo=UTC)
