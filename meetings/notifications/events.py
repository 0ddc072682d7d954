"""Team events for webhooks and chat channels: recorded with the change, delivered
through the outbox.

`emit` is called inside the transition's transaction (by the services, and by
the sweep for what time brings: a meeting starting without agenda, a recap
overdue, an action item overdue). It writes nothing unless an active endpoint of
the team listens to the type: then one `Event` with its versioned body and one
`Delivery` per listening endpoint, both inserted with conflicts ignored (the
event's key and the delivery's (endpoint, event) are the idempotency keys), and
the deliveries are queued after commit.

The body follows the Standard Webhooks shape: `{"type", "timestamp", "data"}`
plus `"version"`. Its JSON Schema per type comes from the models below
(`event_schema`); the README lists the catalogue.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import transaction
from django.urls import reverse
from pydantic import BaseModel, ConfigDict

from accounts.mail import site_url
from accounts.models import User

from ..models import ActionItem, Delivery, Endpoint, Event, EventType, Meeting
from .outbox import WEBHOOK_TASK, outbox_lease, publish_after_commit

VERSION = 1


def new_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# -- the body, one model per part; the JSON Schema of each type comes from these ----


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Person(_Part):
    id: int
    name: str
    email: str


class TeamPart(_Part):
    id: int
    name: str
    slug: str


class MeetingPart(_Part):
    id: int
    title: str
    url: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    status: str
    organizer: Person


class AgendaItemPart(_Part):
    id: int
    position: int
    title: str
    owner: Person | None
    timebox_minutes: int | None


class AgendaPart(_Part):
    sequence: int
    desired_outcome: str
    items: list[AgendaItemPart]


class ActionItemPart(_Part):
    id: int
    description: str
    owner: Person
    due_date: date
    original_due_date: date | None
    status: str
    response: str
    url: str


class DecisionPart(_Part):
    id: int
    text: str


class RecapPart(_Part):
    summary: str
    decisions: list[DecisionPart]
    action_items: list[ActionItemPart]


class MeetingData(_Part):
    team: TeamPart
    meeting: MeetingPart
    actor: Person | None


class AgendaData(MeetingData):
    agenda: AgendaPart


class RecapData(MeetingData):
    recap: RecapPart


class ActionItemData(MeetingData):
    action_item: ActionItemPart


DATA_MODELS: dict[str, type[MeetingData]] = {
    EventType.AGENDA_SENT: AgendaData,
    EventType.AGENDA_AMENDED: AgendaData,
    EventType.MEETING_CANCELED: MeetingData,
    EventType.MEETING_STARTED_WITHOUT_AGENDA: MeetingData,
    EventType.RECAP_PUBLISHED: RecapData,
    EventType.RECAP_OVERDUE: MeetingData,
    EventType.ACTION_ITEM_ASSIGNED: ActionItemData,
    EventType.ACTION_ITEM_COMPLETED: ActionItemData,
    EventType.ACTION_ITEM_REDATED: ActionItemData,
    EventType.ACTION_ITEM_OVERDUE: ActionItemData,
}


def event_schema(event_type: str) -> dict:
    """The JSON Schema of the whole body of one event type."""

    class Body(_Part):
        type: str
        version: int
        timestamp: datetime
        data: DATA_MODELS[event_type]  # type: ignore[valid-type]

    schema = Body.model_json_schema()
    schema["title"] = f"Bookend event {event_type}"
    schema["properties"]["type"]["const"] = event_type
    schema["properties"]["version"]["const"] = VERSION
    return schema


def _person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.email, "email": user.email}


def _meeting_part(meeting: Meeting, now: datetime) -> dict:
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "url": site_url(reverse("meetings:detail", args=[meeting.pk])),
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "time_zone": meeting.time_zone,
        "status": str(meeting.status_at(now)),
        "organizer": _person(meeting.organizer),
    }


def _item_part(item: ActionItem) -> dict:
    return {
        "id": item.pk,
        "description": item.description,
        "owner": _person(item.owner),
        "due_date": item.due_date,
        "original_due_date": item.original_due_date,
        "status": item.status,
        "response": item.response,
        "url": site_url(reverse("meetings:detail", args=[item.meeting_id])) + f"#action-{item.pk}",
    }


def _data(
    event_type: str,
    meeting: Meeting,
    *,
    now: datetime,
    actor: User | None,
    item: ActionItem | None,
) -> dict:
    data: dict = {
        "team": {"id": meeting.team.pk, "name": meeting.team.name, "slug": meeting.team.slug},
        "meeting": _meeting_part(meeting, now),
        "actor": _person(actor),
    }
    model = DATA_MODELS[event_type]
    if model is AgendaData:
        items = meeting.agenda_items.select_related("owner").order_by("position", "pk")
        data["agenda"] = {
            "sequence": meeting.sequence,
            "desired_outcome": meeting.desired_outcome,
            "items": [
                {
                    "id": agenda_item.pk,
                    "position": agenda_item.position,
                    "title": agenda_item.title,
                    "owner": _person(agenda_item.owner),
                    "timebox_minutes": agenda_item.timebox_minutes,
                }
                for agenda_item in items
            ],
        }
    elif model is RecapData:
        decisions = meeting.decisions.order_by("position", "pk")
        actions = meeting.action_items.select_related("owner").order_by("due_date", "pk")
        data["recap"] = {
            "summary": meeting.recap_summary,
            "decisions": [{"id": d.pk, "text": d.text} for d in decisions],
            "action_items": [_item_part(a) for a in actions],
        }
    elif model is ActionItemData:
        assert item is not None, f"{event_type} needs its action item"
        data["action_item"] = _item_part(item)
    return model.model_validate(data).model_dump(mode="json")


def body(event_type: str, data: dict, *, now: datetime) -> dict:
    """The versioned body: what every endpoint receives (chat channels render it)."""
    timestamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"type": event_type, "version": VERSION, "timestamp": timestamp, "data": data}


# -- recording -------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One event to record: what happened, to which meeting (and item), and its key."""

    type: str
    meeting: Meeting
    key: str
    item: ActionItem | None = None
    actor: User | None = None


def emit(
    event_type: str,
    meeting: Meeting,
    *,
    now: datetime,
    key: str = "",
    item: ActionItem | None = None,
    actor: User | None = None,
) -> list[int]:
    """Record one event about `meeting` (in the caller's transaction) for every
    endpoint of its team that listens; returns the ids of new deliveries.

    `key` tells occurrences apart (an agenda's sequence, an item's due date);
    the same type, meeting, item and key again is the same event, recorded once.
    """
    return emit_many([occurrence(event_type, meeting, key=key, item=item, actor=actor)], now=now)


def occurrence(
    event_type: str,
    meeting: Meeting,
    *,
    key: str = "",
    item: ActionItem | None = None,
    actor: User | None = None,
) -> Occurrence:
    subject = f"action_item:{item.pk}" if item is not None else f"meeting:{meeting.pk}"
    return Occurrence(event_type, meeting, f"{subject}:{event_type}:{key}"[:120], item, actor)


def emit_many(occurrences: Sequence[Occurrence], *, now: datetime) -> list[int]:
    """`emit` for a batch (the sweep's): a constant number of queries when no
    endpoint listens (one), and per listening team and type when some do."""
    if not occurrences:
        return []
    listening = _listening({o.meeting.team_id for o in occurrences})
    wanted = [o for o in occurrences if _endpoints_for(listening, o)]
    if not wanted:
        return []
    with transaction.atomic():
        meetings = _fresh_meetings({o.meeting.pk for o in wanted})
        items = _fresh_items({o.item.pk for o in wanted if o.item is not None})
        new_events = []
        for o in wanted:
            meeting = meetings[o.meeting.pk]
            item = items[o.item.pk] if o.item is not None else None
            data = _data(o.type, meeting, now=now, actor=o.actor, item=item)
            new_events.append(
                Event(team_id=meeting.team_id, key=o.key, type=o.type, meeting=meeting,
                      payload=body(o.type, data, now=now), created_at=now)
            )  # fmt: skip
        # Conflicts ignored: an occurrence recorded before (a second sweep) stays as it was.
        Event.objects.bulk_create(new_events, ignore_conflicts=True)
        found = Event.objects.filter(
            team_id__in={e.team_id for e in new_events}, key__in={e.key for e in new_events}
        ).only("pk", "team_id", "key")
        by_key = {(e.team_id, e.key): e for e in found}
        # Inserted already leased to the task queued below, as the e-mail sweep does;
        # that lease also tells this call's new rows from older ones.
        lease_until = now + outbox_lease()
        Delivery.objects.bulk_create(
            [
                Delivery(endpoint=endpoint, event=by_key[(o.meeting.team_id, o.key)],
                         send_after=lease_until, created_at=now)
                for o in wanted
                for endpoint in _endpoints_for(listening, o)
            ],
            ignore_conflicts=True,
        )  # fmt: skip
        ids = list(
            Delivery.objects.filter(
                event__in=list(by_key.values()), state=Delivery.State.PENDING,
                send_after=lease_until, attempts=0,
            ).values_list("pk", flat=True)
        )  # fmt: skip
        if ids:
            publish_after_commit(WEBHOOK_TASK, ids)
    return ids


def _listening(team_ids: Iterable[int]) -> dict[int, list[Endpoint]]:
    found: dict[int, list[Endpoint]] = {}
    for endpoint in Endpoint.objects.filter(team_id__in=team_ids, disabled_at__isnull=True):
        found.setdefault(endpoint.team_id, []).append(endpoint)
    return found


def _endpoints_for(listening: dict[int, list[Endpoint]], o: Occurrence) -> list[Endpoint]:
    return [e for e in listening.get(o.meeting.team_id, []) if e.listens_to(o.type)]


def _fresh_meetings(ids: set[int]) -> dict[int, Meeting]:
    """The meetings with what a body shows: the caller's rows may be partial (`.only`)."""
    rows = Meeting.objects.select_related("team", "organizer").filter(pk__in=ids)
    return {m.pk: m for m in rows}


def _fresh_items(ids: set[int]) -> dict[int, ActionItem]:
    if not ids:
        return {}
    return {i.pk: i for i in ActionItem.objects.select_related("owner").filter(pk__in=ids)}
