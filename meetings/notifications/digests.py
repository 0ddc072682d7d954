"""Digest rows in the outbox: one per attendee on agenda, one per attendee and action-item
owner on recap, and the daily digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Q

from accounts.models import User

from ..models import ActionItem, Attendee, Meeting, Notification
from .daily import daily_digest_contents, digest_is_empty
from .outbox import Row, enqueue, insert_notifications
from .stages import Kind, anchor


def queue_meeting_digest(meeting: Meeting, *, kind: str, stage: str, now: datetime) -> list[int]:
    """Queue one digest per recipient (agenda on send and amend, recap on publish).

    Called inside the transition's transaction: a rollback queues nothing, and
    delivery starts after commit. Digests are not held for working hours: an
    agenda or recap is news about a shared meeting, the recipient reads it when
    they come online.
    """
    rows = [Row(kind, stage, uid, meeting.pk, now) for uid in digest_recipient_ids(meeting, kind)]
    new_ids = insert_notifications(rows, now=now)
    enqueue(new_ids, now=now)
    return new_ids


def queue_item_notice(
    item: ActionItem, *, kind: str, recipient_id: int, now: datetime
) -> list[int]:
    """Queue a notice about one action item: its assignment to a new owner, or its
    owner declining it (to the organizer). The stage names the item and the moment,
    so each assignment or answer is told once. Sent at once, like a digest."""
    rows = [Row(kind, f"{item.pk}@{anchor(now)}", recipient_id, item.meeting_id, now)]
    new_ids = insert_notifications(rows, now=now)
    enqueue(new_ids, now=now)
    return new_ids


# Written activity waits this long before its batch goes, so that a burst of
# comments makes one message; then for the recipient's working hours.
ACTIVITY_BATCH_DELAY = timedelta(hours=1)
# What a batch of agenda activity reports (audit actions of the services).
ACTIVITY_ACTIONS = (
    "agenda.commented", "agenda.item_settled", "agenda.item_unsettled",
    "meeting.shortened", "meeting.settled",
)  # fmt: skip


def activity_window(user: User, moment: datetime) -> tuple[str, datetime]:
    """The working window a batch for `user` goes out in: its key (the user's local
    date) and the moment it starts, the first working moment at or after `moment`."""
    start = user.next_working_moment(moment)
    return start.astimezone(user.zone).date().isoformat(), start


def queue_activity(
    meeting: Meeting, *, by: User | None, also: Sequence[User] = (), now: datetime
) -> list[int]:
    """Make sure each attendee of `meeting` (and each person in `also`, the mentioned)
    but `by` has a batch of agenda activity coming: at most one per working window.

    The row says when and to whom; what it reports is read when it is sent (the
    audit events since that person's last batch). A window whose batch already
    went out takes no more: the next one carries the news.
    """
    people = {
        a.user.pk: a.user
        for a in meeting.attendees.exclude(rsvp=Attendee.Rsvp.NO).select_related("user")
    }
    people.update({u.pk: u for u in also})
    people.pop(getattr(by, "pk", None), None)
    recipients = [u for u in people.values() if u.is_active]
    if not recipients:
        return []
    windows = {u.pk: activity_window(u, now + ACTIVITY_BATCH_DELAY) for u in recipients}
    sent = set(
        Notification.objects.filter(
            kind=Kind.AGENDA_ACTIVITY,
            recipient_id__in=list(windows),
            stage__in={key for key, _ in windows.values()},
        )
        .exclude(state=Notification.State.PENDING)
        .values_list("recipient_id", "stage")
    )
    rows = []
    for user in recipients:
        key, start = windows[user.pk]
        if (user.pk, key) in sent:
            local_next_day = datetime.combine(
                start.astimezone(user.zone).date() + timedelta(days=1), time(0), tzinfo=user.zone
            )
            key, start = activity_window(user, local_next_day)
        rows.append(Row(Kind.AGENDA_ACTIVITY, key, user.pk, None, start))
    # Rows of a window already queued are kept as they are (ON CONFLICT DO NOTHING);
    # the dispatch re-drive sends each when its window opens.
    return insert_notifications(rows, now=now)


def digest_recipient_ids(meeting: Meeting, kind: str) -> list[int]:
    """Who a meeting's digest goes to, each person once: its active attendees, and
    for a recap every action-item owner too, whether or not they attended (an owner
    who was not there would otherwise never learn of their items)."""
    reached = Q(attendances__meeting=meeting)
    if kind == Kind.RECAP_DIGEST:
        reached |= Q(action_items__meeting=meeting)
    return list(
        User.objects.filter(reached, is_active=True)
        .order_by("pk")
        .distinct()
        .values_list("pk", flat=True)
    )


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
    queued = 0
    users = User.objects.filter(daily_digest=True, is_active=True).order_by("pk")
    due: list[User] = []
    for user in users.iterator(chunk_size=batch_size):
        if digest_is_due(user, now):
            due.append(user)
        if len(due) >= batch_size:
            queued += _queue_digests(due, now)
            due = []
    return queued + _queue_digests(due, now)


def _queue_digests(users: list[User], now: datetime) -> int:
    if not users:
        return 0
    stages = {user.pk: now.astimezone(user.zone).date().isoformat() for user in users}
    # One query for the batch: who already has today's digest (rerun within the hour).
    queued_today = set(
        Notification.objects.filter(
            kind=Kind.DAILY_DIGEST, recipient_id__in=stages, stage__in=set(stages.values())
        ).values_list("recipient_id", "stage")
    )
    waiting = [user for user in users if (user.pk, stages[user.pk]) not in queued_today]
    # Seven queries for the batch: users with nothing to report get no row.
    contents = daily_digest_contents(waiting, now=now)
    rows = [
        Row(Kind.DAILY_DIGEST, stages[user.pk], user.pk, None, now)
        for user in waiting
        if not digest_is_empty(contents[user.pk])
    ]
    if not rows:
        return 0
    with transaction.atomic():
        new_ids = insert_notifications(rows, now=now)
        enqueue(new_ids, now=now)
    return len(new_ids)
