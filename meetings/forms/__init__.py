"""Forms of the meeting pages. They validate input; the rules live in models and services."""

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
    "MeetingFilterForm",
    "MeetingForm",
    "OccurrenceForm",
    "OutcomeForm",
    "RecapForm",
    "SeriesForm",
    "TalkingPointForm",
    "TemplateForm",
    "TemplateItemForm",
]
