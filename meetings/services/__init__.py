"""Writes that span several models. Views, the admin, tasks and the seed call these.

Each service takes keyword-only arguments and `now=` (so tests need no clock
tricks), runs in one transaction, and returns the object it changed. Each
change it makes is recorded in the audit trail (accounts/audit.py) in that same
transaction: a refused or rolled-back change leaves no event.

Modules: `meeting` (schedule, change, cancel), `agenda`, `recap` (while drafted,
publishing), `actions` (action items once out: answers, reassigning, done), `discussion`
(comments, settling items and meetings in writing, shortening).
"""

from __future__ import annotations

from .actions import (
    accept_action_item,
    complete_action_item,
    decline_action_item,
    reassign_action_item,
    redate_action_item,
    set_action_item_done,
)
from .agenda import (
    add_agenda_item,
    amend_agenda,
    edit_agenda_item,
    move_agenda_item,
    propose_agenda_item,
    remove_agenda_item,
    send_agenda,
    set_desired_outcome,
)
from .discussion import (
    add_comment,
    settle_item,
    settle_meeting_in_writing,
    shorten_meeting,
    unsettle_item,
)
from .meeting import cancel_meeting, create_meeting, require_members, update_meeting
from .recap import (
    CARRY_OVER_TASK,
    acknowledge_recap,
    add_action_item,
    add_decision,
    assign_action_item,
    edit_action_item,
    edit_decision,
    publish_recap,
    record_decision,
    remove_action_item,
    remove_decision,
    save_and_publish_recap,
    save_recap,
)

__all__ = [
    "CARRY_OVER_TASK",
    "accept_action_item",
    "complete_action_item",
    "acknowledge_recap",
    "add_action_item",
    "add_agenda_item",
    "add_comment",
    "add_decision",
    "amend_agenda",
    "assign_action_item",
    "cancel_meeting",
    "create_meeting",
    "decline_action_item",
    "edit_action_item",
    "edit_agenda_item",
    "edit_decision",
    "move_agenda_item",
    "propose_agenda_item",
    "publish_recap",
    "reassign_action_item",
    "record_decision",
    "redate_action_item",
    "remove_action_item",
    "remove_agenda_item",
    "remove_decision",
    "require_members",
    "save_and_publish_recap",
    "save_recap",
    "send_agenda",
    "set_action_item_done",
    "set_desired_outcome",
    "settle_item",
    "settle_meeting_in_writing",
    "shorten_meeting",
    "unsettle_item",
    "update_meeting",
]
