"""The seven rules of DESIGN.md, each broken through the model and through raw SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from meetings import services
from meetings.models import ActionItem, Meeting, Notification, RuleBroken
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db


def raw_update(meeting: Meeting, **columns) -> None:
    """An UPDATE that bypasses every model method: only the database can refuse it."""
    sets = ", ".join(f"{column} = %s" for column in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE meetings_meeting SET {sets} WHERE id = %s", [*columns.values(), meeting.pk]
        )


def unchanged(meeting: Meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


# Rule 1: a meeting ends after it starts.


def test_meeting_must_end_after_start_through_service(team, organizer, now):
    with pytest.raises(Exception, match="must end after it starts"):
        MeetingFactory(team=team, organizer=organizer, now=now, duration=timedelta(0))
    assert not Meeting.objects.exists()


def test_meeting_must_end_after_start_in_database(meeting):
    with pytest.raises(IntegrityError, match="meeting_ends_after_start"):
        raw_update(meeting, ends_at=meeting.starts_at - timedelta(minutes=1))


# Rule 2: agenda sent only before the start, with an outcome and at least one item.


def test_agenda_cannot_be_sent_without_outcome_or_items(meeting, organizer, now):
    with pytest.raises(RuleBroken) as caught:
        meeting.send_agenda(by=organizer, now=now)
    assert caught.value.messages == [
        "State the desired outcome: what should this meeting produce?",
        "Add at least one agenda item.",
    ]
    assert unchanged(meeting).agenda_sent_at is None


def test_agenda_cannot_be_sent_with_blank_outcome(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    meeting.desired_outcome = "   "
    meeting.save(update_fields=["desired_outcome"])
    with pytest.raises(RuleBroken, match="desired outcome"):
        meeting.send_agenda(by=organizer, now=now)
    assert unchanged(meeting).agenda_sent_at is None


def test_agenda_cannot_be_sent_after_start(meeting, organizer):
    ready_agenda(meeting, by=organizer)
    with pytest.raises(RuleBroken, match="already started"):
        meeting.send_agenda(by=organizer, now=meeting.starts_at)
    fresh = unchanged(meeting)
    assert fresh.agenda_sent_at is None
    assert fresh.status_at(meeting.starts_at) == Meeting.Status.HELD_WITHOUT_AGENDA


def test_agenda_sent_after_start_is_refused_by_database(meeting):
    with pytest.raises(IntegrityError, match="meeting_agenda_sent_before_start"):
        raw_update(meeting, agenda_sent_at=meeting.starts_at, desired_outcome="Decide the thing.")


def test_agenda_sent_without_outcome_is_refused_by_database(meeting, now):
    with pytest.raises(IntegrityError, match="meeting_sent_agenda_has_outcome"):
        raw_update(meeting, agenda_sent_at=now)


def test_agenda_cannot_be_sent_twice(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    meeting.send_agenda(by=organizer, now=now)
    with pytest.raises(RuleBroken, match="already sent; amend"):
        meeting.send_agenda(by=organizer, now=now + timedelta(minutes=1))
    assert unchanged(meeting).agenda_sent_at == now


def test_send_agenda_checks_the_locked_row_not_a_stale_copy(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    stale = Meeting.objects.get(pk=meeting.pk)
    meeting.send_agenda(by=organizer, now=now)
    with pytest.raises(RuleBroken, match="already sent"):
        stale.send_agenda(by=organizer, now=now + timedelta(minutes=5))
    assert unchanged(meeting).sequence == 1


# Rule 3: a sent agenda can be amended before the start; the first send time is kept.


def test_amending_keeps_original_send_time_and_bumps_sequence(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    meeting.send_agenda(by=organizer, now=now)
    later = now + timedelta(hours=3)
    meeting.amend_agenda(by=organizer, now=later)
    fresh = unchanged(meeting)
    assert (fresh.agenda_sent_at, fresh.agenda_amended_at, fresh.sequence) == (now, later, 2)


def test_agenda_cannot_be_amended_after_start_or_before_send(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    with pytest.raises(RuleBroken, match="not been sent yet"):
        meeting.amend_agenda(by=organizer, now=now)
    meeting.send_agenda(by=organizer, now=now)
    with pytest.raises(RuleBroken, match="already started"):
        meeting.amend_agenda(by=organizer, now=meeting.starts_at + timedelta(seconds=1))
    assert unchanged(meeting).agenda_amended_at is None


def test_amendment_after_start_is_refused_by_database(meeting, organizer, now):
    ready_agenda(meeting, by=organizer)
    meeting.send_agenda(by=organizer, now=now)
    with pytest.raises(IntegrityError, match="meeting_agenda_amended_after_send_before_start"):
        raw_update(meeting, agenda_amended_at=meeting.starts_at)


# Rule 4: recap after the end, with a summary and action items or the explicit flag.


def test_recap_cannot_be_published_before_end(meeting, organizer):
    meeting.recap_summary = "We agreed."
    meeting.no_action_items = True
    meeting.save()
    with pytest.raises(RuleBroken, match="only be published after the meeting ends"):
        meeting.publish_recap(by=organizer, now=meeting.ends_at - timedelta(seconds=1))
    assert unchanged(meeting).recap_published_at is None


def test_recap_lists_every_missing_part(meeting, organizer):
    with pytest.raises(RuleBroken) as caught:
        meeting.publish_recap(by=organizer, now=meeting.ends_at)
    assert caught.value.messages == [
        "Write a summary: the bottom line of what happened.",
        "Add at least one action item, or say that no action items came out of it.",
    ]
    assert unchanged(meeting).recap_published_at is None


def test_recap_with_flag_and_action_items_is_contradictory(meeting, organizer, member):
    after = meeting.ends_at + timedelta(minutes=5)
    services.add_action_item(
        meeting=meeting, description="Do it", owner=member, due_date=meeting.local_date, now=after
    )
    meeting.recap_summary = "Done."
    meeting.no_action_items = True
    meeting.save()
    with pytest.raises(RuleBroken, match="but it has 1"):
        meeting.publish_recap(by=organizer, now=after)


def test_recap_published_before_end_is_refused_by_database(meeting):
    with pytest.raises(IntegrityError, match="meeting_recap_published_after_end"):
        raw_update(meeting, recap_published_at=meeting.starts_at, recap_summary="Early.")


def test_recap_without_summary_is_refused_by_database(meeting):
    with pytest.raises(IntegrityError, match="meeting_published_recap_has_summary"):
        raw_update(meeting, recap_published_at=meeting.ends_at)


def test_recap_can_be_published_at_the_exact_end(meeting, organizer):
    meeting.recap_summary = "Short and sweet."
    meeting.no_action_items = True
    meeting.save()
    meeting.publish_recap(by=organizer, now=meeting.ends_at)
    assert unchanged(meeting).recap_published_at == meeting.ends_at


# Rule 5: one owner, from the team, due on or after the meeting's day.


def test_action_item_owner_must_be_in_the_team(meeting, outsider):
    with pytest.raises(RuleBroken, match="owner must be a member"):
        services.add_action_item(
            meeting=meeting,
            description="Sneaky",
            owner=outsider,
            due_date=meeting.local_date,
            now=meeting.ends_at,
        )
    assert not ActionItem.objects.exists()


def test_action_item_cannot_be_due_before_the_meeting_day(meeting, member):
    with pytest.raises(RuleBroken, match="due date cannot be before"):
        services.add_action_item(
            meeting=meeting,
            description="Too late already",
            owner=member,
            due_date=meeting.local_date - timedelta(days=1),
            now=meeting.ends_at,
        )
    assert not ActionItem.objects.exists()


def test_publish_rechecks_owners_who_left_the_team(meeting, organizer, member, team):
    after = meeting.ends_at + timedelta(minutes=5)
    services.add_action_item(
        meeting=meeting, description="Do it", owner=member, due_date=meeting.local_date, now=after
    )
    team.memberships.filter(user=member).delete()
    meeting.recap_summary = "Done."
    meeting.save()
    with pytest.raises(RuleBroken, match="owner must be a member"):
        meeting.publish_recap(by=organizer, now=after)


def test_action_item_without_owner_is_refused_by_database(meeting, member):
    item = services.add_action_item(
        meeting=meeting, description="Own me", owner=member, due_date=meeting.local_date,
        now=meeting.ends_at,
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE meetings_actionitem SET owner_id = NULL WHERE id = %s", [item.pk])


def test_done_action_item_needs_completion_time_in_database(meeting, member):
    item = services.add_action_item(
        meeting=meeting, description="Own me", owner=member, due_date=meeting.local_date,
        now=meeting.ends_at,
    )  # fmt: skip
    with pytest.raises(IntegrityError, match="action_item_completed_iff_done"):
        ActionItem.objects.filter(pk=item.pk).update(status="done")


def test_action_item_complete_and_reopen_are_idempotent(meeting, member):
    item = services.add_action_item(
        meeting=meeting, description="Own me", owner=member, due_date=meeting.local_date,
        now=meeting.ends_at,
    )  # fmt: skip
    first = meeting.ends_at + timedelta(hours=1)
    assert item.complete(now=first) is True
    assert ActionItem.objects.get(pk=item.pk).complete(now=first + timedelta(hours=1)) is False
    assert ActionItem.objects.get(pk=item.pk).completed_at == first
    assert item.reopen() is True
    assert item.reopen() is False
    assert ActionItem.objects.get(pk=item.pk).completed_at is None


# Rule 6: a canceled meeting has no recap and no reminders; no cancel after the start.


def test_meeting_cannot_be_canceled_after_start(meeting, organizer):
    with pytest.raises(RuleBroken, match="cannot be canceled after it started"):
        meeting.cancel(by=organizer, now=meeting.starts_at)
    assert unchanged(meeting).canceled_at is None


def test_canceled_meeting_cannot_get_a_recap(meeting, organizer, now):
    meeting.cancel(by=organizer, now=now)
    meeting.recap_summary = "Ghost meeting."
    meeting.no_action_items = True
    meeting.save()
    with pytest.raises(RuleBroken, match="canceled meeting has no recap"):
        meeting.publish_recap(by=organizer, now=meeting.ends_at)
    fresh = unchanged(meeting)
    assert fresh.recap_published_at is None
    assert fresh.next_reminder_at is None


def test_cancel_twice_is_refused(meeting, organizer, now):
    meeting.cancel(by=organizer, now=now)
    with pytest.raises(RuleBroken, match="already canceled"):
        meeting.cancel(by=organizer, now=now)


def test_canceled_with_recap_is_refused_by_database(meeting, now):
    raw_update(meeting, canceled_at=now)
    with pytest.raises(IntegrityError, match="meeting_canceled_has_no_recap"):
        raw_update(meeting, recap_published_at=meeting.ends_at, recap_summary="No.")


def test_cancel_after_start_is_refused_by_database(meeting):
    with pytest.raises(IntegrityError, match="meeting_canceled_before_start"):
        raw_update(meeting, canceled_at=meeting.starts_at)


# Rule 7: one notification per (meeting, kind, stage, recipient).


def test_notification_is_unique_per_meeting_kind_stage_recipient(meeting, member):
    fields = {
        "meeting": meeting,
        "kind": "agenda_reminder",
        "stage": "due_now",
        "recipient": member,
    }
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError, match="notification_once_per_meeting_stage"):
        Notification.objects.create(**fields)


def test_daily_digest_is_unique_per_day_and_recipient(member):
    fields = {"kind": "daily_digest", "stage": "2026-03-04", "recipient": member}
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError, match="notification_once_per_stage"):
        Notification.objects.create(**fields)


def test_notification_validate_constraints_gives_a_clear_message(meeting, member):
    fields = {
        "meeting": meeting,
        "kind": "agenda_reminder",
        "stage": "due_now",
        "recipient": member,
    }
    Notification.objects.create(**fields)
    with pytest.raises(Exception, match="already queued for this person"):
        Notification(**fields).validate_constraints()


def test_unknown_choice_values_are_refused_by_database(meeting, member):
    with pytest.raises(IntegrityError, match="notification_kind_valid"):
        Notification.objects.create(
            meeting=meeting, kind="carrier_pigeon", stage="x", recipient=member
        )


# Attendee acknowledgement and membership edges.


def test_acknowledge_requires_published_recap_and_records_once(meeting, organizer, member):
    attendee = meeting.attendees.get(user=member)
    with pytest.raises(RuleBroken, match="no published recap"):
        attendee.acknowledge(now=meeting.ends_at)
    meeting.recap_summary = "Done."
    meeting.no_action_items = True
    meeting.save()
    meeting.publish_recap(by=organizer, now=meeting.ends_at)
    first = meeting.ends_at + timedelta(hours=1)
    assert attendee.acknowledge(now=first) is True
    assert attendee.acknowledge(now=first + timedelta(hours=1)) is False
    attendee.refresh_from_db()
    assert attendee.acknowledged_at == first


def test_attendees_must_be_team_members(team, organizer, outsider, now):
    with pytest.raises(RuleBroken, match="must be a member"):
        MeetingFactory(team=team, organizer=organizer, attendees=[outsider], now=now)
    assert not Meeting.objects.exists()


def test_only_organizer_and_admins_can_change(meeting, organizer, member, team_admin):
    assert meeting.can_be_changed_by(organizer)
    assert meeting.can_be_changed_by(team_admin)
    assert not meeting.can_be_changed_by(member)
    stranger = UserFactory()
    MembershipFactory(user=stranger, role="admin")
    assert not meeting.can_be_changed_by(stranger)
