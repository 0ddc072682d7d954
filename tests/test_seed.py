"""`make run` seeds a demo team with meetings in every status, once."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from meetings.models import ActionItem, Meeting, Notification

pytestmark = pytest.mark.django_db


def test_seed_creates_every_status_and_keeps_data_on_rerun():
    call_command("seed_demo")
    statuses = set(Meeting.objects.with_status(timezone.now()).values_list("status", flat=True))
    assert {
        Meeting.Status.DRAFT,
        Meeting.Status.AGENDA_SENT,
        Meeting.Status.AWAITING_RECAP,
        Meeting.Status.RECAPPED,
        Meeting.Status.HELD_WITHOUT_AGENDA,
    } <= statuses
    assert ActionItem.objects.values("owner").distinct().count() == 2
    assert Meeting.objects.filter(series__isnull=False).count() >= 2
    assert authenticate(username="demo@example.com", password="demo") is not None
    # Digests of the replayed history count as delivered: nothing stale is mailed.
    assert Notification.objects.exists()
    assert not Notification.objects.exclude(state=Notification.State.SENT).exists()

    before = Meeting.objects.count()
    call_command("seed_demo")
    assert Meeting.objects.count() == before
