"""(h) Digest delivery through the real worker: database queries per message do not
grow with the number of attendees, agenda items or action items."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery.signals import task_postrun, task_prerun
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import services
from meetings.models import Notification
from meetings.notifications import outbox
from tests.factories import MembershipFactory, UserFactory, ready_agenda
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class WorkerQueries:
    """Counts the queries the worker runs for each task, on the worker's own connection."""

    def __init__(self) -> None:
        self.counts: list[int] = []
        self._open: dict[str, CaptureQueriesContext] = {}
        self.lock = threading.Lock()

    def before(self, task_id=None, **_) -> None:
        context = CaptureQueriesContext(connection)  # the worker thread's connection
        context.__enter__()
        self._open[task_id] = context

    def after(self, task_id=None, **_) -> None:
        context = self._open.pop(task_id, None)
        if context is not None:
            context.__exit__(None, None, None)
            with self.lock:
                self.counts.append(len(context.captured_queries))

    def total(self) -> int:
        with self.lock:
            return sum(self.counts)


@pytest.fixture
def worker_queries(monkeypatch):
    # Every digest of one meeting in one task, so the per-task overhead is paid once.
    monkeypatch.setattr(outbox, "DELIVERY_CHUNK", 100)
    counter = WorkerQueries()
    task_prerun.connect(counter.before, weak=False)
    task_postrun.connect(counter.after, weak=False)
    yield counter
    task_prerun.disconnect(counter.before)
    task_postrun.disconnect(counter.after)


def deliver_digests(team, organizer, size: int, counter: WorkerQueries) -> tuple[int, int]:
    """Queries the worker ran for the agenda digests and for the recap digests."""
    people = [UserFactory() for _ in range(size - 1)]
    for person in people:
        MembershipFactory(user=person, team=team)
    now = timezone.now()
    upcoming = services.create_meeting(
        team=team, organizer=organizer, title=f"Upcoming {size}",
        starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=1),
        time_zone="Europe/Berlin", attendees=people, now=now,
    )  # fmt: skip
    ready_agenda(upcoming, by=organizer, items=size)
    before = counter.total()
    sent = Notification.objects.filter(state="sent").count()
    services.send_agenda(meeting=upcoming, by=organizer, now=now)
    wait_for(lambda: Notification.objects.filter(state="sent").count() == sent + size)
    wait_for(lambda: counter.total() > before and not counter._open)
    agenda_queries = counter.total() - before

    past = services.create_meeting(
        team=team, organizer=organizer, title=f"Past {size}",
        starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=2),
        time_zone="Europe/Berlin", attendees=people, now=now,
    )  # fmt: skip
    past.recap_summary = "Done."
    past.save()
    for n, person in enumerate([organizer, *people]):
        services.add_action_item(meeting=past, description=f"Task {n}", owner=person,
                                 due_date=past.local_date, now=now)  # fmt: skip
    before = counter.total()
    sent = Notification.objects.filter(state="sent").count()
    services.publish_recap(meeting=past, by=organizer, now=now)
    wait_for(lambda: Notification.objects.filter(state="sent").count() == sent + size)
    wait_for(lambda: counter.total() > before and not counter._open)
    return agenda_queries, counter.total() - before


def test_h_digest_queries_per_message_do_not_grow_with_attendees_and_items(
    celery_worker, smtp_sink, worker_queries, team
):
    organizer = UserFactory()
    MembershipFactory(user=organizer, team=team)
    small = deliver_digests(team, organizer, 5, worker_queries)
    middle = deliver_digests(team, organizer, 25, worker_queries)
    large = deliver_digests(team, organizer, 50, worker_queries)
    for kind in (0, 1):  # agenda, recap
        per_message = (middle[kind] - small[kind]) / 20
        assert per_message == (large[kind] - middle[kind]) / 25
        assert per_message <= 8
        # The fixed part of a task is the same whatever the meeting's size.
        assert small[kind] - 5 * per_message == large[kind] - 50 * per_message
    assert len(smtp_sink.messages) == 2 * (5 + 25 + 50)
