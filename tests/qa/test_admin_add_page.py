"""The admin's "Add meeting" page opened with a 500 (status of a meeting with no times)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_add_meeting_page_opens(staff_client):
    response = staff_client.get("/admin/meetings/meeting/add/")
    assert response.status_code == 200
    assert "Add meeting" in response.content.decode()


def test_add_meeting_without_times_shows_the_errors(staff_client, team, organizer):
    response = staff_client.post(
        "/admin/meetings/meeting/add/",
        {
            "title": "No times yet",
            "team": team.pk,
            "organizer": organizer.pk,
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
