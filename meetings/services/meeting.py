"""Scheduling, changing and canceling a meeting, and the audit helper the services share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import models, transaction

from accounts import audit
from accounts.models import Membership, Team, User

from .. import notifications
from ..models import AgendaVersion, Attendee, EventType, Meeting, Notification, RuleBroken


def record(
    meeting: Meeting,
    by: User | None,
    action: str,
    summary: str,
    *,
    now: datetime,
    subject: models.Model | None = None,
    changed: dict | None = None,
) -> None:
    """One audit event about `meeting`, in the caller's transaction."""
    audit.record(
        team=meeting.team_id,
        actor=by,
        action=action,
        summary=summary,
        now=now,
        meeting_id=meeting.pk,
        subject=subject,
        changed=changed,
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
    record(
        meeting, organizer, "meeting.created", f"Scheduled “{title}”", now=now,
        subject=meeting,
        changed={"attendees": [None, sorted(u.email for u in [organizer, *attendees,
                                                               *optional_attendees])]},
    )  # fmt: skip
    return meeting


def queue_agenda_digest(meeting: Meeting, *, now: datetime, stage: str | None = None) -> None:
    """One digest of the agenda as it stands per attendee, after commit.

    The stage defaults to the iCalendar SEQUENCE, so each version is queued once
    per attendee however often a request is retried. The version is kept, so that
    a later digest can say what changed since the one a reader got.
    """
    AgendaVersion.keep(meeting, now=now)
    notifications.queue_meeting_digest(
        meeting,
        kind=Notification.Kind.AGENDA_DIGEST,
        stage=stage or str(meeting.sequence),
        now=now,
    )


def agenda_digest_stage(meeting: Meeting, moved_from: tuple[datetime, datetime] | None) -> str:
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


MEETING_FIELDS = ("title", "starts_at", "ends_at", "location")


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
    if row.settled_at:
        raise RuleBroken("This meeting was settled in writing and can no longer change.")
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
    before = audit.snapshot(row, MEETING_FIELDS)
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
    changed = audit.changes(before, audit.snapshot(row, MEETING_FIELDS))
    if attendees is not None:
        changed.update(_set_attendees(row, attendees))
    if row.agenda_sent_at and now < row.starts_at:
        # Attendees hold the sent invitation: a change sends the new version
        # (higher SEQUENCE) so calendars move the event; a new attendee gets the
        # current one. Rows that exist are ignored, so nothing goes out twice.
        queue_agenda_digest(row, stage=agenda_digest_stage(row, moved_from), now=now)
    if changed:
        record(row, by, "meeting.changed", f"Changed “{title}”", now=now, subject=row,
               changed=changed)  # fmt: skip
    meeting.refresh_from(row)
    return meeting


def _set_attendees(row: Meeting, attendees: Iterable[User]) -> dict:
    """Make the attendees exactly `attendees` (and the organizer); what changed."""
    wanted = {u.pk: u for u in attendees}
    wanted.pop(row.organizer_id, None)
    require_members(row.team, wanted.values(), "attendee")
    leaving = row.attendees.exclude(user_id__in=[*wanted, row.organizer_id])
    removed = sorted(leaving.values_list("user__email", flat=True))
    leaving.delete()
    existing = set(row.attendees.values_list("user_id", flat=True))
    joining = [user for pk, user in wanted.items() if pk not in existing]
    Attendee.objects.bulk_create(Attendee(meeting=row, user=u, required=True) for u in joining)
    changed = {}
    if removed:
        changed["attendees removed"] = [removed, None]
    if joining:
        changed["attendees added"] = [None, sorted(u.email for u in joining)]
    return changed


@transaction.atomic
def cancel_meeting(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Cancel; attendees who got the agenda's invitation get the cancellation."""
    meeting.cancel(by=by, now=now)
    if meeting.agenda_sent_at:
        notifications.queue_meeting_digest(
            meeting, kind=Notification.Kind.AGENDA_DIGEST, stage=str(meeting.sequence), now=now
        )
    record(meeting, by, "meeting.canceled", f"Canceled “{meeting.title}”", now=now,
           subject=meeting)  # fmt: skip
    notifications.events.emit(EventType.MEETING_CANCELED, meeting, actor=by, now=now)
    return meeting
