from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from .models import Meeting


@login_required
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    meetings = (
        Meeting.objects.for_user(request.user)
        .with_status(now)
        .select_related("team", "organizer")
        .filter(starts_at__gte=now - timezone.timedelta(days=7))[:50]
    )
    return render(request, "meetings/home.html", {"meetings": meetings})


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        Meeting.objects.for_user(request.user).select_related("team", "organizer"), pk=pk
    )
    return render(request, "meetings/detail.html", {"meeting": meeting})
