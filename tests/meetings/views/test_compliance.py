"""The team compliance page in the app: team admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import ActionItem, Meeting
from tests.factories import UserFactory
from tests.meetings.reports.worlds import bulk_meetings, recent_world

pytestmark = pytest.mark.django_db


def url(team) -> str:
    return reverse("meetings:team_compliance", args=[team.slug])


def held(team, organizer, *, days_ago: int, agenda: bool, recap_hours: float | None = None):
    starts = timezone.now() - timedelta(days=days_ago)
    return Meeting.objects.create(
        team=team, organizer=organizer, title="Held", time_zone="UTC",
        starts_at=starts, ends_at=starts + timedelta(hours=1),
        desired_outcome="x" if agenda else "",
        agenda_sent_at=starts - timedelta(days=2) if agenda else None,
        recap_summary="s" if recap_hours is not None else "", no_action_items=True,
        recap_published_at=(starts + timedelta(hours=1 + recap_hours)
                            if recap_hours is not None else None),
    )  # fmt: skip


def test_team_admin_sees_figures_chart_and_data_table(client, team, team_admin, organizer):
    held(team, organizer, days_ago=3, agenda=True, recap_hours=2)
    held(team, organizer, days_ago=4, agenda=False)
    client.force_login(team_admin)
    response = client.get(url(team))
    assert response.status_code == 200
    total = response.context["report"].total
    assert (total.held, total.agenda_before_start_pct) == (2, 50.0)
    content = response.content.decode()
    assert '<svg class="trend-chart" role="img"' in content
    assert '<title id="trend-title">' in content
    assert "the numbers behind the chart" in content
    assert organizer.display_name in content
    assert "2 h" in content  # the median time to recap


def test_action_item_figures_per_owner_and_in_the_trend(client, team, team_admin, organizer,
                                                        member):  # fmt: skip
    meeting = held(team, organizer, days_ago=10, agenda=True, recap_hours=2)
    due = timezone.localdate() - timedelta(days=8)
    on_time = ActionItem.objects.create(meeting=meeting, owner=member, due_date=due,
                                        description="On time")  # fmt: skip
    on_time.complete(now=timezone.now() - timedelta(days=9))
    # Moved from its first date (passed, never done): late, and re-dated.
    ActionItem.objects.create(
        meeting=meeting, owner=member, due_date=due + timedelta(days=30),
        original_due_date=due, redated_count=1, description="Moved",
    )  # fmt: skip
    client.force_login(team_admin)
    response = client.get(url(team))
    total = response.context["report"].total
    assert (total.actions_by_first_due_pct, total.actions_redated_pct) == (50.0, 50.0)
    content = response.content.decode()
    assert "<caption>Per owner of action items</caption>" in content
    assert f'<th scope="row">{member.display_name}</th>' in content
    assert content.count("Action items done by first due date</th>") == 3  # 2 tables + trend
    assert '50.0 % <span class="muted">(1/2)</span>' in content
    assert "Action items done by first due date</title>" not in content  # legend is HTML
    assert "action items done by first due date" in content  # the chart's description
    assert "so moving a date does not turn a late item into an on-time one" in content


def test_member_who_is_not_admin_gets_403(client, team, member):
    client.force_login(member)
    assert client.get(url(team)).status_code == 403


def test_outsider_gets_404(client, team, outsider):
    client.force_login(outsider)
    assert client.get(url(team)).status_code == 404


def test_unknown_team_is_404(client, team_admin):
    client.force_login(team_admin)
    assert client.get("/compliance/no-such-team/").status_code == 404


def test_anonymous_is_sent_to_login(client, team):
    response = client.get(url(team))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_other_teams_meetings_are_not_counted(client, team, team_admin, organizer, outsider):
    other_team = outsider.memberships.get().team
    held(other_team, outsider, days_ago=3, agenda=True)
    held(team, organizer, days_ago=3, agenda=False)
    client.force_login(team_admin)
    assert client.get(url(team)).context["report"].total.held == 1


def test_chosen_period_is_used(client, team, team_admin, organizer):
    held(team, organizer, days_ago=40, agenda=True)
    held(team, organizer, days_ago=3, agenda=False)
    client.force_login(team_admin)
    today = timezone.localdate()
    period = {"start": (today - timedelta(days=60)).isoformat(), "end": today.isoformat()}
    assert client.get(url(team), period).context["report"].total.held == 2
    assert client.get(url(team)).context["report"].total.held == 1  # last four weeks


@pytest.mark.parametrize(
    "period",
    [{"start": "2026-03-10", "end": "2026-03-01"}, {"start": "nonsense", "end": ""},
     {"start": "2020-01-01", "end": "2026-01-01"}],
)  # fmt: skip
def test_bad_period_shows_a_message_and_the_default_period(client, team, team_admin, period):
    client.force_login(team_admin)
    response = client.get(url(team), period)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["report"].end == timezone.localdate()
    assert b'role="alert"' in response.content


def test_query_count_does_not_grow_with_meetings(client, team, team_admin):
    organizers = [UserFactory() for _ in range(3)]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(team)).status_code == 200
        return len(queries)

    client.force_login(team_admin)
    for n in range(10):
        held(team, organizers[n % 3], days_ago=n % 20 + 1, agenda=n % 2 == 0, recap_hours=n)
    few = count()
    for n in range(190):
        meeting = held(team, organizers[n % 3], days_ago=n % 20 + 1, agenda=n % 2 == 0,
                       recap_hours=n)  # fmt: skip
        if n % 10 == 0:  # action items of several owners, some moved
            for k in range(3):
                ActionItem.objects.create(
                    meeting=meeting, owner=organizers[k], due_date=meeting.starts_at.date(),
                    description="x", redated_count=k, original_due_date=None if k == 0
                    else meeting.starts_at.date() - timedelta(days=1),
                )  # fmt: skip
    assert count() == few


@pytest.mark.parametrize(
    "period",
    [{"start": "0001-01-01", "end": "0001-01-03"}, {"start": "9999-12-01", "end": "9999-12-31"}],
)
def test_dates_at_the_ends_of_the_calendar_are_refused_not_a_500(client, team, team_admin,
                                                                   period):  # fmt: skip
    client.force_login(team_admin)
    response = client.get(url(team), period)
    assert response.status_code == 200
    assert response.context["form"].errors


# -- "Could this have been an e-mail?" (issue 14) ----------------------------------------


def test_email_figures_are_in_the_tables_with_their_definitions(client, team, team_admin,
                                                                organizer, member):  # fmt: skip
    recent_world(team, organizer, member, team_admin, now=timezone.now())
    client.force_login(team_admin)
    response = client.get(url(team))
    content = response.content.decode()
    assert "<caption>Could this have been an e-mail? By organizer</caption>" in content
    assert "<caption>Could this have been an e-mail? By series</caption>" in content
    assert "Could this have been an e-mail? By team" not in content  # one team's page
    # The organizer's row and the "All" row (everything is the organizer's).
    assert content.count('<td data-label="Person-hours in meetings">3.5</td>') >= 2
    assert '<td data-label="Person-hours saved by settling in writing">1.5</td>' in content
    assert '<td data-label="Person-hours saved by shortening">1.5</td>' in content
    assert ('<td data-label="Recaps with no decisions or action items">50.0 % '
            '<span class="muted">(1/2)</span></td>') in content  # fmt: skip
    assert '<td data-label="Meetings where every item was only discussed">1</td>' in content
    assert '<td data-label="Agenda items settled in writing">1</td>' in content
    # The series row: only B, settled in writing.
    assert '<th scope="row">Design review</th>' in content
    assert '<td data-label="Settled in writing">1</td>' in content
    # The definitions, as worded on the page.
    assert "except those who declined" in content
    assert "attendees × duration (as shortened) of the meetings held" in content
    # The person-hours chart, with ids of its own, and its table.
    assert '<title id="hours-trend-title">' in content
    assert '<title id="trend-title">' in content
    assert "Weekly person-hours and meetings that could have been e-mails" in content
    assert "Saved by settling in writing</li>" in content  # the chart's key
    total = response.context["report"].total
    assert (total.held, total.settled, total.agenda_before_start_pct) == (2, 1, 100.0)
    assert (total.recap_in_grace, total.recap_judged) == (2, 3)  # B on time; C late


def test_email_figures_cost_the_same_queries_for_10_and_1000_meetings(client, team,
                                                                      team_admin):  # fmt: skip
    people = [team_admin, *(UserFactory() for _ in range(4))]
    first = timezone.now() - timedelta(days=25)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(team))
        assert response.context["report"].total.settled
        return len(queries)

    client.force_login(team_admin)
    bulk_meetings(team, people, 10, first=first)
    few = count()
    bulk_meetings(team, people, 990, first=first + timedelta(minutes=30))
    assert Meeting.objects.for_team(team).count() == 1000
    assert count() == few
