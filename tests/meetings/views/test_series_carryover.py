"""Publishing a series recap carries its open items into the next meeting; viewing
that meeting changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import series as series_service
from meetings import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def weekly(team, organizer, member, carry_over_inline):
    """A weekly series whose first meeting was six days ago and has an open action item."""
    now = timezone.now()
    first_local = (
        (now - timedelta(days=6))
        .astimezone(organizer.zone)
        .replace(tzinfo=None, second=0, microsecond=0)
    )
    series = series_service.create_series(
        team=team,
        organizer=organizer,
        title="Weekly sync",
        first_start=first_local,
        duration=timedelta(minutes=30),
        time_zone=organizer.time_zone,
        rrule="FREQ=WEEKLY",
        attendees=[member],
        now=now - timedelta(days=7),
    )
    first, second = series.meetings.order_by("starts_at")[:2]
    after = first.ends_at + timedelta(minutes=5)
    services.add_action_item(
        meeting=first, description="Send the budget", owner=member,
        due_date=first.local_date + timedelta(days=2), created_by=organizer, now=after,
    )  # fmt: skip
    first.recap_summary = "Budget pending."
    first.save(update_fields=["recap_summary"])
    with carry_over_inline():
        services.publish_recap(meeting=first, by=organizer, now=after)
    return second


def test_organizer_opening_next_meeting_sees_open_action_item_carried(client, organizer, weekly):
    # Carried when the recap was published, not when the page is viewed.
    before = list(weekly.agenda_items.values_list("pk", "title"))
    client.force_login(organizer)
    response = client.get(reverse("meetings:detail", args=[weekly.pk]))
    assert response.status_code == 200
    assert "Follow up: Send the budget" in response.content.decode()
    assert weekly.agenda_items.get().slipped_count == 1
    assert list(weekly.agenda_items.values_list("pk", "title")) == before


def test_viewing_does_not_change_the_agenda(client, organizer, member, weekly):
    before = list(weekly.agenda_items.values_list("pk", "title", "position"))
    for user in (member, organizer):
        client.force_login(user)
        assert client.get(reverse("meetings:detail", args=[weekly.pk])).status_code == 200
    assert list(weekly.agenda_items.values_list("pk", "title", "position")) == before
