"""E-mails about one action item, and the links its owner answers with.

- `action_assigned`: to the item's new owner (it was reassigned to them);
- `action_due`: the due and overdue reminders the sweep queues (`stages.item_stages`);
- `action_declined`: to the organizer, when the owner handed the item back.

Each renders at delivery time with what is true then, and renders to None (not
sent) when it no longer applies: the item is done, declined or its meeting
canceled, it has another owner, a reminder's due date is no longer the item's
(it was re-dated), or a later reminder about the same item was queued.

`answer_links` makes the signed Accept / Done / New due date / Decline links
(`meetings.signing`, one purpose each, naming the item and the owner they were
sent to) that these messages and the recap and daily digests carry; the pages
behind them are in `meetings/views/email_links.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists
from django.urls import reverse

from accounts.mail import make_message, site_url

from .. import signing
from ..models import ActionItem, Notification
from .stages import anchor

Kind = Notification.Kind


# -- answer links -----------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerLinks:
    """The owner's answers to one item; `accept` is "" once they answered."""

    accept: str
    done: str
    redate: str
    decline: str


ANSWER_URLS = {
    signing.ACTION_ACCEPT: "meetings:email_action_accept",
    signing.ACTION_DONE: "meetings:email_action_done",
    signing.ACTION_REDATE: "meetings:email_action_redate",
    signing.ACTION_DECLINE: "meetings:email_action_decline",
}


def answer_url(item: ActionItem, purpose: str, *, now: datetime) -> str:
    # The owner is in the payload: the link stops working once the item moves on.
    token = signing.make_token(purpose, {"i": item.pk, "o": item.owner_id}, now=now)
    return site_url(reverse(ANSWER_URLS[purpose], args=[token]))


def answer_links(item: ActionItem, *, now: datetime) -> AnswerLinks:
    return AnswerLinks(
        accept=answer_url(item, signing.ACTION_ACCEPT, now=now)
        if item.response == ActionItem.Response.UNANSWERED
        else "",
        done=answer_url(item, signing.ACTION_DONE, now=now),
        redate=answer_url(item, signing.ACTION_REDATE, now=now),
        decline=answer_url(item, signing.ACTION_DECLINE, now=now),
    )


def with_answer_links(
    items: Iterable[ActionItem], owner_id: int, *, now: datetime
) -> list[tuple[ActionItem, AnswerLinks | None]]:
    """(item, its links) for a list of someone's items in a message; no links for an
    item they can no longer answer for (done, declined, canceled, someone else's).
    Each item needs `meeting`. No queries."""
    return [
        (item, None if item.answer_problem(owner_id) else answer_links(item, now=now))
        for item in items
    ]


def declined_items_url() -> str:
    """Where the organizer gives declined items to someone else."""
    return site_url(reverse("meetings:action_items") + "?response=declined")


# -- stages -----------------------------------------------------------------------------


def stage_item_pk(stage: str) -> int | None:
    """The item a stage is about: "due_today.42@20260305" and "42@20260305T0900Z" → 42."""
    head = stage.partition("@")[0]
    pk = head.rpartition(".")[2]
    return int(pk) if pk.isdigit() else None


def stage_due_date(stage: str) -> date | None:
    """The due date a reminder stage was computed for ("due_today.42@20260305")."""
    try:
        return datetime.strptime(stage.partition("@")[2], "%Y%m%d").date()
    except ValueError:
        return None


def stage_wording(stage: str) -> str:
    """ "due tomorrow", "due in 3 days", "due today", "overdue by 1 day", "overdue by
    2 weeks": what a reminder stage (`stages.item_stages`) says."""
    name = stage.partition("@")[0].partition(".")[0]
    if name == "due_tomorrow":
        return "due tomorrow"
    if name == "due_today":
        return "due today"
    if name == "overdue1d":
        return "overdue by 1 day"
    if name.startswith("due_in") and name.endswith("d") and name[6:-1].isdigit():
        return f"due in {int(name[6:-1])} days"
    if name.startswith("overdue") and name.endswith("w") and name[7:-1].isdigit():
        weeks = int(name[7:-1])
        return f"overdue by {weeks} week{'s' if weeks != 1 else ''}"
    return "due soon"


def later_item_stage_queued(notification: Notification, item_pk: int) -> Exists:
    """Annotation: a later reminder about the same item was queued for the same
    person. Per item (by the stage's ".{pk}@"), where `superseded_by_later_stage`
    groups by meeting, so one item's reminder cannot silence another's."""
    return Exists(
        Notification.objects.filter(
            kind=notification.kind,
            recipient_id=notification.recipient_id,
            meeting_id=notification.meeting_id,
            stage__contains=f".{item_pk}@",
            created_at__gt=notification.created_at,
        ).exclude(pk=notification.pk)
    )


def _item(notification: Notification, **annotations) -> ActionItem | None:
    """The item a notice is about, with its meeting, team, organizer and owner."""
    pk = stage_item_pk(notification.stage)
    if pk is None:
        return None
    return (
        ActionItem.objects.select_related(
            "meeting", "meeting__team", "meeting__organizer", "owner"
        )
        .annotate(**annotations)
        .filter(pk=pk, meeting_id=notification.meeting_id)
        .first()
    )


def due_phrase(item: ActionItem, today: date) -> str:
    """How far the due date is from the owner's today: "today", "in 3 days", "2 days ago"."""
    days = (item.due_date - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def _context(notification: Notification, item: ActionItem, now: datetime) -> dict:
    recipient = notification.recipient
    return {
        "recipient": recipient,
        "zone": recipient.time_zone,
        "now": now,
        "preferences_url": site_url(reverse("accounts:profile")),
        "item": item,
        "meeting": item.meeting,
        "meeting_url": site_url(reverse("meetings:detail", args=[item.meeting_id])),
        "action_items_url": site_url(reverse("meetings:action_items")),
        "due_phrase": due_phrase(item, now.astimezone(recipient.zone).date()),
    }


# -- renderers --------------------------------------------------------------------------


def action_assigned(
    notification: Notification, *, now: datetime, cache=None
) -> EmailMultiAlternatives | None:
    """To the item's new owner: what it is, where it came from, when it is due, and
    the answers."""
    item = _item(notification)
    recipient = notification.recipient
    if item is None or item.answer_problem(recipient.pk):
        return None  # given to someone else again, done, declined, or canceled since
    context = {**_context(notification, item, now), "links": answer_links(item, now=now)}
    return make_message("action_assigned", context, to=[recipient.email])


def action_due(
    notification: Notification, *, now: datetime, cache=None
) -> EmailMultiAlternatives | None:
    """A due or overdue reminder to the owner, worded by its stage."""
    pk = stage_item_pk(notification.stage)
    item = _item(notification, later=later_item_stage_queued(notification, pk or 0))
    recipient = notification.recipient
    if (
        item is None
        or not item.meeting.team.remind_action_items
        or item.answer_problem(recipient.pk)  # someone else's, done, declined, canceled
        or stage_due_date(notification.stage) != item.due_date  # re-dated since
        or item.later
    ):
        return None
    context = {
        **_context(notification, item, now),
        "stage_wording": stage_wording(notification.stage),
        "overdue": notification.stage.startswith("overdue"),
        "links": answer_links(item, now=now),
    }
    return make_message("action_due", context, to=[recipient.email])


def action_declined(
    notification: Notification, *, now: datetime, cache=None
) -> EmailMultiAlternatives | None:
    """To the organizer: who declined which item, why, and where to give it to
    someone else. Only while that decline stands (not reassigned, done or canceled
    since, nor declined again by a later owner, who gets their own notice)."""
    item = _item(notification)
    if (
        item is None
        or item.status != ActionItem.Status.OPEN
        or item.response != ActionItem.Response.DECLINED
        or item.meeting.canceled_at
        or anchor(item.responded_at) != notification.stage.partition("@")[2]
    ):
        return None
    context = {
        **_context(notification, item, now),
        "reassign_url": declined_items_url(),
    }
    return make_message("action_declined", context, to=[notification.recipient.email])


RENDERERS = {
    Kind.ACTION_ASSIGNED: action_assigned,
    Kind.ACTION_DUE: action_due,
    Kind.ACTION_DECLINED: action_declined,
}
