"""Action items once they are out: the list (mine, by meeting, by status) and the
answers of the action items page and the e-mailed links, through the same services."""

# No `from __future__ import annotations`: django-ninja reads signatures as types.

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate

from .. import services
from ..models import ActionItem, ActionStatus
from ..views.access import answerable_action_item, changeable_action_item, redatable_action_item
from . import auth
from .common import ACCESS, READ_ERRORS, WRITE_ERRORS, BoundedLimitOffset
from .schemas import ActionItemOut, DeclineIn, DoneIn, RedateIn

router = Router(auth=auth.WRITE, tags=["action items"])


@router.get(
    "/action-items/",
    response={200: list[ActionItemOut], **READ_ERRORS},
    auth=auth.READ,
    url_name="action_items",
    summary="List action items",
)
@paginate(BoundedLimitOffset)
def list_action_items(
    request: HttpRequest,
    mine: bool = False,
    meeting: int | None = None,
    status: ActionStatus | None = None,
):
    """Action items of your teams' meetings, by due date: `mine=true` for yours,
    `meeting=<id>` for one meeting's, `status=open` for the open ones. 422 for a
    filter of the wrong type."""
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
    url_name="action_item_done",
    summary="Mark done, or reopen",
    description=f"""`{{"done": true}}` marks it done, `false` opens it again (its
reminders start again); its owner, the meeting's organizer and team admins. A second
click changes nothing. {ACCESS}""",
)
def set_done(request: HttpRequest, item_id: int, data: DoneIn):
    item = changeable_action_item(request, item_id)
    services.set_action_item_done(item=item, done=data.done, by=request.user, now=timezone.now())
    return item


@router.post(
    "/action-items/{int:item_id}/accept/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    url_name="action_item_accept",
    summary="Accept an action item",
    description=f"""Its owner takes the item on. {ACCESS} Rules: a published item,
still theirs, open.""",
)
def accept(request: HttpRequest, item_id: int):
    item = answerable_action_item(request, item_id)
    services.accept_action_item(item=item, by=request.user, now=timezone.now())
    return item


@router.post(
    "/action-items/{int:item_id}/redate/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    url_name="action_item_redate",
    summary="Move an action item's due date",
    description=f"""From its owner (which also accepts it) or the meeting's
organizer; the reminders follow. {ACCESS} Rules: due on or after the meeting's day.""",
)
def redate(request: HttpRequest, item_id: int, data: RedateIn):
    item = redatable_action_item(request, item_id)
    services.redate_action_item(
        item=item, due_date=data.due_date, by=request.user, now=timezone.now()
    )
    return item


@router.post(
    "/action-items/{int:item_id}/decline/",
    response={200: ActionItemOut, **WRITE_ERRORS},
    url_name="action_item_decline",
    summary="Decline an action item",
    description=f"""Its owner hands the item back, with a reason; the organizer is
told. {ACCESS} Rules: a published item, still theirs, open.""",
)
def decline(request: HttpRequest, item_id: int, data: DeclineIn):
    item = answerable_action_item(request, item_id)
    services.decline_action_item(
        item=item, reason=data.reason, by=request.user, now=timezone.now()
    )
    return item
