"""Forms of the accounts pages. They validate input; the rules live in services."""

from __future__ import annotations

from datetime import time, timedelta

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from . import zones
from .models import (
    MAX_ACTION_LEAD_DAYS,
    MAX_ACTION_OVERDUE_WEEKS,
    WEEKDAY_NAMES,
    Membership,
    Role,
    Team,
    User,
    available_time_zones,
    normalize_email,
)
from .tokens import ApiToken

MAX_POLICY_HOURS = 24 * 60  # 60 days: beyond that a reminder is no use to anyone


class TimeZoneSelect(forms.Select):
    """A <select> of zones grouped by region. bookend.js adds a filter box above it
    (400 options are too many for a select's own typeahead) and, with
    data-guess-zone, picks the browser's zone while the field has no value."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__({"data-zone-picker": "", **(attrs or {})})


class TimeZoneField(forms.ChoiceField):
    """The one time zone picker: profile, sign-up and recurring meetings.

    Offers the canonical IANA names (accounts.zones); `keep()` adds a valid
    legacy name someone already has, so saving a form never changes it unasked.
    """

    widget = TimeZoneSelect
    default_error_messages = {
        "invalid_choice": "“%(value)s” is not a known time zone; pick one from the list, "
        "such as Europe/Berlin.",
    }

    def __init__(self, *, blank_label: str = "", **kwargs) -> None:
        kwargs.setdefault(
            "help_text", "Type part of a city or region, such as Berlin or Kolkata, to find it."
        )
        super().__init__(choices=self._choices_now, **kwargs)
        self.blank_label = blank_label
        self.kept: tuple[str, ...] = ()

    def _choices_now(self) -> list:
        choices = zones.grouped_choices(timezone.now(), self.kept)
        return [("", self.blank_label), *choices] if self.blank_label else choices

    def keep(self, name: str) -> None:
        if name in available_time_zones():
            self.kept = (name,)
            self.choices = self._choices_now  # the widget holds its own copy

    def valid_value(self, value) -> bool:
        return value in zones.canonical_time_zones() or value in self.kept


class NormalizedEmailField(forms.EmailField):
    """An address, cleaned to its one normalized form before it is validated, so that
    "ＡＳＨＡ@Example.com." is asha@example.com, here as everywhere."""

    def to_python(self, value):
        return normalize_email(super().to_python(value))


class EmailLoginForm(AuthenticationForm):
    """Django's login form, labelled for email (looked up in its normalized form)."""

    username = NormalizedEmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account. "
        "Both are checked exactly as typed, apart from the email's capitals.",
    }


class ProfileForm(forms.ModelForm):
    time_zone = TimeZoneField(label="Time zone")
    work_days = forms.TypedMultipleChoiceField(
        label="Working days",
        choices=[(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Reminders to you wait for these days and hours, in your time zone.",
        error_messages={"required": "Pick at least one working day."},
    )
    work_start = forms.TimeField(
        label="Working hours start", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    work_end = forms.TimeField(
        label="Working hours end", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    digest_hour = forms.TypedChoiceField(
        label="Send the digest at",
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        help_text="Your local time, on working days.",
    )

    class Meta:
        model = User
        fields = [
            "display_name",
            "time_zone",
            "work_days",
            "work_start",
            "work_end",
            "daily_digest",
            "digest_hour",
        ]
        labels = {"display_name": "Display name", "daily_digest": "Email me a daily digest"}
        help_texts = {"display_name": "How teammates see you. Leave blank to use your email."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].keep(self.instance.time_zone)
        bits = self.instance.work_days
        self.initial["work_days"] = [str(d) for d in range(7) if bits & (1 << d)]

    def clean_display_name(self) -> str:
        return self.cleaned_data["display_name"].strip()

    def clean_work_days(self) -> int:
        days = self.cleaned_data["work_days"]
        return sum(1 << day for day in set(days))

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("work_start"), cleaned.get("work_end")
        if isinstance(start, time) and isinstance(end, time) and end <= start:
            self.add_error("work_end", "Working hours must end after they start.")
        return cleaned


class ApiTokenForm(forms.Form):
    """A new personal access token: what it is for, what it may do, how long it lives."""

    LIFETIMES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]

    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What it is for, e.g. “Weekly report script”.",
    )
    scope = forms.ChoiceField(
        label="Access",
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Read sees your teams' meetings; read and write also changes them, "
        "with the same rights as you.",
    )
    lifetime = forms.TypedChoiceField(
        label="Expires after", choices=LIFETIMES, coerce=int, initial=90
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class InviteForm(forms.Form):
    email = NormalizedEmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args, inviter: Membership | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if inviter is not None and inviter.role != Role.OWNER:
            # Only owners create owners; admins are not offered the choice.
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class SwitchTeamForm(forms.Form):
    team = forms.IntegerField(label="Team", min_value=1, max_value=2**63 - 1)


def _hours_field(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=MAX_POLICY_HOURS,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )


def _count_field(label: str, maximum: int, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=maximum,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )


class TeamPolicyForm(forms.Form):
    """Team name and policy; durations are entered as whole hours."""

    name = forms.CharField(label="Team name", max_length=100)
    agenda_lead_hours = _hours_field(
        "Agenda due, hours before the start", "The organizer is reminded until it is sent."
    )
    recap_grace_hours = _hours_field(
        "Recap due, hours after the end", "After this the recap counts as late."
    )
    escalate_after_hours = _hours_field(
        "Tell team admins after, hours after the end",
        "Must be longer than the recap grace period.",
    )
    notify_no_agenda = forms.BooleanField(
        label="Tell attendees when a meeting starts without an agenda", required=False
    )
    remind_action_items = forms.BooleanField(
        label="Remind owners of action items that are due or overdue", required=False
    )
    action_reminder_lead_days = _count_field(
        "First reminder, days before the due date",
        MAX_ACTION_LEAD_DAYS,
        "0 to 7. With 0 the first reminder comes on the due day itself.",
    )
    action_overdue_weeks = _count_field(
        "Weekly reminders once overdue",
        MAX_ACTION_OVERDUE_WEEKS,
        "0 to 12. After the reminder the day after the due date, one a week, this many "
        "times; 0 sends none after that day.",
    )

    @classmethod
    def for_team(cls, team: Team, data=None) -> TeamPolicyForm:
        initial = {
            "name": team.name,
            "agenda_lead_hours": _whole_hours(team.agenda_lead_time),
            "recap_grace_hours": _whole_hours(team.recap_grace),
            "escalate_after_hours": _whole_hours(team.escalate_after),
            "notify_no_agenda": team.notify_no_agenda,
            "remind_action_items": team.remind_action_items,
            "action_reminder_lead_days": team.action_reminder_lead_days,
            "action_overdue_weeks": team.action_overdue_weeks,
        }
        return cls(data, initial=initial)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        grace, escalate = cleaned.get("recap_grace_hours"), cleaned.get("escalate_after_hours")
        if grace is not None and escalate is not None and escalate <= grace:
            self.add_error(
                "escalate_after_hours", "Escalation must come after the recap grace period."
            )
        return cleaned

    def policy(self) -> dict:
        """The team fields and values the form asks for."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "agenda_lead_time": timedelta(hours=data["agenda_lead_hours"]),
            "recap_grace": timedelta(hours=data["recap_grace_hours"]),
            "escalate_after": timedelta(hours=data["escalate_after_hours"]),
            "notify_no_agenda": data["notify_no_agenda"],
            "remind_action_items": data["remind_action_items"],
            "action_reminder_lead_days": data["action_reminder_lead_days"],
            "action_overdue_weeks": data["action_overdue_weeks"],
        }


def _whole_hours(duration: timedelta) -> int:
    return max(1, round(duration.total_seconds() / 3600))


class SignUpForm(forms.Form):
    """Account creation from an invitation; the email comes from the invitation."""

    display_name = forms.CharField(
        label="Your name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    # data-guess-zone: bookend.js picks the browser's zone while nothing is chosen.
    time_zone = TimeZoneField(
        label="Your time zone",
        blank_label="Pick your time zone",
        widget=TimeZoneSelect({"data-guess-zone": ""}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password and not only digits.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError("Tell your teammates your name.")
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = User(email=self.email, display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, finding the account by the normalized address exactly
    (Django's own looks it up case-insensitively in the database)."""

    email = NormalizedEmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email: str):
        return (
            user
            for user in User.objects.filter(email=normalize_email(email), is_active=True)
            if user.has_usable_password()
        )
