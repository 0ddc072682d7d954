"""Carry-over: open action items and deferred agenda items reach the next occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meetings import series as series_service
from meetings import services
from meetings.models import AgendaItem, CarriedAction, Meeting
from tests.factories import make_series

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def series(team, organizer, member):
    return make_series(
        team,
        organizer,
        title="Weekly sync",
        first_start=datetime(2026, 3, 3, 9, 0),
        time_zone="Europe/Berlin",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        attendees=[member],
        now=NOW,
    )


def hold(meeting: Meeting, organizer, *, actions=(), deferred=(), discussed=()):
    """Give `meeting` a recap with the given open action items and agenda outcomes."""
    after = meeting.ends_at + timedelta(minutes=5)
    for title in deferred:
        AgendaItem.objects.create(meeting=meeting, title=title, outcome="deferred", position=9)
    for title in discussed:
        AgendaItem.objects.create(meeting=meeting, title=title, outcome="discussed", position=9)
    for description, owner in actions:
        services.add_action_item(
            meeting=meeting,
            description=description,
            owner=owner,
            due_date=meeting.local_date + timedelta(days=3),
            created_by=organizer,
            now=after,
        )
    meeting.recap_summary = "Done."
    meeting.no_action_items = not actions
    meeting.save(update_fields=["recap_summary", "no_action_items"])
    meeting.publish_recap(by=organizer, now=after)
    return after


def test_open_action_item_and_deferred_item_are_carried_with_slip_count(series, organizer, member):
    first, second = series.meetings.all()[:2]
    after = hold(
        first,
        organizer,
        actions=[("Send the budget", member)],
        deferred=["Hiring plan"],
        discussed=["Roadmap"],
    )
    added = series_service.carry_over(second, now=after)
    items = {i.title: i for i in second.agenda_items.all()}
    assert set(items) == {"Hiring plan", "Follow up: Send the budget"}
    assert len(added) == 2
    assert items["Hiring plan"].slipped_count == 1
    assert items["Hiring plan"].carried_from.meeting_id == first.pk
    follow_up = items["Follow up: Send the budget"]
    assert follow_up.slipped_count == 1
    assert follow_up.owner_id == member.pk
    assert follow_up.carried_action.action_item.description == "Send the budget"


def test_carry_over_is_idempotent(series, organizer, member):
    first, second = series.meetings.all()[:2]
    after = hold(first, organizer, actions=[("Send the budget", member)], deferred=["Hiring"])
    series_service.carry_over(second, now=after)
    assert series_service.carry_over(second, now=after) == []
    assert second.agenda_items.count() == 2
    assert CarriedAction.objects.filter(meeting=second).count() == 1


def test_slip_count_grows_each_meeting_an_item_stays_open(series, organizer, member):
    first, second, third = series.meetings.all()[:3]
    after = hold(first, organizer, actions=[("Send the budget", member)], deferred=["Hiring"])
    series_service.carry_over(second, now=after)
    # In the second meeting both slip again: the item is deferred once more.
    second.agenda_items.filter(title="Hiring").update(outcome="deferred")
    after = hold(second, organizer)
    series_service.carry_over(third, now=after)
    items = {i.title: i.slipped_count for i in third.agenda_items.all()}
    assert items == {"Hiring": 2, "Follow up: Send the budget": 2}


def test_done_action_items_are_not_carried_and_are_taken_off(series, organizer, member):
    first, second = series.meetings.all()[:2]
    after = hold(first, organizer, actions=[("Send the budget", member), ("Book room", member)])
    series_service.carry_over(second, now=after)
    first.action_items.get(description="Book room").complete(now=after)
    series_service.carry_over(second, now=after)
    assert [i.title for i in second.agenda_items.all()] == ["Follow up: Send the budget"]


def test_sent_agenda_is_left_alone(series, organizer, member):
    first, second = series.meetings.all()[:2]
    second.desired_outcome = "Decide."
    second.save(update_fields=["desired_outcome"])
    services.add_agenda_item(meeting=second, title="Standing item", added_by=organizer)
    second.send_agenda(by=organizer, now=NOW)
    after = hold(first, organizer, actions=[("Send the budget", member)])
    assert series_service.carry_over(second, now=after) == []
    assert [i.title for i in second.agenda_items.all()] == ["Standing item"]


def test_meetings_outside_a_series_carry_nothing(meeting, now):
    assert series_service.carry_over(meeting, now=now) == []


def test_only_the_last_recap_defers_items(series, organizer):
    first, second, third = series.meetings.all()[:3]
    hold(first, organizer, deferred=["Old topic"])
    after = hold(second, organizer, deferred=["New topic"])
    series_service.carry_over(third, now=after)
    assert [i.title for i in third.agenda_items.all()] == ["New topic"]


def test_canceled_occurrence_is_skipped(series, organizer, member):
    first, second, third = series.meetings.all()[:3]
    services.cancel_meeting(meeting=second, by=organizer, now=NOW)
    after = hold(first, organizer, actions=[("Send the budget", member)], deferred=["Hiring"])
    assert series_service.carry_over(second, now=after) == []
    series_service.carry_over(third, now=after)
    assert {i.title for i in third.agenda_items.all()} == {
        "Hiring",
        "Follow up: Send the budget",
    }


def test_items_carry_across_a_split(series, organizer, member):
    from datetime import time

    first, second = series.meetings.all()[:2]
    after = hold(first, organizer, actions=[("Send the budget", member)])
    new = series_service.split_series(
        meeting=second,
        by=organizer,
        title="Sync",
        local_start=time(11, 0),
        duration=timedelta(minutes=30),
        rrule="FREQ=WEEKLY;BYDAY=TU",
        location="",
        now=after,
    )
    target = new.meetings.first()
    series_service.carry_over(target, now=after)
    assert [i.title for i in target.agenda_items.all()] == ["Follow up: Send the budget"]


def test_a_declined_item_is_carried_as_one_to_reassign_and_back_once_reassigned(
    series, organizer, member, team
):
    first, second = series.meetings.all()[:2]
    after = hold(first, organizer, actions=[("Send the budget", member)])
    series_service.carry_over(second, now=after)
    item = first.action_items.get()
    services.decline_action_item(item=item, reason="Not my budget", by=member, now=after)
    series_service.carry_over(second, now=after)
    [carried] = second.agenda_items.all()
    assert carried.title == "Reassign: Send the budget"
    assert carried.owner_id == organizer.pk  # the organizer finds the new owner
    assert "declined it: “Not my budget”" in carried.notes
    assert carried.carried_action.to_reassign

    services.reassign_action_item(item=item, owner=organizer, by=organizer, now=after)
    series_service.carry_over(second, now=after)
    [carried] = second.agenda_items.all()
    assert carried.title == "Follow up: Send the budget"
    assert carried.owner_id == organizer.pk and not carried.carried_action.to_reassign


def test_the_beat_catches_a_decline_the_task_missed(series, organizer, member):
    first, second = series.meetings.all()[:2]
    after = hold(first, organizer, actions=[("Send the budget", member)])
    series_service.carry_over(second, now=after)
    first.action_items.get().decline(reason="", now=after)  # no service, no task
    series_service.carry_over_recent(now=after)
    assert [i.title for i in second.agenda_items.all()] == ["Reassign: Send the budget"]
