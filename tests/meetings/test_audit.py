"""The audit trail: each change a service makes writes exactly one event, in the
same transaction; a refused or rolled-back change writes none; only team admins
see the history, and nobody can change it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from accounts import services as account_services
from accounts.models import AuditEvent, Membership
from meetings import services
from meetings.models import RuleBroken
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db


@pytest.fixture
def upcoming_with_agenda(team, organizer, member, now):
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    ready_agenda(meeting, by=organizer, items=2)
    return meeting


@pytest.fixture
def held(team, organizer, member, now):
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=[member], now=now - timedelta(days=3),
        starts_at=now - timedelta(hours=3),
    )  # fmt: skip
    services.record_decision(meeting=meeting, text="Ship it.", now=now)
    services.add_action_item(meeting=meeting, description="Write notes", owner=member,
                             due_date=meeting.local_date, now=now)  # fmt: skip
    return meeting


def _item(meeting):
    return meeting.agenda_items.first()


# (action recorded, the change) for every service that changes a meeting or a team.
MEETING_CHANGES = [
    ("meeting.changed", lambda m, o, n: services.update_meeting(
        meeting=m, by=o, title="Renamed", starts_at=m.starts_at, ends_at=m.ends_at, now=n)),
    ("meeting.canceled", lambda m, o, n: services.cancel_meeting(meeting=m, by=o, now=n)),
    ("agenda.sent", lambda m, o, n: services.send_agenda(meeting=m, by=o, now=n)),
    ("agenda.outcome_changed", lambda m, o, n: services.set_desired_outcome(
        meeting=m, text="Decide more.", by=o, now=n)),
    ("agenda_item.added", lambda m, o, n: services.propose_agenda_item(
        meeting=m, title="Another", added_by=o, now=n)),
    ("agenda_item.changed", lambda m, o, n: services.edit_agenda_item(
        item=_item(m), title="Retitled", owner=None, timebox_minutes=15, notes="", by=o, now=n)),
    ("agenda_item.moved", lambda m, o, n: services.move_agenda_item(
        item=_item(m), offset=1, by=o, now=n)),
    ("agenda_item.removed", lambda m, o, n: services.remove_agenda_item(
        item=_item(m), by=o, now=n)),
]  # fmt: skip

RECAP_CHANGES = [
    ("recap.saved", lambda m, o, n: services.save_recap(
        meeting=m, summary="Done.", notes="", no_action_items=False, by=o, now=n)),
    ("decision.added", lambda m, o, n: services.record_decision(
        meeting=m, text="Also this.", by=o, now=n)),
    ("decision.changed", lambda m, o, n: services.edit_decision(
        decision=m.decisions.first(), text="Ship it Friday.", by=o, now=n)),
    ("decision.removed", lambda m, o, n: services.remove_decision(
        decision=m.decisions.first(), by=o, now=n)),
    ("action_item.added", lambda m, o, n: services.assign_action_item(
        meeting=m, description="Call", owner=o, due_date=m.local_date, created_by=o, now=n)),
    ("action_item.changed", lambda m, o, n: services.edit_action_item(
        item=m.action_items.first(), description="Write the notes", owner=o,
        due_date=m.local_date, by=o, now=n)),
    ("action_item.removed", lambda m, o, n: services.remove_action_item(
        item=m.action_items.first(), by=o, now=n)),
    ("action_item.completed", lambda m, o, n: services.set_action_item_done(
        item=m.action_items.first(), done=True, by=o, now=n)),
]  # fmt: skip


def _events():
    return list(AuditEvent.objects.values_list("action", flat=True))


@pytest.mark.parametrize(
    ("action", "change"), MEETING_CHANGES, ids=[c[0] for c in MEETING_CHANGES]
)
def test_each_meeting_change_writes_exactly_one_event(upcoming_with_agenda, organizer, now,
                                                      action, change):  # fmt: skip
    before = AuditEvent.objects.count()
    change(upcoming_with_agenda, organizer, now)
    events = AuditEvent.objects.order_by("pk")[before:]
    assert [e.action for e in events] == [action]
    (event,) = events
    assert event.actor == organizer and event.actor_label == organizer.email
    assert (
        event.meeting_id == upcoming_with_agenda.pk
        and event.team_id == upcoming_with_agenda.team_id
    )
    assert event.at == now


@pytest.mark.parametrize(("action", "change"), RECAP_CHANGES, ids=[c[0] for c in RECAP_CHANGES])
def test_each_recap_change_writes_exactly_one_event(held, organizer, now, action, change):
    before = AuditEvent.objects.count()
    change(held, organizer, now)
    assert [e.action for e in AuditEvent.objects.order_by("pk")[before:]] == [action]


def test_events_keep_before_and_after_of_the_changed_fields(upcoming_with_agenda, organizer, now):
    item = _item(upcoming_with_agenda)
    services.edit_agenda_item(item=item, title="Budget 2027", owner=None, timebox_minutes=20,
                              notes=item.notes, by=organizer, now=now)  # fmt: skip
    event = AuditEvent.objects.get(action="agenda_item.changed")
    assert event.changes == {"timebox_minutes": [None, 20], "title": ["Item 1", "Budget 2027"]}


def test_a_change_that_changes_nothing_writes_no_event(upcoming_with_agenda, organizer, now):
    before = AuditEvent.objects.count()
    services.set_desired_outcome(meeting=upcoming_with_agenda, text="Decide the thing.",
                                 by=organizer, now=now)  # fmt: skip
    assert AuditEvent.objects.count() == before


def test_a_refused_change_writes_no_event(upcoming_with_agenda, organizer, now):
    before = AuditEvent.objects.count()
    with pytest.raises(RuleBroken):
        late = upcoming_with_agenda.starts_at + timedelta(minutes=1)
        services.send_agenda(meeting=upcoming_with_agenda, by=organizer, now=late)
    assert AuditEvent.objects.count() == before


def test_a_rolled_back_change_writes_no_event(upcoming_with_agenda, organizer, now):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send_agenda(meeting=upcoming_with_agenda, by=organizer, now=now)
        assert AuditEvent.objects.count() == before + 1
        raise RuntimeError("the request failed afterwards")
    assert AuditEvent.objects.count() == before


def test_team_changes_are_recorded_too(team, organizer, team_admin, now):
    owner = UserFactory()
    owner_membership = MembershipFactory(user=owner, team=team, role="owner")
    target = Membership.objects.get(user=organizer, team=team)
    account_services.change_role(membership=target, role="admin", by=owner_membership, now=now)
    account_services.update_team_policy(
        team=team, changes={"recap_grace": timedelta(hours=48)}, by=owner, now=now
    )
    account_services.remove_member(membership=target, by=owner_membership, now=now)
    events = list(AuditEvent.objects.filter(team=team).order_by("pk"))
    assert [e.action for e in events][-3:] == [
        "member.role_changed", "team.policy_changed", "member.removed",
    ]  # fmt: skip
    assert events[-2].changes == {"recap_grace": [86400.0, 172800.0]}


def test_only_team_admins_see_the_history_and_it_has_no_way_to_change_it(
    client, upcoming_with_agenda, organizer, team_admin, member, outsider, now
):
    services.send_agenda(meeting=upcoming_with_agenda, by=organizer, now=now)
    url = reverse("meetings:history", args=[upcoming_with_agenda.pk])
    client.force_login(team_admin)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sent the agenda of" in body and organizer.email in body
    assert "<form" not in body.split("<main", 1)[1].split("</main>", 1)[0]
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code in (403, 404, 405)


def test_history_page_queries_do_not_grow_with_events(
    client, upcoming_with_agenda, organizer, team_admin, now, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(team_admin)
    url = reverse("meetings:history", args=[upcoming_with_agenda.pk])
    counts = []
    for more in (3, 40):
        for n in range(more):
            services.set_desired_outcome(meeting=upcoming_with_agenda, text=f"Outcome {n}",
                                         by=organizer, now=now)  # fmt: skip
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_nobody_can_add_change_or_delete_events_in_the_admin(client, upcoming_with_agenda,
                                                            organizer, now):  # fmt: skip
    services.send_agenda(meeting=upcoming_with_agenda, by=organizer, now=now)
    event = AuditEvent.objects.get(action="agenda.sent")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/accounts/auditevent/").status_code == 200
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
    change = client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"summary": "x"})
    assert change.status_code in (200, 403)
    assert (
        client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.summary.startswith("Sent the agenda")
