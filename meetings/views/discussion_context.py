"""What the meeting page shows of settling it in writing: each agenda item's comments,
resolution and forms, the time boxes left, and the offers to shorten the meeting or
settle it in writing. `rendering` builds the page with it; the views that change
these things are in `discussion`.

Comments are for the meeting's attendees and the team's admins; other members of
the team see neither the comments nor their count (`may_discuss`).
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest

from accounts.http import parse_id
from accounts.models import User

from ..forms import CommentForm, ResolutionForm, SettleMeetingForm
from ..models import AgendaComment, AgendaItem, Attendee, Decision, Meeting
from ..services.discussion import may_discuss, shortened_end
from .access import membership_in, team_members


def discussion_context(
    request: HttpRequest,
    meeting: Meeting,
    *,
    items: list[AgendaItem],
    decisions: list[Decision],
    attendees: list[Attendee],
    can_edit: bool,
    agenda_open: bool,
    now: datetime,
    extra: dict,
) -> dict:
    """What the meeting page shows of settling it in writing, in a constant number of
    queries: one for every comment of the agenda (for who may discuss it), and,
    once an item is settled, the time boxes left. Sets on each item its comments,
    resolution and forms; `extra` carries a refused form back to its item."""
    user = request.user
    membership = membership_in(request, meeting.team_id)
    discuss = bool(items) and may_discuss(
        meeting,
        user,
        attending=any(a.user_id == user.pk for a in attendees),
        team_admin=membership is not None and membership.is_admin,
    )
    discussion_open = discuss and not meeting.discussion_closed_reason()
    comments: dict[int, list[AgendaComment]] = {item.pk: [] for item in items}
    if discuss:
        for comment in (
            AgendaComment.objects.filter(agenda_item__meeting=meeting)
            .select_related("author")
            .order_by("created_at", "pk")
        ):
            comments[comment.agenda_item_id].append(comment)
    resolutions = {d.agenda_item_id: d for d in decisions if d.agenda_item_id}
    # Who settled an item: its owner or the organizer, nearly always loaded already.
    known: dict[int, User] = {a.user_id: a.user for a in attendees}
    known[meeting.organizer_id] = meeting.organizer
    known.update((item.owner_id, item.owner) for item in items if item.owner_id)
    missing = {i.settled_by_id for i in items if i.settled_by_id and i.settled_by_id not in known}
    if missing:
        known.update(User.objects.in_bulk(missing))
    # A refused form goes back to its item (the page's autofocus finds it in `extra`).
    open_discussion = extra.get("open_discussion") or parse_id(request.GET.get("discussion", ""))
    comment_form, comment_item = extra.get("comment_form"), extra.get("comment_item")
    resolution_form, resolution_item = extra.get("resolution_form"), extra.get("resolution_item")
    focus_comment, focus_settle = extra.get("focus_comment"), extra.get("focus_settle")
    for item in items:
        item.comment_list = comments[item.pk]
        item.resolution = resolutions.get(item.pk)
        item.settled_by_user = known.get(item.settled_by_id)
        # Settling and reopening are the item's owner's and the organizer's, before the start.
        item.may_settle = agenda_open and item.can_be_settled_by(user)
        item.comment_form = item.resolution_form = None
        if discussion_open:
            if item.pk == comment_item:
                item.comment_form = comment_form
            else:
                item.comment_form = CommentForm(item=item)
                if item.pk == focus_comment:
                    item.comment_form.fields["body"].widget.attrs["autofocus"] = True
        if item.may_settle and not item.is_settled:
            item.resolution_form = (
                resolution_form if item.pk == resolution_item else ResolutionForm(item=item)
            )
            if item.pk == focus_settle and not item.resolution_form.is_bound:
                item.resolution_form.fields["resolution"].widget.attrs["autofocus"] = True
    any_settled = any(item.is_settled for item in items)
    context = {
        "may_discuss": discuss,
        "discussion_open": discussion_open,
        "open_discussion": open_discussion,
        "timebox_left": meeting.timebox_left() if any_settled else None,
        "shorten_to": None,
        "offer_settle": False,
    }
    if can_edit and agenda_open and any_settled:
        end = shortened_end(meeting)
        if end is not None:
            context["shorten_to"] = end
            context["shorten_minutes"] = int((end - meeting.starts_at).total_seconds() // 60)
        if all(item.is_settled for item in items):
            context["offer_settle"] = True
            context["settle_form"] = extra.get("settle_form") or SettleMeetingForm(
                members=team_members(meeting.team_id),
                meeting=meeting,
                due=meeting.suggested_due_date(now),
            )
    return context
