"""Forms of the meeting pages. They validate input; the rules live in models and services."""

from .meeting import (
    ActionItemFilterForm,
    ActionItemForm,
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
    "ActionItemFilterForm",
    "ActionItemForm",
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
