"""The action items page: my or my team's items; marking one done or open, and, once
its recap is out, its owner accepting it or moving its due date and its organizer (or
a team admin) giving it to someone else, all in place (htmx) or by a plain POST."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import safe_next
from accounts.teams import current_membership

from .. import services
from ..forms import (
    ActionDueDateForm,
    ActionItemFilterForm,
    ActionReassignForm,
    ActionStatusForm,
)
from ..models import NOT_OUT_YET, ActionItem, Meeting, RuleBroken
from .access import (
    admin_team_ids,
    answerable_action_item,
    changeable_action_item,
    reassignable_action_item,
    redatable_action_item,
    team_members,
)
from .rendering import flash_problems


def _decorate(item: ActionItem, request: HttpRequest, admin_teams: set[int]) -> ActionItem:
    """What one row shows and offers to this viewer. Needs `meeting` and `owner`."""
    user = request.user
    item.overdue = item.is_overdue(timezone.localdate())
    item.can_change = item.can_be_changed_by(user, admin_team_ids=admin_teams)
    # Its owner answers once the recap is out, while the item is theirs to answer.
    answerable = item.is_out and not item.answer_problem(user.pk)
    item.can_accept = answerable and item.awaits_answer
    item.can_redate = answerable
    item.can_reassign = (
        item.is_out
        and item.status == ActionItem.Status.OPEN
        and item.can_be_reassigned_by(user, admin_team_ids=admin_teams)
    )
    return item


def _back(request: HttpRequest) -> str:
    """The page to return to after a plain POST: the list the row was on."""
    current = request.htmx.current_url_abs_path if request.htmx else None
    return safe_next(request, current or reverse("meetings:action_items"))


def _row(request: HttpRequest, item: ActionItem, **extra) -> HttpResponse:
    """One row, re-rendered in place, with the messages out of band."""
    _decorate(item, request, admin_team_ids(request))
    context = {"item": item, "row_only": True, "back": _back(request), **extra}
    return render(request, "meetings/action_items.html#row", context)


def _answered(request: HttpRequest, item: ActionItem) -> HttpResponse:
    if request.htmx:
        return _row(request, item)
    return redirect(_back(request))


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
    if data.get("response"):
        items = items.filter(response=data["response"])
    if data.get("redated"):
        items = items.redated()
    if data.get("owner"):
        items = items.filter(owner=data["owner"])
    if data.get("meeting"):
        items = items.filter(meeting_id=data["meeting"])
    items = items.order_by("status", "due_date", "pk")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    admin_teams = admin_team_ids(request)
    for item in page.object_list:
        _decorate(item, request, admin_teams)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form, "page": page, "query": query.urlencode(), "scope": scope,
        "back": request.get_full_path(),
    }  # fmt: skip


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
    return _answered(request, item)


def _not_out_yet(request: HttpRequest, item: ActionItem) -> bool:
    """A draft item offers no reassigning (the model refuses it; the picker says so
    before it opens)."""
    if item.is_out:
        return False
    messages.error(request, NOT_OUT_YET)
    return True


@login_required
@require_POST
def action_item_accept(request: HttpRequest, item_pk: int) -> HttpResponse:
    item = answerable_action_item(request, item_pk)
    try:
        accepted = services.accept_action_item(item=item, by=request.user, now=timezone.now())
    except RuleBroken as error:
        flash_problems(request, error)
    else:
        if accepted:
            messages.success(request, f"You accepted “{item.description[:60]}”.")
        else:
            messages.info(request, "You had already answered for this action item.")
    return _answered(request, item)


@login_required
@require_POST
def action_item_due_date(request: HttpRequest, item_pk: int) -> HttpResponse:
    item = redatable_action_item(request, item_pk)
    form = ActionDueDateForm(request.POST, meeting=item.meeting)
    if not form.is_valid():
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, f"The due date did not change: {problem}")
    else:
        due = form.cleaned_data["due_date"]
        try:
            moved = services.redate_action_item(
                item=item, due_date=due, by=request.user, now=timezone.now()
            )
        except RuleBroken as error:
            flash_problems(request, error)
        else:
            if moved:
                messages.success(
                    request, f"“{item.description[:60]}” is now due {date_format(due, 'D j M')}."
                )
            else:
                messages.info(request, "That is already its due date; nothing changed.")
    return _answered(request, item)


@login_required
@require_http_methods(["GET", "POST"])
def action_item_reassign(request: HttpRequest, item_pk: int) -> HttpResponse:
    """GET: the member picker, in place of the row (or as a small page without
    JavaScript). POST: give the item to the chosen member."""
    item = reassignable_action_item(request, item_pk)
    if _not_out_yet(request, item):
        return _answered(request, item)
    members = team_members(item.meeting.team_id)
    if request.method == "POST":
        form = ActionReassignForm(
            request.POST, members=members, meeting=item.meeting, auto_id=f"id_reassign{item.pk}_%s"
        )
        if form.is_valid():
            owner, due = form.cleaned_data["owner"], form.cleaned_data["due_date"]
            try:
                services.reassign_action_item(
                    item=item, owner=owner, by=request.user, now=timezone.now(), due_date=due
                )
            except RuleBroken as error:
                # Nothing changed: the picker stays open with the reason.
                flash_problems(request, error)
            else:
                messages.success(request, f"“{item.description[:60]}” is now {owner.name}'s.")
                return _answered(request, item)
    else:
        form = ActionReassignForm(
            members=members, meeting=item.meeting, auto_id=f"id_reassign{item.pk}_%s"
        )
        form.fields["owner"].widget.attrs["autofocus"] = True
    if request.htmx:
        return _row(request, item, reassign_form=form)
    _decorate(item, request, admin_team_ids(request))
    context = {"item": item, "reassign_form": form, "back": _back(request)}
    return render(request, "meetings/action_item_reassign.html", context)
