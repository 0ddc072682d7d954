"""The recap editor on the meeting page: notes, decisions, action items, publish, acknowledge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reselect, retarget

from .. import services
from ..forms import ActionItemForm, DecisionForm, RecapForm
from .access import (
    changeable_meeting,
    is_attendee,
    require_meeting_change,
    team_members,
    viewable_meeting,
)
from .rendering import confirm_remove, done, flash_problems, flashed, render_meeting


@login_required
@require_POST
def recap_save(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    items = list(meeting.agenda_items.all())
    form = RecapForm(request.POST, items=items)
    if not form.is_valid():
        return render_meeting(request, meeting, "recap", recap_form=form)
    data = form.cleaned_data
    with flashed(request, "Recap draft saved."):
        services.save_recap(
            meeting=meeting,
            summary=data["recap_summary"],
            notes=data["recap_notes"],
            no_action_items=data["no_action_items"],
            outcomes=form.outcomes(),
            by=request.user,
            now=timezone.now(),
        )
    return done(request, meeting, "recap")


@login_required
@require_POST
def decision_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    form = DecisionForm(request.POST, prefix="decision")
    if not form.is_valid():
        return render_meeting(request, meeting, "recap", decision_form=form)
    with flashed(request, "Decision recorded."):
        services.record_decision(
            meeting=meeting, text=form.cleaned_data["text"], by=request.user, now=timezone.now()
        )
    # Back in the empty field, ready for the next decision (as after adding an agenda item).
    return done(
        request, meeting, "recap", anchor="decisions", focus_field=("decision_form", "text")
    )


@login_required
def decision_edit(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    decision = get_object_or_404(meeting.decisions, pk=decision_pk)
    require_meeting_change(request, meeting)
    prefix = f"decision{decision.pk}"
    if request.method == "POST":
        form = DecisionForm(request.POST, prefix=prefix)
        if form.is_valid():
            with flashed(request, "Decision saved."):
                services.edit_decision(
                    decision=decision,
                    text=form.cleaned_data["text"],
                    by=request.user,
                    now=timezone.now(),
                )
            return done(request, meeting, "recap", anchor="decisions", focus_decision=decision.pk)
    elif request.method == "GET":
        if not meeting.recap_is_open(timezone.now()):
            messages.error(request, "The recap can no longer change.")
            return done(request, meeting, "recap")
        form = DecisionForm(initial={"text": decision.text}, prefix=prefix)
        form.fields["text"].widget.attrs["autofocus"] = True
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render_meeting(
        request, meeting, "recap", editing_decision=decision.pk, decision_edit_form=form
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_remove(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    decision = get_object_or_404(meeting.decisions, pk=decision_pk)
    require_meeting_change(request, meeting)
    if request.method == "GET":
        return confirm_remove(
            request, meeting, question="Remove this decision?", anchor=f"decision-{decision.pk}"
        )
    with flashed(request, "Decision removed."):
        services.remove_decision(decision=decision, by=request.user, now=timezone.now())
    return done(request, meeting, "recap", anchor="decisions", focus="decision-list")


@login_required
@require_POST
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    form = ActionItemForm(
        request.POST, members=team_members(meeting.team_id), meeting=meeting, prefix="action"
    )
    if not form.is_valid():
        return render_meeting(request, meeting, "recap", action_form=form)
    data = form.cleaned_data
    with flashed(request, f"Action item assigned to {data['owner'].name}."):
        services.assign_action_item(
            meeting=meeting,
            description=data["description"],
            owner=data["owner"],
            due_date=data["due_date"],
            created_by=request.user,
            now=timezone.now(),
        )
    return done(
        request,
        meeting,
        "recap",
        anchor="action-items",
        focus_field=("action_form", "description"),
    )


@login_required
def action_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    item = get_object_or_404(meeting.action_items, pk=item_pk)
    require_meeting_change(request, meeting)
    members = team_members(meeting.team_id)
    prefix = f"action{item.pk}"
    if request.method == "POST":
        form = ActionItemForm(request.POST, members=members, meeting=meeting, prefix=prefix)
        if form.is_valid():
            data = form.cleaned_data
            with flashed(request, "Action item saved."):
                services.edit_action_item(
                    item=item,
                    description=data["description"],
                    owner=data["owner"],
                    due_date=data["due_date"],
                    by=request.user,
                    now=timezone.now(),
                )
            return done(request, meeting, "recap", anchor="action-items", focus_action=item.pk)
    elif request.method == "GET":
        if not meeting.recap_is_open(timezone.now()):
            messages.error(request, "The recap can no longer change.")
            return done(request, meeting, "recap")
        initial = {"description": item.description, "owner": item.owner_id,
                   "due_date": item.due_date}  # fmt: skip
        form = ActionItemForm(initial=initial, members=members, meeting=meeting, prefix=prefix)
        form.fields["description"].widget.attrs["autofocus"] = True
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render_meeting(request, meeting, "recap", editing_action=item.pk, action_edit_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def action_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    item = get_object_or_404(meeting.action_items, pk=item_pk)
    require_meeting_change(request, meeting)
    if request.method == "GET":
        question = f"Remove the action item “{item.description}”?"
        return confirm_remove(request, meeting, question=question, anchor=f"action-item-{item.pk}")
    with flashed(request, "Action item removed."):
        services.remove_action_item(item=item, by=request.user, now=timezone.now())
    return done(request, meeting, "recap", anchor="action-items", focus="action-list")


def _refused_publish(request: HttpRequest, meeting, form: RecapForm) -> HttpResponse:
    """The recap form again with what was typed and why it was refused. With htmx,
    only the form is swapped (not the whole meeting, as a publish does), so text
    typed in the decision and action item forms survives."""
    response = render_meeting(request, meeting, "meeting", recap_form=form)
    if request.htmx:
        reselect(retarget(response, "#recap-form"), "#recap-form")
    return response


@login_required
@require_POST
def recap_publish(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    now = timezone.now()
    form = None
    try:
        if "recap_summary" in request.POST:
            # The Publish button sits in the recap form: publish what was typed,
            # all or nothing.
            form = RecapForm(request.POST, items=list(meeting.agenda_items.all()))
            if not form.is_valid():
                return _refused_publish(request, meeting, form)
            services.save_and_publish_recap(
                meeting=meeting,
                by=request.user,
                summary=form.cleaned_data["recap_summary"],
                notes=form.cleaned_data["recap_notes"],
                no_action_items=form.cleaned_data["no_action_items"],
                outcomes=form.outcomes(),
                now=now,
            )
        else:
            services.publish_recap(meeting=meeting, by=request.user, now=now)
    except ValidationError as error:
        flash_problems(request, error)
        if form is not None:
            # Nothing was saved; show the form again with what was typed.
            meeting.refresh_from_db()
            return _refused_publish(request, meeting, form)
        return done(request, meeting, "meeting", anchor="recap")
    messages.success(request, "Recap published to every attendee.")
    return done(request, meeting, "meeting", anchor="recap")


@login_required
@require_POST
def recap_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    if not is_attendee(meeting, request.user):
        raise PermissionDenied("Only attendees acknowledge a recap.")
    with flashed(request, "Thanks: the organizer can see that you read the recap."):
        services.acknowledge_recap(meeting=meeting, user=request.user, now=timezone.now())
    return done(request, meeting, "meeting", anchor="recap")
