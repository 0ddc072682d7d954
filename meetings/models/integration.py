"""Integrations: a team's webhook endpoints and chat channels, the events they
listen to, and the outbox of HTTP deliveries (one row per event and endpoint).

An `Event` is written in the same transaction as the change it reports, with the
versioned JSON body it will carry; a `Delivery` per listening endpoint is the
outbox row, unique per (endpoint, event), so nothing is posted twice however
many sweeps, workers or "send again" clicks run at once.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Team, User

from .notification import GIVEN_UP, NotificationState


class EventType(models.TextChoices):
    """The event catalogue: what an endpoint can listen to (README, "Integrations")."""

    AGENDA_SENT = "agenda.sent", "Agenda sent"
    AGENDA_AMENDED = "agenda.amended", "Agenda amended"
    MEETING_CANCELED = "meeting.canceled", "Meeting canceled"
    MEETING_STARTED_WITHOUT_AGENDA = (
        "meeting.started_without_agenda",
        "Meeting started without an agenda",
    )
    RECAP_PUBLISHED = "recap.published", "Recap published"
    RECAP_OVERDUE = "recap.overdue", "Recap overdue (escalated)"
    ACTION_ITEM_ASSIGNED = "action_item.assigned", "Action item assigned"
    ACTION_ITEM_COMPLETED = "action_item.completed", "Action item completed"
    ACTION_ITEM_REDATED = "action_item.redated", "Action item re-dated"
    ACTION_ITEM_OVERDUE = "action_item.overdue", "Action item overdue"


# Chat channels are for the team: reminders addressed to one person stay in e-mail.
CHAT_EVENTS = (
    EventType.AGENDA_SENT,
    EventType.MEETING_STARTED_WITHOUT_AGENDA,
    EventType.RECAP_PUBLISHED,
    EventType.RECAP_OVERDUE,
)


class EndpointKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    MATTERMOST = "mattermost", "Mattermost"
    TEAMS = "teams", "Microsoft Teams"


CHAT_KINDS = (EndpointKind.SLACK, EndpointKind.MATTERMOST, EndpointKind.TEAMS)


class Endpoint(models.Model):
    """Where a team's events go: a webhook receiver or a chat channel's incoming webhook."""

    Kind = EndpointKind

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="endpoints")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=80)
    url = models.URLField("URL", max_length=2000)
    # Event types (EventType values) this endpoint receives.
    events = models.JSONField(default=list)
    # Standard Webhooks signing secret ("whsec_" + base64), shown once; webhooks only.
    secret = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Failed attempts in a row, and when that run began: a long run disables it.
    failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["team", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EndpointKind.values),
                name="endpoint_kind_valid",
                violation_error_message="Unknown kind of endpoint.",
            ),
            models.CheckConstraint(
                condition=Q(kind=EndpointKind.WEBHOOK, secret__startswith="whsec_")
                | (~Q(kind=EndpointKind.WEBHOOK) & Q(secret="")),
                name="endpoint_secret_iff_webhook",
                violation_error_message="A webhook has a signing secret; a chat channel none.",
            ),
            models.CheckConstraint(
                condition=Q(failures=0, failing_since__isnull=True)
                | Q(failures__gt=0, failing_since__isnull=False),
                name="endpoint_failing_since_iff_failures",
                violation_error_message="A failing endpoint records when its failures began.",
            ),
            models.UniqueConstraint(
                fields=["team", "name"],
                name="endpoint_name_unique_per_team",
                violation_error_message="This team already has an endpoint with this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_chat(self) -> bool:
        return self.kind in CHAT_KINDS

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def listens_to(self, event_type: str) -> bool:
        return event_type in self.events

    @property
    def event_labels(self) -> list[str]:
        """What it listens to, as the catalogue names it."""
        return [EventType(value).label for value in self.events if value in EventType.values]

    @property
    def host(self) -> str:
        """The URL's host, which lists show: the rest of a chat URL is its credential."""
        try:
            return urlsplit(self.url).hostname or ""
        except ValueError:
            return ""


class Event(models.Model):
    """One thing that happened in a team, with the body every endpoint receives.

    `key` names the occurrence (say "meeting:12:agenda.sent:3" for the third
    sending), unique per team: a sweep that runs twice reports it once.
    """

    Type = EventType

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=40, choices=Type.choices)
    key = models.CharField(max_length=120)
    meeting = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "key"],
                name="event_once_per_key",
                violation_error_message="This event was already recorded.",
            ),
            models.CheckConstraint(
                condition=Q(type__in=EventType.values),
                name="event_type_valid",
                violation_error_message="Unknown event type.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} ({self.key})"

    @property
    def message_id(self) -> str:
        """The Standard Webhooks `webhook-id`: the same on every retry of this event."""
        return f"msg_{self.uid.hex}"


class Delivery(models.Model):
    """The outbox row of one event to one endpoint, with its last attempt's result."""

    State = NotificationState
    GIVEN_UP = GIVEN_UP

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Not before this time: a retry's backoff, a Retry-After, or the re-drive's lease.
    send_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
    # When a team admin last clicked "send again": its age counts from then.
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                name="delivery_once_per_endpoint_event",
                violation_error_message="This event was already queued for this endpoint.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=NotificationState.values),
                name="delivery_state_valid",
                violation_error_message="Unknown delivery state.",
            ),
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="delivery_sent_iff_sent_at",
                violation_error_message="A sent delivery has a send time; others none.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=GIVEN_UP, given_up_at__isnull=False)
                | (~Q(state__in=GIVEN_UP) & Q(given_up_at__isnull=True)),
                name="delivery_given_up_iff_failed_or_expired",
                violation_error_message="A failed or expired delivery has the time "
                "delivery gave up; others none.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=Q(state="pending"),
                name="delivery_pending_idx",
            ),
            # An endpoint's recent deliveries, newest first (the delivery log).
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint} ({self.state})"
