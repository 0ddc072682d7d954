"""Pages reached from links in emails, without a login.

The signed token is the credential: it names the attendee or user and the
purpose, and expires. A tampered or expired link gets a page saying so and
changes nothing, and so does the link of someone who has left the meeting's team
since the email went out (checked when the link is used, not when it was made).

An action item's owner answers it from its e-mails (Accept, Done, New due date,
Decline): one purpose a link, naming the item and the owner it was sent to, so a
link stops working once the item is given to someone else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User

from .. import services, signing
from ..forms import DeclineForm, RedateForm
from ..models import ActionItem, Attendee, RuleBroken


def _link_problem(request: HttpRequest, problem: str) -> HttpResponse:
    status = {"expired": 410, "not_yours": 403, "reassigned": 403}.get(problem, 400)
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


# -- an action item's owner answers from an e-mail ---------------------------------------


def _answering(request: HttpRequest, purpose: str, token: str, now: datetime):
    """The item an answer link is for, or the page saying why the link no longer works."""
    data = _read(request, purpose, token, now)
    if isinstance(data, HttpResponse):
        return data
    owner_id = data.get("o")
    item = (
        ActionItem.objects.select_related("meeting", "meeting__team", "owner")
        .filter(pk=data.get("i"))
        .first()
    )
    if item is None or not isinstance(owner_id, int):
        return _link_problem(request, "invalid")
    if owner_id not in item.meeting.team_member_ids() or (
        item.owner_id == owner_id and not item.owner.is_active
    ):
        # Left the team (or the account was closed) since the email went out.
        return _link_problem(request, "not_yours")
    if item.owner_id != owner_id:
        return _link_problem(request, "reassigned")
    return item


def _accept(item: ActionItem, form, now: datetime) -> tuple[str, bool]:
    if services.accept_action_item(item=item, by=item.owner, now=now):
        return "Accepted: it is yours.", True
    return "You already accepted this action item.", False


def _done(item: ActionItem, form, now: datetime) -> tuple[str, bool]:
    services.complete_action_item(item=item, by=item.owner, now=now)
    return "Marked done. Thank you!", True


def _redate(item: ActionItem, form, now: datetime) -> tuple[str, bool]:
    due = form.cleaned_data["due_date"]
    if services.redate_action_item(item=item, due_date=due, by=item.owner, now=now):
        return "Moved. Its reminders follow the new date.", True
    return "That is already its due date; nothing changed.", False


def _decline(item: ActionItem, form, now: datetime) -> tuple[str, bool]:
    services.decline_action_item(
        item=item, reason=form.cleaned_data["reason"], by=item.owner, now=now
    )
    return (
        f"Declined. {item.meeting.organizer.name} has been told and will find it a new owner.",
        True,
    )


Answer = Callable[[ActionItem, forms.Form | None, datetime], tuple[str, bool]]
ANSWERS: dict[str, tuple[Answer, type[forms.Form] | None]] = {
    signing.ACTION_ACCEPT: (_accept, None),
    signing.ACTION_DONE: (_done, None),
    signing.ACTION_REDATE: (_redate, RedateForm),
    signing.ACTION_DECLINE: (_decline, DeclineForm),
}


def _answer(request: HttpRequest, token: str, purpose: str) -> HttpResponse:
    """The owner's answer page: GET shows the item and one button (mail scanners fetch
    links; only a person presses a button), POST records the answer. An answer that
    is no longer possible (done, declined, canceled) says why and changes nothing."""
    now = timezone.now()
    item = _answering(request, purpose, token, now)
    if isinstance(item, HttpResponse):
        return item
    answer, form_class = ANSWERS[purpose]
    context = {
        "item": item,
        "meeting": item.meeting,
        "purpose": purpose.removeprefix("action_"),
        "meeting_path": reverse("meetings:detail", args=[item.meeting_id]),
    }
    answered = "meetings/email_pages/action_answered.html"
    if problem := item.answer_problem(item.owner_id):
        return render(request, answered, {**context, "outcome": problem})
    if purpose == signing.ACTION_ACCEPT and item.response == ActionItem.Response.ACCEPTED:
        return render(request, answered, {**context, "outcome": "You already accepted this "
                                          "action item."})  # fmt: skip
    form = None
    if form_class is not None:
        initial = {"due_date": item.due_date}
        form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    page = "meetings/email_pages/action_answer.html"
    if request.method != "POST":
        return render(request, page, {**context, "form": form})
    if form is not None and not form.is_valid():
        return render(request, page, {**context, "form": form}, status=400)
    try:
        # Recorded together with the page that says so: if the page fails to
        # render, nothing is recorded and the owner can simply try again.
        with transaction.atomic():
            outcome, changed = answer(item, form, now)
            return render(request, answered, {**context, "outcome": outcome, "changed": changed})
    except RuleBroken as exc:
        if isinstance(form, RedateForm):
            # The item's rule refused the date (before the meeting's day): the same
            # words as everywhere, at the field, and nothing changed.
            form.add_error("due_date", exc.messages)
            return render(request, page, {**context, "form": form}, status=400)
        return render(request, answered, {**context, "outcome": " ".join(exc.messages)})


# No HEAD, as for the acknowledgement.
@require_http_methods(["GET", "POST"])
def action_accept(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, signing.ACTION_ACCEPT)


@require_http_methods(["GET", "POST"])
def action_done(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, signing.ACTION_DONE)


@require_http_methods(["GET", "POST"])
def action_redate(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, signing.ACTION_REDATE)


@require_http_methods(["GET", "POST"])
def action_decline(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, signing.ACTION_DECLINE)
