"""Meeting forms: times in the viewer's zone, member pickers, date bounds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from meetings.forms import ActionItemForm, AgendaItemForm, MeetingForm, RecapForm
from tests.factories import UserFactory


@pytest.fixture
def people(db):
    return [UserFactory(display_name=name) for name in ("Asha", "Ben", "Cleo")]


def meeting_data(**extra) -> dict:
    return {"title": "Sync", "date": "2030-03-31", "start_time": "09:00", "end_time": "09:30",
            **extra}  # fmt: skip


def test_times_are_read_in_the_active_zone(people):
    with timezone.override(ZoneInfo("America/New_York")):
        form = MeetingForm(meeting_data(), members=people, organizer=people[0])
        assert form.is_valid(), form.errors
    starts = form.cleaned_data["starts_at"]
    assert starts == datetime(2030, 3, 31, 13, 0, tzinfo=ZoneInfo("UTC"))


def test_across_a_dst_change_the_wall_clock_time_is_kept(people):
    # 2030-03-31 is the day Berlin moves to summer time.
    with timezone.override(ZoneInfo("Europe/Berlin")):
        form = MeetingForm(meeting_data(), members=people, organizer=people[0])
        assert form.is_valid()
    assert form.cleaned_data["starts_at"].astimezone(ZoneInfo("UTC")).hour == 7


def test_organizer_is_not_offered_as_attendee(people):
    form = MeetingForm(members=people, organizer=people[0])
    assert [label for _, label in form.fields["attendees"].choices] == ["Ben", "Cleo"]


def test_attendees_clean_to_users(people):
    data = meeting_data(attendees=[str(people[1].pk), str(people[2].pk)])
    form = MeetingForm(data, members=people, organizer=people[0])
    assert form.is_valid()
    assert form.cleaned_data["attendees"] == [people[1], people[2]]


def test_unknown_attendee_id_is_a_field_error(people):
    form = MeetingForm(meeting_data(attendees=["999999"]), members=people, organizer=people[0])
    assert not form.is_valid()
    assert "attendees" in form.errors


def test_end_must_follow_start(people):
    form = MeetingForm(meeting_data(end_time="08:00"), members=people, organizer=people[0])
    assert form.errors["end_time"] == ["A meeting must end after it starts."]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_far_dates_are_refused_with_a_message(people, day):
    form = MeetingForm(meeting_data(date=day), members=people, organizer=people[0])
    assert form.errors["date"] == ["Pick a date within 10 years of today."]


def test_agenda_item_owner_is_optional_and_timebox_bounded(people):
    form = AgendaItemForm({"title": "T", "timebox_minutes": "481"}, members=people)
    assert not form.is_valid()
    assert "timebox_minutes" in form.errors
    form = AgendaItemForm({"title": "T", "owner": ""}, members=people)
    assert form.is_valid()
    assert form.cleaned_data["owner"] is None


def test_action_item_due_date_not_before_meeting_day(people, ended):
    before = (ended.local_date - timedelta(days=1)).isoformat()
    form = ActionItemForm(
        {"description": "D", "owner": people[0].pk, "due_date": before},
        members=people,
        meeting=ended,
    )
    assert form.errors["due_date"] == ["The due date cannot be before the meeting's day."]


def test_recap_form_has_one_outcome_field_per_item(ended):
    items = list(ended.agenda_items.all())
    form = RecapForm(items=items)
    assert [item for item, _ in form.outcome_fields()] == items
    bound = RecapForm({"recap_summary": "S", f"outcome_{items[0].pk}": "decided"}, items=items)
    assert bound.is_valid()
    assert bound.outcomes() == {items[0].pk: "decided", items[1].pk: ""}


def test_null_bytes_are_refused(people):
    form = MeetingForm(meeting_data(title="a\x00b"), members=people, organizer=people[0])
    assert "title" in form.errors


def test_initial_new_is_tomorrow_on_the_hour():
    initial = MeetingForm.initial_new()
    assert initial["date"] == (timezone.localtime() + timedelta(days=1)).date()
    assert initial["start_time"].minute == 0
    assert isinstance(initial["date"], date)
