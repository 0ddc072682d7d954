"""Forms of the meeting pages. They validate input; the rules live in models and services."""

from .answers import DeclineForm, RedateForm
from .discussion import CommentForm, ResolutionForm, SettleMeetingForm
from .meeting import (
    ActionDueDateForm,
    ActionItemFilterForm,
    ActionItemForm,
    ActionReassignForm,
    ActionStatusForm,
    AgendaItemForm,
    DecisionForm,
    MeetingFilterForm,
    MeetingForm,
    OutcomeForm,
    RecapForm,
    TalkingPointForm,
)
from .series import OccurrenceForm, SeriesForm, TemplateForm, TemplateItemForm

__all__ = [
    "ActionDueDateForm",
    "ActionItemFilterForm",
    "ActionItemForm",
    "ActionReassignForm",
    "ActionStatusForm",
    "AgendaItemForm",
    "CommentForm",
    "DecisionForm",
    "DeclineForm",
    "MeetingFilterForm",
    "MeetingForm",
    "OccurrenceForm",
    "OutcomeForm",
    "RecapForm",
    "RedateForm",
    "ResolutionForm",
    "SeriesForm",
    "SettleMeetingForm",
    "TalkingPointForm",
    "TemplateForm",
    "TemplateItemForm",
]
