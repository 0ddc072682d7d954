"""Status is derived from timestamps: the same answer in Python and in SQL."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from meetings.models import Meeting
from tests.factories import MeetingFactory, ready_agenda

pytestmark = pytest.mark.django_db

S = Meeting.Status
SECOND = timedelta(seconds=1)


def sql_status(meeting: Meeting, now: datetime) -> str:
    return Meeting.objects.with_status(now).get(pk=meeting.pk).status


def assert_status(meeting: Meeting, now: datetime, expected: Meeting.Status) -> None:
    fresh = Meeting.objects.get(pk=meeting.pk)
    assert fresh.status_at(now) == expected
    assert sql_status(meeting, now) == expected


def test_status_at_each_boundary_with_agenda(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    assert_status(meeting, now, S.DRAFT)
    meeting.send_agenda(by=organizer, now=now)
    assert_status(meeting, meeting.starts_at - SECOND, S.AGENDA_SENT)
    assert_status(meeting, meeting.starts_at, S.IN_PROGRESS)
    assert_status(meeting, meeting.starts_at + SECOND, S.IN_PROGRESS)
    assert_status(meeting, meeting.ends_at - SECOND, S.IN_PROGRESS)
    assert_status(meeting, meeting.ends_at, S.AWAITING_RECAP)
    assert_status(meeting, meeting.ends_at + SECOND, S.AWAITING_RECAP)
    meeting.recap_summary = "Done."
    meeting.no_action_items = True
    meeting.save()
    meeting.publish_recap(by=organizer, now=meeting.ends_at + SECOND)
    assert_status(meeting, meeting.ends_at + timedelta(days=30), S.RECAPPED)


def test_status_without_agenda_is_held_without_agenda_from_the_start(meeting):
    assert_status(meeting, meeting.starts_at - SECOND, S.DRAFT)
    assert_status(meeting, meeting.starts_at, S.HELD_WITHOUT_AGENDA)
    assert_status(meeting, meeting.ends_at + SECOND, S.HELD_WITHOUT_AGENDA)
    assert Meeting.objects.awaiting_recap(meeting.ends_at).filter(pk=meeting.pk).exists()
    assert not Meeting.objects.awaiting_recap(meeting.ends_at - SECOND).exists()


def test_meeting_recorded_after_the_fact_is_held_without_agenda_and_owes_a_recap(
    team, organizer, member, now
):
    past = MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=now - timedelta(hours=3),
        now=now,
    )  # fmt: skip
    assert_status(past, now, S.HELD_WITHOUT_AGENDA)
    assert list(Meeting.objects.awaiting_recap(now)) == [past]


def test_canceled_wins_over_time(meeting, organizer, now):
    meeting.cancel(by=organizer, now=now)
    for moment in (now, meeting.starts_at, meeting.ends_at + timedelta(days=1)):
        assert_status(meeting, moment, S.CANCELED)
    assert not Meeting.objects.awaiting_recap(meeting.ends_at + SECOND).exists()
    assert not Meeting.objects.awaiting_agenda(now).exists()


def test_status_filters_in_sql(team, organizer, member, now):
    draft = MeetingFactory(team=team, organizer=organizer, now=now)
    held = MeetingFactory(
        team=team, organizer=organizer, starts_at=now - timedelta(hours=2), now=now
    )
    by_status = {
        status: set(Meeting.objects.with_status(now).filter(status=status))
        for status in (S.DRAFT, S.HELD_WITHOUT_AGENDA, S.RECAPPED)
    }
    assert by_status == {S.DRAFT: {draft}, S.HELD_WITHOUT_AGENDA: {held}, S.RECAPPED: set()}


def test_status_across_dst_change_in_organizer_zone(team, organizer):
    """Berlin leaves DST on 25 Oct 2026 at 03:00 local; a 09:00 meeting the next day
    starts at 08:00 UTC, not 07:00 as it would have the day before."""
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    starts = datetime(2026, 10, 26, 9, 0, tzinfo=berlin)
    before_change = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    meeting = MeetingFactory(
        team=team, organizer=organizer, starts_at=starts, time_zone="Europe/Berlin",
        now=before_change,
    )  # fmt: skip
    assert meeting.starts_at.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    ready_agenda(meeting, by=organizer)
    meeting.send_agenda(by=organizer, now=before_change)
    assert_status(meeting, datetime(2026, 10, 26, 7, 59, 59, tzinfo=UTC), S.AGENDA_SENT)
    assert_status(meeting, datetime(2026, 10, 26, 8, 0, tzinfo=UTC), S.IN_PROGRESS)
    assert meeting.local_date.isoformat() == "2026-10-26"


def test_local_date_is_the_meeting_zone_day_not_utc(team, organizer):
    """23:30 in Los Angeles is already tomorrow in UTC; the meeting's day is local."""
    la = zoneinfo.ZoneInfo("America/Los_Angeles")
    meeting = MeetingFactory(
        team=team, organizer=organizer, starts_at=datetime(2026, 5, 4, 23, 30, tzinfo=la),
        time_zone="America/Los_Angeles", now=datetime(2026, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    assert meeting.starts_at.astimezone(UTC).date().isoformat() == "2026-05-05"
    assert meeting.local_date.isoformat() == "2026-05-04"
