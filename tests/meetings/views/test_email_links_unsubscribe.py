"""The unsubscribe link of an agenda email, once its meeting has started."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import Attendee
from meetings.notifications import messages
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


def link(user, meeting) -> str:
    url, _headers = messages.unsubscribe_headers(
        user, list_name="meeting", now=timezone.now(), meeting=meeting
    )
    return url.replace("http://localhost:8000", "")


@pytest.fixture
def past_recapped(team, organizer, member):
    start = timezone.now() - timedelta(days=3)
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=start,
        now=start - timedelta(days=2),
    )  # fmt: skip
    meeting.recap_summary, meeting.no_action_items = "Done.", True
    meeting.save()
    meeting.publish_recap(by=organizer, now=timezone.now())
    Attendee.objects.filter(meeting=meeting, user=member).update(rsvp=Attendee.Rsvp.YES)
    return meeting


@pytest.mark.parametrize("method", ["get", "post"])
def test_link_of_a_past_recapped_meeting_says_it_is_over_and_changes_nothing(
    past_recapped, member, method
):
    path = link(member, past_recapped)
    response = getattr(Client(), method)(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f"“{past_recapped.title}” is over: nothing to unsubscribe from" in body
    assert "<form" not in body.split("<main", 1)[1]
    assert Attendee.objects.get(meeting=past_recapped, user=member).rsvp == Attendee.Rsvp.YES


def test_link_of_a_meeting_in_progress_says_it_started_and_changes_nothing(
    team, organizer, member
):
    start = timezone.now() - timedelta(minutes=10)
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=start,
        now=start - timedelta(days=2),
    )  # fmt: skip
    before = Attendee.objects.get(meeting=meeting, user=member).rsvp
    response = Client().post(link(member, meeting))
    assert "has already started: nothing to unsubscribe from" in response.content.decode()
    assert Attendee.objects.get(meeting=meeting, user=member).rsvp == before


def test_link_of_an_upcoming_meeting_still_declines_it(upcoming, member):
    path = link(member, upcoming)
    assert "Stop agenda emails" in Client().get(path).content.decode()
    Client().post(path)
    assert Attendee.objects.get(meeting=upcoming, user=member).rsvp == Attendee.Rsvp.NO
