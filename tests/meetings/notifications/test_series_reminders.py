"""Reminders and digests treat generated meetings exactly like single ones, at scale."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import notifications, services
from meetings import series as series_service
from meetings.models import Attendee, Meeting, Notification, Series
from meetings.notifications import stages
from tests.factories import MeetingFactory, make_series, ready_agenda

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_generated_meeting_is_scheduled_and_reminded_like_a_single_one(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 7
    start = datetime(2026, 3, 5, 15, 0)
    generated = make_series(team, organizer, first_start=start, now=NOW).meetings.get()
    single = MeetingFactory(
        team=team,
        organizer=organizer,
        starts_at=start.replace(tzinfo=UTC),
        duration=timedelta(minutes=30),
        time_zone="UTC",
        now=NOW,
    )
    assert generated.next_reminder_at is not None
    assert generated.next_reminder_at == Meeting.objects.get(pk=single.pk).next_reminder_at
    last_call = start.replace(tzinfo=UTC) - timedelta(hours=2)
    notifications.sweep(now=last_call)
    stages = {
        meeting_id: sorted(
            Notification.objects.filter(meeting_id=meeting_id).values_list("kind", "stage")
        )
        for meeting_id in (generated.pk, single.pk)
    }
    assert stages[generated.pk] == stages[single.pk]
    assert ("agenda_reminder", "last_call@20260305T1500Z") in stages[generated.pk]


def test_moving_one_occurrence_moves_its_reminders(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 7
    meeting = make_series(
        team, organizer, first_start=datetime(2026, 3, 5, 15), now=NOW
    ).meetings.get()
    before = meeting.next_reminder_at
    services.update_meeting(
        meeting=meeting,
        by=organizer,
        title=meeting.title,
        starts_at=meeting.starts_at + timedelta(days=1),
        ends_at=meeting.ends_at + timedelta(days=1),
        location="",
        now=NOW,
    )
    assert Meeting.objects.get(pk=meeting.pk).next_reminder_at == before + timedelta(days=1)


def test_canceled_occurrence_gets_no_reminders(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 7
    meeting = make_series(
        team, organizer, first_start=datetime(2026, 3, 5, 15), now=NOW
    ).meetings.get()
    services.cancel_meeting(meeting=meeting, by=organizer, now=NOW)
    notifications.sweep(now=meeting.starts_at - timedelta(hours=1))
    assert not Notification.objects.filter(meeting=meeting).exists()


def _sent_series_meeting(team, organizer, member):
    series = make_series(
        team, organizer, first_start=datetime(2026, 3, 5, 15), attendees=[member], now=NOW
    )
    meeting = series.meetings.get()
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=NOW)
    return series, meeting


def _digest_stages(meeting) -> set[str]:
    return set(
        Notification.objects.filter(
            meeting=meeting, kind=Notification.Kind.AGENDA_DIGEST
        ).values_list("stage", flat=True)
    )


def test_moving_an_occurrence_whose_agenda_was_sent_sends_the_new_invitation(
    team, organizer, member, settings
):
    settings.SERIES_HORIZON_DAYS = 7
    _, meeting = _sent_series_meeting(team, organizer, member)
    before = _digest_stages(meeting)
    services.update_meeting(
        meeting=meeting,
        by=organizer,
        title=meeting.title,
        starts_at=meeting.starts_at + timedelta(days=1),
        ends_at=meeting.ends_at + timedelta(days=1),
        location="",
        now=NOW,
    )
    new = _digest_stages(meeting) - before
    assert len(new) == 1 and new.pop().startswith("2@")  # SEQUENCE 2, marked as moved


def test_ending_a_series_sends_the_cancellation_to_attendees_who_got_the_agenda(
    team, organizer, member, settings
):
    settings.SERIES_HORIZON_DAYS = 7
    series, meeting = _sent_series_meeting(team, organizer, member)
    series_service.end_series(series=series, by=organizer, now=NOW)
    recipients = set(
        Notification.objects.filter(
            meeting=meeting, kind=Notification.Kind.AGENDA_DIGEST, stage="2"
        ).values_list("recipient_id", flat=True)
    )
    assert recipients == {organizer.pk, member.pk}


def clone_series(template: Series, copies: int) -> None:
    """`copies` more series like `template`, each with its generated meeting.

    Built in bulk (copying what `create_series` produced, `next_reminder_at`
    included) so the test spends its time in the sweep, not in setup.
    """
    meeting = template.meetings.get()
    series_rows = Series.objects.bulk_create(
        Series(
            team_id=template.team_id,
            organizer_id=template.organizer_id,
            title=f"{template.title} {n}",
            rrule=template.rrule,
            first_start=template.first_start,
            duration=template.duration,
            time_zone=template.time_zone,
            generated_until=template.generated_until,
            created_at=template.created_at,
        )
        for n in range(copies)
    )
    meetings = Meeting.objects.bulk_create(
        Meeting(
            team_id=meeting.team_id,
            series=series,
            occurrence_start=meeting.occurrence_start,
            title=series.title,
            organizer_id=meeting.organizer_id,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            time_zone=meeting.time_zone,
            created_at=meeting.created_at,
            next_reminder_at=meeting.next_reminder_at,
        )
        for series in series_rows
    )
    Attendee.objects.bulk_create(
        Attendee(meeting=m, user_id=meeting.organizer_id, required=True) for m in meetings
    )


def test_sweep_queries_stay_constant_with_1000_series(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 30
    once = "FREQ=WEEKLY;COUNT=1"
    # 10 series meet on 5 March, 1,000 on 20 March: one generated meeting each.
    for n in range(10):
        make_series(
            team,
            organizer,
            title=f"Early {n}",
            first_start=datetime(2026, 3, 5, 15),
            rrule=once,
            now=NOW,
        )
    late = make_series(
        team, organizer, title="Late", first_start=datetime(2026, 3, 20, 15), rrule=once, now=NOW
    )
    clone_series(late, 999)
    assert Series.objects.count() == 1010
    assert Meeting.objects.filter(series__isnull=False).count() == 1010

    early_last_call = datetime(2026, 3, 5, 13, 1, tzinfo=UTC)
    with CaptureQueriesContext(connection) as ten:
        result = notifications.sweep(now=early_last_call, batch_size=2000)
    assert result.meetings == 10  # the 1,000 later meetings are not due: not even read
    # Out of the way, so the second sweep sees the same kind of work, only 100 times more.
    Meeting.objects.filter(title__startswith="Early").delete()

    late_last_call = datetime(2026, 3, 20, 13, 1, tzinfo=UTC)
    started = time.monotonic()
    with CaptureQueriesContext(connection) as thousand:
        result = notifications.sweep(now=late_last_call, batch_size=2000)
    sweep_seconds = time.monotonic() - started
    assert result.meetings == 1000
    assert Notification.objects.filter(stage="last_call@20260320T1500Z").count() == 1000
    assert len(thousand) == len(ten), (len(ten), len(thousand))
    print(
        f"\nsweep of 1,000 due series meetings: {len(thousand)} queries "
        f"(10 due: {len(ten)}), {sweep_seconds * 1000:.0f} ms"
    )


def test_splitting_a_series_sends_the_moved_meeting_its_new_invitation(
    team, organizer, member, settings
):
    settings.SERIES_HORIZON_DAYS = 7
    series, meeting = _sent_series_meeting(team, organizer, member)
    before = _digest_stages(meeting)
    old_start = meeting.starts_at
    series_service.split_series(
        meeting=meeting,
        by=organizer,
        title="Planning, now at four",
        local_start=(old_start + timedelta(hours=1)).astimezone(ZoneInfo(series.time_zone)).time(),
        duration=timedelta(minutes=30),
        rrule=series.rrule,
        location="",
        now=NOW,
    )
    moved = Meeting.objects.get(pk=meeting.pk)
    assert moved.series_id != series.pk and moved.starts_at == old_start + timedelta(hours=1)
    assert moved.next_reminder_at == stages.next_reminder_time(moved, NOW, handled=False)
    new = {
        (stage, recipient)
        for stage, recipient in Notification.objects.filter(
            meeting=meeting, kind=Notification.Kind.AGENDA_DIGEST
        ).values_list("stage", "recipient_id")
        if stage not in before
    }
    # SEQUENCE 2, marked as moved, to the organizer and the attendee.
    assert {recipient for _, recipient in new} == {organizer.pk, member.pk}
    assert all(stage.startswith("2@") for stage, _ in new)
