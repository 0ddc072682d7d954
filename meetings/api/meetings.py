"""Teams, meetings and their attendees. Thin like the views: fetch through
`views/access.py` (404 for another team's object, 403 for a member without the
right), call the same service as the page, answer a schema."""

# No `from __future__ import annotations` here: django-ninja reads these signatures
# as types, and @paginate's wrapper would look string annotations up in its own module.

import base64
import binascii
import json
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import ValidationError as InputError
from ninja.pagination import paginate

from accounts.models import Membership, Team

from .. import services
from ..models import Meeting, RuleBroken
from ..views.access import changeable_meeting, viewable_meeting
from . import auth
from .common import (
    ACCESS,
    IN_PATH,
    NEW_ID,
    READ_ERRORS,
    WRITE_ERRORS,
    BoundedLimitOffset,
    links,
    meeting_detail,
    members,
)
from .schemas import (
    AttendeeIn,
    AttendeeOut,
    Instant,
    MeetingDetail,
    MeetingIn,
    MeetingPage,
    MeetingPatch,
    TeamOut,
)

router = Router(auth=auth.READ, tags=["meetings"])

MeetingStatus = Meeting.Status
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# -- teams ----------------------------------------------------------------------------


@router.get(
    "/teams/",
    response={200: list[TeamOut], **READ_ERRORS},
    url_name="teams",
    summary="List your teams",
    tags=["teams"],
)
def list_teams(request: HttpRequest):
    """The teams you belong to, and your role in each. Like every operation: 401
    without a valid token (or session), 429 past the rate limit."""
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    return [
        TeamOut(id=m.team_id, name=m.team.name, slug=m.team.slug, role=m.role)
        for m in memberships.order_by("team__name", "team_id")
    ]


# -- meetings -------------------------------------------------------------------------


def _cursor(meeting: Meeting) -> str:
    raw = json.dumps([meeting.starts_at.isoformat(), meeting.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> Q:
    """Rows after the cursor's (starts_at, id), the list's order: a keyset, so a page
    costs the same however deep it is, and rows added meanwhile cause no repeats."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        starts, pk = json.loads(base64.urlsafe_b64decode(padded))
        starts_at = datetime.fromisoformat(starts).astimezone(UTC)
        if not isinstance(pk, int):
            raise ValueError
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InputError(
            [{"msg": "This cursor is not one the API gave.", "loc": ["query", "cursor"]}]
        ) from None
    return Q(starts_at__gt=starts_at) | Q(starts_at=starts_at, pk__gt=pk)


@router.get(
    "/meetings/",
    response={200: MeetingPage, **READ_ERRORS},
    url_name="meetings",
    summary="List meetings",
)
def list_meetings(
    request: HttpRequest,
    team: int | None = None,
    status: MeetingStatus | None = None,
    starts_after: Instant | None = None,
    starts_before: Instant | None = None,
    cursor: str | None = None,
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """Your teams' meetings by start (then id), a page at a time: pass `next` back
    as `cursor` for the following page. 422 for a cursor the API did not give or a
    filter of the wrong type."""
    meetings = (
        Meeting.objects.for_user(request.user)
        .with_status(timezone.now())
        .select_related("organizer")
        .order_by("starts_at", "pk")
    )
    if team is not None:
        meetings = meetings.filter(team_id=team)
    if status is not None:
        meetings = meetings.filter(status=status)
    if starts_after is not None:
        meetings = meetings.filter(starts_at__gte=starts_after)
    if starts_before is not None:
        meetings = meetings.filter(starts_at__lt=starts_before)
    if cursor:
        meetings = meetings.filter(_after(cursor))
    rows = list(meetings[: limit + 1])
    page = rows[:limit]
    return {"items": page, "next": _cursor(page[-1]) if len(rows) > limit else None}


@router.get(
    "/meetings/{int:meeting_id}/",
    response={200: MeetingDetail, **READ_ERRORS},
    url_name="meeting",
    summary="Get a meeting",
)
def get_meeting(request: HttpRequest, meeting_id: int):
    """A meeting: agenda, attendees with their RSVP and acknowledgement, recap,
    decisions and action items. 404 outside your teams."""
    return meeting_detail(request, meeting_id)


ON_A_MEETING = (
    "get_meeting", "update_meeting", "cancel_meeting", "list_attendees", "add_attendee",
    "set_desired_outcome", "add_agenda_item", "send_agenda", "amend_agenda",
    "save_recap", "add_decision", "add_draft_action_item", "publish_recap", "acknowledge_recap",
)  # fmt: skip


@router.post(
    "/meetings/",
    response={201: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="meeting_create",
    summary="Schedule a meeting",
    openapi_extra=links({"meeting_id": NEW_ID}, *ON_A_MEETING),
)
def create_meeting(request: HttpRequest, data: MeetingIn):
    """Schedule a meeting in one of your teams; you organize it and attend. A start
    in the past records a meeting held without agenda. 404 for a team that is not
    yours; 422 when it ends before it starts or an attendee is not a team member."""
    team = get_object_or_404(Team.objects.for_user(request.user), pk=data.team_id)
    meeting = services.create_meeting(
        team=team,
        organizer=request.user,
        title=data.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        time_zone=data.time_zone,
        location=data.location,
        attendees=members(team, data.attendee_ids, "attendee"),
        now=timezone.now(),
    )
    return Status(201, meeting_detail(request, meeting.pk))


@router.patch(
    "/meetings/{int:meeting_id}/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="meeting_update",
    summary="Change a meeting",
    description=f"""Title, times, place and attendees, as the meeting's edit page
changes them (the organizer and team admins). Attendees who got the agenda are sent
the new invitation. {ACCESS} Rules: a canceled or settled meeting no longer changes;
it cannot move once started, into the past, before its sent agenda or to end after
its published recap; attendees are team members.""",
)
def update_meeting(request: HttpRequest, meeting_id: int, data: MeetingPatch):
    meeting = changeable_meeting(request, meeting_id)
    attendees = None
    if data.attendee_ids is not None:
        attendees = members(meeting.team, data.attendee_ids, "attendee")
    services.update_meeting(
        meeting=meeting,
        by=request.user,
        title=meeting.title if data.title is None else data.title,
        starts_at=data.starts_at or meeting.starts_at,
        ends_at=data.ends_at or meeting.ends_at,
        location=meeting.location if data.location is None else data.location,
        attendees=attendees,
        now=timezone.now(),
    )
    return meeting_detail(request, meeting_id)


@router.post(
    "/meetings/{int:meeting_id}/cancel/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="meeting_cancel",
    summary="Cancel a meeting",
    description=f"""Attendees who got the agenda get the cancellation. {ACCESS}
Rules: not once it started, nor twice.""",
)
def cancel_meeting(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.cancel_meeting(meeting=meeting, by=request.user, now=timezone.now())
    return meeting_detail(request, meeting_id)


# -- attendees ------------------------------------------------------------------------


@router.get(
    "/meetings/{int:meeting_id}/attendees/",
    response={200: list[AttendeeOut], **READ_ERRORS},
    url_name="attendees",
    summary="List a meeting's attendees",
    tags=["attendees"],
)
@paginate(BoundedLimitOffset)
def list_attendees(request: HttpRequest, meeting_id: int, acknowledged: bool | None = None):
    """Who attends, required or optional, their RSVP and when they acknowledged the
    recap: `acknowledged=true` lists who read it, `false` who has not yet. 404
    outside your teams."""
    meeting = viewable_meeting(request, meeting_id)
    attendees = meeting.attendees.select_related("user").order_by("pk")
    if acknowledged is not None:
        attendees = attendees.filter(acknowledged_at__isnull=not acknowledged)
    return attendees


def _set_attendees(request: HttpRequest, meeting: Meeting, change) -> None:
    """Change the attendee list through `services.update_meeting`, as the edit page
    does. The list is read under the meeting's lock: two additions at once must not
    each write back a list without the other's."""
    with transaction.atomic():
        row = meeting.locked()
        current = list(row.attendees.values_list("user_id", flat=True))
        services.update_meeting(
            meeting=meeting,
            by=request.user,
            title=row.title,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            location=row.location,
            attendees=members(row.team, change(current), "attendee"),
            now=timezone.now(),
        )


@router.post(
    "/meetings/{int:meeting_id}/attendees/",
    response={201: AttendeeOut, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="attendee_add",
    summary="Add an attendee",
    tags=["attendees"],
    description=f"""Invite a member of the meeting's team (required); if the agenda
went out, they are sent it. Someone already attending stays as they are. {ACCESS}
Rules: a team member; a canceled or settled meeting no longer changes.""",
    openapi_extra=links(
        {"meeting_id": IN_PATH, "user_id": "$response.body#/user/id"}, "remove_attendee"
    ),
)
def add_attendee(request: HttpRequest, meeting_id: int, data: AttendeeIn):
    meeting = changeable_meeting(request, meeting_id)
    _set_attendees(request, meeting, lambda current: [*current, data.user_id])
    return Status(201, meeting.attendees.select_related("user").get(user_id=data.user_id))


@router.delete(
    "/meetings/{int:meeting_id}/attendees/{int:user_id}/",
    response={204: None, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="attendee_remove",
    summary="Remove an attendee",
    tags=["attendees"],
    description=f"""{ACCESS} 404 also when the person does not attend. Rules: the
organizer always attends; a canceled or settled meeting no longer changes.""",
)
def remove_attendee(request: HttpRequest, meeting_id: int, user_id: int):
    meeting = changeable_meeting(request, meeting_id)
    if not meeting.attendees.filter(user_id=user_id).exists():
        raise Http404
    if user_id == meeting.organizer_id:
        # update_meeting keeps the organizer whatever the list says; say so.
        raise RuleBroken("The organizer always attends.")
    _set_attendees(request, meeting, lambda current: [u for u in current if u != user_id])
    return Status(204, None)
