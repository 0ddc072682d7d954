"""Creating a series and generating its meetings up to the horizon.

Generation is idempotent twice over: it runs with the series row locked (two
beats cannot interleave on one series) and every meeting it makes is keyed by
the unique constraint `meeting_unique_series_occurrence` (series,
occurrence_start), so whatever runs twice cannot create a second meeting for
the same occurrence. Meetings are created through `services.create_meeting`,
so reminders and digests treat them exactly like single meetings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import Team, User

from .. import services
from ..models import AgendaTemplate, Meeting, RuleBroken, Series, SeriesAttendee
from . import recurrence
from .templates import apply_template, copy_template


@transaction.atomic
def create_series(
    *,
    team: Team,
    organizer: User,
    title: str,
    first_start: datetime,
    duration: timedelta,
    time_zone: str,
    rrule: str,
    location: str = "",
    attendees: Iterable[User] = (),
    optional_attendees: Iterable[User] = (),
    template: AgendaTemplate | None = None,
    parent: Series | None = None,
    now: datetime,
) -> Series:
    """Create a series and generate its meetings up to the horizon.

    `first_start` is the naive local start in `time_zone`; `rrule` must parse.
    """
    if first_start.tzinfo is not None:
        raise RuleBroken("The first start of a series is a local time without a zone.")
    try:
        recurrence.parse(rrule, first_start)
    except recurrence.InvalidRule as exc:
        raise RuleBroken(str(exc)) from None
    attendees, optional_attendees = list(attendees), list(optional_attendees)
    services.require_members(team, [organizer, *attendees, *optional_attendees], "attendee")
    if template is not None and template.team_id != team.pk:
        raise RuleBroken("That template belongs to another team.")
    series = Series(
        team=team,
        organizer=organizer,
        title=title,
        rrule=rrule,
        first_start=Series.floating(first_start),
        duration=duration,
        time_zone=time_zone,
        location=location,
        parent=parent,
        created_at=now,
    )
    series.full_clean()
    series.save()
    rows = {
        u.pk: SeriesAttendee(series=series, user=u, required=False) for u in optional_attendees
    }
    for user in attendees:
        rows[user.pk] = SeriesAttendee(series=series, user=user, required=True)
    rows.pop(organizer.pk, None)  # the organizer is always a required attendee
    SeriesAttendee.objects.bulk_create(rows.values())
    if template is not None:
        copy_template(template, series=series, name=title)
    generate(series, now=now)
    return series


def horizon(now: datetime) -> datetime:
    return now + timedelta(days=settings.SERIES_HORIZON_DAYS)


def generate(series: Series, *, now: datetime, until: datetime | None = None) -> list[Meeting]:
    """Create the meetings of `series` that start between now and the horizon.

    Safe to run any number of times, also concurrently: see the module docstring.
    Occurrences already in the past are not created (they would owe recaps for
    meetings that never happened).
    """
    until = until or horizon(now)
    with transaction.atomic():
        locked = Series.objects.select_for_update().filter(pk=series.pk).first()
        if locked is None or locked.ended_at is not None:
            return []
        found = recurrence.occurrences(
            locked.rrule, locked.local_first_start, locked.time_zone, after=now, until=until
        )
        existing = set(
            Meeting.objects.filter(
                series=locked, occurrence_start__in=[moment for _, moment in found]
            ).values_list("occurrence_start", flat=True)
        )
        wanted = [(local, moment) for local, moment in found if moment not in existing]
        invited = list(locked.attendees.select_related("user"))
        # Items fetched once for every meeting made here, not once per meeting.
        template = AgendaTemplate.objects.prefetch_related("items").filter(series=locked).first()
        created = []
        for _local, moment in wanted:
            try:
                # A savepoint per meeting: a duplicate (the constraint) undoes just this one.
                with transaction.atomic():
                    meeting = services.create_meeting(
                        team=locked.team,
                        organizer=locked.organizer,
                        title=locked.title,
                        starts_at=moment,
                        ends_at=moment + locked.duration,
                        time_zone=locked.time_zone,
                        location=locked.location,
                        attendees=[a.user for a in invited if a.required],
                        optional_attendees=[a.user for a in invited if not a.required],
                        now=now,
                    )
                    Meeting.objects.filter(pk=meeting.pk).update(
                        series=locked, occurrence_start=moment
                    )
                    meeting.series, meeting.occurrence_start = locked, moment
                    apply_template(meeting, template, by=locked.organizer)
            except IntegrityError:
                continue
            created.append(meeting)
        if locked.generated_until is None or locked.generated_until < until:
            Series.objects.filter(pk=locked.pk).update(generated_until=until)
            series.generated_until = until
    return created


def generate_due(*, now: datetime) -> int:
    """The beat task's body: top up every series whose generated horizon runs short.

    A series is touched about once a day (when less than a day of its horizon is
    left), so the task's cost follows the series that need meetings.
    """
    until = horizon(now)
    due = Series.objects.filter(
        Q(generated_until__isnull=True) | Q(generated_until__lt=until - timedelta(days=1)),
        ended_at__isnull=True,
    )
    return sum(len(generate(series, now=now, until=until)) for series in list(due))


def next_occurrence(series: Series, *, now: datetime) -> Meeting | None:
    """The next meeting of the series (or of the ones it was split from) to start."""
    return (
        series.lineage_meetings()
        .filter(starts_at__gt=now, canceled_at__isnull=True)
        .order_by("starts_at", "pk")
        .first()
    )
