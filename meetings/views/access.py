"""Who may see and change what: every view fetches its objects through these.

Access control lives in the query: each lookup starts from the teams the user
belongs to (`Team.objects.for_user`), so another team's object answers 404 and
its existence does not leak. The `changeable_*` helpers then ask the object's
own rule (`can_be_changed_by`) and answer 403 to a member without the right.
The user's memberships are read once per request (`accounts.teams`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import Membership, Team, User
from accounts.teams import memberships_of

from ..models import ActionItem, AgendaItem, AgendaTemplate, Meeting, Series
from ..services.discussion import may_discuss


def membership_in(request: HttpRequest, team_id: int) -> Membership | None:
    return next((m for m in memberships_of(request) if m.team_id == team_id), None)


def admin_team(request: HttpRequest, slug: str, refusal: str) -> Team:
    """The team of `slug` if the user administers it: outsiders 404, other members
    403 with `refusal` (what only its admins may do)."""
    membership = next((m for m in memberships_of(request) if m.team.slug == slug), None)
    if membership is None:
        raise Http404("No such team.")
    if not membership.is_admin:
        raise PermissionDenied(refusal)
    return membership.team


def admin_team_ids(request: HttpRequest) -> set[int]:
    return {m.team_id for m in memberships_of(request) if m.is_admin}


def team_members(team_id: int) -> list[User]:
    """The people of a team, for owner and attendee pickers."""
    return list(
        User.objects.filter(memberships__team_id=team_id).order_by("display_name", "email")
    )


# -- meetings ---------------------------------------------------------------------


def viewable_meeting(request: HttpRequest, pk: int) -> Meeting:
    """A meeting of one of the user's teams, or 404."""
    return get_object_or_404(
        Meeting.objects.for_user(request.user).select_related("team", "organizer"), pk=pk
    )


def can_change_meeting(request: HttpRequest, meeting: Meeting) -> bool:
    return meeting.can_be_changed_by(request.user, membership_in(request, meeting.team_id))


def require_meeting_change(request: HttpRequest, meeting: Meeting) -> None:
    if not can_change_meeting(request, meeting):
        raise PermissionDenied("Only the organizer and team admins change this meeting.")


def changeable_meeting(request: HttpRequest, pk: int) -> Meeting:
    """A meeting the user may change (its organizer or a team admin): 404, then 403."""
    meeting = viewable_meeting(request, pk)
    require_meeting_change(request, meeting)
    return meeting


def is_attendee(meeting: Meeting, user: User) -> bool:
    return meeting.attendees.filter(user=user).exists()


def discussable_meeting(request: HttpRequest, pk: int) -> Meeting:
    """A meeting whose agenda the user may discuss (its attendees, the team's admins):
    404, then 403."""
    meeting = viewable_meeting(request, pk)
    if not may_discuss(meeting, request.user):
        raise PermissionDenied("Only the meeting's attendees and the team's admins see and "
                               "write its agenda discussion.")  # fmt: skip
    return meeting


def settleable_item(request: HttpRequest, pk: int, item_pk: int) -> AgendaItem:
    """An agenda item the user may settle in writing or reopen (its owner or the
    meeting's organizer): 404, then 403. Its `meeting` is the one just read."""
    meeting = viewable_meeting(request, pk)
    item = get_object_or_404(meeting.agenda_items.select_related("owner"), pk=item_pk)
    item.meeting = meeting
    if not item.can_be_settled_by(request.user):
        raise PermissionDenied("Only the item's owner or the meeting's organizer settles it in "
                               "writing.")  # fmt: skip
    return item


# -- series and agenda templates ----------------------------------------------------


def viewable_series(request: HttpRequest, pk: int) -> Series:
    return get_object_or_404(
        Series.objects.filter(team__in=Team.objects.for_user(request.user)).select_related(
            "team", "organizer", "parent"
        ),
        pk=pk,
    )


def changeable_series(request: HttpRequest, pk: int) -> Series:
    series = viewable_series(request, pk)
    if not series.can_be_changed_by(request.user):
        raise PermissionDenied("Only the organizer and team admins change this series.")
    return series


def series_meeting(series: Series, meeting_pk: int) -> Meeting:
    """A meeting of `series` (or of the series it was split from), or 404."""
    return get_object_or_404(
        series.lineage_meetings().select_related("team", "series"), pk=meeting_pk
    )


def viewable_template(request: HttpRequest, pk: int) -> AgendaTemplate:
    return get_object_or_404(
        AgendaTemplate.objects.filter(team__in=Team.objects.for_user(request.user)).select_related(
            "team", "series"
        ),
        pk=pk,
    )


def changeable_template(request: HttpRequest, pk: int) -> AgendaTemplate:
    template = viewable_template(request, pk)
    if not template.can_be_changed_by(request.user):
        raise PermissionDenied("Only the organizer and team admins change this series.")
    return template


# -- action items -------------------------------------------------------------------


def viewable_action_item(request: HttpRequest, pk: int) -> ActionItem:
    """An item of a meeting of one of the user's teams, or 404."""
    return get_object_or_404(
        ActionItem.objects.for_user(request.user).select_related("meeting", "owner"), pk=pk
    )


def changeable_action_item(request: HttpRequest, pk: int) -> ActionItem:
    """An item its owner, the meeting's organizer or a team admin may mark: 404, then 403."""
    item = viewable_action_item(request, pk)
    if not item.can_be_changed_by(request.user, admin_team_ids=admin_team_ids(request)):
        raise PermissionDenied("Only the owner, the organizer and team admins change this item.")
    return item


def answerable_action_item(request: HttpRequest, pk: int) -> ActionItem:
    """An item the user owns, to accept: 404, then 403."""
    item = viewable_action_item(request, pk)
    if item.owner_id != request.user.pk:
        raise PermissionDenied("Only its owner answers for an action item.")
    return item


def redatable_action_item(request: HttpRequest, pk: int) -> ActionItem:
    """An item whose due date the user may move (its owner or organizer): 404, then 403."""
    item = viewable_action_item(request, pk)
    if not item.can_be_redated_by(request.user):
        raise PermissionDenied("Only its owner or the meeting's organizer moves an action item.")
    return item


def reassignable_action_item(request: HttpRequest, pk: int) -> ActionItem:
    """An item the user may give to someone else (organizer, team admin): 404, then 403."""
    item = viewable_action_item(request, pk)
    if not item.can_be_reassigned_by(request.user, admin_team_ids=admin_team_ids(request)):
        raise PermissionDenied("Only the meeting's organizer or a team admin reassigns an item.")
    return item
