"""The recap: summary, notes and outcomes, decisions, action items while drafted,
publishing it and acknowledging it.

Each change locks the meeting row first and re-checks that the recap is open.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts import audit
from accounts.models import User

from .. import notifications
from ..models import (
    ActionItem,
    AgendaItem,
    Attendee,
    Decision,
    EventType,
    Meeting,
    Notification,
    RuleBroken,
)
from .meeting import record

RECAP_FIELDS = ("recap_summary", "recap_notes", "no_action_items")
ACTION_FIELDS = ("description", "owner", "due_date")

# Carry-over builds on these services (meetings.series), so it is enqueued by the
# name of its task, after commit, rather than imported.
CARRY_OVER_TASK = "meetings.carry_over_after_recap"


@transaction.atomic
def save_recap(
    *,
    meeting: Meeting,
    summary: str,
    notes: str,
    no_action_items: bool,
    outcomes: dict[int, str] | None = None,
    by: User | None = None,
    now: datetime,
) -> Meeting:
    """Save the recap draft: summary, notes, the no-action-items flag, item outcomes."""
    row = meeting.locked()
    row.require_recap_open(now)
    before = audit.snapshot(row, RECAP_FIELDS)
    row.recap_summary, row.recap_notes, row.no_action_items = summary, notes, no_action_items
    row.save(update_fields=["recap_summary", "recap_notes", "no_action_items"])
    changed = audit.changes(before, audit.snapshot(row, RECAP_FIELDS))
    # "Settled" is recorded by settling the item in writing (with its time and
    # decision, `AgendaItem.settle`), never typed into a recap; a settled item keeps it.
    settled = AgendaItem.Outcome.SETTLED
    valid = set(AgendaItem.Outcome.values) - {settled}
    for item in row.agenda_items.filter(pk__in=list(outcomes or {})):
        outcome = (outcomes or {})[item.pk]
        if item.outcome == outcome:
            continue
        if item.outcome == settled:
            raise RuleBroken(
                f"“{item.title}” was settled in writing; reopen it to record another outcome."
            )
        if outcome not in valid:
            raise RuleBroken("Outcome must be discussed, decided or deferred.")
        changed[f"outcome of “{item.title}”"] = [item.outcome, outcome]
        item.outcome = outcome
        item.save(update_fields=["outcome"])
    if changed:
        record(row, by, "recap.saved", "Saved the recap draft", now=now, subject=row,
               changed=changed)  # fmt: skip
    meeting.refresh_from(row)
    return meeting


@transaction.atomic
def publish_recap(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Publish the recap: one digest per attendee with a signed acknowledgement link.

    In a series, what the recap leaves open (action items, deferred items) is
    then carried into the next meeting's agenda.
    """
    meeting.publish_recap(by=by, now=now)
    # Its action items are out now: their due reminders start.
    notifications.reschedule_items(
        meeting.action_items.select_related("meeting__team", "owner"), now=now
    )
    notifications.queue_meeting_digest(
        meeting, kind=Notification.Kind.RECAP_DIGEST, stage="published", now=now
    )
    if meeting.series_id:
        notifications.outbox.publish_after_commit(CARRY_OVER_TASK, meeting.pk)
    record(meeting, by, "recap.published", f"Published the recap of “{meeting.title}”",
           now=now, subject=meeting)  # fmt: skip
    events = notifications.events
    # Only ids and keys here: `emit_many` reads what the bodies show in one query.
    items = meeting.action_items.only("pk", "assigned_at")
    events.emit_many(
        [events.occurrence(EventType.RECAP_PUBLISHED, meeting, actor=by)]
        + [events.occurrence(EventType.ACTION_ITEM_ASSIGNED, meeting, item=item, actor=by,
                             key=item.assigned_at.isoformat()) for item in items],
        now=now,
    )  # fmt: skip
    return meeting


@transaction.atomic
def save_and_publish_recap(
    *,
    meeting: Meeting,
    by: User,
    summary: str,
    notes: str,
    no_action_items: bool,
    outcomes: dict[int, str] | None = None,
    now: datetime,
) -> Meeting:
    """Publish what is in the recap form. All or nothing: a refused publish saves nothing."""
    save_recap(
        meeting=meeting,
        summary=summary,
        notes=notes,
        no_action_items=no_action_items,
        outcomes=outcomes,
        by=by,
        now=now,
    )
    return publish_recap(meeting=meeting, by=by, now=now)


@transaction.atomic
def acknowledge_recap(*, meeting: Meeting, user: User, now: datetime) -> Attendee:
    try:
        attendee = meeting.attendees.get(user=user)
    except Attendee.DoesNotExist:
        raise RuleBroken("Only attendees acknowledge a recap.") from None
    if attendee.acknowledge(now=now):
        record(meeting, user, "recap.acknowledged", f"{user.name} read the recap", now=now,
               subject=attendee)  # fmt: skip
    return attendee


# -- decisions ----------------------------------------------------------------------


@transaction.atomic
def add_decision(
    *, meeting: Meeting, text: str, by: User | None = None, now: datetime | None = None
) -> Decision:
    now = now or timezone.now()
    last = meeting.decisions.aggregate(m=Max("position"))["m"]
    decision = Decision(meeting=meeting, text=text, position=0 if last is None else last + 1)
    decision.full_clean()
    decision.save()
    record(meeting, by, "decision.added", "Recorded a decision", now=now, subject=decision,
           changed={"text": [None, text]})  # fmt: skip
    return decision


@transaction.atomic
def record_decision(
    *, meeting: Meeting, text: str, by: User | None = None, now: datetime
) -> Decision:
    meeting.locked().require_recap_open(now)
    return add_decision(meeting=meeting, text=text, by=by, now=now)


@transaction.atomic
def edit_decision(
    *, decision: Decision, text: str, by: User | None = None, now: datetime
) -> Decision:
    row = decision.meeting.locked()
    row.require_recap_open(now)
    before = decision.text
    decision.text = text
    decision.full_clean(exclude={"meeting"})
    decision.save(update_fields=["text"])
    if before != text:
        record(row, by, "decision.changed", "Changed a decision", now=now, subject=decision,
               changed={"text": [before, text]})  # fmt: skip
    return decision


@transaction.atomic
def remove_decision(*, decision: Decision, by: User | None = None, now: datetime) -> None:
    row = decision.meeting.locked()
    row.require_recap_open(now)
    record(row, by, "decision.removed", "Removed a decision", now=now, subject=decision,
           changed={"text": [decision.text, None]})  # fmt: skip
    decision.delete()


# -- action items -------------------------------------------------------------------


@transaction.atomic
def add_action_item(
    *,
    meeting: Meeting,
    description: str,
    owner: User,
    due_date: date,
    created_by: User | None = None,
    now: datetime,
) -> ActionItem:
    """Rule 5: one owner from the meeting's team, due on or after the meeting's day."""
    item = ActionItem(
        meeting=meeting,
        description=description,
        owner=owner,
        due_date=due_date,
        created_by=created_by,
        created_at=now,
        assigned_at=now,
    )
    item.full_clean(exclude={"meeting"})
    item.validate_rules()
    item.save()
    record(meeting, created_by, "action_item.added", f"Assigned an action item to {owner.name}",
           now=now, subject=item,
           changed=audit.changes({}, audit.snapshot(item, ACTION_FIELDS)))  # fmt: skip
    return item


@transaction.atomic
def assign_action_item(
    *,
    meeting: Meeting,
    description: str,
    owner: User,
    due_date: date,
    created_by: User,
    now: datetime,
) -> ActionItem:
    """An action item written into the recap draft; untick "no action items" if it was set."""
    row = meeting.locked()
    row.require_recap_open(now)
    item = add_action_item(
        meeting=row,
        description=description,
        owner=owner,
        due_date=due_date,
        created_by=created_by,
        now=now,
    )
    if row.no_action_items:
        # Writing an action item contradicts the flag; the person just changed their mind.
        Meeting.objects.filter(pk=row.pk).update(no_action_items=False)
        meeting.no_action_items = False
    return item


@transaction.atomic
def edit_action_item(
    *,
    item: ActionItem,
    description: str,
    owner: User,
    due_date: date,
    by: User | None = None,
    now: datetime,
) -> ActionItem:
    """Reword, reassign or move a drafted action item; rule 5 is checked again."""
    row = item.meeting.locked()
    row.require_recap_open(now)
    before = audit.snapshot(item, ACTION_FIELDS)
    if owner.pk != item.owner_id:
        item.assigned_at = now
    item.description, item.owner, item.due_date = description, owner, due_date
    item.full_clean(exclude={"meeting", "created_by"})
    item.validate_rules()
    item.save(update_fields=["description", "owner", "due_date", "assigned_at"])
    changed = audit.changes(before, audit.snapshot(item, ACTION_FIELDS))
    if changed:
        record(row, by, "action_item.changed", "Changed an action item", now=now, subject=item,
               changed=changed)  # fmt: skip
    return item


@transaction.atomic
def remove_action_item(*, item: ActionItem, by: User | None = None, now: datetime) -> None:
    row = item.meeting.locked()
    row.require_recap_open(now)
    record(row, by, "action_item.removed", "Removed an action item", now=now, subject=item,
           changed=audit.changes(audit.snapshot(item, ACTION_FIELDS), {}))  # fmt: skip
    item.delete()
