"""'Could this have been an e-mail?' figures (issue 14) against a hand-computed world,
the place of meetings settled in writing in the compliance figures, and query cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import services
from meetings.models import AgendaItem, Attendee, Decision, Meeting, Outcome, Series
from meetings.reports.compliance import compliance_report
from meetings.reports.unrecapped import unrecapped_meetings
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory
from tests.meetings.reports.worlds import bulk_meetings

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
START, END = date(2026, 2, 16), date(2026, 3, 4)


def at(day: int, hour: int, month: int = 2, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def agenda(meeting: Meeting, by, *boxes: int) -> list[AgendaItem]:
    meeting.desired_outcome = "Decide."
    meeting.save(update_fields=["desired_outcome"])
    return [
        services.add_agenda_item(
            meeting=meeting,
            title=f"Item {n}",
            added_by=by,
            timebox_minutes=box,
            now=meeting.created_at,
        )  # fmt: skip
        for n, box in enumerate(boxes)
    ]


def recap(meeting: Meeting, by, *, hours_after: int, decisions: int = 0) -> None:
    for n in range(decisions):
        Decision.objects.create(meeting=meeting, text=f"Decision {n}", position=n)
    meeting.recap_summary, meeting.no_action_items = "Done.", True
    meeting.save(update_fields=["recap_summary", "no_action_items"])
    meeting.publish_recap(by=by, now=meeting.ends_at + timedelta(hours=hours_after))


def in_series(meeting: Meeting, series: Series) -> None:
    Meeting.objects.filter(pk=meeting.pk).update(series=series, occurrence_start=meeting.starts_at)


@pytest.fixture
def world(team, organizer, member, team_admin):
    """The figures below are computed by hand from this world.

    S1, S2, S3: the organizer's weekly series "Design review"; M4: the admin's.
    - S1 Tue 17 Feb 10:00, 60 min; organizer, member, and a colleague who declined:
      2 attendees → 2 person-hours. Both items only "discussed"; recap 2 h after the
      end with no decision and no action item (an "empty" recap).
    - S2 Tue 24 Feb 10:00, 30 min; organizer, member, colleague (pending): 3 × 0.5 h
      = 1.5 person-hours. One item decided, one discussed; recap 4 h after, 1 decision.
    - S3 Mon 2 Mar 10:00, 45 min; organizer, member. Both items settled in writing and
      the meeting settled in writing on 1 Mar (no agenda ever sent): saves 2 × 0.75 h
      = 1.5 person-hours; its recap has the 2 settlements as decisions.
    - M4 Wed 25 Feb 10:00, planned 60 min; admin, organizer, member. The 40-minute item
      settled, then shortened to 20 min: 3 × 20 min = 1 person-hour held, 3 × 40 min
      = 2 person-hours saved by shortening. Never recapped (grace long over).
    - Canceled, and another team's meeting: in no figure.
    """
    colleague = UserFactory(display_name="Colleague")
    MembershipFactory(user=colleague, team=team)
    weekly = Series.objects.create(
        team=team, organizer=organizer, title="Design review", rrule="FREQ=WEEKLY",
        first_start=at(17, 10), duration=timedelta(hours=1), time_zone="UTC",
    )  # fmt: skip

    s1 = MeetingFactory(team=team, organizer=organizer, attendees=[member, colleague],
                        starts_at=at(17, 10), title="S1", now=at(10, 9))  # fmt: skip
    Attendee.objects.filter(meeting=s1, user=colleague).update(rsvp=Attendee.Rsvp.NO)
    agenda(s1, organizer, 30, 30)
    s1.send_agenda(by=organizer, now=at(14, 9))
    s1.agenda_items.update(outcome=Outcome.DISCUSSED)
    recap(s1, organizer, hours_after=2)

    s2 = MeetingFactory(team=team, organizer=organizer, attendees=[member, colleague],
                        starts_at=at(24, 10), duration=timedelta(minutes=30), title="S2",
                        now=at(17, 12))  # fmt: skip
    first, second = agenda(s2, organizer, 15, 15)
    s2.send_agenda(by=organizer, now=at(21, 9))
    AgendaItem.objects.filter(pk=first.pk).update(outcome=Outcome.DECIDED)
    AgendaItem.objects.filter(pk=second.pk).update(outcome=Outcome.DISCUSSED)
    recap(s2, organizer, hours_after=4, decisions=1)

    s3 = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                        starts_at=at(2, 10, month=3), duration=timedelta(minutes=45),
                        title="S3", now=at(24, 12))  # fmt: skip
    for item in agenda(s3, organizer, 20, 25):
        services.settle_item(item=item, resolution="Agreed in the thread", by=organizer,
                             now=at(1, 9, month=3))  # fmt: skip
    services.settle_meeting_in_writing(meeting=s3, by=organizer, summary="All settled.",
                                       no_action_items=True, now=at(1, 10, month=3))  # fmt: skip
    for meeting in (s1, s2, s3):
        in_series(meeting, weekly)

    m4 = MeetingFactory(team=team, organizer=team_admin, attendees=[organizer, member],
                        starts_at=at(25, 10), title="M4", now=at(18, 9))  # fmt: skip
    short, long = agenda(m4, team_admin, 20, 40)
    m4.send_agenda(by=team_admin, now=at(23, 9))
    services.settle_item(item=long, resolution="Use the old logo", by=team_admin, now=at(24, 9))
    services.shorten_meeting(meeting=m4, by=team_admin, now=at(24, 10))
    m4.refresh_from_db()
    assert (m4.ends_at, m4.shortened_minutes) == (at(25, 10, minute=20), 40)

    canceled = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                              starts_at=at(26, 10), now=at(18, 9))  # fmt: skip
    canceled.cancel(by=organizer, now=at(20, 9))

    other = TeamFactory(name="Elsewhere")
    stranger = UserFactory()
    MembershipFactory(user=stranger, team=other)
    MeetingFactory(team=other, organizer=stranger, starts_at=at(17, 12), now=at(10, 9))
    return {"S1": s1, "S2": s2, "S3": s3, "M4": m4, "series": weekly}


def report(scope=None):
    scope = Meeting.objects.all() if scope is None else scope
    return compliance_report(scope, start=START, end=END, now=NOW)


def test_email_figures_for_the_team(team, world):
    total = report(Meeting.objects.for_team(team)).total
    assert (total.held, total.settled) == (3, 1)  # S1 S2 M4; S3
    # 2 × 60 + 3 × 30 + 3 × 20 = 270 person-minutes; the declined colleague is not counted.
    assert total.person_minutes_held == 270
    assert total.person_hours_held == 4.5
    assert total.person_hours_saved_settling == 1.5  # S3: 2 × 45 min
    assert total.person_hours_saved_shortening == 2.0  # M4: 3 × 40 min
    assert total.person_hours_saved == 3.5
    # Recaps: S1 (empty), S2 (a decision), S3 (its settlements).
    assert (total.empty_recaps, total.recapped, total.empty_recap_pct) == (1, 3, 33.3)
    assert total.only_discussed == 1  # S1; S2 had a decided item
    assert total.items_settled == 3  # S3's two, M4's one


def test_a_meeting_settled_in_writing_is_recapped_on_time_and_not_held(team, world):
    total = report(Meeting.objects.for_team(team)).total
    # S3 never had its agenda sent, yet it is no "held without agenda": 3 of 3 held.
    assert total.agenda_before_start_pct == 100.0
    # Judged: S1 S2 S3 (recapped) and M4 (grace over); on time: S1 S2 and S3.
    assert (total.recap_in_grace, total.recap_judged) == (3, 4)
    # The median runs from the end to the recap of meetings held: S1 2 h, S2 4 h.
    assert total.median_to_recap == timedelta(hours=3)
    # It owes no recap, so the dashboard of meetings needing a reminder leaves it out.
    owing = unrecapped_meetings(NOW, team=team)
    assert list(owing.values_list("title", flat=True)) == ["M4"]


def test_email_figures_per_organizer(team, organizer, team_admin, world):
    rows = {row.key: row for row in report(Meeting.objects.for_team(team)).organizers}
    mine = rows[organizer.pk]
    assert (mine.held, mine.settled, mine.person_hours_held) == (2, 1, 3.5)
    assert (mine.person_hours_saved_settling, mine.person_hours_saved_shortening) == (1.5, 0)
    assert (mine.empty_recap_pct, mine.only_discussed, mine.items_settled) == (33.3, 1, 2)
    admins = rows[team_admin.pk]
    assert (admins.held, admins.settled, admins.person_hours_held) == (1, 0, 1.0)
    assert (admins.person_hours_saved_settling, admins.person_hours_saved_shortening) == (0, 2)
    assert admins.empty_recap_pct is None  # no recap published: no share, not 0 %
    assert (admins.only_discussed, admins.items_settled) == (0, 1)


def test_email_figures_per_series_leave_out_meetings_of_no_series(team, world):
    (weekly,) = report(Meeting.objects.for_team(team)).series
    assert (weekly.key, weekly.label) == (world["series"].pk, "Design review")
    assert (weekly.held, weekly.settled) == (2, 1)  # S1 S2; S3 — not M4
    assert (weekly.empty_recaps, weekly.recapped, weekly.empty_recap_pct) == (1, 3, 33.3)
    assert (weekly.person_hours_held, weekly.person_hours_saved_settling) == (3.5, 1.5)
    assert weekly.person_hours_saved_shortening == 0
    assert (weekly.only_discussed, weekly.items_settled) == (1, 2)


def test_email_figures_per_team_in_the_all_teams_scope(team, world):
    rows = {row.label: row for row in report().teams}
    assert rows[team.name].person_hours_held == 4.5
    # The other team's meeting, organizer alone, 60 min; no recap, no items.
    elsewhere = rows["Elsewhere"]
    assert (elsewhere.held, elsewhere.person_hours_held, elsewhere.items_settled) == (1, 1.0, 0)
    assert report().total.person_hours_held == 5.5


def test_email_figures_by_week(team, world):
    weeks = {row.key: row for row in report(Meeting.objects.for_team(team)).trend}
    assert list(weeks) == [date(2026, 2, 16), date(2026, 2, 23), date(2026, 3, 2)]
    s1_week, s2_m4_week, s3_week = weeks.values()
    assert (s1_week.person_hours_held, s1_week.empty_recap_pct, s1_week.only_discussed) == (
        2.0,
        100.0,
        1,
    )
    assert (s2_m4_week.held, s2_m4_week.person_hours_held) == (2, 2.5)
    assert (s2_m4_week.person_hours_saved_shortening, s2_m4_week.items_settled) == (2.0, 1)
    # A week with only a meeting settled in writing is in the trend, with 0 hours held.
    assert (s3_week.held, s3_week.settled, s3_week.person_hours_held) == (0, 1, 0.0)
    assert (s3_week.person_hours_saved_settling, s3_week.items_settled) == (1.5, 2)


def count_queries(scope) -> int:
    with CaptureQueriesContext(connection) as queries:
        figures = report(scope)
    assert figures.total.held  # the figures were computed, not skipped
    return len(queries)


def test_query_count_is_the_same_for_10_and_1000_meetings(db):
    small_team = TeamFactory()
    small_people = [UserFactory() for _ in range(3)]
    bulk_meetings(small_team, small_people, 10, first=at(16, 8))
    few = count_queries(Meeting.objects.all())
    for _ in range(2):
        big_team = TeamFactory()
        people = [UserFactory() for _ in range(5)]
        bulk_meetings(big_team, people, 495, first=at(16, 8))
    assert Meeting.objects.count() == 1000
    figures = report()
    assert figures.total.settled and figures.total.person_minutes_shortened
    assert figures.total.items_settled and figures.total.only_discussed
    assert len(figures.series) == 6
    assert count_queries(Meeting.objects.all()) == few
    assert count_queries(Meeting.objects.for_team(big_team)) == few
