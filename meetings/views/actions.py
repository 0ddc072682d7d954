"""The action items page: my or my team's items, and marking one done or open."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.teams import current_membership, memberships_of

from .. import services
from ..forms import ActionItemFilterForm, ActionStatusForm
from ..models import ActionItem, Meeting
from ._shared import _team_members


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
