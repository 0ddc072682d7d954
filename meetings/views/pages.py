"""The home page and the meeting list."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.teams import current_membership

from ..forms import MeetingFilterForm
from ..models import ActionItem, Attendee, Meeting, Series
from ..series import recurrence
from .access import team_members

PAGE_SIZE = 20


HOME_LIST = 20
HOME_LATER = 10


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """What to do now, then what is coming: a constant number of queries however many
    meetings, series and items there are (each list is one query, and capped)."""
    now = timezone.now()
    user = request.user
    today = timezone.localdate(now)
    zone = timezone.get_current_timezone()
    end_of_today = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    end_of_tomorrow = datetime.combine(today + timedelta(days=2), time(0), tzinfo=zone)
    mine = Meeting.objects.for_user(user)

    # What needs me today: agendas due by tonight, recaps owed, items due by today.
    agendas_owed = list(
        mine.filter(organizer=user)
        .awaiting_agenda(now)
        .filter(starts_at__lt=end_of_today + F("team__agenda_lead_time"))
        .annotate(item_count=Count("agenda_items"))
        .order_by("starts_at", "pk")[:HOME_LIST]
    )
    awaiting_recap = list(
        mine.filter(organizer=user)
        .awaiting_recap(now)
        .select_related("team")
        .order_by("ends_at", "pk")[:HOME_LIST]
    )
    for meeting in awaiting_recap:
        meeting.recap_due_at = meeting.ends_at + meeting.team.recap_grace
        meeting.overdue = now > meeting.recap_due_at
    items_due = list(
        ActionItem.objects.for_user(user)
        .filter(owner=user, due_date__lte=today)
        .open()
        .select_related("meeting")
        .order_by("due_date", "pk")[:HOME_LIST]
    )
    for item in items_due:
        item.overdue = item.is_overdue(today)

    # Meetings I attend: today's and tomorrow's one by one, grouped by day...
    attending = mine.filter(attendees__user=user, canceled_at__isnull=True)
    soon = list(
        attending.filter(ends_at__gt=now, starts_at__lt=end_of_tomorrow)
        .with_status(now)
        .select_related("team", "organizer")
        .annotate(item_count=Count("agenda_items"))
        .order_by("starts_at", "pk")[: HOME_LIST * 2]
    )
    tomorrow = today + timedelta(days=1)
    days = [
        ("Today", today, [m for m in soon if timezone.localdate(m.starts_at) <= today]),
        ("Tomorrow", tomorrow, [m for m in soon if timezone.localdate(m.starts_at) == tomorrow]),
    ]
    # ...then later ones: one line per series, single meetings by themselves.
    later = attending.filter(starts_at__gte=end_of_tomorrow)
    later_series = [
        _series_line(row)
        for row in later.filter(series__isnull=False)
        .values("series_id", "series__title", "series__rrule", "series__first_start")
        .annotate(next_start=Min("starts_at"), count=Count("id"))
        .order_by("next_start", "series_id")[:HOME_LATER]
    ]
    later_single = list(
        later.filter(series__isnull=True)
        .with_status(now)
        .select_related("organizer")
        .order_by("starts_at", "pk")[:HOME_LATER]
    )

    to_acknowledge = list(
        Attendee.objects.filter(
            user=user,
            acknowledged_at__isnull=True,
            # Meeting.asks_acknowledgement_from in SQL: not one's own recap.
            meeting__in=mine.filter(recap_published_at__isnull=False)
            .exclude(organizer=user)
            .exclude(recap_published_by=user),
        )
        .select_related("meeting", "meeting__organizer")
        .order_by("-meeting__recap_published_at")[:HOME_LIST]
    )
    return render(
        request,
        "meetings/home.html",
        {
            "agendas_owed": agendas_owed,
            "awaiting_recap": awaiting_recap,
            "items_due": items_due,
            "overdue_count": sum(item.overdue for item in items_due),
            "needs_me": bool(agendas_owed or awaiting_recap or items_due),
            "days": [(label, day, found) for label, day, found in days if found],
            "later_series": later_series,
            "later_single": later_single,
            "to_acknowledge": to_acknowledge,
            "now": now,
        },
    )


def _series_line(row: dict) -> dict:
    """ "Team weekly · Weekly on Mon at 09:00 · next Mon 30 Nov · 8 scheduled"."""
    rule = Series(rrule=row["series__rrule"], first_start=row["series__first_start"])
    return {
        "pk": row["series_id"],
        "title": row["series__title"],
        "rule": recurrence.describe(rule.rrule, rule.local_first_start),
        "next_start": row["next_start"],
        "count": row["count"],
    }


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
