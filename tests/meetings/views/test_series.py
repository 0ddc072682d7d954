"""Series pages: create from the form, series page, occurrence edits, templates, access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services, tasks
from meetings.models import AgendaTemplate, Meeting, Series
from tests.factories import make_series

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    start = timezone.localdate() + timedelta(days=7)
    data = {
        "title": "Team sync",
        "first_date": start.isoformat(),
        "start_time": "09:00",
        "duration_minutes": "30",
        "time_zone": "Europe/Berlin",
        "frequency": "weekly",
        "interval": "1",
        "weekdays": ["1", "3"],
        "ordinal": "1",
        "month_weekday": "0",
        "ends": "after",
        "count": "6",
        "until": "",
        "location": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def series(team, organizer, member):
    now = timezone.now()
    first = (now + timedelta(days=2)).astimezone(timezone.get_fixed_timezone(0))
    return make_series(
        team,
        organizer,
        title="Weekly sync",
        first_start=first.replace(tzinfo=None, second=0, microsecond=0),
        time_zone="Europe/Berlin",
        attendees=[member],
        now=now,
    )


def test_create_weekly_series_on_tuesday_and_thursday(client, organizer, member):
    client.force_login(organizer)
    assert client.get(reverse("meetings:series_create")).status_code == 200
    response = client.post(
        reverse("meetings:series_create"), form_data(attendees=[str(member.pk)])
    )
    series = Series.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:series_detail", args=[series.pk])
    assert series.rrule == "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"
    assert series.meetings.count() == 6
    assert {
        m.starts_at.astimezone(series.meetings.first().zone).weekday()
        for m in series.meetings.all()
    } == {1, 3}
    assert series.attendees.get().user == member


def test_monthly_on_first_monday_with_end_date(client, organizer):
    client.force_login(organizer)
    until = timezone.localdate() + timedelta(days=200)
    client.post(
        reverse("meetings:series_create"),
        form_data(
            frequency="monthly",
            ordinal="1",
            month_weekday="0",
            ends="on",
            until=until.isoformat(),
            count="",
        ),
    )
    series = Series.objects.get()
    assert series.rrule == f"FREQ=MONTHLY;BYDAY=1MO;UNTIL={until:%Y%m%d}T235959"
    assert all(
        m.local_date.day <= 7 and m.local_date.weekday() == 0 for m in series.meetings.all()
    )


def test_every_two_weeks(client, organizer):
    client.force_login(organizer)
    client.post(reverse("meetings:series_create"), form_data(interval="2", weekdays=["0"]))
    assert Series.objects.get().rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=MO;COUNT=6"


def test_missing_end_date_is_a_clear_error_and_creates_nothing(client, organizer):
    client.force_login(organizer)
    response = client.post(reverse("meetings:series_create"), form_data(ends="on", count=""))
    assert response.status_code == 400
    assert "Pick the date of the last meeting." in response.text
    assert not Series.objects.exists()
    assert not Meeting.objects.exists()


def test_nonsense_input_never_500s(client, organizer):
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:series_create"),
        form_data(frequency="hourly", interval="-3", time_zone="Mars/Olympus", weekdays=["9"]),
    )
    assert response.status_code == 400
    assert not Series.objects.exists()


def test_series_page_of_another_team_is_404(client, series, outsider):
    client.force_login(outsider)
    assert client.get(reverse("meetings:series_detail", args=[series.pk])).status_code == 404
    first = series.meetings.first()
    response = client.post(reverse("meetings:occurrence_cancel", args=[series.pk, first.pk]))
    assert response.status_code == 404
    assert Meeting.objects.get(pk=first.pk).canceled_at is None


def test_plain_member_cannot_change_the_series(client, series, member):
    client.force_login(member)
    first = series.meetings.first()
    assert client.get(reverse("meetings:series_detail", args=[series.pk])).status_code == 200
    edit = reverse("meetings:occurrence_edit", args=[series.pk, first.pk])
    assert client.get(edit).status_code == 403
    assert (
        client.post(reverse("meetings:occurrence_cancel", args=[series.pk, first.pk])).status_code
        == 403
    )
    assert client.post(reverse("meetings:series_end", args=[series.pk])).status_code == 403
    assert Meeting.objects.get(pk=first.pk).canceled_at is None


def test_series_page_shows_running_decisions_and_open_items(
    client, series, organizer, member, django_assert_max_num_queries, django_assert_num_queries
):
    first = series.meetings.first()
    services.add_decision(meeting=first, text="Ship on Fridays")
    services.add_action_item(
        meeting=first,
        description="Write release notes",
        owner=member,
        due_date=first.local_date + timedelta(days=2),
        now=timezone.now(),
    )
    client.force_login(organizer)
    url = reverse("meetings:series_detail", args=[series.pk])
    with django_assert_max_num_queries(9) as few:
        response = client.get(url)
    baseline = len(few)  # the log is reset by the next request
    assert "Ship on Fridays" in response.text
    assert "Write release notes" in response.text
    for n in range(5):
        services.add_decision(meeting=first, text=f"Decision {n}")
        services.add_action_item(
            meeting=series.meetings.all()[1],
            description=f"Thing {n}",
            owner=member,
            due_date=first.local_date + timedelta(days=9),
            now=timezone.now(),
        )
    with django_assert_num_queries(baseline):
        client.get(url)


def test_cancel_one_occurrence_from_the_series_page(client, series, organizer):
    client.force_login(organizer)
    second = series.meetings.all()[1]
    response = client.post(reverse("meetings:occurrence_cancel", args=[series.pk, second.pk]))
    assert response.status_code == 302
    assert Meeting.objects.get(pk=second.pk).canceled_at is not None
    assert series.meetings.filter(canceled_at__isnull=False).count() == 1


def test_edit_this_meeting_only(client, series, organizer):
    client.force_login(organizer)
    second = series.meetings.all()[1]
    initial = client.get(reverse("meetings:occurrence_edit", args=[series.pk, second.pk]))
    assert initial.status_code == 200
    local = second.starts_at.astimezone(second.zone)
    response = client.post(
        reverse("meetings:occurrence_edit", args=[series.pk, second.pk]),
        {
            "scope": "this",
            "title": "Sync with guests",
            "date": local.date().isoformat(),
            "start_time": "15:30",
            "duration_minutes": "60",
            "location": "Big room",
        },
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.title == "Sync with guests"
    assert second.starts_at.astimezone(second.zone).strftime("%H:%M") == "15:30"
    assert second.duration_minutes == 60
    assert series.meetings.filter(title="Sync with guests").count() == 1


def test_edit_this_and_following_splits(client, series, organizer):
    client.force_login(organizer)
    second = series.meetings.all()[1]
    count = series.meetings.count()
    local = second.starts_at.astimezone(second.zone)
    response = client.post(
        reverse("meetings:occurrence_edit", args=[series.pk, second.pk]),
        {
            "scope": "following",
            "title": "Later sync",
            "date": local.date().isoformat(),
            "start_time": "16:00",
            "duration_minutes": "30",
            "location": "",
        },
    )
    new = Series.objects.exclude(pk=series.pk).get()
    assert response["Location"] == reverse("meetings:series_detail", args=[new.pk])
    assert series.meetings.count() == 1
    assert new.meetings.count() == count - 1
    assert {m.starts_at.astimezone(m.zone).strftime("%H:%M") for m in new.meetings.all()} == {
        "16:00"
    }


def test_open_next_meeting_finds_what_the_recap_carried_over(client, series, organizer, member):
    first, second = series.meetings.all()[:2]
    services.add_action_item(
        meeting=first,
        description="Call the vendor",
        owner=member,
        due_date=first.local_date,
        now=timezone.now(),
    )
    # Pretend the first one is over and recapped: the second is now next.
    Meeting.objects.filter(pk=first.pk).update(
        starts_at=timezone.now() - timedelta(hours=2),
        ends_at=timezone.now() - timedelta(hours=1),
        recap_summary="Done",
        recap_published_at=timezone.now(),
    )
    tasks.carry_over_after_recap(first.pk)  # what publishing the recap enqueues
    client.force_login(member)
    response = client.get(reverse("meetings:series_next", args=[series.pk]))
    assert response["Location"] == reverse("meetings:detail", args=[second.pk])
    assert [i.title for i in second.agenda_items.all()] == ["Follow up: Call the vendor"]
    client.get(reverse("meetings:series_next", args=[series.pk]))
    assert second.agenda_items.count() == 1


def test_team_template_with_standing_items_feeds_a_new_series(client, organizer):
    client.force_login(organizer)
    response = client.post(reverse("meetings:templates"), {"name": "Standup"})
    template = AgendaTemplate.objects.get()
    assert response["Location"] == reverse("meetings:template", args=[template.pk])
    add = reverse("meetings:template_item_add", args=[template.pk])
    client.post(add, {"title": "Yesterday", "timebox_minutes": "5"})
    client.post(add, {"title": "Blockers", "timebox_minutes": "10"})
    bad = client.post(add, {"title": "", "timebox_minutes": "999"})
    assert bad.status_code == 400
    assert [(i.title, i.timebox_minutes) for i in template.items.all()] == [
        ("Yesterday", 5),
        ("Blockers", 10),
    ]
    client.post(reverse("meetings:series_create"), form_data(template=str(template.pk)))
    meeting = Series.objects.get().meetings.first()
    assert [i.title for i in meeting.agenda_items.all()] == ["Yesterday", "Blockers"]


def test_template_of_another_team_is_404(client, outsider, team):
    template = AgendaTemplate.objects.create(team=team, name="Private")
    client.force_login(outsider)
    assert client.get(reverse("meetings:template", args=[template.pk])).status_code == 404
    add = reverse("meetings:template_item_add", args=[template.pk])
    assert client.post(add, {"title": "Sneaky"}).status_code == 404
    assert not template.items.exists()


def test_series_list_is_constant_in_queries(client, organizer, team, django_assert_num_queries):
    client.force_login(organizer)
    client.post(reverse("meetings:series_create"), form_data())
    with django_assert_num_queries(4) as one:
        client.get(reverse("meetings:series_list"))
    baseline = len(one)  # the log is reset by the next request
    client.post(reverse("meetings:series_create"), form_data(title="Other"))
    client.post(reverse("meetings:series_create"), form_data(title="Third"))
    with django_assert_num_queries(baseline):
        response = client.get(reverse("meetings:series_list"))
    assert "Third" in response.text


def test_series_without_template_gets_its_own_from_the_series_page(client, series, organizer):
    client.force_login(organizer)
    url = reverse("meetings:series_template_create", args=[series.pk])
    response = client.post(url)
    template = AgendaTemplate.objects.get(series=series)
    assert response["Location"] == reverse("meetings:template", args=[template.pk])
    client.post(url)
    assert AgendaTemplate.objects.filter(series=series).count() == 1
    client.post(
        reverse("meetings:template_item_add", args=[template.pk]),
        {"title": "Metrics", "timebox_minutes": "10"},
    )
    page = client.get(reverse("meetings:series_detail", args=[series.pk]))
    assert "Metrics" in page.text


def test_plain_member_cannot_change_the_series_template(client, series, member):
    template = AgendaTemplate.objects.create(team=series.team, series=series, name="Sync")
    client.force_login(member)
    add = reverse("meetings:template_item_add", args=[template.pk])
    assert client.post(add, {"title": "Mine"}).status_code == 403
    create = reverse("meetings:series_template_create", args=[series.pk])
    assert client.post(create).status_code == 403
    assert not template.items.exists()


def test_series_without_meetings_in_the_horizon_says_so(client, organizer, settings):
    settings.SERIES_HORIZON_DAYS = 3
    client.force_login(organizer)
    response = client.post(reverse("meetings:series_create"), form_data(), follow=True)
    assert "no meeting of it falls in the next 3 days" in response.text


def test_series_list_offers_the_calendar_feed(client, organizer):
    client.force_login(organizer)
    response = client.get(reverse("meetings:series_list"))
    assert f"webcal://localhost:8000/calendar/feed/{organizer.calendar_token}.ics" in response.text


def test_meeting_form_post_creates_a_series_in_the_viewers_zone(client, organizer, member):
    """The "Create recurring meeting" button of the new-meeting form posts here."""
    client.force_login(organizer)  # Europe/Berlin
    day = timezone.localdate() + timedelta(days=3)
    response = client.post(
        reverse("meetings:series_create"),
        {
            "title": "Standup",
            "date": day.isoformat(),
            "start_time": "09:30",
            "end_time": "09:45",
            "location": "",
            "attendees": [str(member.pk)],
            "frequency": "weekly",
            "interval": "1",
            "ordinal": "1",
            "month_weekday": "0",
            "ends": "after",
            "count": "3",
            "until": "",
        },
    )
    series = Series.objects.get()
    assert response["Location"] == reverse("meetings:series_detail", args=[series.pk])
    assert series.time_zone == "Europe/Berlin"
    assert series.duration == timedelta(minutes=15)
    meetings = list(series.meetings.all())
    assert len(meetings) == 3
    assert {m.starts_at.astimezone(m.zone).strftime("%H:%M") for m in meetings} == {"09:30"}
    assert series.attendees.get().user == member


def test_meeting_form_post_with_bad_times_shows_the_series_form(client, organizer):
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:series_create"),
        {
            "title": "X",
            "date": "soon",
            "start_time": "9",
            "end_time": "10",
            "frequency": "weekly",
            "interval": "1",
            "ordinal": "1",
            "month_weekday": "0",
            "ends": "never",
        },
    )
    assert response.status_code == 400
    assert not Series.objects.exists()


def test_this_and_following_can_move_to_other_weekdays(client, series, organizer):
    client.force_login(organizer)
    second = series.meetings.all()[1]
    local = second.starts_at.astimezone(second.zone)
    thursday = "3"
    client.post(
        reverse("meetings:occurrence_edit", args=[series.pk, second.pk]),
        {
            "scope": "following",
            "title": "Sync",
            "date": local.date().isoformat(),
            "start_time": "10:00",
            "duration_minutes": "30",
            "location": "",
            "weekdays": [thursday],
        },
    )
    new = Series.objects.exclude(pk=series.pk).get()
    assert "BYDAY=TH" in new.rrule
    assert {m.local_date.weekday() for m in new.meetings.all()} == {3}


def test_scheduled_count_agrees_with_the_meetings_listed(client, organizer):
    """A weekly series of nine meetings: the message says nine and the page lists nine
    (the page used to stop at eight); a canceled one is listed and counted apart."""
    tomorrow = timezone.localdate() + timedelta(days=1)  # nine weeks fit the 60-day horizon
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:series_create"),
        form_data(first_date=tomorrow.isoformat(), weekdays=[str(tomorrow.weekday())], count="9"),
        follow=True,
    )
    body = response.content.decode()
    assert "9 meetings are scheduled so far" in body
    listed = response.context["upcoming"]
    assert len(listed) == 9 == Meeting.objects.filter(series__title="Team sync").count()
    assert body.count('id="occurrence-') == 9
    assert "(9 scheduled)" in body
    services.cancel_meeting(meeting=listed[3], by=organizer, now=timezone.now())
    page = client.get(response.redirect_chain[-1][0]).content.decode()
    assert "(8 scheduled, 1 canceled)" in page
    assert page.count('id="occurrence-') == 9


def test_one_meeting_is_singular(client, organizer):
    client.force_login(organizer)
    response = client.post(
        reverse("meetings:series_create"), form_data(weekdays=["1"], count="1"), follow=True
    )
    assert "1 meeting is scheduled so far" in response.content.decode()
