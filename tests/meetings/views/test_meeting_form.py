"""Creating, editing and canceling meetings; the attendee search."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from meetings.notifications import stages
from tests.factories import MembershipFactory, TeamFactory, UserFactory


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


BERLIN = ZoneInfo("Europe/Berlin")


def form_data(day, start="10:00", end="11:00", **extra) -> dict:
    return {"title": "Planning", "date": day.isoformat(), "start_time": start, "end_time": end,
            "location": "", **extra}  # fmt: skip


@pytest.fixture
def tomorrow():
    return (timezone.now().astimezone(BERLIN) + timedelta(days=1)).date()


def test_create_form_names_my_time_zone(client, organizer):
    client.force_login(organizer)
    body = client.get(url("create")).content.decode()
    assert "Europe/Berlin" in body
    assert "your time zone" in body


def test_create_in_my_zone_with_attendees_from_my_team(client, organizer, member, team, tomorrow):
    client.force_login(organizer)
    response = client.post(url("create"), form_data(tomorrow, attendees=[member.pk]))
    meeting = Meeting.objects.get()
    assert response["Location"] == url("detail", meeting.pk)
    assert meeting.team == team
    assert meeting.time_zone == "Europe/Berlin"
    assert meeting.starts_at == datetime.combine(
        tomorrow, datetime.min.time().replace(hour=10), tzinfo=BERLIN
    )
    assert set(meeting.attendees.values_list("user", flat=True)) == {organizer.pk, member.pk}
    assert "Meeting created. Now build its agenda." in messages_of(response)


def test_meeting_page_shows_attendee_local_time_beside_mine(client, organizer, member, tomorrow):
    client.force_login(organizer)
    client.post(url("create"), form_data(tomorrow, start="13:00", end="14:00",
                                         attendees=[member.pk]))  # fmt: skip
    meeting = Meeting.objects.get()
    body = client.get(url("detail", meeting.pk)).content.decode()
    local = meeting.starts_at.astimezone(ZoneInfo("Asia/Kolkata"))
    assert f"{local:%a %H:%M} for {member.name}, Kolkata" in body
    assert "(Europe/Berlin, your time)" in body


def test_attendee_from_another_team_is_refused(client, organizer, outsider, tomorrow):
    client.force_login(organizer)
    response = client.post(url("create"), form_data(tomorrow, attendees=[outsider.pk]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Meeting.objects.exists()


def test_end_before_start_is_a_field_message(client, organizer, tomorrow):
    client.force_login(organizer)
    response = client.post(url("create"), form_data(tomorrow, start="11:00", end="10:00"))
    assert "A meeting must end after it starts." in response.content.decode()
    assert not Meeting.objects.exists()


def test_far_future_date_is_a_field_message(client, organizer):
    client.force_login(organizer)
    response = client.post(url("create"), form_data(datetime(9999, 12, 31).date()))
    assert "Pick a date within 10 years of today." in response.content.decode()
    assert not Meeting.objects.exists()


def test_record_after_the_fact_is_held_without_agenda(client, organizer):
    client.force_login(organizer)
    yesterday = (timezone.now().astimezone(BERLIN) - timedelta(days=1)).date()
    response = client.post(url("create"), form_data(yesterday))
    meeting = Meeting.objects.get()
    assert meeting.status_at(timezone.now()) == Meeting.Status.HELD_WITHOUT_AGENDA
    assert "held without agenda" in messages_of(response)[0]
    assert "Save draft" in client.get(url("detail", meeting.pk)).content.decode()


def test_meeting_is_created_in_the_current_team(client, organizer, tomorrow):
    second = TeamFactory()
    MembershipFactory(user=organizer, team=second)
    client.force_login(organizer)
    session = client.session
    session["current_team_id"] = second.pk
    session.save()
    client.post(url("create"), form_data(tomorrow))
    assert Meeting.objects.get().team == second


def test_user_without_team_is_told_to_join_one(client, tomorrow, db):
    loner = UserFactory()
    client.force_login(loner)
    response = client.post(url("create"), form_data(tomorrow))
    assert response.status_code == 302
    assert "Join a team first" in messages_of(response)[0]
    assert not Meeting.objects.exists()


def test_edit_moves_times_and_changes_attendees(client, organizer, member, upcoming, team):
    newcomer = UserFactory(time_zone="America/New_York")
    MembershipFactory(user=newcomer, team=team)
    client.force_login(organizer)
    form = client.get(url("edit", upcoming.pk)).content.decode()
    assert 'value="Weekly sync"' in form
    day = timezone.localtime(upcoming.starts_at, BERLIN).date() + timedelta(days=1)
    response = client.post(
        url("edit", upcoming.pk),
        form_data(day, start="09:00", end="09:30", attendees=[newcomer.pk]),  # fmt: skip
    )
    assert response.status_code == 302
    upcoming.refresh_from_db()
    assert upcoming.duration_minutes == 30
    assert upcoming.sequence == 1
    assert set(upcoming.attendees.values_list("user", flat=True)) == {organizer.pk, newcomer.pk}


def test_edit_cannot_move_start_before_the_sent_agenda(client, organizer, upcoming):
    from tests.factories import ready_agenda

    ready_agenda(upcoming, by=organizer)
    upcoming.send_agenda(by=organizer, now=timezone.now())
    client.force_login(organizer)
    yesterday = (timezone.now().astimezone(BERLIN) - timedelta(days=1)).date()
    response = client.post(url("edit", upcoming.pk), form_data(yesterday))
    assert "cannot move to start before that" in response.content.decode()
    before = upcoming.starts_at
    upcoming.refresh_from_db()
    assert upcoming.starts_at == before


def test_only_organizer_and_admins_edit(client, upcoming, member, team_admin, tomorrow):
    client.force_login(member)
    assert client.get(url("edit", upcoming.pk)).status_code == 403
    assert client.post(url("edit", upcoming.pk), form_data(tomorrow)).status_code == 403
    client.force_login(team_admin)
    assert client.get(url("edit", upcoming.pk)).status_code == 200


def test_outsider_gets_404_on_edit_and_cancel(client, upcoming, outsider):
    client.force_login(outsider)
    assert client.get(url("edit", upcoming.pk)).status_code == 404
    assert client.post(url("cancel", upcoming.pk)).status_code == 404
    upcoming.refresh_from_db()
    assert upcoming.canceled_at is None


def test_cancel_with_and_without_htmx(client, organizer, upcoming, htmx):
    client.force_login(organizer)
    response = client.post(url("cancel", upcoming.pk), headers=htmx)
    assert "Meeting canceled." in response.content.decode()
    upcoming.refresh_from_db()
    assert upcoming.canceled_at is not None
    again = client.post(url("cancel", upcoming.pk))
    assert "This meeting is already canceled." in messages_of(again)


def test_cancel_needs_post(client, organizer, upcoming):
    client.force_login(organizer)
    assert client.get(url("cancel", upcoming.pk)).status_code == 405


def test_member_search_returns_only_my_team(client, organizer, member, outsider):
    client.force_login(organizer)
    body = client.get(url("member_search"), {"q": "person"}).content.decode()
    assert f'value="{member.pk}"' in body
    assert f'value="{outsider.pk}"' not in body
    assert f'value="{organizer.pk}"' not in body


def test_member_search_keeps_ticked_members_while_narrowing(client, organizer, member, team):
    asha = UserFactory(display_name="Asha Rao", time_zone="Asia/Kolkata")
    MembershipFactory(user=asha, team=team)
    client.force_login(organizer)
    body = client.get(
        url("member_search"), {"q": "asha", "attendees": [member.pk, "junk", "²"]}
    ).content.decode()
    assert f'value="{asha.pk}"' in body
    assert f'value="{member.pk}" checked' in body
    nobody = client.get(url("member_search"), {"q": "zzzz"}).content.decode()
    assert "Nobody in your team matches" in nobody


def test_member_search_escapes_the_query(client, organizer):
    client.force_login(organizer)
    body = client.get(url("member_search"), {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body


def test_anonymous_is_sent_to_login(client, upcoming):
    for target in (url("home"), url("create"), url("detail", upcoming.pk), url("member_search")):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_moving_a_meeting_moves_its_reminders(client, organizer, upcoming):

    client.force_login(organizer)
    upcoming.refresh_from_db()
    before = upcoming.next_reminder_at
    day = timezone.localtime(upcoming.starts_at, BERLIN).date() + timedelta(days=7)
    client.post(url("edit", upcoming.pk), form_data(day))
    upcoming.refresh_from_db()
    assert upcoming.next_reminder_at is not None
    assert upcoming.next_reminder_at != before
    assert upcoming.next_reminder_at == stages.next_reminder_time(
        upcoming, timezone.now(), handled=False
    )


def test_moving_a_meeting_with_a_sent_agenda_says_attendees_got_the_invitation(
    client, organizer, upcoming
):
    from tests.factories import ready_agenda

    ready_agenda(upcoming, by=organizer)
    upcoming.send_agenda(by=organizer, now=timezone.now())
    client.force_login(organizer)
    day = timezone.localtime(upcoming.starts_at, BERLIN).date() + timedelta(days=1)
    response = client.post(url("edit", upcoming.pk), form_data(day))
    assert response.status_code == 302
    assert messages_of(response) == [
        "Meeting moved. Attendees were sent the updated invitation by email."
    ]


def test_moving_a_meeting_without_agenda_just_says_moved(client, organizer, upcoming):
    client.force_login(organizer)
    day = timezone.localtime(upcoming.starts_at, BERLIN).date() + timedelta(days=1)
    response = client.post(url("edit", upcoming.pk), form_data(day))
    assert messages_of(response) == ["Meeting moved."]


def test_saving_without_changes_tells_nobody(client, organizer, upcoming):
    from tests.factories import ready_agenda

    # The form works in whole minutes on one day: 10:00-11:00 Berlin (from the
    # real clock, an hour-long meeting starting after 23:00 would end the next day).
    day = timezone.localtime(upcoming.starts_at, BERLIN).date()
    upcoming.starts_at = datetime.combine(day, time(10), BERLIN)
    upcoming.ends_at = upcoming.starts_at + timedelta(hours=1)
    upcoming.save(update_fields=["starts_at", "ends_at"])
    ready_agenda(upcoming, by=organizer)
    upcoming.send_agenda(by=organizer, now=timezone.now())
    client.force_login(organizer)
    local = timezone.localtime(upcoming.starts_at, BERLIN)
    end = timezone.localtime(upcoming.ends_at, BERLIN)
    data = form_data(local.date(), start=f"{local:%H:%M}", end=f"{end:%H:%M}")
    data["title"], data["location"] = upcoming.title, upcoming.location
    response = client.post(url("edit", upcoming.pk), data)
    assert messages_of(response) == ["Meeting saved."]


def test_refused_move_of_a_recapped_meeting_shows_the_reason_once(client, organizer, member, team):
    from tests.factories import MeetingFactory

    start = timezone.now() - timedelta(hours=3)
    recapped = MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=start,
        now=start - timedelta(days=2),
    )  # fmt: skip
    recapped.recap_summary, recapped.no_action_items = "Done.", True
    recapped.save()
    recapped.publish_recap(by=organizer, now=timezone.now())
    client.force_login(organizer)
    day = timezone.localtime(recapped.starts_at, BERLIN).date() + timedelta(days=3)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(url("edit", recapped.pk), form_data(day), headers=headers)
        body = response.content.decode()
        assert body.count("The recap is published, so the meeting cannot move") == 1
        assert messages_of(response) == []
    before = recapped.ends_at
    recapped.refresh_from_db()
    assert recapped.ends_at == before
