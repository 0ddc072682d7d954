"""Forms for recurring meetings: the "Repeats" choices, occurrence edits, agenda templates."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from accounts.forms import TimeZoneField
from accounts.models import Team, User

from ..models import AgendaTemplate, Meeting, TemplateItem
from ..series import recurrence

FREQUENCIES = [(recurrence.WEEKLY, "Weekly"), (recurrence.MONTHLY, "Monthly")]
WEEKDAYS = [(str(n), label) for n, label in enumerate(recurrence.WEEKDAY_FULL)]
ORDINAL_CHOICES = [(str(n), label) for n, label in recurrence.ORDINALS.items()]
ENDS = [("never", "Never"), ("on", "On a date"), ("after", "After a number of meetings")]


class RepeatFields(forms.Form):
    """The "Repeats" part, shared by the new-series form and the meeting form."""

    frequency = forms.ChoiceField(
        label="Repeats", choices=FREQUENCIES, initial=recurrence.WEEKLY, widget=forms.RadioSelect
    )
    interval = forms.IntegerField(
        label="Every",
        min_value=1,
        max_value=12,
        initial=1,
        help_text="1 for every week or month, 2 for every other one, and so on.",
    )
    weekdays = forms.MultipleChoiceField(
        label="On (weekly)",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty to repeat on the weekday of the first meeting.",
    )
    ordinal = forms.ChoiceField(label="On the (monthly)", choices=ORDINAL_CHOICES, initial="1")
    month_weekday = forms.ChoiceField(label="Weekday (monthly)", choices=WEEKDAYS, initial="0")
    ends = forms.ChoiceField(label="Ends", choices=ENDS, initial="never", widget=forms.RadioSelect)
    until = forms.DateField(
        label="End date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    count = forms.IntegerField(
        label="Number of meetings", required=False, min_value=1, max_value=recurrence.MAX_COUNT
    )

    def repeat(self) -> recurrence.Repeat:
        data = self.cleaned_data
        return recurrence.Repeat(
            frequency=data["frequency"],
            interval=data.get("interval") or 1,
            weekdays=tuple(int(d) for d in data.get("weekdays") or ()),
            ordinal=int(data.get("ordinal") or 1),
            weekday=int(data.get("month_weekday") or 0),
            until=data.get("until") if data.get("ends") == "on" else None,
            count=data.get("count") if data.get("ends") == "after" else None,
        )

    def clean_repeat(self, first_start: datetime) -> str | None:
        """The RRULE text, or None after adding an error that says what to fix."""
        data = self.cleaned_data
        if any(name in self.errors for name in RepeatFields.base_fields):
            return None  # the field's own error already says what to fix
        if data.get("ends") == "on" and not data.get("until"):
            self.add_error("until", "Pick the date of the last meeting.")
            return None
        if data.get("ends") == "after" and not data.get("count"):
            self.add_error("count", "Say how many meetings there will be.")
            return None
        try:
            return recurrence.build_rrule(self.repeat(), first_start)
        except recurrence.InvalidRule as exc:
            self.add_error(None, str(exc))
            return None


class SeriesForm(RepeatFields):
    title = forms.CharField(max_length=200)
    first_date = forms.DateField(
        label="First meeting on", widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(label="Starts at", widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=5, max_value=480, initial=30
    )
    time_zone = TimeZoneField(
        label="Time zone",
        help_text="The meeting stays at this local time when clocks change. "
        "Type part of a city or region to find it.",
    )
    location = forms.CharField(label="Location or video link", max_length=500, required=False)
    attendees = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    template = forms.ModelChoiceField(
        label="Agenda template",
        queryset=AgendaTemplate.objects.none(),
        required=False,
        empty_label="No template",
        help_text="Every new meeting's agenda starts from these standing items.",
    )

    field_order = [
        "title",
        "first_date",
        "start_time",
        "duration_minutes",
        "time_zone",
        "frequency",
        "interval",
        "weekdays",
        "ordinal",
        "month_weekday",
        "ends",
        "until",
        "count",
        "location",
        "attendees",
        "template",
    ]

    def __init__(self, *args, team: Team, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["time_zone"].keep(user.time_zone)
        self.fields["time_zone"].initial = user.time_zone
        self.fields["attendees"].queryset = User.objects.filter(memberships__team=team).exclude(
            pk=user.pk
        )
        self.fields["template"].queryset = AgendaTemplate.objects.filter(
            team=team, series__isnull=True
        )

    @staticmethod
    def from_meeting_form(data: QueryDict, *, time_zone: str) -> QueryDict:
        """Read a POST of the meeting form ("Create recurring meeting" button).

        That form has a date, start and end time in the viewer's zone; this form
        wants a first date, a length and the zone. Bad values stay bad, so the
        fields' own errors explain them.
        """
        data = data.copy()
        data["first_date"] = data.get("date", "")
        data.setdefault("time_zone", time_zone)
        try:
            start = datetime.strptime(data.get("start_time", ""), "%H:%M")
            end = datetime.strptime(data.get("end_time", ""), "%H:%M")
        except ValueError:
            data.setdefault("duration_minutes", "")
        else:
            data.setdefault("duration_minutes", str(int((end - start).total_seconds() // 60)))
        return data

    def working_hours_notes(self, *, viewer: User) -> list[str]:
        """Who else would meet outside their working hours in the meetings this series
        schedules now (up to the horizon): a warning, never an error."""
        data = getattr(self, "cleaned_data", {})
        if not all(data.get(k) for k in ("rrule", "first_start", "duration", "time_zone")):
            return []
        now = timezone.now()
        found = recurrence.occurrences(
            data["rrule"],
            data["first_start"],
            data["time_zone"],
            after=now,
            until=now + timedelta(days=settings.SERIES_HORIZON_DAYS),
        )
        spans = [(start, start + data["duration"]) for _local, start in found]
        people = [p for p in data.get("attendees") or [] if p.pk != viewer.pk]
        return Meeting.working_hours_notes(people, spans) if spans else []

    def clean(self) -> dict:
        data = super().clean()
        first_date, start_time = data.get("first_date"), data.get("start_time")
        if first_date and start_time:
            data["first_start"] = datetime.combine(first_date, start_time.replace(second=0))
            data["rrule"] = self.clean_repeat(data["first_start"])
        if data.get("duration_minutes"):
            data["duration"] = timedelta(minutes=data["duration_minutes"])
        return data


class OccurrenceForm(forms.Form):
    """Edit one meeting of a series, or it and every later one."""

    THIS = "this"
    FOLLOWING = "following"

    scope = forms.ChoiceField(
        label="Change",
        choices=[(THIS, "This meeting only"), (FOLLOWING, "This and following meetings")],
        initial=THIS,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(max_length=200)
    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For “this and following”, later meetings keep their own days.",
    )
    start_time = forms.TimeField(label="Starts at", widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=5, max_value=480)
    location = forms.CharField(label="Location or video link", max_length=500, required=False)
    weekdays = forms.MultipleChoiceField(
        label="From then on, weekly on",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only for “this and following” of a weekly series; none ticked keeps the days.",
    )

    def __init__(self, *args, time_zone: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(time_zone)

    @classmethod
    def initial_for(cls, meeting) -> dict:
        local = meeting.starts_at.astimezone(meeting.zone)
        return {
            "scope": cls.THIS,
            "title": meeting.title,
            "date": local.date(),
            "start_time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": meeting.duration_minutes,
            "location": meeting.location,
        }

    def clean(self) -> dict:
        data = super().clean()
        day: date | None = data.get("date")
        start: time | None = data.get("start_time")
        minutes = data.get("duration_minutes")
        if day and start and minutes:
            local = datetime.combine(day, start.replace(second=0, microsecond=0))
            data["starts_at"] = recurrence.to_utc(local, self.zone)
            data["duration"] = timedelta(minutes=minutes)
            data["ends_at"] = data["starts_at"] + data["duration"]
        return data


class TemplateForm(forms.ModelForm):
    class Meta:
        model = AgendaTemplate
        fields = ["name", "desired_outcome"]
        widgets = {"desired_outcome": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"desired_outcome": "Optional: the bottom line each meeting starts from."}

    def __init__(self, *args, team: Team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.team = team


class TemplateItemForm(forms.ModelForm):
    class Meta:
        model = TemplateItem
        fields = ["title", "timebox_minutes", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
