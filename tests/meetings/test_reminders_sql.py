"""The set-based sweep (one PostgreSQL statement) does exactly what the Python sweep does.

`reminders._sweep_batch_python` is the readable reference built on `stages_for`;
`reminders._sweep_batch_sql` is what runs on PostgreSQL. Both run over the same
meetings at many moments of their life, each in a savepoint that is rolled back,
and must queue the same outbox rows and store the same next due times.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from meetings import reminders
from meetings.models import Meeting, Notification
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL sweep"),
]


class _Undo(Exception):
    pass


def _outcome(batch, now) -> tuple[list, list]:
    """Run one sweep with `batch`, return (outbox rows, next due times), undo it all."""
    found: tuple[list, list] = ([], [])
    try:
        with transaction.atomic():
            Meeting.objects.update(next_reminder_at=now - timedelta(minutes=1))
            result = reminders.SweepResult()
            while batch(now, 3, result):
                pass
            found = (
                sorted(
                    Notification.objects.values_list(
                        "meeting_id", "kind", "stage", "recipient_id", "send_after"
                    )
                ),
                sorted(Meeting.objects.values_list("pk", "next_reminder_at")),
            )
            raise _Undo
    except _Undo:
        pass
    return found


@pytest.fixture
def meetings(team, organizer, member, team_admin, now):
    # Around the clock for one, office hours in three zones for the others, so
    # both the in-statement insert and the working-hours path are exercised.
    night_owl = UserFactory(time_zone="Pacific/Auckland")
    night_owl.work_days, night_owl.work_start, night_owl.work_end = 0b1111111, "00:00", "23:59"
    night_owl.save()
    MembershipFactory(user=night_owl, team=team, role="owner")
    made = [
        MeetingFactory(team=team, organizer=organizer, attendees=[member, night_owl], now=now),
        MeetingFactory(
            team=team, organizer=night_owl, attendees=[member, organizer], now=now,
            starts_at=now + timedelta(hours=30),
        ),
        MeetingFactory(
            team=team, organizer=member, attendees=[team_admin], now=now,
            starts_at=now - timedelta(days=5), duration=timedelta(minutes=30),
        ),
        MeetingFactory(
            team=team, organizer=team_admin, now=now, starts_at=now - timedelta(days=45),
        ),
    ]  # fmt: skip
    # One with its agenda sent, one canceled: fewer stages, or none.
    Meeting.objects.filter(pk=made[1].pk).update(
        agenda_sent_at=now - timedelta(days=1), desired_outcome="A decision"
    )
    canceled = MeetingFactory(team=team, organizer=organizer, now=now)
    Meeting.objects.filter(pk=canceled.pk).update(canceled_at=now)
    return made


@pytest.mark.parametrize(
    "offset_hours",
    [-200, -48, -30, -24, -3, 0, 2, 30, 47, 48, 49, 50, 60, 75, 100, 24 * 10 + 5, 24 * 40],
)
def test_sql_sweep_queues_what_the_python_sweep_queues(meetings, team, now, offset_hours):
    team.agenda_lead_time = timedelta(hours=20)
    team.recap_grace = timedelta(hours=10)
    team.save()
    moment = now + timedelta(hours=offset_hours, minutes=17)
    python = _outcome(reminders._sweep_batch_python, moment)
    sql = _outcome(reminders._sweep_batch_sql, moment)
    assert sql == python
    assert python[0] or offset_hours < -48, "the moment should have something due"


def test_sql_sweep_skips_a_team_without_no_agenda_notices(meetings, team, now):
    team.notify_no_agenda = False
    team.save()
    moment = meetings[0].starts_at + timedelta(minutes=5)
    sql = _outcome(reminders._sweep_batch_sql, moment)
    assert sql == _outcome(reminders._sweep_batch_python, moment)
    assert not [row for row in sql[0] if row[1] == Notification.Kind.NO_AGENDA_NOTICE]
