"""Celery task for recurring meetings: top up generated meetings and carry-over.

Imported from `meetings.tasks` so that Celery's autodiscovery registers it.
Idempotent (see `meetings.series`): a second beat or a redelivered message
creates nothing twice, so losing or repeating a run costs nothing.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import series


@shared_task(name="meetings.generate_series_occurrences", soft_time_limit=240, time_limit=300)
def generate_series_occurrences() -> dict[str, int]:
    now = timezone.now()
    created = series.generate_due(now=now)
    carried = series.carry_over_recent(now=now)
    return {"created": created, "carried": carried}
