"""The agenda: desired outcome, items (add, edit, move, remove), send and amend;
the same services and access checks as the agenda editor (views/agenda.py)."""

# No `from __future__ import annotations`: django-ninja reads signatures as types.

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status

from .. import services
from ..models import NOTHING_CHANGED, AgendaItem
from ..views.access import (
    can_change_meeting,
    changeable_meeting,
    is_attendee,
    require_meeting_change,
    viewable_meeting,
)
from . import auth
from .common import ACCESS, IN_PATH, NEW_ID, WRITE_ERRORS, links, meeting_detail, members
from .schemas import AgendaItemIn, AgendaItemOut, AgendaItemPatch, MeetingDetail, MoveIn, OutcomeIn

router = Router(auth=auth.WRITE, tags=["agenda"])

AGENDA_OPEN = "the agenda changes until the meeting starts, never once it is canceled or settled"


def _item(request: HttpRequest, meeting_id: int, item_id: int) -> AgendaItem:
    """An agenda item of a meeting of the user's teams (404), whose `meeting` is the
    one just read with its team."""
    meeting = viewable_meeting(request, meeting_id)
    item = get_object_or_404(meeting.agenda_items, pk=item_id)
    item.meeting = meeting
    return item


@router.put(
    "/meetings/{int:meeting_id}/agenda/outcome/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    url_name="agenda_outcome",
    summary="Set the desired outcome",
    description=f"""The bottom line the meeting should produce. {ACCESS} Rules:
{AGENDA_OPEN}; a sent agenda keeps a desired outcome.""",
)
def set_desired_outcome(request: HttpRequest, meeting_id: int, data: OutcomeIn):
    meeting = changeable_meeting(request, meeting_id)
    services.set_desired_outcome(
        meeting=meeting, text=data.desired_outcome, by=request.user, now=timezone.now()
    )
    return meeting_detail(request, meeting_id)


@router.post(
    "/meetings/{int:meeting_id}/agenda/items/",
    response={201: AgendaItemOut, **WRITE_ERRORS},
    url_name="agenda_item_add",
    summary="Add an agenda item",
    description=f"""An agenda item (the organizer, team admins) or a talking point
(an attendee; only the organizer and team admins give an item an owner). {ACCESS}
Rules: {AGENDA_OPEN}; the owner is a team member.""",
    openapi_extra=links(
        {"meeting_id": IN_PATH, "agenda_item_id": NEW_ID},
        "edit_agenda_item",
        "move_agenda_item",
        "remove_agenda_item",
    ),  # fmt: skip
)
def add_agenda_item(request: HttpRequest, meeting_id: int, data: AgendaItemIn):
    meeting = viewable_meeting(request, meeting_id)
    can_edit = can_change_meeting(request, meeting)
    if not can_edit and not is_attendee(meeting, request.user):
        raise PermissionDenied("Only attendees add talking points.")
    owner = None
    if data.owner_id is not None:
        if not can_edit:
            raise PermissionDenied("Only the organizer and team admins give an item an owner.")
        [owner] = members(meeting.team, [data.owner_id], "agenda item owner")
    item = services.propose_agenda_item(
        meeting=meeting,
        title=data.title,
        added_by=request.user,
        owner=owner,
        timebox_minutes=data.timebox_minutes,
        notes=data.notes,
        now=timezone.now(),
    )
    return Status(201, item)


@router.patch(
    "/meetings/{int:meeting_id}/agenda/items/{int:agenda_item_id}/",
    response={200: AgendaItemOut, **WRITE_ERRORS},
    url_name="agenda_item_edit",
    summary="Change an agenda item",
    description=f"""Title, owner, time box, notes. {ACCESS} Rules: {AGENDA_OPEN}; a
title; the owner is a team member.""",
)
def edit_agenda_item(
    request: HttpRequest, meeting_id: int, agenda_item_id: int, data: AgendaItemPatch
):
    item = _item(request, meeting_id, agenda_item_id)
    require_meeting_change(request, item.meeting)
    # Null clears an owner or a time box; left out, each stays as it is.
    given = data.model_fields_set
    owner, timebox = item.owner, item.timebox_minutes
    if "owner_id" in given:
        owner = None
        if data.owner_id is not None:
            [owner] = members(item.meeting.team, [data.owner_id], "agenda item owner")
    if "timebox_minutes" in given:
        timebox = data.timebox_minutes
    services.edit_agenda_item(
        item=item,
        title=item.title if data.title is None else data.title,
        owner=owner,
        timebox_minutes=timebox,
        notes=item.notes if data.notes is None else data.notes,
        by=request.user,
        now=timezone.now(),
    )
    return item


@router.post(
    "/meetings/{int:meeting_id}/agenda/items/{int:agenda_item_id}/move/",
    response={200: list[AgendaItemOut], **WRITE_ERRORS},
    url_name="agenda_item_move",
    summary="Move an agenda item",
    description=f"""Up (negative `offset`) or down; answers the agenda in its new
order. {ACCESS} Rules: {AGENDA_OPEN}.""",
)
def move_agenda_item(request: HttpRequest, meeting_id: int, agenda_item_id: int, data: MoveIn):
    item = _item(request, meeting_id, agenda_item_id)
    require_meeting_change(request, item.meeting)
    services.move_agenda_item(item=item, offset=data.offset, by=request.user, now=timezone.now())
    return item.meeting.agenda_items.order_by("position", "pk")


@router.delete(
    "/meetings/{int:meeting_id}/agenda/items/{int:agenda_item_id}/",
    response={204: None, **WRITE_ERRORS},
    url_name="agenda_item_remove",
    summary="Remove an agenda item",
    description=f"""The organizer and team admins remove any item; an attendee their
own talking points. {ACCESS} Rules: {AGENDA_OPEN}; a sent agenda keeps one item.""",
)
def remove_agenda_item(request: HttpRequest, meeting_id: int, agenda_item_id: int):
    item = _item(request, meeting_id, agenda_item_id)
    # As the page: attendees may take back their own talking points.
    if not (item.added_by_id == request.user.pk and is_attendee(item.meeting, request.user)):
        require_meeting_change(request, item.meeting)
    services.remove_agenda_item(item=item, by=request.user, now=timezone.now())
    return Status(204, None)


@router.post(
    "/meetings/{int:meeting_id}/agenda/send/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    url_name="agenda_send",
    summary="Send the agenda",
    description=f"""One digest with a calendar invitation per attendee. {ACCESS}
Rules: before the start, with a desired outcome and at least one item; not twice
(amend instead), not once canceled.""",
)
def send_agenda(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.send_agenda(meeting=meeting, by=request.user, now=timezone.now())
    return meeting_detail(request, meeting_id)


@router.post(
    "/meetings/{int:meeting_id}/agenda/amend/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    url_name="agenda_amend",
    summary="Send the changed agenda",
    description=f"""Attendees get the agenda as it now stands; the first send time
is kept. {ACCESS} Rules: a sent agenda, before the start, with a desired outcome and
an item; when attendees already have it as it stands, 422 with “{NOTHING_CHANGED}”.""",
)
def amend_agenda(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.amend_agenda(meeting=meeting, by=request.user, now=timezone.now())
    return meeting_detail(request, meeting_id)
