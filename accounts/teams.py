"""The team the user is working in: remembered in the session, checked on every use.

A user can belong to several teams; pages that create things (a meeting, an
invitation) act on the current one. The session only stores a hint: the
membership is re-read from the database on each request, so a removed member
loses access at once.
"""

from __future__ import annotations

from django.http import HttpRequest

from .models import Membership

SESSION_KEY = "current_team_id"


def memberships_of(request: HttpRequest) -> list[Membership]:
    """The user's memberships, one query per request (cached on the request)."""
    if not request.user.is_authenticated:
        return []
    cached = getattr(request, "_bookend_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=request.user)
            .select_related("team")
            .order_by("team__name")
        )
        request._bookend_memberships = cached
    return cached


def forget_memberships(request: HttpRequest) -> None:
    """Drop the request's cached memberships, after the user joined or left a team."""
    request._bookend_memberships = None


def current_membership(request: HttpRequest) -> Membership | None:
    memberships = memberships_of(request)
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.team_id == wanted:
            return membership
    return memberships[0]


def switch_team(request: HttpRequest, team_id: int) -> Membership | None:
    """Make `team_id` current if the user belongs to it; None (and no change) otherwise."""
    for membership in memberships_of(request):
        if membership.team_id == team_id:
            request.session[SESSION_KEY] = team_id
            return membership
    return None


def team_context(request: HttpRequest) -> dict:
    """Context processor: the current team and the user's teams, for the header."""
    membership = current_membership(request)
    return {
        "current_membership": membership,
        "current_team": membership.team if membership else None,
        "my_memberships": memberships_of(request),
    }
