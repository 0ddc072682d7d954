"""Compliance figures against a hand-computed fixture, and their query cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import services
from meetings.models import ActionItem, Meeting
from meetings.reports import compliance
from meetings.reports.compliance import compliance_report
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    ready_agenda,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
START, END = date(2026, 2, 16), date(2026, 3, 4)


def at(day: int, hour: int, month: int = 2) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def held(team, organizer, attendees, starts_at, *, agenda_at=None, recap_after=None, title="M"):
    """A meeting that happened; agenda sent at `agenda_at`, recap `recap_after` the end."""
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=attendees, starts_at=starts_at,
        title=title, now=starts_at - timedelta(days=5),
    )  # fmt: skip
    if agenda_at:
        ready_agenda(meeting, by=organizer)
        meeting.send_agenda(by=organizer, now=agenda_at)
    if recap_after is not None:
        meeting.recap_summary = "We decided."
        if not meeting.action_items.exists():
            meeting.no_action_items = True
        meeting.save(update_fields=["recap_summary", "no_action_items"])
        meeting.publish_recap(by=organizer, now=meeting.ends_at + recap_after)
    return meeting


def action(meeting, owner, due: date, done_at: datetime | None = None):
    item = services.add_action_item(
        meeting=meeting, description="Do it", owner=owner, due_date=due, now=meeting.ends_at
    )
    if done_at:
        item.complete(now=done_at)
    return item


@pytest.fixture
def fixture_meetings(team, organizer, member, team_admin):
    """Team (lead 24 h, grace 24 h). Hand-computed figures are in the tests below."""
    # A: agenda 2 days ahead, recap 2 h after end, acknowledged; one item done on time.
    a = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                       starts_at=at(17, 10), title="A", now=at(10, 9))  # fmt: skip
    action(a, member, date(2026, 2, 20), done_at=at(19, 15))
    ready_agenda(a, by=organizer)
    a.send_agenda(by=organizer, now=at(15, 10))
    a.recap_summary = "Done."
    a.save(update_fields=["recap_summary"])
    a.publish_recap(by=organizer, now=a.ends_at + timedelta(hours=2))
    a.attendees.get(user=member).acknowledge(now=at(18, 9))
    # B: agenda 1 h before start (before start, not lead time), recap 30 h after end,
    # not acknowledged; one item done late, one open past its due date.
    b = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                       starts_at=at(18, 10), title="B", now=at(10, 9))  # fmt: skip
    ready_agenda(b, by=organizer)
    b.send_agenda(by=organizer, now=at(18, 9))
    action(b, member, date(2026, 2, 20), done_at=at(22, 10))
    action(b, member, date(2026, 2, 25))
    b.recap_summary = "Done."
    b.save(update_fields=["recap_summary"])
    b.publish_recap(by=organizer, now=b.ends_at + timedelta(hours=30))
    # C: held without agenda, never recapped (grace long over).
    held(team, organizer, [member], at(19, 10), title="C")
    # D: canceled: excluded everywhere.
    d = MeetingFactory(team=team, organizer=organizer, starts_at=at(20, 10), now=at(10, 9))
    d.cancel(by=organizer, now=at(19, 10))
    # F: by the team admin, agenda on lead time, recap 10 h after end, acknowledged.
    f = held(team, team_admin, [member], at(25, 10), agenda_at=at(23, 10),
             recap_after=timedelta(hours=10), title="F")  # fmt: skip
    f.attendees.get(user=member).acknowledge(now=at(27, 9))
    # G: ended 2 h ago without agenda or recap: held, but its recap is not due yet.
    held(team, organizer, [member], at(4, 9, month=3), title="G")
    # Not held: still running at NOW, and one outside the period.
    held(team, organizer, [member], at(4, 11, month=3) + timedelta(minutes=30), title="running")
    held(team, organizer, [member], at(10, 10), agenda_at=at(1, 10), title="before period")
    # Another team's meeting: only in the all-teams scope.
    other = TeamFactory(name="Other")
    stranger = UserFactory()
    MembershipFactory(user=stranger, team=other)
    held(other, stranger, [], at(17, 12), agenda_at=at(10, 12), recap_after=timedelta(hours=1))
    return {"A": a, "B": b}


def test_team_totals_match_hand_computed_figures(team, fixture_meetings):
    report = compliance_report(Meeting.objects.for_team(team), start=START, end=END, now=NOW)
    total = report.total
    # Held: A, B, C, F, G (D canceled, "running" not ended, one before the period).
    assert total.held == 5
    assert total.agenda_before_start_pct == 60.0  # A, B, F
    assert total.agenda_lead_time_pct == 40.0  # A, F (B was an hour ahead)
    # G is still inside its grace period, so 4 are judged: A and F within grace.
    assert total.recap_judged == 4
    assert total.recapped_in_grace_pct == 50.0
    assert total.median_to_recap == timedelta(hours=10)  # of 2 h, 30 h, 10 h
    assert total.acknowledged_pct == pytest.approx(66.7)  # A and F of A, B, F
    # A's item on time; B's late one and B's open overdue one are not.
    assert total.actions_judged == 3
    assert total.actions_on_time_pct == pytest.approx(33.3)


def test_figures_per_organizer(team, organizer, team_admin, fixture_meetings):
    report = compliance_report(Meeting.objects.for_team(team), start=START, end=END, now=NOW)
    rows = {row.key: row for row in report.organizers}
    mine = rows[organizer.pk]
    assert (mine.held, mine.agenda_sent, mine.agenda_on_lead) == (4, 2, 1)
    assert (mine.recap_judged, mine.recap_in_grace) == (3, 1)
    assert mine.median_to_recap == timedelta(hours=16)  # mean of the middle pair 2 h, 30 h
    assert mine.acknowledged_pct == 50.0
    admins = rows[team_admin.pk]
    assert (admins.held, admins.agenda_lead_time_pct, admins.recapped_in_grace_pct) == (
        1,
        100,
        100,
    )
    assert admins.actions_on_time_pct is None  # no action items: no figure, not 0 %
    assert mine.label == organizer.display_name


def test_all_teams_scope_has_one_row_per_team(team, fixture_meetings):
    report = compliance_report(Meeting.objects.all(), start=START, end=END, now=NOW)
    rows = {row.label: row for row in report.teams}
    assert rows[team.name].held == 5
    assert rows["Other"].held == 1
    assert rows["Other"].recapped_in_grace_pct == 100
    assert report.total.held == 6


def test_trend_starts_at_the_first_week_with_meetings(team, fixture_meetings):
    report = compliance_report(Meeting.objects.for_team(team), start=START, end=END, now=NOW)
    # The team's first held meeting is in the week of 9 Feb: no empty weeks before it.
    assert [row.key for row in report.trend] == [
        date(2026, 2, 9), date(2026, 2, 16), date(2026, 2, 23), date(2026, 3, 2)
    ]  # fmt: skip
    assert [row.held for row in report.trend] == [1, 3, 1, 1]  # -, A B C, F, G


def test_trend_keeps_empty_weeks_after_the_first_as_gaps(team, organizer, member):
    held(team, organizer, [member], at(2, 9), agenda_at=at(1, 9))
    held(team, organizer, [member], at(23, 9), agenda_at=at(20, 9))
    report = compliance_report(Meeting.objects.for_team(team), start=START, end=END, now=NOW)
    assert report.trend[0].key == date(2026, 2, 2)
    assert [row.held for row in report.trend] == [1, 0, 0, 1, 0]
    assert report.trend[1].agenda_before_start_pct is None
    assert report.trend[3].agenda_before_start_pct == 100


def test_trend_is_at_most_twelve_weeks_and_empty_without_meetings(team, organizer, member):
    scope = Meeting.objects.for_team(team)
    assert compliance_report(scope, start=START, end=END, now=NOW).trend == []
    first_monday = date(2026, 3, 2) - timedelta(weeks=compliance.TREND_WEEKS - 1)
    in_first_week = datetime(2025, 12, 15, 9, tzinfo=UTC)
    assert in_first_week.date() == first_monday
    held(team, organizer, [member], in_first_week)
    held(team, organizer, [member], in_first_week - timedelta(weeks=20))
    trend = compliance_report(scope, start=START, end=END, now=NOW).trend
    assert len(trend) == compliance.TREND_WEEKS
    assert trend[0].key == first_monday
    assert sum(row.held for row in trend) == 1  # the older meeting is outside the window


def test_window_median_fallback_agrees_with_percentile_cont(team, organizer, team_admin,
                                                            fixture_meetings):  # fmt: skip
    """The SQLite path (window functions) gives the same medians as PostgreSQL's."""
    scope = compliance.period_meetings(
        Meeting.objects.for_team(team),
        datetime(2026, 2, 16, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC), NOW,
    )  # fmt: skip
    by_organizer = compliance.median_by_window(scope, "organizer_id")
    assert by_organizer == {organizer.pk: timedelta(hours=16), team_admin.pk: timedelta(hours=10)}
    assert compliance.median_by_window(scope, "") == {None: timedelta(hours=10)}


def make_meetings(team, organizers, count: int) -> None:
    """Many held meetings, written in bulk (the figures, not the writes, are under test)."""
    rows = []
    for n in range(count):
        starts = at(16, 8) + timedelta(hours=n % 300)
        rows.append(
            Meeting(
                team=team, organizer=organizers[n % len(organizers)], title=f"M{n}",
                starts_at=starts, ends_at=starts + timedelta(minutes=30), time_zone="UTC",
                desired_outcome="x", agenda_sent_at=starts - timedelta(hours=n % 48 + 1),
                recap_summary="s" if n % 3 else "",
                recap_published_at=starts + timedelta(hours=n % 40 + 1) if n % 3 else None,
                no_action_items=True,
            )
        )  # fmt: skip
    Meeting.objects.bulk_create(rows)


def count_queries(scope) -> int:
    with CaptureQueriesContext(connection) as queries:
        compliance_report(scope, start=START, end=END, now=NOW)
    return len(queries)


def test_query_count_does_not_grow_with_meetings_teams_or_organizers(db):
    small_team = TeamFactory()
    small_people = [UserFactory() for _ in range(2)]
    make_meetings(small_team, small_people, 10)
    small = count_queries(Meeting.objects.all())
    for _ in range(4):
        big_team = TeamFactory()
        people = [UserFactory() for _ in range(5)]
        make_meetings(big_team, people, 50)
    assert Meeting.objects.count() == 210
    assert count_queries(Meeting.objects.all()) == small
    # Meetings and items for the total, per team and per organizer (2 each), items per
    # owner, meetings per series, the trend's meetings and its items.
    assert small <= 10


# -- action items against their first due date, and re-dated ones ---------------------


def redated(item, *, to: date, times: int = 1):
    """As if its owner had moved it: the first due date kept, the count raised."""
    ActionItem.objects.filter(pk=item.pk).update(
        original_due_date=item.due_date, due_date=to, redated_count=times
    )
    item.refresh_from_db()
    return item


@pytest.fixture
def moved_items(team, organizer, member, team_admin):
    """Hand-computed figures in the tests below (NOW is 4 Mar 12:00 UTC)."""
    a = held(team, organizer, [member], at(17, 10), title="A")
    action(a, member, date(2026, 2, 20), done_at=at(19, 15))  # i1: on time, never moved
    i2 = action(a, member, date(2026, 2, 20))  # i2: moved to 27 Feb, done 25 Feb
    redated(i2, to=date(2026, 2, 27))
    i2.complete(now=at(25, 9))
    i3 = action(a, member, date(2026, 2, 20))  # i3: moved twice to 10 Mar, still open
    redated(i3, to=date(2026, 3, 10), times=2)
    action(a, team_admin, date(2026, 3, 10))  # i4: not due yet
    b = held(team, team_admin, [member, organizer], at(25, 10), title="B")
    # i6: done late in the evening of its due day (UTC): on time.
    action(b, organizer, date(2026, 2, 26), done_at=at(26, 23) + timedelta(minutes=30))
    i7 = action(b, member, date(2026, 2, 27))  # i7: moved to 2 Mar, done 3 Mar
    redated(i7, to=date(2026, 3, 2))
    i7.complete(now=at(3, 8, month=3))
    # An item of another team's meeting: not in this team's figures.
    other = TeamFactory(name="Elsewhere")
    stranger = UserFactory()
    MembershipFactory(user=stranger, team=other)
    elsewhere = held(other, stranger, [], at(17, 12))
    redated(action(elsewhere, stranger, date(2026, 2, 18)), to=date(2026, 2, 19))


def test_done_by_first_due_date_and_redated_totals(team, moved_items):
    total = compliance_report(Meeting.objects.for_team(team), start=START, end=END, now=NOW).total
    assert total.actions == 6
    # Judged against the first due date: the four done (i1 i2 i6 i7) and i3, whose first
    # date (20 Feb) has passed although it now says 10 Mar; i4 is not due. On time: i1, i6.
    assert (total.actions_done_by_first_due, total.actions_first_judged) == (2, 5)
    assert total.actions_by_first_due_pct == 40.0
    # Against the current dates i2 looks on time and i3 is not judged: 3 of 4.
    assert (total.actions_done_on_time, total.actions_judged) == (3, 4)
    assert (total.actions_redated, total.actions_redated_pct) == (3, 50.0)  # i2 i3 i7


def test_first_due_date_figures_per_organizer_owner_and_week(
    team, organizer, member, team_admin, moved_items
):
    report = compliance_report(Meeting.objects.for_team(team), start=START, end=END, now=NOW)
    by_organizer = {row.key: row for row in report.organizers}
    mine = by_organizer[organizer.pk]  # A: i1 i2 i3 i4
    assert (mine.actions_done_by_first_due, mine.actions_first_judged) == (1, 3)
    assert mine.actions_by_first_due_pct == pytest.approx(33.3)
    assert (mine.actions_redated, mine.actions, mine.actions_redated_pct) == (2, 4, 50.0)
    admins = by_organizer[team_admin.pk]  # B: i6 i7
    assert (admins.actions_by_first_due_pct, admins.actions_redated_pct) == (50.0, 50.0)

    by_owner = {row.key: row for row in report.owners}
    assert set(by_owner) == {member.pk, organizer.pk, team_admin.pk}
    members = by_owner[member.pk]  # i1 i2 i3 i7
    assert (members.actions_done_by_first_due, members.actions_first_judged) == (1, 4)
    assert (members.actions_by_first_due_pct, members.actions_redated_pct) == (25.0, 75.0)
    assert members.label == member.display_name
    assert by_owner[organizer.pk].actions_by_first_due_pct == 100.0  # i6
    assert by_owner[team_admin.pk].actions_by_first_due_pct is None  # i4: nothing judged yet
    assert by_owner[team_admin.pk].actions_redated_pct == 0.0

    weeks = {row.key: row for row in report.trend}
    assert weeks[date(2026, 2, 16)].actions_by_first_due_pct == pytest.approx(33.3)  # A
    assert weeks[date(2026, 2, 16)].actions_redated_pct == 50.0
    assert weeks[date(2026, 2, 23)].actions_by_first_due_pct == 50.0  # B
    assert weeks[date(2026, 2, 23)].actions_redated_pct == 50.0


def test_all_teams_scope_counts_every_teams_items(team, moved_items):
    report = compliance_report(Meeting.objects.all(), start=START, end=END, now=NOW)
    rows = {row.label: row for row in report.teams}
    assert rows["Elsewhere"].actions_redated_pct == 100.0
    # Done neither by 18 Feb nor since: judged, not on time.
    assert rows["Elsewhere"].actions_by_first_due_pct == 0.0
    assert report.total.actions == 7


def test_action_item_figures_cost_no_more_queries_with_more_items(team, organizer, member):
    scope = Meeting.objects.for_team(team)
    meeting = held(team, organizer, [member], at(17, 10))
    action(meeting, member, date(2026, 2, 20))
    few = count_queries(scope)
    for n in range(40):
        m = held(team, organizer if n % 2 else member, [member], at(17 + n % 10, 10 + n % 3))
        for _ in range(3):
            item = action(m, member if n % 3 else organizer, date(2026, 2, 27))
            if n % 4 == 0:
                redated(item, to=date(2026, 3, 1))
            if n % 5 == 0:
                item.complete(now=at(26, 10))
    assert count_queries(scope) == few
