"""Compliance figures for a team's admins, in the app (staff see them in the admin)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.teams import memberships_of

from .charts import trend_svg
from .compliance import Report, compliance_report, duration_text
from .models import Meeting

DEFAULT_PERIOD = timedelta(days=27)  # four weeks, today included
LONGEST_PERIOD = timedelta(days=366)
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            # Far from today there are no meetings, and the 12-week trend before
            # year 1 or the day after 9999-12-31 cannot even be computed.
            if not (start >= EARLIEST and end <= LATEST):
                raise forms.ValidationError(
                    f"Pick dates between {EARLIEST.year} and {LATEST.year}."
                )
            if end < start:
                raise forms.ValidationError("The period must end on or after its first day.")
            if end - start > LONGEST_PERIOD:
                raise forms.ValidationError("Pick a period of at most a year.")
        return data


def period_from(params, today: date) -> tuple[PeriodForm, date, date]:
    """The period asked for in the query string, or the last four weeks.

    A bad period shows the form's message and falls back to the default, so a
    hand-edited URL never breaks the page.
    """
    default_start, default_end = today - DEFAULT_PERIOD, today
    if "start" not in params and "end" not in params:
        form = PeriodForm(initial={"start": default_start, "end": default_end})
        return form, default_start, default_end
    form = PeriodForm(params)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default_start, default_end


def report_context(report: Report, *, title: str) -> dict:
    return {
        "report": report,
        "trend_chart": trend_svg(report.trend, title=title),
    }


@login_required
def team_compliance(request: HttpRequest, slug: str) -> HttpResponse:
    """Figures of one team: its admins only; other members 403, outsiders 404."""
    # The user's memberships are read once per request (the header needs them too).
    membership = next((m for m in memberships_of(request) if m.team.slug == slug), None)
    if membership is None:
        raise Http404("No such team.")
    if not membership.is_admin:
        raise PermissionDenied("Only the team's admins see its compliance figures.")
    team = membership.team
    now = timezone.now()
    form, start, end = period_from(request.GET, timezone.localdate(now))
    report = compliance_report(Meeting.objects.for_team(team), start=start, end=end, now=now)
    context = {
        "team": team,
        "form": form,
        "lead_time_text": duration_text(team.agenda_lead_time),
        "grace_text": duration_text(team.recap_grace),
        **report_context(report, title=f"{team.name}: weekly agenda and recap compliance"),
    }
    return render(request, "meetings/compliance_team.html", context)
