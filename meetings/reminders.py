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

import logging
import random
import smtplib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from accounts.models import Membership, User

from .models import Attendee, Meeting, Notification

log = logging.getLogger(__name__)

Kind = Notification.Kind

# DESIGN.md: "due tomorrow" comes a day before the agenda deadline, "last call" 2 h
# before the start; recap reminders 1 h after the end, at the end of the grace
# period and then daily.
DUE_TOMORROW_BEFORE_DEADLINE = timedelta(hours=24)
LAST_CALL_BEFORE_START = timedelta(hours=2)
FIRST_RECAP_REMINDER_AFTER_END = timedelta(hours=1)
RECAP_DAILY_EVERY = timedelta(days=1)
# After a month of daily reminders (and the escalation to the team's admins) more
# mail is noise; the unrecapped dashboard still shows the meeting.
RECAP_DAILY_LIMIT = 30

SWEEP_BATCH_SIZE = 500
DISPATCH_BATCH_SIZE = 500


def _setting_seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=getattr(settings, name, default))


def outbox_lease() -> timedelta:
    """How long a queued delivery task has before the re-drive queues it again."""
    return _setting_seconds("OUTBOX_LEASE_SECONDS", 600)


# -- the reminder table ----------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    kind: str
    name: str  # stored in Notification.stage, with the anchor time appended
    due_at: datetime
    # Waiting for the recipient's working hours is pointless past this moment
    # (the thing the reminder warns about has happened): then it goes at once.
    useless_after: datetime | None


def _anchor(moment: datetime) -> str:
    # The stage key carries the time it is about, so a meeting moved to another
    # time gets fresh reminders, while one time never gets a stage twice.
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def stages_for(meeting: Meeting, now: datetime) -> list[Stage]:
    """Every reminder stage that still applies to `meeting` in its current state.

    Includes past stages (the sweep sends only the latest due one per kind) and
    future ones (the earliest sets `next_reminder_at`). Needs `meeting.team`.
    """
    if meeting.canceled_at or meeting.recap_published_at:
        return []
    team = meeting.team
    start, end = meeting.starts_at, meeting.ends_at
    stages: list[Stage] = []
    if not meeting.agenda_sent_at and now < start:
        deadline = start - team.agenda_lead_time
        key = _anchor(start)
        stages += [
            Stage(
                Kind.AGENDA_REMINDER,
                f"due_tomorrow@{key}",
                deadline - DUE_TOMORROW_BEFORE_DEADLINE,
                deadline,
            ),
            Stage(Kind.AGENDA_REMINDER, f"due_now@{key}", deadline, start),
            Stage(Kind.AGENDA_REMINDER, f"last_call@{key}", start - LAST_CALL_BEFORE_START, start),
        ]
    # A meeting recorded after the fact was never announced: nobody to warn at start.
    if (
        team.notify_no_agenda
        and not meeting.agenda_sent_at
        and now < end
        and meeting.created_at < start
    ):
        stages.append(Stage(Kind.NO_AGENDA_NOTICE, f"at_start@{_anchor(start)}", start, end))
    key = _anchor(end)
    stages.append(
        Stage(Kind.RECAP_REMINDER, f"after_end@{key}", end + FIRST_RECAP_REMINDER_AFTER_END, None)
    )
    grace_end = end + team.recap_grace
    stages.append(Stage(Kind.RECAP_REMINDER, f"grace@{key}", grace_end, None))
    # Daily reminders after the grace period: only the latest one due and the next
    # one matter (the sweep sends the latest; the next sets next_reminder_at).
    days_due = (now - grace_end) // RECAP_DAILY_EVERY if now > grace_end else 0
    first = max(1, min(days_due, RECAP_DAILY_LIMIT))
    for day in range(first, min(days_due + 1, RECAP_DAILY_LIMIT) + 1):
        due = grace_end + day * RECAP_DAILY_EVERY
        stages.append(Stage(Kind.RECAP_REMINDER, f"daily{day}@{key}", due, None))
    stages.append(
        Stage(Kind.RECAP_ESCALATION, f"escalation@{key}", end + team.escalate_after, None)
    )
    return stages


def latest_due(stages: Iterable[Stage], now: datetime) -> list[Stage]:
    """Per kind, the latest stage already due: when several are, only that one is sent."""
    latest: dict[str, Stage] = {}
    for stage in stages:
        if stage.due_at <= now and (
            stage.kind not in latest or stage.due_at >= latest[stage.kind].due_at
        ):
            latest[stage.kind] = stage
    return list(latest.values())


def next_reminder_time(meeting: Meeting, now: datetime, *, handled: bool) -> datetime | None:
    """When the sweep must look at `meeting` again.

    `handled`: the sweep has just queued every stage due at `now`, so only later
    ones count. Otherwise (the meeting was created or changed) a stage already due
    means "now": the sweep queues it, and the unique constraint makes that safe
    even if it had been queued before.
    """
    stages = stages_for(meeting, now)
    if not handled and any(stage.due_at <= now for stage in stages):
        return now
    future = [stage.due_at for stage in stages if stage.due_at > now]
    return min(future) if future else None


def reschedule(meeting: Meeting, *, now: datetime) -> None:
    """Recompute `meeting.next_reminder_at` after its times or state changed.

    Called by the transitions in services.py, the meeting edit view and series
    generation. A plain update of one column: it never touches other fields a
    concurrent request may be saving.
    """
    if meeting.pk is None:
        return
    value = next_reminder_time(meeting, now, handled=False)
    Meeting.objects.filter(pk=meeting.pk).update(next_reminder_at=value)
    meeting.next_reminder_at = value


# -- recipients and working hours ---------------------------------------------------


def send_time(recipient: User, stage: Stage, now: datetime) -> datetime:
    """The recipient's next working moment, unless waiting would make it useless."""
    moment = recipient.next_working_moment(now)
    if stage.useless_after is not None and moment >= stage.useless_after:
        return now
    return moment


def _recipients(
    meeting: Meeting,
    kind: str,
    attendees: dict[int, list[User]],
    admins: dict[int, list[User]],
) -> list[User]:
    if kind == Kind.NO_AGENDA_NOTICE:
        return [u for u in attendees.get(meeting.pk, []) if u.pk != meeting.organizer_id]
    if kind == Kind.RECAP_ESCALATION:
        people = {meeting.organizer_id: meeting.organizer}
        for user in admins.get(meeting.team_id, []):
            people.setdefault(user.pk, user)
        return list(people.values())
    return [meeting.organizer]


# -- outbox ----------------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    stage: str
    recipient_id: int
    meeting_id: int | None
    send_after: datetime


def insert_notifications(rows: Sequence[Row], *, now: datetime) -> list[int]:
    """Insert outbox rows, ignoring the ones that exist; return the ids of new rows."""
    return [pk for pk, _send_after in _insert(rows, now=now)]


def _insert(rows: Sequence[Row], *, now: datetime) -> list[tuple[int, datetime]]:
    """Insert outbox rows, ignoring the ones that exist; (id, send_after) of new rows.

    One INSERT .. ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite 3.35+):
    the unique constraints decide what is new, so concurrent sweeps agree without
    locks, and we learn exactly which rows this call created.
    """
    if not rows:
        return []
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = (
        "meeting_id, kind, stage, recipient_id, state, send_after, attempts, last_error, "
        "created_at"
    )
    if connection.vendor == "postgresql":
        # Arrays unnested server-side: seven parameters however many rows, where a
        # VALUES list would make the driver parse thousands of placeholders.
        source = (
            "SELECT m, k, s, r, %s, a, 0, '', %s FROM unnest("
            "%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::timestamptz[]"
            ") AS v(m, k, s, r, a)"
        )
        params: list[object] = [
            Notification.State.PENDING,
            now,
            [row.meeting_id for row in rows],
            [row.kind for row in rows],
            [row.stage for row in rows],
            [row.recipient_id for row in rows],
            [row.send_after for row in rows],
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) {source} "
                "ON CONFLICT DO NOTHING RETURNING id, send_after",
                params,
            )
            return cursor.fetchall()
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, 0, '', %s)"] * len(rows))
    params = sqlite_insert_params(rows, now=now, ops=connection.ops)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {placeholders} "
            "ON CONFLICT DO NOTHING RETURNING id, send_after",
            params,
        )
        return [(pk, _aware(send_after)) for pk, send_after in cursor.fetchall()]


def sqlite_insert_params(rows: Sequence[Row], *, now: datetime, ops) -> list[object]:
    """Parameters of the raw SQLite INSERT, datetimes adapted as the ORM adapts them.

    SQLite stores datetimes as text and compares them as text. Handed to the driver
    as is, an aware datetime becomes "... 12:00:00+00:00", which sorts after the
    ORM's "... 12:00:00" for the same moment: a row due exactly now would not be
    "ready" (`send_after__lte=now`) and would wait for the next re-drive.
    """
    adapt = ops.adapt_datetimefield_value
    params: list[object] = []
    for row in rows:
        params += [
            row.meeting_id,
            row.kind,
            row.stage,
            row.recipient_id,
            Notification.State.PENDING,
            adapt(row.send_after),
            adapt(now),
        ]
    return params


def _aware(value: datetime | str) -> datetime:
    # SQLite hands back text from a raw RETURNING; PostgreSQL an aware datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
            _queue_delivery(ready)
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


def _queue_delivery(ids: Sequence[int]) -> None:
    from .tasks import deliver_notifications

    for start in range(0, len(ids), DELIVERY_CHUNK):
        # After commit: a rolled-back transaction queues nothing, and the worker
        # never looks for a row that is not visible yet.
        deliver_notifications.delay_on_commit(list(ids[start : start + DELIVERY_CHUNK]))


def dispatch_ready(*, now: datetime, batch_size: int = DISPATCH_BATCH_SIZE) -> int:
    """Queue delivery of pending rows whose time has come; the periodic re-drive.

    Picks rows whose working-hours wait is over and rows whose lease expired
    (their task was lost). Claims them in batches with SKIP LOCKED, so two
    re-drives at once split the work instead of both queueing it.
    """
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
                _queue_delivery(ids)
        total += len(ids)
        if len(ids) < batch_size:
            return total


# -- the sweep ------------------------------------------------------------------------


@dataclass
class SweepResult:
    meetings: int = 0
    queued: int = 0
    batches: int = 0
    ids: list[int] = field(default_factory=list)


def _due_meetings(now: datetime, batch_size: int):
    # Reads only rows whose next_reminder_at has come: the partial index
    # meeting_reminder_due_idx. SKIP LOCKED lets two sweeps run at once, each
    # taking other meetings; `of=("self",)` locks meeting rows only, not teams.
    # Only the columns the stages and working hours need: a batch of 500 meetings
    # with their team and organizer is then cheap to load.
    return (
        Meeting.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("team", "organizer")
        .only(*SWEEP_FIELDS)
        .filter(next_reminder_at__isnull=False, next_reminder_at__lte=now)
        .order_by("next_reminder_at", "pk")[:batch_size]
    )


SWEEP_FIELDS = (
    "team_id", "organizer_id", "starts_at", "ends_at", "created_at", "agenda_sent_at",
    "recap_published_at", "canceled_at", "next_reminder_at",
    "team__agenda_lead_time", "team__recap_grace", "team__escalate_after",
    "team__notify_no_agenda",
    "organizer__email", "organizer__time_zone", "organizer__work_days",
    "organizer__work_start", "organizer__work_end",
)  # fmt: skip


def _save_next_reminder_times(meetings: list[Meeting]) -> None:
    """One UPDATE for the whole batch."""
    if connection.vendor != "postgresql":
        Meeting.objects.bulk_update(meetings, ["next_reminder_at"])
        return
    # bulk_update's CASE WHEN costs more to build than to run; two arrays
    # unnested and joined on the primary key are one cheap statement.
    table = connection.ops.quote_name(Meeting._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET next_reminder_at = v.due "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due) WHERE m.id = v.id",
            [[m.pk for m in meetings], [m.next_reminder_at for m in meetings]],
        )


def _sweep_batch_python(now: datetime, batch_size: int, result: SweepResult) -> bool:
    """The sweep in Python over model instances: the reference for `_sweep_batch_sql`
    (a test runs both on the same rows) and the path on databases other than PostgreSQL.
    Returns whether due meetings may remain (a full batch)."""
    with transaction.atomic():
        meetings = list(_due_meetings(now, batch_size))
        if not meetings:
            return False
        everything = [(m, stages_for(m, now)) for m in meetings]
        plans = [(m, latest_due(stages, now)) for m, stages in everything]
        need_attendees = [
            m.pk for m, due in plans if any(s.kind == Kind.NO_AGENDA_NOTICE for s in due)
        ]
        need_admins = {
            m.team_id for m, due in plans if any(s.kind == Kind.RECAP_ESCALATION for s in due)
        }
        attendees: dict[int, list[User]] = {}
        if need_attendees:
            for a in Attendee.objects.filter(meeting_id__in=need_attendees).select_related("user"):
                attendees.setdefault(a.meeting_id, []).append(a.user)
        admins: dict[int, list[User]] = {}
        if need_admins:
            for m in (
                Membership.objects.admins().filter(team_id__in=need_admins).select_related("user")
            ):
                admins.setdefault(m.team_id, []).append(m.user)
        rows = [
            Row(stage.kind, stage.name, user.pk, meeting.pk, send_time(user, stage, now))
            for meeting, due in plans
            for stage in due
            for user in _recipients(meeting, stage.kind, attendees, admins)
        ]
        # Rows ready now are inserted already leased to the delivery task queued
        # below, which saves an UPDATE of the rows just written; rows waiting for
        # working hours keep their time and are left to dispatch_ready().
        lease_until = now + outbox_lease()
        ready_rows = [replace(r, send_after=lease_until) for r in rows if r.send_after <= now]
        waiting_rows = [r for r in rows if r.send_after > now]
        ready = [pk for pk, _send_after in _insert(ready_rows, now=now)]
        new_ids = ready + [pk for pk, _send_after in _insert(waiting_rows, now=now)]
        for meeting, stages in everything:
            future = [stage.due_at for stage in stages if stage.due_at > now]
            meeting.next_reminder_at = min(future) if future else None
        _save_next_reminder_times(meetings)
        _queue_delivery(ready)
    result.meetings += len(meetings)
    result.queued += len(new_ids)
    result.batches += 1
    result.ids += new_ids
    return len(meetings) == batch_size


# The same batch as `_sweep_batch_python`, as one PostgreSQL statement. Why: the
# Python version spends ~0.2 ms per meeting building model instances, Stage
# objects and driver parameters, so 1,000 due meetings cost 20-50x the SELECT
# that finds them. Here the database claims the rows, lays out every stage of
# DESIGN.md's table (same rules as `stages_for`), keeps the latest due stage per
# kind, finds the recipients, stores next_reminder_at and inserts the outbox rows
# of recipients who are working now, in one round trip. Only rows whose recipient
# is outside working hours come back to Python, where `User.next_working_moment`
# (zoneinfo, DST) decides when they go out, and are inserted by a second statement.
# Data-modifying CTEs all run to completion on one snapshot, whether or not the
# final SELECT reads them.
SWEEP_SQL = """
WITH claimed AS MATERIALIZED (
    SELECT m.id, m.team_id, m.organizer_id, m.starts_at, m.ends_at,
           m.canceled_at IS NULL AND m.recap_published_at IS NULL AS open,
           m.agenda_sent_at IS NULL AND %(now)s < m.starts_at AS agenda_open,
           t.notify_no_agenda AND m.agenda_sent_at IS NULL AND %(now)s < m.ends_at
               AND m.created_at < m.starts_at AS warn_no_agenda,
           m.starts_at - t.agenda_lead_time AS deadline,
           m.ends_at + t.recap_grace AS grace_end,
           m.ends_at + t.escalate_after AS escalate_at
    FROM meetings_meeting m JOIN accounts_team t ON t.id = m.team_id
    -- The partial index meeting_reminder_due_idx: only due rows are read.
    WHERE m.next_reminder_at IS NOT NULL AND m.next_reminder_at <= %(now)s
    ORDER BY m.next_reminder_at, m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
),
daily AS (
    -- Recap reminders after the grace period: the latest daily one due and the
    -- next one (stages_for's `first` and `first + 1`), capped at the limit.
    SELECT c.id, GREATEST(1, LEAST(d.days_due, %(daily_limit)s)) AS first,
           LEAST(d.days_due + 1, %(daily_limit)s) AS last
    FROM claimed c CROSS JOIN LATERAL (
        SELECT CASE WHEN %(now)s > c.grace_end
                    THEN floor(extract(epoch FROM %(now)s - c.grace_end) / 86400)::int
                    ELSE 0 END AS days_due
    ) d
),
stages AS (
    -- `ord` is the position in stages_for's list: among stages of one kind due
    -- at the same instant, the later one wins, as in latest_due(). `prefix` and
    -- `key` make the stage name, built only for the stages that are sent.
    SELECT c.id AS meeting_id, c.team_id, c.organizer_id, s.*
    FROM claimed c JOIN daily y ON y.id = c.id
    CROSS JOIN LATERAL (VALUES
        (1, 'agenda_reminder', 'due_tomorrow', c.starts_at,
         c.deadline - interval '24 hours', c.deadline, c.agenda_open),
        (2, 'agenda_reminder', 'due_now', c.starts_at, c.deadline, c.starts_at, c.agenda_open),
        (3, 'agenda_reminder', 'last_call', c.starts_at,
         c.starts_at - interval '2 hours', c.starts_at, c.agenda_open),
        (4, 'no_agenda_notice', 'at_start', c.starts_at, c.starts_at, c.ends_at,
         c.warn_no_agenda),
        (5, 'recap_reminder', 'after_end', c.ends_at, c.ends_at + interval '1 hour',
         NULL::timestamptz, true),
        (6, 'recap_reminder', 'grace', c.ends_at, c.grace_end, NULL, true),
        (7, 'recap_reminder', 'daily' || y.first, c.ends_at,
         c.grace_end + y.first * interval '24 hours', NULL, true),
        (8, 'recap_reminder', 'daily' || (y.first + 1), c.ends_at,
         c.grace_end + (y.first + 1) * interval '24 hours', NULL, y.first + 1 <= y.last),
        (9, 'recap_escalation', 'escalation', c.ends_at, c.escalate_at, NULL, true)
    ) AS s(ord, kind, prefix, anchor, due_at, useless_after, applies)
    WHERE c.open AND s.applies
),
moved AS (
    UPDATE meetings_meeting m SET next_reminder_at = n.next_at
    FROM (
        SELECT c.id, min(s.due_at) FILTER (WHERE s.due_at > %(now)s) AS next_at
        FROM claimed c LEFT JOIN stages s ON s.meeting_id = c.id
        GROUP BY c.id
    ) n
    WHERE m.id = n.id
    RETURNING m.id
),
due AS (
    -- Per meeting and kind, only the latest stage already due is sent.
    -- The name carries the time it is about, as _anchor() writes it.
    SELECT DISTINCT ON (meeting_id, kind) meeting_id, team_id, organizer_id, kind,
           prefix || '@' || to_char(anchor AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MI"Z"') AS name,
           useless_after
    FROM stages WHERE due_at <= %(now)s
    ORDER BY meeting_id, kind, due_at DESC, ord DESC
),
recipients AS (
    -- The organizer; attendees but the organizer for the no-agenda notice; the
    -- organizer and the team's admins for the escalation (UNION: each once).
    SELECT meeting_id, kind, name, useless_after, organizer_id AS user_id
    FROM due WHERE kind <> 'no_agenda_notice'
    UNION
    SELECT d.meeting_id, d.kind, d.name, d.useless_after, a.user_id
    FROM due d JOIN meetings_attendee a ON a.meeting_id = d.meeting_id
    WHERE d.kind = 'no_agenda_notice' AND a.user_id <> d.organizer_id
    UNION
    SELECT d.meeting_id, d.kind, d.name, d.useless_after, ms.user_id
    FROM due d JOIN accounts_membership ms ON ms.team_id = d.team_id
    WHERE d.kind = 'recap_escalation' AND ms.role = ANY(%(admin_roles)s)
),
placed AS (
    -- User.is_working_at(now): the local time of one instant is never ambiguous,
    -- so this matches Python exactly; the next window (DST) is left to Python.
    SELECT r.*, u.time_zone, u.work_days, u.work_start, u.work_end,
           (u.work_days & (1 << (extract(isodow FROM l.local)::int - 1))) <> 0
           AND l.local::time >= u.work_start AND l.local::time < u.work_end AS working
    FROM recipients r JOIN accounts_user u ON u.id = r.user_id
    CROSS JOIN LATERAL (SELECT %(now)s AT TIME ZONE u.time_zone AS local) l
),
inserted AS (
    -- Ready now: inserted already leased to the delivery task queued after
    -- commit. ON CONFLICT DO NOTHING: the unique constraint is the idempotency key.
    INSERT INTO meetings_notification (
        meeting_id, kind, stage, recipient_id, state, send_after, attempts, last_error,
        created_at)
    SELECT meeting_id, kind, name, user_id, %(pending)s, %(lease_until)s, 0, '', %(now)s
    FROM placed WHERE working
    ON CONFLICT DO NOTHING
    RETURNING id
)
-- With the count, whether due rows remain beyond this batch (the snapshot still
-- shows the claimed rows as due, hence NOT IN): saves the sweep a last round
-- trip that would find nothing.
SELECT 'claimed', count(*),
       (EXISTS (SELECT 1 FROM meetings_meeting r
                WHERE r.next_reminder_at IS NOT NULL AND r.next_reminder_at <= %(now)s
                  AND r.id NOT IN (SELECT id FROM claimed)))::int::bigint,
       NULL::text, NULL::text, NULL::bigint,
       NULL::timestamptz, NULL::text, NULL::integer, NULL::time, NULL::time
FROM moved
UNION ALL
SELECT 'queued', id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM inserted
UNION ALL
SELECT 'later', NULL, meeting_id, kind, name, user_id, useless_after, time_zone, work_days,
       work_start, work_end
FROM placed WHERE NOT working
"""


def _sweep_statement(now: datetime, batch_size: int) -> tuple[str, dict]:
    params = {
        "now": now,
        "limit": batch_size,
        "daily_limit": RECAP_DAILY_LIMIT,
        "admin_roles": list(Membership.ADMIN_ROLES),
        "pending": Notification.State.PENDING,
        "lease_until": now + outbox_lease(),
    }
    return SWEEP_SQL, params


def _insert_outside_working_hours(later: Sequence[tuple], *, now: datetime) -> tuple[list, list]:
    """Outbox rows for recipients outside working hours: (leased ids, waiting ids).

    `later` holds (meeting_id, kind, stage, user_id, useless_after, time_zone,
    work_days, work_start, work_end). The next working moment is computed once
    per recipient with the model's own method, so DST and zones behave exactly as
    everywhere else; a reminder that would wait past its usefulness goes now.
    """
    if not later:
        return [], []
    moments: dict[int, datetime] = {}
    rows: list[Row] = []
    for meeting_id, kind, stage, user_id, useless_after, zone, days, start, end in later:
        if user_id not in moments:
            user = User(pk=user_id, time_zone=zone, work_days=days, work_start=start, work_end=end)
            moments[user_id] = user.next_working_moment(now)
        moment = moments[user_id]
        if useless_after is not None and moment >= useless_after:
            moment = now
        rows.append(Row(kind, stage, user_id, meeting_id, moment))
    lease_until = now + outbox_lease()
    ready_rows = [replace(r, send_after=lease_until) for r in rows if r.send_after <= now]
    waiting_rows = [r for r in rows if r.send_after > now]
    leased = [pk for pk, _send_after in _insert(ready_rows, now=now)]
    return leased, [pk for pk, _send_after in _insert(waiting_rows, now=now)]


def _sweep_batch_sql(now: datetime, batch_size: int, result: SweepResult) -> bool:
    """One batch in one statement (see SWEEP_SQL); returns whether due rows remain."""
    sql, params = _sweep_statement(now, batch_size)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            records = cursor.fetchall()
        claimed = more = 0
        ready: list[int] = []
        later: list[tuple] = []
        for record in records:
            if record[0] == "queued":
                ready.append(record[1])
            elif record[0] == "later":
                later.append(record[2:])
            else:
                claimed, more = record[1], record[2]
        if not claimed:
            return False
        leased, waiting = _insert_outside_working_hours(later, now=now)
        ready += leased
        _queue_delivery(ready)
    new_ids = ready + waiting
    result.meetings += claimed
    result.queued += len(new_ids)
    result.batches += 1
    result.ids += new_ids
    return bool(more)


def sweep(
    *, now: datetime, batch_size: int = SWEEP_BATCH_SIZE, max_batches: int = 10_000
) -> SweepResult:
    """Queue the latest due stage of every kind for every due meeting.

    Works in bounded batches, each its own transaction, so memory does not grow
    with the table and locks are short. The query count per batch is constant.
    """
    result = SweepResult()
    batch = _sweep_batch_sql if connection.vendor == "postgresql" else _sweep_batch_python
    for _ in range(max_batches):
        if not batch(now, batch_size, result):
            break
    return result


MANUAL_STAGE_PREFIX = "manual:"


def manual_stage(now: datetime) -> str:
    """The stage of a "remind now": one per UTC day (per meeting, kind and recipient)."""
    return f"{MANUAL_STAGE_PREFIX}{now.astimezone(UTC).date().isoformat()}"


def current_stage(meeting: Meeting, now: datetime, kinds: Iterable[str]) -> Stage | None:
    """The stage a reminder about `meeting` speaks for at `now`: the latest one due
    among `kinds`, else the next one. Needs `meeting.team`."""
    wanted = set(kinds)
    stages = [s for s in stages_for(meeting, now) if s.kind in wanted]
    if not stages:
        return None
    due = [s for s in stages if s.due_at <= now]
    return max(due, key=lambda s: s.due_at) if due else min(stages, key=lambda s: s.due_at)


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


# -- delivery ----------------------------------------------------------------------------

# Temporary failures (4xx, connection trouble) retry with exponential backoff and
# full jitter, capped so no countdown is longer than a few minutes; after this
# many attempts the row is marked failed and shows up in the admin.
MAX_ATTEMPTS = 10


@dataclass
class Outcome:
    """What `deliver()` did: "sent", "skipped", "failed", "retry", "deferred" (left for
    another task: the chunk ran out of time) or "not pending"."""

    status: str
    retry_in: float = 0.0


def retry_delay(attempts: int) -> float:
    """Seconds before retry number `attempts` (1-based): exponential, capped, jittered."""
    base = getattr(settings, "OUTBOX_RETRY_BASE_SECONDS", 30)
    cap = getattr(settings, "OUTBOX_RETRY_MAX_SECONDS", 300)
    ceiling = min(cap, base * 2 ** (attempts - 1))
    # Full jitter over the upper half: retries of many rows spread out instead of
    # hitting a recovering server at the same instant.
    return random.uniform(ceiling / 2, ceiling)


def smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        # Any temporary refusal means trying again may work.
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def is_temporary(exc: BaseException) -> bool:
    """4xx replies and connection trouble are temporary; 5xx and the rest are not."""
    code = smtp_code(exc)
    if code is not None:
        return 400 <= code < 500
    # SMTPServerDisconnected, refused connections, timeouts: all OSError.
    return isinstance(exc, OSError)


def _describe(exc: BaseException) -> str:
    code = smtp_code(exc)
    text = str(exc) or exc.__class__.__name__
    return f"{code} {text}" if code else f"{exc.__class__.__name__}: {text}"


# Well inside the delivery task's soft time limit (45 s), with room for one more
# send at the SMTP timeout (EMAIL_TIMEOUT, 10 s by default).
CHUNK_TIME_BUDGET_SECONDS = 25


def deliver(notification_id: int, *, now: datetime) -> Outcome:
    """Deliver one outbox row; see `deliver_many`."""
    return deliver_many([notification_id], now=now).get(notification_id, Outcome("not pending"))


def deliver_many(notification_ids: Sequence[int], *, now: datetime) -> dict[int, Outcome]:
    """Lock the rows, send their messages over one connection, mark them. Safe to rerun.

    The row locks are held while sending, so a second task for the same rows (the
    re-drive after a lost lease, a redelivered acks_late message) skips them
    (SKIP LOCKED) and finds them sent afterwards. A crash after the SMTP server
    accepted a message but before commit leaves its row pending: the re-drive
    then sends it once more (at most once more, never in a loop). Rows missing
    from the result were not pending (already sent, failed, or being sent).
    """
    from . import emails

    outcomes: dict[int, Outcome] = {}
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "meeting", "meeting__team", "meeting__organizer")
            .annotate(superseded=emails.superseded_by_later_stage())
            .filter(pk__in=list(notification_ids), state=Notification.State.PENDING)
            .order_by("pk")
        )
        sent: list[int] = []
        skipped: list[int] = []
        unreachable: BaseException | None = None
        started = time.monotonic()
        for notification in rows:
            if time.monotonic() - started > CHUNK_TIME_BUDGET_SECONDS:
                # A slow server: commit what went out and hand the rest to a new
                # task, rather than hit the time limit and roll back rows whose
                # messages were already accepted (they would be sent again).
                outcomes[notification.pk] = Outcome("deferred")
                continue
            message = None if unreachable else emails.message_for(notification, now=now)
            if message is None and not unreachable:
                # No longer needed (the agenda was sent meanwhile, the meeting was
                # canceled, a later stage superseded it, the digest is empty).
                skipped.append(notification.pk)
                outcomes[notification.pk] = Outcome("skipped")
                continue
            notification.attempts += 1
            try:
                if unreachable:
                    # The server did not answer for an earlier row of this chunk:
                    # do not wait out a timeout per row.
                    raise unreachable
                # Lets support staff (and the tests) match a message to its row.
                message.extra_headers["X-Bookend-Notification"] = str(notification.pk)
                emails.send(message)
            except Exception as exc:  # classified below; anything else is permanent
                if smtp_code(exc) is None and is_temporary(exc):
                    unreachable = exc
                outcomes[notification.pk] = _record_failure(notification, exc, now)
            else:
                sent.append(notification.pk)
                outcomes[notification.pk] = Outcome("sent")
        if skipped:
            Notification.objects.filter(pk__in=skipped).delete()
        if sent:
            Notification.objects.filter(pk__in=sent).update(
                state=Notification.State.SENT, sent_at=now, attempts=F("attempts") + 1
            )
    return outcomes


def _record_failure(notification: Notification, exc: BaseException, now: datetime) -> Outcome:
    notification.last_error = _describe(exc)[:2000]
    if is_temporary(exc) and notification.attempts < MAX_ATTEMPTS:
        outcome = Outcome("retry", retry_delay(notification.attempts))
        # Keep the re-drive away until the retry has had its chance.
        notification.send_after = now + timedelta(seconds=outcome.retry_in) + outbox_lease()
        log.warning("notification %s: temporary failure, %s", notification.pk, exc)
    else:
        outcome = Outcome("failed")
        notification.state = Notification.State.FAILED
        log.error("notification %s failed: %s", notification.pk, exc)
    notification.save(update_fields=["attempts", "last_error", "send_after", "state"])
    return outcome


# -- digests ---------------------------------------------------------------------------------


def queue_meeting_digest(meeting: Meeting, *, kind: str, stage: str, now: datetime) -> list[int]:
    """Queue one digest per attendee (agenda on send and amend, recap on publish).

    Called inside the transition's transaction: a rollback queues nothing, and
    delivery starts after commit. Digests are not held for working hours: an
    agenda or recap is news about a shared meeting, the recipient reads it when
    they come online.
    """
    recipient_ids = list(
        Attendee.objects.filter(meeting=meeting, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [Row(kind, stage, uid, meeting.pk, now) for uid in recipient_ids]
    new_ids = insert_notifications(rows, now=now)
    enqueue(new_ids, now=now)
    return new_ids


def digest_is_due(user: User, now: datetime) -> bool:
    """At the user's local digest hour (or within two hours after, to catch up after
    an outage), on one of their working days."""
    local = now.astimezone(user.zone)
    return user.works_on(local.date()) and user.digest_hour <= local.hour < user.digest_hour + 2


def queue_daily_digests(*, now: datetime, batch_size: int = 500) -> int:
    """Queue today's daily digest for every user whose local digest hour has come.

    Stage is the user's local date, so the unique constraint allows one a day
    however often this runs. Users with nothing to report get no row at all.
    """
    from .emails import daily_digest_content, digest_is_empty

    queued = 0
    users = User.objects.filter(daily_digest=True, is_active=True).order_by("pk")
    batch: list[Row] = []
    for user in users.iterator(chunk_size=batch_size):
        if not digest_is_due(user, now):
            continue
        stage = now.astimezone(user.zone).date().isoformat()
        if Notification.objects.filter(
            kind=Kind.DAILY_DIGEST, stage=stage, recipient=user
        ).exists():
            continue
        if digest_is_empty(daily_digest_content(user, now=now)):
            continue
        batch.append(Row(Kind.DAILY_DIGEST, stage, user.pk, None, now))
        if len(batch) >= batch_size:
            queued += _queue_rows(batch, now)
            batch = []
    queued += _queue_rows(batch, now)
    return queued


def _queue_rows(rows: list[Row], now: datetime) -> int:
    if not rows:
        return 0
    with transaction.atomic():
        new_ids = insert_notifications(rows, now=now)
        enqueue(new_ids, now=now)
    return len(new_ids)
