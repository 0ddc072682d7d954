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

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership, User
from accounts.teams import current_membership, memberships_of

from . import series, services
from .forms import (
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
from .models import ActionItem, AgendaItem, Attendee, Decision, Meeting

PAGE_SIZE = 20


# -- helpers ------------------------------------------------------------------


def _meeting_or_404(request: HttpRequest, pk: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.for_user(request.user).select_related("team", "organizer"), pk=pk
    )


def _membership(request: HttpRequest, team_id: int) -> Membership | None:
    return next((m for m in memberships_of(request) if m.team_id == team_id), None)


def _can_edit(request: HttpRequest, meeting: Meeting) -> bool:
    return meeting.can_be_changed_by(request.user, _membership(request, meeting.team_id))


def _require_edit(request: HttpRequest, meeting: Meeting) -> None:
    if not _can_edit(request, meeting):
        raise PermissionDenied("Only the organizer and team admins change this meeting.")


def _team_members(team_id: int) -> list[User]:
    return list(
        User.objects.filter(memberships__team_id=team_id).order_by("display_name", "email")
    )


def _recap_editable(meeting: Meeting) -> bool:
    return (
        not meeting.canceled_at
        and not meeting.recap_published_at
        and meeting.has_started(timezone.now())
    )


def _flash_problems(request: HttpRequest, error: ValidationError) -> None:
    # One message per broken rule: RuleBroken carries a list.
    for message in error.messages:
        messages.error(request, message)


def _local_times(meeting: Meeting, attendees: list[Attendee]) -> list[str]:
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


def _detail_context(request: HttpRequest, meeting: Meeting, **extra) -> dict:
    """Everything the meeting page and its partials need, in a constant number of queries."""
    now = timezone.now()
    user = request.user
    attendees = list(meeting.attendees.select_related("user").order_by("user__display_name"))
    items = list(meeting.agenda_items.select_related("owner", "added_by"))
    decisions = list(meeting.decisions.all())
    action_items = list(meeting.action_items.select_related("owner"))
    members = _team_members(meeting.team_id)
    me = next((a for a in attendees if a.user_id == user.pk), None)
    can_edit = _can_edit(request, meeting)
    status = meeting.status_at(now)
    agenda_open = not meeting.canceled_at and now < meeting.starts_at
    recap_open = (
        not meeting.canceled_at and not meeting.recap_published_at and now >= meeting.starts_at
    )
    total = sum(item.timebox_minutes or 0 for item in items)
    # What still stops the agenda from going out, worded like the send rule's messages.
    missing = []
    if not meeting.desired_outcome.strip():
        missing.append("a desired outcome")
    if not items:
        missing.append("at least one item")
    context = {
        "meeting": meeting,
        "status": status,
        "now": now,
        "attendees": attendees,
        "local_times": _local_times(meeting, attendees),
        "items": items,
        "decisions": decisions,
        "action_items": action_items,
        "me": me,
        "can_edit": can_edit,
        "is_attendee": me is not None,
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
        "outcome_form": OutcomeForm(initial={"desired_outcome": meeting.desired_outcome}),
        "item_form": AgendaItemForm(members=members, prefix="new")
        if can_edit
        else TalkingPointForm(prefix="new"),
        "recap_form": RecapForm(items=items, initial=RecapForm.initial_for(meeting, items)),
        "decision_form": DecisionForm(prefix="decision"),
        "action_form": ActionItemForm(
            members=members,
            meeting=meeting,
            prefix="action",
            initial={"due_date": meeting.local_date},
        ),
        "members": members,
        "zone_name": timezone.get_current_timezone_name(),
    }
    context.update(extra)
    return context


def _render_meeting(request: HttpRequest, meeting: Meeting, part: str, **extra) -> HttpResponse:
    """The whole page without htmx; only `part` (a partialdef) with it."""
    context = _detail_context(request, meeting, **extra)
    if request.htmx:
        # `fragment` tells the partial to carry the flash messages out of band.
        context["fragment"] = part
        return render(request, f"meetings/detail.html#{part}", context)
    return render(request, "meetings/detail.html", context)


def _done(request: HttpRequest, meeting: Meeting, part: str, anchor: str = "") -> HttpResponse:
    """After a successful change: the fresh fragment (htmx) or a redirect (plain POST)."""
    if request.htmx:
        meeting.refresh_from_db()
        return _render_meeting(request, meeting, part)
    return redirect(reverse("meetings:detail", args=[meeting.pk]) + (f"#{anchor or part}"))


# -- home and lists -----------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user = request.user
    mine = Meeting.objects.for_user(user)
    upcoming = list(
        mine.filter(attendees__user=user)
        .upcoming(now)
        .with_status(now)
        .select_related("team", "organizer")
        .annotate(item_count=Count("agenda_items"))
        .order_by("starts_at")[:20]
    )
    awaiting_recap = list(
        mine.filter(organizer=user)
        .awaiting_recap(now)
        .select_related("team")
        .order_by("ends_at")[:20]
    )
    for meeting in awaiting_recap:
        meeting.recap_due_at = meeting.ends_at + meeting.team.recap_grace
        meeting.overdue = now > meeting.recap_due_at
    to_acknowledge = list(
        Attendee.objects.filter(
            user=user,
            acknowledged_at__isnull=True,
            meeting__in=mine.filter(recap_published_at__isnull=False).exclude(organizer=user),
        )
        .select_related("meeting", "meeting__organizer")
        .order_by("-meeting__recap_published_at")[:20]
    )
    today = timezone.localdate()
    my_actions = list(
        ActionItem.objects.for_user(user)
        .filter(owner=user)
        .open()
        .select_related("meeting")
        .order_by("due_date", "pk")[:20]
    )
    for item in my_actions:
        item.overdue = item.is_overdue(today)
    return render(
        request,
        "meetings/home.html",
        {
            "upcoming": upcoming,
            "awaiting_recap": awaiting_recap,
            "to_acknowledge": to_acknowledge,
            "my_actions": my_actions,
            "overdue_count": sum(item.overdue for item in my_actions),
            "now": now,
        },
    )


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise Http404("You are not a member of any team yet.")
    now = timezone.now()
    members = _team_members(membership.team_id)
    form = MeetingFilterForm(request.GET or None, members=members)
    meetings = (
        Meeting.objects.for_user(request.user)
        .for_team(membership.team)
        .with_status(now)
        .select_related("organizer")
        .order_by("-starts_at", "-pk")
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            meetings = meetings.filter(status=data["status"])
        if data["organizer"]:
            meetings = meetings.filter(organizer=data["organizer"])
        # __date uses the active zone: "from Tuesday" means my Tuesday.
        if data["date_from"]:
            meetings = meetings.filter(starts_at__date__gte=data["date_from"])
        if data["date_to"]:
            meetings = meetings.filter(starts_at__date__lte=data["date_to"])
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "team": membership.team}
    if request.htmx:
        return render(request, "meetings/list.html#results", context)
    return render(request, "meetings/list.html", context)


# -- create, edit, cancel ------------------------------------------------------


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
    chosen = {int(v) for v in request.GET.getlist("attendees") if v.isdigit()}
    members = [u for u in _team_members(membership.team_id) if u.pk != request.user.pk]
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


def _save_meeting_form(request: HttpRequest, meeting: Meeting | None) -> HttpResponse:
    if meeting is None:
        membership = current_membership(request)
        if membership is None:
            messages.error(request, "Join a team first: meetings belong to a team.")
            return redirect("meetings:home")
        team = membership.team
    else:
        team = meeting.team
    members = _team_members(team.pk)
    organizer = meeting.organizer if meeting else request.user
    if request.method == "POST":
        form = MeetingForm(request.POST, members=members, organizer=organizer)
        if form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            try:
                if meeting is None:
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
                        messages.success(
                            request,
                            "Meeting recorded. It already started, so it is held without "
                            "agenda; write the recap when it ends.",
                        )
                    else:
                        messages.success(request, "Meeting created. Now build its agenda.")
                else:
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
                    messages.success(request, _saved_message(meeting, before, now))
                return redirect("meetings:detail", meeting.pk)
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
    else:
        initial = MeetingForm.initial_for(meeting) if meeting else MeetingForm.initial_new()
        form = MeetingForm(initial=initial, members=members, organizer=organizer)
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
            "local_times": _local_times(meeting, list(meeting.attendees.select_related("user")))
            if meeting
            else [],
        },
    )


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    return _save_meeting_form(request, None)


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    return _save_meeting_form(request, meeting)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    try:
        services.cancel_meeting(meeting=meeting, by=request.user, now=timezone.now())
        messages.success(request, "Meeting canceled. Attendees will be told.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "meeting", anchor="top")


# -- the meeting page and its agenda ------------------------------------------


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    if (
        meeting.series_id
        and not meeting.agenda_sent_at
        and not meeting.canceled_at
        and timezone.now() < meeting.starts_at
        and _can_edit(request, meeting)
    ):
        # The organizer opening a series meeting's agenda is "starting" it: bring in
        # open action items and deferred items now (idempotent; the beat task does
        # the same for series whose recap was published lately).
        series.carry_over(meeting, now=timezone.now())
    return _render_meeting(request, meeting, "meeting")


@login_required
@require_POST
def agenda_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _render_meeting(request, meeting, "agenda", outcome_form=form)
    try:
        services.set_desired_outcome(
            meeting=meeting, text=form.cleaned_data["desired_outcome"], now=timezone.now()
        )
        messages.success(request, "Desired outcome saved.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "agenda")


@login_required
@require_POST
def agenda_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    can_edit = _can_edit(request, meeting)
    if not can_edit and not meeting.attendees.filter(user=request.user).exists():
        raise PermissionDenied("Only attendees add talking points.")
    if can_edit:
        form = AgendaItemForm(request.POST, members=_team_members(meeting.team_id), prefix="new")
    else:
        form = TalkingPointForm(request.POST, prefix="new")
    if not form.is_valid():
        return _render_meeting(request, meeting, "agenda", item_form=form)
    data = form.cleaned_data
    try:
        services.propose_agenda_item(
            meeting=meeting,
            title=data["title"],
            added_by=request.user,
            owner=data.get("owner"),
            timebox_minutes=data.get("timebox_minutes"),
            notes=data["notes"],
            now=timezone.now(),
        )
        messages.success(request, "Item added." if can_edit else "Talking point added.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "agenda")


def _item_or_404(meeting: Meeting, item_pk: int) -> AgendaItem:
    return get_object_or_404(meeting.agenda_items.select_related("meeting"), pk=item_pk)


@login_required
def agenda_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = _item_or_404(meeting, item_pk)
    _require_edit(request, meeting)
    members = _team_members(meeting.team_id)
    if request.method == "POST":
        form = AgendaItemForm(request.POST, members=members, prefix=f"item{item.pk}")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.edit_agenda_item(
                    item=item,
                    title=data["title"],
                    owner=data["owner"],
                    timebox_minutes=data["timebox_minutes"],
                    notes=data["notes"],
                    now=timezone.now(),
                )
                messages.success(request, "Item saved.")
            except ValidationError as error:
                _flash_problems(request, error)
            return _done(request, meeting, "agenda", anchor=f"item-{item.pk}")
    elif request.method == "GET":
        if meeting.canceled_at or meeting.has_started(timezone.now()):
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
    item = _item_or_404(meeting, item_pk)
    _require_edit(request, meeting)
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        messages.error(request, "Move an item up or down.")
        return _done(request, meeting, "agenda")
    try:
        services.move_agenda_item(
            item=item, offset=-1 if direction == "up" else 1, now=timezone.now()
        )
        messages.success(request, f"Moved “{item.title}” {direction}.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "agenda", anchor=f"item-{item.pk}")


@login_required
@require_POST
def agenda_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = _item_or_404(meeting, item_pk)
    # Attendees may take back their own talking points; everything else is the
    # organizer's and the admins'.
    own_point = item.added_by_id == request.user.pk and (
        meeting.attendees.filter(user=request.user).exists()
    )
    if not own_point:
        _require_edit(request, meeting)
    try:
        services.remove_agenda_item(item=item, now=timezone.now())
        messages.success(request, f"Removed “{item.title}”.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "agenda")


@login_required
@require_POST
def agenda_send(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    try:
        services.send_agenda(meeting=meeting, by=request.user, now=timezone.now())
        messages.success(request, "Agenda sent to every attendee.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "meeting", anchor="agenda")


@login_required
@require_POST
def agenda_amend(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    try:
        services.amend_agenda(meeting=meeting, by=request.user, now=timezone.now())
        messages.success(request, "Changes sent to every attendee.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "meeting", anchor="agenda")


# -- recap ----------------------------------------------------------------------


@login_required
@require_POST
def recap_save(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    items = list(meeting.agenda_items.all())
    form = RecapForm(request.POST, items=items)
    if not form.is_valid():
        return _render_meeting(request, meeting, "recap", recap_form=form)
    data = form.cleaned_data
    try:
        services.save_recap(
            meeting=meeting,
            summary=data["recap_summary"],
            notes=data["recap_notes"],
            no_action_items=data["no_action_items"],
            outcomes=form.outcomes(),
            now=timezone.now(),
        )
        messages.success(request, "Recap draft saved.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "recap")


@login_required
@require_POST
def decision_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    form = DecisionForm(request.POST, prefix="decision")
    if not form.is_valid():
        return _render_meeting(request, meeting, "recap", decision_form=form)
    try:
        services.record_decision(
            meeting=meeting, text=form.cleaned_data["text"], now=timezone.now()
        )
        messages.success(request, "Decision recorded.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "recap", anchor="decisions")


@login_required
def decision_edit(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    decision = get_object_or_404(Decision, meeting=meeting, pk=decision_pk)
    _require_edit(request, meeting)
    decision.meeting = meeting
    prefix = f"decision{decision.pk}"
    if request.method == "POST":
        form = DecisionForm(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                services.edit_decision(
                    decision=decision, text=form.cleaned_data["text"], now=timezone.now()
                )
                messages.success(request, "Decision saved.")
            except ValidationError as error:
                _flash_problems(request, error)
            return _done(request, meeting, "recap", anchor="decisions")
    elif request.method == "GET":
        if not _recap_editable(meeting):
            messages.error(request, "The recap can no longer change.")
            return _done(request, meeting, "recap")
        form = DecisionForm(initial={"text": decision.text}, prefix=prefix)
        form.fields["text"].widget.attrs["autofocus"] = True
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return _render_meeting(
        request, meeting, "recap", editing_decision=decision.pk, decision_edit_form=form
    )


@login_required
@require_POST
def decision_remove(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    decision = get_object_or_404(Decision, meeting=meeting, pk=decision_pk)
    _require_edit(request, meeting)
    decision.meeting = meeting
    try:
        services.remove_decision(decision=decision, now=timezone.now())
        messages.success(request, "Decision removed.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "recap", anchor="decisions")


@login_required
@require_POST
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    form = ActionItemForm(
        request.POST, members=_team_members(meeting.team_id), meeting=meeting, prefix="action"
    )
    if not form.is_valid():
        return _render_meeting(request, meeting, "recap", action_form=form)
    data = form.cleaned_data
    try:
        services.assign_action_item(
            meeting=meeting,
            description=data["description"],
            owner=data["owner"],
            due_date=data["due_date"],
            created_by=request.user,
            now=timezone.now(),
        )
        messages.success(request, f"Action item assigned to {data['owner'].name}.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "recap", anchor="action-items")


@login_required
def action_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = get_object_or_404(ActionItem, meeting=meeting, pk=item_pk)
    _require_edit(request, meeting)
    item.meeting = meeting
    members = _team_members(meeting.team_id)
    prefix = f"action{item.pk}"
    if request.method == "POST":
        form = ActionItemForm(request.POST, members=members, meeting=meeting, prefix=prefix)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.edit_action_item(
                    item=item,
                    description=data["description"],
                    owner=data["owner"],
                    due_date=data["due_date"],
                    now=timezone.now(),
                )
                messages.success(request, "Action item saved.")
            except ValidationError as error:
                _flash_problems(request, error)
            return _done(request, meeting, "recap", anchor="action-items")
    elif request.method == "GET":
        if not _recap_editable(meeting):
            messages.error(request, "The recap can no longer change.")
            return _done(request, meeting, "recap")
        initial = {"description": item.description, "owner": item.owner_id,
                   "due_date": item.due_date}  # fmt: skip
        form = ActionItemForm(initial=initial, members=members, meeting=meeting, prefix=prefix)
        form.fields["description"].widget.attrs["autofocus"] = True
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return _render_meeting(
        request, meeting, "recap", editing_action=item.pk, action_edit_form=form
    )


@login_required
@require_POST
def action_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    item = get_object_or_404(ActionItem, meeting=meeting, pk=item_pk)
    _require_edit(request, meeting)
    item.meeting = meeting
    try:
        services.remove_action_item(item=item, now=timezone.now())
        messages.success(request, "Action item removed.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "recap", anchor="action-items")


@login_required
@require_POST
def recap_publish(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    _require_edit(request, meeting)
    now = timezone.now()
    form = None
    try:
        if "recap_summary" in request.POST:
            # The Publish button sits in the recap form: publish what was typed,
            # all or nothing.
            form = RecapForm(request.POST, items=list(meeting.agenda_items.all()))
            if not form.is_valid():
                return _render_meeting(request, meeting, "meeting", recap_form=form)
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
        _flash_problems(request, error)
        if form is not None:
            # Nothing was saved; show the form again with what was typed.
            meeting.refresh_from_db()
            return _render_meeting(request, meeting, "meeting", recap_form=form)
        return _done(request, meeting, "meeting", anchor="recap")
    messages.success(request, "Recap published to every attendee.")
    return _done(request, meeting, "meeting", anchor="recap")


@login_required
@require_POST
def recap_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    if not meeting.attendees.filter(user=request.user).exists():
        raise PermissionDenied("Only attendees acknowledge a recap.")
    try:
        services.acknowledge_recap(meeting=meeting, user=request.user, now=timezone.now())
        messages.success(request, "Thanks: the organizer can see that you read the recap.")
    except ValidationError as error:
        _flash_problems(request, error)
    return _done(request, meeting, "meeting", anchor="recap")


# -- action items ----------------------------------------------------------------


def _action_items_context(request: HttpRequest) -> dict:
    user = request.user
    membership = current_membership(request)
    team_id = membership.team_id if membership else None
    members = _team_members(team_id) if team_id else [user]
    recent_meetings = list(
        Meeting.objects.for_user(user)
        .filter(team_id=team_id, action_items__isnull=False)
        .distinct()
        .order_by("-starts_at")[:100]
    )
    form = ActionItemFilterForm(request.GET or None, members=members, meetings=recent_meetings)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    scope = data.get("scope") or "mine"
    state = data.get("state") or "open"
    today = timezone.localdate()
    items = ActionItem.objects.for_user(user).select_related("meeting", "owner")
    # "mine" spans all my teams; "team" is the current team's.
    items = items.filter(owner=user) if scope == "mine" else items.filter(meeting__team_id=team_id)
    if state == "open":
        items = items.open()
    elif state == "overdue":
        items = items.overdue(today)
    elif state == "done":
        items = items.filter(status=ActionItem.Status.DONE)
    if data.get("owner"):
        items = items.filter(owner=data["owner"])
    if data.get("meeting"):
        items = items.filter(meeting_id=data["meeting"])
    items = items.order_by("status", "due_date", "pk")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    editable = _action_editable_ids(request, page.object_list)
    for item in page.object_list:
        item.overdue = item.is_overdue(today)
        item.can_change = item.pk in editable
    query = request.GET.copy()
    query.pop("page", None)
    return {"form": form, "page": page, "query": query.urlencode(), "scope": scope}


def _action_editable_ids(request: HttpRequest, items) -> set[int]:
    """Owners mark their own items; the organizer and team admins any of the meeting's."""
    admin_teams = {m.team_id for m in memberships_of(request) if m.is_admin}
    return {
        item.pk
        for item in items
        if item.owner_id == request.user.pk
        or item.meeting.organizer_id == request.user.pk
        or item.meeting.team_id in admin_teams
    }


@login_required
@require_GET
def action_items(request: HttpRequest) -> HttpResponse:
    context = _action_items_context(request)
    if request.htmx and request.htmx.target == "action-results":
        return render(request, "meetings/action_items.html#results", context)
    return render(request, "meetings/action_items.html", context)


@login_required
@require_POST
def action_item_status(request: HttpRequest, item_pk: int) -> HttpResponse:
    item = get_object_or_404(
        ActionItem.objects.for_user(request.user).select_related("meeting", "owner"), pk=item_pk
    )
    if item.pk not in _action_editable_ids(request, [item]):
        raise PermissionDenied("Only the owner, the organizer and team admins change this item.")
    form = ActionStatusForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["status"] == ActionItem.Status.DONE:
            services.complete_action_item(item=item, now=timezone.now())
            # The messages partial already labels a success "Done:".
            messages.success(request, f"“{item.description[:60]}” marked done.")
        else:
            services.reopen_action_item(item=item)
            messages.success(request, f"“{item.description[:60]}” reopened.")
    else:
        messages.error(request, "Choose done or open.")
    if request.htmx:
        item.overdue = item.is_overdue(timezone.localdate())
        item.can_change = True
        return render(request, "meetings/action_items.html#row", {"item": item, "row_only": True})
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("meetings:action_items")
