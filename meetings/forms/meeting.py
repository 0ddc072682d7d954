"""Forms of the meeting pages. They validate input; the rules live in models/services.

Choice lists of team members are built once per request from a list of users
(`MemberChoiceField`), not from a queryset, so a page that renders several owner
pickers costs one query, not one per picker.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone

from accounts.models import User

from ..models import ActionItem, AgendaItem, Meeting

# Far-away dates are typos, and years near 1 or 9999 overflow when converted to
# UTC; a clear message beats a 500.
MAX_YEARS_AWAY = 10
TEXT_LIMIT = 10_000
OUTCOME_LIMIT = 2_000


def _date_in_range(value: date | None) -> date | None:
    if value is None:
        return value
    today = timezone.localdate()
    if abs((value - today).days) > MAX_YEARS_AWAY * 366:
        raise forms.ValidationError(
            f"Pick a date within {MAX_YEARS_AWAY} years of today.", code="out_of_range"
        )
    return value


def _due_date_for(meeting: Meeting, value: date | None) -> date | None:
    """Rule 5 for a date typed into a form: a clear message instead of a refusal later."""
    due = _date_in_range(value)
    if due and not meeting.accepts_due_date(due):
        raise forms.ValidationError(
            "The due date cannot be before the meeting's day.", code="before_meeting"
        )
    return due


class MemberChoiceField(forms.TypedChoiceField):
    """Pick one of the given users; cleans to the User (or None when optional)."""

    def __init__(self, *, members: Sequence[User], blank_label: str = "", **kwargs) -> None:
        self.members = {u.pk: u for u in members}
        choices = [(u.pk, u.name) for u in members]
        if blank_label or not kwargs.get("required", True):
            # Required with a blank label: nobody is chosen until someone is.
            choices = [("", blank_label or "Nobody"), *choices]
        super().__init__(choices=choices, coerce=int, empty_value=None, **kwargs)

    def clean(self, value):
        pk = super().clean(value)
        return None if pk is None else self.members[pk]


class MemberMultipleChoiceField(forms.TypedMultipleChoiceField):
    def __init__(self, *, members: Sequence[User], **kwargs) -> None:
        self.members = {u.pk: u for u in members}
        super().__init__(
            choices=[(u.pk, u.name) for u in members],
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )

    def clean(self, value):
        return [self.members[pk] for pk in super().clean(value)]


class MeetingForm(forms.Form):
    """Create or edit a meeting. Times are entered in the viewer's zone (the active one)."""

    title = forms.CharField(max_length=200)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="Starts", widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label="Ends", widget=forms.TimeInput(attrs={"type": "time"}))
    location = forms.CharField(label="Location or video link", max_length=500, required=False)

    def __init__(self, *args, members: Sequence[User], organizer: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        others = [u for u in members if u.pk != organizer.pk]
        self.fields["attendees"] = MemberMultipleChoiceField(
            members=others, required=False, help_text="You attend as the organizer."
        )

    def clean_date(self) -> date | None:
        return _date_in_range(self.cleaned_data.get("date"))

    def clean(self) -> dict:
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            zone = timezone.get_current_timezone()
            data["starts_at"] = datetime.combine(day, start, tzinfo=zone)
            data["ends_at"] = datetime.combine(day, end, tzinfo=zone)
            for problem in Meeting.times_problems(data["starts_at"], data["ends_at"]):
                self.add_error("end_time", problem)
        return data

    def working_hours_notes(self, *, organizer: User, viewer: User) -> list[str]:
        """Who else would meet outside their working hours (a warning, not an error).

        Works on a partly valid form too (the live check sends it as it is typed);
        a meeting recorded after the fact warns nobody.
        """
        data = getattr(self, "cleaned_data", {})
        if "starts_at" not in data or data["starts_at"] <= timezone.now():
            return []
        people = [p for p in [organizer, *data.get("attendees", [])] if p.pk != viewer.pk]
        return Meeting.working_hours_notes(people, [(data["starts_at"], data["ends_at"])])

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict:
        start = timezone.localtime(meeting.starts_at)
        end = timezone.localtime(meeting.ends_at)
        return {
            "title": meeting.title,
            "date": start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": end.time().replace(second=0, microsecond=0),
            "location": meeting.location,
            "attendees": [a.user_id for a in meeting.attendees.all()],
        }

    @classmethod
    def initial_new(cls) -> dict:
        # The next whole hour tomorrow, thirty minutes: a sensible default to edit.
        start = (timezone.localtime() + timedelta(days=1)).replace(
            minute=0, second=0, microsecond=0
        )
        return {
            "date": start.date(),
            "start_time": start.time(),
            "end_time": (start + timedelta(minutes=30)).time(),
        }


class OutcomeForm(forms.Form):
    desired_outcome = forms.CharField(
        label="Desired outcome",
        max_length=OUTCOME_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The bottom line: what should this meeting decide or produce?",
    )


class AgendaItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    timebox_minutes = forms.IntegerField(
        label="Time box (minutes)", min_value=1, max_value=480, required=False
    )
    notes = forms.CharField(
        max_length=TEXT_LIMIT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, members: Sequence[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = MemberChoiceField(
            members=members, required=False, blank_label="No owner"
        )
        self.order_fields(["title", "owner", "timebox_minutes", "notes"])

    @classmethod
    def initial_for(cls, item: AgendaItem) -> dict:
        return {
            "title": item.title,
            "owner": item.owner_id or "",
            "timebox_minutes": item.timebox_minutes,
            "notes": item.notes,
        }


class TalkingPointForm(forms.Form):
    """What an attendee may add: a title and notes; the organizer assigns owners."""

    title = forms.CharField(label="Talking point", max_length=200)
    notes = forms.CharField(
        max_length=TEXT_LIMIT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RecapForm(forms.Form):
    recap_summary = forms.CharField(
        label="Summary",
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The bottom line of what happened, first.",
    )
    recap_notes = forms.CharField(
        label="Notes",
        max_length=TEXT_LIMIT * 5,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown is fine.",
    )
    no_action_items = forms.BooleanField(
        label="No action items came out of this meeting", required=False
    )

    def __init__(self, *args, items: Sequence[AgendaItem] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"outcome_{item.pk}"] = forms.ChoiceField(
                label=f"Outcome of “{item.title}”",
                choices=AgendaItem.Outcome.choices,
                required=False,
            )

    def outcome_fields(self) -> list[tuple[AgendaItem, forms.BoundField]]:
        return [(item, self[f"outcome_{item.pk}"]) for item in self.items]

    def outcomes(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data.get(f"outcome_{item.pk}", "") for item in self.items}

    @classmethod
    def initial_for(cls, meeting: Meeting, items: Sequence[AgendaItem]) -> dict:
        initial = {
            "recap_summary": meeting.recap_summary,
            "recap_notes": meeting.recap_notes,
            "no_action_items": meeting.no_action_items,
        }
        initial.update({f"outcome_{item.pk}": item.outcome for item in items})
        return initial


class DecisionForm(forms.Form):
    text = forms.CharField(
        label="Decision", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2})
    )


class ActionItemForm(forms.Form):
    description = forms.CharField(max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2}))
    due_date = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, members: Sequence[User], meeting: Meeting, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meeting = meeting
        # No owner preset: the first name in the list was assigned by mistake too often.
        self.fields["owner"] = MemberChoiceField(
            members=members,
            blank_label="Choose…",
            error_messages={"required": "Choose who owns this action item."},
        )
        self.order_fields(["description", "owner", "due_date"])

    def clean_due_date(self) -> date | None:
        return _due_date_for(self.meeting, self.cleaned_data.get("due_date"))


class MeetingFilterForm(forms.Form):
    STATUS_CHOICES = [("", "Any status"), *Meeting.Status.choices]

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, members: Sequence[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organizer"] = MemberChoiceField(
            members=members, required=False, blank_label="Anyone"
        )
        self.order_fields(["status", "organizer", "date_from", "date_to"])

    def clean_date_from(self) -> date | None:
        return _date_in_range(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> date | None:
        return _date_in_range(self.cleaned_data.get("date_to"))


class ActionItemFilterForm(forms.Form):
    SCOPES = [("mine", "Mine"), ("team", "My team's")]
    STATES = [("open", "Open"), ("overdue", "Overdue"), ("done", "Done"), ("all", "All")]
    RESPONSES = [("", "Any answer"), *ActionItem.Response.choices]

    scope = forms.ChoiceField(choices=SCOPES, required=False)
    state = forms.ChoiceField(label="Status", choices=STATES, required=False)
    response = forms.ChoiceField(label="Owner's answer", choices=RESPONSES, required=False)
    redated = forms.BooleanField(label="Re-dated at least once", required=False)

    def __init__(
        self, data=None, *args, members: Sequence[User], meetings: Sequence[Meeting], **kwargs
    ) -> None:
        # "?response=declined" (the link in a decline notice) is for whoever finds
        # the item a new owner: the team's declined items, not only my own.
        if data is not None and not data.get("scope") and data.get("response") == "declined":
            data = data.copy()
            data["scope"] = "team"
        super().__init__(data, *args, **kwargs)
        self.fields["owner"] = MemberChoiceField(
            members=members, required=False, blank_label="Anyone"
        )
        self.fields["meeting"] = forms.TypedChoiceField(
            choices=[("", "Any meeting"), *((m.pk, str(m)) for m in meetings)],
            coerce=int,
            empty_value=None,
            required=False,
        )


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)


class ActionDueDateForm(forms.Form):
    """A new due date for a published action item (its owner answering in place)."""

    due_date = forms.DateField(
        label="New due date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Pick the new due date.", "invalid": "Enter a real date."},
    )

    def __init__(self, *args, meeting: Meeting, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meeting = meeting

    def clean_due_date(self) -> date | None:
        return _due_date_for(self.meeting, self.cleaned_data.get("due_date"))


class ActionReassignForm(forms.Form):
    """Give a published action item to another member of its meeting's team."""

    due_date = forms.DateField(
        label="New due date (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date."},
    )

    def __init__(self, *args, members: Sequence[User], meeting: Meeting, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meeting = meeting
        self.fields["owner"] = MemberChoiceField(
            members=[u for u in members if u.is_active],
            label="New owner",
            blank_label="Choose…",
            error_messages={"required": "Choose who takes this action item over."},
        )
        self.order_fields(["owner", "due_date"])

    def clean_due_date(self) -> date | None:
        return _due_date_for(self.meeting, self.cleaned_data.get("due_date"))
