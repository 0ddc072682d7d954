"""What a meeting is made of: attendees, agenda items, decisions and action items."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Membership, Team, User

from ..markdown import RenderedMarkdownField, RendersMarkdown
from .meeting import Meeting, RuleBroken
from .notification import Notification


class Rsvp(models.TextChoices):
    PENDING = "pending", "No answer yet"
    YES = "yes", "Going"
    MAYBE = "maybe", "Maybe"
    NO = "no", "Not going"


class Attendee(models.Model):
    Rsvp = Rsvp

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="attendances")
    required = models.BooleanField(default=True)
    rsvp = models.CharField(max_length=10, choices=Rsvp.choices, default=Rsvp.PENDING)
    acknowledged_at = models.DateTimeField("recap acknowledged", null=True, blank=True)

    class Meta:
        ordering = ["meeting", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                name="attendee_unique_per_meeting",
                violation_error_message="This person is already an attendee.",
            ),
            models.CheckConstraint(
                condition=Q(rsvp__in=Rsvp.values),
                name="attendee_rsvp_valid",
                violation_error_message="RSVP must be pending, yes, maybe or no.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.meeting}"

    def still_in_team(self) -> bool:
        """Whether the person may still act on this meeting from an emailed link: an
        active account, still a member of the meeting's team. Needs `meeting`."""
        return (
            self.user.is_active
            and Membership.objects.filter(
                user_id=self.user_id, team_id=self.meeting.team_id
            ).exists()
        )

    def acknowledge(self, *, now: datetime) -> bool:
        """Record that the attendee read the recap. Idempotent: the first time wins.

        A conditional update rather than a lock: two clicks on the email link
        cannot both record, and the earlier time is kept.
        """
        if not Meeting.objects.filter(
            pk=self.meeting_id, recap_published_at__isnull=False
        ).exists():
            raise RuleBroken("There is no published recap to acknowledge yet.")
        updated = Attendee.objects.filter(pk=self.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now
        )
        if updated:
            self.acknowledged_at = now
        return bool(updated)


class Outcome(models.TextChoices):
    NONE = "", "Not recorded"
    DISCUSSED = "discussed", "Discussed"
    DECIDED = "decided", "Decided"
    DEFERRED = "deferred", "Deferred"


def titled_and_timeboxed(prefix: str, title_message: str) -> list[models.CheckConstraint]:
    """An agenda item and a template's standing item: a title, and a time box of
    1 to 480 minutes when there is one."""
    return [
        models.CheckConstraint(
            condition=~Q(title=""),
            name=f"{prefix}_title_not_blank",
            violation_error_message=title_message,
        ),
        models.CheckConstraint(
            condition=Q(timebox_minutes__isnull=True)
            | Q(timebox_minutes__gte=1, timebox_minutes__lte=480),
            name=f"{prefix}_timebox_range",
            violation_error_message="A time box is between 1 and 480 minutes.",
        ),
    ]


class AgendaItem(RendersMarkdown):
    Outcome = Outcome

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    timebox_minutes = models.PositiveSmallIntegerField("time box (minutes)", null=True, blank=True)
    notes = models.TextField(blank=True)
    notes_html = RenderedMarkdownField(source="notes")
    added_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    # Carry-over in a series: the item this one continues, and how many meetings
    # it has slipped so far.
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_to"
    )
    slipped_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "position", "pk"]
        constraints = [
            *titled_and_timeboxed("agenda_item", "An agenda item needs a title."),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values),
                name="agenda_item_outcome_valid",
                violation_error_message="Outcome must be discussed, decided or deferred.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Decision(RendersMarkdown):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    text_html = RenderedMarkdownField(source="text")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(text=""),
                name="decision_text_not_blank",
                violation_error_message="A decision needs some text.",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


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
    redated_count = models.PositiveSmallIntegerField("times re-dated", default=0)
    response = models.CharField(
        max_length=10, choices=Response.choices, default=Response.UNANSWERED
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    # When its current owner was given it: each owner answers their own assignment.
    assigned_at = models.DateTimeField(default=timezone.now)
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
        """Why the owner `owner_id` can no longer answer for this item ("" if they can):
        the item moved to someone else, is done, declined, or its meeting canceled."""
        if self.owner_id != owner_id:
            return "This action item has been given to someone else since."
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


class AgendaVersion(models.Model):
    """The agenda as it stood when a digest of it was queued: what its readers got.

    Kept so that an updated agenda can tell each attendee what changed since the
    version they received. A new row whenever a digest is queued and the agenda
    differs from the last kept one; never changed afterwards.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="versions")
    sequence = models.PositiveIntegerField()
    desired_outcome = models.TextField(blank=True)
    # [{"id", "title", "owner", "timebox", "notes"}], in agenda order.
    items = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "created_at", "pk"]
        indexes = [
            models.Index(fields=["meeting", "created_at"], name="agenda_version_meeting_idx")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} v{self.sequence}"

    @staticmethod
    def items_of(meeting: Meeting, items: Iterable[AgendaItem] | None = None) -> list[dict]:
        """The agenda's items as a digest shows them. `items`: the meeting's agenda
        items with their owners, when the caller has loaded them already."""
        if items is None:
            items = meeting.agenda_items.select_related("owner")
        return [
            {
                "id": item.pk,
                "title": item.title,
                "owner": item.owner.name if item.owner else "",
                "timebox": item.timebox_minutes,
                "notes": item.notes,
            }
            for item in items
        ]

    @classmethod
    def as_it_stands(
        cls, meeting: Meeting, items: Iterable[AgendaItem] | None = None
    ) -> tuple[str, list[dict]]:
        """What a digest of the agenda would say now. Two states that compare equal
        are the one rule of "nothing changed" (the title, times and place go out when
        they change, through the meeting's own update; they are not the agenda's)."""
        return meeting.desired_outcome, cls.items_of(meeting, items)

    def says(self) -> tuple[str, list[dict]]:
        return self.desired_outcome, self.items

    @staticmethod
    def as_of(versions: list[AgendaVersion], moment: datetime) -> AgendaVersion | None:
        """Of `versions` (oldest first), the one kept when a digest was queued at `moment`."""
        kept = [v for v in versions if v.created_at <= moment]
        return kept[-1] if kept else None

    @classmethod
    def attendees_have(cls, meeting: Meeting, items: Iterable[AgendaItem] | None = None) -> bool:
        """Whether every attendee was last sent the agenda as it stands: then an
        amendment has nothing to tell anyone. Each attendee's last agenda digest is
        matched to the version kept when it was queued (a newcomer may hold a later
        version than the others). Two queries whatever the size of the meeting."""
        last_digest = Notification.objects.filter(
            meeting=meeting, kind=Notification.Kind.AGENDA_DIGEST, recipient=OuterRef("user")
        ).order_by("-created_at")
        received = set(
            Attendee.objects.filter(meeting=meeting, user__is_active=True)
            .annotate(last=Subquery(last_digest.values("created_at")[:1]))
            .values_list("last", flat=True)
        )
        if not received or None in received:
            return False  # someone never got it
        versions = list(cls.objects.filter(meeting=meeting).order_by("created_at", "pk"))
        now_says = cls.as_it_stands(meeting, items)
        for moment in received:
            version = cls.as_of(versions, moment)
            if version is None or version.says() != now_says:
                return False
        return True

    @classmethod
    def keep(cls, meeting: Meeting, *, now: datetime) -> AgendaVersion:
        """The agenda as it stands, kept unless the last kept version says the same."""
        last = cls.objects.filter(meeting=meeting).order_by("-created_at", "-pk").first()
        outcome, items = cls.as_it_stands(meeting)
        if last and last.says() == (outcome, items):
            return last
        return cls.objects.create(
            meeting=meeting,
            sequence=meeting.sequence,
            desired_outcome=outcome,
            items=items,
            created_at=now,
        )

    def changes_since(self, earlier: AgendaVersion) -> dict[str, list]:
        """What was added, changed and removed between `earlier` and this version."""
        before = {item["id"]: item for item in earlier.items}
        after = {item["id"]: item for item in self.items}
        changed = []
        for pk, item in after.items():
            old = before.get(pk)
            if old is None:
                continue
            what = [
                label
                for key, label in (("title", "title"), ("owner", "owner"),
                                   ("timebox", "time box"), ("notes", "notes"))
                if old.get(key) != item.get(key)
            ]  # fmt: skip
            if what:
                changed.append({**item, "what": what, "was": old["title"]})
        outcome_changed = self.desired_outcome != earlier.desired_outcome
        return {
            "added": [item for pk, item in after.items() if pk not in before],
            "changed": changed,
            "removed": [item for pk, item in before.items() if pk not in after],
            "outcome": [self.desired_outcome] if outcome_changed else [],
        }
