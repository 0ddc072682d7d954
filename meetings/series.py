"""Recurring meetings: create a series, generate its meetings, edit and split it, carry over.

Generation is idempotent twice over: it runs with the series row locked (two
beats cannot interleave on one series) and every meeting it makes is keyed by
the unique constraint `meeting_unique_series_occurrence` (series,
occurrence_start), so whatever runs twice cannot create a second meeting for
the same occurrence. Meetings are created through `services.create_meeting`,
so reminders and digests treat them exactly like single meetings.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.formats import date_format

from accounts.models import Membership, Team, User

from . import recurrence, services
from .models import (
    ActionItem,
    AgendaItem,
    AgendaTemplate,
    CarriedAction,
    Meeting,
    RuleBroken,
    Series,
    SeriesAttendee,
    TemplateItem,
)


def can_change(series: Series, user: User) -> bool:
    """Only the series' organizer and the team's admins change a series."""
    if user.pk == series.organizer_id:
        return True
    return Membership.objects.admins().filter(user=user, team_id=series.team_id).exists()


def _require_change(series: Series, user: User) -> None:
    if not can_change(series, user):
        raise PermissionError("Only the organizer and team admins change this series.")


def template_of(series: Series) -> AgendaTemplate | None:
    try:
        return series.template
    except AgendaTemplate.DoesNotExist:
        return None


def first_local(series: Series) -> datetime:
    """The naive local start of the first occurrence.

    `Series.first_start` is a DateTimeField and the project runs with USE_TZ, so
    the wall-clock time is stored tagged as UTC (a "floating" time, like a
    DTSTART without TZID); `time_zone` says where it is. Read and write it only
    through `first_local` / `stored_first_start`.
    """
    return series.first_start.astimezone(UTC).replace(tzinfo=None)


def stored_first_start(local: datetime) -> datetime:
    return local.replace(tzinfo=UTC)


def lineage_ids(series: Series) -> list[int]:
    """This series and the ones it was split from, newest first."""
    ids, seen = [], set()
    current: Series | None = series
    while current is not None and current.pk not in seen:
        ids.append(current.pk)
        seen.add(current.pk)
        current = current.parent
    return ids


def series_meetings(series: Series):
    return Meeting.objects.filter(series_id__in=lineage_ids(series))


# -- templates -------------------------------------------------------------


@transaction.atomic
def copy_template(
    template: AgendaTemplate, *, series: Series | None = None, name: str | None = None
) -> AgendaTemplate:
    """A copy of `template` (for a series, or a new team template)."""
    copy = AgendaTemplate.objects.create(
        team=template.team if series is None else series.team,
        series=series,
        name=name or template.name,
        desired_outcome=template.desired_outcome,
    )
    TemplateItem.objects.bulk_create(
        TemplateItem(
            template=copy,
            position=item.position,
            title=item.title,
            timebox_minutes=item.timebox_minutes,
            notes=item.notes,
        )
        for item in template.items.all()
    )
    return copy


def apply_template(meeting: Meeting, template: AgendaTemplate | None, *, by: User) -> int:
    """Start an empty agenda from `template`. A meeting that already has items is left alone."""
    if template is None or meeting.agenda_items.exists():
        return 0
    if template.desired_outcome and not meeting.desired_outcome:
        Meeting.objects.filter(pk=meeting.pk).update(desired_outcome=template.desired_outcome)
        meeting.desired_outcome = template.desired_outcome
    items = [
        AgendaItem(
            meeting=meeting,
            position=n,
            title=item.title,
            timebox_minutes=item.timebox_minutes,
            notes=item.notes,
            added_by=by,
        )
        for n, item in enumerate(template.items.all())
    ]
    AgendaItem.objects.bulk_create(items)
    return len(items)


# -- creating and generating -------------------------------------------------


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
    services._require_members(team, [organizer, *attendees, *optional_attendees], "attendee")
    if template is not None and template.team_id != team.pk:
        raise RuleBroken("That template belongs to another team.")
    series = Series(
        team=team,
        organizer=organizer,
        title=title,
        rrule=rrule,
        first_start=stored_first_start(first_start),
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
            locked.rrule, first_local(locked), locked.time_zone, after=now, until=until
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


# -- changing one meeting or the rest of the series ---------------------------


def _require_not_started(meeting: Meeting, now: datetime) -> None:
    if meeting.canceled_at:
        raise RuleBroken("This meeting is canceled.")
    if now >= meeting.starts_at:
        raise RuleBroken("This meeting has already started; it can no longer be changed.")


@transaction.atomic
def edit_occurrence(
    *,
    meeting: Meeting,
    by: User,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    now: datetime,
) -> Meeting:
    """Change this meeting only. `occurrence_start` is kept, so it stays the same
    instance and a later generation does not recreate it."""
    row = meeting._locked()
    if not row.can_be_changed_by(by):
        raise PermissionError("Only the organizer and team admins change this meeting.")
    _require_not_started(row, now)
    if now >= starts_at:
        raise RuleBroken("Pick a start in the future.")
    # The same change as on the meeting page: new version, reminders follow the
    # times, and attendees holding a sent invitation get the updated one.
    return services.update_meeting(
        meeting=meeting,
        by=by,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        now=now,
    )


@transaction.atomic
def cancel_occurrence(*, meeting: Meeting, by: User, now: datetime) -> Meeting:
    """Cancel one meeting of a series; its row stays, so it is never generated again."""
    if not meeting.can_be_changed_by(by):
        raise PermissionError("Only the organizer and team admins change this meeting.")
    return services.cancel_meeting(meeting=meeting, by=by, now=now)


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
    _require_not_started(meeting, now)
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
        old.rrule = recurrence.end_before(old.rrule, first_local(old), split_local)
    except recurrence.InvalidRule:
        old.ended_at = now
    old.save(update_fields=["rrule", "ended_at"])

    new = Series(
        team=old.team,
        organizer=old.organizer,
        title=title,
        rrule=rrule,
        first_start=stored_first_start(first_start),
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
    template = template_of(old)
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


# -- carry-over ------------------------------------------------------------


def _truncate(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


@transaction.atomic
def carry_over(meeting: Meeting, *, now: datetime) -> list[AgendaItem]:
    """Bring open action items and last recap's deferred items into `meeting`'s agenda.

    Idempotent: call it whenever the agenda is opened or started. Deferred items
    are matched by `carried_from`, action items by the unique CarriedAction
    row, so a second call adds only what is new. Carried action items that were
    completed since are taken off again. Once the agenda is sent or the meeting
    started, the agenda is left alone (attendees already have it).
    """
    row = Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    if (
        row is None
        or row.series_id is None
        or row.agenda_sent_at
        or row.canceled_at
        or now >= row.starts_at
    ):
        return []
    earlier = Meeting.objects.filter(
        series_id__in=lineage_ids(row.series),
        starts_at__lt=row.starts_at,
        canceled_at__isnull=True,
    )
    position = (row.agenda_items.aggregate(m=Max("position"))["m"] or 0) + 1
    added: list[AgendaItem] = []

    last_recap = (
        earlier.filter(recap_published_at__isnull=False).order_by("-starts_at", "-pk").first()
    )
    if last_recap is not None:
        done = set(
            row.agenda_items.filter(carried_from__isnull=False).values_list(
                "carried_from_id", flat=True
            )
        )
        for item in last_recap.agenda_items.filter(outcome=AgendaItem.Outcome.DEFERRED):
            if item.pk in done:
                continue
            added.append(
                AgendaItem(
                    meeting=row,
                    position=position,
                    title=item.title,
                    owner_id=item.owner_id,
                    timebox_minutes=item.timebox_minutes,
                    notes=item.notes,
                    added_by_id=item.added_by_id,
                    carried_from=item,
                    slipped_count=item.slipped_count + 1,
                    created_at=now,
                )
            )
            position += 1

    carried = {c.action_item_id: c for c in row.carried_actions.select_related("action_item")}
    # Completed since it was carried: the follow-up is no longer needed.
    stale = [c.agenda_item_id for c in carried.values() if c.action_item.status != "open"]
    if stale:
        AgendaItem.objects.filter(pk__in=stale).delete()
    open_items = list(
        ActionItem.objects.open()
        .filter(meeting__in=earlier)
        .exclude(pk__in=list(carried))
        .select_related("meeting")
        .order_by("meeting__starts_at", "due_date", "pk")
    )
    slipped_before = {
        c["action_item_id"]: c["most"]
        for c in CarriedAction.objects.filter(
            action_item__in=open_items, meeting__starts_at__lt=row.starts_at
        )
        .values("action_item_id")
        .annotate(most=Max("slipped_count"))
    }
    follow_ups = []
    for action in open_items:
        slipped = slipped_before.get(action.pk, 0) + 1
        origin = action.meeting
        agenda_item = AgendaItem(
            meeting=row,
            position=position,
            title=_truncate(f"Follow up: {action.description}", 200),
            owner_id=action.owner_id,
            notes=(
                f"Open action item from {origin.title} on "
                f"{date_format(origin.local_date, 'D j M Y')}, "
                f"due {date_format(action.due_date, 'D j M Y')}."
            ),
            slipped_count=slipped,
            created_at=now,
        )
        position += 1
        added.append(agenda_item)
        follow_ups.append((action, agenda_item, slipped))
    AgendaItem.objects.bulk_create(added)
    CarriedAction.objects.bulk_create(
        CarriedAction(meeting=row, action_item=action, agenda_item=item, slipped_count=slipped)
        for action, item, slipped in follow_ups
    )
    return added


def next_occurrence(series: Series, *, now: datetime) -> Meeting | None:
    return (
        series_meetings(series)
        .filter(starts_at__gt=now, canceled_at__isnull=True)
        .order_by("starts_at", "pk")
        .first()
    )


def carry_over_recent(*, now: datetime, since: timedelta = timedelta(days=1)) -> int:
    """Prepare the next agenda of every series whose recap was published lately.

    Run by the beat task, so an organizer who opens the next meeting from any
    page finds the carried-over items already there. Idempotent like `carry_over`.
    """
    series_ids = (
        Meeting.objects.filter(
            series__isnull=False, recap_published_at__gte=now - since, series__ended_at=None
        )
        .values_list("series_id", flat=True)
        .distinct()
    )
    added = 0
    for series in Series.objects.filter(pk__in=list(series_ids)):
        upcoming = next_occurrence(series, now=now)
        if upcoming is not None:
            added += len(carry_over(upcoming, now=now))
    return added
