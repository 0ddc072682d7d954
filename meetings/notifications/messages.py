"""Every email about a meeting: a renderer per notification kind.

Each message is a template triplet (`accounts.mail.make_message`), HTML plus
plain text, bottom line first. User Markdown in the HTML part is the sanitized
HTML stored when the text was saved (`render_markdown`: markdown-it-py + nh3,
see `meetings.markdown.RenderedMarkdownField`); the plain text part shows the sanitized
text with tags stripped, so neither part can carry markup a user typed.
Renderers run at delivery time, with what is true then: a reminder that is no
longer needed renders to None and is not sent.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils.text import Truncator

from accounts.mail import make_message, site_url
from accounts.models import Membership, User

from .. import signing
from ..ical import invitation
from ..markdown import plain_text
from ..models import (
    ActionItem,
    AgendaItem,
    AgendaVersion,
    Attendee,
    Decision,
    Endpoint,
    Meeting,
    Notification,
)
from .action_messages import RENDERERS as ACTION_RENDERERS
from .action_messages import declined_items_url, with_answer_links
from .activity_messages import RENDERERS as ACTIVITY_RENDERERS
from .activity_messages import prepare_activity_batches as prepare_activity_batches
from .daily import daily_digest_content, daily_digest_contents, digest_is_empty
from .outbox import MANUAL_STAGE_PREFIX, age_limit, endpoint_of_stage
from .stages import current_stage

Kind = Notification.Kind


# -- shared pieces ----------------------------------------------------------------------


def meeting_url(meeting: Meeting) -> str:
    return site_url(reverse("meetings:detail", args=[meeting.pk]))


def preferences_url() -> str:
    return site_url(reverse("accounts:profile"))


def unsubscribe_headers(
    user: User, *, list_name: str, now: datetime, meeting: Meeting | None = None
) -> tuple[str, dict[str, str]]:
    """RFC 2369 List-Unsubscribe and RFC 8058 one-click headers, plus the link."""
    payload: dict = {"u": user.pk, "l": list_name}
    if meeting is not None:
        payload["m"] = meeting.pk
    token = signing.make_token(signing.UNSUBSCRIBE, payload, now=now)
    url = site_url(reverse("meetings:email_unsubscribe", args=[token]))
    return url, {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _base_context(recipient: User, now: datetime) -> dict:
    return {
        "recipient": recipient,
        "zone": recipient.time_zone,
        "now": now,
        "preferences_url": preferences_url(),
    }


# What a digest says about its meeting is the same for every attendee: it is
# loaded (and its Markdown and .ics rendered) once per delivery chunk, which
# holds the digests of one meeting together, not once per message. Daily digests
# are keyed by their recipient instead (prepare_daily_digests). The cache lives
# for one `deliver_many` call, inside its transaction.
MeetingCache = dict[tuple[str, int], Any]


def _shared[T](
    cache: MeetingCache | None, kind: str, meeting_id: int, load: Callable[[int], T]
) -> T:
    if cache is None:
        return load(meeting_id)
    key = (kind, meeting_id)
    if key not in cache:
        cache[key] = load(meeting_id)
    return cache[key]


def _attendee(meeting: Meeting, user: User) -> Attendee | None:
    # From the prefetched attendees: no query per recipient.
    return next((a for a in meeting.attendees.all() if a.user_id == user.pk), None)


def _declined(meeting: Meeting, user: User) -> bool:
    """One-click unsubscribe from a meeting's mail declines it (RSVP "no"); a
    cancellation still reaches those who declined."""
    attendee = _attendee(meeting, user)
    return bool(attendee and attendee.rsvp == Attendee.Rsvp.NO and not meeting.canceled_at)


# -- agenda digest (and the cancellation notice) ---------------------------------------

_STAGE_TIME = "%Y%m%dT%H%MZ"


def agenda_digest_stage(sequence: int, moved_from: tuple[datetime, datetime] | None) -> str:
    """The outbox stage of an agenda digest: the invitation's SEQUENCE, and for a
    move the times attendees held before it ("3@20260305T0900Z/20260305T1000Z"),
    so the digest can say where the meeting moved from. At most 40 characters."""
    if moved_from is None:
        return str(sequence)
    start, end = (moment.astimezone(UTC).strftime(_STAGE_TIME) for moment in moved_from)
    return f"{sequence}@{start}/{end}"


def parse_agenda_digest_stage(stage: str) -> tuple[str, tuple[datetime, datetime] | None]:
    """(sequence, previous times or None) from `agenda_digest_stage`'s text."""
    sequence, _, times = stage.partition("@")
    start, _, end = times.partition("/")
    try:
        moved_from = tuple(
            datetime.strptime(value, _STAGE_TIME).replace(tzinfo=UTC) for value in (start, end)
        )
    except ValueError:
        return sequence, None
    return sequence, moved_from


def _agenda_digest_shared(meeting_id: int) -> tuple[dict, bytes]:
    """The context and .ics of an agenda digest (or cancellation notice) every
    attendee shares."""
    meeting = (
        Meeting.objects.select_related("organizer", "team", "agenda_sent_by")
        .prefetch_related(
            # Each item's comment count and written resolution, in the one query
            # that loads the items: nothing is asked per item. (Ordered here: a
            # GROUP BY query does not take Meta.ordering.)
            Prefetch(
                "agenda_items",
                queryset=AgendaItem.objects.select_related("owner", "settlement")
                .annotate(comment_count=Count("comments"))
                .order_by("position", "pk"),
            ),
            Prefetch("attendees", queryset=Attendee.objects.select_related("user")),
        )
        .get(pk=meeting_id)
    )
    carried = []
    if meeting.series_id:
        carried = list(
            ActionItem.objects.open()
            .filter(meeting__series_id=meeting.series_id, meeting__starts_at__lt=meeting.starts_at)
            .select_related("owner", "meeting")
        )
    items = list(meeting.agenda_items.all())
    for item in items:
        # Under its item in the text part, as the HTML part shows it.
        item.notes_text = textwrap.indent(plain_text(item.notes_html), "   ")
        item.resolution_text = _resolution(item)
    left, total = meeting.timebox_left()
    return {
        "meeting": meeting,
        "meeting_url": meeting_url(meeting),
        "items": items,
        # For "what changed since the version you received": every kept version,
        # and the latest version each attendee was sent (two queries a chunk).
        "versions": list(AgendaVersion.objects.filter(meeting=meeting)),
        "received": _received_versions(meeting),
        "attendees": list(meeting.attendees.all()),
        "carried": carried,
        "amended": bool(meeting.agenda_amended_at) and not meeting.canceled_at,
        "outcome_text": plain_text(meeting.desired_outcome_html),
        # "25 of 45 min still to discuss", once items are settled in writing.
        "timebox_left": (left, total) if total and left < total else None,
    }, invitation(meeting)


def _resolution(item: AgendaItem) -> str:
    """What an item settled in writing was decided as, as plain text ("" if open).
    Needs `settlement` selected with the item."""
    if not item.is_settled:
        return ""
    try:
        return plain_text(item.settlement.text_html)
    except Decision.DoesNotExist:
        return ""


def _received_versions(meeting: Meeting) -> dict[int, list[datetime]]:
    """{recipient id: when each agenda digest delivered to them was queued}."""
    received: dict[int, list[datetime]] = {}
    for recipient_id, queued in Notification.objects.filter(
        meeting=meeting, kind=Kind.AGENDA_DIGEST, state=Notification.State.SENT
    ).values_list("recipient_id", "created_at"):
        received.setdefault(recipient_id, []).append(queued)
    return received


def _changes_for(shared: dict, notification: Notification) -> dict | None:
    """What changed in the agenda since the last version this reader received; None
    when they received none before (they get the whole agenda anyway)."""
    earlier = [
        queued
        for queued in shared["received"].get(notification.recipient_id, [])
        if queued < notification.created_at
    ]
    if not earlier:
        return None
    then = AgendaVersion.as_of(shared["versions"], max(earlier))
    current = AgendaVersion.as_of(shared["versions"], notification.created_at)
    if then is None or current is None or then.pk == current.pk:
        return None
    changes = current.changes_since(then)
    return changes if any(changes.values()) else None


def agenda_digest(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    shared, ics = _shared(
        cache, Kind.AGENDA_DIGEST, notification.meeting_id, _agenda_digest_shared
    )
    meeting = shared["meeting"]
    recipient = notification.recipient
    sequence, moved_from = parse_agenda_digest_stage(notification.stage)
    if meeting.canceled_at and sequence != str(meeting.sequence):
        return None  # superseded by the cancellation notice
    if not meeting.canceled_at and not meeting.agenda_sent_at:
        return None
    if meeting.settled_at:
        return None  # settled in writing: its recap digest says so and carries the CANCEL
    if _declined(meeting, recipient):
        return None
    unsubscribe_url, headers = unsubscribe_headers(
        recipient, list_name="meeting", now=now, meeting=meeting
    )
    context = {
        **_base_context(recipient, now),
        **shared,
        # A move of a meeting whose agenda was out: the news leads the digest.
        "moved_from": None if meeting.canceled_at else moved_from,
        "changes": None if meeting.canceled_at else _changes_for(shared, notification),
        "unsubscribe_url": unsubscribe_url,
    }
    method = "CANCEL" if meeting.canceled_at else "REQUEST"
    template = "meeting_canceled" if meeting.canceled_at else "agenda_digest"
    return make_message(
        template,
        context,
        to=[recipient.email],
        headers=headers,
        attachments=[("invite.ics", ics, f"text/calendar; method={method}; charset=utf-8")],
    )


# -- recap digest ----------------------------------------------------------------------------


def acknowledge_url(attendee: Attendee, *, now: datetime) -> str:
    token = signing.make_token(
        signing.ACKNOWLEDGE, {"a": attendee.pk, "m": attendee.meeting_id}, now=now
    )
    return site_url(reverse("meetings:email_acknowledge", args=[token]))


def _recap_digest_shared(meeting_id: int) -> dict:
    """The part of a recap digest every recipient shares."""
    meeting = (
        Meeting.objects.select_related("organizer", "team")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.all()),
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("owner").order_by(
                    "owner__display_name", "owner__email", "due_date", "pk"
                ),
            ),
            # With their users: the calendar CANCEL of a meeting settled in writing
            # names them.
            Prefetch("attendees", queryset=Attendee.objects.select_related("user")),
        )
        .get(pk=meeting_id)
    )
    groups: dict[int, dict] = {}
    for item in meeting.action_items.all():
        group = groups.setdefault(item.owner_id, {"owner": item.owner, "items": []})
        group["items"].append(item)
    return {
        "meeting": meeting,
        "meeting_url": meeting_url(meeting),
        "summary_text": plain_text(meeting.recap_summary_html),
        "notes_text": plain_text(meeting.recap_notes_html),
        "decisions": [(d, plain_text(d.text_html)) for d in meeting.decisions.all()],
        "groups": list(groups.values()),
        "action_count": len(meeting.action_items.all()),
        # Settled in writing: the meeting will not take place, and calendars are
        # told so with the reason (ical.SETTLED_LINE), once for all recipients.
        "settled": bool(meeting.settled_at),
        "cancel_ics": invitation(meeting) if meeting.settled_at else None,
    }


def recap_digest(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    """The recap, to an attendee or to an action-item owner who was not there; an
    owner reads their own items first."""
    shared = _shared(cache, Kind.RECAP_DIGEST, notification.meeting_id, _recap_digest_shared)
    meeting = shared["meeting"]
    if not meeting.recap_published_at or meeting.canceled_at:
        return None
    recipient = notification.recipient
    attendee = _attendee(meeting, recipient)
    own = next((g for g in shared["groups"] if g["owner"].pk == recipient.pk), None)
    headers: dict[str, str] = {}
    unsubscribe_url = ""
    if attendee is not None:
        # The meeting's list is its attendees': an owner who was not there is on no
        # list, and this one message is about work assigned to them.
        unsubscribe_url, headers = unsubscribe_headers(
            recipient, list_name="meeting", now=now, meeting=meeting
        )
    asks = meeting.asks_acknowledgement_from(recipient.pk, attended=attendee is not None)
    context = {
        **_base_context(recipient, now),
        **shared,
        "attended": attendee is not None,
        # (item, its answer links): the owner answers each from the message.
        "own_items": with_answer_links(own["items"], recipient.pk, now=now) if own else [],
        "other_groups": [g for g in shared["groups"] if g is not own],
        "action_items_url": site_url(reverse("meetings:action_items")),
        "acknowledge_url": acknowledge_url(attendee, now=now) if asks and attendee else "",
        "acknowledged": bool(attendee and attendee.acknowledged_at),
        "unsubscribe_url": unsubscribe_url,
    }
    attachments = []
    if shared["cancel_ics"]:
        attachments.append(
            ("invite.ics", shared["cancel_ics"], "text/calendar; method=CANCEL; charset=utf-8")
        )
    return make_message(
        "recap_digest", context, to=[recipient.email], headers=headers, attachments=attachments
    )


# -- reminders -------------------------------------------------------------------------------


def superseded_by_later_stage() -> Exists:
    """Annotation: a later stage of the same kind was queued for the same person
    about the same meeting, so only that one is sent."""
    return Exists(
        Notification.objects.filter(
            meeting_id=OuterRef("meeting_id"),
            kind=OuterRef("kind"),
            recipient_id=OuterRef("recipient_id"),
            created_at__gt=OuterRef("created_at"),
        ).exclude(pk=OuterRef("pk"))
    )


def _superseded(notification: Notification) -> bool:
    annotated = getattr(notification, "superseded", None)
    if annotated is not None:
        return annotated
    # Not loaded through deliver(): ask the database.
    return (
        Notification.objects.annotate(later=superseded_by_later_stage())
        .filter(pk=notification.pk, later=True)
        .exists()
    )


def reminder(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    meeting = notification.meeting
    kind = notification.kind
    if not meeting.needs_reminder(kind, now):
        return None  # the agenda or recap came, or the meeting was canceled or is over
    if (
        kind == Kind.NO_AGENDA_NOTICE
        and Attendee.objects.filter(
            meeting_id=meeting.pk, user=notification.recipient, rsvp=Attendee.Rsvp.NO
        ).exists()
    ):
        return None  # declined (one-click unsubscribe from the meeting's mail)
    if _superseded(notification):
        return None
    recipient = notification.recipient
    stage = notification.stage.split("@", 1)[0]
    if stage.startswith(MANUAL_STAGE_PREFIX):
        # "Remind now": worded like the stage the meeting is at when it goes out.
        current = current_stage(meeting, now, [kind])
        stage = current.name.split("@", 1)[0] if current else stage
    context = {
        **_base_context(recipient, now),
        "meeting": meeting,
        "meeting_url": meeting_url(meeting),
        "stage": stage,
        "is_organizer": recipient.pk == meeting.organizer_id,
        "starts_in": starts_in(meeting.starts_at - now),
        "reminder_number": reminder_number(stage),
        "days_since_end": max(0, (now - meeting.ends_at).days),
    }
    return make_message(kind, context, to=[recipient.email])


# -- daily digest ----------------------------------------------------------------------------


def daily_digest(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    recipient = notification.recipient
    if not recipient.daily_digest or not recipient.is_active:
        return None
    # From the chunk's batch when deliver_many prepared one (prepare_daily_digests).
    content = _shared(
        cache,
        Kind.DAILY_DIGEST,
        recipient.pk,
        lambda _pk: daily_digest_content(recipient, now=now),
    )
    if digest_is_empty(content):
        return None
    unsubscribe_url, headers = unsubscribe_headers(recipient, list_name="daily", now=now)
    context = {
        **_base_context(recipient, now),
        **content,
        # (item, its answer links), as in the recap digest.
        "overdue_items": with_answer_links(content["overdue_items"], recipient.pk, now=now),
        "open_items": with_answer_links(content["open_items"], recipient.pk, now=now),
        "reassign_url": declined_items_url(),
        "unsubscribe_url": unsubscribe_url,
        "owed_count": len(content["missing_agenda"]) + len(content["missing_recap"]),
        "home_url": site_url(reverse("meetings:home")),
    }
    return make_message("daily_digest", context, to=[recipient.email], headers=headers)


def prepare_daily_digests(
    notifications: Sequence[Notification], *, now: datetime, cache: MeetingCache
) -> None:
    """Compute the daily digests of a delivery chunk together: seven queries for the
    chunk instead of seven per digest. `daily_digest()` then reads them from `cache`."""
    users = [n.recipient for n in notifications if n.kind == Kind.DAILY_DIGEST]
    for pk, content in daily_digest_contents(users, now=now).items():
        cache[(Kind.DAILY_DIGEST, pk)] = content


# -- undelivered mail, for team admins -------------------------------------------------


def delivery_expired(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    """Messages about the recipient's teams that expired undelivered that day."""
    recipient = notification.recipient
    expired = list(
        Notification.objects.filter(
            state=Notification.State.EXPIRED,
            given_up_at__date=notification.stage,
            meeting__team__memberships__user=recipient,
            meeting__team__memberships__role__in=Membership.ADMIN_ROLES,
        )
        .select_related("meeting", "recipient")
        .order_by("meeting__starts_at", "pk")[: EXPIRED_LISTED + 1]
    )
    if not expired:
        return None
    context = {
        **_base_context(recipient, now),
        "expired": expired[:EXPIRED_LISTED],
        "more": len(expired) > EXPIRED_LISTED,
        "max_age_days": age_limit().days or 1,
        "home_url": site_url(reverse("meetings:home")),
    }
    return make_message("delivery_expired", context, to=[recipient.email])


EXPIRED_LISTED = 20


# -- a webhook or chat channel disabled, for team admins --------------------------------


def integrations_url(team) -> str:
    """Where a team admin looks at the team's endpoints and turns one on again."""
    return site_url(reverse("meetings:integrations", args=[team.slug]))


def endpoint_disabled(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    """An endpoint of the recipient's team was disabled after failing for long.

    Not sent when it was enabled again meanwhile, or the recipient is no longer
    an admin of its team.
    """
    recipient = notification.recipient
    endpoint = (
        Endpoint.objects.select_related("team")
        .filter(
            pk=endpoint_of_stage(notification.stage),
            disabled_at__isnull=False,
            team__memberships__user=recipient,
            team__memberships__role__in=Membership.ADMIN_ROLES,
        )
        .first()
    )
    if endpoint is None:
        return None
    context = {
        **_base_context(recipient, now),
        "endpoint": endpoint,
        "host": urlsplit(endpoint.url).hostname or endpoint.url,
        "integrations_url": integrations_url(endpoint.team),
    }
    return make_message("endpoint_disabled", context, to=[recipient.email])


RENDERERS = {
    Kind.AGENDA_DIGEST: agenda_digest,
    Kind.RECAP_DIGEST: recap_digest,
    Kind.AGENDA_REMINDER: reminder,
    Kind.NO_AGENDA_NOTICE: reminder,
    Kind.RECAP_REMINDER: reminder,
    Kind.RECAP_ESCALATION: reminder,
    Kind.DAILY_DIGEST: daily_digest,
    Kind.DELIVERY_EXPIRED: delivery_expired,
    Kind.ENDPOINT_DISABLED: endpoint_disabled,
    **ACTION_RENDERERS,
    **ACTIVITY_RENDERERS,
}


def message_for(
    notification: Notification, *, now: datetime, cache: MeetingCache | None = None
) -> EmailMultiAlternatives | None:
    """The message to send for an outbox row, or None when it is no longer needed.

    `cache`: a dict shared by the rows of one delivery chunk (see `_shared`).
    """
    if not notification.recipient.is_active:
        return None
    return RENDERERS[notification.kind](notification, now=now, cache=cache)


def starts_in(span: timedelta) -> str:
    """ "in 25 minutes", "in 1½ hours", "in 3 hours": rounded as people say it, never
    "in 1 hour" for 89 minutes."""
    minutes = max(0, round(span.total_seconds() / 60))
    if minutes < 55:
        return f"in {max(5, round(minutes / 5) * 5)} minutes"
    if minutes >= 165:
        return f"in {round(minutes / 60)} hours"
    hours, half = divmod(round(minutes / 30), 2)
    return f"in {hours}{'½' if half else ''} hour{'s' if hours > 1 or half else ''}"


def reminder_number(stage: str) -> int:
    """Which reminder about one thing this is: 1 for the first (a recap "after the
    end"), 2 at the end of the grace period, then one more each day."""
    if stage.startswith("daily") and stage[5:].isdigit():
        return int(stage[5:]) + 2
    return 2 if stage == "grace" else 1


def subject_line(text: str, length: int = 60) -> str:
    return Truncator(" ".join(text.split())).chars(length)
