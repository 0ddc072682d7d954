"""Rule 8: a meeting settled in writing. The single-row half is PostgreSQL's
(raw writes refused); the rest is the locked transition and its services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from meetings import services
from meetings.models import AgendaItem, Decision, Meeting, RuleBroken
from tests.factories import MeetingFactory, ready_agenda

pytestmark = pytest.mark.django_db


@pytest.fixture
def agenda(team, organizer, member, now):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    ready_agenda(meeting, by=organizer, items=2)
    first, second = meeting.agenda_items.all()
    AgendaItem.objects.filter(pk=first.pk).update(timebox_minutes=20, owner=member)
    AgendaItem.objects.filter(pk=second.pk).update(timebox_minutes=25)
    return meeting


def raw_update(meeting: Meeting, **columns) -> None:
    sets = ", ".join(f"{column} = %s" for column in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE meetings_meeting SET {sets} WHERE id = %s", [*columns.values(), meeting.pk]
        )


def test_postgres_refuses_settled_after_the_start(agenda):
    late = agenda.starts_at + timedelta(minutes=1)
    with pytest.raises(IntegrityError, match="meeting_settled_before_start"):
        raw_update(agenda, settled_at=late, recap_published_at=late, recap_summary="x")


def test_postgres_refuses_settled_without_a_recap(agenda):
    early = agenda.starts_at - timedelta(hours=1)
    with pytest.raises(IntegrityError, match="meeting_settled_publishes_recap"):
        raw_update(agenda, settled_at=early)


def test_postgres_refuses_a_settled_item_without_its_time(agenda):
    item = agenda.agenda_items.first()
    with (
        pytest.raises(IntegrityError, match="agenda_item_settled_iff_outcome"),
        transaction.atomic(),
    ):
        AgendaItem.objects.filter(pk=item.pk).update(outcome="settled")


def test_settling_an_item_records_a_decision_and_frees_its_time(agenda, member, organizer, now):
    first, second = agenda.agenda_items.all()
    services.settle_item(item=first, resolution="  Ship on  Tuesday ", by=member, now=now)
    first.refresh_from_db()
    assert first.outcome == "settled" and first.settled_by == member
    assert first.settlement.text == "Ship on Tuesday"
    assert Meeting.objects.get(pk=agenda.pk).timebox_left() == (25, 45)

    services.unsettle_item(item=first, by=organizer, now=now)
    first.refresh_from_db()
    assert (first.outcome, first.settled_at) == ("", None)
    assert not Decision.objects.filter(meeting=agenda).exists()


def test_only_the_owner_or_organizer_settles_and_only_before_the_start(
    agenda, member, team_admin, now
):
    _, second = agenda.agenda_items.all()  # the organizer's item, not the member's
    with pytest.raises(RuleBroken, match="owner or the meeting's organizer"):
        services.settle_item(item=second, resolution="No", by=member, now=now)
    with pytest.raises(RuleBroken, match="has started"):
        services.settle_item(item=second, resolution="No", by=agenda.organizer,
                             now=agenda.starts_at)  # fmt: skip
    with pytest.raises(RuleBroken, match="Write the resolution"):
        services.settle_item(item=second, resolution="   ", by=agenda.organizer, now=now)
    assert not Decision.objects.exists()


def test_settle_in_writing_needs_every_item_settled_and_a_complete_recap(
    agenda, organizer, member, now
):
    first, second = agenda.agenda_items.all()
    services.settle_item(item=first, resolution="Tuesday", by=member, now=now)
    with pytest.raises(RuleBroken) as refused:
        services.settle_meeting_in_writing(meeting=agenda, by=organizer, summary="", now=now)
    messages = refused.value.messages
    assert any("not settled yet: Item 2" in m for m in messages)
    assert any("Write a summary" in m for m in messages)
    assert any("Add at least one action item" in m for m in messages)
    agenda.refresh_from_db()
    assert (agenda.settled_at, agenda.recap_summary) == (None, "")  # all or nothing

    services.settle_item(item=second, resolution="Keep the budget", by=organizer, now=now)
    services.settle_meeting_in_writing(meeting=agenda, by=organizer, summary="All settled.",
                                       no_action_items=True, now=now)  # fmt: skip
    agenda.refresh_from_db()
    assert agenda.settled_at == agenda.recap_published_at == now
    assert agenda.status_at(now) == Meeting.Status.SETTLED
    assert Meeting.objects.with_status(now).get(pk=agenda.pk).status == "settled"
    assert agenda.next_reminder_at is None and agenda.called_off
    # Settled for good: no reopening an item, no second settle, no recap again.
    with pytest.raises(RuleBroken, match="settled in writing"):
        services.unsettle_item(item=first, by=organizer, now=now)
    with pytest.raises(RuleBroken, match="already published"):
        agenda.settle_in_writing(by=organizer, now=now)
    with pytest.raises(RuleBroken, match="settled in writing"):
        services.cancel_meeting(meeting=agenda, by=organizer, now=now)
    with pytest.raises(RuleBroken, match="settled in writing"):
        services.update_meeting(meeting=agenda, by=organizer, title="Renamed",
                                starts_at=agenda.starts_at, ends_at=agenda.ends_at,
                                now=now)  # fmt: skip
    assert Meeting.objects.get(pk=agenda.pk).title == agenda.title


def test_shortening_ends_the_meeting_when_the_time_boxes_left_are_used(
    agenda, organizer, member, now
):
    first, _ = agenda.agenda_items.all()
    services.settle_item(item=first, resolution="Tuesday", by=member, now=now)
    services.shorten_meeting(meeting=agenda, by=organizer, now=now)
    agenda.refresh_from_db()
    assert agenda.ends_at == agenda.starts_at + timedelta(minutes=25)
    assert agenda.shortened_minutes == 35
    with pytest.raises(RuleBroken, match="Nothing to shorten"):
        services.shorten_meeting(meeting=agenda, by=organizer, now=now)
