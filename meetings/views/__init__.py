"""Meeting pages: home, list, meeting page with agenda and recap editors, action items.

Thin function views. Access control starts from the query
(`Meeting.objects.for_user`): another team's meeting is a 404. Changing a
meeting needs the organizer or a team admin (403 otherwise); attendees may add
talking points and acknowledge the recap.

Every form works twice: as a plain POST that redirects with a flash message
(JavaScript off), and through htmx, which gets back only the part of the page
that changed (a `{% partialdef %}` of the same template) with its messages.
"""

from __future__ import annotations

from .actions import action_item_status, action_items
from .agenda import (
    agenda_amend,
    agenda_item_add,
    agenda_item_edit,
    agenda_item_move,
    agenda_item_remove,
    agenda_outcome,
    agenda_send,
)
from .meeting import meeting_cancel, meeting_create, meeting_detail, meeting_edit, member_search
from .pages import home, meeting_list
from .recap import (
    action_item_add,
    action_item_edit,
    action_item_remove,
    decision_add,
    decision_edit,
    decision_remove,
    recap_acknowledge,
    recap_publish,
    recap_save,
)

__all__ = [
    "action_item_add",
    "action_item_edit",
    "action_item_remove",
    "action_item_status",
    "action_items",
    "agenda_amend",
    "agenda_item_add",
    "agenda_item_edit",
    "agenda_item_move",
    "agenda_item_remove",
    "agenda_outcome",
    "agenda_send",
    "decision_add",
    "decision_edit",
    "decision_remove",
    "home",
    "meeting_cancel",
    "meeting_create",
    "meeting_detail",
    "meeting_edit",
    "meeting_list",
    "member_search",
    "recap_acknowledge",
    "recap_publish",
    "recap_save",
]
