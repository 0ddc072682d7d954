"""The batch of agenda activity: "what changed on your meetings' agendas".

`queue_activity` (digests.py) queues at most one row per person per working
window and stores nothing about what happened. What a batch says is read here,
when it is sent, from the audit trail the services write: the events of
`ACTIVITY_ACTIONS` since the person's previous batch was sent (or the last
`LOOKBACK` when there was none), on meetings they attend, plus comments that
mention them, and never their own. Nothing left to say (the comment was deleted,
the meeting canceled, the last batch already said it) renders to None and the
row is dropped like any message no longer needed.

A delivery chunk's batches are read together (`prepare_activity_batches`), in
a fixed number of queries however many rows, meetings or events.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.text import Truncator

from accounts.mail import make_message, site_url
from accounts.models import AuditEvent, User

from ..markdown import plain_text
from ..models import AgendaComment, AgendaItem, Attendee, Meeting, Notification
from .digests import ACTIVITY_ACTIONS

Kind = Notification.Kind

# A first batch (no earlier one was sent) reports at most this far back.
LOOKBACK = timedelta(days=7)
# How much of a comment a batch quotes.
EXCERPT_CHARS = 160

_COMMENT = AgendaComment._meta.model_name
_ITEM = AgendaItem._meta.model_name
_Mentions = AgendaComment.mentioned.through


@dataclass
class Line:
    """One event, as the batch says it."""

    action: str
    text: str
    detail: str = ""  # a comment's excerpt, an item's resolution


@dataclass
class MeetingActivity:
    meeting: Meeting
    url: str
    attended: bool
    lines: list[Line] = field(default_factory=list)


def excerpt(body_html: str) -> str:
    """A comment as one line of plain text, from its sanitized HTML (entities read,
    so "&" is not "&amp;"; the HTML part escapes it again)."""
    text = " ".join(html.unescape(plain_text(body_html)).split())
    return Truncator(text).chars(EXCERPT_CHARS)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


# How the bottom line counts each action: "3 comments", "1 item settled".
_COUNTED = {
    "agenda.commented": ("comment", ""),
    "agenda.item_settled": ("item", " settled"),
    "agenda.item_unsettled": ("item", " reopened"),
    "meeting.shortened": ("meeting", " shortened"),
    "meeting.settled": ("meeting", " settled in writing"),
}


def bottom_line(counts: dict[str, int], groups: list[MeetingActivity]) -> str:
    """ "3 comments and 1 item settled on 2 of your meetings"."""
    parts = [
        f"{_plural(counts[action], noun)}{what}"
        for action, (noun, what) in _COUNTED.items()
        if counts.get(action)
    ]
    if len(groups) == 1:
        where = f"on “{groups[0].meeting.title}”"
    elif all(group.attended for group in groups):
        where = f"on {len(groups)} of your meetings"
    else:
        where = f"on {len(groups)} meetings"
    return f"{_joined(parts)} {where}"


def _shortened(event: AuditEvent, zone) -> tuple[int, str]:
    """(minutes taken off, the new local end "10:40") from a meeting.shortened event."""
    try:
        before, after = (datetime.fromisoformat(v) for v in event.changes["ends_at"])
    except (KeyError, TypeError, ValueError):
        return 0, ""
    return int((before - after).total_seconds() // 60), f"{after.astimezone(zone):%H:%M}"


def _line(event, actor: str, recipient: User, comment, item_title: str) -> Line:
    action = event.action
    if action == "agenda.commented":
        title = comment.agenda_item.title
        return Line(action, f"{actor} on “{title}”", f"“{excerpt(comment.body_html)}”")
    if action == "agenda.item_settled":
        resolution = (event.changes.get("resolution") or [None, ""])[1] or ""
        return Line(action, f"{actor} settled “{item_title}” in writing", resolution)
    if action == "agenda.item_unsettled":
        return Line(action, f"{actor} reopened “{item_title}” for the meeting")
    if action == "meeting.shortened":
        minutes, end = _shortened(event, recipient.zone)
        text = f"{actor} shortened the meeting by {minutes} min" if minutes else (
            f"{actor} shortened the meeting")  # fmt: skip
        return Line(action, f"{text}: it now ends at {end}" if end else text)
    return Line(action, f"Settled in writing: no meeting needed ({actor})")


def activity_contents(recipients: Sequence[User], *, now: datetime) -> dict[int, dict]:
    """{recipient pk: what their batch says now}; "count" 0 means nothing to say.

    Seven queries at most, however many recipients, meetings or events.
    """
    pks = [user.pk for user in recipients]
    if not pks:
        return {}
    last_sent = dict(
        Notification.objects.filter(
            kind=Kind.AGENDA_ACTIVITY, recipient_id__in=pks, state=Notification.State.SENT
        )
        .values("recipient_id")
        .annotate(last=Max("sent_at"))
        .values_list("recipient_id", "last")
    )
    since = {pk: max(filter(None, [last_sent.get(pk), now - LOOKBACK])) for pk in pks}
    attending = Attendee.objects.filter(user_id__in=pks).exclude(rsvp=Attendee.Rsvp.NO)
    events = list(
        AuditEvent.objects.filter(
            action__in=ACTIVITY_ACTIONS, at__gt=min(since.values()), at__lte=now
        )
        .filter(
            Q(meeting_id__in=attending.values("meeting_id"))
            | Q(
                subject_type=_COMMENT,
                subject_id__in=_Mentions.objects.filter(user_id__in=pks).values(
                    "agendacomment_id"
                ),
            )
        )
        .select_related("actor")
        .order_by("at", "pk")
    )
    if not events:
        return {pk: {"count": 0} for pk in pks}
    meeting_ids = {e.meeting_id for e in events}
    comment_ids = {e.subject_id for e in events if e.subject_type == _COMMENT}
    item_ids = {e.subject_id for e in events if e.subject_type == _ITEM}
    attended = set(
        attending.filter(meeting_id__in=meeting_ids).values_list("meeting_id", "user_id")
    )
    meetings = {m.pk: m for m in Meeting.objects.filter(pk__in=meeting_ids)}
    comments = {
        c.pk: c
        for c in AgendaComment.objects.filter(pk__in=comment_ids).select_related("agenda_item")
    }
    mentioned: dict[int, set[int]] = defaultdict(set)
    for comment_id, user_id in _Mentions.objects.filter(
        agendacomment_id__in=comment_ids, user_id__in=pks
    ).values_list("agendacomment_id", "user_id"):
        mentioned[comment_id].add(user_id)
    item_titles = dict(AgendaItem.objects.filter(pk__in=item_ids).values_list("pk", "title"))
    return {
        user.pk: _content_for(
            user, events, since[user.pk], meetings, comments, mentioned, item_titles, attended
        )  # fmt: skip
        for user in recipients
    }


def _content_for(
    user: User, events, since, meetings, comments, mentioned, item_titles, attended
) -> dict:
    groups: dict[int, MeetingActivity] = {}
    mentions: list[tuple[Line, MeetingActivity]] = []
    counts: dict[str, int] = dict.fromkeys(ACTIVITY_ACTIONS, 0)
    for event in events:
        meeting = meetings.get(event.meeting_id)
        if event.at <= since or event.actor_id == user.pk or meeting is None:
            continue
        if meeting.canceled_at:
            continue  # its cancellation notice said all there is to say
        comment = comments.get(event.subject_id) if event.subject_type == _COMMENT else None
        if event.action == "agenda.commented" and comment is None:
            continue  # deleted since
        mentions_them = comment is not None and user.pk in mentioned[comment.pk]
        is_attendee = (meeting.pk, user.pk) in attended
        if not (is_attendee or mentions_them):
            continue
        group = groups.get(meeting.pk)
        if group is None:
            url = site_url(reverse("meetings:detail", args=[meeting.pk]))
            group = groups[meeting.pk] = MeetingActivity(meeting, url, is_attendee)
        actor = event.actor.name if event.actor else event.actor_label
        title = item_titles.get(event.subject_id, "an agenda item")
        line = _line(event, actor, user, comment, title)
        counts[event.action] += 1
        if mentions_them:
            line.text = f"{actor} mentioned you on “{comment.agenda_item.title}”"
            mentions.append((line, group))
        else:
            group.lines.append(line)
    ordered = sorted(groups.values(), key=lambda g: (g.meeting.starts_at, g.meeting.pk))
    count = sum(counts.values())
    return {
        "count": count,
        "since": since,
        "mentions": mentions,
        "groups": [g for g in ordered if g.lines],
        "bottom_line": bottom_line(counts, ordered) if count else "",
    }


def prepare_activity_batches(
    notifications: Sequence[Notification], *, now: datetime, cache: dict
) -> None:
    """Read the activity batches of a delivery chunk together; `agenda_activity()`
    then takes each from `cache`."""
    users = {n.recipient_id: n.recipient for n in notifications if n.kind == Kind.AGENDA_ACTIVITY}
    for pk, content in activity_contents(list(users.values()), now=now).items():
        cache[(Kind.AGENDA_ACTIVITY, pk)] = content


def agenda_activity(
    notification: Notification, *, now: datetime, cache: dict | None = None
) -> EmailMultiAlternatives | None:
    recipient = notification.recipient
    # Taken out of the cache once: a second row of the same person in one chunk
    # (two windows due after an outage) reads again, after the first was sent.
    content = cache.pop((Kind.AGENDA_ACTIVITY, recipient.pk), None) if cache is not None else None
    if content is None:
        content = activity_contents([recipient], now=now)[recipient.pk]
    if not content["count"]:
        return None
    context = {
        "recipient": recipient,
        "zone": recipient.time_zone,
        "now": now,
        "preferences_url": site_url(reverse("accounts:profile")),
        "home_url": site_url(reverse("meetings:home")),
        **content,
    }
    return make_message("agenda_activity", context, to=[recipient.email])


RENDERERS = {Kind.AGENDA_ACTIVITY: agenda_activity}
