"""Home says what to do now: what needs me today, then today's and tomorrow's
meetings by day, later ones one line per series, then recaps to read."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.series import recurrence
from tests.factories import MeetingFactory, make_series, ready_agenda

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")  # the organizer's zone (tests/conftest.py)


def berlin_day(days: int, hour: int, zone: ZoneInfo = BERLIN) -> datetime:
    """`hour` o'clock `days` after today, both in `zone` (the viewer's "today")."""
    day = timezone.now().astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=zone)


def home(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("meetings:home")).content.decode()


def test_an_attendee_who_organizes_nothing_sees_meetings_first(client, organizer, member, team):
    # Tomorrow noon where the member lives (Kolkata), whatever the hour in UTC.
    MeetingFactory(team=team, organizer=organizer, attendees=[member], title="Planning",
                   starts_at=berlin_day(1, 12, member.zone))  # fmt: skip
    body = home(client, member)
    assert "Needs you today" not in body
    assert "Waiting for your recap" not in body and "Recaps to write" not in body
    first_section = body.index("<h2")
    assert body.index("Tomorrow", first_section) < body.index("Planning")
    assert "Nothing needs you today." in body
    assert body.index("Planning") < body.index("Nothing needs you today.")


def test_sections_come_in_the_order_a_person_acts(client, organizer, member, team):
    now = timezone.now()
    # Today: a meeting under way. Tomorrow at noon: a meeting whose agenda is due today.
    MeetingFactory(team=team, organizer=member, attendees=[organizer], title="Standup now",
                   starts_at=now - timedelta(minutes=1), now=now - timedelta(days=1))  # fmt: skip
    MeetingFactory(team=team, organizer=organizer, attendees=[member], title="Budget review",
                   starts_at=berlin_day(1, 12))  # fmt: skip
    # A recap owed, a recap to read with an action item due today for me.
    MeetingFactory(team=team, organizer=organizer, attendees=[member], title="Retro",
                   starts_at=now - timedelta(hours=3), now=now - timedelta(days=1))  # fmt: skip
    read = MeetingFactory(
        team=team,
        organizer=member,
        attendees=[organizer],
        title="Demo",
        starts_at=now - timedelta(hours=5),
        now=now - timedelta(days=1),
    )
    services.add_action_item(meeting=read, description="Ship the fix", owner=organizer,
                             due_date=now.astimezone(BERLIN).date(), now=now)  # fmt: skip
    read.recap_summary, read.no_action_items = "Shipped.", False
    read.save()
    read.publish_recap(by=member, now=now)
    make_series(
        team,
        organizer,
        title="Team weekly",
        attendees=[member],
        now=now,
        first_start=berlin_day(4, 9).replace(tzinfo=None),
        time_zone="Europe/Berlin",
    )

    body = home(client, organizer)
    order = [
        "Needs you today", "Agendas to send", "Budget review", "Recaps to write", "Retro",
        "Action items due", "Ship the fix", ">Today <", "Standup now", ">Tomorrow <",
        ">Later<", "Team weekly", "Recaps to read", "Demo",
    ]  # fmt: skip
    at = 0
    for text in order:  # each found after the one before it
        at = body.index(text, at)
    # ...and no section came earlier than its place.
    assert body.index("Needs you today") < body.index(">Today <") < body.index(">Tomorrow <")
    assert body.index(">Tomorrow <") < body.index(">Later<") < body.index("Recaps to read")


def test_later_meetings_of_a_series_collapse_into_one_line(client, organizer, member, team):
    now = timezone.now()
    first = berlin_day(3, 9)
    series = make_series(
        team,
        organizer,
        title="Team weekly",
        attendees=[member],
        now=now,
        first_start=first.replace(tzinfo=None),
        time_zone="Europe/Berlin",
        rrule=f"FREQ=WEEKLY;BYDAY={recurrence.WEEKDAY_CODES[first.weekday()]}",
    )
    scheduled = series.upcoming_meetings(now).count()
    assert scheduled >= 8
    body = home(client, member)
    assert body.count("Team weekly") == 1
    rule = recurrence.describe(series.rrule, series.local_first_start)
    assert f"· {rule}" in body and rule.startswith("Weekly on ")
    assert f"next {first:%a} {first.day} {first:%b}" in body
    assert f"{scheduled} scheduled" in body
    assert reverse("meetings:series_detail", args=[series.pk]) in body


def test_only_what_is_due_today_needs_me(client, organizer, member, team):
    now = timezone.now()
    far = MeetingFactory(team=team, organizer=organizer, title="Quarterly", now=now,
                         starts_at=now + timedelta(days=10))  # fmt: skip
    soon = MeetingFactory(team=team, organizer=organizer, title="Kickoff", now=now,
                          starts_at=berlin_day(1, 15))  # fmt: skip
    client.force_login(organizer)
    context = client.get(reverse("meetings:home")).context
    assert context["agendas_owed"] == [soon]
    ready_agenda(soon, by=organizer)
    soon.send_agenda(by=organizer, now=now)
    context = client.get(reverse("meetings:home")).context
    assert context["agendas_owed"] == [] and not context["needs_me"]
    assert far in context["later_single"]
