"""What each user's daily digest says today, for many users in seven queries.

The digest is checked for emptiness when it is queued (a batch of up to 500
users whose local morning has come) and rendered when it is delivered (a chunk
of up to 100): both ask for many users at once. Each user's "today" is their
own local day, so rows are fetched for the union of those days and sorted out
per user in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q

from accounts.models import AuditEvent, User

from ..models import ActionItem, AgendaComment, AgendaItem, Attendee, Meeting

# How long a published recap waits in the daily digest for an acknowledgement.
ACKNOWLEDGE_WINDOW = timedelta(days=30)
# "Meetings you organize that miss an agenda": those starting within this window.
MISSING_AGENDA_WINDOW = timedelta(days=7)
# "Re-dated since your last digest": the digests are a day apart.
REDATED_WINDOW = timedelta(hours=24)
# "Waiting for your input": agenda items of meetings starting within this window,
# and mentions since the last digest (a day ago).
INPUT_WINDOW = timedelta(days=7)
MENTION_WINDOW = timedelta(hours=24)
ANSWERS_NOT_DECLINED = [r for r in Attendee.Rsvp.values if r != Attendee.Rsvp.NO]


def _local_day(user: User, now: datetime) -> tuple[date, datetime, datetime]:
    zone = user.zone
    today = now.astimezone(zone).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    return today, start, start + timedelta(days=1)


def daily_digest_contents(users: Sequence[User], *, now: datetime) -> dict[int, dict]:
    """{user pk: what their digest would say}; empty lists mean nothing to say.

    Seven queries however many users, meetings or items.
    """
    if not users:
        return {}
    days = {user.pk: _local_day(user, now) for user in users}
    pks = list(days)
    earliest = min(start for _, start, _ in days.values())
    latest = max(end for _, _, end in days.values())
    todays: dict[int, list[Meeting]] = defaultdict(list)
    # `for_user` reads the attendee row the filter joined (one row per attendee).
    for meeting in (
        Meeting.objects.filter(
            attendees__user_id__in=pks,
            starts_at__gte=earliest,
            starts_at__lt=latest,
            canceled_at__isnull=True,
        )
        .with_status(now)
        .select_related("organizer")
        .annotate(for_user=F("attendees__user_id"))
        .order_by("starts_at", "pk")
    ):
        _, start, end = days[meeting.for_user]
        if start <= meeting.starts_at < end:
            todays[meeting.for_user].append(meeting)
    to_acknowledge: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in (
        Meeting.objects.filter(
            attendees__user_id__in=pks,
            attendees__acknowledged_at__isnull=True,
            recap_published_at__gte=now - ACKNOWLEDGE_WINDOW,
        )
        .annotate(for_user=F("attendees__user_id"))
        .order_by("-recap_published_at", "pk")
    ):
        if meeting.asks_acknowledgement_from(meeting.for_user, attended=True):
            to_acknowledge[meeting.for_user].append(meeting)
    open_items: dict[int, list[ActionItem]] = defaultdict(list)
    # What each owner is expected to do: not the items they declined.
    for item in (
        ActionItem.objects.taken_on()
        .filter(owner_id__in=pks)
        .select_related("meeting")
        .order_by("due_date", "pk")
    ):
        open_items[item.owner_id].append(item)
    missing_agenda = _by_organizer(
        Meeting.objects.awaiting_agenda(now)
        .filter(organizer_id__in=pks, starts_at__lt=now + MISSING_AGENDA_WINDOW)
        .order_by("starts_at", "pk")
    )
    missing_recap = _by_organizer(
        Meeting.objects.awaiting_recap(now).filter(organizer_id__in=pks).order_by("ends_at", "pk")
    )
    redated, declined = _organizers_items(pks, now)
    waiting = _waiting_for_input(pks, now)
    contents = {}
    for pk, (today, _, _) in days.items():
        items = open_items[pk]
        contents[pk] = {
            "today": today,
            "todays_meetings": todays[pk],
            "to_acknowledge": to_acknowledge[pk],
            "overdue_items": [i for i in items if i.due_date < today],
            "open_items": [i for i in items if i.due_date >= today],
            "missing_agenda": missing_agenda[pk],
            "missing_recap": missing_recap[pk],
            "redated_items": redated[pk],
            "declined_items": declined[pk],
            "waiting_input": waiting[pk],
        }
    return contents


def _waiting_for_input(pks: list[int], now: datetime) -> dict[int, list[AgendaItem]]:
    """Agenda items of the upcoming meetings (within INPUT_WINDOW) each user attends
    that wait for them: the open items they own (to settle in writing or bring to
    the meeting), and items whose comments mentioned them in the last day. One
    query, by attendee; each item says why (`is_yours`, `mentioned_lately`)."""
    mentioned_lately = Exists(
        AgendaComment.objects.filter(
            agenda_item=OuterRef("pk"),
            mentioned=OuterRef("for_user"),
            created_at__gte=now - MENTION_WINDOW,
        )
    )
    waiting: dict[int, list[AgendaItem]] = defaultdict(list)
    # `for_user` reads the attendee row the filter joined (one row per attendee);
    # those who declined are not asked.
    for item in (
        AgendaItem.objects.filter(
            meeting__attendees__user_id__in=pks,
            meeting__attendees__rsvp__in=ANSWERS_NOT_DECLINED,
            meeting__starts_at__gt=now,
            meeting__starts_at__lt=now + INPUT_WINDOW,
            meeting__canceled_at__isnull=True,
            meeting__settled_at__isnull=True,
        )
        .annotate(for_user=F("meeting__attendees__user_id"), mentioned_lately=mentioned_lately)
        .filter(Q(owner_id=F("for_user"), settled_at__isnull=True) | Q(mentioned_lately=True))
        .select_related("meeting")
        .order_by("meeting__starts_at", "meeting_id", "position", "pk")
    ):
        item.is_yours = item.owner_id == item.for_user and not item.is_settled
        waiting[item.for_user].append(item)
    return waiting


def _organizers_items(
    pks: list[int], now: datetime
) -> tuple[dict[int, list[ActionItem]], dict[int, list[ActionItem]]]:
    """Open items of meetings the users organize that were re-dated lately (by the
    audit trail's "action_item.redated" events), and those declined and waiting
    for a new owner: one query, by organizer."""
    redated_lately = Exists(
        AuditEvent.objects.filter(
            team_id=OuterRef("meeting__team_id"),
            action="action_item.redated",
            subject_type=ActionItem._meta.model_name,
            subject_id=OuterRef("pk"),
            at__gte=now - REDATED_WINDOW,
        )
    )
    redated: dict[int, list[ActionItem]] = defaultdict(list)
    declined: dict[int, list[ActionItem]] = defaultdict(list)
    for item in (
        ActionItem.objects.open()
        .filter(meeting__organizer_id__in=pks, meeting__canceled_at__isnull=True)
        .alias(redated_lately=redated_lately)
        .filter(
            Q(response=ActionItem.Response.DECLINED) | Q(redated_count__gt=0, redated_lately=True)
        )
        .select_related("meeting", "owner")
        .order_by("due_date", "pk")
    ):
        if item.response == ActionItem.Response.DECLINED:
            declined[item.meeting.organizer_id].append(item)
        else:
            redated[item.meeting.organizer_id].append(item)
    return redated, declined


def _by_organizer(meetings) -> dict[int, list[Meeting]]:
    grouped: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        grouped[meeting.organizer_id].append(meeting)
    return grouped


def daily_digest_content(user: User, *, now: datetime) -> dict:
    """What one user's daily digest would say today."""
    return daily_digest_contents([user], now=now)[user.pk]


def digest_is_empty(content: dict) -> bool:
    return not any(value for key, value in content.items() if key != "today")
