"""The action items page: my or my team's items, and marking one done or open."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.http import safe_next
from accounts.teams import current_membership

from .. import services
from ..forms import ActionItemFilterForm, ActionStatusForm
from ..models import ActionItem, Meeting
from .access import admin_team_ids, changeable_action_item, team_members


def _action_items_context(request: HttpRequest) -> dict:
    user = request.user
    membership = current_membership(request)
    team_id = membership.team_id if membership else None
    members = team_members(team_id) if team_id else [user]
    # The picker shows titles only: DISTINCT over whole rows would compare (and
    # fetch) every meeting's stored agenda and recap HTML.
    recent_meetings = list(
        Meeting.objects.for_user(user)
        .filter(team_id=team_id, action_items__isnull=False)
        .only("title", "starts_at")
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
    admin_teams = admin_team_ids(request)
    for item in page.object_list:
        item.overdue = item.is_overdue(today)
        item.can_change = item.can_be_changed_by(user, admin_team_ids=admin_teams)
    query = request.GET.copy()
    query.pop("page", None)
    return {"form": form, "page": page, "query": query.urlencode(), "scope": scope}


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
    item = changeable_action_item(request, item_pk)
    form = ActionStatusForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["status"] == ActionItem.Status.DONE:
            services.set_action_item_done(
                item=item, done=True, by=request.user, now=timezone.now()
            )
            # The messages partial already labels a success "Done:".
            messages.success(request, f"“{item.description[:60]}” marked done.")
        else:
            services.set_action_item_done(
                item=item, done=False, by=request.user, now=timezone.now()
            )
            messages.success(request, f"“{item.description[:60]}” reopened.")
    else:
        messages.error(request, "Choose done or open.")
    if request.htmx:
        item.overdue = item.is_overdue(timezone.localdate())
        item.can_change = True
        return render(request, "meetings/action_items.html#row", {"item": item, "row_only": True})
    return redirect(safe_next(request, reverse("meetings:action_items")))
