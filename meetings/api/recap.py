"""The recap: its draft (summary, notes, the no-action-items flag, item outcomes),
decisions and action items while drafted, publishing it and acknowledging it; the
same services and access checks as the recap editor (views/recap.py)."""

# No `from __future__ import annotations`: django-ninja reads signatures as types.

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status
from ninja.errors import ValidationError as InputError

from .. import services
from ..models import ActionItem, Decision
from ..views.access import changeable_meeting, is_attendee, viewable_meeting
from . import auth
from .common import ACCESS, IN_PATH, NEW_ID, WRITE_ERRORS, links, meeting_detail, members
from .schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    AttendeeOut,
    DecisionIn,
    DecisionOut,
    MeetingDetail,
    RecapIn,
)

router = Router(auth=auth.WRITE, tags=["recap"])

RECAP_OPEN = "the recap is drafted from the start until it is published, never once canceled"


@router.patch(
    "/meetings/{int:meeting_id}/recap/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    url_name="recap_save",
    summary="Save the recap draft",
    description=f"""Summary, notes, "no action items came out of this meeting", and
each agenda item's outcome. Nothing goes out until it is published. {ACCESS} Rules:
{RECAP_OPEN}; an outcome is discussed, decided, deferred, settled or empty.""",
)
def save_recap(request: HttpRequest, meeting_id: int, data: RecapIn):
    meeting = changeable_meeting(request, meeting_id)
    item_ids = set(meeting.agenda_items.values_list("pk", flat=True))
    problems = [
        {"msg": "No such agenda item in this meeting.",
         "loc": ["body", "data", "outcomes", i, "agenda_item_id"]}
        for i, given in enumerate(data.outcomes)
        if given.agenda_item_id not in item_ids
    ]  # fmt: skip
    if problems:
        raise InputError(problems)
    services.save_recap(
        meeting=meeting,
        summary=meeting.recap_summary if data.summary is None else data.summary,
        notes=meeting.recap_notes if data.notes is None else data.notes,
        no_action_items=(
            meeting.no_action_items if data.no_action_items is None else data.no_action_items
        ),
        outcomes={given.agenda_item_id: given.outcome for given in data.outcomes},
        by=request.user,
        now=timezone.now(),
    )
    return meeting_detail(request, meeting_id)


# -- decisions ----------------------------------------------------------------------


def _decision(request: HttpRequest, meeting_id: int, decision_id: int) -> Decision:
    meeting = changeable_meeting(request, meeting_id)
    decision = get_object_or_404(meeting.decisions, pk=decision_id)
    decision.meeting = meeting
    return decision


@router.post(
    "/meetings/{int:meeting_id}/recap/decisions/",
    response={201: DecisionOut, **WRITE_ERRORS},
    url_name="decision_add",
    summary="Record a decision",
    description=f"{ACCESS} Rules: {RECAP_OPEN}; a decision says something.",
    openapi_extra=links(
        {"meeting_id": IN_PATH, "decision_id": NEW_ID}, "edit_decision", "remove_decision"
    ),  # fmt: skip,
)
def add_decision(request: HttpRequest, meeting_id: int, data: DecisionIn):
    meeting = changeable_meeting(request, meeting_id)
    decision = services.record_decision(
        meeting=meeting, text=data.text, by=request.user, now=timezone.now()
    )
    return Status(201, decision)


@router.patch(
    "/meetings/{int:meeting_id}/recap/decisions/{int:decision_id}/",
    response={200: DecisionOut, **WRITE_ERRORS},
    url_name="decision_edit",
    summary="Reword a decision",
    description=f"{ACCESS} Rules: {RECAP_OPEN}; a decision says something.",
)
def edit_decision(request: HttpRequest, meeting_id: int, decision_id: int, data: DecisionIn):
    decision = _decision(request, meeting_id, decision_id)
    services.edit_decision(decision=decision, text=data.text, by=request.user, now=timezone.now())
    return decision


@router.delete(
    "/meetings/{int:meeting_id}/recap/decisions/{int:decision_id}/",
    response={204: None, **WRITE_ERRORS},
    url_name="decision_remove",
    summary="Remove a decision",
    description=f"{ACCESS} Rules: {RECAP_OPEN}.",
)
def remove_decision(request: HttpRequest, meeting_id: int, decision_id: int):
    decision = _decision(request, meeting_id, decision_id)
    services.remove_decision(decision=decision, by=request.user, now=timezone.now())
    return Status(204, None)


# -- action items while drafted ---------------------------------------------------------


def _draft_item(request: HttpRequest, meeting_id: int, item_id: int) -> ActionItem:
    meeting = changeable_meeting(request, meeting_id)
    item = get_object_or_404(meeting.action_items.select_related("owner"), pk=item_id)
    item.meeting = meeting
    return item


RULE_5 = (
    "exactly one owner, a member of the team, due on or after the meeting's day "
    "(an owner who is not a member answers like an unknown id)"
)


@router.post(
    "/meetings/{int:meeting_id}/recap/action-items/",
    response={201: ActionItemOut, **WRITE_ERRORS},
    url_name="draft_action_item_add",
    summary="Assign an action item in the recap",
    description=f"""Goes out with the recap (it unticks "no action items"). {ACCESS}
Rules: {RECAP_OPEN}; {RULE_5}.""",
    openapi_extra=links(
        {"meeting_id": IN_PATH, "item_id": NEW_ID},
        "edit_draft_action_item",
        "remove_draft_action_item",
    ),  # fmt: skip,
)
def add_draft_action_item(request: HttpRequest, meeting_id: int, data: ActionItemIn):
    meeting = changeable_meeting(request, meeting_id)
    [owner] = members(meeting.team, [data.owner_id], "action item owner")
    item = services.assign_action_item(
        meeting=meeting,
        description=data.description,
        owner=owner,
        due_date=data.due_date,
        created_by=request.user,
        now=timezone.now(),
    )
    return Status(201, item)


@router.patch(
    "/meetings/{int:meeting_id}/recap/action-items/{int:item_id}/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    url_name="draft_action_item_edit",
    summary="Change an action item in the recap",
    description=f"""Reword, give to someone else or move, before the recap is
published (afterwards: /action-items/). {ACCESS} Rules: {RECAP_OPEN}; {RULE_5}.""",
)
def edit_draft_action_item(
    request: HttpRequest, meeting_id: int, item_id: int, data: ActionItemPatch
):
    item = _draft_item(request, meeting_id, item_id)
    owner = item.owner
    if data.owner_id is not None:
        [owner] = members(item.meeting.team, [data.owner_id], "action item owner")
    services.edit_action_item(
        item=item,
        description=item.description if data.description is None else data.description,
        owner=owner,
        due_date=data.due_date or item.due_date,
        by=request.user,
        now=timezone.now(),
    )
    return item


@router.delete(
    "/meetings/{int:meeting_id}/recap/action-items/{int:item_id}/",
    response={204: None, **WRITE_ERRORS},
    url_name="draft_action_item_remove",
    summary="Remove an action item from the recap",
    description=f"{ACCESS} Rules: {RECAP_OPEN}.",
)
def remove_draft_action_item(request: HttpRequest, meeting_id: int, item_id: int):
    item = _draft_item(request, meeting_id, item_id)
    services.remove_action_item(item=item, by=request.user, now=timezone.now())
    return Status(204, None)


# -- publishing and acknowledging ---------------------------------------------------------


@router.post(
    "/meetings/{int:meeting_id}/recap/publish/",
    response={200: MeetingDetail, **WRITE_ERRORS},
    url_name="recap_publish",
    summary="Publish the recap",
    description=f"""One digest per attendee and action-item owner, with an "I have
read this" link. {ACCESS} Rules: after the meeting ends, not canceled, not twice;
a summary; action items (each meeting rule 5) or "no action items".""",
)
def publish_recap(request: HttpRequest, meeting_id: int):
    meeting = changeable_meeting(request, meeting_id)
    services.publish_recap(meeting=meeting, by=request.user, now=timezone.now())
    return meeting_detail(request, meeting_id)


@router.post(
    "/meetings/{int:meeting_id}/recap/acknowledge/",
    response={200: AttendeeOut, **WRITE_ERRORS},
    url_name="acknowledge",
    summary="Acknowledge the recap",
    description=f"""An attendee says they read the published recap; the first time
counts, again changes nothing. Who acknowledged: the attendees list,
`?acknowledged=true`. {ACCESS} Rules: only attendees, only a published recap.""",
)
def acknowledge_recap(request: HttpRequest, meeting_id: int):
    meeting = viewable_meeting(request, meeting_id)
    if not is_attendee(meeting, request.user):
        raise PermissionDenied("Only attendees acknowledge a recap.")
    attendee = services.acknowledge_recap(meeting=meeting, user=request.user, now=timezone.now())
    return meeting.attendees.select_related("user").get(pk=attendee.pk)
