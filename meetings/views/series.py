"""Pages for recurring meetings: list, create, the series page and occurrence edits.

Thin views: access control is in the query (`access.viewable_series` starts from
the user's teams, so another team's series answers 404), changes go through
`meetings.series` and the meeting services, and only the organizer and team
admins change a series (403 for other members).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.teams import current_membership

from .. import series as series_service
from .. import services
from ..forms import OccurrenceForm, SeriesForm
from ..models import ActionItem, Decision, Meeting, RuleBroken, Series
from ..series import recurrence
from .access import changeable_series, series_meeting, viewable_series

PAST = 8
RUNNING_LIST = 50


def _problems(exc: RuleBroken) -> str:
    return " ".join(exc.messages)


@login_required
def series_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return render(request, "meetings/series/list.html", {"rows": [], "team": None})
    series_list = (
        Series.objects.filter(team=membership.team)
        .select_related("organizer")
        .order_by("ended_at", "title", "pk")
    )
    rows = [(s, recurrence.describe(s.rrule, s.local_first_start)) for s in series_list]
    context = {"rows": rows, "team": membership.team, "feed_url": request.user.calendar_webcal_url}
    return render(request, "meetings/series/list.html", context)


@login_required
def series_create(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise PermissionDenied("Join a team first.")
    team = membership.team
    data = request.POST or None
    if data is not None and "end_time" in data and "first_date" not in data:
        data = SeriesForm.from_meeting_form(data, time_zone=timezone.get_current_timezone_name())
    form = SeriesForm(data, team=team, user=request.user)
    if request.method == "POST" and form.is_valid() and form.cleaned_data.get("rrule"):
        data = form.cleaned_data
        try:
            series = series_service.create_series(
                team=team,
                organizer=request.user,
                title=data["title"],
                first_start=data["first_start"],
                duration=data["duration"],
                time_zone=data["time_zone"],
                rrule=data["rrule"],
                location=data["location"],
                attendees=data["attendees"],
                template=data["template"],
                now=timezone.now(),
            )
        except RuleBroken as exc:
            form.add_error(None, _problems(exc))
        else:
            count = series.upcoming_meetings(timezone.now()).filter(canceled_at=None).count()
            if count:
                messages.success(
                    request,
                    f"“{series.title}” is set up; {count} meeting{pluralize(count)} "
                    f"{pluralize(count, 'is,are')} scheduled so far.",
                )
            else:
                messages.warning(
                    request,
                    f"“{series.title}” is set up, but no meeting of it falls in the next "
                    f"{settings.SERIES_HORIZON_DAYS} days; check its first date and end.",
                )
            for note in form.working_hours_notes(viewer=request.user):
                messages.warning(request, f"Outside working hours for {note}.")
            return redirect("meetings:series_detail", pk=series.pk)
    status = 400 if request.method == "POST" else 200
    notes = form.working_hours_notes(viewer=request.user) if form.is_bound else []
    return render(
        request,
        "meetings/series/form.html",
        {"form": form, "team": team, "hours_notes": notes},
        status=status,
    )


@login_required
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    series = viewable_series(request, pk)
    now = timezone.now()
    meetings = series.lineage_meetings()
    # All of them: generation stops at the horizon, so the list is bounded.
    upcoming = list(series.upcoming_meetings(now).with_status(now))
    canceled = sum(m.status == Meeting.Status.CANCELED for m in upcoming)
    past = list(
        meetings.filter(starts_at__lte=now).with_status(now).order_by("-starts_at", "-pk")[:PAST]
    )
    decisions = list(
        Decision.objects.filter(meeting__in=meetings)
        .select_related("meeting")
        .order_by("-meeting__starts_at", "position", "pk")[:RUNNING_LIST]
    )
    open_items = list(
        ActionItem.objects.open()
        .filter(meeting__in=meetings)
        .select_related("owner", "meeting")
        .order_by("due_date", "pk")[:RUNNING_LIST]
    )
    template = series.own_template
    template_items = list(template.items.all()) if template else []
    return render(
        request,
        "meetings/series/detail.html",
        {
            "series": series,
            "rule": recurrence.describe(series.rrule, series.local_first_start),
            "upcoming": upcoming,
            "scheduled": len(upcoming) - canceled,
            "canceled": canceled,
            "horizon_days": settings.SERIES_HORIZON_DAYS,
            "past": past,
            "decisions": decisions,
            "open_items": open_items,
            "template": template,
            "template_items": template_items,
            "can_change": series.can_be_changed_by(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_safe
def series_next(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the next meeting of the series (carry-over already happened when the last
    recap was published)."""
    series = viewable_series(request, pk)
    meeting = series_service.next_occurrence(series, now=timezone.now())
    if meeting is None:
        messages.info(request, "This series has no upcoming meeting.")
        return redirect("meetings:series_detail", pk=series.pk)
    return redirect("meetings:detail", pk=meeting.pk)


@login_required
def occurrence_edit(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    series = changeable_series(request, pk)
    meeting = series_meeting(series, meeting_pk)
    form = OccurrenceForm(
        request.POST or None,
        initial=OccurrenceForm.initial_for(meeting),
        time_zone=meeting.time_zone,
    )
    if request.method == "POST" and form.is_valid() and "starts_at" in form.cleaned_data:
        data = form.cleaned_data
        now = timezone.now()
        try:
            if data["scope"] == OccurrenceForm.THIS:
                services.update_meeting(
                    meeting=meeting,
                    by=request.user,
                    title=data["title"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    location=data["location"],
                    now=now,
                )
                messages.success(request, "This meeting was changed; the rest of the series not.")
                return redirect("meetings:series_detail", pk=series.pk)
            new = series_service.split_series(
                meeting=meeting,
                by=request.user,
                title=data["title"],
                local_start=data["start_time"],
                duration=data["duration"],
                rrule=_rule_from(meeting, weekdays=data.get("weekdays")),
                location=data["location"],
                now=now,
            )
            messages.success(request, "This and the following meetings were changed.")
            return redirect("meetings:series_detail", pk=new.pk)
        except RuleBroken as exc:
            form.add_error(None, _problems(exc))
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        except IntegrityError:
            form.add_error(None, "That change conflicts with another meeting of the series.")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "meetings/series/occurrence_form.html",
        {
            "form": form,
            "series": series,
            "meeting": meeting,
            "weekly": "FREQ=WEEKLY" in series.rrule.upper(),
        },
        status=status,
    )


def _rule_from(meeting: Meeting, *, weekdays: list[str] | None = None) -> str:
    """The rule of the meeting's series, without its end, for the part that follows.

    `weekdays` (0 = Monday) replaces the days of a weekly rule.
    """
    series = meeting.series
    parts = [
        p
        for p in series.rrule.split(";")
        if p and p.split("=")[0].upper() not in {"UNTIL", "COUNT"}
    ]
    if weekdays and "FREQ=WEEKLY" in series.rrule.upper():
        days = ",".join(recurrence.WEEKDAY_CODES[int(d)] for d in sorted(weekdays, key=int))
        parts = [p for p in parts if not p.upper().startswith("BYDAY=")] + [f"BYDAY={days}"]
    # Keep the old end: the same last day, or the number of meetings still to come.
    params = dict(p.partition("=")[::2] for p in series.rrule.upper().split(";") if p)
    if "UNTIL" in params:
        parts.append(f"UNTIL={params['UNTIL'][:8]}T235959")
    elif "COUNT" in params:
        split_local = (meeting.occurrence_start or meeting.starts_at).astimezone(meeting.zone)
        done = recurrence.occurrences_before(
            series.rrule, series.local_first_start, split_local.replace(tzinfo=None)
        )
        parts.append(f"COUNT={max(int(params['COUNT']) - done, 1)}")
    return ";".join(parts)


@require_POST
@login_required
def occurrence_cancel(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    series = changeable_series(request, pk)
    meeting = series_meeting(series, meeting_pk)
    try:
        services.cancel_meeting(meeting=meeting, by=request.user, now=timezone.now())
    except RuleBroken as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(request, f"The meeting of {meeting.local_date:%a %-d %b} is canceled.")
    return redirect("meetings:series_detail", pk=series.pk)


@require_POST
@login_required
def series_end(request: HttpRequest, pk: int) -> HttpResponse:
    series = changeable_series(request, pk)
    try:
        series_service.end_series(series=series, by=request.user, now=timezone.now())
    except RuleBroken as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(request, "The series has ended; its upcoming meetings are canceled.")
    return redirect("meetings:series_detail", pk=series.pk)
