"""Forms of the meeting pages. They validate input; the rules live in models and services."""

from .answers import DeclineForm, RedateForm
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
    "DecisionForm",
    "DeclineForm",
    "MeetingFilterForm",
    "MeetingForm",
    "OccurrenceForm",
    "OutcomeForm",
    "RecapForm",
    "RedateForm",
    "SeriesForm",
    "TalkingPointForm",
    "TemplateForm",
    "TemplateItemForm",
]
