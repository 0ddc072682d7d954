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


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ActionItem(models.Model):
    Status = ActionStatus

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
        ]
        indexes = [
            models.Index(
                fields=["owner", "due_date"], condition=Q(status="open"), name="action_open_idx"
            )
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
            status=self.Status.DONE, completed_at=now
        )
        if updated:
            self.status, self.completed_at = self.Status.DONE, now
        return bool(updated)

    def reopen(self) -> bool:
        updated = ActionItem.objects.filter(pk=self.pk, status=self.Status.DONE).update(
            status=self.Status.OPEN, completed_at=None
        )
        if updated:
            self.status, self.completed_at = self.Status.OPEN, None
        return bool(updated)

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

    def is_overdue(self, today: date) -> bool:
        return self.status == self.Status.OPEN and self.due_date < today


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
