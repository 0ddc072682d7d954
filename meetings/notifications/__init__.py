"""Reminders and emails: the reminder sweep, the notification outbox and delivery.

DESIGN.md's reminder table lives in `stages.stages_for()`: every stage of every
kind, with its due time computed from the meeting's times and its team's policy.
The meeting's `next_reminder_at` is the earliest moment the sweep must look at
it again; the sweep reads only rows where that moment has come (the partial
index `meeting_reminder_due_idx`), so its cost follows the due rows, not the
table.

Due times live in the database, never in far-future Celery countdowns: Redis
redelivers unacknowledged messages after its visibility timeout, and a worker
restart would lose or duplicate them. The only countdowns are the delivery
retries, capped at a few minutes.

The outbox: one `Notification` row per message and recipient, inserted with
conflicts ignored, so its unique constraint is the idempotency key; a second
sweep, a second beat or the admin's "remind now" can never queue a message
twice. Delivery is enqueued after commit. While a delivery task is queued, the
row's `send_after` is pushed forward by a lease (`OUTBOX_LEASE_SECONDS`), so the
periodic re-drive picks up only rows whose task was lost (a crash between commit
and enqueue, a killed worker) or whose working-hours wait is over.

Webhooks and chat channels get team events (`events`: recorded with the change,
one delivery row per listening endpoint, the same idempotency, lease and
re-drive as the e-mail outbox; `webhooks`: the signed POST of one delivery, its
retries, the re-drive, disabling an endpoint that keeps failing; `safe_urls`:
where Bookend may post).

Modules: `stages` (the table), `sweeper`, `outbox` (insert, enqueue, re-drive,
"remind now"), `delivery`, `digests` (agenda, recap and daily digests and the
agenda activity batch queued), `daily` (what a daily digest says), `messages`
(rendering every email; `action_messages` for action items, `activity_messages`
for the batch of agenda activity, read from the audit trail when it is sent).
"""

from __future__ import annotations

from . import events, webhooks
from .delivery import Outcome, deliver, deliver_many
from .digests import (
    queue_activity,
    queue_daily_digests,
    queue_item_notice,
    queue_meeting_digest,
)
from .messages import agenda_digest_stage
from .outbox import dispatch_ready, remind_now
from .stages import reschedule, reschedule_items
from .sweeper import SweepResult, sweep

__all__ = [
    "Outcome",
    "SweepResult",
    "agenda_digest_stage",
    "deliver",
    "events",
    "webhooks",
    "deliver_many",
    "dispatch_ready",
    "queue_activity",
    "queue_daily_digests",
    "queue_item_notice",
    "queue_meeting_digest",
    "remind_now",
    "reschedule",
    "reschedule_items",
    "sweep",
]
