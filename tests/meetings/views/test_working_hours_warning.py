"""Scheduling outside an attendee's working hours warns (naming who and their local
time) and still saves: on the meeting form, the series form and the live check."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Series
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN, NEW_YORK, TOKYO = (
    ZoneInfo(z) for z in ("Europe/Berlin", "America/New_York", "Asia/Tokyo")
)


def next_weekday(weekday: int, zone: ZoneInfo) -> datetime:
    """Midnight of the first such weekday at least two days from now, in `zone`."""
    day = timezone.now().astimezone(zone).date() + timedelta(days=2)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, time(0), tzinfo=zone)


def berlin_form(moment: datetime, minutes: int = 30, **extra) -> dict:
    """The meeting form as the Berlin organizer fills it in for `moment`."""
    start = moment.astimezone(BERLIN)
    end = start + timedelta(minutes=minutes)
    return {"title": "Planning", "date": start.date().isoformat(),
            "start_time": f"{start:%H:%M}", "end_time": f"{end:%H:%M}", "location": "",
            **extra}  # fmt: skip


@pytest.fixture
def ana(team):
    user = UserFactory(display_name="Ana", time_zone="America/New_York")
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def ken(team):
    user = UserFactory(display_name="Ken", time_zone="Asia/Tokyo")
    MembershipFactory(user=user, team=team)
    return user


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_five_am_in_new_york_saves_and_warns_naming_who_and_when(client, organizer, ana, ken):
    monday_5am = next_weekday(0, NEW_YORK).replace(hour=5)
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:create"), berlin_form(monday_5am, attendees=[ana.pk, ken.pk])
    )
    meeting = Meeting.objects.get()  # saved: a warning never blocks
    assert response["Location"] == reverse("meetings:detail", args=[meeting.pk])
    notes = [m for m in flashes(response) if m.startswith("Outside working hours")]
    assert notes[0] == (
        "Outside working hours for Ana (New York): Mon 05:00–05:30, "
        "before their working hours (09:00–17:00)."
    )
    # Monday 05:00 in New York is Monday evening in Tokyo.
    assert notes[1].startswith("Outside working hours for Ken (Tokyo): Mon 19:00–19:30, after")
    assert len(notes) == 2


def test_a_time_inside_everyones_hours_warns_nobody(client, organizer, ana):
    monday_10am = next_weekday(0, NEW_YORK).replace(hour=10)
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:create"), berlin_form(monday_10am, attendees=[ana.pk])
    )
    assert response.status_code == 302
    assert not [m for m in flashes(response) if "working hours" in m]


def test_my_own_hours_are_not_flagged_to_me(client, organizer):
    sunday = next_weekday(6, BERLIN).replace(hour=22)
    client.force_login(organizer)
    response = client.post(reverse("meetings:create"), berlin_form(sunday))
    assert response.status_code == 302
    assert not [m for m in flashes(response) if "working hours" in m]


def test_a_refused_form_still_shows_the_notice_above_the_button(client, organizer, ana):
    monday_5am = next_weekday(0, NEW_YORK).replace(hour=5)
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:create"), berlin_form(monday_5am, attendees=[ana.pk], title="")
    )
    body = response.content.decode()
    assert response.status_code == 200 and not Meeting.objects.exists()
    notice = body.index("Outside working hours</strong> for 1 person")
    assert notice < body.index('id="save-meeting"')
    assert "Ana (New York): Mon 05:00–05:30, before their working hours (09:00–17:00)" in body


def test_edit_form_shows_the_notice_for_the_meeting_as_it_stands(client, organizer, ana, team):
    sunday = next_weekday(6, NEW_YORK).replace(hour=11)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[ana], starts_at=sunday)
    client.force_login(organizer)
    body = client.get(reverse("meetings:edit", args=[meeting.pk])).content.decode()
    assert "Ana (New York): Sun 11:00–12:00, not a working day for them" in body
    assert f'hx-get="{reverse("meetings:hours_check")}?meeting={meeting.pk}"' in body


def test_live_check_answers_with_the_notice_or_nothing(client, organizer, ana, htmx):
    client.force_login(organizer)
    check = reverse("meetings:hours_check")
    monday = next_weekday(0, NEW_YORK)
    early = client.get(
        check, berlin_form(monday.replace(hour=5), attendees=[ana.pk]), headers=htmx
    )
    assert "Ana (New York): Mon 05:00–05:30, before" in early.content.decode()
    fine = client.get(
        check, berlin_form(monday.replace(hour=10), attendees=[ana.pk]), headers=htmx
    )
    assert fine.status_code == 200 and "Outside" not in fine.content.decode()
    # Half-typed input is no error, just no notice.
    assert (
        "Outside" not in client.get(check, {"date": "soon", "attendees": ["x"]}).content.decode()
    )


def test_live_check_of_another_teams_meeting_is_404(client, outsider, organizer, ana, team):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[ana])
    client.force_login(outsider)
    response = client.get(reverse("meetings:hours_check"), {"meeting": meeting.pk})
    assert response.status_code == 404


def series_form(first: datetime, attendees, **extra) -> dict:
    return {"title": "Team weekly", "first_date": first.date().isoformat(),
            "start_time": f"{first:%H:%M}", "duration_minutes": "30",
            "time_zone": first.tzinfo.key, "frequency": "weekly", "interval": "1",
            "weekdays": [str(first.weekday())], "ordinal": "1", "month_weekday": "0",
            "ends": "after", "count": "4", "until": "", "location": "",
            "attendees": [str(a.pk) for a in attendees], **extra}  # fmt: skip


def test_series_at_one_am_sunday_in_tokyo_saves_and_warns(client, organizer, ken):
    sunday_1am = next_weekday(6, TOKYO).replace(hour=1)
    client.force_login(organizer)
    response = client.post(reverse("meetings:series_create"), series_form(sunday_1am, [ken]))
    series = Series.objects.get()
    assert response["Location"] == reverse("meetings:series_detail", args=[series.pk])
    assert (
        "Outside working hours for Ken (Tokyo): Sun 01:00–01:30, not a working day for them; "
        "4 of 4 meetings."
    ) in flashes(response)


def test_series_form_shows_the_same_notice_live_and_after_a_refusal(client, organizer, ken):
    sunday_1am = next_weekday(6, TOKYO).replace(hour=1)
    client.force_login(organizer)
    live = client.get(reverse("meetings:hours_check"), series_form(sunday_1am, [ken]))
    assert "Ken (Tokyo): Sun 01:00–01:30, not a working day for them; 4 of 4" in (
        live.content.decode()
    )
    refused = client.post(
        reverse("meetings:series_create"), series_form(sunday_1am, [ken], title="")
    )
    assert refused.status_code == 400 and not Series.objects.exists()
    body = refused.content.decode()
    assert body.index("Ken (Tokyo): Sun 01:00") < body.index("Create series</button>")


@pytest.mark.parametrize("value", ["abc", "9" * 30, "-1", "١٢"])
def test_live_check_with_a_bad_meeting_id_is_404(client, organizer, value):
    client.force_login(organizer)
    assert client.get(reverse("meetings:hours_check"), {"meeting": value}).status_code == 404
