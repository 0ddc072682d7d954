"""Delivering team events to webhooks and chat channels: the HTTP side of the outbox.

(Delivery itself is being built; this module already holds what the pages call.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from ..models import Delivery, Endpoint
from .events import WEBHOOK_TASK
from .outbox import outbox_lease, publish_after_commit

State = Delivery.State


def queue_deliveries(ids: Sequence[int], *, now: datetime) -> None:
    """Lease `ids` to one delivery task, queued after commit."""
    if ids:
        Delivery.objects.filter(pk__in=list(ids)).update(send_after=now + outbox_lease())
        publish_after_commit(WEBHOOK_TASK, list(ids))


def send_again(ids: Sequence[int], *, now: datetime) -> int:
    """Post these deliveries once more (a team admin's "send again"); returns how many.

    The same event with the same `webhook-id`, so a receiver that got it already
    can tell. A delivery in flight (pending) is left alone: a second click sends
    nothing twice. Its age counts afresh from now.
    """
    with transaction.atomic():
        again = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=list(ids))
            .exclude(state=State.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=again).update(
            state=State.PENDING,
            sent_at=None,
            given_up_at=None,
            attempts=0,
            last_error="",
            requeued_at=now,
            send_after=now,
        )
        queue_deliveries(again, now=now)
    return len(again)


def enable(endpoint: Endpoint, *, now: datetime) -> int:
    """Turn a disabled endpoint on again; what waited for it goes now. Returns how many."""
    with transaction.atomic():
        row = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if row.disabled_at is None:
            return 0
        Endpoint.objects.filter(pk=row.pk).update(
            disabled_at=None, disabled_reason="", failures=0, failing_since=None
        )
        waiting = list(row.deliveries.filter(state=State.PENDING).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=waiting).update(requeued_at=now, attempts=0)
        queue_deliveries(waiting, now=now)
    endpoint.refresh_from_db()
    return len(waiting)
