"""Settling it in writing: comments on agenda items, items settled before the meeting,
the meeting shortened to what is left, or settled in writing altogether.

Each change locks the meeting row first and re-checks the rules; attendees hear of
written activity in one batch per working window (`notifications.queue_activity`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from accounts.models import Membership, User

from .. import notifications
from ..models import AgendaComment, AgendaItem, Meeting, Notification, RuleBroken
from .meeting import record, update_meeting
from .recap import CARRY_OVER_TASK, add_action_item

Kind = Notification.Kind

# A meeting is never shortened below this: some time to meet about what is left.
SHORTEST_MEETING = timedelta(minutes=5)


def may_discuss(
    meeting: Meeting, user: User, *, attending: bool | None = None, team_admin: bool | None = None
) -> bool:
    """Comments are for the meeting's attendees and the team's admins. `attending`,
    `team_admin`: what the caller knows already (the meeting page has read both)."""
    if attending is None:
        attending = meeting.attendees.filter(user=user).exists()
    if attending:
        return True
    if team_admin is None:
        team_admin = (
            Membership.objects.admins().filter(team_id=meeting.team_id, user=user).exists()
        )
    return team_admin


def readers_of_comments(meeting: Meeting) -> list[User]:
    """Who may read the comments, so who can be mentioned: the attendees and the
    team's admins, with active accounts."""
    return list(
        User.objects.filter(
            Q(attendances__meeting=meeting)
            | Q(
                memberships__team_id=meeting.team_id, memberships__role__in=Membership.ADMIN_ROLES
            ),  # fmt: skip
            is_active=True,
        ).distinct()
    )


def mentioned_in(body: str, people: Sequence[User]) -> list[User]:
    """The people `body` names as `@Display Name` or `@localpart` (case-insensitive)."""
    text = body.casefold()
    found = []
    for person in people:
        handles = {person.name.casefold(), person.email.split("@")[0].casefold()}
        if any(re.search(rf"@{re.escape(h)}(?![\w-])", text) for h in handles if h):
            found.append(person)
    return found


@transaction.atomic
def add_comment(*, item: AgendaItem, author: User, body: str, now: datetime) -> AgendaComment:
    meeting = item.meeting.locked()
    if reason := meeting.discussion_closed_reason():
        raise RuleBroken(reason)
    if not may_discuss(meeting, author):
        raise RuleBroken("Only the meeting's attendees and the team's admins comment.")
    comment = AgendaComment(agenda_item=item, author=author, body=body.strip(), created_at=now)
    comment.full_clean(exclude={"agenda_item", "author"})
    comment.save()
    mentioned = [
        u for u in mentioned_in(comment.body, readers_of_comments(meeting)) if u.pk != author.pk
    ]
    comment.mentioned.set(mentioned)
    notifications.queue_activity(meeting, by=author, also=mentioned, now=now)
    record(meeting, author, "agenda.commented", f"Commented on “{item.title}”", now=now,
           subject=comment)  # fmt: skip
    return comment


@transaction.atomic
def settle_item(*, item: AgendaItem, resolution: str, by: User, now: datetime) -> AgendaItem:
    """Its owner or the organizer resolves the item in writing before the start."""
    meeting = item.meeting.locked()
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    item.meeting = meeting
    if not item.can_be_settled_by(by):
        raise RuleBroken("Only the item's owner or the meeting's organizer settles it.")
    decision = item.settle(resolution, by=by, now=now)
    notifications.queue_activity(meeting, by=by, now=now)
    record(meeting, by, "agenda.item_settled", f"Settled “{item.title}” in writing", now=now,
           subject=item, changed={"resolution": [None, decision.text]})  # fmt: skip
    return item


@transaction.atomic
def unsettle_item(*, item: AgendaItem, by: User, now: datetime) -> AgendaItem:
    """Reopen a settled item before the start: its decision goes, its outcome clears."""
    meeting = item.meeting.locked()
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    item.meeting = meeting
    if not item.can_be_settled_by(by):
        raise RuleBroken("Only the item's owner or the meeting's organizer reopens it.")
    item.unsettle(now=now)
    notifications.queue_activity(meeting, by=by, now=now)
    record(meeting, by, "agenda.item_unsettled", f"Reopened “{item.title}” for the meeting",
           now=now, subject=item)  # fmt: skip
    return item


def shortened_end(meeting: Meeting) -> datetime | None:
    """The end that fits the time boxes still to discuss, if that is earlier than the
    current one (and the agenda has time boxes at all); None when there is nothing
    to gain."""
    left, total = meeting.timebox_left()
    if not total or left == total:
        return None
    end = meeting.starts_at + max(timedelta(minutes=left), SHORTEST_MEETING)
    return end if end < meeting.ends_at else None


@transaction.atomic
def shorten_meeting(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """End the meeting when the unsettled items' time boxes are used up: an amendment
    of its times, so attendees get the updated invitation (SEQUENCE rules as ever)."""
    row = meeting.locked()
    end = shortened_end(row)
    if end is None:
        raise RuleBroken("Nothing to shorten: no settled item frees any time.")
    saved = int((row.ends_at - end).total_seconds() // 60)
    update_meeting(meeting=row, by=by, title=row.title, starts_at=row.starts_at, ends_at=end,
                   location=row.location, now=now)  # fmt: skip
    Meeting.objects.filter(pk=row.pk).update(shortened_minutes=F("shortened_minutes") + saved)
    row.refresh_from_db()
    notifications.queue_activity(row, by=by, now=now)
    record(row, by, "meeting.shortened", f"Shortened “{row.title}” by {saved} min: settled "
           "items need no time", now=now, subject=row,
           changed={"ends_at": [str(end + timedelta(minutes=saved)), str(end)]})  # fmt: skip
    meeting.refresh_from(row)
    return meeting


@transaction.atomic
def settle_meeting_in_writing(
    *,
    meeting: Meeting,
    by: User,
    summary: str,
    notes: str = "",
    no_action_items: bool = False,
    actions: Sequence[tuple[str, User, date]] = (),
    now: datetime,
) -> Meeting:
    """ "Settled in writing: no meeting needed": the recap (summary, and action items
    or the explicit flag) is published before the start, attendees get its digest
    and their calendars a CANCEL with the reason. All or nothing."""
    row = meeting.locked()
    if not row.can_be_changed_by(by):
        raise RuleBroken("Only the organizer and team admins settle a meeting in writing.")
    row.recap_summary, row.recap_notes, row.no_action_items = summary, notes, no_action_items
    row.save(update_fields=["recap_summary", "recap_notes", "no_action_items"])
    for description, owner, due in actions:
        add_action_item(meeting=row, description=description, owner=owner, due_date=due,
                        created_by=by, now=now)  # fmt: skip
    row.settle_in_writing(by=by, now=now)
    notifications.reschedule_items(
        row.action_items.select_related("meeting__team", "owner"), now=now
    )
    notifications.queue_meeting_digest(row, kind=Kind.RECAP_DIGEST, stage="published", now=now)
    notifications.queue_activity(row, by=by, now=now)
    if row.series_id:
        notifications.outbox.publish_after_commit(CARRY_OVER_TASK, row.pk)
    record(row, by, "meeting.settled", f"Settled “{row.title}” in writing: no meeting needed",
           now=now, subject=row)  # fmt: skip
    meeting.refresh_from(row)
    return meeting
