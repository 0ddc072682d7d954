"""The beat task for series: generation is registered, idempotent and carries over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings

from meetings import services
from meetings.models import Meeting, Series
from meetings.tasks import generate_series_occurrences
from tests.factories import make_series

pytestmark = pytest.mark.django_db


def test_task_is_named_and_on_the_beat_schedule():
    assert generate_series_occurrences.name == "meetings.generate_series_occurrences"
    entries = [
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "meetings.generate_series_occurrences"
    ]
    assert len(entries) == 1
    assert entries[0]["options"]["expires"] > 0


def test_task_is_found_by_autodiscovery():
    from config.celery import app

    app.loader.import_default_modules()
    assert "meetings.generate_series_occurrences" in app.tasks


def test_task_tops_up_series_and_is_idempotent(team, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 14
    now = datetime.now(UTC)
    first = (now + timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    series = make_series(
        team,
        organizer,
        title="Daily standup",
        first_start=first,
        duration=timedelta(minutes=15),
        rrule="FREQ=DAILY",
        now=now,
    )
    Series.objects.filter(pk=series.pk).update(generated_until=now)
    Meeting.objects.filter(series=series).order_by("-starts_at")[0].delete()
    before = Meeting.objects.count()
    result = generate_series_occurrences()
    assert result["created"] >= 1
    assert Meeting.objects.count() == before + result["created"]
    assert generate_series_occurrences()["created"] == 0


def test_task_carries_over_after_a_recap(team, organizer, member):
    now = datetime.now(UTC)
    first = (now + timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    series = make_series(team, organizer, first_start=first, attendees=[member], now=now)
    done, upcoming = series.meetings.all()[:2]
    services.add_action_item(
        meeting=done, description="Order chairs", owner=member, due_date=done.local_date, now=now
    )
    Meeting.objects.filter(pk=done.pk).update(
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        recap_summary="Done",
        recap_published_at=now - timedelta(minutes=5),
    )
    assert generate_series_occurrences()["carried"] == 1
    assert [i.title for i in upcoming.agenda_items.all()] == ["Follow up: Order chairs"]
    assert generate_series_occurrences()["carried"] == 0
