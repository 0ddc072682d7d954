"""Create, edit and cancel a meeting, the attendee search, and the meeting page."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.http import history_page, parse_id
from accounts.models import AuditEvent, Team
from accounts.teams import current_membership

from .. import services
from ..forms import MeetingForm, SeriesForm
from ..models import Meeting
from .access import changeable_meeting, membership_in, team_members, viewable_meeting
from .rendering import done, flashed, local_times, render_meeting


@login_required
@require_GET
def member_search(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type for attendees: members of the current team only.

    Already ticked members stay in the list, so narrowing the search never
    loses a choice (the form sends the ticked ids along with `q`).
    """
    membership = current_membership(request)
    if membership is None:
        raise Http404
    query = request.GET.get("q", "").strip()[:100]
    chosen = {parse_id(v) for v in request.GET.getlist("attendees")} - {None}
    members = [u for u in team_members(membership.team_id) if u.pk != request.user.pk]
    if query:
        needle = query.casefold()
        members = [
            u
            for u in members
            if u.pk in chosen or needle in u.name.casefold() or needle in u.email.casefold()
        ]
    return render(
        request,
        "meetings/form.html#member_options",
        {"options": [(u, u.pk in chosen) for u in members], "query": query},
    )


def _saved_message(meeting: Meeting, before: tuple, now: datetime) -> str:
    """What the organizer learns after an edit: whether attendees were told.

    `update_meeting` sends a new invitation version (higher sequence) to the
    attendees of a meeting whose agenda was sent, for as long as it is upcoming.
    """
    moved = (meeting.starts_at, meeting.ends_at) != before[:2]
    told = meeting.agenda_sent_at and meeting.sequence != before[2] and now < meeting.starts_at
    if told:
        what = "Meeting moved" if moved else "Meeting saved"
        return f"{what}. Attendees were sent the updated invitation by email."
    return "Meeting moved." if moved else "Meeting saved."


def _create(request: HttpRequest, team: Team, data: dict, now: datetime) -> tuple[Meeting, str]:
    """Create the meeting; returns it with the flash message for the organizer."""
    meeting = services.create_meeting(
        team=team,
        organizer=request.user,
        title=data["title"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        time_zone=timezone.get_current_timezone_name(),
        location=data["location"],
        attendees=data["attendees"],
        now=now,
    )
    if data["starts_at"] <= now:
        return meeting, (
            "Meeting recorded. It already started, so it is held without "
            "agenda; write the recap when it ends."
        )
    return meeting, "Meeting created. Now build its agenda."


def _update(request: HttpRequest, meeting: Meeting, data: dict, now: datetime) -> str:
    """Save the edit; returns the flash message for the organizer."""
    before = (meeting.starts_at, meeting.ends_at, meeting.sequence)
    services.update_meeting(
        meeting=meeting,
        by=request.user,
        title=data["title"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        location=data["location"],
        attendees=data["attendees"],
        now=now,
    )
    return _saved_message(meeting, before, now)


def _save_meeting_form(request: HttpRequest, meeting: Meeting | None) -> HttpResponse:
    if meeting is None:
        membership = current_membership(request)
        if membership is None:
            messages.error(request, "Join a team first: meetings belong to a team.")
            return redirect("meetings:home")
        team = membership.team
    else:
        team = meeting.team
    members = team_members(team.pk)
    organizer = meeting.organizer if meeting else request.user
    if request.method == "POST":
        form = MeetingForm(request.POST, members=members, organizer=organizer)
        valid = form.is_valid()
        # From what is valid so far: shown again above the submit when refused.
        hours_notes = form.working_hours_notes(organizer=organizer, viewer=request.user)
        if valid:
            now = timezone.now()
            try:
                if meeting is None:
                    meeting, message = _create(request, team, form.cleaned_data, now)
                else:
                    message = _update(request, meeting, form.cleaned_data, now)
            except ValidationError as error:
                for problem in error.messages:
                    form.add_error(None, problem)
            else:
                messages.success(request, message)
                # Saved and flagged: a warning, not a second step to confirm.
                for note in hours_notes:
                    messages.warning(request, f"Outside working hours for {note}.")
                return redirect("meetings:detail", meeting.pk)
    # Only the pages that render the form need the attendees.
    attendees = list(meeting.attendees.select_related("user")) if meeting else []
    if request.method != "POST":
        initial = MeetingForm.initial_for(meeting) if meeting else MeetingForm.initial_new()
        form = MeetingForm(initial=initial, members=members, organizer=organizer)
        hours_notes = (
            Meeting.working_hours_notes(
                [a.user for a in attendees if a.user_id != request.user.pk],
                [(meeting.starts_at, meeting.ends_at)],
            )
            if meeting and meeting.starts_at > timezone.now()
            else []
        )
    chosen = {str(v) for v in (form["attendees"].value() or [])}
    options = [(u, str(u.pk) in chosen) for u in members if u.pk != organizer.pk]
    return render(
        request,
        "meetings/form.html",
        {
            "form": form,
            "meeting": meeting,
            "team": team,
            "options": options,
            "zone_name": timezone.get_current_timezone_name(),
            "local_times": local_times(meeting, attendees) if meeting else [],
            "hours_notes": hours_notes,
        },
    )


@login_required
@require_GET
def hours_check(request: HttpRequest) -> HttpResponse:
    """The live "outside working hours" notice of the meeting and series forms: htmx
    sends the form as it stands whenever a field changes. Reads only."""
    if "meeting" in request.GET:  # the edit form
        meeting_id = parse_id(request.GET["meeting"])
        if meeting_id is None:
            raise Http404
        meeting = changeable_meeting(request, meeting_id)
        team, organizer = meeting.team, meeting.organizer
    else:
        membership = current_membership(request)
        if membership is None:
            raise Http404
        team, organizer = membership.team, request.user
    if "first_date" in request.GET:  # the series form
        series_form = SeriesForm(request.GET, team=team, user=request.user)
        series_form.is_valid()
        notes = series_form.working_hours_notes(viewer=request.user)
    else:
        form = MeetingForm(request.GET, members=team_members(team.pk), organizer=organizer)
        form.is_valid()
        notes = form.working_hours_notes(organizer=organizer, viewer=request.user)
    return render(request, "meetings/_hours_check.html", {"hours_notes": notes})


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    return _save_meeting_form(request, None)


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    return _save_meeting_form(request, meeting)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = changeable_meeting(request, pk)
    with flashed(request, "Meeting canceled. Attendees will be told."):
        services.cancel_meeting(meeting=meeting, by=request.user, now=timezone.now())
    return done(request, meeting, "meeting", anchor="top")


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = viewable_meeting(request, pk)
    return render_meeting(request, meeting, "meeting")


@login_required
@require_GET
def meeting_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to the meeting, for the team's admins (403 to other members)."""
    meeting = viewable_meeting(request, pk)
    membership = membership_in(request, meeting.team_id)
    if membership is None or not membership.is_admin:
        raise PermissionDenied("Only the team's admins see a meeting's history.")
    events = AuditEvent.objects.filter(team_id=meeting.team_id, meeting_id=meeting.pk)
    return render(
        request, "meetings/history.html", {"meeting": meeting, **history_page(request, events)}
    )
