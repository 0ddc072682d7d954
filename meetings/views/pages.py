"""The home page and the meeting list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.teams import current_membership

from ..forms import MeetingFilterForm
from ..models import ActionItem, Attendee, Meeting
from .access import team_members

PAGE_SIZE = 20


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
    members = team_members(membership.team_id)
    form = MeetingFilterForm(request.GET or None, members=members)
    meetings = (
        Meeting.objects.for_user(request.user)
        .for_team(membership.team)
        .with_status(now)
        .select_related("organizer")
        .upcoming_then_past(now)
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
