"""Compliance figures for a team's admins, in the app (staff see them in the admin)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ..models import Meeting
from ..reports.compliance import compliance_report, duration_text
from ..reports.period import period_from, report_context
from .access import admin_team


@login_required
def team_compliance(request: HttpRequest, slug: str) -> HttpResponse:
    """Figures of one team: its admins only; other members 403, outsiders 404."""
    team = admin_team(request, slug, "Only the team's admins see its compliance figures.")
    now = timezone.now()
    form, start, end = period_from(request.GET, timezone.localdate(now))
    report = compliance_report(Meeting.objects.for_team(team), start=start, end=end, now=now)
    context = {
        "team": team,
        "form": form,
        "lead_time_text": duration_text(team.agenda_lead_time),
        "grace_text": duration_text(team.recap_grace),
        **report_context(
            report,
            title=f"{team.name}: weekly agenda and recap compliance",
            hours_title=f"{team.name}: weekly person-hours in meetings and saved",
        ),
    }
    return render(request, "meetings/compliance_team.html", context)
