"""The admin's compliance figures: "could this have been an e-mail?" per team,
organizer and series (issue 14), at the same query cost for 10 and 1,000 meetings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings.models import Meeting
from tests.factories import TeamFactory, UserFactory
from tests.meetings.reports.worlds import bulk_meetings, recent_world

pytestmark = pytest.mark.django_db

URL = "/admin/meetings/unrecapped/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_shows_email_figures_per_team_organizer_and_series(staff_client, team, organizer,
                                                                 member, team_admin):  # fmt: skip
    recent_world(team, organizer, member, team_admin, now=timezone.now())
    response = staff_client.get(URL, {"compliance": "1"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    for caption in ("By team", "By organizer", "By series"):
        assert f"<caption>Could this have been an e-mail? {caption}</caption>" in content
    assert f'<th scope="row">{team.name}</th>' in content
    assert '<th scope="row">Design review</th>' in content
    # Team row, organizer row and the "All" rows of both tables.
    assert content.count('<td data-label="Person-hours in meetings">3.5</td>') >= 3
    assert '<td data-label="Person-hours saved by shortening">1.5</td>' in content
    assert '<title id="hours-trend-title">All teams: weekly person-hours' in content


def test_admin_figures_cost_the_same_queries_for_10_and_1000_meetings(staff_client):
    first = timezone.now() - timedelta(days=25)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(URL, {"compliance": "1"}, headers={"HX-Request": "true"})
        assert response.context["report"].total.items_settled
        return len(queries)

    bulk_meetings(TeamFactory(), [UserFactory() for _ in range(3)], 10, first=first)
    few = count()
    for n in range(2):
        people = [UserFactory() for _ in range(4)]
        bulk_meetings(TeamFactory(), people, 495, first=first + timedelta(minutes=n))
    assert Meeting.objects.count() == 1000
    assert count() == few
