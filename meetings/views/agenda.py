"""The agenda editor on the meeting page: outcome, items, send and amend."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import services
from ..forms import AgendaItemForm, OutcomeForm, TalkingPointForm
from ._shared import (
    _agenda_open,
    _can_edit,
    _done,
    _flashed,
    _is_attendee,
    _meeting_or_404,
    _render_meeting,
    _require_edit,
    _team_members,
)


@login_required
@require_POST
def agenda_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _render_meeting(request, meeting, "agenda", outcome_form=form)
    with _flashed(request, "Desired outcome saved."):
        services.set_desired_outcome(
            meeting=meeting, text=form.cleaned_data["desired_outcome"], now=timezone.now()
        )
    return _done(request, meeting, "agenda")


@login_required
@require_POST
def agenda_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    can_edit = _can_edit(request, meeting)
    if not can_edit and not _is_attendee(meeting, request.user):
        raise PermissionDenied("Only attendees add talking points.")
    if can_edit:
        form = AgendaItemForm(request.POST, members=_team_members(meeting.team_id), prefix="new")
    else:
        form = TalkingPointForm(request.POST, prefix="new")
    if not form.is_valid():
        return _render_meeting(request, meeting, "agenda", item_form=form)
    data = form.cleaned_data
    with _flashed(request, "Item added." if can_edit else "Talking point added."):
        services.propose_agenda_item(
            meeting=meeting,
            title=data["title"],
            added_by=request.user,
            owner=data.get("owner"),
            timebox_minutes=data.get("timebox_minutes"),
            notes=data["notes"],
            now=timezone.now(),
        )
    return _done(request, meeting, "agenda")


@login_required
def agenda_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    _require_edit(request, meeting)
    members = _team_members(meeting.team_id)
    if request.method == "POST":
        form = AgendaItemForm(request.POST, members=members, prefix=f"item{item.pk}")
        if form.is_valid():
            data = form.cleaned_data
            with _flashed(request, "Item saved."):
                services.edit_agenda_item(
                    item=item,
                    title=data["title"],
                    owner=data["owner"],
                    timebox_minutes=data["timebox_minutes"],
                    notes=data["notes"],
                    now=timezone.now(),
                )
            return _done(request, meeting, "agenda", anchor=f"item-{item.pk}")
    elif request.method == "GET":
        if not _agenda_open(meeting, timezone.now()):
            messages.error(request, "This agenda can no longer change.")
            return _done(request, meeting, "agenda")
        form = AgendaItemForm(
            initial=AgendaItemForm.initial_for(item), members=members, prefix=f"item{item.pk}"
        )
        # Keyboard users land in the field they came to change (htmx honours autofocus).
        form.fields["title"].widget.attrs["autofocus"] = True
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return _render_meeting(request, meeting, "agenda", editing_item=item.pk, edit_form=form)


@login_required
@require_POST
def agenda_item_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    _require_edit(request, meeting)
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        messages.error(request, "Move an item up or down.")
        return _done(request, meeting, "agenda")
    with _flashed(request, f"Moved “{item.title}” {direction}."):
        services.move_agenda_item(
            item=item, offset=-1 if direction == "up" else 1, now=timezone.now()
        )
    return _done(request, meeting, "agenda", anchor=f"item-{item.pk}")


@login_required
@require_POST
def agenda_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    # Attendees may take back their own talking points; everything else is the
    # organizer's and the admins'.
    own_point = item.added_by_id == request.user.pk and _is_attendee(meeting, request.user)
    if not own_point:
        _require_edit(request, meeting)
    with _flashed(request, f"Removed “{item.title}”."):
        services.remove_agenda_item(item=item, now=timezone.now())
    return _done(request, meeting, "agenda")


@login_required
@require_POST
def agenda_send(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    with _flashed(request, "Agenda sent to every attendee."):
        services.send_agenda(meeting=meeting, by=request.user, now=timezone.now())
    return _done(request, meeting, "meeting", anchor="agenda")


@login_required
@require_POST
def agenda_amend(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    with _flashed(request, "Changes sent to every attendee."):
        services.amend_agenda(meeting=meeting, by=request.user, now=timezone.now())
    return _done(request, meeting, "meeting", anchor="agenda")
