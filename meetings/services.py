"""Writes that span several models. Views, the admin, tasks and the seed call these.

Each service takes keyword-only arguments and `now=` (so tests need no clock
tricks), runs in one transaction, and returns the object it changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Max

from accounts.models import Membership, Team, User

from . import notifications
from .models import (
    ActionItem,
    AgendaItem,
    AgendaVersion,
    Attendee,
    Decision,
    Meeting,
    Notification,
    RuleBroken,
)


def require_members(team: Team, users: Iterable[User], what: str) -> None:
    """Everyone in `users` belongs to `team` (attendees, owners), or RuleBroken."""
    ids = {u.pk for u in users}
    members = set(
        Membership.objects.filter(team=team, user_id__in=ids).values_list("user_id", flat=True)
    )
    if ids - members:
        raise RuleBroken(f"Every {what} must be a member of {team}.")


@transaction.atomic
def create_meeting(
    *,
    team: Team,
    organizer: User,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    location: str = "",
    attendees: Iterable[User] = (),
    optional_attendees: Iterable[User] = (),
    now: datetime,
) -> Meeting:
    """Schedule a meeting, or record one that already happened (held without agenda).

    The organizer is always an attendee. Attendees must belong to the team.
    """
    attendees, optional_attendees = list(attendees), list(optional_attendees)
    require_members(team, [organizer, *attendees, *optional_attendees], "attendee")
    meeting = Meeting(
        team=team,
        organizer=organizer,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        location=location,
        created_at=now,
    )
    meeting.full_clean()
    meeting.save()
    rows = {organizer.pk: Attendee(meeting=meeting, user=organizer, required=True)}
    for user in optional_attendees:
        rows.setdefault(user.pk, Attendee(meeting=meeting, user=user, required=False))
    for user in attendees:
        rows[user.pk] = Attendee(meeting=meeting, user=user, required=True)
    Attendee.objects.bulk_create(rows.values())
    notifications.reschedule(meeting, now=now)
    return meeting


@transaction.atomic
def add_agenda_item(
    *,
    meeting: Meeting,
    title: str,
    added_by: User,
    owner: User | None = None,
    timebox_minutes: int | None = None,
    notes: str = "",
) -> AgendaItem:
    if owner is not None:
        require_members(meeting.team, [owner], "agenda item owner")
    # Lock the meeting so two concurrent additions get distinct positions.
    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    last = meeting.agenda_items.aggregate(m=Max("position"))["m"]
    item = AgendaItem(
        meeting=meeting,
        title=title,
        owner=owner,
        timebox_minutes=timebox_minutes,
        notes=notes,
        added_by=added_by,
        position=0 if last is None else last + 1,
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def send_agenda(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Send the agenda: one digest with an invitation per attendee, after commit."""
    meeting.send_agenda(by=by, now=now)
    _queue_agenda_digest(meeting, now=now)
    return meeting


@transaction.atomic
def amend_agenda(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Every amendment bumps SEQUENCE and is one new digest per attendee."""
    meeting.amend_agenda(by=by, now=now)
    _queue_agenda_digest(meeting, now=now)
    return meeting


def _queue_agenda_digest(meeting: Meeting, *, now: datetime) -> None:
    # Stage = the iCalendar SEQUENCE, so each version is queued once per attendee
    # however often a request is retried. The version is kept, so that a later
    # digest can say what changed since the one a reader got.
    AgendaVersion.keep(meeting, now=now)
    notifications.queue_meeting_digest(
        meeting, kind=Notification.Kind.AGENDA_DIGEST, stage=str(meeting.sequence), now=now
    )
    notifications.reschedule(meeting, now=now)


def _agenda_digest_stage(meeting: Meeting, moved_from: tuple[datetime, datetime] | None) -> str:
    """The digest stage for the meeting's current invitation version.

    A move records the previous times in the stage, so the digest says "Moved".
    A change that keeps the version (only attendees changed) reuses the stage
    the others got, so they are not sent the same version twice.
    """
    if moved_from is not None:
        return notifications.agenda_digest_stage(meeting.sequence, moved_from)
    existing = (
        Notification.objects.filter(
            meeting=meeting,
            kind=Notification.Kind.AGENDA_DIGEST,
            stage__startswith=f"{meeting.sequence}@",
        )
        .values_list("stage", flat=True)
        .first()
    )
    return existing or str(meeting.sequence)


@transaction.atomic
def cancel_meeting(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Cancel; attendees who got the agenda's invitation get the cancellation."""
    meeting.cancel(by=by, now=now)
    if meeting.agenda_sent_at:
        notifications.queue_meeting_digest(
            meeting, kind=Notification.Kind.AGENDA_DIGEST, stage=str(meeting.sequence), now=now
        )
    return meeting


@transaction.atomic
def add_decision(*, meeting: Meeting, text: str) -> Decision:
    last = meeting.decisions.aggregate(m=Max("position"))["m"]
    decision = Decision(meeting=meeting, text=text, position=0 if last is None else last + 1)
    decision.full_clean()
    decision.save()
    return decision


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
    )
    item.full_clean(exclude={"meeting"})
    item.validate_rules()
    item.save()
    return item


# Carry-over builds on these services (meetings.series), so it is enqueued by the
# name of its task, after commit, rather than imported.
CARRY_OVER_TASK = "meetings.carry_over_after_recap"


@transaction.atomic
def publish_recap(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Publish the recap: one digest per attendee with a signed acknowledgement link.

    In a series, what the recap leaves open (action items, deferred items) is
    then carried into the next meeting's agenda.
    """
    meeting.publish_recap(by=by, now=now)
    notifications.queue_meeting_digest(
        meeting, kind=Notification.Kind.RECAP_DIGEST, stage="published", now=now
    )
    if meeting.series_id:
        notifications.outbox.publish_after_commit(CARRY_OVER_TASK, meeting.pk)
    return meeting


def acknowledge_recap(*, meeting: Meeting, user: User, now: datetime) -> Attendee:
    try:
        attendee = meeting.attendees.get(user=user)
    except Attendee.DoesNotExist:
        raise RuleBroken("Only attendees acknowledge a recap.") from None
    attendee.acknowledge(now=now)
    return attendee


# -- Editing from the meeting page ---------------------------------------------
# The meeting page changes a meeting piece by piece. Each service below locks the
# meeting row first (`Meeting.locked`), so a change cannot interleave with a
# send, a publish or a cancel of the same meeting, then re-checks the rule
# against the locked row.


@transaction.atomic
def update_meeting(
    *,
    meeting: Meeting,
    by: User,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str = "",
    attendees: Iterable[User] | None = None,
    now: datetime,
) -> Meeting:
    """Change title, times, place and attendees. The organizer always stays an attendee.

    Moving the times is refused where it would break a recorded fact: an agenda
    sent before the new start, a recap published after the new end.
    """
    row = meeting.locked()
    if row.canceled_at:
        raise RuleBroken("This meeting is canceled and can no longer change.")
    if not row.can_be_changed_by(by):
        raise PermissionError("Only the organizer and team admins change this meeting.")
    times_changed = (row.starts_at, row.ends_at) != (starts_at, ends_at)
    problems = Meeting.times_problems(starts_at, ends_at)
    if times_changed and row.has_started(now):
        problems.append("This meeting has already started, so it can no longer move.")
    elif times_changed and starts_at <= now:
        problems.append("Pick a start in the future: a meeting cannot move into the past.")
    if times_changed and row.agenda_sent_at and starts_at <= row.agenda_sent_at:
        problems.append(
            "The agenda was already sent, so the meeting cannot move to start before that."
        )
    if times_changed and row.recap_published_at and ends_at > row.recap_published_at:
        problems.append("The recap is published, so the meeting cannot move to end after that.")
    if not title.strip():
        problems.append("A meeting needs a title.")
    if problems:
        raise RuleBroken(problems)
    told = (row.title, row.location) != (title, location) or times_changed
    moved_from = (row.starts_at, row.ends_at) if times_changed else None
    row.title, row.starts_at, row.ends_at, row.location = title, starts_at, ends_at, location
    if told:
        # Attendees' calendars see a new version of the invitation.
        row.sequence += 1
    row.full_clean()
    row.save(update_fields=["title", "starts_at", "ends_at", "location", "sequence"])
    if times_changed:
        # Reminder due times follow the meeting's times.
        notifications.reschedule(row, now=now)
    if attendees is not None:
        wanted = {u.pk: u for u in attendees}
        wanted.pop(row.organizer_id, None)
        require_members(row.team, wanted.values(), "attendee")
        row.attendees.exclude(user_id__in=[*wanted, row.organizer_id]).delete()
        existing = set(row.attendees.values_list("user_id", flat=True))
        Attendee.objects.bulk_create(
            Attendee(meeting=row, user=user, required=True)
            for pk, user in wanted.items()
            if pk not in existing
        )
    if row.agenda_sent_at and now < row.starts_at:
        # Attendees hold the sent invitation: a change sends the new version
        # (higher SEQUENCE) so calendars move the event; a new attendee gets the
        # current one. Rows that exist are ignored, so nothing goes out twice.
        AgendaVersion.keep(row, now=now)
        notifications.queue_meeting_digest(
            row,
            kind=Notification.Kind.AGENDA_DIGEST,
            stage=_agenda_digest_stage(row, moved_from),
            now=now,
        )
    meeting.refresh_from(row)
    return meeting


@transaction.atomic
def set_desired_outcome(*, meeting: Meeting, text: str, now: datetime) -> Meeting:
    row = meeting.locked()
    row.require_agenda_open(now)
    if row.agenda_sent_at and not text.strip():
        raise RuleBroken("A sent agenda must state the desired outcome.")
    row.desired_outcome = text
    row.save(update_fields=["desired_outcome"])
    meeting.refresh_from(row)
    return meeting


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
    )


@transaction.atomic
def edit_agenda_item(
    *,
    item: AgendaItem,
    title: str,
    owner: User | None,
    timebox_minutes: int | None,
    notes: str,
    now: datetime,
) -> AgendaItem:
    row = item.meeting.locked()
    row.require_agenda_open(now)
    if owner is not None:
        require_members(row.team, [owner], "agenda item owner")
    item.title, item.owner, item.timebox_minutes, item.notes = title, owner, timebox_minutes, notes
    item.full_clean(exclude={"meeting", "added_by", "carried_from"})
    item.save(update_fields=["title", "owner", "timebox_minutes", "notes"])
    return item


@transaction.atomic
def move_agenda_item(*, item: AgendaItem, offset: int, now: datetime) -> AgendaItem:
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
    return item


@transaction.atomic
def remove_agenda_item(*, item: AgendaItem, now: datetime) -> None:
    row = item.meeting.locked()
    row.require_agenda_open(now)
    if row.agenda_sent_at and row.agenda_items.count() <= 1:
        raise RuleBroken("A sent agenda keeps at least one item; add another first.")
    item.delete()


@transaction.atomic
def save_recap(
    *,
    meeting: Meeting,
    summary: str,
    notes: str,
    no_action_items: bool,
    outcomes: dict[int, str] | None = None,
    now: datetime,
) -> Meeting:
    """Save the recap draft: summary, notes, the no-action-items flag, item outcomes."""
    row = meeting.locked()
    row.require_recap_open(now)
    row.recap_summary, row.recap_notes, row.no_action_items = summary, notes, no_action_items
    row.save(update_fields=["recap_summary", "recap_notes", "no_action_items"])
    valid = set(AgendaItem.Outcome.values)
    for item in row.agenda_items.filter(pk__in=list(outcomes or {})):
        outcome = (outcomes or {})[item.pk]
        if outcome not in valid:
            raise RuleBroken("Outcome must be discussed, decided or deferred.")
        if item.outcome != outcome:
            item.outcome = outcome
            item.save(update_fields=["outcome"])
    meeting.refresh_from(row)
    return meeting


@transaction.atomic
def record_decision(*, meeting: Meeting, text: str, now: datetime) -> Decision:
    meeting.locked().require_recap_open(now)
    return add_decision(meeting=meeting, text=text)


@transaction.atomic
def remove_decision(*, decision: Decision, now: datetime) -> None:
    decision.meeting.locked().require_recap_open(now)
    decision.delete()


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
def remove_action_item(*, item: ActionItem, now: datetime) -> None:
    item.meeting.locked().require_recap_open(now)
    item.delete()


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
        now=now,
    )
    return publish_recap(meeting=meeting, by=by, now=now)


@transaction.atomic
def edit_decision(*, decision: Decision, text: str, now: datetime) -> Decision:
    decision.meeting.locked().require_recap_open(now)
    decision.text = text
    decision.full_clean(exclude={"meeting"})
    decision.save(update_fields=["text"])
    return decision


@transaction.atomic
def edit_action_item(
    *, item: ActionItem, description: str, owner: User, due_date: date, now: datetime
) -> ActionItem:
    """Reword, reassign or move a drafted action item; rule 5 is checked again."""
    row = item.meeting.locked()
    row.require_recap_open(now)
    item.description, item.owner, item.due_date = description, owner, due_date
    item.full_clean(exclude={"meeting", "created_by"})
    item.validate_rules()
    item.save(update_fields=["description", "owner", "due_date"])
    return item
