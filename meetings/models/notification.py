"""The notification outbox: one row per message that must reach one recipient."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User


class NotificationKind(models.TextChoices):
    AGENDA_DIGEST = "agenda_digest", "Agenda digest"
    RECAP_DIGEST = "recap_digest", "Recap digest"
    AGENDA_REMINDER = "agenda_reminder", "Agenda missing reminder"
    NO_AGENDA_NOTICE = "no_agenda_notice", "No agenda at start"
    RECAP_REMINDER = "recap_reminder", "Recap missing reminder"
    RECAP_ESCALATION = "recap_escalation", "Recap escalation"
    DAILY_DIGEST = "daily_digest", "Daily digest"
    ACTION_ASSIGNED = "action_assigned", "Action item assigned"
    ACTION_DUE = "action_due", "Action item due reminder"
    ACTION_DECLINED = "action_declined", "Action item declined"
    AGENDA_ACTIVITY = "agenda_activity", "What changed on your meetings' agendas"
    DELIVERY_EXPIRED = "delivery_expired", "Undelivered mail notice"
    ENDPOINT_DISABLED = "endpoint_disabled", "Webhook or chat channel disabled"


# Kinds that are not about one meeting: they name no meeting.
KINDS_WITHOUT_MEETING = (
    NotificationKind.DAILY_DIGEST,
    NotificationKind.DELIVERY_EXPIRED,
    # About an endpoint of a team (its stage names it), not a meeting.
    NotificationKind.ENDPOINT_DISABLED,
    # One batch per working window about every meeting that changed.
    NotificationKind.AGENDA_ACTIVITY,
)


class NotificationState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (refused for good)"
    EXPIRED = "expired", "Expired (undeliverable for too long)"


GIVEN_UP = (NotificationState.FAILED, NotificationState.EXPIRED)


class Notification(models.Model):
    """The outbox: one row per message that must reach one recipient.

    The unique constraints are the idempotency key of every sweep and send: a
    second insert for the same (meeting, kind, stage, recipient) is ignored, so
    nothing can be sent twice however many sweeps or workers run at once.
    """

    Kind = NotificationKind
    State = NotificationState
    GIVEN_UP = GIVEN_UP

    # notification_once_per_meeting_stage (meeting_id IS NOT NULL) serves lookups by
    # meeting; a separate index would be one more write per outbox row.
    meeting = models.ForeignKey(
        "Meeting",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    stage = models.CharField(max_length=40, help_text="Which reminder stage or digest version.")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Not before this time: a reminder outside working hours waits for the window.
    send_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When staff last sent a failed or expired row again: its age counts from then.
    requeued_at = models.DateTimeField(null=True, blank=True)
    # When delivery gave up on it (failed or expired).
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "kind", "stage", "recipient"],
                condition=Q(meeting__isnull=False),
                name="notification_once_per_meeting_stage",
                violation_error_message="This message was already queued for this person.",
            ),
            models.UniqueConstraint(
                fields=["kind", "stage", "recipient"],
                condition=Q(meeting__isnull=True),
                name="notification_once_per_stage",
                violation_error_message="This message was already queued for this person.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values),
                name="notification_kind_valid",
                violation_error_message="Unknown notification kind.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=NotificationState.values),
                name="notification_state_valid",
                violation_error_message="Unknown notification state.",
            ),
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="notification_sent_iff_sent_at",
                violation_error_message="A sent notification has a send time; others none.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=GIVEN_UP, given_up_at__isnull=False)
                | (~Q(state__in=GIVEN_UP) & Q(given_up_at__isnull=True)),
                name="notification_given_up_iff_failed_or_expired",
                violation_error_message="A failed or expired notification has the time "
                "delivery gave up; others none.",
            ),
            models.CheckConstraint(
                condition=Q(meeting__isnull=False) | Q(kind__in=KINDS_WITHOUT_MEETING),
                name="notification_meeting_required",
                violation_error_message="Only the daily digest, the undelivered mail notice, "
                "the agenda activity batch and the disabled endpoint notice are not about "
                "one meeting.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=Q(state="pending"),
                name="notification_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.stage}) to {self.recipient}"


class DeliveryPause(models.Model):
    """The circuit breaker of outgoing mail: one row, shared by every worker.

    When the mail server cannot be reached (connection refused, a timeout, 421),
    every message would fail the same way: delivery pauses for everyone until
    `until`, growing with each failed probe, instead of spending each message's
    attempts. The first delivery after `until` is the probe; a success closes it.
    """

    ONE = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONE)
    until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text="Connection failures in a row: each pause is longer."
    )
    since = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name = "delivery pause"
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="delivery_pause_single_row",
                violation_error_message="There is one delivery pause for the whole site.",
            ),
        ]

    def __str__(self) -> str:
        return f"paused until {self.until}" if self.until else "delivering"
