"""The API's JSON shapes (pydantic, through django-ninja), read from the models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
)

from ..forms.answers import DECLINE_REASON_LIMIT
from ..forms.meeting import OUTCOME_LIMIT, TEXT_LIMIT
from ..models import Outcome


def _in_utc(value: datetime) -> datetime:
    """An input time in UTC: PostgreSQL refuses offsets past ±15:59 (ISO allows more),
    and a naive time would be read in whatever zone the server runs."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("This time is out of range.") from None


class Error(Schema):
    message: str
    field: str | None = None


class Errors(Schema):
    """Every error answer: one entry per problem (per broken rule on a 422)."""

    errors: list[Error]


class Person(Schema):
    id: int
    name: str
    email: str


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    role: str


class MeetingOut(Schema):
    id: int
    team_id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    location: str
    organizer: Person
    agenda_sent_at: datetime | None
    recap_published_at: datetime | None
    canceled_at: datetime | None


class MeetingPage(Schema):
    items: list[MeetingOut]
    next: str | None = Field(
        None, description="Cursor of the next page (pass as `cursor`); null on the last page."
    )


class AgendaItemOut(Schema):
    id: int
    position: int
    title: str
    notes: str
    timebox_minutes: int | None
    owner_id: int | None
    outcome: str
    settled_at: datetime | None


class AttendeeOut(Schema):
    user: Person
    required: bool
    rsvp: str
    acknowledged_at: datetime | None


class DecisionOut(Schema):
    id: int
    text: str
    agenda_item_id: int | None


class ActionItemOut(Schema):
    id: int
    meeting_id: int
    description: str
    owner: Person
    due_date: date
    status: str
    response: str
    completed_at: datetime | None
    redated_count: int


class RecapOut(Schema):
    summary: str
    notes: str
    no_action_items: bool
    published_at: datetime | None


class MeetingDetail(MeetingOut):
    desired_outcome: str
    agenda_amended_at: datetime | None
    settled_at: datetime | None
    agenda_items: list[AgendaItemOut]
    attendees: list[AttendeeOut]
    recap: RecapOut
    decisions: list[DecisionOut]
    action_items: list[ActionItemOut]


# -- input --------------------------------------------------------------------------
# Plain pydantic models, strict: a body is a JSON object with only the documented
# fields, each of its JSON type. ninja's Schema would read any object's attributes
# (a bare JSON string "x" passed as {"title": "X"}: str.title), and pydantic's lax
# mode turns 0 into false and a number into a date; a client that sends those has
# a bug it should hear about, as a 422.


def _iso(value: object) -> object:
    """Dates and times come as ISO 8601 text (YYYY-MM-DD…), never as numbers: lax
    pydantic reads a number, or a query string of digits, as a Unix timestamp."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.match(r"\d{4}-", value):
        raise ValueError("Write it as ISO 8601 text, such as 2026-05-04T09:30:00+02:00.")
    return value


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; Django's form fields refuse it alike.
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    return value


def text(max_length: int) -> type:
    """A JSON string, without NUL, of at most `max_length` characters."""
    return Annotated[
        StrictStr,
        AfterValidator(_no_nul),
        Field(max_length=max_length, json_schema_extra={"pattern": "^[^\\u0000]*$"}),
    ]


# Every time the API reads: with its offset (naive times are refused), kept in UTC.
Instant = Annotated[AwareDatetime, BeforeValidator(_iso), AfterValidator(_in_utc)]
Day = Annotated[date, BeforeValidator(_iso)]
Title = text(200)
Text = text(TEXT_LIMIT)
LongText = text(TEXT_LIMIT * 5)
Zone = text(64)
Place = text(500)
DesiredOutcome = text(OUTCOME_LIMIT)
Reason = text(DECLINE_REASON_LIMIT)  # as the page's form
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingIn(Input):
    team_id: Id
    title: Title
    starts_at: Instant
    ends_at: Instant
    time_zone: Zone
    location: Place = ""
    attendee_ids: list[Id] = Field(default_factory=list, max_length=500)


class MeetingPatch(Input):
    """Only what is given (and not null) changes; `attendee_ids` is the whole list
    of attendees (the organizer always attends)."""

    title: Title | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    location: Place | None = None
    attendee_ids: list[Id] | None = Field(None, max_length=500)


class AttendeeIn(Input):
    user_id: Id


class OutcomeIn(Input):
    desired_outcome: DesiredOutcome


class AgendaItemIn(Input):
    title: Title
    notes: Text = ""
    timebox_minutes: Annotated[StrictInt, Field(ge=1, le=480)] | None = None
    owner_id: Id | None = Field(
        None, description="Only the organizer and team admins give an item an owner."
    )


class AgendaItemPatch(Input):
    """Only what is given changes; `null` clears the owner or the time box, and
    keeps the title and notes as they are."""

    title: Title | None = None
    notes: Text | None = None
    timebox_minutes: Annotated[StrictInt, Field(ge=1, le=480)] | None = None
    owner_id: Id | None = None


class MoveIn(Input):
    offset: Annotated[StrictInt, Field(ge=-500, le=500)] = Field(
        ...,
        description="Places to move: negative moves up, positive down; "
        "stops at the first and the last place.",
    )


class ItemOutcomeIn(Input):
    agenda_item_id: Id
    outcome: Outcome


class RecapIn(Input):
    """The recap draft; only what is given (and not null) changes."""

    summary: Text | None = None
    notes: LongText | None = None
    no_action_items: StrictBool | None = None
    outcomes: list[ItemOutcomeIn] = Field(default_factory=list, max_length=500)


class DecisionIn(Input):
    text: Text


class ActionItemIn(Input):
    description: Text
    owner_id: Id
    due_date: Day


class ActionItemPatch(Input):
    description: Text | None = None
    owner_id: Id | None = None
    due_date: Day | None = None


class DoneIn(Input):
    done: StrictBool = Field(..., description="`true` marks it done, `false` opens it again.")


class RedateIn(Input):
    due_date: Day


class DeclineIn(Input):
    reason: Reason
