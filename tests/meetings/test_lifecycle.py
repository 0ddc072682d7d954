"""The whole happy path, through the services the app uses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meetings import services
from meetings.models import ActionItem, Meeting

pytestmark = pytest.mark.django_db


def test_meeting_lifecycle_from_draft_to_acknowledged_recap(
    team, organizer, member, team_admin, now
):
    meeting = services.create_meeting(
        team=team, organizer=organizer, title="Launch review",
        starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=1),
        time_zone="Europe/Berlin", attendees=[member], optional_attendees=[team_admin], now=now,
    )  # fmt: skip
    attendees = {a.user: a.required for a in meeting.attendees.select_related("user")}
    assert attendees == {organizer: True, member: True, team_admin: False}
    assert meeting.status_at(now) == Meeting.Status.DRAFT

    meeting.desired_outcome = "Go or no-go for Monday's launch."
    meeting.save(update_fields=["desired_outcome"])
    first = services.add_agenda_item(
        meeting=meeting, title="Open bugs", owner=member, timebox_minutes=20, added_by=organizer
    )
    second = services.add_agenda_item(meeting=meeting, title="Go/no-go", added_by=member)
    assert (first.position, second.position) == (0, 1)
    services.send_agenda(meeting=meeting, by=organizer, now=now + timedelta(hours=1))
    services.edit_agenda_item(item=first, title=first.title, owner=member, timebox_minutes=25,
                              notes="", by=organizer, now=now + timedelta(hours=2))  # fmt: skip
    services.amend_agenda(meeting=meeting, by=organizer, now=now + timedelta(hours=2))
    assert meeting.status_at(now + timedelta(hours=3)) == Meeting.Status.AGENDA_SENT
    assert meeting.sequence == 2

    after = meeting.ends_at + timedelta(minutes=30)
    meeting.recap_summary = "**Go** for Monday; two bugs must be fixed first."
    meeting.save(update_fields=["recap_summary"])
    services.add_decision(meeting=meeting, text="Launch on Monday.")
    for owner in (member, team_admin):
        services.add_action_item(
            meeting=meeting, description=f"Fix bug for {owner}", owner=owner,
            due_date=meeting.local_date + timedelta(days=2), created_by=organizer, now=after,
        )  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    assert meeting.status_at(after) == Meeting.Status.RECAPPED
    assert meeting.recap_published_by == organizer

    acknowledged = services.acknowledge_recap(meeting=meeting, user=member, now=after)
    assert acknowledged.acknowledged_at == after
    item = ActionItem.objects.get(owner=member)
    item.complete(now=after + timedelta(days=1))
    assert list(ActionItem.objects.open().values_list("owner", flat=True)) == [team_admin.pk]
    assert ActionItem.objects.overdue(meeting.local_date + timedelta(days=3)).count() == 1
