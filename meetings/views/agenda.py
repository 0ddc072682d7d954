"""The agenda editor on the meeting page: outcome, items, send and amend."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..forms import AgendaItemForm, OutcomeForm, TalkingPointForm
from ..models import NothingChanged
from .access import (
    can_change_meeting,
    changeable_meeting,
    is_attendee,
    require_meeting_change,
    team_members,
    viewable_meeting,
)
from .rendering import confirm_remove, done, flashed, render_meeting


@login_required
@require_POST
def agenda_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return render_meeting(request, meeting, "agenda", outcome_form=form)
    with flashed(request, "Desired outcome saved."):
        services.set_desired_outcome(
            meeting=meeting,
            text=form.cleaned_data["desired_outcome"],
            by=request.user,
            now=timezone.now(),
        )
    return done(request, meeting, "agenda")


@login_required
@require_POST
def agenda_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    can_edit = can_change_meeting(request, meeting)
    if not can_edit and not is_attendee(meeting, request.user):
        raise PermissionDenied("Only attendees add talking points.")
    if can_edit:
        form = AgendaItemForm(request.POST, members=team_members(meeting.team_id), prefix="new")
    else:
        form = TalkingPointForm(request.POST, prefix="new")
    if not form.is_valid():
        return render_meeting(request, meeting, "agenda", item_form=form)
    data = form.cleaned_data
    with flashed(request, "Item added." if can_edit else "Talking point added."):
        services.propose_agenda_item(
            meeting=meeting,
            title=data["title"],
            added_by=request.user,
            owner=data.get("owner"),
            timebox_minutes=data.get("timebox_minutes"),
            notes=data["notes"],
            now=timezone.now(),
        )
    # The focus goes back to the empty title, ready for the next item: the new
    # one is in the list just above and "Item added." is announced, and adding
    # several items in a row is the common case.
    return done(request, meeting, "agenda", focus_field=("item_form", "title"))


@login_required
def agenda_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    require_meeting_change(request, meeting)
    members = team_members(meeting.team_id)
    if request.method == "POST":
        form = AgendaItemForm(request.POST, members=members, prefix=f"item{item.pk}")
        if form.is_valid():
            data = form.cleaned_data
            with flashed(request, "Item saved."):
                services.edit_agenda_item(
                    item=item,
                    title=data["title"],
                    owner=data["owner"],
                    timebox_minutes=data["timebox_minutes"],
                    notes=data["notes"],
                    by=request.user,
                    now=timezone.now(),
                )
            return done(request, meeting, "agenda", anchor=f"item-{item.pk}", focus_item=item.pk)
    elif request.method == "GET":
        if not meeting.agenda_is_open(timezone.now()):
            messages.error(request, "This agenda can no longer change.")
            return done(request, meeting, "agenda")
        form = AgendaItemForm(
            initial=AgendaItemForm.initial_for(item), members=members, prefix=f"item{item.pk}"
        )
        # Keyboard users land in the field they came to change (htmx honours autofocus).
        form.fields["title"].widget.attrs["autofocus"] = True
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render_meeting(request, meeting, "agenda", editing_item=item.pk, edit_form=form)


@login_required
@require_POST
def agenda_item_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    require_meeting_change(request, meeting)
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        messages.error(request, "Move an item up or down.")
        return done(request, meeting, "agenda")
    with flashed(request, f"Moved “{item.title}” {direction}."):
        services.move_agenda_item(
            item=item, offset=-1 if direction == "up" else 1, by=request.user, now=timezone.now()
        )
    return done(request, meeting, "agenda", anchor=f"item-{item.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def agenda_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    # Attendees may take back their own talking points; everything else is the
    # organizer's and the admins'.
    own_point = item.added_by_id == request.user.pk and is_attendee(meeting, request.user)
    if not own_point:
        require_meeting_change(request, meeting)
    if request.method == "GET":
        question = f"Remove “{item.title}” from the agenda?"
        return confirm_remove(request, meeting, question=question, anchor=f"item-{item.pk}")
    with flashed(request, f"Removed “{item.title}”."):
        services.remove_agenda_item(item=item, by=request.user, now=timezone.now())
    return done(request, meeting, "agenda", focus="agenda-item-list")


@login_required
@require_POST
def agenda_send(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    with flashed(request, "Agenda sent to every attendee."):
        services.send_agenda(meeting=meeting, by=request.user, now=timezone.now())
    return done(request, meeting, "meeting", anchor="agenda", focus="amend-agenda")


@login_required
@require_POST
def agenda_amend(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    try:
        with flashed(request, "Changes sent to every attendee."):
            services.amend_agenda(meeting=meeting, by=request.user, now=timezone.now())
    except NothingChanged as unchanged:  # not a mistake: said as information
        messages.info(request, unchanged.message)
    return done(request, meeting, "meeting", anchor="agenda")
