"""Due and overdue reminders of action items: stages in the owner's days across a DST
change, working hours, team policy, re-dating, and the sweep's constant queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import notifications, services
from meetings.models import ActionItem, Notification
from meetings.notifications import stages
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

Kind = Notification.Kind

pytestmark = pytest.mark.django_db

# US clocks go forward on Sunday 8 March 2026: New York is UTC-5 before, UTC-4 after.
NY = "America/New_York"
HELD = datetime(2026, 3, 5, 15, tzinfo=UTC)


def published_item(team, organizer, owner, *, due: date, held: datetime = HELD) -> ActionItem:
    """An action item of a meeting held at `held`, whose recap is published then."""
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=[owner], starts_at=held,
        now=held - timedelta(days=3),
    )  # fmt: skip
    after = meeting.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=meeting, summary="Done.", notes="", no_action_items=False,
                        now=after)  # fmt: skip
    item = services.assign_action_item(meeting=meeting, description="Write the plan",
                                       owner=owner, due_date=due, created_by=organizer,
                                       now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    item.refresh_from_db()
    return item


@pytest.fixture
def owner(team):
    user = UserFactory(time_zone=NY)  # works Monday to Friday, 9 to 5
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def item(team, organizer, owner):
    # Due Monday 9 March, the day after the DST change.
    return published_item(team, organizer, owner, due=date(2026, 3, 9))


def queued(item=None) -> list[tuple[str, datetime]]:
    rows = Notification.objects.filter(kind=Kind.ACTION_DUE).order_by("created_at", "pk")
    if item is not None:
        rows = rows.filter(stage__contains=f".{item.pk}@")
    return [(n.stage.split(".")[0], n.send_after) for n in rows]


def test_stages_fall_on_the_owners_local_midnights_across_the_dst_change(item):
    by_name = {s.name.split(".")[0]: s for s in stages.item_stages(item, item.assigned_at)}
    # Sunday 00:00 EST is 05:00 UTC; from Monday on, midnight EDT is 04:00 UTC.
    assert by_name["due_tomorrow"].due_at == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert by_name["due_today"].due_at == datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert by_name["overdue1d"].due_at == datetime(2026, 3, 10, 4, tzinfo=UTC)
    assert by_name["overdue1w"].due_at == datetime(2026, 3, 17, 4, tzinfo=UTC)
    assert by_name["overdue4w"].due_at == datetime(2026, 4, 7, 4, tzinfo=UTC)
    assert "overdue5w" not in by_name  # the default cap: four weekly reminders
    # "Due tomorrow" is pointless once the due day begins, "due today" once it ends.
    assert by_name["due_tomorrow"].useless_after == by_name["due_today"].due_at
    assert by_name["due_today"].useless_after == by_name["overdue1d"].due_at
    assert by_name["overdue1d"].useless_after is None


def test_publishing_schedules_the_first_stage(item):
    assert item.next_reminder_at == datetime(2026, 3, 8, 5, tzinfo=UTC)


def test_each_stage_boundary_queues_that_stage_and_no_other(item, owner):
    one_second = timedelta(seconds=1)
    boundaries = [
        ("due_tomorrow", datetime(2026, 3, 8, 5, tzinfo=UTC)),
        ("due_today", datetime(2026, 3, 9, 4, tzinfo=UTC)),
        ("overdue1d", datetime(2026, 3, 10, 4, tzinfo=UTC)),
        ("overdue1w", datetime(2026, 3, 17, 4, tzinfo=UTC)),
    ]
    for name, at in boundaries:
        before = len(queued())
        notifications.sweep(now=at - one_second)
        assert len(queued()) == before, f"{name} went out before its time"
        notifications.sweep(now=at)
        assert [stage for stage, _ in queued()][before:] == [name]
    assert Notification.objects.filter(kind=Kind.ACTION_DUE).exclude(recipient=owner).count() == 0


def test_only_the_latest_due_stage_is_sent(item):
    # The sweep was down from before "due tomorrow" until the item was overdue.
    notifications.sweep(now=datetime(2026, 3, 11, 12, tzinfo=UTC))
    assert [stage for stage, _ in queued()] == ["overdue1d"]
    item.refresh_from_db()
    assert item.next_reminder_at == datetime(2026, 3, 17, 4, tzinfo=UTC)


def test_reminders_wait_for_working_hours_unless_that_is_too_late(team, organizer, owner):
    # Due Wednesday 11 March: "due tomorrow" is due Tuesday 00:00 New York time and
    # waits for 09:00 there (13:00 UTC), well before the due day begins.
    item = published_item(team, organizer, owner, due=date(2026, 3, 11))
    notifications.sweep(now=datetime(2026, 3, 10, 4, tzinfo=UTC))
    assert queued(item) == [("due_tomorrow", datetime(2026, 3, 10, 13, tzinfo=UTC))]
    # Due Monday: "due tomorrow" falls on Sunday, and the next working moment
    # (Monday 09:00) is on the due day itself, too late for it: it goes at once.
    monday = published_item(team, organizer, owner, due=date(2026, 3, 9))
    at = datetime(2026, 3, 8, 5, tzinfo=UTC)
    notifications.sweep(now=at)
    [(stage, send_after)] = queued(monday)
    assert stage == "due_tomorrow" and send_after >= at  # leased to delivery now
    assert send_after < datetime(2026, 3, 9, 4, tzinfo=UTC)


def test_team_policy_sets_the_lead_and_the_cap_and_can_turn_them_off(item, team):
    team.action_reminder_lead_days, team.action_overdue_weeks = 3, 1
    team.save()
    item.refresh_from_db()
    names = [s.name.split(".")[0] for s in stages.item_stages(item, item.assigned_at)]
    assert names == ["due_in3d", "due_today", "overdue1d", "overdue1w"]
    team.action_reminder_lead_days = 0
    team.save()
    item.refresh_from_db()
    names = [s.name.split(".")[0] for s in stages.item_stages(item, item.assigned_at)]
    assert names == ["due_today", "overdue1d", "overdue1w"]

    team.remind_action_items = False
    team.save()
    notifications.sweep(now=datetime(2026, 3, 9, 4, tzinfo=UTC))
    assert queued() == []
    # Still scheduled: turning reminders on again resumes at the next stage.
    item.refresh_from_db()
    assert item.next_reminder_at == datetime(2026, 3, 10, 4, tzinfo=UTC)
    team.remind_action_items = True
    team.save()
    notifications.sweep(now=datetime(2026, 3, 10, 4, tzinfo=UTC))
    assert [stage for stage, _ in queued()] == ["overdue1d"]


def test_nothing_after_done_declined_or_redated(team, organizer, owner):
    done, declined, redated = (
        published_item(team, organizer, owner, due=date(2026, 3, 9)) for _ in range(3)
    )
    later = datetime(2026, 3, 6, tzinfo=UTC)
    services.set_action_item_done(item=done, done=True, by=owner, now=later)
    services.decline_action_item(item=declined, reason="Not my area", by=owner, now=later)
    services.redate_action_item(item=redated, due_date=date(2026, 3, 20), by=owner, now=later)
    for row in (done, declined):
        row.refresh_from_db()
        assert row.next_reminder_at is None
    redated.refresh_from_db()
    assert redated.next_reminder_at == datetime(2026, 3, 19, 4, tzinfo=UTC)

    notifications.sweep(now=datetime(2026, 3, 12, tzinfo=UTC))  # past the old date
    assert queued() == []
    notifications.sweep(now=datetime(2026, 3, 19, 4, tzinfo=UTC))
    stages_sent = [n.stage for n in Notification.objects.filter(kind=Kind.ACTION_DUE)]
    assert stages_sent == [f"due_tomorrow.{redated.pk}@20260320"]


def test_reopening_a_done_item_schedules_it_again(item, owner):
    at = datetime(2026, 3, 6, tzinfo=UTC)
    services.set_action_item_done(item=item, done=True, by=owner, now=at)
    services.set_action_item_done(item=item, done=False, by=owner, now=at)
    item.refresh_from_db()
    assert item.next_reminder_at == datetime(2026, 3, 8, 5, tzinfo=UTC)


def test_unpublished_items_get_no_reminders(team, organizer, owner):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[owner],
                             starts_at=datetime(2026, 3, 5, 15, tzinfo=UTC),
                             now=datetime(2026, 3, 1, tzinfo=UTC))  # fmt: skip
    item = services.assign_action_item(
        meeting=meeting, description="Draft", owner=owner, due_date=date(2026, 3, 9),
        created_by=organizer, now=meeting.ends_at,
    )  # fmt: skip
    item.refresh_from_db()
    assert item.next_reminder_at is None
    assert stages.item_stages(item, meeting.ends_at) == []


def test_sweep_queries_do_not_grow_with_open_items(team, organizer, owner):
    at = datetime(2026, 3, 8, 5, tzinfo=UTC)

    def sweep_with(count: int) -> int:
        first = published_item(team, organizer, owner, due=date(2026, 3, 9))
        ActionItem.objects.bulk_create(
            ActionItem(meeting_id=first.meeting_id, description=f"Item {n}", owner=owner,
                       due_date=first.due_date, next_reminder_at=first.next_reminder_at)
            for n in range(count - 1)
        )  # fmt: skip
        with CaptureQueriesContext(connection) as ctx:
            result = notifications.sweep(now=at, batch_size=2000)
        assert result.queued == count
        return len(ctx.captured_queries)

    assert sweep_with(10) == sweep_with(1000)
