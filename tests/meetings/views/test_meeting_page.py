"""The meeting page: its query count does not grow with items, decisions or attendees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings import services
from tests.factories import MeetingFactory, MembershipFactory, UserFactory


def filled_meeting(team, organizer, size: int):
    """A meeting under way with `size` attendees, agenda items, decisions and action items."""
    people = UserFactory.create_batch(size)
    for person in people:
        MembershipFactory(user=person, team=team)
    start = timezone.now() - timedelta(minutes=10)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=people,
                             starts_at=start, now=start - timedelta(days=1))  # fmt: skip
    for n, person in enumerate(people):
        services.add_agenda_item(meeting=meeting, title=f"Item {n}", added_by=person, owner=person)
        services.add_decision(meeting=meeting, text=f"Decision {n}")
        services.add_action_item(meeting=meeting, description=f"Task {n}", owner=person,
                                 due_date=meeting.local_date, now=timezone.now())  # fmt: skip
    return meeting


def test_meeting_page_query_count_does_not_grow(client, team, organizer):
    small = filled_meeting(team, organizer, 1)
    large = filled_meeting(team, organizer, 12)
    client.force_login(organizer)
    client.get(reverse("meetings:detail", args=[small.pk]))  # warm the session
    counts = []
    for meeting in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("meetings:detail", args=[meeting.pk]))
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    assert "Decision 11" in response.content.decode()


@pytest.mark.parametrize("view", ["agenda_item_edit", "action_item_edit", "decision_edit"])
def test_saving_a_part_does_not_load_its_meeting_again(client, team, organizer, view):
    """The part is read through the meeting, so the service gets that meeting without a query."""
    meeting = filled_meeting(team, organizer, 1)
    manager, prefix = {
        "agenda_item_edit": (meeting.agenda_items, "item"),
        "action_item_edit": (meeting.action_items, "action"),
        "decision_edit": (meeting.decisions, "decision"),
    }[view]
    part = manager.get()
    owner = meeting.attendees.exclude(user=organizer).get().user_id
    data = {"title": "T", "text": "T", "description": "T", "owner": owner,
            "due_date": meeting.local_date.isoformat()}  # fmt: skip
    client.force_login(organizer)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse(f"meetings:{view}", args=[meeting.pk, part.pk]),
            {f"{prefix}{part.pk}-{key}": value for key, value in data.items()},
        )
    assert response.status_code == 302
    sqls = [q["sql"] for q in queries.captured_queries]
    plain_reads = [s for s in sqls if 'FROM "meetings_meeting"' in s and "FOR UPDATE" not in s]
    # One plain read, the access-checked fetch; the service then locks the row.
    assert len(plain_reads) == 1
