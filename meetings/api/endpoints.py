"""The API's operations. Thin like the views: fetch through `views/access.py`
(404 for another team's object, 403 for a member without the right), call the
same service as the page, answer a schema."""

# No `from __future__ import annotations` here: django-ninja reads these signatures
# as types, and @paginate's wrapper would look string annotations up in its own module.

import base64
import binascii
import json
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Status
from ninja.errors import ValidationError as InputError
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.models import Membership, Team, User

from .. import services
from ..models import ActionItem, ActionStatus, Attendee, Meeting, RuleBroken
from ..views.access import (
    answerable_action_item,
    can_change_meeting,
    changeable_action_item,
    changeable_meeting,
    is_attendee,
    redatable_action_item,
    viewable_meeting,
)
from . import auth
from .schemas import (
    ActionItemOut,
    AgendaItemIn,
    AgendaItemOut,
    DeclineIn,
    DoneIn,
    Errors,
    Instant,
    MeetingDetail,
    MeetingIn,
    MeetingPage,
    RedateIn,
    TeamOut,
)

router = Router(auth=auth.READ)

# Every operation may answer these, in the one error shape.
READ_ERRORS = {401: Errors, 404: Errors, 422: Errors, 429: Errors}
# 400: a body that is not JSON at all.
WRITE_ERRORS = {**READ_ERRORS, 400: Errors, 403: Errors}
MeetingStatus = Meeting.Status
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# -- teams ----------------------------------------------------------------------------


@router.get("/teams/", response={200: list[TeamOut], **READ_ERRORS}, url_name="teams")
def list_teams(request: HttpRequest):
    """The teams you belong to, and your role in each."""
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


@router.get("/meetings/", response={200: MeetingPage, **READ_ERRORS}, url_name="meetings")
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
    as `cursor` for the following page."""
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


def _detail(request: HttpRequest, pk: int) -> dict:
    """One meeting with everything in it, in five queries."""
    meeting = viewable_meeting(request, pk)
    meeting = (
        Meeting.objects.filter(pk=meeting.pk)
        .with_status(timezone.now())
        .select_related("organizer")
        .prefetch_related(
            "agenda_items",
            Prefetch("attendees", Attendee.objects.select_related("user").order_by("pk")),
            "decisions",
            Prefetch("action_items", ActionItem.objects.select_related("owner")),
        )
        .get()
    )
    return {
        **{f: getattr(meeting, f) for f in MeetingDetail.model_fields if hasattr(meeting, f)},
        "agenda_items": list(meeting.agenda_items.all()),
        "attendees": list(meeting.attendees.all()),
        "decisions": list(meeting.decisions.all()),
        "action_items": list(meeting.action_items.all()),
        "recap": {
            "summary": meeting.recap_summary,
            "notes": meeting.recap_notes,
            "no_action_items": meeting.no_action_items,
            "published_at": meeting.recap_published_at,
        },
    }


@router.get(
    "/meetings/{int:meeting_id}/", response={200: MeetingDetail, **READ_ERRORS}, url_name="meeting"
)
def get_meeting(request: HttpRequest, meeting_id: int):
    """A meeting: agenda, attendees with their RSVP and acknowledgement, recap,
    decisions and action items."""
    return _detail(request, meeting_id)


@router.post(
    "/meetings/",
    response={201: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="meeting_create",
)
def create_meeting(request: HttpRequest, data: MeetingIn):
    """Schedule a meeting in one of your teams; you organize it and attend."""
    team = get_object_or_404(Team.objects.for_user(request.user), pk=data.team_id)
    attendees = list(User.objects.filter(pk__in=set(data.attendee_ids)))
    if len(attendees) != len(set(data.attendee_ids)):
        raise RuleBroken(f"Every attendee must be a member of {team}.")
    meeting = services.create_meeting(
        team=team,
        organizer=request.user,
        title=data.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        time_zone=data.time_zone,
        location=data.location,
        attendees=attendees,
        now=timezone.now(),
    )
    return Status(201, _detail(request, meeting.pk))


@router.post(
    "/meetings/{int:meeting_id}/cancel/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="meeting_cancel",
)
def cancel_meeting(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.cancel_meeting(meeting=meeting, by=request.user, now=timezone.now())
    return _detail(request, meeting_id)


@router.post(
    "/meetings/{int:meeting_id}/agenda/items/",
    response={201: AgendaItemOut, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="agenda_item_add",
)
def add_agenda_item(request: HttpRequest, meeting_id: int, data: AgendaItemIn):
    """An agenda item (organizer, team admin) or a talking point (an attendee)."""
    meeting = viewable_meeting(request, meeting_id)
    if not can_change_meeting(request, meeting) and not is_attendee(meeting, request.user):
        raise PermissionDenied("Only attendees add talking points.")
    item = services.propose_agenda_item(
        meeting=meeting,
        title=data.title,
        added_by=request.user,
        timebox_minutes=data.timebox_minutes,
        notes=data.notes,
        now=timezone.now(),
    )
    return Status(201, item)


@router.post(
    "/meetings/{int:meeting_id}/agenda/send/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="agenda_send",
)
def send_agenda(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.send_agenda(meeting=meeting, by=request.user, now=timezone.now())
    return _detail(request, meeting_id)


@router.post(
    "/meetings/{int:meeting_id}/recap/publish/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="recap_publish",
)
def publish_recap(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.publish_recap(meeting=meeting, by=request.user, now=timezone.now())
    return _detail(request, meeting_id)


class BoundedLimitOffset(LimitOffsetPagination):
    """ninja's limit/offset pages, the offset bounded too (the limit is, by
    NINJA_PAGINATION_MAX_LIMIT): a larger one overflows PostgreSQL's bigint OFFSET."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=10**9)


# -- action items -----------------------------------------------------------------------


@router.get(
    "/action-items/",
    response={200: list[ActionItemOut], **READ_ERRORS},
    url_name="action_items",
)
@paginate(BoundedLimitOffset)
def list_action_items(
    request: HttpRequest,
    mine: bool = False,
    meeting: int | None = None,
    status: ActionStatus | None = None,
):
    """Action items of your teams' meetings, by due date: `mine=1` for yours,
    `meeting=<id>` for one meeting's."""
    items = (
        ActionItem.objects.for_user(request.user)
        .select_related("owner")
        .order_by("due_date", "pk")
    )
    if mine:
        items = items.filter(owner=request.user)
    if meeting is not None:
        items = items.filter(meeting_id=meeting)
    if status is not None:
        items = items.filter(status=status)
    return items


@router.post(
    "/action-items/{int:item_id}/done/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="action_item_done",
)
def set_done(request: HttpRequest, item_id: int, data: DoneIn):
    """Mark done (`{"done": true}`) or open again (`false`)."""
    item = changeable_action_item(request, item_id)
    services.set_action_item_done(item=item, done=data.done, by=request.user, now=timezone.now())
    return item


@router.post(
    "/action-items/{int:item_id}/accept/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="action_item_accept",
)
def accept(request: HttpRequest, item_id: int):
    """Its owner takes the item on."""
    item = answerable_action_item(request, item_id)
    services.accept_action_item(item=item, by=request.user, now=timezone.now())
    return item


@router.post(
    "/action-items/{int:item_id}/redate/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="action_item_redate",
)
def redate(request: HttpRequest, item_id: int, data: RedateIn):
    """A new due date, from its owner or the meeting's organizer."""
    item = redatable_action_item(request, item_id)
    services.redate_action_item(
        item=item, due_date=data.due_date, by=request.user, now=timezone.now()
    )
    return item


@router.post(
    "/action-items/{int:item_id}/decline/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    auth=auth.WRITE,
    url_name="action_item_decline",
)
def decline(request: HttpRequest, item_id: int, data: DeclineIn):
    """Its owner hands the item back, with a reason."""
    item = answerable_action_item(request, item_id)
    services.decline_action_item(
        item=item, reason=data.reason, by=request.user, now=timezone.now()
    )
    return item
