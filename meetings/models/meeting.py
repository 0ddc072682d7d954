"""Meetings and the rules that bookend them.

Single-row rules are database constraints, so no code path (admin, shell, raw
SQL) can break them. Rules that span rows live in the transition methods below:
each runs in a transaction with the meeting row locked (`select_for_update`), so
two requests cannot both send an agenda or publish a recap. Status is derived
from timestamps (never stored) both in Python (`Meeting.status_at`) and in SQL
(`MeetingQuerySet.with_status`).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Membership, Team, User, validate_time_zone

from ..markdown import RenderedMarkdownField, RendersMarkdown
from .notification import NotificationKind as Kind

# Rule 1's message: the database constraint and `Meeting.times_problems` say it alike.
ENDS_AFTER_START = "A meeting must end after it starts."


class RuleBroken(ValidationError):
    """A meeting rule of DESIGN.md refused a transition.

    One message per broken rule, worded for the person who clicked the button;
    forms and the admin show them as they are. Nothing was written.
    """


class NothingChanged(RuleBroken):
    """An amendment of an agenda that says what attendees already have: nothing to
    send. Not a mistake; pages show it as information."""


NOTHING_CHANGED = "Nothing changed since the agenda was sent; no one was emailed."


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def for_user(self, user: User) -> MeetingQuerySet:
        """Meetings of the teams `user` belongs to: the tenancy boundary."""
        return self.filter(team__in=Team.objects.for_user(user))

    def for_team(self, team: Team) -> MeetingQuerySet:
        return self.filter(team=team)

    def with_status(self, now: datetime | None = None) -> MeetingQuerySet:
        """Annotate `status`, the same derivation as `Meeting.status_at`, in SQL."""
        now = now or timezone.now()
        S = Meeting.Status
        return self.annotate(
            status=Case(
                When(canceled_at__isnull=False, then=Value(S.CANCELED)),
                When(settled_at__isnull=False, then=Value(S.SETTLED)),
                When(recap_published_at__isnull=False, then=Value(S.RECAPPED)),
                When(starts_at__gt=now, agenda_sent_at__isnull=True, then=Value(S.DRAFT)),
                When(starts_at__gt=now, then=Value(S.AGENDA_SENT)),
                When(agenda_sent_at__isnull=True, then=Value(S.HELD_WITHOUT_AGENDA)),
                When(ends_at__gt=now, then=Value(S.IN_PROGRESS)),
                default=Value(S.AWAITING_RECAP),
                output_field=models.CharField(),
            )
        )

    def upcoming_then_past(self, now: datetime) -> MeetingQuerySet:
        """Meetings not yet over, soonest first, then the ones that are, latest first.

        Annotates `is_past`. For the later group the first sort key is NULL (equal
        for all), so the descending start decides.
        """
        return self.annotate(
            is_past=Case(
                When(ends_at__gt=now, then=Value(False)),
                default=Value(True),
                output_field=models.BooleanField(),
            )
        ).order_by(
            "is_past",
            Case(When(is_past=False, then=F("starts_at"))).asc(),
            F("starts_at").desc(),
            "pk",
        )

    def upcoming(self, now: datetime) -> MeetingQuerySet:
        return self.filter(starts_at__gt=now, canceled_at__isnull=True)

    def awaiting_recap(self, now: datetime) -> MeetingQuerySet:
        """Ended, not canceled, no recap yet: whatever its agenda did, it owes a recap.

        Served by the partial index `meeting_unrecapped_idx`.
        """
        return self.filter(
            ends_at__lte=now, recap_published_at__isnull=True, canceled_at__isnull=True
        )

    def awaiting_agenda(self, now: datetime) -> MeetingQuerySet:
        """Not started, not canceled, no agenda sent. Served by `meeting_no_agenda_idx`."""
        return self.filter(
            starts_at__gt=now, agenda_sent_at__isnull=True, canceled_at__isnull=True
        )


def _recorded_by() -> models.ForeignKey:
    """Who sent the agenda or published the recap: a fact kept when that user is
    deleted. Indexed by a partial index (set values only) in Meeting.Meta, for
    that deletion; most meetings have none yet."""
    return models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,
    )


class Meeting(RendersMarkdown):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AGENDA_SENT = "agenda_sent", "Agenda sent"
        IN_PROGRESS = "in_progress", "In progress"
        AWAITING_RECAP = "awaiting_recap", "Awaiting recap"
        RECAPPED = "recapped", "Recapped"
        SETTLED = "settled", "Settled in writing"
        HELD_WITHOUT_AGENDA = "held_without_agenda", "Held without agenda"
        CANCELED = "canceled", "Canceled"

    # No index of their own on team and series: meeting_team_starts_idx leads with
    # the team, and meeting_unique_series_occurrence (series_id IS NOT NULL) serves
    # any lookup by series. Every index is written again when a row moves, and the
    # reminder sweep moves a thousand rows a minute at scale.
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="meetings", db_index=False
    )
    series = models.ForeignKey(
        "Series",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
        db_index=False,
    )
    # The occurrence's original start in a series, the idempotency key of expansion;
    # kept when one occurrence is moved.
    occurrence_start = models.DateTimeField(null=True, blank=True, editable=False)
    title = models.CharField(max_length=200)
    organizer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="organized")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64, validators=[validate_time_zone], help_text="Zone it was scheduled in."
    )
    location = models.CharField("location or video link", max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    desired_outcome = models.TextField(
        blank=True, help_text="The bottom line: what this meeting should decide or produce."
    )
    desired_outcome_html = RenderedMarkdownField(source="desired_outcome")
    agenda_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    agenda_sent_by = _recorded_by()
    agenda_amended_at = models.DateTimeField(null=True, blank=True, editable=False)
    # iCalendar SEQUENCE: bumped on every change attendees are told about.
    sequence = models.PositiveIntegerField(default=0, editable=False)

    recap_summary = models.TextField("summary", blank=True)
    recap_notes = models.TextField("notes", blank=True)
    recap_summary_html = RenderedMarkdownField(source="recap_summary")
    recap_notes_html = RenderedMarkdownField(source="recap_notes")
    no_action_items = models.BooleanField(
        "no action items came out of this meeting", default=False
    )
    recap_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    recap_published_by = _recorded_by()
    canceled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Settled in writing: every agenda item was resolved before the start, so the
    # meeting did not take place; its recap was published at this same moment.
    settled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Minutes taken off the end when settled items let the organizer shorten it.
    shortened_minutes = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    # When the reminder sweep must next look at this meeting (NULL: never again).
    # A precomputed due column with a partial index, so the sweep's cost follows
    # the rows that are due, not the size of the table.
    next_reminder_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="meeting_ends_after_start",
                violation_error_message=ENDS_AFTER_START,
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="meeting_title_not_blank",
                violation_error_message="A meeting needs a title.",
            ),
            models.CheckConstraint(
                condition=Q(agenda_sent_at__isnull=True) | Q(agenda_sent_at__lt=F("starts_at")),
                name="meeting_agenda_sent_before_start",
                violation_error_message="An agenda can only be sent before the meeting starts.",
            ),
            models.CheckConstraint(
                condition=Q(agenda_sent_at__isnull=True) | ~Q(desired_outcome=""),
                name="meeting_sent_agenda_has_outcome",
                violation_error_message="A sent agenda must state the desired outcome.",
            ),
            models.CheckConstraint(
                condition=Q(agenda_amended_at__isnull=True)
                | Q(agenda_sent_at__isnull=False, agenda_amended_at__lt=F("starts_at")),
                name="meeting_agenda_amended_after_send_before_start",
                violation_error_message="An agenda can be amended only after it was sent "
                "and before the meeting starts.",
            ),
            models.CheckConstraint(
                condition=Q(recap_published_at__isnull=True)
                | Q(recap_published_at__gte=F("ends_at"))
                | Q(settled_at__isnull=False),
                name="meeting_recap_published_after_end",
                violation_error_message="A recap can only be published after the meeting ends "
                "(or when it is settled in writing).",
            ),
            models.CheckConstraint(
                condition=Q(settled_at__isnull=True) | Q(settled_at__lt=F("starts_at")),
                name="meeting_settled_before_start",
                violation_error_message="A meeting can only be settled in writing before it "
                "starts.",
            ),
            models.CheckConstraint(
                condition=Q(settled_at__isnull=True)
                | Q(recap_published_at__isnull=False, recap_published_at=F("settled_at")),
                name="meeting_settled_publishes_recap",
                violation_error_message="A meeting settled in writing has its recap published "
                "at that moment.",
            ),
            models.CheckConstraint(
                condition=Q(recap_published_at__isnull=True) | ~Q(recap_summary=""),
                name="meeting_published_recap_has_summary",
                violation_error_message="A published recap needs a summary.",
            ),
            models.CheckConstraint(
                condition=Q(canceled_at__isnull=True) | Q(recap_published_at__isnull=True),
                name="meeting_canceled_has_no_recap",
                violation_error_message="A canceled meeting has no recap.",
            ),
            models.CheckConstraint(
                condition=Q(canceled_at__isnull=True) | Q(canceled_at__lt=F("starts_at")),
                name="meeting_canceled_before_start",
                violation_error_message="A meeting cannot be canceled after it started.",
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence_start"],
                condition=Q(series__isnull=False),
                name="meeting_unique_series_occurrence",
                violation_error_message="This series already has a meeting at that time.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["ends_at"],
                condition=Q(recap_published_at__isnull=True, canceled_at__isnull=True),
                name="meeting_unrecapped_idx",
            ),
            models.Index(
                fields=["starts_at"],
                condition=Q(agenda_sent_at__isnull=True, canceled_at__isnull=True),
                name="meeting_no_agenda_idx",
            ),
            models.Index(
                fields=["next_reminder_at"],
                condition=Q(next_reminder_at__isnull=False),
                name="meeting_reminder_due_idx",
            ),
            models.Index(fields=["team", "starts_at"], name="meeting_team_starts_idx"),
            # Staff compliance across all teams reads one period of meetings: without
            # it, a parallel scan of the whole table (1.4 s at 1,000,000 meetings).
            models.Index(fields=["starts_at"], name="meeting_starts_idx"),
            models.Index(
                fields=["agenda_sent_by"],
                condition=Q(agenda_sent_by__isnull=False),
                name="meeting_agenda_sent_by_idx",
            ),
            models.Index(
                fields=["recap_published_by"],
                condition=Q(recap_published_by__isnull=False),
                name="meeting_recap_published_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # -- derived state -------------------------------------------------------

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_date(self) -> date:
        """The meeting's day where it was scheduled: action items are due on or after it."""
        return self.starts_at.astimezone(self.zone).date()

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def status_at(self, now: datetime) -> Status:
        S = self.Status
        if self.canceled_at:
            return S.CANCELED
        if self.settled_at:
            return S.SETTLED
        if self.recap_published_at:
            return S.RECAPPED
        if now < self.starts_at:
            return S.AGENDA_SENT if self.agenda_sent_at else S.DRAFT
        if not self.agenda_sent_at:
            return S.HELD_WITHOUT_AGENDA
        if now < self.ends_at:
            return S.IN_PROGRESS
        return S.AWAITING_RECAP

    @property
    def status(self) -> Status:
        """The status as `with_status` computed it in SQL, or as of now."""
        annotated = self.__dict__.get("_annotated_status")
        if annotated is not None:
            return self.Status(annotated)
        return self.status_at(timezone.now())

    @status.setter
    def status(self, value: str) -> None:
        # Receives the `status` annotation of MeetingQuerySet.with_status().
        self.__dict__["_annotated_status"] = value

    def has_started(self, now: datetime) -> bool:
        return now >= self.starts_at

    def has_ended(self, now: datetime) -> bool:
        return now >= self.ends_at

    # -- the rules, one home each --------------------------------------------
    # Forms, views, services, the reminder sweep and the email renderer ask these
    # methods; none of them restates a condition.

    @staticmethod
    def times_problems(starts_at: datetime, ends_at: datetime) -> list[str]:
        """Rule 1, `meeting_ends_after_start` in Python, for forms and services."""
        return [] if ends_at > starts_at else [ENDS_AFTER_START]

    @staticmethod
    def working_hours_notes(
        people: Iterable[User], spans: Sequence[tuple[datetime, datetime]]
    ) -> list[str]:
        """Who would meet outside their working hours, one line each: a warning for
        the organizer, never a refusal (people do agree to an early call).

        `spans` are (start, end) pairs: one meeting, or the meetings of a series;
        each person's first clash is named, with how many meetings clash.
        """
        notes = []
        for person in people:
            clashes = [
                why for start, end in spans if (why := person.outside_working_hours(start, end))
            ]
            if not clashes:
                continue
            line = f"{person.name} ({person.city}): {clashes[0]}"
            if len(spans) > 1:
                line += f"; {len(clashes)} of {len(spans)} meetings"
            notes.append(line)
        return notes

    def accepts_due_date(self, due: date) -> bool:
        """Rule 5: an action item is due on or after the meeting's (local) day."""
        return due >= self.local_date

    def suggested_due_date(self, now: datetime) -> date:
        """What a new action item's due date starts as: the organizer's next working
        day after today, so an item written into a late recap does not start out
        overdue; never before the meeting's day (rule 5)."""
        return max(self.organizer.next_working_day(now), self.local_date)

    def agenda_closed_reason(self, now: datetime) -> str:
        """Rule 3: the agenda can change until the start, never once canceled; "" while open."""
        if self.canceled_at:
            return "This meeting is canceled."
        if self.settled_at:
            return "This meeting was settled in writing, so its agenda can no longer change."
        if self.has_started(now):
            return "The meeting has started, so its agenda can no longer change."
        return ""

    def agenda_is_open(self, now: datetime) -> bool:
        return not self.agenda_closed_reason(now)

    def recap_closed_reason(self, now: datetime) -> str:
        """The recap is drafted from the start until it is published; "" while open."""
        if self.canceled_at:
            return "A canceled meeting has no recap."
        if self.recap_published_at:
            return "The recap is already published and can no longer change."
        if not self.has_started(now):
            return "The recap opens when the meeting starts."
        return ""

    def recap_is_open(self, now: datetime) -> bool:
        return not self.recap_closed_reason(now)

    def discussion_closed_reason(self) -> str:
        """Agenda items are discussed in writing before and during the meeting, until
        it is called off or its recap is published; "" while open."""
        if self.called_off:
            return "This meeting will not take place; its agenda is closed."
        if self.recap_published_at:
            return "The recap is published; the discussion is closed."
        return ""

    def owes_agenda(self, now: datetime) -> bool:
        """No agenda went out and it still can: what agenda reminders are about."""
        return not self.agenda_sent_at and self.agenda_is_open(now)

    def owes_recap(self) -> bool:
        """Not canceled and no recap yet: what recap reminders are about (once it ended)."""
        return not self.canceled_at and not self.recap_published_at

    def needs_reminder(self, kind: str, now: datetime) -> bool:
        """Whether a reminder of `kind` about this meeting still has a purpose at `now`.

        The sweep asks before queueing a stage, and the renderer again before
        sending one, so a reminder queued before the agenda was sent (or the
        meeting canceled) is dropped instead of delivered.
        """
        if kind == Kind.AGENDA_REMINDER:
            return self.owes_recap() and self.owes_agenda(now)
        if kind == Kind.NO_AGENDA_NOTICE:
            # From the start until the end, for meetings that were announced (one
            # recorded after the fact had nobody waiting for an agenda).
            return (
                self.owes_recap()
                and not self.agenda_sent_at
                and not self.has_ended(now)
                and self.created_at < self.starts_at
            )
        return self.owes_recap()

    def asks_acknowledgement_from(self, user_id: int, *, attended: bool) -> bool:
        """Whether the recap asks this person to confirm they read it ("I have read
        this"): attendees, except whoever wrote it (the organizer, or the admin who
        published it), who would only be confirming their own words. An action-item
        owner who was not there is told their items, not asked to confirm a
        meeting they did not attend; there is no attendance to record it on."""
        return attended and user_id not in (self.organizer_id, self.recap_published_by_id)

    def can_be_changed_by(self, user: User, membership: Membership | None = None) -> bool:
        """Only the organizer and the team's admins change a meeting.

        `membership`: the user's membership of the meeting's team when the caller
        has it already (a view reads the user's memberships once per request).
        """
        if user.pk == self.organizer_id:
            return True
        if membership is None:
            membership = Membership.objects.filter(user=user, team_id=self.team_id).first()
        return (
            membership is not None and membership.team_id == self.team_id and membership.is_admin
        )

    # -- transitions ---------------------------------------------------------
    # Each locks the meeting row, re-reads it, checks every rule and then writes.
    # Rules are checked against the locked copy, not `self`, so a stale object in
    # a view cannot pass a check that the current row would fail.

    def locked(self) -> Meeting:
        """The current row, locked until the end of the transaction."""
        return Meeting.objects.select_for_update().get(pk=self.pk)

    def refresh_from(self, row: Meeting) -> None:
        """Copy the fields of `row` (usually `locked()`) onto this object."""
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(row, field.attname))

    def require_agenda_open(self, now: datetime) -> None:
        if reason := self.agenda_closed_reason(now):
            raise RuleBroken(reason)

    def require_recap_open(self, now: datetime) -> None:
        if reason := self.recap_closed_reason(now):
            raise RuleBroken(reason)

    def agenda_problems(self, now: datetime) -> list[str]:
        """Rule 2: everything that stops the agenda from going out, one message each."""
        problems = []
        if self.canceled_at:
            problems.append("This meeting is canceled.")
        elif self.has_started(now):
            problems.append(
                "The meeting has already started, so an agenda can no longer be sent; "
                "it is recorded as held without agenda."
            )
        if not self.desired_outcome.strip():
            problems.append("State the desired outcome: what should this meeting produce?")
        if not self.agenda_items.exists():
            problems.append("Add at least one agenda item.")
        return problems

    @transaction.atomic
    def send_agenda(self, *, by: User, now: datetime) -> None:
        """Rule 2: sent before the start, with a desired outcome and at least one item."""
        row = self.locked()
        problems = row.agenda_problems(now)
        if row.agenda_sent_at:
            problems.insert(0, "The agenda was already sent; amend it instead.")
        if problems:
            raise RuleBroken(problems)
        row.agenda_sent_at = now
        row.agenda_sent_by = by
        row.sequence += 1
        row.save(update_fields=["agenda_sent_at", "agenda_sent_by", "sequence"])
        self.refresh_from(row)

    @transaction.atomic
    def amend_agenda(self, *, by: User, now: datetime) -> None:
        """Rule 3: a sent agenda can change before the start; the first send time is kept."""
        row = self.locked()
        problems = row.agenda_problems(now)
        if not row.agenda_sent_at:
            problems.insert(0, "The agenda has not been sent yet; send it first.")
        if problems:
            raise RuleBroken(problems)
        row.agenda_amended_at = now
        row.sequence += 1
        row.save(update_fields=["agenda_amended_at", "sequence"])
        self.refresh_from(row)

    @transaction.atomic
    def cancel(self, *, by: User, now: datetime) -> None:
        """Rule 6: only before the start; a canceled meeting gets no recap or reminders."""
        row = self.locked()
        if row.canceled_at:
            raise RuleBroken("This meeting is already canceled.")
        if row.settled_at:
            raise RuleBroken("This meeting was settled in writing: it will not take place.")
        if row.has_started(now):
            raise RuleBroken("A meeting cannot be canceled after it started.")
        row.canceled_at = now
        row.next_reminder_at = None
        row.sequence += 1
        row.save(update_fields=["canceled_at", "next_reminder_at", "sequence"])
        self.refresh_from(row)

    def recap_problems(self, now: datetime) -> list[str]:
        """Rule 4: everything that stops the recap from being published, one message each."""
        problems = []
        if self.canceled_at:
            problems.append("A canceled meeting has no recap.")
        elif not self.has_ended(now):
            local_end = timezone.localtime(self.ends_at, self.zone)
            problems.append(
                "A recap can only be published after the meeting ends "
                f"({date_format(local_end, 'D j M, H:i')} {self.time_zone})."
            )
        return problems + self.recap_content_problems()

    def settle_problems(self, now: datetime) -> list[str]:
        """Rule 8: what stops the meeting from being settled in writing: only before the
        start, only when every agenda item is settled, only with a complete recap."""
        problems = []
        if self.canceled_at:
            problems.append("This meeting is canceled.")
        elif self.has_started(now):
            problems.append(
                "The meeting has started: it can no longer be settled in writing; "
                "publish its recap after it ends."
            )
        open_items = [item.title for item in self.agenda_items.all() if not item.is_settled]
        if open_items:
            problems.append(
                f"{len(open_items)} agenda item{'s are' if len(open_items) > 1 else ' is'} "
                f"not settled yet: {', '.join(open_items)}."
            )
        elif not self.agenda_items.exists():
            problems.append("An agenda without items has nothing to settle in writing.")
        return problems + self.recap_content_problems()

    def recap_content_problems(self) -> list[str]:
        """Rule 4's content half: a summary, and action items or the explicit flag."""
        problems = []
        if not self.recap_summary.strip():
            problems.append("Write a summary: the bottom line of what happened.")
        action_items = list(self.action_items.select_related("owner"))
        if action_items and self.no_action_items:
            problems.append(
                "You said no action items came out of this meeting, "
                f"but it has {len(action_items)}; remove them or untick that box."
            )
        elif not action_items and not self.no_action_items:
            problems.append(
                "Add at least one action item, or say that no action items came out of it."
            )
        member_ids = self.team_member_ids()
        for item in action_items:
            problems.extend(item.problems(meeting=self, member_ids=member_ids))
        return problems

    @transaction.atomic
    def publish_recap(self, *, by: User, now: datetime) -> None:
        """Rule 4: after the end, with a summary, and action items or the explicit flag."""
        row = self.locked()
        problems = row.recap_problems(now)
        if row.recap_published_at:
            problems.insert(0, "The recap was already published.")
        if problems:
            raise RuleBroken(problems)
        row.recap_published_at = now
        row.recap_published_by = by
        row.next_reminder_at = None
        row.save(update_fields=["recap_published_at", "recap_published_by", "next_reminder_at"])
        self.refresh_from(row)

    @property
    def called_off(self) -> bool:
        """It will not take place: canceled, or settled in writing (calendars get a CANCEL)."""
        return bool(self.canceled_at or self.settled_at)

    def timebox_left(self) -> tuple[int, int]:
        """(minutes still to discuss, minutes in all) of the agenda's time boxes: what
        settling items in writing saves ("25 of 45 min still to discuss")."""
        boxes = [(item.timebox_minutes or 0, item.is_settled) for item in self.agenda_items.all()]
        return sum(m for m, settled in boxes if not settled), sum(m for m, _ in boxes)

    def settle_in_writing(self, *, by: User, now: datetime) -> None:
        """Rule 8: every item settled before the start, so no meeting is needed: the
        recap is published now and the meeting gets no reminders. Cannot be undone."""
        row = self.locked()
        problems = row.settle_problems(now)
        if row.recap_published_at:
            problems.insert(0, "The recap was already published.")
        if problems:
            raise RuleBroken(problems)
        row.settled_at = row.recap_published_at = now
        row.recap_published_by = by
        row.next_reminder_at = None
        # Calendars are told it will not take place (a CANCEL with the reason).
        row.sequence += 1
        row.save(update_fields=["settled_at", "recap_published_at", "recap_published_by",
                                "next_reminder_at", "sequence"])  # fmt: skip
        self.refresh_from(row)

    def team_member_ids(self) -> set[int]:
        return set(
            Membership.objects.filter(team_id=self.team_id).values_list("user_id", flat=True)
        )
