"""The notification outbox: insert rows with conflicts ignored, lease and enqueue
their delivery after commit, re-drive lost ones, and the admin's "remind now".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership

from ..models import Delivery, Meeting, Notification
from .stages import Kind, current_stage

log = logging.getLogger(__name__)
State = Notification.State

DISPATCH_BATCH_SIZE = 500


def _setting_seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=getattr(settings, name, default))


def outbox_lease() -> timedelta:
    """How long a queued delivery task has before the re-drive queues it again."""
    return _setting_seconds("OUTBOX_LEASE_SECONDS", 600)


def age_limit() -> timedelta:
    """How long a message may wait for a mail server that refuses it for now (or
    cannot be reached) before it expires; from when it was queued."""
    return getattr(settings, "OUTBOX_MAX_AGE", timedelta(days=3))


@dataclass(frozen=True)
class Row:
    kind: str
    stage: str
    recipient_id: int
    meeting_id: int | None
    send_after: datetime

    @property
    def key(self) -> tuple[int | None, str, str, int]:
        """What the outbox's unique constraints make unique."""
        return (self.meeting_id, self.kind, self.stage, self.recipient_id)


def insert_notifications(rows: Sequence[Row], *, now: datetime) -> list[int]:
    """Insert outbox rows, ignoring the ones that exist; return the ids of new rows."""
    return list(insert_new(rows, now=now).values())


def insert_new(rows: Sequence[Row], *, now: datetime) -> dict[tuple, int]:
    """Insert outbox rows, ignoring the ones that exist: {row key: id} of the new ones.

    One INSERT .. ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite 3.35+),
    which Django's bulk_create cannot express (with ignore_conflicts it returns
    no ids): the unique constraints decide what is new, so concurrent sweeps
    agree without locks, and we learn exactly which rows this call created.
    """
    if not rows:
        return {}
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = (
        "meeting_id, kind, stage, recipient_id, state, send_after, attempts, last_error, "
        "created_at"
    )
    returning = "RETURNING id, meeting_id, kind, stage, recipient_id"
    found: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Arrays unnested server-side: seven parameters however many rows (a
            # VALUES list would run into the 65,535-parameter limit at scale).
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT m, k, s, r, %s, a, 0, '', %s FROM unnest("
                "%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::timestamptz[]"
                f") AS v(m, k, s, r, a) ON CONFLICT DO NOTHING {returning}",
                [
                    Notification.State.PENDING,
                    now,
                    [row.meeting_id for row in rows],
                    [row.kind for row in rows],
                    [row.stage for row in rows],
                    [row.recipient_id for row in rows],
                    [row.send_after for row in rows],
                ],
            )
            found = cursor.fetchall()
        else:
            # SQLite has no arrays: a VALUES list, in slices below its parameter limit.
            adapt = connection.ops.adapt_datetimefield_value
            for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
                part = rows[start : start + SQLITE_ROWS_PER_INSERT]
                params: list[object] = []
                for row in part:
                    # Datetimes adapted as the ORM adapts them: SQLite compares them
                    # as text, and "12:00:00+00:00" sorts after the ORM's "12:00:00".
                    params += [
                        *(row.meeting_id, row.kind, row.stage, row.recipient_id),
                        *(Notification.State.PENDING, adapt(row.send_after), adapt(now)),
                    ]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s, 0, '', %s)"] * len(part))
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {values} "
                    f"ON CONFLICT DO NOTHING {returning}",
                    params,
                )
                found += cursor.fetchall()
    return {(meeting_id, kind, stage, recipient_id): pk
            for pk, meeting_id, kind, stage, recipient_id in found}  # fmt: skip


SQLITE_ROWS_PER_INSERT = 1000


def enqueue(ids: Sequence[int], *, now: datetime) -> list[int]:
    """Take a lease on ready rows among `ids` and queue their delivery after commit.

    Rows still waiting for working hours are left to the sweep's dispatch.
    """
    if not ids:
        return []
    lease_until = now + outbox_lease()
    with transaction.atomic():
        ready = list(
            Notification.objects.filter(
                pk__in=ids, state=Notification.State.PENDING, send_after__lte=now
            ).values_list("pk", flat=True)
        )
        if ready:
            Notification.objects.filter(pk__in=ready).update(send_after=lease_until)
            queue_delivery(ready)
    return ready


# Rows per delivery task: a burst (a sweep, a digest to a big meeting) goes out as
# a few tasks, each reusing one SMTP connection, instead of one task per message.
# Publishing a task costs a Redis round trip (~0.3-1 ms, more under load), paid
# inside the sweep: 100 rows per task publishes 10 tasks for 1,000 reminders
# where 25 published 40 (measured 13 ms against 70-290 ms). Still small enough
# to finish well inside the task's time budget (about 1 s at the local sink;
# CHUNK_TIME_BUDGET_SECONDS hands the rest to a new task on a slow server) and to
# spread a burst over several worker processes.
DELIVERY_CHUNK = 100


# The delivery task, found by its name in Celery's registry: the task module
# builds on this one, so importing it here would make a cycle.
DELIVER_TASK = "meetings.deliver_notifications"
# The webhook and chat delivery task (webhooks.py), taking a list of Delivery ids.
WEBHOOK_TASK = "meetings.deliver_webhooks"


def queue_delivery(ids: Sequence[int]) -> None:
    for start in range(0, len(ids), DELIVERY_CHUNK):
        # After commit: a rolled-back transaction queues nothing, and the worker
        # never looks for a row that is not visible yet.
        publish_after_commit(DELIVER_TASK, list(ids[start : start + DELIVERY_CHUNK]))


def publish_after_commit(task_name: str, *args, **kwargs) -> None:
    """Enqueue a task by its name once the current transaction commits.

    A broker that is down must not fail the request or the sweep that already
    committed its rows: the error is logged and the rows, still pending in the
    database, are queued again by the re-drive once the broker is back.
    """

    def publish() -> None:
        try:
            current_app.tasks[task_name].delay(*args, **kwargs)
        except Exception as exc:  # kombu's OperationalError, redis' ConnectionError...
            log.warning("could not enqueue %s (%s); the re-drive will", task_name, exc)
            # Let the next re-drive take them instead of waiting out the lease.
            if task_name == DELIVER_TASK:
                Notification.objects.filter(pk__in=args[0], state=State.PENDING).update(
                    send_after=timezone.now()
                )
            elif task_name == WEBHOOK_TASK:
                Delivery.objects.filter(pk__in=args[0], state=State.PENDING).update(
                    send_after=timezone.now()
                )

    transaction.on_commit(publish)


def dispatch_ready(*, now: datetime, batch_size: int = DISPATCH_BATCH_SIZE) -> int:
    """Queue delivery of pending rows whose time has come; the periodic re-drive.

    Picks rows whose working-hours wait is over and rows whose lease expired
    (their task was lost). Claims them in batches with SKIP LOCKED, so two
    re-drives at once split the work instead of both queueing it. Rows that have
    waited longer than their age allows are expired first.
    """
    expire_stale(now=now)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(state=Notification.State.PENDING, send_after__lte=now)
                .order_by("send_after", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                Notification.objects.filter(pk__in=ids).update(send_after=now + outbox_lease())
                queue_delivery(ids)
        total += len(ids)
        if len(ids) < batch_size:
            return total


MANUAL_STAGE_PREFIX = "manual:"


def manual_stage(now: datetime) -> str:
    """The stage of a "remind now": one per UTC day (per meeting, kind and recipient)."""
    return f"{MANUAL_STAGE_PREFIX}{now.astimezone(UTC).date().isoformat()}"


def endpoint_disabled_stage(endpoint_id: int, disabled_at: datetime) -> str:
    """The stage of the "endpoint disabled" e-mail: one per endpoint and disabling
    (at most 40 characters)."""
    return f"endpoint:{endpoint_id}:{disabled_at.astimezone(UTC):%Y%m%dT%H%M%S}"


def endpoint_of_stage(stage: str) -> int:
    return int(stage.split(":")[1])


def remind_now(*, meeting: Meeting, now: datetime) -> int:
    """Queue a reminder to the organizer at once, for the admin's "remind now".

    A manual reminder is its own stage (`manual:YYYY-MM-DD`, UTC), apart from the
    sweep's stages: it goes out even when the current stage's reminder already
    did (an overdue recap whose last daily reminder was sent this morning), and
    the sweep's own reminders are not affected. Through the outbox with conflicts
    ignored, so it can never be sent twice in a day, however often it is clicked.
    Its kind (and wording) follow the meeting's current stage: agenda or recap.
    Returns how many rows were newly queued.
    """
    meeting = Meeting.objects.select_related("team", "organizer").get(pk=meeting.pk)
    stage = current_stage(meeting, now, (Kind.AGENDA_REMINDER, Kind.RECAP_REMINDER))
    if stage is None:
        return 0
    with transaction.atomic():
        new_ids = insert_notifications(
            [Row(stage.kind, manual_stage(now), meeting.organizer_id, meeting.pk, now)], now=now
        )
        enqueue(new_ids, now=now)
    return len(new_ids)


# -- giving up, telling admins, sending again ------------------------------------------


def expire_stale(*, now: datetime) -> int:
    """Expire pending rows queued longer ago than the age limit, and tell the admins
    of each team concerned (one notice per admin and day). Returns how many expired.
    """
    oldest = now - age_limit()
    stale = Notification.objects.filter(state=State.PENDING).filter(
        Q(requeued_at__lt=oldest) | Q(requeued_at__isnull=True, created_at__lt=oldest)
    )
    with transaction.atomic():
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not ids:
            return 0
        Notification.objects.filter(pk__in=ids).update(state=State.EXPIRED, given_up_at=now)
        # The notice itself is not about one meeting; one a day per admin at most.
        team_ids = set(
            Notification.objects.filter(pk__in=ids, meeting__isnull=False).values_list(
                "meeting__team_id", flat=True
            )
        )
        admins = set(
            Membership.objects.admins()
            .filter(team_id__in=team_ids)
            .values_list("user_id", flat=True)
        )
        day = now.astimezone(UTC).date().isoformat()
        notices = insert_notifications(
            [Row(Kind.DELIVERY_EXPIRED, day, user_id, None, now) for user_id in sorted(admins)],
            now=now,
        )
        enqueue(notices, now=now)
    log.error("%d notification(s) expired undelivered", len(ids))
    return len(ids)


def send_again(ids: Sequence[int], *, now: datetime) -> int:
    """Queue failed or expired rows once more (staff, from the admin); returns how many.

    Rows in any other state are left alone, so a second click sends nothing twice.
    Their age counts afresh from now.
    """
    with transaction.atomic():
        again = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(ids), state__in=Notification.GIVEN_UP)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=again).update(
            state=State.PENDING,
            given_up_at=None,
            attempts=0,
            last_error="",
            requeued_at=now,
            send_after=now,
        )
        enqueue(again, now=now)
    return len(again)
