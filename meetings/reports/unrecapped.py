"""The staff dashboard's list of meetings that owe a recap: query, filters and CSV."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

from django import forms
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from accounts.models import Team, User

from ..models import Meeting, Notification
from .compliance import duration_text

RECAP_REMINDER_KINDS = [Notification.Kind.RECAP_REMINDER, Notification.Kind.RECAP_ESCALATION]
PAGE_SIZE = 50
# Overdue is measured from the recap's due time: end + the team's grace period.
BUCKETS = [
    ("due", "Not due yet (within grace)"),
    ("lt1", "Overdue < 1 day"),
    ("1to3", "Overdue 1–3 days"),
    ("gt3", "Overdue > 3 days"),
]
SORTS = [("overdue", "Most overdue first"), ("-overdue", "Least overdue first")]


class UnrecappedFilterForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="All")
    organizer = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="All"
    )
    overdue = forms.ChoiceField(choices=[("", "All"), *BUCKETS], required=False)
    o = forms.ChoiceField(label="Sort", choices=SORTS, required=False)

    def __init__(self, *args, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only people who owe a recap: a short list, found through the partial index.
        self.fields["organizer"].queryset = User.objects.filter(
            pk__in=Meeting.objects.awaiting_recap(now).values("organizer_id")
        ).order_by("display_name", "email")


def unrecapped_meetings(
    now: datetime,
    *,
    team: Team | None = None,
    organizer: User | None = None,
    overdue: str = "",
    sort: str = "overdue",
) -> QuerySet[Meeting]:
    """Ended, not canceled, no recap; with due time and reminders already sent.

    The reminder counts come from correlated subqueries in the same SELECT, so a
    page costs the same number of queries however many rows it shows.
    """
    sent = Notification.objects.filter(
        meeting=OuterRef("pk"), kind__in=RECAP_REMINDER_KINDS, state=Notification.State.SENT
    ).order_by()
    meetings = (
        Meeting.objects.awaiting_recap(now)
        .select_related("team", "organizer")
        .annotate(
            due_at=ExpressionWrapper(
                F("ends_at") + F("team__recap_grace"), output_field=DateTimeField()
            ),
            reminders_sent=Coalesce(
                Subquery(
                    sent.values("meeting").annotate(n=Count("pk")).values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            last_reminder_at=Subquery(sent.order_by("-sent_at").values("sent_at")[:1]),
        )
    )
    if team is not None:
        meetings = meetings.filter(team=team)
    if organizer is not None:
        meetings = meetings.filter(organizer=organizer)
    day = timedelta(days=1)
    bucket_filters = {
        "due": {"due_at__gt": now},
        "lt1": {"due_at__lte": now, "due_at__gt": now - day},
        "1to3": {"due_at__lte": now - day, "due_at__gt": now - 3 * day},
        "gt3": {"due_at__lte": now - 3 * day},
    }
    if overdue in bucket_filters:
        meetings = meetings.filter(**bucket_filters[overdue])
    # The earlier the due time, the more overdue.
    order = ["due_at", "pk"] if sort != "-overdue" else ["-due_at", "-pk"]
    return meetings.order_by(*order)


def overdue_text(meeting: Meeting, now: datetime) -> str:
    if meeting.due_at > now:
        return f"not yet (due in {duration_text(meeting.due_at - now)})"
    return duration_text(now - meeting.due_at)


# What makes a spreadsheet read a cell as a formula (OWASP's list), with the
# full-width forms some spreadsheets fold into them, and the characters that
# start a new line or cell when leading.
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula, even
    after leading spaces, gets a leading apostrophe. Every column goes through it."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(meetings: QuerySet[Meeting], now: datetime) -> StreamingHttpResponse:
    header = ["meeting", "team", "organizer", "organizer email", "ended (UTC)",
              "recap due (UTC)", "overdue", "reminders sent", "last reminder (UTC)",
              "admin url"]  # fmt: skip
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(header)
        for m in meetings.iterator(chunk_size=2000):
            yield writer.writerow(
                csv_cell(value)
                for value in [
                    m.title,
                    m.team.name,
                    m.organizer.name,
                    m.organizer.email,
                    m.ends_at.isoformat(),
                    m.due_at.isoformat(),
                    overdue_text(m, now),
                    m.reminders_sent,
                    m.last_reminder_at.isoformat() if m.last_reminder_at else "",
                    f"/admin/meetings/meeting/{m.pk}/change/",
                ]  # fmt: skip
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = now.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="unrecapped-{stamp}.csv"'
    return response
