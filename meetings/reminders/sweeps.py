"""The reminder sweep: a batch of due meetings, in Python (the reference, and the
path on SQLite) or as one PostgreSQL statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import connection, transaction

from accounts.models import Membership, User

from ..models import Attendee, Meeting, Notification
from .outbox import Row, _insert, _queue_delivery, outbox_lease
from .stages import (
    DUE_TOMORROW_BEFORE_DEADLINE,
    FIRST_RECAP_REMINDER_AFTER_END,
    LAST_CALL_BEFORE_START,
    RECAP_DAILY_EVERY,
    RECAP_DAILY_LIMIT,
    Kind,
    _recipients,
    latest_due,
    send_time,
    stages_for,
    useful_moment,
)

SWEEP_BATCH_SIZE = 500


@dataclass
class SweepResult:
    meetings: int = 0
    queued: int = 0
    batches: int = 0
    ids: list[int] = field(default_factory=list)

    def add_batch(self, meetings: int, new_ids: list[int]) -> None:
        self.meetings += meetings
        self.queued += len(new_ids)
        self.batches += 1
        self.ids += new_ids


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
        ready, waiting = _insert_leased(rows, now=now)
        for meeting, stages in everything:
            future = [stage.due_at for stage in stages if stage.due_at > now]
            meeting.next_reminder_at = min(future) if future else None
        _save_next_reminder_times(meetings)
        _queue_delivery(ready)
    result.add_batch(len(meetings), ready + waiting)
    return len(meetings) == batch_size


def _insert_leased(rows: Sequence[Row], *, now: datetime) -> tuple[list[int], list[int]]:
    """Insert outbox rows: (ids ready now, ids waiting for working hours).

    Rows ready now are inserted already leased to the delivery task the caller
    queues, which saves an UPDATE of the rows just written; rows waiting for
    working hours keep their time and are left to dispatch_ready().
    """
    lease_until = now + outbox_lease()
    ready_rows = [replace(r, send_after=lease_until) for r in rows if r.send_after <= now]
    waiting_rows = [r for r in rows if r.send_after > now]
    ready = [pk for pk, _send_after in _insert(ready_rows, now=now)]
    return ready, [pk for pk, _send_after in _insert(waiting_rows, now=now)]


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
                    THEN floor(extract(epoch FROM %(now)s - c.grace_end)
                               / extract(epoch FROM %(daily_every)s))::int
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
         c.deadline - %(due_tomorrow)s, c.deadline, c.agenda_open),
        (2, 'agenda_reminder', 'due_now', c.starts_at, c.deadline, c.starts_at, c.agenda_open),
        (3, 'agenda_reminder', 'last_call', c.starts_at,
         c.starts_at - %(last_call)s, c.starts_at, c.agenda_open),
        (4, 'no_agenda_notice', 'at_start', c.starts_at, c.starts_at, c.ends_at,
         c.warn_no_agenda),
        (5, 'recap_reminder', 'after_end', c.ends_at, c.ends_at + %(after_end)s,
         NULL::timestamptz, true),
        (6, 'recap_reminder', 'grace', c.ends_at, c.grace_end, NULL, true),
        (7, 'recap_reminder', 'daily' || y.first, c.ends_at,
         c.grace_end + y.first * %(daily_every)s, NULL, true),
        (8, 'recap_reminder', 'daily' || (y.first + 1), c.ends_at,
         c.grace_end + (y.first + 1) * %(daily_every)s, NULL, y.first + 1 <= y.last),
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
-- What comes back: how many meetings were claimed, the outbox rows queued now,
-- and the recipients outside working hours (for Python to place).
SELECT 'claimed', count(*), NULL::bigint, NULL::text, NULL::text, NULL::bigint,
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
        # stages.py's intervals, so the two sweeps share one table of times.
        "due_tomorrow": DUE_TOMORROW_BEFORE_DEADLINE,
        "last_call": LAST_CALL_BEFORE_START,
        "after_end": FIRST_RECAP_REMINDER_AFTER_END,
        "daily_every": RECAP_DAILY_EVERY,
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
        moment = useful_moment(moments[user_id], useless_after, now)
        rows.append(Row(kind, stage, user_id, meeting_id, moment))
    return _insert_leased(rows, now=now)


def _sweep_batch_sql(now: datetime, batch_size: int, result: SweepResult) -> bool:
    """One batch in one statement (see SWEEP_SQL); returns whether due rows may remain."""
    sql, params = _sweep_statement(now, batch_size)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            records = cursor.fetchall()
        claimed = 0
        ready: list[int] = []
        later: list[tuple] = []
        for record in records:
            if record[0] == "queued":
                ready.append(record[1])
            elif record[0] == "later":
                later.append(record[2:])
            else:
                claimed = record[1]
        if not claimed:
            return False
        leased, waiting = _insert_outside_working_hours(later, now=now)
        ready += leased
        _queue_delivery(ready)
    result.add_batch(claimed, ready + waiting)
    # A full batch: more may be due. (Asking the database in the statement cost
    # more than the empty round trip this saves: the planner read the whole table.)
    return claimed == batch_size


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
