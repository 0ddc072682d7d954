from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
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


@login_required
def meeting_list(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def meeting_create(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def member_search(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def meeting_edit(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def meeting_cancel(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_outcome(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_item_add(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_item_edit(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_item_move(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_item_remove(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_send(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def agenda_amend(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def recap_save(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def decision_add(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def decision_remove(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def action_item_add(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def action_item_remove(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def recap_publish(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def recap_acknowledge(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def action_items(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404


@login_required
def action_item_status(request: HttpRequest, **kwargs) -> HttpResponse:
    # Placeholder until the page lands (next commit).
    raise Http404
