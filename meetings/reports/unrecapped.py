"""The staff dashboard's list of meetings that owe a recap: query, filters and CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from accounts.http import parse_id
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


class _Search(AutocompleteSelect):
    def __init__(self, *args, placeholder: str, **kwargs) -> None:
        self.placeholder = placeholder
        super().__init__(*args, **kwargs)

    def build_attrs(self, base_attrs, extra_attrs=None) -> dict:
        # select2 names its combobox after the text it shows; with the admin's
        # empty placeholder an unfiltered picker has no accessible name at all.
        return {
            **super().build_attrs(base_attrs, extra_attrs),
            "data-placeholder": self.placeholder,
        }

    def format_value(self, value) -> list[str]:
        # The chosen option is looked up by id to show it: only a plain id can be
        # (anything else is reported by the form and shown as no choice).
        return [v for v in super().format_value(value) if parse_id(v) is not None]


def _search(field: str, placeholder: str) -> AutocompleteSelect:
    """The admin's own search-as-you-type picker (the meeting admin's autocomplete
    fields): the page carries only the chosen option, however many teams or
    organizers there are."""
    return _Search(Meeting._meta.get_field(field), admin.site, placeholder=placeholder)


class UnrecappedFilterForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        empty_label="All",
        widget=_search("team", "All teams"),
    )
    organizer = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="All",
        widget=_search("organizer", "All organizers"),
    )  # fmt: skip
    overdue = forms.ChoiceField(choices=[("", "All"), *BUCKETS], required=False)
    o = forms.ChoiceField(label="Sort", choices=SORTS, required=False)

    def __init__(self, *args, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only people who owe a recap: checked through the partial index on submit.
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

    Ordered by end time (then id), the order of the partial index
    `meeting_unrecapped_idx`, so a page reads only its own rows however long the
    backlog is. The due time is the end plus the team's grace, so within one
    team (or teams with one grace period) this is exactly most overdue first.
    """
    meetings = _filtered(now, team=team, organizer=organizer, overdue=overdue)
    sent = Notification.objects.filter(
        meeting=OuterRef("pk"), kind__in=RECAP_REMINDER_KINDS, state=Notification.State.SENT
    ).order_by()
    meetings = meetings.select_related("team", "organizer").annotate(
        reminders_sent=Coalesce(
            Subquery(
                sent.values("meeting").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        last_reminder_at=Subquery(sent.order_by("-sent_at").values("sent_at")[:1]),
    )
    return meetings.order_by(*ORDER[sort == "-overdue"])


# Oldest end first is most overdue first; the id breaks ties, so the order is total.
ORDER = {False: ("ends_at", "pk"), True: ("-ends_at", "-pk")}


def _filtered(
    now: datetime, *, team: Team | None, organizer: User | None, overdue: str
) -> QuerySet[Meeting]:
    """The meetings owing a recap that match the filters, annotated with `due_at`."""
    meetings = Meeting.objects.awaiting_recap(now).annotate(
        due_at=ExpressionWrapper(
            F("ends_at") + F("team__recap_grace"), output_field=DateTimeField()
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
    return meetings


def unrecapped_count(
    now: datetime, *, team: Team | None = None, organizer: User | None = None, overdue: str = ""
) -> int:
    """How many meetings match, counted up to COUNT_CAP + 1: past the cap the
    dashboard says "more than", so the count costs at most that many index entries."""
    meetings = _filtered(now, team=team, organizer=organizer, overdue=overdue)
    return meetings.order_by().values("pk")[: COUNT_CAP + 1].count()


COUNT_CAP = 1000


# -- keyset pagination ---------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_of(meeting: Meeting) -> str:
    """A page boundary: the row's end (exact, in microseconds) and id."""
    return f"{(meeting.ends_at - EPOCH) // timedelta(microseconds=1)}-{meeting.pk}"


def parse_cursor(text: str | None) -> tuple[datetime, int] | None:
    """The (end, id) of a cursor, or None for anything else (then: the first page)."""
    micros, _, pk = (text or "").partition("-")
    # Only plain ASCII digits, of a size a timestamp and a bigint can have.
    if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()):
        return None
    if len(micros) > 17 or len(pk) > 18:
        return None
    return EPOCH + timedelta(microseconds=int(micros)), int(pk)


@dataclass
class KeysetPage:
    object_list: list[Meeting]
    next_cursor: str | None
    previous_cursor: str | None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def _beyond(meetings: QuerySet[Meeting], key: tuple[datetime, int], later: bool):
    """Rows after (later=True) or before `key` in (ends_at, id) order.

    The redundant bound on ends_at alone is what the index scan starts from.
    """
    ends_at, pk = key
    if later:
        return meetings.filter(ends_at__gte=ends_at).filter(Q(ends_at__gt=ends_at) | Q(pk__gt=pk))
    return meetings.filter(ends_at__lte=ends_at).filter(Q(ends_at__lt=ends_at) | Q(pk__lt=pk))


def keyset_page(
    meetings: QuerySet[Meeting],
    *,
    descending: bool = False,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> KeysetPage:
    """One page of `meetings` (ordered by ORDER[descending]) after or before a cursor.

    Reads size + 1 rows from where the cursor points, through the index: the cost
    of page 600 is the cost of page 1.
    """
    after_key, before_key = parse_cursor(after), parse_cursor(before)
    if before_key is not None and after_key is None:
        # Backwards: the `size` rows just before the cursor, read in reverse.
        rows = list(
            _beyond(meetings, before_key, later=descending).order_by(*ORDER[not descending])[
                : size + 1
            ]
        )
        more = len(rows) > size
        rows = rows[:size][::-1]
        if not rows:  # nothing before it any more: the first page
            return keyset_page(meetings, descending=descending, size=size)
        return KeysetPage(
            rows,
            next_cursor=cursor_of(rows[-1]) if rows else None,
            previous_cursor=cursor_of(rows[0]) if rows and more else None,
        )
    if after_key is not None:
        meetings = _beyond(meetings, after_key, later=not descending)
    rows = list(meetings.order_by(*ORDER[descending])[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        next_cursor=cursor_of(rows[-1]) if rows and more else None,
        previous_cursor=cursor_of(rows[0]) if rows and after_key is not None else None,
    )


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
