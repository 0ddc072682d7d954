"""An action item's owner answers it: accept, re-date, decline; the organizer reassigns.

Single-row rules are database constraints (tried with raw SQL); the rest are
locked model methods behind the services, each recorded and told to whom it concerns.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import AuditEvent
from meetings import services
from meetings.models import ActionItem, Notification, RuleBroken
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

Kind = Notification.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(team, organizer, member, now):
    held = now - timedelta(hours=3)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], starts_at=held,
                             now=held - timedelta(days=1))  # fmt: skip
    services.save_recap(meeting=meeting, summary="Done.", notes="", no_action_items=False, now=now)
    item = services.assign_action_item(meeting=meeting, description="Write the plan",
                                       owner=member, due_date=meeting.local_date + timedelta(3),
                                       created_by=organizer, now=now)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=now)
    item.refresh_from_db()
    return item


def raw_update(item: ActionItem, **columns) -> None:
    sets = ", ".join(f"{column} = %s" for column in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE meetings_actionitem SET {sets} WHERE id = %s", [*columns.values(), item.pk]
        )


@pytest.mark.parametrize(
    ("columns", "constraint"),
    [
        ({"response": "maybe", "responded_at": "2026-03-05T00:00Z"},
         "action_item_response_valid"),
        ({"response": "accepted"}, "action_item_responded_iff_answered"),
        ({"decline_reason": "busy"}, "action_item_reason_only_if_declined"),
        ({"status": "done", "completed_at": "2026-03-05T00:00Z"},
         "action_item_reminders_only_if_taken_on"),
    ],
)  # fmt: skip
def test_the_database_refuses_what_the_rules_forbid(item, columns, constraint):
    assert item.next_reminder_at is not None  # published: reminders scheduled
    with pytest.raises(IntegrityError, match=constraint):
        raw_update(item, **columns)


def test_an_item_is_assigned_when_it_is_written(item, now):
    assert item.assigned_at == now


def test_accept_once(item, member, now):
    assert services.accept_action_item(item=item, by=member, now=now)
    assert not services.accept_action_item(item=item, by=member, now=now)  # a second click
    item.refresh_from_db()
    assert (item.response, item.responded_at) == ("accepted", now)
    assert AuditEvent.objects.filter(action="action_item.accepted").count() == 1


def test_only_the_owner_answers(item, organizer, now):
    with pytest.raises(RuleBroken, match="given to someone else"):
        services.accept_action_item(item=item, by=organizer, now=now)
    with pytest.raises(RuleBroken, match="Only its owner declines"):
        services.decline_action_item(item=item, reason="", by=organizer, now=now)


def test_redate_counts_each_move_and_keeps_the_first_date(item, member, now):
    first = item.due_date
    assert services.redate_action_item(item=item, due_date=first + timedelta(7), by=member,
                                       now=now)  # fmt: skip
    assert not services.redate_action_item(item=item, due_date=first + timedelta(7), by=member,
                                           now=now)  # fmt: skip
    services.redate_action_item(item=item, due_date=first + timedelta(9), by=member, now=now)
    item.refresh_from_db()
    assert (item.redated_count, item.first_due_date, item.due_date) == (
        2, first, first + timedelta(9)
    )  # fmt: skip
    assert item.response == "accepted"  # answering with a date takes it on


def test_redate_before_the_meetings_day_is_refused_and_changes_nothing(item, member, now):
    with pytest.raises(RuleBroken, match="cannot be before the meeting's day"):
        services.redate_action_item(item=item, due_date=date(2020, 1, 1), by=member, now=now)
    fresh = ActionItem.objects.get(pk=item.pk)
    assert (fresh.due_date, fresh.redated_count, fresh.response) == (
        item.due_date, 0, "unanswered"
    )  # fmt: skip


def test_decline_stops_reminders_and_tells_the_organizer(item, member, organizer, now):
    services.decline_action_item(item=item, reason="  Not my area ", by=member, now=now)
    item.refresh_from_db()
    assert (item.response, item.decline_reason, item.next_reminder_at) == (
        "declined", "Not my area", None
    )  # fmt: skip
    [notice] = Notification.objects.filter(kind=Kind.ACTION_DECLINED)
    assert notice.recipient_id == organizer.pk and notice.meeting_id == item.meeting_id
    with pytest.raises(RuleBroken, match="You declined this action item"):
        services.redate_action_item(item=item, due_date=item.due_date + timedelta(1), by=member,
                                    now=now)  # fmt: skip


def test_reassign_starts_the_answer_afresh_and_tells_the_new_owner(
    item, member, organizer, team_admin, now
):
    services.decline_action_item(item=item, reason="Busy", by=member, now=now)
    later = now + timedelta(hours=1)
    services.reassign_action_item(item=item, owner=team_admin, by=organizer, now=later)
    item.refresh_from_db()
    assert (item.owner_id, item.response, item.responded_at, item.decline_reason) == (
        team_admin.pk, "unanswered", None, ""
    )  # fmt: skip
    assert item.assigned_at == later and item.next_reminder_at is not None
    assert ActionItem.objects.get(pk=item.pk).assigned_at == later
    [notice] = Notification.objects.filter(kind=Kind.ACTION_ASSIGNED)
    assert notice.recipient_id == team_admin.pk
    # The former owner can no longer answer for it.
    assert (
        item.answer_problem(member.pk) == "This action item has been given to someone else since."
    )


def test_reassign_is_for_the_organizer_or_an_admin_and_to_a_member(
    item, member, team_admin, outsider, now
):
    with pytest.raises(RuleBroken, match="Only the meeting's organizer or a team admin"):
        services.reassign_action_item(item=item, owner=member, by=member, now=now)
    with pytest.raises(RuleBroken, match="must be a member of"):
        services.reassign_action_item(item=item, owner=outsider, by=team_admin, now=now)
    with pytest.raises(RuleBroken, match="already owns"):
        services.reassign_action_item(item=item, owner=member, by=team_admin, now=now)
    assert ActionItem.objects.get(pk=item.pk).owner_id == member.pk


def test_a_done_item_cannot_be_answered_or_reassigned(item, member, organizer, now):
    services.set_action_item_done(item=item, done=True, by=member, now=now)
    with pytest.raises(RuleBroken, match="already done"):
        services.decline_action_item(item=item, reason="", by=member, now=now)
    other = UserFactory()
    MembershipFactory(user=other, team=item.meeting.team)
    with pytest.raises(RuleBroken, match="already done"):
        services.reassign_action_item(item=item, owner=other, by=organizer, now=now)
