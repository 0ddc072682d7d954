"""The reminder sweep: queue the latest due stage of every kind for every due meeting.

One implementation on every database, set-based: per batch one claim of the due
meetings (SKIP LOCKED, served by the partial index `meeting_reminder_due_idx`),
at most two reads of recipients, one outbox insert with conflicts ignored and
one update of the meetings' next due times, whatever the batch holds. What is
due is decided by `stages.stages_for`, the one reading of DESIGN.md's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import transaction

from accounts.models import Membership, User

from ..models import ActionItem, Attendee, EventType, Meeting
from . import events
from .outbox import Row, insert_new, outbox_lease, queue_delivery
from .stages import OVERDUE, Kind, item_stages, latest_due, send_time, stages_for

SWEEP_BATCH_SIZE = 500

# What time brings that a team's webhooks and chat channels hear about.
MEETING_EVENTS = {
    Kind.NO_AGENDA_NOTICE: EventType.MEETING_STARTED_WITHOUT_AGENDA,
    Kind.RECAP_ESCALATION: EventType.RECAP_OVERDUE,
}

# Only the columns the stages and working hours read: a batch of 500 meetings
# with their team and organizer is then cheap to load.
SWEEP_FIELDS = (
    "team_id", "organizer_id", "starts_at", "ends_at", "created_at", "agenda_sent_at",
    "recap_published_at", "canceled_at", "settled_at", "next_reminder_at",
    "team__agenda_lead_time", "team__recap_grace", "team__escalate_after",
    "team__notify_no_agenda",
    "organizer__email", "organizer__time_zone", "organizer__work_days",
    "organizer__work_start", "organizer__work_end",
)  # fmt: skip


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


def sweep(
    *, now: datetime, batch_size: int = SWEEP_BATCH_SIZE, max_batches: int = 10_000
) -> SweepResult:
    """Queue the latest due stage of every kind for every due meeting.

    Works in bounded batches, each its own transaction, so memory does not grow
    with the table and locks are short. The query count per batch is constant.
    Safe to run twice at once: SKIP LOCKED splits the due meetings between the
    two, and the outbox's unique constraint refuses a second copy of a message.
    """
    result = SweepResult()
    for _ in range(max_batches):
        if not _sweep_batch(now, batch_size, result):
            break
    for _ in range(max_batches):
        if not _sweep_items_batch(now, batch_size, result):
            break
    return result


def due_meetings(now: datetime, batch_size: int):
    """The claim: due meetings no other sweep holds, oldest due first."""
    # `of=("self",)` locks the meeting rows only, not their teams and organizers.
    return (
        Meeting.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("team", "organizer")
        .only(*SWEEP_FIELDS)
        .filter(next_reminder_at__isnull=False, next_reminder_at__lte=now)
        .order_by("next_reminder_at", "pk")[:batch_size]
    )


def _sweep_batch(now: datetime, batch_size: int, result: SweepResult) -> bool:
    """One batch in one transaction; returns whether due meetings may remain (it was full)."""
    with transaction.atomic():
        meetings = list(due_meetings(now, batch_size))
        if not meetings:
            return False
        everything = [(m, stages_for(m, now)) for m in meetings]
        plans = [(m, latest_due(stages, now)) for m, stages in everything]
        attendees, admins = _people(plans)
        rows = [
            Row(stage.kind, stage.name, user.pk, meeting.pk, send_time(user, stage, now))
            for meeting, due in plans
            for stage in due
            for user in _recipients(meeting, stage.kind, attendees, admins)
        ]
        new, ready = _insert_leased(rows, now)
        events.emit_many(
            [events.occurrence(MEETING_EVENTS[stage.kind], meeting, key=stage.name)
             for meeting, due in plans for stage in due if stage.kind in MEETING_EVENTS],
            now=now,
        )  # fmt: skip
        for meeting, stages in everything:
            future = [stage.due_at for stage in stages if stage.due_at > now]
            meeting.next_reminder_at = min(future) if future else None
        Meeting.objects.bulk_update(meetings, ["next_reminder_at"])
        queue_delivery(ready)
    result.add_batch(len(meetings), list(new.values()))
    return len(meetings) == batch_size


def _insert_leased(rows: list[Row], now: datetime) -> tuple[dict[tuple, int], list[int]]:
    """Insert the new outbox rows; returns them by key, and the ids ready to go now.

    Rows ready now are inserted already leased to the delivery task the caller
    queues (no second write of the rows just made); rows waiting for working
    hours keep their time and are left to the re-drive (`dispatch_ready`).
    """
    lease_until = now + outbox_lease()
    leased = [replace(r, send_after=lease_until) if r.send_after <= now else r for r in rows]
    new = insert_new(leased, now=now)
    return new, [new[row.key] for row in rows if row.send_after <= now and row.key in new]


ITEM_SWEEP_FIELDS = (
    "meeting_id", "owner_id", "due_date", "status", "response", "next_reminder_at",
    "meeting__team_id", "meeting__canceled_at", "meeting__recap_published_at",
    "meeting__team__remind_action_items", "meeting__team__action_reminder_lead_days",
    "meeting__team__action_overdue_weeks",
    "owner__email", "owner__time_zone", "owner__work_days", "owner__work_start",
    "owner__work_end",
)  # fmt: skip


def due_items(now: datetime, batch_size: int):
    """The claim of action items whose reminders are due, as `due_meetings`."""
    return (
        ActionItem.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("meeting__team", "owner")
        .only(*ITEM_SWEEP_FIELDS)
        .filter(next_reminder_at__isnull=False, next_reminder_at__lte=now)
        .order_by("next_reminder_at", "pk")[:batch_size]
    )


def _sweep_items_batch(now: datetime, batch_size: int, result: SweepResult) -> bool:
    """One batch of due action items: the latest due stage to each owner, in their
    working hours, unless their team turned item reminders off. Constant queries."""
    with transaction.atomic():
        items = list(due_items(now, batch_size))
        if not items:
            return False
        everything = [(item, item_stages(item, now)) for item in items]
        rows = [
            Row(stage.kind, stage.name, item.owner_id, item.meeting_id,
                send_time(item.owner, stage, now))
            for item, stages in everything
            if item.meeting.team.remind_action_items
            for stage in latest_due(stages, now)
        ]  # fmt: skip
        new, ready = _insert_leased(rows, now)
        # Overdue is news for the team's tools even when e-mail reminders are off.
        events.emit_many(
            [events.occurrence(EventType.ACTION_ITEM_OVERDUE, item.meeting, item=item,
                               key=stage.name)
             for item, stages in everything for stage in latest_due(stages, now)
             if stage.name.startswith(OVERDUE)],
            now=now,
        )  # fmt: skip
        for item, stages in everything:
            future = [stage.due_at for stage in stages if stage.due_at > now]
            item.next_reminder_at = min(future) if future else None
        ActionItem.objects.bulk_update(items, ["next_reminder_at"])
        queue_delivery(ready)
    result.add_batch(len(items), list(new.values()))
    return len(items) == batch_size


def _people(plans) -> tuple[dict[int, list[User]], dict[int, list[User]]]:
    """Attendees of meetings owing a no-agenda notice and admins of teams owing an
    escalation: one query each, only when the batch needs them."""
    kinds = [(m, {s.kind for s in due}) for m, due in plans]
    need_attendees = [m.pk for m, due in kinds if Kind.NO_AGENDA_NOTICE in due]
    need_admins = {m.team_id for m, due in kinds if Kind.RECAP_ESCALATION in due}
    attendees: dict[int, list[User]] = {}
    if need_attendees:
        for a in Attendee.objects.filter(meeting_id__in=need_attendees).select_related("user"):
            attendees.setdefault(a.meeting_id, []).append(a.user)
    admins: dict[int, list[User]] = {}
    if need_admins:
        memberships = Membership.objects.admins().filter(team_id__in=need_admins)
        for m in memberships.select_related("user"):
            admins.setdefault(m.team_id, []).append(m.user)
    return attendees, admins


def _recipients(
    meeting: Meeting,
    kind: str,
    attendees: dict[int, list[User]],
    admins: dict[int, list[User]],
) -> list[User]:
    """DESIGN.md's "to" column: attendees but the organizer for the no-agenda notice,
    the organizer and the team's admins for the escalation, else the organizer."""
    if kind == Kind.NO_AGENDA_NOTICE:
        return [u for u in attendees.get(meeting.pk, []) if u.pk != meeting.organizer_id]
    if kind == Kind.RECAP_ESCALATION:
        people = {meeting.organizer_id: meeting.organizer}
        for user in admins.get(meeting.team_id, []):
            people.setdefault(user.pk, user)
        return list(people.values())
    return [meeting.organizer]
