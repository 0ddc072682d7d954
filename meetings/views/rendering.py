"""Rendering the meeting page and its fragments, and the flash messages of its forms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from ..forms import (
    ActionItemForm,
    AgendaItemForm,
    DecisionForm,
    OutcomeForm,
    RecapForm,
    TalkingPointForm,
)
from ..models import AgendaVersion, Attendee, Meeting, NothingChanged
from .access import can_change_meeting, membership_in, team_members
from .discussion_context import discussion_context


def flash_problems(request: HttpRequest, error: ValidationError) -> None:
    # One message per broken rule: RuleBroken carries a list.
    for message in error.messages:
        messages.error(request, message)


@contextmanager
def flashed(request: HttpRequest, success: str) -> Iterator[None]:
    """Around one service call: `success` when it went through, one message per
    broken rule when it refused (the refusal is handled here, not raised).
    `NothingChanged` is not a refusal: it is raised for the caller to say so."""
    try:
        yield
    except NothingChanged:
        raise
    except ValidationError as error:
        flash_problems(request, error)
    else:
        messages.success(request, success)


def local_times(meeting: Meeting, attendees: list[Attendee]) -> list[str]:
    """ "Tue 17:00 for Asha, Kolkata" for every attendee whose zone differs from mine."""
    mine = timezone.get_current_timezone()
    here = timezone.localtime(meeting.starts_at, mine)
    lines = []
    for attendee in attendees:
        user = attendee.user
        there = timezone.localtime(meeting.starts_at, user.zone)
        if there.utcoffset() == here.utcoffset() and there.date() == here.date():
            continue
        lines.append(f"{date_format(there, 'D H:i')} for {user.name}, {user.city}")
    return lines


def autofocus(form: BaseForm, name: str = "") -> None:
    """Mark the field that takes the focus when htmx swaps the form in (htmx focuses
    an `[autofocus]` element it inserts): the first refused field, else `name`."""
    name = next((field for field in form.errors if field in form.fields), name)
    if name:
        form.fields[name].widget.attrs["autofocus"] = True


def _detail_context(request: HttpRequest, meeting: Meeting, **extra) -> dict:
    """Everything the meeting page and its partials need, in a constant number of queries."""
    now = timezone.now()
    user = request.user
    attendees = list(meeting.attendees.select_related("user").order_by("user__display_name"))
    # Ordered within the meeting: the models' default ordering starts with the
    # meeting's own start time, which costs a join to the meeting on every read.
    items = list(
        meeting.agenda_items.select_related("owner", "added_by").order_by("position", "pk")
    )
    decisions = list(meeting.decisions.order_by("position", "pk"))
    action_items = list(meeting.action_items.select_related("owner"))
    me = next((a for a in attendees if a.user_id == user.pk), None)
    can_edit = can_change_meeting(request, meeting)
    # The owner pickers of the editors' forms; nobody else gets one.
    members = team_members(meeting.team_id) if can_edit else []
    status = meeting.status_at(now)
    agenda_open = meeting.agenda_is_open(now)
    recap_open = meeting.recap_is_open(now)
    total = sum(item.timebox_minutes or 0 for item in items)
    # What still stops the agenda from going out, worded like the send rule's messages.
    missing = []
    if not meeting.desired_outcome.strip():
        missing.append("a desired outcome")
    if not items:
        missing.append("at least one item")
    # Whether attendees lack what the agenda now says: "Send changes" is then the next
    # step (two queries, only for whoever may send it).
    agenda_unsent = (
        can_edit
        and agenda_open
        and bool(meeting.agenda_sent_at)
        and not AgendaVersion.attendees_have(meeting, items)
    )
    context = {
        "meeting": meeting,
        "status": status,
        "agenda_unsent": agenda_unsent,
        "attendees": attendees,
        "local_times": local_times(meeting, attendees),
        "items": items,
        "decisions": decisions,
        "action_items": action_items,
        # Owners who have neither accepted nor declined their open items yet.
        "not_answered": sorted({a.owner.name for a in action_items if a.awaits_answer}),
        "me": me,
        "can_edit": can_edit,
        "is_team_admin": bool(
            (membership := membership_in(request, meeting.team_id)) and membership.is_admin
        ),
        "is_attendee": me is not None,
        "asked_to_acknowledge": me is not None
        and meeting.asks_acknowledgement_from(user.pk, attended=True),
        "agenda_open": agenda_open,
        "can_propose": agenda_open and (can_edit or me is not None),
        "recap_open": recap_open,
        "recap_editable": can_edit and recap_open,
        "total_minutes": total,
        "over_time": total > meeting.duration_minutes,
        "over_by": total - meeting.duration_minutes,
        "agenda_missing": missing,
        "editing_item": None,
        "editing_decision": None,
        "editing_action": None,
        "zone_name": timezone.get_current_timezone_name(),
        # Which element htmx should focus after a swap (see the templates' autofocus).
        "focus": "",
        "focus_item": None,
        "focus_decision": None,
        "focus_action": None,
    }
    # Only the forms this viewer can use now: each costs its fields and widgets.
    if can_edit and agenda_open:
        context["outcome_form"] = OutcomeForm(initial={"desired_outcome": meeting.desired_outcome})
    if context["can_propose"]:
        context["item_form"] = (
            AgendaItemForm(members=members, prefix="new")
            if can_edit
            else TalkingPointForm(prefix="new")
        )
    if context["recap_editable"]:
        context["recap_form"] = RecapForm(
            items=items, initial=RecapForm.initial_for(meeting, items)
        )
        context["decision_form"] = DecisionForm(prefix="decision")
        context["action_form"] = ActionItemForm(
            members=members, meeting=meeting, prefix="action",
            initial={"due_date": meeting.suggested_due_date(now)},
        )  # fmt: skip
    # Comments, items settled in writing, shortening and settling the meeting.
    context.update(discussion_context(request, meeting, items=items, decisions=decisions,
                                      attendees=attendees, can_edit=can_edit,
                                      agenda_open=agenda_open, now=now, extra=extra))  # fmt: skip
    # `focus_field=("item_form", "title")`: a blank form's field takes the focus.
    form_name, field = extra.pop("focus_field", ("", ""))
    context.update(extra)
    if form_name in context:
        autofocus(context[form_name], field)
    # A refused form puts the cursor in the first field to fix.
    for value in extra.values():
        if isinstance(value, BaseForm) and value.is_bound and value.errors:
            autofocus(value)
    return context


def render_meeting(request: HttpRequest, meeting: Meeting, part: str, **extra) -> HttpResponse:
    """The whole page without htmx; only `part` (a partialdef) with it."""
    context = _detail_context(request, meeting, **extra)
    if request.htmx:
        # `fragment` tells the partial to carry the flash messages out of band.
        context["fragment"] = part
        return render(request, f"meetings/detail.html#{part}", context)
    return render(request, "meetings/detail.html", context)


def done(
    request: HttpRequest, meeting: Meeting, part: str, anchor: str = "", **focus
) -> HttpResponse:
    """After a successful change: the fresh fragment (htmx) or a redirect (plain POST).

    `focus` (the context's focus keys) says where the keyboard focus goes in the
    fragment; a plain POST lands on `anchor` instead.
    """
    if request.htmx:
        meeting.refresh_from_db()
        return render_meeting(request, meeting, part, **focus)
    return redirect(reverse("meetings:detail", args=[meeting.pk]) + (f"#{anchor or part}"))


def confirm_remove(
    request: HttpRequest, meeting: Meeting, *, question: str, anchor: str
) -> HttpResponse:
    """The page that asks before a removal when JavaScript is off (a plain POST
    cannot ask first; with htmx the button asks with hx-confirm and posts)."""
    context = {"meeting": meeting, "question": question, "anchor": anchor}
    return render(request, "meetings/confirm_remove.html", context)
