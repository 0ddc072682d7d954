"""Every Celery task of Bookend. Thin: named, JSON arguments (ids), each calls one function.

Time limits: delivery talks to an SMTP server whose timeout is EMAIL_TIMEOUT
(10 s by default), or to a webhook with WEBHOOK_TIMEOUT_SECONDS (10 s) to connect
and as much to read, well inside the soft limit. `acks_late` only on delivery,
which is idempotent (it locks its row and checks the state), so a message
redelivered after a worker died cannot send twice; the sweep and the re-drive
are idempotent too, but losing one run costs nothing, the next beat redoes it.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import notifications, series
from .models import Meeting


@shared_task(
    name="meetings.deliver_notification",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=False,  # the re-drive, not a redelivery loop, retries a crash
    max_retries=None,  # a row is retried until its age runs out (outbox.age_limit)
    soft_time_limit=45,
    time_limit=60,
)
def deliver_notification(self, notification_id: int) -> str:
    outcome = notifications.deliver(notification_id, now=timezone.now())
    if outcome.status in ("retry", "paused"):
        # A countdown of at most OUTBOX_RETRY_MAX_SECONDS (a few minutes): Redis
        # holds it in the worker, far below the broker's visibility timeout.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(
    name="meetings.deliver_notifications",
    acks_late=True,
    reject_on_worker_lost=False,
    soft_time_limit=45,
    time_limit=60,
)
def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Deliver a chunk of rows over one SMTP connection, each marked as it is sent.

    A row refused for now gets its own retry task, so one slow recipient does not
    hold back the rest; rows waiting for a paused server go again together.
    """
    counts: dict[str, int] = {}
    outcomes = notifications.deliver_many(notification_ids, now=timezone.now())
    for pk, outcome in outcomes.items():
        if outcome.status == "retry":
            deliver_notification.apply_async((pk,), countdown=outcome.retry_in)
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    paused = [pk for pk, outcome in outcomes.items() if outcome.status == "paused"]
    if paused:
        wait = max(outcomes[pk].retry_in for pk in paused)
        deliver_notifications.apply_async((paused,), countdown=wait)
    deferred = [pk for pk, outcome in outcomes.items() if outcome.status == "deferred"]
    if deferred:
        deliver_notifications.delay(deferred)
    return counts


# -- webhooks and chat channels ---------------------------------------------------
# One task per delivery: an endpoint that hangs until its timeout holds one worker
# slot, not the deliveries to every other endpoint queued with it.


@shared_task(
    name="meetings.deliver_webhooks",
    acks_late=True,
    reject_on_worker_lost=False,
    soft_time_limit=45,
    time_limit=60,
)
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Queued after commit by `events.emit` and the re-drive: fans out per delivery."""
    for pk in delivery_ids:
        deliver_webhook.delay(pk)
    return len(delivery_ids)


@shared_task(
    name="meetings.deliver_webhook",
    bind=True,
    acks_late=True,  # idempotent: webhooks.deliver posts only a pending row, under a lock
    reject_on_worker_lost=False,  # the re-drive, not a redelivery loop, retries a crash
    max_retries=None,  # retried until its age runs out (outbox.age_limit)
    soft_time_limit=45,  # one attempt: WEBHOOK_TIMEOUT_SECONDS to connect, as much to read
    time_limit=60,
)
def deliver_webhook(self, delivery_id: int) -> str:
    outcome = notifications.webhooks.deliver(delivery_id, now=timezone.now())
    if outcome.status == "retry":
        # At most OUTBOX_RETRY_MAX_SECONDS; a longer wait is the re-drive's.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="meetings.sweep_reminders", soft_time_limit=240, time_limit=300)
def sweep_reminders() -> int:
    now = timezone.now()
    result = notifications.sweep(now=now)
    # Rows whose working-hours wait (or a webhook's Retry-After) ended since the
    # last minute go out now.
    notifications.dispatch_ready(now=now)
    notifications.webhooks.dispatch_ready(now=now)
    return result.queued


@shared_task(name="meetings.redrive_outbox", soft_time_limit=240, time_limit=300)
def redrive_outbox() -> int:
    now = timezone.now()
    return notifications.dispatch_ready(now=now) + notifications.webhooks.dispatch_ready(now=now)


@shared_task(name="meetings.queue_daily_digests", soft_time_limit=240, time_limit=300)
def queue_daily_digests() -> int:
    return notifications.queue_daily_digests(now=timezone.now())


# -- recurring meetings ---------------------------------------------------------
# Idempotent (see meetings.series): a second beat or a redelivered message creates
# and carries nothing twice, so losing or repeating a run costs nothing.


@shared_task(name="meetings.generate_series_occurrences", soft_time_limit=240, time_limit=300)
def generate_series_occurrences() -> dict[str, int]:
    """Top up generated meetings, and bring recent carry-over up to date."""
    now = timezone.now()
    created = series.generate_due(now=now)
    carried = series.carry_over_recent(now=now)
    return {"created": created, "carried": carried}


@shared_task(name="meetings.carry_over_after_recap", soft_time_limit=60, time_limit=90)
def carry_over_after_recap(meeting_id: int) -> int:
    """Enqueued when a series meeting's recap is published (services.publish_recap)."""
    meeting = Meeting.objects.select_related("series").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    return len(series.carry_over_after_recap(meeting, now=timezone.now()))
