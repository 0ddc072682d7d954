"""Compliance figures: how well a team keeps the agenda-before / recap-after rule.

Every figure is counted by the database in a few grouped aggregate queries, so
the number of queries does not grow with the number of meetings, teams or
organizers. Python only divides the counts into percentages.

Definitions (one place, so the admin dashboard and the team page agree):

- *the period's meetings*: not canceled, started (or due to start) inside the
  period, and either already ended by `now` (*held*) or *settled in writing*
  (every item resolved before the start, so the meeting did not take place).
- *held*: the period's meetings that took place (not settled in writing).
  Meetings held without agenda count (they are the violations).
- *agenda before start*: held meetings whose agenda was sent (the database
  guarantees a sent agenda was sent before the start). A meeting settled in
  writing was not held, so it is neither held with nor without an agenda.
- *lead time*: the agenda went out at least the team's agenda lead time ahead.
- *recapped within grace*: out of the meetings whose recap is judged (the grace
  period is over, or the recap is already out), those recapped no later than
  end + grace. A meeting still inside its grace period is not yet late. A meeting
  settled in writing had its recap published before its start: on time.
- *median time to recap*: from the end to the recap, over recapped held meetings
  (a meeting settled in writing has no end to measure from).
- *action items done by due date*: items of the period's meetings (held or
  settled in writing) that are judged (done,
  or their due date has passed); done ones count when completed on or before
  the due date (UTC calendar day, so the figure does not depend on who looks).
- *action items done by their first due date*: the same, measured against the
  due date each item was first given (`original_due_date`, else `due_date`), so
  moving a date does not make a late item on time: judged when done or when that
  first date has passed; counted when completed on or before it (UTC day).
- *re-dated at least once*: the share of the period's meetings' action items whose
  due date was moved at least once.
  These action item figures are also given per owner (grouped by the item's
  current owner) and in the weekly trend (by the week of the item's meeting).
- *acknowledged by all*: recapped meetings where every attendee other than the
  organizer (the author) has acknowledged the recap.

"Could this have been an e-mail?" (issue 14). *Attendees* are a meeting's
attendees (the organizer is one) except those who declined (RSVP "no").

- *person-hours in meetings*: attendees × duration (start to end, as shortened),
  over the held meetings.
- *saved by settling in writing*: attendees × the time the meeting was still
  booked for (start to planned end) when it was settled in writing.
- *saved by shortening*: attendees × the minutes taken off its end by shortening
  it to the time boxes left, over the period's meetings (a meeting shortened and
  later settled counts each part once: the total saved is its full planned time).
- *recaps with no decisions or action items*: out of the period's meetings with a
  published recap, those whose recap has no decision and no action item.
- *only discussed*: held meetings with at least one agenda item whose every item's
  outcome is "discussed".
- *items settled in writing*: agenda items of the period's meetings settled in
  writing before the start (of meetings later held or settled alike).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncDate, TruncWeek

from ..models import ActionItem, AgendaItem, Attendee, Decision, Meeting, Outcome

TREND_WEEKS = 12

# Group keys: the field the figures are grouped by, and the fields naming it.
BY_TEAM = ("team_id", ("team__name",))
BY_ORGANIZER = ("organizer_id", ("organizer__display_name", "organizer__email"))
BY_OWNER = ("owner_id", ("owner__display_name", "owner__email"))
BY_SERIES = ("series_id", ("series__title",))

# Sums of person-time the database returns as durations; Figures keeps minutes.
PERSON_TIME_SUMS = ("person_minutes_held", "person_minutes_settled")


class Median(Aggregate):
    """PostgreSQL's `percentile_cont(0.5) WITHIN GROUP (ORDER BY ...)`: the true median."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"


def _time_to_recap() -> ExpressionWrapper:
    return ExpressionWrapper(F("recap_published_at") - F("ends_at"), output_field=DurationField())


def duration_text(span: timedelta) -> str:
    """A short human reading of a duration: "3 days 4 h", "5 h 20 min", "12 min"."""
    minutes = round(abs(span).total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        text = f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    elif hours:
        text = f"{hours} h" + (f" {minutes} min" if minutes else "")
    else:
        text = f"{minutes} min"
    return text


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


@dataclass
class Figures:
    """The counts for one group (a team, an organizer, a week, or everything)."""

    key: object = None
    label: str = ""
    held: int = 0
    agenda_sent: int = 0
    agenda_on_lead: int = 0
    recap_judged: int = 0
    recap_in_grace: int = 0
    recapped: int = 0
    acknowledged_by_all: int = 0
    actions_judged: int = 0
    actions_done_on_time: int = 0
    actions: int = 0
    actions_first_judged: int = 0
    actions_done_by_first_due: int = 0
    actions_redated: int = 0
    median_to_recap: timedelta | None = None
    # "Could this have been an e-mail?"
    settled: int = 0
    person_minutes_held: int = 0
    person_minutes_settled: int = 0
    person_minutes_shortened: int = 0
    empty_recaps: int = 0
    only_discussed: int = 0
    items_settled: int = 0

    @property
    def median_to_recap_text(self) -> str:
        return "" if self.median_to_recap is None else duration_text(self.median_to_recap)

    @property
    def agenda_before_start_pct(self) -> float | None:
        return _pct(self.agenda_sent, self.held)

    @property
    def agenda_lead_time_pct(self) -> float | None:
        return _pct(self.agenda_on_lead, self.held)

    @property
    def recapped_in_grace_pct(self) -> float | None:
        return _pct(self.recap_in_grace, self.recap_judged)

    @property
    def actions_on_time_pct(self) -> float | None:
        return _pct(self.actions_done_on_time, self.actions_judged)

    @property
    def actions_by_first_due_pct(self) -> float | None:
        return _pct(self.actions_done_by_first_due, self.actions_first_judged)

    @property
    def actions_redated_pct(self) -> float | None:
        return _pct(self.actions_redated, self.actions)

    @property
    def acknowledged_pct(self) -> float | None:
        return _pct(self.acknowledged_by_all, self.recapped)

    @property
    def empty_recap_pct(self) -> float | None:
        return _pct(self.empty_recaps, self.recapped)

    def _hours(self, minutes: int) -> float | None:
        """Person-hours, one decimal; None for a group (a week) without meetings."""
        return None if not (self.held or self.settled) else round(minutes / 60, 1)

    @property
    def person_hours_held(self) -> float | None:
        return self._hours(self.person_minutes_held)

    @property
    def person_hours_saved_settling(self) -> float | None:
        return self._hours(self.person_minutes_settled)

    @property
    def person_hours_saved_shortening(self) -> float | None:
        return self._hours(self.person_minutes_shortened)

    @property
    def person_hours_saved(self) -> float | None:
        return self._hours(self.person_minutes_settled + self.person_minutes_shortened)


@dataclass
class Report:
    start: date
    end: date  # inclusive, the last day of the period
    total: Figures
    teams: list[Figures] = field(default_factory=list)
    organizers: list[Figures] = field(default_factory=list)
    owners: list[Figures] = field(default_factory=list)  # action item figures only
    series: list[Figures] = field(default_factory=list)  # meetings of a series only
    trend: list[Figures] = field(default_factory=list)


def period_meetings(meetings: QuerySet[Meeting], start: datetime, end: datetime, now: datetime):
    """The meetings judged for [start, end): not canceled, started in the period, and
    either ended by now (held) or settled in writing (their recap is already out)."""
    return meetings.filter(
        Q(ends_at__lte=now) | Q(settled_at__isnull=False),
        canceled_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=end,
    )


# Of the period's meetings: the ones that took place, and the ones settled in writing.
TOOK_PLACE = Q(settled_at__isnull=True)
SETTLED = Q(settled_at__isnull=False)


def _count_per_meeting(rows: QuerySet) -> Coalesce:
    """How many of `rows` (filtered on `meeting=OuterRef("pk")`) each meeting has: a
    correlated subquery, so it can be summed inside a grouped aggregate."""
    counted = rows.order_by().values("meeting").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _meeting_aggregates(now: datetime, *, median: bool = True) -> dict:
    grace_over = Q(ends_at__lte=now - F("team__recap_grace"))
    recapped = Q(recap_published_at__isnull=False)
    unacknowledged = Attendee.objects.filter(
        meeting=OuterRef("pk"), acknowledged_at__isnull=True
    ).exclude(user=OuterRef("organizer_id"))
    # Who spends (or would have spent) the time: everyone but those who declined.
    attendees = _count_per_meeting(
        Attendee.objects.filter(meeting=OuterRef("pk")).exclude(rsvp=Attendee.Rsvp.NO)
    )
    person_time = ExpressionWrapper(
        attendees * (F("ends_at") - F("starts_at")), output_field=DurationField()
    )
    items = AgendaItem.objects.filter(meeting=OuterRef("pk"))
    aggregates = {
        "held": Count("pk", filter=TOOK_PLACE),
        "settled": Count("pk", filter=SETTLED),
        "agenda_sent": Count("pk", filter=TOOK_PLACE & Q(agenda_sent_at__isnull=False)),
        "agenda_on_lead": Count(
            "pk",
            filter=TOOK_PLACE
            & Q(agenda_sent_at__lte=F("starts_at") - F("team__agenda_lead_time")),
        ),
        # Settled in writing: recapped (before the start), so judged and on time.
        "recap_judged": Count("pk", filter=grace_over | recapped),
        "recap_in_grace": Count(
            "pk", filter=Q(recap_published_at__lte=F("ends_at") + F("team__recap_grace"))
        ),
        "recapped": Count("pk", filter=recapped),
        "acknowledged_by_all": Count("pk", filter=recapped & ~Exists(unacknowledged)),
        "person_minutes_held": Sum(person_time, filter=TOOK_PLACE),
        "person_minutes_settled": Sum(person_time, filter=SETTLED),
        # PostgreSQL evaluates a FILTER before the aggregate's argument: the attendee
        # subquery runs only for the few meetings that were shortened.
        "person_minutes_shortened": Sum(
            attendees * F("shortened_minutes"), filter=Q(shortened_minutes__gt=0)
        ),
        "empty_recaps": Count(
            "pk",
            filter=recapped
            & ~Exists(Decision.objects.filter(meeting=OuterRef("pk")))
            & ~Exists(ActionItem.objects.filter(meeting=OuterRef("pk"))),
        ),
        "only_discussed": Count(
            "pk",
            filter=TOOK_PLACE & Exists(items) & ~Exists(items.exclude(outcome=Outcome.DISCUSSED)),
        ),
        "items_settled": Sum(_count_per_meeting(items.filter(settled_at__isnull=False))),
    }
    if median and connection.vendor == "postgresql":
        aggregates["median_to_recap"] = Median(_time_to_recap(), filter=recapped & TOOK_PLACE)
    return aggregates


def _minutes(row: dict) -> dict:
    """Sums come back as None for no rows, durations as timedeltas: whole minutes."""
    for name in PERSON_TIME_SUMS:
        span = row.get(name)
        row[name] = 0 if span is None else round(span.total_seconds() / 60)
    for name in ("person_minutes_shortened", "items_settled"):
        if name in row:
            row[name] = row[name] or 0
    return row


def _action_aggregates(today: date) -> dict:
    """Over `_items()`: the action item figures of one group."""
    done = Q(status=ActionItem.Status.DONE)
    return {
        "actions_judged": Count("pk", filter=done | Q(due_date__lt=today)),
        "actions_done_on_time": Count("pk", filter=done & Q(completed_day__lte=F("due_date"))),
        "actions": Count("pk"),
        "actions_first_judged": Count("pk", filter=done | Q(first_due__lt=today)),
        "actions_done_by_first_due": Count(
            "pk", filter=done & Q(completed_day__lte=F("first_due"))
        ),
        "actions_redated": Count("pk", filter=Q(redated_count__gt=0)),
    }


def _items(held: QuerySet[Meeting]) -> QuerySet[ActionItem]:
    """The action items of the period's meetings, with the UTC day each was completed and
    the due date it was first given (`ActionItem.first_due_date`, in the database)."""
    return (
        ActionItem.objects.filter(meeting__in=held.values("pk"))
        .annotate(
            completed_day=TruncDate("completed_at", tzinfo=UTC),
            first_due=Coalesce("original_due_date", "due_date"),
        )
        .order_by()
    )


def median_by_window(held: QuerySet[Meeting], key: str) -> dict[object, timedelta]:
    """The median time to recap per group without `percentile_cont` (SQLite).

    Still one query whatever the number of rows: window functions number the
    recapped meetings of each group in order of their time to recap, and only the
    one or two middle rows of each group come back; their mean is the median.
    """
    partition = F(key) if key else None
    ordered = (
        held.filter(TOOK_PLACE, recap_published_at__isnull=False)
        .annotate(
            to_recap=_time_to_recap(),
            position=Window(RowNumber(), partition_by=partition, order_by=_time_to_recap().asc()),
            group_size=Window(Count("pk"), partition_by=partition),
        )
        .filter(Q(position=(F("group_size") + 1) / 2) | Q(position=(F("group_size") + 2) / 2))
    )
    middles: dict[object, list[timedelta]] = defaultdict(list)
    for group, to_recap in ordered.values_list(key or "team_id", "to_recap"):
        middles[group if key else None].append(to_recap)
    return {group: sum(values, timedelta()) / len(values) for group, values in middles.items()}


def _grouped(
    held: QuerySet[Meeting],
    group: tuple[str, tuple[str, ...]] | None,
    now: datetime,
    *,
    actions: bool = True,
) -> list[Figures]:
    """Figures per group (or one row for everything when `group` is None); without
    the action item figures (one query fewer) when `actions` is False."""
    key, label_fields = group if group else ("", ())
    meeting_rows = held.order_by()
    if key:
        meeting_rows = meeting_rows.values(key, *label_fields)
    rows = (
        meeting_rows.annotate(**_meeting_aggregates(now)).order_by(*label_fields)
        if key
        else [meeting_rows.aggregate(**_meeting_aggregates(now))]
    )
    items = _items(held)
    if not actions:
        action_counts = {}
    elif key:
        action_counts = {
            row.pop("group"): row
            for row in items.values(group=F(f"meeting__{key}")).annotate(
                **_action_aggregates(now.date())
            )
        }
    else:
        action_counts = {None: items.aggregate(**_action_aggregates(now.date()))}
    medians = {} if connection.vendor == "postgresql" else median_by_window(held, key)

    result = []
    for row in rows:
        group_key = row.pop(key) if key else None
        labels = [row.pop(name) for name in label_fields]
        figures = Figures(key=group_key, label=next((x for x in labels if x), ""), **_minutes(row))
        for name, value in action_counts.get(group_key, {}).items():
            setattr(figures, name, value or 0)
        if group_key in medians:
            figures.median_to_recap = medians[group_key]
        result.append(figures)
    return result


def _by_owner(held: QuerySet[Meeting], now: datetime) -> list[Figures]:
    """Action item figures per owner of the held meetings' items: one query."""
    key, label_fields = BY_OWNER
    rows = (
        _items(held)
        .values(key, *label_fields)
        .annotate(**_action_aggregates(now.date()))
        .order_by(*label_fields)
    )
    result = []
    for row in rows:
        group_key = row.pop(key)
        labels = [row.pop(name) for name in label_fields]
        result.append(Figures(key=group_key, label=next((x for x in labels if x), ""), **row))
    return result


def _trend(meetings: QuerySet[Meeting], last_day: date, now: datetime) -> list[Figures]:
    """Weekly figures (Monday-based, UTC) for at most TREND_WEEKS weeks up to `last_day`,
    from the first of them with a meeting held or settled in writing (a young team's
    trend would otherwise be eleven empty weeks and one point); none without any."""
    last_monday = last_day - timedelta(days=last_day.weekday())
    first_monday = last_monday - timedelta(weeks=TREND_WEEKS - 1)
    start = datetime.combine(first_monday, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last_monday + timedelta(weeks=1), datetime.min.time(), tzinfo=UTC)
    held = period_meetings(meetings, start, end, now).annotate(
        week=TruncWeek("starts_at", tzinfo=UTC)
    )
    # The trend shows no median: the database need not sort each week's recaps.
    aggregates = _meeting_aggregates(now, median=False)
    by_week = {
        row.pop("week").date(): _minutes(row)
        for row in held.order_by().values("week").annotate(**aggregates)
    }
    if not by_week:
        return []
    # The action items of those meetings, by the week of their meeting.
    actions_by_week = {
        row.pop("week").date(): row
        for row in _items(held)
        .values(week=TruncWeek("meeting__starts_at", tzinfo=UTC))
        .annotate(**_action_aggregates(now.date()))
    }
    # Empty weeks after the first with meetings stay: they are gaps in the trend.
    first = min(by_week)
    weeks = []
    for n in range((last_monday - first).days // 7 + 1):
        monday = first + timedelta(weeks=n)
        row = by_week.get(monday, {}) | actions_by_week.get(monday, {})
        weeks.append(Figures(key=monday, label=monday.isoformat(), **row))
    return weeks


def compliance_report(
    meetings: QuerySet[Meeting], *, start: date, end: date, now: datetime
) -> Report:
    """Figures for the meetings in `meetings` held (or settled in writing) from
    `start` to `end` (both inclusive).

    `meetings` is the caller's scope: all meetings for staff, one team's for its
    admins. A constant number of queries (about ten), whatever the row count.
    """
    period_start = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    period_end = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    held = period_meetings(meetings, period_start, period_end, now)
    return Report(
        start=start,
        end=end,
        total=_grouped(held, None, now)[0],
        teams=_grouped(held, BY_TEAM, now),
        organizers=_grouped(held, BY_ORGANIZER, now),
        owners=_by_owner(held, now),
        # Only the "could this have been an e-mail?" figures are shown per series.
        series=_grouped(held.filter(series__isnull=False), BY_SERIES, now, actions=False),
        trend=_trend(meetings, end, now),
    )
