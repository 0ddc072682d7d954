"""The meetings app's models, one module per area; import them from here."""

from .action_item import (
    NOT_OUT_YET,
    ActionItem,
    ActionItemQuerySet,
    ActionResponse,
    ActionStatus,
)
from .discussion import AgendaComment
from .integration import (
    CHAT_EVENTS,
    CHAT_KINDS,
    Delivery,
    Endpoint,
    EndpointKind,
    Event,
    EventType,
)
from .meeting import (
    ENDS_AFTER_START,
    NOTHING_CHANGED,
    Meeting,
    MeetingQuerySet,
    NothingChanged,
    RuleBroken,
)
from .notification import DeliveryPause, Notification, NotificationKind, NotificationState
from .parts import (
    AgendaItem,
    AgendaVersion,
    Attendee,
    Decision,
    Outcome,
    Rsvp,
)
from .series import AgendaTemplate, CarriedAction, Series, SeriesAttendee, TemplateItem

__all__ = [
    "CHAT_EVENTS",
    "CHAT_KINDS",
    "Delivery",
    "Endpoint",
    "EndpointKind",
    "Event",
    "EventType",
    "NOT_OUT_YET",
    "ENDS_AFTER_START",
    "ActionItem",
    "ActionItemQuerySet",
    "ActionResponse",
    "ActionStatus",
    "AgendaComment",
    "AgendaItem",
    "AgendaTemplate",
    "AgendaVersion",
    "Attendee",
    "CarriedAction",
    "Decision",
    "DeliveryPause",
    "Meeting",
    "MeetingQuerySet",
    "NOTHING_CHANGED",
    "NothingChanged",
    "Notification",
    "NotificationKind",
    "NotificationState",
    "Outcome",
    "Rsvp",
    "RuleBroken",
    "Series",
    "SeriesAttendee",
    "TemplateItem",
]
