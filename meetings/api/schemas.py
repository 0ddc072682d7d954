"""The API's JSON shapes (pydantic, through django-ninja), read from the models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, AwareDatetime


def _in_utc(value: datetime) -> datetime:
    """An input time in UTC: PostgreSQL refuses offsets past ±15:59 (ISO allows more),
    and a naive time would be read in whatever zone the server runs."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("This time is out of range.") from None


# Every time the API reads: with its offset (naive times are refused), kept in UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


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


class MeetingIn(Schema):
    team_id: int
    title: str = Field(..., max_length=200)
    starts_at: Instant
    ends_at: Instant
    time_zone: str = Field(..., max_length=64)
    location: str = Field("", max_length=500)
    attendee_ids: list[int] = Field(default_factory=list, max_length=500)


class AgendaItemIn(Schema):
    title: str = Field(..., max_length=200)
    notes: str = Field("", max_length=20000)
    timebox_minutes: int | None = Field(None, ge=1, le=480)


class DoneIn(Schema):
    done: bool


class RedateIn(Schema):
    due_date: date


class DeclineIn(Schema):
    reason: str = Field(..., max_length=2000)
