"""Two of the organizer's tabs settle the meeting in writing at the same moment: the
locked transition lets exactly one through; the other is told, and nothing is
written twice. Real threads, each with its own PostgreSQL connection."""

from __future__ import annotations

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from meetings import services
from meetings.models import Meeting
from tests.factories import MeetingFactory, ready_agenda


@pytest.mark.django_db(transaction=True)
def test_two_tabs_settling_the_meeting_at_once_settle_it_once(team, organizer, member):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member])
    ready_agenda(meeting, by=organizer, items=2)
    for item in meeting.agenda_items.all():
        services.settle_item(item=item, resolution="Done", by=organizer, now=timezone.now())
    path = reverse("meetings:settle", args=[meeting.pk])
    management = {
        "settle-action-TOTAL_FORMS": "3",
        "settle-action-INITIAL_FORMS": "0",
        "settle-action-MIN_NUM_FORMS": "0",
        "settle-action-MAX_NUM_FORMS": "3",
        "no_action_items": "on",
    }
    start = threading.Barrier(2)
    results: dict[str, tuple[int, list[str]]] = {}
    errors: list[BaseException] = []

    def tab(name: str) -> None:
        try:
            client = Client()
            client.force_login(organizer)
            start.wait(timeout=10)
            response = client.post(path, {**management, "summary": f"Summary from {name}"})
            said = [str(m) for m in get_messages(response.wsgi_request)]
            results[name] = (response.status_code, said)
        except BaseException as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # One redirect after success; the other tab gets the form back with the refusal.
    assert sorted(status for status, _ in results.values()) == [200, 302]
    (winner,) = [name for name, (status, _) in results.items() if status == 302]
    (loser,) = [name for name, (status, _) in results.items() if status == 200]
    assert "The recap was already published." in results[loser][1]

    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.settled_at is not None
    assert meeting.recap_summary == f"Summary from {winner}"
    assert AuditEvent.objects.filter(meeting_id=meeting.pk, action="meeting.settled").count() == 1
