""" "Remind now" from the unrecapped dashboard and the meeting admin: through the outbox."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import Meeting, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/meetings/unrecapped/"


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def owing(team, organizer, title="Owes", hours_ago=30) -> Meeting:
    ends = timezone.now() - timedelta(hours=hours_ago)
    return Meeting.objects.create(
        team=team, organizer=organizer, title=title, time_zone="UTC",
        starts_at=ends - timedelta(hours=1), ends_at=ends,
    )  # fmt: skip


def queued(meeting: Meeting) -> list[tuple[str, str, int]]:
    return list(
        Notification.objects.filter(meeting=meeting).values_list("kind", "stage", "recipient_id")
    )


def test_remind_now_queues_the_current_stage_for_the_organizer(staff_client, team, organizer):
    meeting = owing(team, organizer)
    response = staff_client.post(URL, {"remind": meeting.pk}, follow=True)
    rows = queued(meeting)
    assert len(rows) == 1
    kind, stage, recipient = rows[0]
    assert (kind, recipient) == (Notification.Kind.RECAP_REMINDER, organizer.pk)
    # 30 h after the end: the recap reminder, as a manual stage of today (UTC).
    assert stage == f"manual:{timezone.now().astimezone(UTC).date().isoformat()}"
    assert "Queued 1 reminder(s) for 1 meeting(s)." in response.content.decode()
    assert response.redirect_chain[-1][0] == URL


def test_second_click_the_same_day_cannot_send_twice(staff_client, team, organizer):
    meeting = owing(team, organizer)
    staff_client.post(URL, {"remind": meeting.pk})
    response = staff_client.post(URL, {"remind": meeting.pk}, follow=True)
    assert len(queued(meeting)) == 1
    assert "Nothing new was queued" in response.content.decode()


def test_bulk_remind_queues_one_per_selected_meeting(staff_client, team, organizer):
    first, second, third = (owing(team, organizer, f"M{n}") for n in range(3))
    staff_client.post(URL, {"bulk": "1", "selected": [first.pk, second.pk]})
    assert len(queued(first)) == len(queued(second)) == 1
    assert queued(third) == []


def test_a_meeting_recapped_meanwhile_is_not_reminded(staff_client, team, organizer):
    meeting = owing(team, organizer)
    Meeting.objects.filter(pk=meeting.pk).update(
        recap_summary="Done", no_action_items=True, recap_published_at=timezone.now()
    )
    response = staff_client.post(URL, {"remind": meeting.pk}, follow=True)
    assert queued(meeting) == []
    assert "Nothing new was queued" in response.content.decode()


def test_remind_without_a_selection_says_so(staff_client, team, organizer):
    owing(team, organizer)
    response = staff_client.post(URL, {"bulk": "1", "selected": ["x"]}, follow=True)
    assert "Pick at least one meeting" in response.content.decode()
    assert not Notification.objects.exists()


def test_remind_post_needs_a_csrf_token(staff, team, organizer):
    meeting = owing(team, organizer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(URL, {"remind": meeting.pk}).status_code == 403
    assert queued(meeting) == []


def test_filters_are_kept_after_reminding(staff_client, team, organizer):
    meeting = owing(team, organizer)
    response = staff_client.post(f"{URL}?team={team.pk}&overdue=lt1", {"remind": meeting.pk})
    assert response["Location"] == f"{URL}?team={team.pk}&overdue=lt1"


def test_meeting_admin_action_sends_reminder_now_through_the_same_code(
    staff_client, team, organizer
):
    meeting = owing(team, organizer)
    response = staff_client.post(
        "/admin/meetings/meeting/",
        {"action": "send_reminder_now", "_selected_action": [meeting.pk]},
        follow=True,
    )
    assert len(queued(meeting)) == 1
    assert "Queued 1 reminder(s)" in response.content.decode()
