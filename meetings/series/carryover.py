"""Carry-over: what one meeting of a series leaves open comes back on the next agenda.

Open action items (as "Follow up: ..." items, with how many meetings they have
slipped; a declined one as "Reassign: ...", owned by the organizer) and agenda
items the last recap deferred. It runs when a recap is
published (the task is enqueued after commit) and from beat for recent recaps,
never when a page is viewed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils.formats import date_format

from ..models import ActionItem, AgendaItem, CarriedAction, Meeting, Series
from .generation import next_occurrence


def _truncate(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


@transaction.atomic
def carry_over(meeting: Meeting, *, now: datetime) -> list[AgendaItem]:
    """Bring open action items and last recap's deferred items into `meeting`'s agenda.

    Idempotent: a second call adds only what is new. Deferred items
    are matched by `carried_from`, action items by the unique CarriedAction
    row, so a second call adds only what is new. Carried action items that were
    completed since are taken off again. Once the agenda is sent or the meeting
    started, the agenda is left alone (attendees already have it).
    """
    row = Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    if row is None or row.series_id is None or not row.owes_agenda(now):
        return []
    earlier = Meeting.objects.filter(
        series_id__in=row.series.lineage_ids(),
        starts_at__lt=row.starts_at,
        canceled_at__isnull=True,
    )
    position = (row.agenda_items.aggregate(m=Max("position"))["m"] or 0) + 1
    added: list[AgendaItem] = []

    last_recap = (
        earlier.filter(recap_published_at__isnull=False).order_by("-starts_at", "-pk").first()
    )
    if last_recap is not None:
        done = set(
            row.agenda_items.filter(carried_from__isnull=False).values_list(
                "carried_from_id", flat=True
            )
        )
        for item in last_recap.agenda_items.filter(outcome=AgendaItem.Outcome.DEFERRED):
            if item.pk in done:
                continue
            added.append(
                AgendaItem(
                    meeting=row,
                    position=position,
                    title=item.title,
                    owner_id=item.owner_id,
                    timebox_minutes=item.timebox_minutes,
                    notes=item.notes,
                    added_by_id=item.added_by_id,
                    carried_from=item,
                    slipped_count=item.slipped_count + 1,
                    created_at=now,
                )
            )
            position += 1

    carried = {c.action_item_id: c for c in row.carried_actions.select_related("action_item")}
    # Completed since it was carried: the follow-up is no longer needed. Declined
    # (or reassigned after a decline) since: it is carried again, the other way.
    stale = [
        c
        for c in carried.values()
        if c.action_item.status != ActionItem.Status.OPEN
        or c.to_reassign != (c.action_item.response == ActionItem.Response.DECLINED)
    ]
    if stale:
        AgendaItem.objects.filter(pk__in=[c.agenda_item_id for c in stale]).delete()
        for c in stale:
            del carried[c.action_item_id]
    open_items = list(
        ActionItem.objects.open()
        .filter(meeting__in=earlier)
        .exclude(pk__in=list(carried))
        .select_related("meeting", "owner")
        .order_by("meeting__starts_at", "due_date", "pk")
    )
    slipped_before = {
        c["action_item_id"]: c["most"]
        for c in CarriedAction.objects.filter(
            action_item__in=open_items, meeting__starts_at__lt=row.starts_at
        )
        .values("action_item_id")
        .annotate(most=Max("slipped_count"))
    }
    follow_ups = []
    for action in open_items:
        slipped = slipped_before.get(action.pk, 0) + 1
        origin = action.meeting
        notes = (
            f"Open action item from {origin.title} on "
            f"{date_format(origin.local_date, 'D j M Y')}, "
            f"due {date_format(action.due_date, 'D j M Y')}."
        )
        to_reassign = action.response == ActionItem.Response.DECLINED
        if to_reassign:
            # Handed back by its owner: the meeting finds it a new owner.
            title = f"Reassign: {action.description}"
            reason = f": “{action.decline_reason}”" if action.decline_reason else "."
            notes = f"{action.owner.name} declined it{reason} {notes}"
            owner_id = row.organizer_id
        else:
            title, owner_id = f"Follow up: {action.description}", action.owner_id
        agenda_item = AgendaItem(
            meeting=row,
            position=position,
            title=_truncate(title, 200),
            owner_id=owner_id,
            notes=notes,
            slipped_count=slipped,
            created_at=now,
        )
        position += 1
        added.append(agenda_item)
        follow_ups.append((action, agenda_item, slipped, to_reassign))
    AgendaItem.objects.bulk_create(added)
    CarriedAction.objects.bulk_create(
        CarriedAction(meeting=row, action_item=action, agenda_item=item, slipped_count=slipped,
                      to_reassign=to_reassign)
        for action, item, slipped, to_reassign in follow_ups
    )  # fmt: skip
    return added


def carry_over_after_recap(meeting: Meeting, *, now: datetime) -> list[AgendaItem]:
    """The next meeting of `meeting`'s series takes up what its recap left open."""
    if meeting.series_id is None:
        return []
    upcoming = next_occurrence(meeting.series, now=now)
    return carry_over(upcoming, now=now) if upcoming is not None else []


def carry_over_recent(*, now: datetime, since: timedelta = timedelta(days=1)) -> int:
    """Bring every agenda that carry-over may have missed up to date; the beat task.

    The next agenda of every series whose recap was published lately (in case the
    task enqueued on publish was lost), and upcoming agendas that still follow up
    an action item done since (it is taken off) or declined or reassigned since (it
    is carried again, as the item to reassign or back as a follow-up). Idempotent
    like `carry_over`.
    """
    series_ids = (
        Meeting.objects.filter(
            series__isnull=False, recap_published_at__gte=now - since, series__ended_at=None
        )
        .values_list("series_id", flat=True)
        .distinct()
    )
    added = 0
    for series in Series.objects.filter(pk__in=list(series_ids)):
        upcoming = next_occurrence(series, now=now)
        if upcoming is not None:
            added += len(carry_over(upcoming, now=now))
    stale = (
        CarriedAction.objects.filter(
            meeting__starts_at__gt=now,
            meeting__agenda_sent_at__isnull=True,
            meeting__canceled_at__isnull=True,
        )
        .filter(
            ~Q(action_item__status=ActionItem.Status.OPEN)
            | Q(to_reassign=True) & ~Q(action_item__response=ActionItem.Response.DECLINED)
            | Q(to_reassign=False, action_item__response=ActionItem.Response.DECLINED)
        )
        .values_list("meeting_id", flat=True)
        .distinct()
    )
    for meeting in Meeting.objects.filter(pk__in=list(stale)):
        carry_over(meeting, now=now)
    return added
