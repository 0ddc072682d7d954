"""Changing the rest of a series: "this and following" (a split) and ending it.

Changing one meeting of a series is an ordinary meeting change
(`services.update_meeting`, `services.cancel_meeting`): its `occurrence_start`
stays, so generation never recreates it at the old time.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.db import transaction

from accounts.models import User

from .. import services
from ..models import Meeting, RuleBroken, Series, SeriesAttendee
from . import recurrence
from .generation import generate, horizon
from .templates import copy_template


def _require_change(series: Series, user: User) -> None:
    if not series.can_be_changed_by(user):
        raise PermissionError("Only the organizer and team admins change this series.")


@transaction.atomic
def split_series(
    *,
    meeting: Meeting,
    by: User,
    title: str,
    local_start: time,
    duration: timedelta,
    rrule: str,
    location: str,
    now: datetime,
) -> Series:
    """ "This and following": end the series before `meeting` and continue with a new one.

    Meetings of the old series from `meeting` on that have not started move to
    the new series when it has a meeting on the same local day (their agendas
    and attendees are kept), and are canceled otherwise, so calendars learn
    about every change.
    """
    if meeting.series_id is None:
        raise RuleBroken("This meeting is not part of a series.")
    old = Series.objects.select_for_update().get(pk=meeting.series_id)
    _require_change(old, by)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.agenda_is_open(now):
        raise RuleBroken("This meeting has already started or was canceled; pick a later one.")
    zone = zoneinfo.ZoneInfo(old.time_zone)
    split_at = meeting.occurrence_start or meeting.starts_at
    split_local = split_at.astimezone(zone).replace(tzinfo=None)
    first_start = datetime.combine(split_local.date(), local_start)
    try:
        recurrence.parse(rrule, first_start)
    except recurrence.InvalidRule as exc:
        raise RuleBroken(str(exc)) from None

    moving = list(
        Meeting.objects.select_for_update()
        .filter(series=old, occurrence_start__gte=split_at, starts_at__gt=now)
        .filter(canceled_at__isnull=True)
    )
    # The old series ends just before the split, or ends altogether when the split
    # is its first meeting.
    try:
        old.rrule = recurrence.end_before(old.rrule, old.local_first_start, split_local)
    except recurrence.InvalidRule:
        old.ended_at = now
    old.save(update_fields=["rrule", "ended_at"])

    new = Series(
        team=old.team,
        organizer=old.organizer,
        title=title,
        rrule=rrule,
        first_start=Series.floating(first_start),
        duration=duration,
        time_zone=old.time_zone,
        location=location,
        parent=old,
        created_at=now,
        generated_until=old.generated_until,
    )
    new.full_clean()
    new.save()
    SeriesAttendee.objects.bulk_create(
        SeriesAttendee(series=new, user_id=a.user_id, required=a.required)
        for a in old.attendees.all()
    )
    template = old.own_template
    if template is not None:
        copy_template(template, series=new, name=title)

    until = max(old.generated_until or now, horizon(now))
    by_day = {
        local.date(): moment
        for local, moment in recurrence.occurrences(
            rrule, first_start, old.time_zone, after=split_at - timedelta(days=1), until=until
        )
    }
    for m in moving:
        day = (m.occurrence_start or m.starts_at).astimezone(zone).date()
        moment = by_day.get(day)
        if moment is None or moment <= now:
            services.cancel_meeting(meeting=m, by=by, now=now)
            continue
        Meeting.objects.filter(pk=m.pk).update(series=new, occurrence_start=moment)
        # The rest is an ordinary change: a new version when attendees see a
        # difference, reminders follow the times, and attendees holding a sent
        # agenda get the updated invitation.
        services.update_meeting(
            meeting=m,
            by=by,
            title=title,
            starts_at=moment,
            ends_at=moment + duration,
            location=location,
            now=now,
        )
    generate(new, now=now, until=until)
    return new


@transaction.atomic
def end_series(*, series: Series, by: User, now: datetime) -> Series:
    """Stop a series: no more meetings are generated and the future ones are canceled."""
    series = Series.objects.select_for_update().get(pk=series.pk)
    _require_change(series, by)
    if series.ended_at:
        raise RuleBroken("This series has already ended.")
    series.ended_at = now
    series.save(update_fields=["ended_at"])
    for meeting in series.meetings.filter(starts_at__gt=now, canceled_at__isnull=True):
        # Through the service, so attendees who got the agenda get the cancellation.
        services.cancel_meeting(meeting=meeting, by=by, now=now)
    return series
