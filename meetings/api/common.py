"""What the API's operations share: the error answers they document, the meeting
detail most transitions answer with, people by id, and bounded pages."""

# No `from __future__ import annotations`: django-ninja reads signatures as types.

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field
from ninja.pagination import LimitOffsetPagination

from accounts.models import Team, User

from .. import services
from ..models import ActionItem, Attendee, Meeting
from ..views.access import viewable_meeting
from .schemas import Errors, MeetingDetail

# Every operation may answer these, in the one error shape.
READ_ERRORS = {401: Errors, 404: Errors, 422: Errors, 429: Errors}
# 400: a body that is not JSON at all.
WRITE_ERRORS = {**READ_ERRORS, 400: Errors, 403: Errors}
# Said once in every write's description; each adds its own rules.
ACCESS = (
    "404 for a meeting (or item) outside your teams, 403 without the right or with a "
    "read-only token, 422 with one message per broken rule."
)


def meeting_detail(request: HttpRequest, pk: int) -> dict:
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


def members(team: Team, ids: list[int], what: str) -> list[User]:
    """The people `ids` of `team`, or the services' RuleBroken ("Every attendee must
    be a member of …"). Checked on the ids before anything is read, so an id of
    nobody and an id of someone in another team answer alike: ids do not leak."""
    services.require_members(team, [User(pk=pk) for pk in ids], what)
    return list(User.objects.filter(pk__in=set(ids)))


def links(parameters: dict[str, str], *operations: str) -> dict:
    """`openapi_extra` for an operation answering 201: where the new object's ids go
    next (OpenAPI links, which clients and Schemathesis' stateful phase follow)."""
    found = {op: {"operationId": op, "parameters": parameters} for op in operations}
    return {"responses": {201: {"links": found}}}


# The meeting of the request's path, and a new object's id from the answer.
IN_PATH = "$request.path.meeting_id"
NEW_ID = "$response.body#/id"


class BoundedLimitOffset(LimitOffsetPagination):
    """ninja's limit/offset pages, the offset bounded too (the limit is, by
    NINJA_PAGINATION_MAX_LIMIT): a larger one overflows PostgreSQL's bigint OFFSET."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=10**9)
