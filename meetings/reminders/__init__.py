"""The reminder sweep and the notification outbox.

DESIGN.md's reminder table lives in `stages_for()`: every stage of every kind,
with its due time computed from the meeting's times and its team's policy. The
meeting's `next_reminder_at` is the earliest moment the sweep must look at it
again; the sweep reads only rows where that moment has come (the partial index
`meeting_reminder_due_idx`), so its cost follows the due rows, not the table.

Due times live in PostgreSQL, never in far-future Celery countdowns: Redis
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
"""

from __future__ import annotations

from .delivery import (
    CHUNK_TIME_BUDGET_SECONDS,
    MAX_ATTEMPTS,
    Outcome,
    deliver,
    deliver_many,
    is_temporary,
    retry_delay,
    smtp_code,
)
from .digests import digest_is_due, queue_daily_digests, queue_meeting_digest
from .outbox import (
    DELIVERY_CHUNK,
    DISPATCH_BATCH_SIZE,
    MANUAL_STAGE_PREFIX,
    Row,
    _insert,
    _queue_delivery,
    dispatch_ready,
    enqueue,
    insert_notifications,
    manual_stage,
    outbox_lease,
    remind_now,
    sqlite_insert_params,
)

# The package's parts, re-exported so callers keep using `reminders.<name>`. The
# private names are here for the tests that reach them. To patch a name an
# internal call looks up, patch it in the submodule that calls it.
from .stages import (
    DUE_TOMORROW_BEFORE_DEADLINE,
    FIRST_RECAP_REMINDER_AFTER_END,
    LAST_CALL_BEFORE_START,
    RECAP_DAILY_EVERY,
    RECAP_DAILY_LIMIT,
    Kind,
    Stage,
    current_stage,
    latest_due,
    next_reminder_time,
    reschedule,
    send_time,
    stages_for,
)
from .sweeps import (
    SWEEP_BATCH_SIZE,
    SWEEP_FIELDS,
    SWEEP_SQL,
    SweepResult,
    _sweep_batch_python,
    _sweep_batch_sql,
    _sweep_statement,
    sweep,
)

__all__ = [
    "CHUNK_TIME_BUDGET_SECONDS",
    "DELIVERY_CHUNK",
    "DISPATCH_BATCH_SIZE",
    "DUE_TOMORROW_BEFORE_DEADLINE",
    "FIRST_RECAP_REMINDER_AFTER_END",
    "Kind",
    "LAST_CALL_BEFORE_START",
    "MANUAL_STAGE_PREFIX",
    "MAX_ATTEMPTS",
    "Outcome",
    "RECAP_DAILY_EVERY",
    "RECAP_DAILY_LIMIT",
    "Row",
    "SWEEP_BATCH_SIZE",
    "SWEEP_FIELDS",
    "SWEEP_SQL",
    "Stage",
    "SweepResult",
    "_insert",
    "_queue_delivery",
    "_sweep_batch_python",
    "_sweep_batch_sql",
    "_sweep_statement",
    "current_stage",
    "deliver",
    "deliver_many",
    "digest_is_due",
    "dispatch_ready",
    "enqueue",
    "insert_notifications",
    "is_temporary",
    "latest_due",
    "manual_stage",
    "next_reminder_time",
    "outbox_lease",
    "queue_daily_digests",
    "queue_meeting_digest",
    "remind_now",
    "reschedule",
    "retry_delay",
    "send_time",
    "smtp_code",
    "sqlite_insert_params",
    "stages_for",
    "sweep",
]
