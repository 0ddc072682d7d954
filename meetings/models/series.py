"""Recurring meetings: the series, its invitees, agenda templates and carried-over items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Team, User, validate_time_zone

from .action_item import ActionItem
from .meeting import Meeting, MeetingQuerySet
from .parts import AgendaItem, titled_and_timeboxed


class Series(models.Model):
    """A recurring meeting: an RFC 5545 RRULE anchored at a local time in an IANA zone.

    Stored as wall-clock time plus zone (not UTC) so that a weekly 09:00 stays
    09:00 local across DST changes when it is expanded with dateutil.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="series")
    organizer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    rrule = models.TextField(help_text="RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=TU,TH")
    first_start = models.DateTimeField(help_text="Local start of the first occurrence (naive).")
    duration = models.DurationField()
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    location = models.CharField(max_length=500, blank=True)
    generated_until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # "This and following" splits a series: the new part points at the old one,
    # so carry-over and the series page follow the whole history.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="continuations"
    )

    class Meta:
        verbose_name_plural = "series"
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(rrule=""),
                name="series_rrule_not_blank",
                violation_error_message="A series needs a recurrence rule.",
            ),
            models.CheckConstraint(
                condition=Q(duration__gt=timedelta(0)),
                name="series_duration_positive",
                violation_error_message="A meeting must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def local_first_start(self) -> datetime:
        """The naive local start of the first occurrence.

        `first_start` is a DateTimeField and the project runs with USE_TZ, so the
        wall-clock time is stored tagged as UTC (a "floating" time, like a DTSTART
        without TZID); `time_zone` says where it is. Read it through this property
        and write it through `floating()`.
        """
        return self.first_start.astimezone(UTC).replace(tzinfo=None)

    @staticmethod
    def floating(local: datetime) -> datetime:
        """How the naive local `local` is stored in `first_start`."""
        return local.replace(tzinfo=UTC)

    def can_be_changed_by(self, user: User) -> bool:
        """Only the series' organizer and the team's admins change a series."""
        if user.pk == self.organizer_id:
            return True
        return Membership.objects.admins().filter(user=user, team_id=self.team_id).exists()

    def lineage_ids(self) -> list[int]:
        """This series and the ones it was split from, newest first."""
        ids, seen = [], set()
        current: Series | None = self
        while current is not None and current.pk not in seen:
            ids.append(current.pk)
            seen.add(current.pk)
            current = current.parent
        return ids

    def lineage_meetings(self) -> MeetingQuerySet:
        """The meetings of this series and of the ones it was split from."""
        return Meeting.objects.filter(series_id__in=self.lineage_ids())

    def upcoming_meetings(self, now: datetime) -> MeetingQuerySet:
        """The meetings still to come, canceled ones included, soonest first.

        The series page lists exactly these and "N meetings are scheduled" counts
        those of them not canceled, so the two always agree.
        """
        return self.lineage_meetings().filter(starts_at__gt=now).order_by("starts_at", "pk")

    @property
    def own_template(self) -> AgendaTemplate | None:
        """The series' own agenda template, if it has one."""
        try:
            return self.template
        except AgendaTemplate.DoesNotExist:
            return None


class AgendaTemplate(models.Model):
    """Standing agenda items with time boxes that a new meeting's agenda starts from.

    A team keeps a library of templates (`series` empty); a series has its own
    copy (`series` set), taken from a team template when the series is created
    and editable without touching the team's.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="agenda_templates")
    series = models.OneToOneField(
        Series, null=True, blank=True, on_delete=models.CASCADE, related_name="template"
    )
    name = models.CharField(max_length=200)
    desired_outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="agenda_template_name_not_blank",
                violation_error_message="A template needs a name.",
            ),
            models.UniqueConstraint(
                fields=["team", "name"],
                condition=Q(series__isnull=True),
                name="agenda_template_unique_team_name",
                violation_error_message="The team already has a template with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def can_be_changed_by(self, user: User) -> bool:
        """The team's library is shared: any member may edit its templates (the
        queryset already stopped outsiders); a series' own copy is the series'
        business (its organizer and the team's admins)."""
        if self.series_id:
            return self.series.can_be_changed_by(user)
        return True


class TemplateItem(models.Model):
    template = models.ForeignKey(AgendaTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    timebox_minutes = models.PositiveSmallIntegerField("time box (minutes)", null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["template", "position", "pk"]
        constraints = titled_and_timeboxed("template_item", "A standing item needs a title.")

    def __str__(self) -> str:
        return self.title


class CarriedAction(models.Model):
    """An open action item brought into a later meeting of its series.

    The agenda item is what people see and edit; this row ties it to the action
    item and is the idempotency key of carry-over: one per (meeting, action item).
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="carried_actions")
    action_item = models.ForeignKey(
        ActionItem, on_delete=models.CASCADE, related_name="carried_into"
    )
    agenda_item = models.OneToOneField(
        AgendaItem, on_delete=models.CASCADE, related_name="carried_action"
    )
    slipped_count = models.PositiveSmallIntegerField(default=1)
    # Carried as declined by its owner ("Reassign: ..."), not as a follow-up.
    to_reassign = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["meeting", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "action_item"],
                name="carried_action_once_per_meeting",
                violation_error_message="This action item is already carried into the meeting.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action_item} into {self.meeting}"


class SeriesAttendee(models.Model):
    """Who is invited to every meeting a series generates (the organizer always is)."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["series", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "user"],
                name="series_attendee_unique",
                violation_error_message="This person is already invited to the series.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.series}"
