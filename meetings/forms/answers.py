"""Forms of the pages an action item's owner reaches from an e-mail (New due date,
Decline). They parse input; whether the date is allowed is the item's rule
(`ActionItem.redate`), reported as the page's error."""

from __future__ import annotations

from datetime import date

from django import forms

from .meeting import _date_in_range

DECLINE_REASON_LIMIT = 500


class RedateForm(forms.Form):
    due_date = forms.DateField(
        label="New due date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Pick the new due date.", "invalid": "Enter a date."},
    )

    def clean_due_date(self) -> date | None:
        return _date_in_range(self.cleaned_data.get("due_date"))


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why (optional, the organizer reads it)",
        required=False,
        max_length=DECLINE_REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": DECLINE_REASON_LIMIT}),
    )
