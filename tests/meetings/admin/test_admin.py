"""The Django admin: every model's pages load, state is read-only, actions use services."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import services
from meetings.models import Meeting, Notification
from tests.factories import MeetingFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "meetings/meeting", "meetings/series", "meetings/agendaitem", "meetings/decision",
    "meetings/attendee", "meetings/actionitem", "meetings/notification",
    "accounts/user", "accounts/team", "accounts/membership", "accounts/invitation",
]  # fmt: skip


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def upcoming(team, organizer, member):
    """A meeting two days from the real now (the admin reads the clock)."""
    return MeetingFactory(team=team, organizer=organizer, attendees=[member])


@pytest.fixture
def busy_meeting(upcoming, organizer, member):
    meeting = upcoming
    ready_agenda(meeting, by=organizer, items=2)
    services.add_decision(meeting=meeting, text="Ship it")
    services.add_action_item(meeting=meeting, description="Write it up", owner=member,
                             due_date=meeting.local_date, now=timezone.now())  # fmt: skip
    Notification.objects.create(
        meeting=meeting, kind=Notification.Kind.AGENDA_REMINDER, stage="due_now@x",
        recipient=organizer,
    )  # fmt: skip
    return meeting


@pytest.mark.parametrize("path", CHANGELISTS)
def test_every_changelist_and_search_loads(staff_client, busy_meeting, path):
    assert staff_client.get(f"/admin/{path}/").status_code == 200
    assert staff_client.get(f"/admin/{path}/", {"q": "sync"}).status_code == 200


def test_meeting_change_form_has_every_inline(staff_client, busy_meeting):
    response = staff_client.get(f"/admin/meetings/meeting/{busy_meeting.pk}/change/")
    assert response.status_code == 200
    prefixes = {formset.formset.prefix for formset in response.context["inline_admin_formsets"]}
    assert prefixes == {"attendees", "agenda_items", "decisions", "action_items",
                        "notifications"}  # fmt: skip
    assert b"Draft" in response.content  # the derived status, shown read-only


def test_meeting_changelist_query_count_does_not_grow(staff_client, team, organizer, now):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/admin/meetings/meeting/").status_code == 200
        return len(queries)

    MeetingFactory(team=team, organizer=organizer, now=now)
    few = count()
    for n in range(30):
        MeetingFactory(team=team, organizer=organizer, now=now, title=f"M{n}")
    assert count() == few


def test_status_filter_uses_the_derived_status(staff_client, team, organizer):
    now = timezone.now()
    upcoming = MeetingFactory(team=team, organizer=organizer, now=now, title="Upcoming")
    past = MeetingFactory(team=team, organizer=organizer, now=now, title="Past",
                          starts_at=now - timedelta(days=1))  # fmt: skip
    response = staff_client.get("/admin/meetings/meeting/", {"status": "held_without_agenda"})
    shown = list(response.context["cl"].result_list)
    assert shown == [past]
    assert upcoming not in shown


def test_state_timestamps_cannot_be_edited(staff_client, upcoming):
    meeting = upcoming
    response = staff_client.get(f"/admin/meetings/meeting/{meeting.pk}/change/")
    form_fields = response.context["adminform"].form.fields
    for name in ("agenda_sent_at", "recap_published_at", "canceled_at", "next_reminder_at"):
        assert name not in form_fields


def test_cancel_action_goes_through_the_service(staff_client, upcoming):
    meeting = upcoming
    response = staff_client.post(
        "/admin/meetings/meeting/",
        {"action": "cancel_meetings", "_selected_action": [meeting.pk]},
        follow=True,
    )
    meeting.refresh_from_db()
    assert meeting.canceled_at is not None
    assert meeting.sequence == 1  # the transition bumped the iCalendar sequence
    assert "Canceled 1 meeting(s)." in response.content.decode()


def test_cancel_action_refuses_a_started_meeting_with_the_rule_message(
    staff_client, team, organizer
):
    started = MeetingFactory(team=team, organizer=organizer,
                             starts_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    response = staff_client.post(
        "/admin/meetings/meeting/",
        {"action": "cancel_meetings", "_selected_action": [started.pk]},
        follow=True,
    )
    started.refresh_from_db()
    assert started.canceled_at is None
    assert "cannot be canceled after it started" in response.content.decode()


def test_team_changelist_counts_members_in_one_query(staff_client, team, organizer, member):
    response = staff_client.get("/admin/accounts/team/")
    row = next(t for t in response.context["cl"].result_list if t.pk == team.pk)
    assert row.member_total == 2


def test_notification_cannot_be_added_by_hand(staff_client):
    assert staff_client.get("/admin/meetings/notification/add/").status_code == 403


def test_notification_changelist_filters_failed_rows(staff_client, meeting, organizer):
    Notification.objects.create(
        meeting=meeting, kind=Notification.Kind.RECAP_REMINDER, stage="grace@x",
        recipient=organizer, state=Notification.State.FAILED, last_error="550 no such user",
        given_up_at=timezone.now(),
    )  # fmt: skip
    response = staff_client.get("/admin/meetings/notification/", {"state__exact": "failed"})
    assert [n.stage for n in response.context["cl"].result_list] == ["grace@x"]


def test_outbox_list_shows_state_attempts_error_and_next_try_in_my_zone(
    staff_client, meeting, organizer
):
    from datetime import UTC, datetime

    Notification.objects.create(
        meeting=meeting, kind=Notification.Kind.RECAP_REMINDER, stage="after_end@x",
        recipient=organizer, attempts=3, last_error="451 4.3.0 Try again later " + "x" * 200,
        send_after=datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
    )  # fmt: skip
    response = staff_client.get("/admin/meetings/notification/", {"kind__exact": "recap_reminder"})
    body = response.content.decode()
    assert "451 4.3.0 Try again later" in body and "x" * 100 not in body  # shortened
    assert "Wed 1 Jul 2026, 12:00 UTC" in body  # the staff user's zone, named
    for column in ("state", "attempts", "last error", "next try"):
        assert column in body.lower()


def test_staff_send_failed_rows_again_from_the_outbox_list(staff_client, meeting, organizer):
    failed = Notification.objects.create(
        meeting=meeting, kind=Notification.Kind.RECAP_REMINDER, stage="grace@x",
        recipient=organizer, state=Notification.State.FAILED, last_error="550 no such user",
        given_up_at=timezone.now(),
    )  # fmt: skip
    response = staff_client.post(
        "/admin/meetings/notification/",
        {"action": "send_again", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "Queued 1 message(s) again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == Notification.State.PENDING and failed.requeued_at is not None


# -- the cross-row rules hold in the admin's forms too --------------------------


def inline_management(prefix: str, initial: int = 0, total: int = 1) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def meeting_post(meeting: Meeting, **extra) -> dict:
    local = meeting.starts_at.astimezone(UTC)
    end = meeting.ends_at.astimezone(UTC)
    data = {
        "title": meeting.title, "organizer": meeting.organizer_id,
        "starts_at_0": local.date().isoformat(), "starts_at_1": local.time().isoformat(),
        "ends_at_0": end.date().isoformat(), "ends_at_1": end.time().isoformat(),
        "time_zone": meeting.time_zone, "location": "", "desired_outcome": "",
        "recap_summary": "", "recap_notes": "",
    }  # fmt: skip
    for prefix in ("attendees", "agenda_items", "decisions", "action_items", "notifications"):
        data.update(inline_management(prefix, total=0))
    data.update(extra)
    return data


def test_admin_refuses_an_action_item_owned_by_an_outsider(staff_client, upcoming, outsider):
    url = f"/admin/meetings/meeting/{upcoming.pk}/change/"
    data = meeting_post(upcoming, **inline_management("action_items"))
    data.update({"action_items-0-description": "Leak", "action_items-0-owner": outsider.pk,
                 "action_items-0-due_date": upcoming.local_date.isoformat()})  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 200  # the form again, with the message
    assert "must be a member of" in response.content.decode()
    assert not upcoming.action_items.exists()


def test_admin_refuses_an_attendee_from_another_team(staff_client, upcoming, outsider):
    url = f"/admin/meetings/meeting/{upcoming.pk}/change/"
    data = meeting_post(upcoming, **inline_management("attendees"))
    data.update({"attendees-0-user": outsider.pk, "attendees-0-required": "on",
                 "attendees-0-rsvp": "pending"})  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "is not a member of" in response.content.decode()
    assert not upcoming.attendees.filter(user=outsider).exists()


def test_meeting_added_in_the_admin_gets_its_organizer_as_attendee_and_a_reminder(
    staff_client, team, organizer
):
    starts = timezone.now() + timedelta(days=3)
    draft = Meeting(team=team, organizer=organizer, title="From admin", time_zone="UTC",
                    starts_at=starts, ends_at=starts + timedelta(hours=1))  # fmt: skip
    response = staff_client.post("/admin/meetings/meeting/add/",
                                 meeting_post(draft, team=team.pk))  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    meeting = Meeting.objects.get(title="From admin")
    assert list(meeting.attendees.values_list("user_id", flat=True)) == [organizer.pk]
    assert meeting.next_reminder_at is not None  # the sweep will remind about the agenda


def test_admin_refuses_an_organizer_from_another_team(staff_client, team, outsider):
    starts = timezone.now() + timedelta(days=3)
    draft = Meeting(team=team, organizer=outsider, title="Sneaky", time_zone="UTC",
                    starts_at=starts, ends_at=starts + timedelta(hours=1))  # fmt: skip
    response = staff_client.post("/admin/meetings/meeting/add/",
                                 meeting_post(draft, team=team.pk))  # fmt: skip
    assert response.status_code == 200
    assert not Meeting.objects.filter(title="Sneaky").exists()
