"""Calendar feeds: a personal secret subscription URL and per-meeting .ics downloads.

The feed is read by calendar apps that cannot log in, so the secret token in
the URL is the credential: an unknown token answers 404 (never a hint that a
user exists), and regenerating the token (`User.regenerate_calendar_token`)
cuts off every old subscription at once (the profile page shows it:
`User.calendar_feed_url`). Even with a valid token the feed
shows only meetings of teams the user still belongs to.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from accounts.models import User

from .. import ical
from ..models import Meeting

# Past meetings stay in the feed this long, so last week's recap link is one click away.
FEED_PAST = timedelta(days=90)


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # The URL is a secret: no shared cache may keep a copy.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def feed_meetings(user: User, *, now):
    """The meetings in `user`'s feed, with everything `ical.meeting_event` reads."""
    return (
        Meeting.objects.for_user(user)
        .filter(attendees__user=user, starts_at__gte=now - FEED_PAST)
        .select_related("organizer")
        .prefetch_related("agenda_items", "attendees__user")
        .order_by("starts_at", "pk")
    )


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404("No such feed.")
    now = timezone.now()
    body = ical.build_feed(feed_meetings(user, now=now), name=f"Bookend – {user.name}", now=now)
    return _ics_response(body, "bookend.ics")


@require_safe
@login_required
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        Meeting.objects.for_user(request.user)
        .select_related("organizer")
        .prefetch_related("agenda_items", "attendees__user"),
        pk=pk,
    )
    body = ical.build_calendar([meeting])
    name = slugify(meeting.title) or "meeting"
    response = _ics_response(body, f"{name}.ics")
    response["Content-Disposition"] = f'attachment; filename="{name}.ics"'
    return response
