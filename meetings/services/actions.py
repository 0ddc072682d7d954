"""Action items once they are out: their owner accepts, re-dates, declines or completes
them (in the app or from an e-mailed link), and the organizer reassigns them.

Each change locks the item row first and re-checks it; each records an audit event
and reschedules the item's due reminders in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils.formats import date_format

from accounts.models import User

from .. import notifications
from ..models import ActionItem, EventType, Notification, RuleBroken
from .meeting import record
from .recap import CARRY_OVER_TASK

Kind = Notification.Kind


@transaction.atomic
def accept_action_item(*, item: ActionItem, by: User, now: datetime) -> bool:
    """The owner takes the item on; False if it was answered already (a second click)."""
    row = item.locked()
    if problem := row.answer_problem(by.pk):
        raise RuleBroken(problem)
    accepted = row.accept(now=now)
    if accepted:
        record(row.meeting, by, "action_item.accepted", f"{by.name} accepted an action item",
               now=now, subject=row, changed={"response": ["unanswered", "accepted"]})  # fmt: skip
    _copy(row, item)
    return accepted


@transaction.atomic
def redate_action_item(*, item: ActionItem, due_date: date, by: User, now: datetime) -> bool:
    """A new due date from its owner (rule 5 again); the reminders follow the new date.
    False if the date is the one it had."""
    row = item.locked()
    if not row.can_be_redated_by(by):
        raise RuleBroken("Only its owner or the meeting's organizer moves an action item.")
    before = row.due_date
    moved = row.redate(due_date, now=now, accepts=row.owner_id == by.pk)
    if moved:
        notifications.reschedule_items([row], now=now)
        record(row.meeting, by, "action_item.redated",
               f"Moved “{row.description[:60]}” to {date_format(due_date, 'D j M Y')}",
               now=now, subject=row,
               changed={"due_date": [before.isoformat(), due_date.isoformat()]})  # fmt: skip
        notifications.events.emit(EventType.ACTION_ITEM_REDATED, row.meeting, item=row,
                                  key=str(row.redated_count), actor=by, now=now)  # fmt: skip
    _copy(row, item)
    return moved


@transaction.atomic
def decline_action_item(*, item: ActionItem, reason: str, by: User, now: datetime) -> ActionItem:
    """The owner hands the item back: its reminders stop and the organizer is told to
    find a new owner (in a series, carry-over puts it on the next agenda)."""
    row = item.locked()
    if row.owner_id != by.pk:
        raise RuleBroken("Only its owner declines an action item.")
    row.decline(reason=reason, now=now)
    notifications.queue_item_notice(
        row, kind=Kind.ACTION_DECLINED, recipient_id=row.meeting.organizer_id, now=now
    )
    _carry_over(row)
    changed = {"response": ["", "declined"], "reason": [None, row.decline_reason]}
    record(row.meeting, by, "action_item.declined", f"{by.name} declined an action item",
           now=now, subject=row, changed=changed)  # fmt: skip
    _copy(row, item)
    return item


@transaction.atomic
def reassign_action_item(
    *, item: ActionItem, owner: User, by: User, now: datetime, due_date: date | None = None
) -> ActionItem:
    """Give a published item to someone else (a declined one, usually); the new owner
    is told and answers afresh. Optionally with a new due date."""
    row = item.locked()
    if not row.can_be_reassigned_by(by, admin_team_ids=_admin_teams(by)):
        raise RuleBroken("Only the meeting's organizer or a team admin reassigns an item.")
    before = row.owner.name
    row.reassign(owner, now=now, member_ids=row.meeting.team_member_ids())
    if due_date is not None and due_date != row.due_date:
        row.redate(due_date, now=now, accepts=False)  # the new owner has not answered
    notifications.reschedule_items([row], now=now)
    notifications.queue_item_notice(row, kind=Kind.ACTION_ASSIGNED, recipient_id=owner.pk,
                                    now=now)  # fmt: skip
    _carry_over(row)
    record(row.meeting, by, "action_item.reassigned",
           f"Gave “{row.description[:60]}” to {owner.name}", now=now, subject=row,
           changed={"owner": [before, owner.name]})  # fmt: skip
    notifications.events.emit(EventType.ACTION_ITEM_ASSIGNED, row.meeting, item=row,
                              key=row.assigned_at.isoformat(), actor=by, now=now)  # fmt: skip
    _copy(row, item)
    return item


@transaction.atomic
def complete_action_item(*, item: ActionItem, by: User, now: datetime) -> ActionItem:
    """Its owner reports it done (an e-mailed link): checked under the lock like the
    other answers, as it may have been declined or given away meanwhile."""
    row = item.locked()
    if problem := row.answer_problem(by.pk):
        raise RuleBroken(problem)
    set_action_item_done(item=row, done=True, by=by, now=now)
    _copy(row, item)
    return item


@transaction.atomic
def set_action_item_done(
    *, item: ActionItem, done: bool, by: User | None = None, now: datetime
) -> ActionItem:
    """Mark done (or open again). A double click records one change and one event."""
    changed = item.complete(now=now) if done else item.reopen()
    if changed:
        if not done:
            row = item.locked()
            notifications.reschedule_items([row], now=now)
            _copy(row, item)
        action = "action_item.completed" if done else "action_item.reopened"
        summary = f"Marked “{item.description[:60]}” {'done' if done else 'open again'}"
        record(item.meeting, by, action, summary, now=now, subject=item,
               changed={"status": ["open", "done"] if done else ["done", "open"]})  # fmt: skip
        if done:
            notifications.events.emit(
                EventType.ACTION_ITEM_COMPLETED, item.meeting, item=item,
                key=item.completed_at.isoformat(), actor=by, now=now,
            )  # fmt: skip
    return item


def _carry_over(item: ActionItem) -> None:
    """In a series, the next agenda takes the item up as one to reassign (or, once
    reassigned, as a follow-up again): carry-over runs after commit, by task name."""
    if item.meeting.series_id:
        notifications.outbox.publish_after_commit(CARRY_OVER_TASK, item.meeting_id)


def _admin_teams(user: User) -> set[int]:
    return set(user.memberships.admins().values_list("team_id", flat=True))


def _copy(row: ActionItem, item: ActionItem) -> None:
    """Bring the caller's object up to date with the row the service changed."""
    if row is not item:
        for field in ActionItem._meta.concrete_fields:
            setattr(item, field.attname, getattr(row, field.attname))
