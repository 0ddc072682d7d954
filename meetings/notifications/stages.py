"""DESIGN.md's reminder table: every stage of a meeting with its due time, the
meeting's next look-at time, and when a recipient's working hours let one go out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from accounts.models import User

from ..models import ActionItem, Meeting, Notification

Kind = Notification.Kind
# The item stages after the due date start with this (webhooks report them as overdue).
OVERDUE = "overdue"

# DESIGN.md: "due tomorrow" comes a day before the agenda deadline, "last call" 2 h
# before the start; recap reminders 1 h after the end, at the end of the grace
# period and then daily.
DUE_TOMORROW_BEFORE_DEADLINE = timedelta(hours=24)
LAST_CALL_BEFORE_START = timedelta(hours=2)
FIRST_RECAP_REMINDER_AFTER_END = timedelta(hours=1)
RECAP_DAILY_EVERY = timedelta(days=1)
# After a month of daily reminders (and the escalation to the team's admins) more
# mail is noise; the unrecapped dashboard still shows the meeting.
RECAP_DAILY_LIMIT = 30


@dataclass(frozen=True)
class Stage:
    kind: str
    name: str  # stored in Notification.stage, with the anchor time appended
    due_at: datetime
    # Waiting for the recipient's working hours is pointless past this moment
    # (the thing the reminder warns about has happened): then it goes at once.
    useless_after: datetime | None


def anchor(moment: datetime) -> str:
    # The stage key carries the time it is about, so a meeting moved to another
    # time gets fresh reminders, while one time never gets a stage twice.
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def stages_for(meeting: Meeting, now: datetime) -> list[Stage]:
    """Every reminder stage that still applies to `meeting` in its current state.

    Includes past stages (the sweep sends only the latest due one per kind) and
    future ones (the earliest sets `next_reminder_at`). Needs `meeting.team`.
    """
    if not meeting.owes_recap():
        return []
    team = meeting.team
    start, end = meeting.starts_at, meeting.ends_at
    stages: list[Stage] = []
    if meeting.needs_reminder(Kind.AGENDA_REMINDER, now):
        deadline = start - team.agenda_lead_time
        key = anchor(start)
        stages += [
            Stage(
                Kind.AGENDA_REMINDER,
                f"due_tomorrow@{key}",
                deadline - DUE_TOMORROW_BEFORE_DEADLINE,
                deadline,
            ),
            Stage(Kind.AGENDA_REMINDER, f"due_now@{key}", deadline, start),
            Stage(Kind.AGENDA_REMINDER, f"last_call@{key}", start - LAST_CALL_BEFORE_START, start),
        ]
    if team.notify_no_agenda and meeting.needs_reminder(Kind.NO_AGENDA_NOTICE, now):
        stages.append(Stage(Kind.NO_AGENDA_NOTICE, f"at_start@{anchor(start)}", start, end))
    key = anchor(end)
    stages.append(
        Stage(Kind.RECAP_REMINDER, f"after_end@{key}", end + FIRST_RECAP_REMINDER_AFTER_END, None)
    )
    grace_end = end + team.recap_grace
    stages.append(Stage(Kind.RECAP_REMINDER, f"grace@{key}", grace_end, None))
    # Daily reminders after the grace period: only the latest one due and the next
    # one matter (the sweep sends the latest; the next sets next_reminder_at).
    days_due = (now - grace_end) // RECAP_DAILY_EVERY if now > grace_end else 0
    first = max(1, min(days_due, RECAP_DAILY_LIMIT))
    for day in range(first, min(days_due + 1, RECAP_DAILY_LIMIT) + 1):
        due = grace_end + day * RECAP_DAILY_EVERY
        stages.append(Stage(Kind.RECAP_REMINDER, f"daily{day}@{key}", due, None))
    stages.append(
        Stage(Kind.RECAP_ESCALATION, f"escalation@{key}", end + team.escalate_after, None)
    )
    return stages


def latest_due(stages: Iterable[Stage], now: datetime) -> list[Stage]:
    """Per kind, the latest stage already due: when several are, only that one is sent."""
    latest: dict[str, Stage] = {}
    for stage in stages:
        if stage.due_at <= now and (
            stage.kind not in latest or stage.due_at >= latest[stage.kind].due_at
        ):
            latest[stage.kind] = stage
    return list(latest.values())


def next_reminder_time(meeting: Meeting, now: datetime, *, handled: bool) -> datetime | None:
    """When the sweep must look at `meeting` again.

    `handled`: the sweep has just queued every stage due at `now`, so only later
    ones count. Otherwise (the meeting was created or changed) a stage already due
    means "now": the sweep queues it, and the unique constraint makes that safe
    even if it had been queued before.
    """
    stages = stages_for(meeting, now)
    if not handled and any(stage.due_at <= now for stage in stages):
        return now
    future = [stage.due_at for stage in stages if stage.due_at > now]
    return min(future) if future else None


def reschedule(meeting: Meeting, *, now: datetime) -> None:
    """Recompute `meeting.next_reminder_at` after its times or state changed.

    Called by the transitions in services.py, the meeting edit view and series
    generation. A plain update of one column: it never touches other fields a
    concurrent request may be saving.
    """
    if meeting.pk is None:
        return
    value = next_reminder_time(meeting, now, handled=False)
    Meeting.objects.filter(pk=meeting.pk).update(next_reminder_at=value)
    meeting.next_reminder_at = value


# -- action items ----------------------------------------------------------------------
# Before the due day (the team's lead, "due tomorrow" by default), on it, the day
# after, then weekly up to the team's cap. Days are the owner's own: a stage is
# due at the owner's local midnight and goes out in their working hours.


def item_stage_key(item: ActionItem) -> str:
    # The item and its due date: a re-dated item gets fresh stages, and a stage
    # queued for the old date is recognised as stale when it is delivered.
    return f"{item.pk}@{item.due_date:%Y%m%d}"


def item_stages(item: ActionItem, now: datetime) -> list[Stage]:
    """Every reminder stage of `item` while its owner is expected to do it: published,
    open, not declined, its meeting not canceled. Needs `item.meeting.team` and
    `item.owner`. The team's on/off switch is the sweep's to apply (`Team.
    remind_action_items`): the stages keep the item scheduled while it is off."""
    meeting = item.meeting
    if (
        item.status != ActionItem.Status.OPEN
        or item.response == ActionItem.Response.DECLINED
        or meeting.canceled_at
        or not meeting.recap_published_at
    ):
        return []
    team, zone, due = meeting.team, item.owner.zone, item.due_date

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone)

    key = item_stage_key(item)
    stages: list[Stage] = []
    lead = team.action_reminder_lead_days
    if lead:
        name = "due_tomorrow" if lead == 1 else f"due_in{lead}d"
        stages.append(Stage(Kind.ACTION_DUE, f"{name}.{key}", midnight(due - timedelta(lead)),
                            midnight(due)))  # fmt: skip
    stages.append(Stage(Kind.ACTION_DUE, f"due_today.{key}", midnight(due),
                        midnight(due + timedelta(1))))  # fmt: skip
    stages.append(Stage(Kind.ACTION_DUE, f"{OVERDUE}1d.{key}", midnight(due + timedelta(1)), None))
    for week in range(1, team.action_overdue_weeks + 1):
        at = midnight(due + timedelta(1 + 7 * week))
        stages.append(Stage(Kind.ACTION_DUE, f"{OVERDUE}{week}w.{key}", at, None))
    return stages


def next_item_reminder(item: ActionItem, now: datetime, *, handled: bool) -> datetime | None:
    """When the sweep must look at `item` again (as `next_reminder_time` for meetings)."""
    stages = item_stages(item, now)
    if not handled and any(stage.due_at <= now for stage in stages):
        return now
    future = [stage.due_at for stage in stages if stage.due_at > now]
    return min(future) if future else None


def reschedule_items(items: Iterable[ActionItem], *, now: datetime) -> None:
    """Recompute `next_reminder_at` of `items` after they were published, re-dated,
    reopened or reassigned: one update of that column only. Each needs
    `meeting.team` and `owner`."""
    changed = []
    for item in items:
        if item.pk is None:
            continue
        item.next_reminder_at = next_item_reminder(item, now, handled=False)
        changed.append(item)
    if changed:
        ActionItem.objects.bulk_update(changed, ["next_reminder_at"])


# -- recipients and working hours ---------------------------------------------------


def send_time(recipient: User, stage: Stage, now: datetime) -> datetime:
    """The recipient's next working moment, unless waiting would make it useless."""
    return useful_moment(recipient.next_working_moment(now), stage.useless_after, now)


def useful_moment(moment: datetime, useless_after: datetime | None, now: datetime) -> datetime:
    """`moment`, or `now` when waiting until `moment` would make the reminder useless."""
    if useless_after is not None and moment >= useless_after:
        return now
    return moment


def current_stage(meeting: Meeting, now: datetime, kinds: Iterable[str]) -> Stage | None:
    """The stage a reminder about `meeting` speaks for at `now`: the latest one due
    among `kinds`, else the next one. Needs `meeting.team`."""
    wanted = set(kinds)
    stages = [s for s in stages_for(meeting, now) if s.kind in wanted]
    if not stages:
        return None
    due = [s for s in stages if s.due_at <= now]
    return max(due, key=lambda s: s.due_at) if due else min(stages, key=lambda s: s.due_at)
