"""The reminder sweep: DESIGN.md's stages, per-team policy, constant queries, due rows only."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection

from meetings import notifications, services
from meetings.models import Meeting, Notification
from meetings.notifications import outbox, stages
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

Kind = Notification.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _always_working(organizer, member, team_admin):
    # Working hours have their own tests; here everyone works around the clock.
    for user in (organizer, member, team_admin):
        user.work_days = 0b1111111
        user.work_start, user.work_end = "00:00", "23:59:59"
        user.save()


def rows(**filters) -> list[tuple[str, str, int]]:
    return sorted(
        (n.kind, n.stage.split("@")[0], n.recipient_id)
        for n in Notification.objects.filter(**filters)
    )


def test_create_meeting_sets_next_reminder_to_first_agenda_stage(meeting, team):
    # Default policy: lead 24 h, so "due tomorrow" is 48 h before the start.
    assert meeting.next_reminder_at == meeting.starts_at - timedelta(hours=48)
    meeting.refresh_from_db()
    assert meeting.next_reminder_at == meeting.starts_at - timedelta(hours=48)


def test_stages_follow_team_policy(meeting, team, now):
    team.agenda_lead_time = timedelta(hours=6)
    team.recap_grace = timedelta(hours=12)
    team.escalate_after = timedelta(hours=48)
    team.save()
    meeting.refresh_from_db()
    by_name = {s.name.split("@")[0]: s.due_at for s in stages.stages_for(meeting, now)}
    start, end = meeting.starts_at, meeting.ends_at
    assert by_name["due_tomorrow"] == start - timedelta(hours=30)
    assert by_name["due_now"] == start - timedelta(hours=6)
    assert by_name["last_call"] == start - timedelta(hours=2)
    assert by_name["at_start"] == start
    assert by_name["after_end"] == end + timedelta(hours=1)
    assert by_name["grace"] == end + timedelta(hours=12)
    assert by_name["daily1"] == end + timedelta(hours=36)
    assert by_name["escalation"] == end + timedelta(hours=48)


def test_no_agenda_notice_only_when_team_policy_says_so(meeting, team, now):
    team.notify_no_agenda = False
    team.save()
    meeting.refresh_from_db()
    kinds = {s.kind for s in stages.stages_for(meeting, now)}
    assert Kind.NO_AGENDA_NOTICE not in kinds


def test_sweep_sends_due_tomorrow_to_organizer(meeting, organizer):
    at = meeting.starts_at - timedelta(hours=47)
    result = notifications.sweep(now=at)
    assert result.queued == 1
    assert rows() == [(Kind.AGENDA_REMINDER, "due_tomorrow", organizer.pk)]
    meeting.refresh_from_db()
    assert meeting.next_reminder_at == meeting.starts_at - timedelta(hours=24)


def test_sweep_twice_queues_nothing_new(meeting):
    at = meeting.starts_at - timedelta(hours=47)
    notifications.sweep(now=at)
    Meeting.objects.filter(pk=meeting.pk).update(next_reminder_at=at)  # as if never swept
    assert notifications.sweep(now=at).queued == 0
    assert Notification.objects.count() == 1


def test_only_latest_due_stage_is_sent_when_several_are_due(meeting, organizer, member):
    # The sweep was down: due tomorrow, due now and last call are all past.
    at = meeting.starts_at - timedelta(minutes=30)
    notifications.sweep(now=at)
    assert rows(kind=Kind.AGENDA_REMINDER) == [(Kind.AGENDA_REMINDER, "last_call", organizer.pk)]


def test_meeting_booked_at_short_notice_gets_due_now(team, organizer, member, now):
    meeting = MeetingFactory(
        team=team,
        organizer=organizer,
        attendees=[member],
        starts_at=now + timedelta(hours=5),
        now=now,
    )
    assert meeting.next_reminder_at == now
    notifications.sweep(now=now)
    assert rows() == [(Kind.AGENDA_REMINDER, "due_now", organizer.pk)]


def test_no_agenda_at_start_tells_attendees_not_organizer(meeting, organizer, member):
    notifications.sweep(now=meeting.starts_at + timedelta(minutes=1))
    assert rows(kind=Kind.NO_AGENDA_NOTICE) == [(Kind.NO_AGENDA_NOTICE, "at_start", member.pk)]
    assert rows(kind=Kind.AGENDA_REMINDER) == []  # started: an agenda reminder is useless


def test_sent_agenda_stops_agenda_reminders(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    meeting.refresh_from_db()
    assert meeting.next_reminder_at == meeting.ends_at + timedelta(hours=1)
    notifications.sweep(now=meeting.starts_at + timedelta(minutes=1))
    assert Notification.objects.exclude(kind=Kind.AGENDA_DIGEST).count() == 0


def test_recap_reminders_then_escalation_to_organizer_and_admins(
    meeting, organizer, team_admin, member
):
    end = meeting.ends_at
    notifications.sweep(now=end + timedelta(hours=1))
    assert rows(kind=Kind.RECAP_REMINDER) == [(Kind.RECAP_REMINDER, "after_end", organizer.pk)]
    notifications.sweep(now=end + timedelta(hours=24))
    notifications.sweep(now=end + timedelta(hours=48))
    notifications.sweep(now=end + timedelta(hours=72))
    names = [r[1] for r in rows(kind=Kind.RECAP_REMINDER)]
    assert names == ["after_end", "daily1", "daily2", "grace"]
    assert rows(kind=Kind.RECAP_ESCALATION) == sorted(
        [(Kind.RECAP_ESCALATION, "escalation", organizer.pk),
         (Kind.RECAP_ESCALATION, "escalation", team_admin.pk)]
    )  # fmt: skip


def test_canceled_meeting_is_never_swept(meeting, organizer, now):
    services.cancel_meeting(meeting=meeting, by=organizer, now=now)
    meeting.refresh_from_db()
    assert meeting.next_reminder_at is None
    notifications.sweep(now=meeting.ends_at + timedelta(days=5))
    assert Notification.objects.count() == 0


def test_published_recap_stops_reminders(meeting, organizer):
    after = meeting.ends_at + timedelta(minutes=5)
    meeting.recap_summary = "Done."
    meeting.no_action_items = True
    meeting.save()
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    meeting.refresh_from_db()
    assert meeting.next_reminder_at is None
    notifications.sweep(now=after + timedelta(days=5))
    assert Notification.objects.exclude(kind=Kind.RECAP_DIGEST).count() == 0


def test_moved_meeting_gets_fresh_reminders(meeting, organizer):
    notifications.sweep(now=meeting.starts_at - timedelta(hours=47))
    new_start = meeting.starts_at + timedelta(days=7)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=new_start, ends_at=new_start + timedelta(hours=1)
    )
    meeting.refresh_from_db()
    notifications.reschedule(meeting, now=new_start - timedelta(hours=47))
    notifications.sweep(now=new_start - timedelta(hours=47))
    assert [r[1] for r in rows()] == ["due_tomorrow", "due_tomorrow"]


def test_sweep_never_leaves_a_meeting_due(meeting):
    for hours in range(-60, 24 * 40, 7):
        at = meeting.starts_at + timedelta(hours=hours)
        notifications.sweep(now=at)
        meeting.refresh_from_db()
        assert meeting.next_reminder_at is None or meeting.next_reminder_at > at


def test_remind_now_queues_a_manual_stage_once_per_utc_day(meeting, organizer):
    at = meeting.ends_at + timedelta(hours=30)  # past the grace period
    assert notifications.remind_now(meeting=meeting, now=at) == 1
    assert notifications.remind_now(meeting=meeting, now=at + timedelta(minutes=5)) == 0
    day = at.astimezone(UTC).date().isoformat()
    assert rows() == [(Kind.RECAP_REMINDER, f"manual:{day}", organizer.pk)]
    # The next UTC day, another click is another reminder.
    next_day = datetime.combine(at.astimezone(UTC).date() + timedelta(days=1), time(9), UTC)
    assert notifications.remind_now(meeting=meeting, now=next_day) == 1


def test_remind_now_works_when_the_current_stage_already_went_out(meeting, organizer):
    # The overdue meeting's reminder for its current stage was sent by the sweep:
    # "remind now" still reminds (it used to do nothing).
    at = meeting.ends_at + timedelta(hours=30)
    notifications.sweep(now=at)
    assert rows() == [(Kind.RECAP_REMINDER, "grace", organizer.pk)]
    Notification.objects.update(state=Notification.State.SENT, sent_at=at)
    assert notifications.remind_now(meeting=meeting, now=at + timedelta(hours=1)) == 1
    manual = Notification.objects.get(stage__startswith="manual:")
    assert (manual.kind, manual.recipient_id) == (Kind.RECAP_REMINDER, organizer.pk)
    # The sweep's stages are unaffected: a manual reminder is a stage of its own.
    notifications.sweep(now=at + timedelta(hours=1))
    assert Notification.objects.count() == 2


def test_manual_reminder_is_worded_like_the_current_stage(meeting, organizer):
    from django.core import mail

    at = meeting.ends_at + timedelta(hours=30)
    notifications.remind_now(meeting=meeting, now=at)
    notifications.deliver(Notification.objects.get().pk, now=at)
    assert mail.outbox[0].subject.startswith("Recap overdue")
    mail.outbox.clear()
    before = meeting.starts_at - timedelta(hours=30)  # agenda due within a day
    Notification.objects.all().delete()
    notifications.remind_now(meeting=meeting, now=before)
    row = Notification.objects.get()
    assert row.kind == Kind.AGENDA_REMINDER
    notifications.deliver(row.pk, now=before)
    assert mail.outbox[0].subject.startswith("Agenda due")


def test_remind_now_skips_working_hours(meeting, organizer):
    organizer.work_days = 0b0000001  # Mondays only
    organizer.save()
    at = meeting.ends_at + timedelta(hours=2)
    notifications.remind_now(meeting=meeting, now=at)
    assert Notification.objects.get().send_after <= at + outbox.outbox_lease()


def _many_due_meetings(team, organizer, count, now):
    """`count` meetings whose "due tomorrow" stage is due at `now`."""
    starts = now + timedelta(hours=47)
    objs = [
        Meeting(
            team=team, organizer=organizer, title=f"M{n}", starts_at=starts,
            ends_at=starts + timedelta(hours=1), time_zone="UTC", created_at=now,
            next_reminder_at=now - timedelta(minutes=1),
        )
        for n in range(count)
    ]  # fmt: skip
    Meeting.objects.bulk_create(objs)


def _not_due_meetings(team, organizer, count, now):
    starts = now + timedelta(days=30)
    Meeting.objects.bulk_create(
        Meeting(
            team=team, organizer=organizer, title=f"Later {n}", starts_at=starts,
            ends_at=starts + timedelta(hours=1), time_zone="UTC", created_at=now,
            next_reminder_at=starts - timedelta(hours=48),
        )
        for n in range(count)
    )  # fmt: skip


def test_sweep_query_count_is_constant_with_10_or_1000_meetings(team, organizer, now):
    from django.test.utils import CaptureQueriesContext

    _many_due_meetings(team, organizer, 10, now)
    with CaptureQueriesContext(connection) as small:
        result = notifications.sweep(now=now, batch_size=2000)
    assert result.queued == 10
    _many_due_meetings(team, organizer, 1000, now)
    with CaptureQueriesContext(connection) as large:
        result = notifications.sweep(now=now, batch_size=2000)
    assert result.queued == 1000
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(large.captured_queries) <= 10


def test_sweep_cost_does_not_follow_rows_that_are_not_due(team, organizer, now):
    from django.test.utils import CaptureQueriesContext

    _many_due_meetings(team, organizer, 5, now)
    _not_due_meetings(team, organizer, 10, now)
    with CaptureQueriesContext(connection) as small:
        notifications.sweep(now=now)
    _many_due_meetings(team, organizer, 5, now + timedelta(seconds=1))
    _not_due_meetings(team, organizer, 1000, now)
    with CaptureQueriesContext(connection) as large:
        result = notifications.sweep(now=now + timedelta(seconds=1))
    assert result.meetings == 5
    assert len(small.captured_queries) == len(large.captured_queries)


def test_sweep_works_in_bounded_batches(team, organizer, now):
    _many_due_meetings(team, organizer, 25, now)
    result = notifications.sweep(now=now, batch_size=10)
    assert result.batches == 3
    assert result.queued == 25
    assert not Meeting.objects.filter(next_reminder_at__lte=now).exists()


def test_sweep_query_uses_the_partial_index(team, organizer, now):
    _not_due_meetings(team, organizer, 3000, now)
    _many_due_meetings(team, organizer, 5, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE meetings_meeting")
    # The sweep's claim (EXPLAIN without ANALYZE plans it and changes nothing).
    plan = notifications.sweeper.due_meetings(now, 500).explain()
    assert "meeting_reminder_due_idx" in plan, plan


def test_new_team_admin_is_told_at_escalation(meeting, team, now):
    admin2 = UserFactory(time_zone="UTC")
    MembershipFactory(user=admin2, team=team, role="owner")
    notifications.sweep(now=meeting.ends_at + timedelta(hours=73))
    assert admin2.pk in {r[2] for r in rows(kind=Kind.RECAP_ESCALATION)}


def test_remind_now_sends_nothing_for_a_canceled_meeting(meeting, organizer, now):
    services.cancel_meeting(meeting=meeting, by=organizer, now=now)
    assert notifications.remind_now(meeting=meeting, now=now) == 0
    assert Notification.objects.count() == 0
