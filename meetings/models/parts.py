"""What a meeting is made of: attendees, agenda items, decisions, and the agenda
versions its attendees received. Action items have their own module."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Membership, User

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
    SETTLED = "settled", "Decided in writing"


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
    # Settled in writing before the meeting: its resolution is a Decision linked
    # to it (`settlement`), and its outcome is "decided in writing".
    settled_at = models.DateTimeField(null=True, blank=True, editable=False)
    settled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["meeting", "position", "pk"]
        constraints = [
            *titled_and_timeboxed("agenda_item", "An agenda item needs a title."),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values),
                name="agenda_item_outcome_valid",
                violation_error_message="Outcome must be discussed, decided or deferred.",
            ),
            models.CheckConstraint(
                condition=Q(outcome=Outcome.SETTLED, settled_at__isnull=False)
                | (~Q(outcome=Outcome.SETTLED) & Q(settled_at__isnull=True)),
                name="agenda_item_settled_iff_outcome",
                violation_error_message="An item settled in writing has the time it was "
                "settled, and only such an item.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_settled(self) -> bool:
        return self.settled_at is not None

    def can_be_settled_by(self, user: User) -> bool:
        """Its owner or the meeting's organizer settles it (needs `meeting`)."""
        return user.pk in (self.owner_id, self.meeting.organizer_id)

    def settle(self, resolution: str, *, by: User, now: datetime) -> Decision:
        """Resolve it in writing before the start: the resolution becomes a decision of
        the recap. Call with the meeting row locked (`Meeting.locked()`)."""
        if reason := self.meeting.agenda_closed_reason(now):
            raise RuleBroken(reason)
        if self.is_settled:
            raise RuleBroken("This item is already settled.")
        resolution = " ".join(resolution.split())
        if not resolution:
            raise RuleBroken("Write the resolution: one line saying what was settled.")
        meeting = self.meeting
        decision = Decision(meeting=meeting, text=resolution, agenda_item=self,
                            position=meeting.decisions.count())  # fmt: skip
        decision.full_clean(exclude={"meeting", "agenda_item"})
        decision.save()
        self.outcome, self.settled_at, self.settled_by = Outcome.SETTLED, now, by
        self.save(update_fields=["outcome", "settled_at", "settled_by"])
        return decision

    def unsettle(self, *, now: datetime) -> None:
        """Reverse `settle` before the start: the decision goes, the outcome clears.
        Call with the meeting row locked."""
        if reason := self.meeting.agenda_closed_reason(now):
            raise RuleBroken(reason)
        if not self.is_settled:
            raise RuleBroken("This item is not settled.")
        Decision.objects.filter(agenda_item=self).delete()
        self.outcome, self.settled_at, self.settled_by = Outcome.NONE, None, None
        self.save(update_fields=["outcome", "settled_at", "settled_by"])


class Decision(RendersMarkdown):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    text_html = RenderedMarkdownField(source="text")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # The agenda item this decision settled in writing, if it did.
    agenda_item = models.OneToOneField(
        "AgendaItem", null=True, blank=True, on_delete=models.CASCADE, related_name="settlement"
    )

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
