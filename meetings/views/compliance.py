"""Compliance figures for a team's admins, in the app (staff see them in the admin)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.teams import memberships_of

from ..models import Meeting
from ..reports.compliance import compliance_report, duration_text
from ..reports.period import period_from, report_context


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
        **report_context(
            report,
            title=f"{team.name}: weekly agenda and recap compliance",
            hours_title=f"{team.name}: weekly person-hours in meetings and saved",
        ),
    }
    return render(request, "meetings/compliance_team.html", context)
