"""Calendar feed and .ics downloads: tenancy, RFC 5545 validity, series semantics."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from meetings import services
from meetings.models import Meeting
from tests.factories import MeetingFactory, MembershipFactory, make_series

pytestmark = pytest.mark.django_db


def get_feed(client, user):
    return client.get(reverse("meetings:calendar_feed", args=[user.calendar_token]))


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.content)
    for component in cal.walk():
        assert component.errors == [], (component.name, component.errors)
    return cal


def events(cal: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def soon():
    return timezone.now() + timedelta(days=1)


def test_unknown_token_is_404(client, db):
    assert client.get(reverse("meetings:calendar_feed", args=["not-a-token"])).status_code == 404


def test_feed_needs_no_login_and_lists_own_meetings_only(client, team, organizer, member, soon):
    mine = MeetingFactory(team=team, organizer=organizer, attendees=[member], starts_at=soon)
    not_invited = MeetingFactory(team=team, organizer=organizer, starts_at=soon)
    # A meeting of another team that lists `member` as attendee (written around the
    # service, which would refuse it): the team boundary still keeps it out.
    elsewhere = MembershipFactory()
    theirs = MeetingFactory(team=elsewhere.team, organizer=elsewhere.user, starts_at=soon)
    theirs.attendees.create(user=member)
    cal = parse(get_feed(client, member))
    assert set(events(cal)) == {f"meeting-{mine.pk}@localhost"}
    assert not_invited.pk != mine.pk


def test_feed_drops_meetings_of_a_team_the_user_left(client, team, organizer, member, soon):
    MeetingFactory(team=team, organizer=organizer, attendees=[member], starts_at=soon)
    member.memberships.filter(team=team).delete()
    cal = parse(get_feed(client, member))
    assert events(cal) == {}


def test_regenerated_token_cuts_off_the_old_url(client, member):
    old = member.calendar_token
    member.regenerate_calendar_token()
    assert client.get(reverse("meetings:calendar_feed", args=[old])).status_code == 404
    assert get_feed(client, member).status_code == 200


def test_feed_marks_canceled_meetings_and_describes_agenda_status(
    client, team, organizer, member, soon
):
    kept = MeetingFactory(team=team, organizer=organizer, attendees=[member], starts_at=soon)
    gone = MeetingFactory(team=team, organizer=organizer, attendees=[member], starts_at=soon)
    gone.cancel(by=organizer, now=timezone.now())
    found = events(parse(get_feed(client, member)))
    kept_event = found[f"meeting-{kept.pk}@localhost"]
    gone_event = found[f"meeting-{gone.pk}@localhost"]
    assert str(kept_event["STATUS"]) == "CONFIRMED"
    assert str(gone_event["STATUS"]) == "CANCELLED"
    description = str(kept_event["DESCRIPTION"])
    assert description.startswith("Agenda: not sent yet.")
    assert f"http://localhost:8000/meetings/{kept.pk}/" in description
    assert int(gone_event["SEQUENCE"]) == 1


def test_feed_has_a_vtimezone_for_each_zone(client, team, organizer, member, soon):
    MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=soon, time_zone="UTC"
    )
    MeetingFactory(
        team=team,
        organizer=organizer,
        attendees=[member],
        starts_at=soon,
        time_zone="America/New_York",
    )
    MeetingFactory(
        team=team,
        organizer=organizer,
        attendees=[member],
        starts_at=soon,
        time_zone="Australia/Lord_Howe",
    )
    cal = parse(get_feed(client, member))
    zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    used = {e["DTSTART"].params.get("TZID") for e in cal.walk("VEVENT") if e["DTSTART"].params}
    assert {"America/New_York", "Australia/Lord_Howe"} <= zones
    assert used - {None} <= zones


def test_moved_series_meeting_keeps_its_uid_and_bumps_sequence_without_recurrence_id(
    client, team, organizer, member
):
    now = timezone.now()
    start = (now + timedelta(days=1)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    series = make_series(
        team,
        organizer,
        title="Standup",
        first_start=start,
        duration=timedelta(minutes=15),
        time_zone="Europe/Berlin",
        attendees=[member],
        now=now,
    )
    first, second = series.meetings.all()[:2]
    services.update_meeting(
        meeting=second,
        by=organizer,
        title="Standup (moved)",
        starts_at=second.starts_at + timedelta(hours=3),
        ends_at=second.ends_at + timedelta(hours=3),
        location="",
        now=now,
    )
    second.refresh_from_db()
    found = events(parse(get_feed(client, member)))
    moved = found[f"meeting-{second.pk}@localhost"]
    # Every meeting is a standalone event: a RECURRENCE-ID without a master event
    # of the same UID is an orphan that some calendar apps drop.
    assert "RECURRENCE-ID" not in moved
    assert moved["DTSTART"].dt == second.starts_at
    assert int(moved["SEQUENCE"]) == 1
    assert len(found) == series.meetings.count()


def test_feed_query_count_does_not_grow_with_meetings(
    client, team, organizer, member, soon, django_assert_num_queries
):
    MeetingFactory(team=team, organizer=organizer, attendees=[member], starts_at=soon)
    with django_assert_num_queries(5) as one:
        get_feed(client, member)
    baseline = len(one)
    for n in range(15):
        MeetingFactory(
            team=team,
            organizer=organizer,
            attendees=[member],
            starts_at=soon + timedelta(hours=n),
        )
    with django_assert_num_queries(baseline):
        response = get_feed(client, member)
    assert len(events(parse(response))) == 16


def test_meeting_download_needs_login(client, meeting):
    response = client.get(reverse("meetings:meeting_ics", args=[meeting.pk]))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_meeting_download_of_another_team_is_404(client, meeting, outsider):
    client.force_login(outsider)
    assert client.get(reverse("meetings:meeting_ics", args=[meeting.pk])).status_code == 404


def test_meeting_download_for_a_member(client, meeting, member):
    client.force_login(member)
    response = client.get(reverse("meetings:meeting_ics", args=[meeting.pk]))
    cal = parse(response)
    assert response["Content-Disposition"] == 'attachment; filename="weekly-sync.ics"'
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].dt == meeting.starts_at
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_feed_url_helpers_are_absolute_and_secret(member):
    assert member.calendar_feed_url == (
        f"http://localhost:8000/calendar/feed/{member.calendar_token}.ics"
    )
    assert member.calendar_webcal_url.startswith("webcal://localhost:8000/calendar/feed/")


def test_meetings_older_than_the_window_are_left_out(client, team, organizer, member):
    old_start = timezone.now() - timedelta(days=200)
    MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=old_start, now=old_start
    )
    assert events(parse(get_feed(client, member))) == {}
    assert Meeting.objects.count() == 1


def test_feed_is_never_shared_cache(client, member):
    response = get_feed(client, member)
    assert response["Cache-Control"].startswith("private")


def test_feed_answers_head_and_refuses_post(client, member):
    url = reverse("meetings:calendar_feed", args=[member.calendar_token])
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
