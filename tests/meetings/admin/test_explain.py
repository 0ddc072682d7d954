"""The unrecapped list is served by the partial index `meeting_unrecapped_idx`.

The table gets enough rows (most of them recapped, as in a real deployment) and
fresh statistics, so PostgreSQL's planner picks the index on its own merits; no
planner setting is forced. `python -m benchmarks.unrecapped` repeats this with
100,000 meetings and reports timings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from meetings.models import Meeting
from meetings.reports.unrecapped import unrecapped_meetings
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

RECAPPED, UNRECAPPED = 6000, 30


@pytest.fixture
def big_table(db):
    team = TeamFactory()
    organizer = UserFactory()
    MembershipFactory(user=organizer, team=team)
    now = timezone.now()
    rows = []
    for n in range(RECAPPED + UNRECAPPED):
        ends = now - timedelta(hours=n + 1)
        recapped = n >= UNRECAPPED
        rows.append(
            Meeting(
                team=team, organizer=organizer, title=f"M{n}", time_zone="UTC",
                starts_at=ends - timedelta(hours=1), ends_at=ends,
                recap_summary="s" if recapped else "", no_action_items=True,
                recap_published_at=ends + timedelta(hours=2) if recapped else None,
            )
        )  # fmt: skip
    Meeting.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE meetings_meeting")
    return now


def test_unrecapped_page_query_uses_the_partial_index(big_table):
    page = unrecapped_meetings(big_table)[:50]
    plan = page.explain()
    assert "meeting_unrecapped_idx" in plan, plan
    assert len(page) == UNRECAPPED


def test_unrecapped_count_uses_the_partial_index(big_table):
    plan = unrecapped_meetings(big_table, overdue="gt3").values("pk").explain()
    assert "meeting_unrecapped_idx" in plan, plan


def test_awaiting_recap_uses_the_partial_index(big_table):
    plan = Meeting.objects.awaiting_recap(big_table).explain()
    assert "meeting_unrecapped_idx" in plan, plan
    assert "Seq Scan on meetings_meeting" not in plan
