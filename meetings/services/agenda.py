"""The agenda: its desired outcome and items, sending it and amending it.

Each change locks the meeting row first (`Meeting.locked`), so it cannot
interleave with a send, a publish or a cancel of the same meeting, then
re-checks the rule against the locked row.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts import audit
from accounts.models import User

from .. import notifications
from ..models import (
    NOTHING_CHANGED,
    AgendaItem,
    AgendaVersion,
    EventType,
    Meeting,
    NothingChanged,
    RuleBroken,
)
from .meeting import queue_agenda_digest, record, require_members

ITEM_FIELDS = ("title", "owner", "timebox_minutes", "notes")


@transaction.atomic
def add_agenda_item(
    *,
    meeting: Meeting,
    title: str,
    added_by: User,
    owner: User | None = None,
    timebox_minutes: int | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> AgendaItem:
    now = now or timezone.now()
    if owner is not None:
        require_members(meeting.team, [owner], "agenda item owner")
    # Lock the meeting so two concurrent additions get distinct positions.
    meeting.locked()
    last = meeting.agenda_items.aggregate(m=Max("position"))["m"]
    item = AgendaItem(
        meeting=meeting,
        title=title,
        owner=owner,
        timebox_minutes=timebox_minutes,
        notes=notes,
        added_by=added_by,
        position=0 if last is None else last + 1,
        created_at=now,
    )
    item.full_clean()
    item.save()
    record(meeting, added_by, "agenda_item.added", f"Added agenda item “{title}”", now=now,
           subject=item, changed=audit.changes({}, audit.snapshot(item, ITEM_FIELDS)))  # fmt: skip
    return item


@transaction.atomic
def propose_agenda_item(
    *,
    meeting: Meeting,
    title: str,
    added_by: User,
    owner: User | None = None,
    timebox_minutes: int | None = None,
    notes: str = "",
    now: datetime,
) -> AgendaItem:
    """Add an item (the organizer) or a talking point (an attendee) before the start."""
    meeting.locked().require_agenda_open(now)
    return add_agenda_item(
        meeting=meeting,
        title=title,
        added_by=added_by,
        owner=owner,
        timebox_minutes=timebox_minutes,
        notes=notes,
        now=now,
    )


@transaction.atomic
def send_agenda(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Send the agenda: one digest with an invitation per attendee, after commit."""
    meeting.send_agenda(by=by, now=now)
    _queue_agenda_digest(meeting, now=now)
    record(meeting, by, "agenda.sent", f"Sent the agenda of “{meeting.title}”", now=now,
           subject=meeting)  # fmt: skip
    notifications.events.emit(EventType.AGENDA_SENT, meeting, key=str(meeting.sequence),
                              actor=by, now=now)  # fmt: skip
    return meeting


@transaction.atomic
def amend_agenda(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Every amendment bumps SEQUENCE and is one new digest per attendee. One that
    changes nothing attendees see raises `NothingChanged` and sends nothing."""
    # Locked until the end: nothing can change between this check and the send.
    row = meeting.locked()
    if row.agenda_sent_at and row.agenda_is_open(now) and AgendaVersion.attendees_have(row):
        raise NothingChanged(NOTHING_CHANGED)
    meeting.amend_agenda(by=by, now=now)
    _queue_agenda_digest(meeting, now=now)
    record(meeting, by, "agenda.amended", f"Sent the changed agenda of “{meeting.title}”",
           now=now, subject=meeting)  # fmt: skip
    notifications.events.emit(EventType.AGENDA_AMENDED, meeting, key=str(meeting.sequence),
                              actor=by, now=now)  # fmt: skip
    return meeting


def _queue_agenda_digest(meeting: Meeting, *, now: datetime) -> None:
    queue_agenda_digest(meeting, now=now)
    # A sent agenda needs no more agenda reminders.
    notifications.reschedule(meeting, now=now)


@transaction.atomic
def set_desired_outcome(
    *, meeting: Meeting, text: str, by: User | None = None, now: datetime
) -> Meeting:
    row = meeting.locked()
    row.require_agenda_open(now)
    if row.agenda_sent_at and not text.strip():
        raise RuleBroken("A sent agenda must state the desired outcome.")
    before = row.desired_outcome
    row.desired_outcome = text
    row.save(update_fields=["desired_outcome"])
    if before != text:
        record(row, by, "agenda.outcome_changed", "Changed the desired outcome", now=now,
               subject=row, changed={"desired_outcome": [before, text]})  # fmt: skip
    meeting.refresh_from(row)
    return meeting


@transaction.atomic
def edit_agenda_item(
    *,
    item: AgendaItem,
    title: str,
    owner: User | None,
    timebox_minutes: int | None,
    notes: str,
    by: User | None = None,
    now: datetime,
) -> AgendaItem:
    row = item.meeting.locked()
    row.require_agenda_open(now)
    if owner is not None:
        require_members(row.team, [owner], "agenda item owner")
    before = audit.snapshot(item, ITEM_FIELDS)
    item.title, item.owner, item.timebox_minutes, item.notes = title, owner, timebox_minutes, notes
    item.full_clean(exclude={"meeting", "added_by", "carried_from"})
    item.save(update_fields=["title", "owner", "timebox_minutes", "notes"])
    changed = audit.changes(before, audit.snapshot(item, ITEM_FIELDS))
    if changed:
        record(row, by, "agenda_item.changed", f"Changed agenda item “{title}”", now=now,
               subject=item, changed=changed)  # fmt: skip
    return item


@transaction.atomic
def move_agenda_item(
    *, item: AgendaItem, offset: int, by: User | None = None, now: datetime
) -> AgendaItem:
    """Move an item up (-1) or down (+1); renumber so positions are 0..n-1 again."""
    row = item.meeting.locked()
    row.require_agenda_open(now)
    items = list(row.agenda_items.order_by("position", "pk"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = max(0, min(len(items) - 1, index + offset))
    items.insert(target, items.pop(index))
    for position, other in enumerate(items):
        other.position = position
    AgendaItem.objects.bulk_update(items, ["position"])
    item.position = target
    if target != index:
        record(row, by, "agenda_item.moved", f"Moved agenda item “{item.title}”", now=now,
               subject=item, changed={"place": [index + 1, target + 1]})  # fmt: skip
    return item


@transaction.atomic
def remove_agenda_item(*, item: AgendaItem, by: User | None = None, now: datetime) -> None:
    row = item.meeting.locked()
    row.require_agenda_open(now)
    if row.agenda_sent_at and row.agenda_items.count() <= 1:
        raise RuleBroken("A sent agenda keeps at least one item; add another first.")
    record(row, by, "agenda_item.removed", f"Removed agenda item “{item.title}”", now=now,
           subject=item, changed=audit.changes(audit.snapshot(item, ITEM_FIELDS), {}))  # fmt: skip
    item.delete()
