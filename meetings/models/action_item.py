"""Action items: what a recap leaves to be done, each with one owner and a due date,
and the owner's answer to being given it."""

from __future__ import annotations

from datetime import date, datetime

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Team, User

from .meeting import Meeting, RuleBroken

# Before its recap is published an item is a draft: its owner has not been given it.
NOT_OUT_YET = "Its recap is not published yet; change it in the recap editor."


class ActionItemQuerySet(models.QuerySet["ActionItem"]):
    def for_user(self, user: User) -> ActionItemQuerySet:
        """Items of meetings of the teams `user` belongs to: the tenancy boundary."""
        return self.filter(meeting__team__in=Team.objects.for_user(user))

    def open(self) -> ActionItemQuerySet:
        return self.filter(status=ActionItem.Status.OPEN)

    def overdue(self, today: date) -> ActionItemQuerySet:
        return self.open().filter(due_date__lt=today)

    def taken_on(self) -> ActionItemQuerySet:
        """Open and not declined: what its owner is expected to do (and reminded of)."""
        return self.open().exclude(response=ActionItem.Response.DECLINED)

    def redated(self) -> ActionItemQuerySet:
        return self.filter(redated_count__gt=0)


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ActionResponse(models.TextChoices):
    """The owner's answer to being given the item."""

    UNANSWERED = "unanswered", "Not answered yet"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class ActionItem(models.Model):
    Status = ActionStatus
    Response = ActionResponse

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    description = models.TextField()
    # Rule 5: exactly one owner. NOT NULL in the database; membership of the
    # meeting's team spans rows and is checked by `problems()`.
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="action_items")
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The due date it was given, kept at its first move (None while never moved):
    # "done by its first due date" is measured against it however often it moves.
    original_due_date = models.DateField(null=True, blank=True)
    redated_count = models.PositiveSmallIntegerField("times re-dated", default=0, db_default=0)
    response = models.CharField(
        max_length=10,
        choices=Response.choices,
        default=Response.UNANSWERED,
        db_default=Response.UNANSWERED,
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, default="", db_default="")
    # When its current owner was given it: each owner answers their own assignment.
    assigned_at = models.DateTimeField(default=timezone.now, db_default=Now())
    # When the reminder sweep must look at it next (due and overdue reminders), set
    # once the recap is published; None when it is done, declined or not yet out.
    next_reminder_at = models.DateTimeField(null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="action_item_description_not_blank",
                violation_error_message="An action item needs a description.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values),
                name="action_item_status_valid",
                violation_error_message="Status must be open or done.",
            ),
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False)
                | Q(status="open", completed_at__isnull=True),
                name="action_item_completed_iff_done",
                violation_error_message="A done action item has a completion time; "
                "an open one has none.",
            ),
            models.CheckConstraint(
                condition=Q(response__in=ActionResponse.values),
                name="action_item_response_valid",
                violation_error_message="Response must be unanswered, accepted or declined.",
            ),
            models.CheckConstraint(
                condition=Q(response="unanswered", responded_at__isnull=True)
                | (~Q(response="unanswered") & Q(responded_at__isnull=False)),
                name="action_item_responded_iff_answered",
                violation_error_message="An answered action item has the time of the answer; "
                "an unanswered one has none.",
            ),
            models.CheckConstraint(
                condition=Q(response="declined") | Q(decline_reason=""),
                name="action_item_reason_only_if_declined",
                violation_error_message="Only a declined action item has a reason for it.",
            ),
            models.CheckConstraint(
                condition=Q(next_reminder_at__isnull=True)
                | (Q(status="open") & ~Q(response="declined")),
                name="action_item_reminders_only_if_taken_on",
                violation_error_message="A done or declined action item gets no reminders.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["owner", "due_date"], condition=Q(status="open"), name="action_open_idx"
            ),
            # The sweep's claim reads only the due items (healthchecks' alert_after).
            models.Index(
                fields=["next_reminder_at"],
                condition=Q(next_reminder_at__isnull=False),
                name="action_reminder_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]

    def problems(self, *, meeting: Meeting, member_ids: set[int] | None = None) -> list[str]:
        """Rule 5's cross-row half: owner in the team, due on or after the meeting's day."""
        if member_ids is None:
            member_ids = meeting.team_member_ids()
        problems = []
        label = f"Action item “{self.description[:40]}”"
        if self.owner_id not in member_ids:
            problems.append(f"{label}: its owner must be a member of {meeting.team}.")
        if self.due_date and not meeting.accepts_due_date(self.due_date):
            problems.append(
                f"{label}: the due date cannot be before the meeting's day "
                f"({date_format(meeting.local_date, 'D j M Y')})."
            )
        return problems

    def validate_rules(self) -> None:
        problems = self.problems(meeting=self.meeting)
        if problems:
            raise RuleBroken(problems)

    def complete(self, *, now: datetime) -> bool:
        """Mark done. A conditional update: a double click records one completion."""
        updated = ActionItem.objects.filter(pk=self.pk, status=self.Status.OPEN).update(
            status=self.Status.DONE, completed_at=now, next_reminder_at=None
        )
        if updated:
            self.status, self.completed_at, self.next_reminder_at = self.Status.DONE, now, None
        return bool(updated)

    def reopen(self) -> bool:
        """Open again; the caller schedules its reminders again (`stages.reschedule_item`)."""
        updated = ActionItem.objects.filter(pk=self.pk, status=self.Status.DONE).update(
            status=self.Status.OPEN, completed_at=None
        )
        if updated:
            self.status, self.completed_at = self.Status.OPEN, None
        return bool(updated)

    def locked(self) -> ActionItem:
        """The current row with its meeting, locked until the end of the transaction."""
        return (
            ActionItem.objects.select_for_update(of=("self",))
            .select_related("meeting", "meeting__team", "owner")
            .get(pk=self.pk)
        )

    def answer_problem(self, owner_id: int) -> str:
        """Why the owner `owner_id` cannot answer for this item ("" if they can): it is
        still a draft, moved to someone else, is done, declined, or its meeting canceled."""
        if self.owner_id != owner_id:
            return "This action item has been given to someone else since."
        if not self.is_out:
            return NOT_OUT_YET
        if self.meeting.canceled_at:
            return "Its meeting was canceled."
        if self.status == self.Status.DONE:
            return "This action item is already done."
        if self.response == self.Response.DECLINED:
            return "You declined this action item; its organizer is finding a new owner."
        return ""

    def accept(self, *, now: datetime) -> bool:
        """The owner takes it on. Only an unanswered, open item; a second click is a no-op."""
        updated = ActionItem.objects.filter(
            pk=self.pk, owner_id=self.owner_id, status=self.Status.OPEN,
            response=self.Response.UNANSWERED,
        ).update(response=self.Response.ACCEPTED, responded_at=now)  # fmt: skip
        if updated:
            self.response, self.responded_at = self.Response.ACCEPTED, now
        return bool(updated)

    def decline(self, *, reason: str, now: datetime) -> None:
        """The owner hands it back: no more reminders; the organizer finds a new owner.
        Call on a `locked()` row."""
        if problem := self.answer_problem(self.owner_id):
            raise RuleBroken(problem)
        self.response, self.responded_at = self.Response.DECLINED, now
        self.decline_reason, self.next_reminder_at = reason.strip(), None
        self.save(update_fields=["response", "responded_at", "decline_reason",
                                 "next_reminder_at"])  # fmt: skip

    def redate(self, due_date: date, *, now: datetime, accepts: bool = True) -> bool:
        """Move the due date (rule 5 again); counts each move. Its owner answering with a
        new date accepts the item (`accepts`); the organizer moving it, or setting it
        while reassigning, answers for nobody. Call on a `locked()` row; False if the
        date is the same."""
        if problem := self.answer_problem(self.owner_id):
            raise RuleBroken(problem)
        if not self.meeting.accepts_due_date(due_date):
            raise RuleBroken(
                "The due date cannot be before the meeting's day "
                f"({date_format(self.meeting.local_date, 'D j M Y')})."
            )
        if due_date == self.due_date:
            return False
        if self.original_due_date is None:
            self.original_due_date = self.due_date
        self.due_date, self.redated_count = due_date, self.redated_count + 1
        fields = ["due_date", "redated_count", "original_due_date"]
        if accepts and self.response == self.Response.UNANSWERED:
            self.response, self.responded_at = self.Response.ACCEPTED, now
            fields += ["response", "responded_at"]
        self.save(update_fields=fields)
        return True

    def reassign(self, owner: User, *, now: datetime, member_ids: set[int]) -> None:
        """Give it to `owner` (a member of the team): their answer starts afresh.
        Call on a `locked()` row; links made for the previous owner stop working."""
        if not self.is_out:
            raise RuleBroken(NOT_OUT_YET)
        if self.status == self.Status.DONE:
            raise RuleBroken("This action item is already done.")
        if self.meeting.canceled_at:
            raise RuleBroken("Its meeting was canceled.")
        if owner.pk not in member_ids or not owner.is_active:
            raise RuleBroken(f"The new owner must be a member of {self.meeting.team}.")
        if owner.pk == self.owner_id and self.response != self.Response.DECLINED:
            raise RuleBroken(f"{owner.name} already owns this action item.")
        self.owner, self.assigned_at = owner, now
        self.response, self.responded_at, self.decline_reason = self.Response.UNANSWERED, None, ""
        self.save(update_fields=["owner", "assigned_at", "response", "responded_at",
                                 "decline_reason"])  # fmt: skip

    def can_be_changed_by(self, user: User, *, admin_team_ids: set[int]) -> bool:
        """Its owner marks it done; so may the meeting's organizer and the team's admins.

        `admin_team_ids`: the teams `user` administers (a view reads the user's
        memberships once per request). Needs `meeting` loaded.
        """
        return (
            self.owner_id == user.pk
            or self.meeting.organizer_id == user.pk
            or self.meeting.team_id in admin_team_ids
        )

    def can_be_redated_by(self, user: User) -> bool:
        """Its owner moves its due date, and so may the meeting's organizer. Needs `meeting`."""
        return self.owner_id == user.pk or self.meeting.organizer_id == user.pk

    def can_be_reassigned_by(self, user: User, *, admin_team_ids: set[int]) -> bool:
        """The meeting's organizer or a team admin gives it to someone else. Needs `meeting`."""
        return self.meeting.organizer_id == user.pk or self.meeting.team_id in admin_team_ids

    @property
    def is_out(self) -> bool:
        """Its recap is published: its owner was given it and answers for it; before
        that it is a draft the recap editor changes. Needs `meeting`."""
        return self.meeting.recap_published_at is not None

    @property
    def awaits_answer(self) -> bool:
        """Open and its owner has neither accepted nor declined it yet."""
        return self.status == self.Status.OPEN and self.response == self.Response.UNANSWERED

    def is_overdue(self, today: date) -> bool:
        return self.status == self.Status.OPEN and self.due_date < today

    @property
    def first_due_date(self) -> date:
        return self.original_due_date or self.due_date
