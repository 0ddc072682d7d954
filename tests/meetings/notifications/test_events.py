"""Team events for webhooks and chat: recorded with the change that caused them, once
per occurrence, only for endpoints that listen, at a constant query count in the sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from meetings import notifications, services
from meetings.models import Delivery, Endpoint, Event, EventType, Meeting
from meetings.notifications import events
from tests.factories import MeetingFactory, TeamFactory, ready_agenda

pytestmark = pytest.mark.django_db

T = EventType


def endpoint(team, *types, kind=Endpoint.Kind.WEBHOOK, name="Receiver", **extra) -> Endpoint:
    secret = events.new_secret() if kind == Endpoint.Kind.WEBHOOK else ""
    return Endpoint.objects.create(
        team=team, kind=kind, name=name, url="https://hooks.example.com/in",
        events=list(types) or list(T.values), secret=secret, **extra,
    )  # fmt: skip


def held(team, organizer, member, now, *, ago=timedelta(hours=2)) -> Meeting:
    """A meeting that started `ago` before `now` (and was scheduled three days before)."""
    return MeetingFactory(
        team=team, organizer=organizer, attendees=[member], starts_at=now - ago,
        now=now - ago - timedelta(days=3),
    )  # fmt: skip


def types(**filters) -> list[str]:
    return sorted(Event.objects.filter(**filters).values_list("type", flat=True))


@pytest.fixture(autouse=True)
def _always_working(organizer, member):
    for user in (organizer, member):
        user.work_days = 0b1111111
        user.work_start, user.work_end = "00:00", "23:59:59"
        user.save()


def test_nothing_is_recorded_without_a_listening_endpoint(meeting, organizer, team, now):
    endpoint(team, T.RECAP_PUBLISHED)  # listens to something else
    endpoint(team, name="Off", disabled_at=now)  # listens to all, but disabled
    endpoint(TeamFactory(), name="Elsewhere")  # another team's
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_sending_the_agenda_records_one_event_and_one_delivery_per_listener(
    meeting, organizer, team, now, django_capture_on_commit_callbacks
):
    a = endpoint(team, T.AGENDA_SENT, name="A")
    b = endpoint(team, T.AGENDA_SENT, T.AGENDA_AMENDED, name="B")
    ready_agenda(meeting, by=organizer, items=2)
    with django_capture_on_commit_callbacks() as published:
        services.send_agenda(meeting=meeting, by=organizer, now=now)
    event = Event.objects.get()
    assert event.type == T.AGENDA_SENT and event.meeting == meeting and event.team == team
    assert {d.endpoint for d in event.deliveries.all()} == {a, b}
    assert set(event.deliveries.values_list("state", flat=True)) == {"pending"}
    body = event.payload
    assert body["type"] == "agenda.sent" and body["version"] == events.VERSION
    assert body["timestamp"] == "2026-03-04T12:00:00Z"
    data = body["data"]
    assert data["meeting"]["id"] == meeting.pk
    assert data["meeting"]["url"].endswith(f"/meetings/{meeting.pk}/")
    assert data["actor"]["email"] == organizer.email
    assert [i["title"] for i in data["agenda"]["items"]] == ["Item 1", "Item 2"]
    assert data["agenda"]["desired_outcome"] == "Decide the thing."
    # The body is what its published JSON Schema says (pydantic checked it on the way).
    events.DATA_MODELS[T.AGENDA_SENT].model_validate(data)
    assert published, "the deliveries are queued after commit"


def test_an_amendment_is_a_new_event_and_a_repeat_is_not(meeting, organizer, team, now):
    endpoint(team)
    ready_agenda(meeting, by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    services.add_agenda_item(meeting=meeting, title="Late addition", added_by=organizer)
    services.amend_agenda(meeting=meeting, by=organizer, now=now + timedelta(minutes=5))
    assert types() == ["agenda.amended", "agenda.sent"]
    # The same occurrence again (a retried request, a second sweep) records nothing new.
    meeting.refresh_from_db()
    events.emit(T.AGENDA_AMENDED, meeting, key=str(meeting.sequence), now=now)
    assert Event.objects.count() == 2
    assert Delivery.objects.count() == 2


def test_a_rolled_back_transition_records_no_event(meeting, organizer, team, now):
    endpoint(team)
    ready_agenda(meeting, by=organizer)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send_agenda(meeting=meeting, by=organizer, now=now)
        raise RuntimeError("the request failed after the send")
    assert not Event.objects.exists()


def test_cancel_and_publish_record_their_events_with_each_item_assigned(
    team, organizer, member, now
):
    endpoint(team)
    meeting = held(team, organizer, member, now)
    after = meeting.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=meeting, summary="We chose **B**.", notes="",
                        no_action_items=False, now=after)  # fmt: skip
    for who in (member, organizer):
        services.assign_action_item(meeting=meeting, description=f"Task of {who.name}",
                                    owner=who, due_date=date(2026, 3, 10), created_by=organizer,
                                    now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    assert types() == ["action_item.assigned", "action_item.assigned", "recap.published"]
    recap = Event.objects.get(type=T.RECAP_PUBLISHED).payload["data"]["recap"]
    assert recap["summary"] == "We chose **B**."
    assert sorted(a["owner"]["id"] for a in recap["action_items"]) == sorted(
        [member.pk, organizer.pk]
    )
    other = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    services.cancel_meeting(meeting=other, by=organizer, now=now)
    assert Event.objects.filter(type=T.MEETING_CANCELED, meeting=other).count() == 1


def test_item_answers_record_completed_redated_and_reassigned(team, organizer, member, now):
    endpoint(team)
    meeting = held(team, organizer, member, now)
    after = meeting.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=meeting, summary="S", notes="", no_action_items=False, now=after)
    item = services.assign_action_item(meeting=meeting, description="Ship it", owner=member,
                                       due_date=date(2026, 3, 10), created_by=organizer,
                                       now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    item.refresh_from_db()
    services.redate_action_item(item=item, due_date=date(2026, 3, 12), by=member, now=after)
    services.redate_action_item(item=item, due_date=date(2026, 3, 13), by=member, now=after)
    services.reassign_action_item(item=item, owner=organizer, by=organizer,
                                  now=after + timedelta(minutes=1))  # fmt: skip
    item.refresh_from_db()
    services.set_action_item_done(item=item, done=True, by=organizer, now=after)
    assert types(type__startswith="action_item.") == [
        "action_item.assigned", "action_item.assigned", "action_item.completed",
        "action_item.redated", "action_item.redated",
    ]  # fmt: skip
    moved = Event.objects.filter(type=T.ACTION_ITEM_REDATED).order_by("pk").last()
    assert moved.payload["data"]["action_item"]["due_date"] == "2026-03-13"
    assert moved.payload["data"]["action_item"]["original_due_date"] == "2026-03-10"
    done = Event.objects.get(type=T.ACTION_ITEM_COMPLETED).payload["data"]["action_item"]
    assert done["status"] == "done" and done["owner"]["id"] == organizer.pk


def test_the_sweep_records_a_meeting_started_without_agenda_once(team, organizer, member, now):
    endpoint(team)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    at_start = meeting.starts_at + timedelta(minutes=1)
    notifications.sweep(now=at_start)
    Meeting.objects.filter(pk=meeting.pk).update(next_reminder_at=at_start)
    notifications.sweep(now=at_start + timedelta(seconds=30))  # again: nothing new
    assert Event.objects.filter(type=T.MEETING_STARTED_WITHOUT_AGENDA).count() == 1
    body = Event.objects.get(type=T.MEETING_STARTED_WITHOUT_AGENDA).payload
    assert body["data"]["meeting"]["status"] == "held_without_agenda"
    assert body["data"]["meeting"]["organizer"]["id"] == organizer.pk


def test_the_sweep_records_an_overdue_recap_and_overdue_items(team, organizer, member, now):
    endpoint(team, T.RECAP_OVERDUE, T.ACTION_ITEM_OVERDUE)
    late = held(team, organizer, member, now, ago=timedelta(days=5))
    notifications.sweep(now=late.ends_at + team.escalate_after + timedelta(minutes=1))
    assert types() == ["recap.overdue"]

    recapped = held(team, organizer, member, now)
    after = recapped.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=recapped, summary="S", notes="", no_action_items=False,
                        now=after)  # fmt: skip
    services.assign_action_item(meeting=recapped, description="Due soon", owner=member,
                                due_date=date(2026, 3, 5), created_by=organizer,
                                now=after)  # fmt: skip
    services.publish_recap(meeting=recapped, by=organizer, now=after)
    # Due Thursday 5 March: "overdue 1 day" falls on the 6th in the owner's zone.
    notifications.sweep(now=datetime(2026, 3, 5, 12, tzinfo=UTC))
    assert types(type=T.ACTION_ITEM_OVERDUE) == []
    notifications.sweep(now=datetime(2026, 3, 7, 12, tzinfo=UTC))
    overdue = Event.objects.get(type=T.ACTION_ITEM_OVERDUE)
    assert overdue.key.endswith(":overdue1d." + overdue.key.rsplit(".", 1)[-1])
    assert overdue.payload["data"]["action_item"]["description"] == "Due soon"


def _started_without_agenda(team, organizer, count, now):
    starts = now - timedelta(minutes=1)
    Meeting.objects.bulk_create(
        Meeting(
            team=team, organizer=organizer, title=f"M{n}", starts_at=starts,
            ends_at=starts + timedelta(hours=1), time_zone="UTC",
            created_at=now - timedelta(days=3),
            next_reminder_at=starts,
        )
        for n in range(count)
    )  # fmt: skip


def test_the_sweep_records_events_at_a_constant_query_count(team, organizer, now):
    endpoint(team, T.MEETING_STARTED_WITHOUT_AGENDA)
    _started_without_agenda(team, organizer, 10, now)
    with CaptureQueriesContext(connection) as small:
        notifications.sweep(now=now, batch_size=2000)
    assert Event.objects.count() == 10
    Meeting.objects.update(next_reminder_at=None)  # only the new ones are due next
    _started_without_agenda(team, organizer, 200, now + timedelta(hours=2))
    with CaptureQueriesContext(connection) as large:
        notifications.sweep(now=now + timedelta(hours=2), batch_size=2000)
    assert Event.objects.count() == 210
    assert Delivery.objects.count() == 210
    assert len(small.captured_queries) == len(large.captured_queries)


def test_postgresql_refuses_a_second_delivery_of_one_event_to_one_endpoint(team, meeting, now):
    hook = endpoint(team)
    event = Event.objects.create(team=team, type=T.MEETING_CANCELED, key="k", payload={})
    Delivery.objects.create(endpoint=hook, event=event)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(endpoint=hook, event=event)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(team=team, type=T.MEETING_CANCELED, key="k", payload={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(team=team, type="meeting.exploded", key="k2", payload={})


def test_postgresql_refuses_a_webhook_without_secret_and_a_channel_with_one(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        endpoint(team, kind=Endpoint.Kind.WEBHOOK, name="x").__class__.objects.filter(
            name="x"
        ).update(secret="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Endpoint.objects.create(team=team, kind="slack", name="c", url="https://x",
                                secret="whsec_abc")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Endpoint.objects.create(team=team, kind="irc", name="i", url="https://x")


def test_each_event_type_has_a_json_schema():
    for event_type in T.values:
        schema = events.event_schema(event_type)
        assert schema["properties"]["type"]["const"] == event_type
        assert "data" in schema["required"]


def test_new_secrets_are_standard_webhooks_secrets():
    import base64

    first, second = events.new_secret(), events.new_secret()
    assert first != second
    assert first.startswith("whsec_") and len(base64.b64decode(first[6:])) == 24
