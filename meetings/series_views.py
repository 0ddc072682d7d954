"""Pages for recurring meetings: list, create, series page, occurrence edits, templates.

Thin views: access control is in the query (`_series_for` starts from the
user's teams, so another team's series answers 404), changes go through
`meetings.series`, and only the organizer and team admins change a series
(403 for other members).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Team, User
from accounts.teams import current_membership

from . import recurrence
from . import series as series_service
from .calendar_views import webcal_url
from .models import (
    ActionItem,
    AgendaTemplate,
    Decision,
    Meeting,
    RuleBroken,
    Series,
    TemplateItem,
)
from .series_forms import OccurrenceForm, SeriesForm, TemplateForm, TemplateItemForm

UPCOMING = 8
PAST = 8
RUNNING_LIST = 50


def _my_teams(user: User) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user)


def _series_for(request: HttpRequest, pk: int) -> Series:
    return get_object_or_404(
        Series.objects.filter(team__in=_my_teams(request.user)).select_related(
            "team", "organizer", "parent"
        ),
        pk=pk,
    )


def _changeable_series(request: HttpRequest, pk: int) -> Series:
    series = _series_for(request, pk)
    if not series_service.can_change(series, request.user):
        raise PermissionDenied("Only the organizer and team admins change this series.")
    return series


def _occurrence(series: Series, meeting_pk: int) -> Meeting:
    return get_object_or_404(
        series_service.series_meetings(series).select_related("team", "series"), pk=meeting_pk
    )


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
    rows = [(s, recurrence.describe(s.rrule, series_service.first_local(s))) for s in series_list]
    context = {"rows": rows, "team": membership.team, "feed_url": webcal_url(request.user)}
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
            count = series.meetings.count()
            if count:
                messages.success(
                    request,
                    f"“{series.title}” is set up; {count} meetings are scheduled so far.",
                )
            else:
                messages.warning(
                    request,
                    f"“{series.title}” is set up, but no meeting of it falls in the next "
                    f"{settings.SERIES_HORIZON_DAYS} days; check its first date and end.",
                )
            return redirect("meetings:series:detail", pk=series.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "meetings/series/form.html", {"form": form, "team": team}, status=status
    )


@login_required
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    series = _series_for(request, pk)
    now = timezone.now()
    meetings = series_service.series_meetings(series)
    upcoming = list(
        meetings.filter(starts_at__gt=now).with_status(now).order_by("starts_at", "pk")[:UPCOMING]
    )
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
    template = series_service.template_of(series)
    template_items = list(template.items.all()) if template else []
    return render(
        request,
        "meetings/series/detail.html",
        {
            "series": series,
            "rule": recurrence.describe(series.rrule, series_service.first_local(series)),
            "upcoming": upcoming,
            "past": past,
            "decisions": decisions,
            "open_items": open_items,
            "template": template,
            "template_items": template_items,
            "can_change": series_service.can_change(series, request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
def series_next(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the next meeting, its agenda brought up to date with what was carried over.

    Carry-over is idempotent, so following this link twice adds nothing twice.
    """
    series = _series_for(request, pk)
    now = timezone.now()
    meeting = series_service.next_occurrence(series, now=now)
    if meeting is None:
        messages.info(request, "This series has no upcoming meeting.")
        return redirect("meetings:series:detail", pk=series.pk)
    added = series_service.carry_over(meeting, now=now)
    if added:
        messages.info(
            request, f"{len(added)} open item{'s' if len(added) != 1 else ''} carried over."
        )
    return redirect("meetings:detail", pk=meeting.pk)


@login_required
def occurrence_edit(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    series = _changeable_series(request, pk)
    meeting = _occurrence(series, meeting_pk)
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
                series_service.edit_occurrence(
                    meeting=meeting,
                    by=request.user,
                    title=data["title"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    location=data["location"],
                    now=now,
                )
                messages.success(request, "This meeting was changed; the rest of the series not.")
                return redirect("meetings:series:detail", pk=series.pk)
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
            return redirect("meetings:series:detail", pk=new.pk)
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
            series.rrule, series_service.first_local(series), split_local.replace(tzinfo=None)
        )
        parts.append(f"COUNT={max(int(params['COUNT']) - done, 1)}")
    return ";".join(parts)


@require_POST
@login_required
def occurrence_cancel(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    series = _changeable_series(request, pk)
    meeting = _occurrence(series, meeting_pk)
    try:
        series_service.cancel_occurrence(meeting=meeting, by=request.user, now=timezone.now())
    except RuleBroken as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(request, f"The meeting of {meeting.local_date:%a %-d %b} is canceled.")
    return redirect("meetings:series:detail", pk=series.pk)


@require_POST
@login_required
def series_end(request: HttpRequest, pk: int) -> HttpResponse:
    series = _changeable_series(request, pk)
    try:
        series_service.end_series(series=series, by=request.user, now=timezone.now())
    except RuleBroken as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(request, "The series has ended; its upcoming meetings are canceled.")
    return redirect("meetings:series:detail", pk=series.pk)


# -- agenda templates ---------------------------------------------------------


@require_POST
@login_required
def series_template_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a series its own (empty) agenda template, or open the one it has."""
    series = _changeable_series(request, pk)
    template = series_service.template_of(series)
    if template is None:
        template = AgendaTemplate.objects.create(
            team=series.team, series=series, name=series.title
        )
    return redirect("meetings:series:template", pk=template.pk)


def _template_for(request: HttpRequest, pk: int) -> AgendaTemplate:
    return get_object_or_404(
        AgendaTemplate.objects.filter(team__in=_my_teams(request.user)).select_related(
            "team", "series"
        ),
        pk=pk,
    )


def _may_change_template(template: AgendaTemplate, user: User) -> bool:
    if template.series_id:
        return series_service.can_change(template.series, user)
    # The team's library is shared: any member may add and edit its templates;
    # a series' own copy is the series' business (organizer and team admins).
    return True


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        raise PermissionDenied("Join a team first.")
    team = membership.team
    form = TemplateForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        template = form.save()
        messages.success(request, f"Template “{template.name}” created; add its standing items.")
        return redirect("meetings:series:template", pk=template.pk)
    templates = AgendaTemplate.objects.filter(team=team, series__isnull=True).prefetch_related(
        "items"
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "meetings/series/templates.html",
        {"form": form, "templates": templates, "team": team},
        status=status,
    )


@login_required
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_for(request, pk)
    can_change = _may_change_template(template, request.user)
    if request.method == "POST" and not can_change:
        raise PermissionDenied("Only the organizer and team admins change this series.")
    form = TemplateForm(request.POST or None, instance=template, team=template.team)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Template saved.")
        return redirect("meetings:series:template", pk=template.pk)
    return render(
        request,
        "meetings/series/template.html",
        {
            "template": template,
            "form": form,
            "item_form": TemplateItemForm(),
            "items": list(template.items.all()),
            "can_change": can_change,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def template_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_for(request, pk)
    if not _may_change_template(template, request.user):
        raise PermissionDenied("Only the organizer and team admins change this series.")
    item_form = TemplateItemForm(request.POST)
    if item_form.is_valid():
        item = item_form.save(commit=False)
        item.template = template
        last = template.items.order_by("-position").values_list("position", flat=True).first()
        item.position = 0 if last is None else last + 1
        item.save()
        if request.htmx:
            return render(
                request,
                "meetings/series/template.html#items",
                {
                    "template": template,
                    "items": list(template.items.all()),
                    "item_form": TemplateItemForm(),
                    "can_change": True,
                },
            )
        messages.success(request, f"“{item.title}” added.")
        return redirect("meetings:series:template", pk=template.pk)
    return render(
        request,
        "meetings/series/template.html",
        {
            "template": template,
            "form": TemplateForm(instance=template, team=template.team),
            "item_form": item_form,
            "items": list(template.items.all()),
            "can_change": True,
        },
        status=400,
    )


@require_POST
@login_required
def template_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    template = _template_for(request, pk)
    if not _may_change_template(template, request.user):
        raise PermissionDenied("Only the organizer and team admins change this series.")
    item = get_object_or_404(TemplateItem, template=template, pk=item_pk)
    item.delete()
    messages.success(request, f"“{item.title}” removed.")
    return redirect("meetings:series:template", pk=template.pk)
