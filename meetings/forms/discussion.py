"""Forms of settling it in writing: comments on agenda items, an item's resolution,
and the recap of a meeting settled in writing. They validate input; the rules are
the models' and the services'."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django import forms

from accounts.models import User

from ..models import AgendaItem, Meeting
from .meeting import TEXT_LIMIT, ActionItemForm

# A resolution is one line, read in the agenda and the recap.
RESOLUTION_LIMIT = 500
# Blank action item rows of the settle form; a row left blank is skipped.
ACTION_ROWS = 3


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Markdown is fine; @name tells someone in the team.",
        error_messages={
            "required": "Write something to comment.",
            "max_length": f"Keep a comment under {TEXT_LIMIT:,} characters.",
        },
    )

    def __init__(self, *args, item: AgendaItem, **kwargs) -> None:
        super().__init__(*args, prefix=f"comment{item.pk}", **kwargs)
        self.fields["body"].label = f"Comment on “{item.title}”"


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        label="Resolution",
        max_length=RESOLUTION_LIMIT,
        help_text="One line: what was settled.",
        error_messages={
            "required": "Write the resolution: one line saying what was settled.",
            "max_length": f"Keep the resolution to one line of at most {RESOLUTION_LIMIT} "
            "characters.",
        },
    )

    def __init__(self, *args, item: AgendaItem, **kwargs) -> None:
        super().__init__(*args, prefix=f"settle{item.pk}", **kwargs)
        self.fields["resolution"].label = f"Resolution of “{item.title}”"


class SettleActionForm(ActionItemForm):
    """One optional action item row of the settle form: left blank, it is skipped."""

    def __init__(
        self, *args, members: Sequence[User], meeting: Meeting, due: date, number: int, **kwargs
    ):
        super().__init__(*args, members=members, meeting=meeting, **kwargs)
        self.fields["description"].widget.attrs["rows"] = 1
        self.fields["description"].label = f"Action item {number}"
        self.fields["due_date"].initial = due

    def has_changed(self) -> bool:
        # A row is one once it has a description or an owner: the suggested due date
        # alone (or a cleared one) leaves a row blank, and a blank row is skipped.
        return any(self[name].data not in (None, "") for name in ("description", "owner"))


class BaseSettleActionFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**self.form_kwargs, "number": (index or 0) + 1}


SettleActionFormSet = forms.formset_factory(
    SettleActionForm,
    formset=BaseSettleActionFormSet,
    extra=ACTION_ROWS,
    max_num=ACTION_ROWS,
    validate_max=True,
)


class SettleMeetingForm(forms.Form):
    summary = forms.CharField(
        label="Summary",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The bottom line of what was settled, first.",
        error_messages={"required": "Write a summary: the bottom line of what was settled."},
    )
    notes = forms.CharField(
        label="Notes",
        max_length=TEXT_LIMIT * 5,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown is fine.",
    )
    no_action_items = forms.BooleanField(label="No action items came out of this", required=False)

    def __init__(self, *args, members: Sequence[User], meeting: Meeting, due: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.actions = SettleActionFormSet(
            *args,
            prefix="settle-action",
            form_kwargs={"members": members, "meeting": meeting, "due": due},
        )

    def is_valid(self) -> bool:
        # Both, so that every refused field shows at once.
        return all([super().is_valid(), self.actions.is_valid()])

    @property
    def errors_anywhere(self) -> bool:
        return (
            bool(self.errors) or any(self.actions.errors) or bool(self.actions.non_form_errors())
        )

    def action_rows(self) -> list[tuple[str, User, date]]:
        return [
            (row.cleaned_data["description"], row.cleaned_data["owner"],
             row.cleaned_data["due_date"])
            for row in self.actions
            if row.has_changed() and row.cleaned_data
        ]  # fmt: skip
