"""Pages reached from links in emails, without a login.

The signed token is the credential: it names the attendee or user and the
purpose, and expires. A tampered or expired link gets a page saying so and
changes nothing, and so does the link of someone who has left the meeting's team
since the email went out (checked when the link is used, not when it was made).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User

from .. import signing
from ..models import Attendee, RuleBroken


def _link_problem(request: HttpRequest, problem: str) -> HttpResponse:
    status = {"expired": 410, "not_yours": 403}.get(problem, 400)
    return render(
        request, "meetings/email_pages/link_problem.html", {"problem": problem}, status=status
    )


def _read(request: HttpRequest, purpose: str, token: str, now: datetime) -> dict | HttpResponse:
    try:
        return signing.read_token(purpose, token, now=now)
    except signing.LinkExpired:
        return _link_problem(request, "expired")
    except signing.LinkInvalid:
        return _link_problem(request, "invalid")


# No HEAD: a link checker's probe gets 405 and learns nothing.
@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """ "I have read this" from the recap digest: the link opens a page with one
    button, and only the button (a POST) records it. Mail security scanners fetch
    every link in a message; only a person presses a button."""
    now = timezone.now()
    data = _read(request, signing.ACKNOWLEDGE, token, now)
    if isinstance(data, HttpResponse):
        return data
    attendee = (
        Attendee.objects.select_related("meeting", "user")
        .filter(pk=data.get("a"), meeting_id=data.get("m"))
        .first()
    )
    if attendee is None:
        return _link_problem(request, "invalid")
    if not attendee.still_in_team():
        # Left the team (or the account was closed) since the email went out.
        return _link_problem(request, "not_yours")
    if not attendee.meeting.recap_published_at:
        return _link_problem(request, "invalid")
    context = {
        "attendee": attendee,
        "meeting": attendee.meeting,
        "meeting_path": reverse("meetings:detail", args=[attendee.meeting_id]),
    }
    if request.method == "POST":
        try:
            # Recorded together with the page that says so: if the page fails to
            # render, nothing is recorded and the person can simply try again.
            with transaction.atomic():
                context["newly"] = attendee.acknowledge(now=now)
                return render(request, "meetings/email_pages/acknowledged.html", context)
        except RuleBroken:
            return _link_problem(request, "invalid")
    if attendee.acknowledged_at:
        return render(request, "meetings/email_pages/acknowledged.html", context)
    return render(request, "meetings/email_pages/acknowledge.html", context)


# Mail clients POST `List-Unsubscribe=One-Click` (RFC 8058) without a CSRF token
# or cookies; the signed token in the URL is what authenticates the request.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button (link scanners must not unsubscribe anyone);
    POST, from that button or a mail client's one-click, unsubscribes."""
    now = timezone.now()
    data = _read(request, signing.UNSUBSCRIBE, token, now)
    if isinstance(data, HttpResponse):
        return data
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    list_name = data.get("l")
    attendee = None
    if list_name == "meeting":
        attendee = (
            Attendee.objects.select_related("meeting", "user")
            .filter(meeting_id=data.get("m"), user=user)
            .first()
        )
    if (
        user is None
        or list_name not in ("daily", "meeting")
        or (list_name == "meeting" and attendee is None)
    ):
        return _link_problem(request, "invalid")
    if attendee is not None and not attendee.still_in_team():
        return _link_problem(request, "not_yours")
    meeting = attendee.meeting if attendee else None
    context = {
        "user": user,
        "list_name": list_name,
        "meeting": meeting,
        "profile_path": reverse("accounts:profile"),
    }
    if meeting is not None and meeting.starts_at <= now:
        # An old agenda email's link: once the meeting has started there are no
        # more agenda emails to stop, and declining it after the fact would
        # rewrite who was expected there. Say so; change nothing (GET or POST).
        context["over"] = meeting.ends_at <= now
        return render(request, "meetings/email_pages/meeting_started.html", context)
    if request.method != "POST":
        return render(request, "meetings/email_pages/unsubscribe.html", context)
    with transaction.atomic():  # recorded together with the page that says so
        if list_name == "daily":
            User.objects.filter(pk=user.pk).update(daily_digest=False)
        else:
            Attendee.objects.filter(pk=attendee.pk).update(rsvp=Attendee.Rsvp.NO)
        return render(request, "meetings/email_pages/unsubscribed.html", context)
