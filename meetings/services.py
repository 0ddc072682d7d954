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

from .models import ActionItem, AgendaItem, Attendee, Decision, Meeting, RuleBroken


def _require_members(team: Team, users: Iterable[User], what: str) -> None:
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
    _require_members(team, [organizer, *attendees, *optional_attendees], "attendee")
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
        _require_members(meeting.team, [owner], "agenda item owner")
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


def send_agenda(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    meeting.send_agenda(by=by, now=now)
    return meeting


def amend_agenda(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    meeting.amend_agenda(by=by, now=now)
    return meeting


def cancel_meeting(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    meeting.cancel(by=by, now=now)
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


def publish_recap(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    meeting.publish_recap(by=by, now=now)
    return meeting


def acknowledge_recap(*, meeting: Meeting, user: User, now: datetime) -> Attendee:
    try:
        attendee = meeting.attendees.get(user=user)
    except Attendee.DoesNotExist:
        raise RuleBroken("Only attendees acknowledge a recap.") from None
    attendee.acknowledge(now=now)
    return attendee


def complete_action_item(*, item: ActionItem, now: datetime) -> ActionItem:
    item.complete(now=now)
    return item


def reopen_action_item(*, item: ActionItem) -> ActionItem:
    item.reopen()
    return item
