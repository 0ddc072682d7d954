"""Settling it in writing on the meeting page: comments on agenda items, an item
settled (or reopened) by its owner or the organizer, and the meeting shortened to
what is left or settled in writing altogether.

Comments are for the meeting's attendees and the team's admins; other members of
the team see neither the comments nor their count (`may_discuss`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST
from django_htmx.http import reselect, retarget

from .. import services
from ..forms import CommentForm, ResolutionForm, SettleMeetingForm
from .access import changeable_meeting, discussable_meeting, settleable_item, team_members
from .rendering import done, flash_problems, flashed, render_meeting

# -- comments ----------------------------------------------------------------------


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = discussable_meeting(request, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    form = CommentForm(request.POST, item=item)
    if not form.is_valid():
        return render_meeting(request, meeting, "agenda", comment_form=form,
                              comment_item=item.pk, open_discussion=item.pk)  # fmt: skip
    with flashed(request, f"Comment added to “{item.title}”."):
        services.add_comment(
            item=item, author=request.user, body=form.cleaned_data["body"], now=timezone.now()
        )
    if request.htmx:
        # Only this item's discussion is swapped (hx-select): the fresh list and an
        # empty form that takes the focus for the next comment.
        return done(request, meeting, "agenda", open_discussion=item.pk, focus_comment=item.pk)
    url = reverse("meetings:detail", args=[meeting.pk])
    return redirect(f"{url}?discussion={item.pk}#item-{item.pk}-discussion")


# -- settling an item --------------------------------------------------------------


@login_required
@require_POST
def item_settle(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = settleable_item(request, pk, item_pk)
    meeting = item.meeting
    form = ResolutionForm(request.POST, item=item)
    if not form.is_valid():
        return render_meeting(request, meeting, "agenda", resolution_form=form,
                              resolution_item=item.pk)  # fmt: skip
    with flashed(request, f"Settled “{item.title}” in writing."):
        services.settle_item(item=item, resolution=form.cleaned_data["resolution"],
                             by=request.user, now=timezone.now())  # fmt: skip
    return done(request, meeting, "agenda", anchor=f"item-{item.pk}", focus_settle=item.pk)


@login_required
@require_POST
def item_unsettle(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = settleable_item(request, pk, item_pk)
    meeting = item.meeting
    with flashed(request, f"Reopened “{item.title}” for the meeting."):
        services.unsettle_item(item=item, by=request.user, now=timezone.now())
    return done(request, meeting, "agenda", anchor=f"item-{item.pk}", focus_settle=item.pk)


# -- shortening and settling the meeting ---------------------------------------------


@login_required
@require_POST
def meeting_shorten(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    now = timezone.now()
    try:
        services.shorten_meeting(meeting=meeting, by=request.user, now=now)
    except ValidationError as error:
        flash_problems(request, error)
    else:
        end = timezone.localtime(meeting.ends_at)
        told = (
            " Attendees were sent the updated invitation by email."
            if meeting.agenda_sent_at
            else " The agenda has not been sent, so no one was emailed."
        )
        messages.success(
            request,
            f"Shortened to {meeting.duration_minutes} min: it now ends at "
            f"{date_format(end, 'H:i')}.{told}",
        )
    return done(request, meeting, "meeting", anchor="agenda")


@login_required
@require_POST
def meeting_settle(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Settled in writing: no meeting needed": the recap goes out now, calendars are
    told the meeting will not take place. Refused as a whole, nothing changes."""
    meeting = changeable_meeting(request, pk)
    now = timezone.now()
    form = SettleMeetingForm(request.POST, members=team_members(meeting.team_id),
                             meeting=meeting, due=meeting.suggested_due_date(now))  # fmt: skip
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.settle_meeting_in_writing(
                meeting=meeting,
                by=request.user,
                summary=data["summary"],
                notes=data["notes"],
                no_action_items=data["no_action_items"],
                actions=form.action_rows(),
                now=now,
            )
        except ValidationError as error:
            flash_problems(request, error)
            meeting.refresh_from_db()
        else:
            messages.success(
                request,
                "Settled in writing: no meeting needed. Attendees get the recap, and their "
                "calendars are told the meeting will not take place.",
            )
            return done(request, meeting, "meeting", anchor="top")
    # Refused: the form again with what was typed; with htmx only the form is
    # swapped, so nothing typed elsewhere on the page is lost.
    response = render_meeting(request, meeting, "meeting", settle_form=form)
    if request.htmx:
        reselect(retarget(response, "#meeting-settle"), "#meeting-settle")
    return response
