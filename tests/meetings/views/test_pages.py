"""Home, the meeting list and the action items page: content, filters, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import ActionItem
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    UserFactory,
    make_series,
    ready_agenda,
)


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


def past_meeting(team, organizer, attendees=(), hours_ago=2, title="Retro"):
    start = timezone.now() - timedelta(hours=hours_ago)
    return MeetingFactory(
        team=team,
        organizer=organizer,
        attendees=list(attendees),
        starts_at=start,
        title=title,
        now=start - timedelta(days=1),
    )


def publish(meeting, organizer, *, actions=()):
    for owner, due in actions:
        services.add_action_item(
            meeting=meeting, description=f"Task for {owner.name}", owner=owner, due_date=due,
            now=timezone.now(),
        )  # fmt: skip
    meeting.recap_summary = "Done."
    meeting.no_action_items = not actions
    meeting.save()
    meeting.publish_recap(by=organizer, now=timezone.now())
    return meeting


# -- home ------------------------------------------------------------------------


def test_home_lists_upcoming_with_agenda_status(client, organizer, upcoming, team):
    sent = MeetingFactory(team=team, organizer=organizer, title="Sent one", now=timezone.now())
    ready_agenda(sent, by=organizer)
    sent.send_agenda(by=organizer, now=timezone.now())
    client.force_login(organizer)
    body = client.get(url("home")).content.decode()
    assert "Weekly sync" in body and "No agenda yet" in body
    assert "Sent one" in body and "Agenda sent" in body


def test_home_lists_recaps_owed_oldest_first_with_how_overdue(client, organizer, team):
    recent = past_meeting(team, organizer, hours_ago=3, title="Recent")
    old = past_meeting(team, organizer, hours_ago=24 * 5, title="Ancient")
    client.force_login(organizer)
    response = client.get(url("home"))
    owed = response.context["awaiting_recap"]
    assert owed == [old, recent]
    body = response.content.decode()
    assert body.index("Ancient") < body.index("Recent")
    assert "Overdue by 3" in body  # 5 days ago - 1 h long - 24 h grace
    assert "Due in" in body


def test_home_lists_recaps_to_acknowledge_and_my_action_items(client, organizer, member, team):
    meeting = past_meeting(team, organizer, attendees=[member])
    yesterday = timezone.localdate() - timedelta(days=1)
    publish(meeting, organizer, actions=[(member, max(yesterday, meeting.local_date))])
    client.force_login(member)
    body = client.get(url("home")).content.decode()
    assert 'Recaps to read <span class="count">(1)' in body
    assert f"Task for {member.name}" in body


def test_home_hides_other_teams(client, organizer, outsider):
    other_team = outsider.memberships.get().team
    MeetingFactory(team=other_team, organizer=outsider, title="Secret", now=timezone.now())
    client.force_login(organizer)
    assert "Secret" not in client.get(url("home")).content.decode()


@pytest.mark.parametrize("size", [1, 40])
def test_home_query_count_is_constant(
    client, organizer, member, team, size, django_assert_num_queries
):
    """`size` meetings of every kind: today, tomorrow, later, in series, recaps owed,
    recaps to read, agendas owed and action items due."""
    now = timezone.now()
    for i in range(size):
        ready_agenda(
            MeetingFactory(team=team, organizer=member, attendees=[organizer],
                           title=f"M{i}", now=now, starts_at=now + timedelta(days=3 + i)),
            by=member, items=2,
        )  # fmt: skip
        MeetingFactory(team=team, organizer=organizer, attendees=[member], title=f"Soon{i}",
                       now=now, starts_at=now + timedelta(minutes=30 + i))  # fmt: skip
        read = past_meeting(team, member, attendees=[organizer], title=f"P{i}")
        publish(read, member, actions=[(organizer, read.local_date)])
        past_meeting(team, organizer, attendees=[member], title=f"Q{i}")
        make_series(
            team,
            organizer,
            title=f"Series {i}",
            attendees=[member],
            now=now,
            first_start=(now + timedelta(days=3)).replace(tzinfo=None, microsecond=0),
        )
    client.force_login(organizer)
    client.get(url("home"))  # warm the session
    # session, user, memberships; agendas owed, recaps owed, items due; today and
    # tomorrow; later series; later single meetings; recaps to read
    with django_assert_num_queries(10):
        response = client.get(url("home"))
    context = response.context
    assert len(context["awaiting_recap"]) == min(size, 20)
    assert len(context["to_acknowledge"]) == min(size, 20)
    assert len(context["items_due"]) == min(size, 20)
    assert len(context["agendas_owed"]) == min(size, 20)
    assert len(context["later_series"]) == min(size, 10)
    assert len(context["later_single"]) == min(size, 10)
    assert sum(len(found) for _label, _day, found in context["days"]) >= 1


# -- meeting list ----------------------------------------------------------------


def test_list_filters_by_status_organizer_and_dates(client, organizer, member, team):
    MeetingFactory(team=team, organizer=organizer, title="Draft A", now=timezone.now())
    held = past_meeting(team, member, title="Held B")
    client.force_login(organizer)
    body = client.get(url("list"), {"status": "held_without_agenda"}).content.decode()
    assert "Held B" in body and "Draft A" not in body
    body = client.get(url("list"), {"organizer": organizer.pk}).content.decode()
    assert "Draft A" in body and "Held B" not in body
    day = timezone.localdate(held.starts_at)
    body = client.get(url("list"), {"date_from": day, "date_to": day}).content.decode()
    assert "Held B" in body and "Draft A" not in body


def test_list_rows_become_cards_with_status_under_the_title_on_phones(client, organizer, upcoming):
    # Checked by eye at 360 px (Playwright, Chromium): four columns do not fit, so
    # under 40rem each row is a card and the status comes right after the title.
    from pathlib import Path

    from django.conf import settings

    client.force_login(organizer)
    body = client.get(url("list")).content.decode()
    assert '<td class="meeting-status"><span class="status status-draft">' in body
    css = (Path(settings.BASE_DIR) / "static/css/meetings.css").read_text()
    phone = css[css.index("@media (max-width: 40rem)") :]
    assert "table.meetings tr { display: flex; flex-direction: column;" in phone
    assert "table.meetings .meeting-status { order: 1; }" in phone


def test_list_paginates_and_keeps_filters(client, organizer, team):
    for i in range(25):
        MeetingFactory(team=team, organizer=organizer, title=f"M{i:02}", now=timezone.now(),
                       starts_at=timezone.now() + timedelta(days=i + 1))  # fmt: skip
    client.force_login(organizer)
    first = client.get(url("list"), {"status": "draft"})
    assert len(first.context["page"].object_list) == 20
    assert "status=draft&amp;page=2" in first.content.decode()
    second = client.get(url("list"), {"status": "draft", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_list_with_htmx_returns_results_only(client, organizer, upcoming, htmx):
    client.force_login(organizer)
    body = client.get(url("list"), headers=htmx).content.decode()
    assert body.lstrip().startswith('<section id="results"')


def test_list_bad_filters_are_messages_not_errors(client, organizer, upcoming):
    client.force_login(organizer)
    response = client.get(url("list"), {"status": "nope", "date_from": "99999-1-1", "page": "x"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_list_shows_only_current_team(client, organizer, outsider, upcoming):
    other_team = outsider.memberships.get().team
    MeetingFactory(team=other_team, organizer=outsider, title="Secret", now=timezone.now())
    client.force_login(organizer)
    assert "Secret" not in client.get(url("list")).content.decode()


def test_list_query_count_does_not_grow(client, organizer, team, django_assert_num_queries):
    client.force_login(organizer)
    for i in range(10):
        MeetingFactory(team=team, organizer=organizer, title=f"A{i}", now=timezone.now())
    client.get(url("list"))
    with CaptureQueriesContext(connection) as small:
        client.get(url("list"))
    for i in range(90):
        MeetingFactory(team=team, organizer=organizer, title=f"B{i}", now=timezone.now())
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(url("list"))


# -- meeting page ------------------------------------------------------------------


def test_member_reads_the_meeting_but_sees_no_editors(client, upcoming, organizer):
    ready_agenda(upcoming, by=organizer)
    reader = UserFactory()
    MembershipFactory(user=reader, team=upcoming.team)
    client.force_login(reader)
    body = client.get(url("detail", upcoming.pk)).content.decode()
    assert "Item 1" in body
    assert "Edit meeting" not in body and "Add an item" not in body
    assert "Add a talking point" not in body


@pytest.mark.parametrize("size", [10, 100])
def test_meeting_page_query_count_is_constant(
    client, team, organizer, size, django_assert_num_queries
):
    people = UserFactory.create_batch(size)
    for person in people:
        MembershipFactory(user=person, team=team)
    meeting = past_meeting(team, organizer, attendees=people)
    for i in range(size):
        services.add_agenda_item(meeting=meeting, title=f"I{i}", added_by=people[i],
                                 owner=people[-i], timebox_minutes=5)  # fmt: skip
        services.add_action_item(meeting=meeting, description=f"A{i}", owner=people[i],
                                 due_date=meeting.local_date, now=timezone.now())  # fmt: skip
        services.add_decision(meeting=meeting, text=f"D{i}")
    client.force_login(organizer)
    client.get(url("detail", meeting.pk))
    # session, user, memberships, meeting, attendees, items, decisions, actions, members,
    # the agenda's comments
    with django_assert_num_queries(10):
        response = client.get(url("detail", meeting.pk))
    assert len(response.context["attendees"]) == size + 1


# -- action items page ----------------------------------------------------------------


@pytest.fixture
def recapped(team, organizer, member):
    meeting = past_meeting(team, organizer, attendees=[member], hours_ago=24 * 3)
    today = timezone.localdate()
    return publish(
        meeting,
        organizer,
        actions=[(member, meeting.local_date), (member, today + timedelta(days=7)),
                 (organizer, today + timedelta(days=1))],
    )  # fmt: skip


def test_action_items_mine_by_default(client, member, recapped):
    client.force_login(member)
    page = client.get(url("action_items"))
    items = list(page.context["page"].object_list)
    assert len(items) == 2 and all(i.owner == member for i in items)
    assert "Overdue: due" in page.content.decode()


def test_action_items_filters(client, organizer, member, recapped):
    client.force_login(organizer)
    team_items = client.get(url("action_items"), {"scope": "team", "state": "all"})
    assert len(team_items.context["page"].object_list) == 3
    overdue = client.get(url("action_items"), {"scope": "team", "state": "overdue"})
    assert [i.owner for i in overdue.context["page"].object_list] == [member]
    by_owner = client.get(url("action_items"), {"scope": "team", "owner": organizer.pk})
    assert [i.owner for i in by_owner.context["page"].object_list] == [organizer]
    by_meeting = client.get(url("action_items"), {"scope": "team", "meeting": recapped.pk})
    assert len(by_meeting.context["page"].object_list) == 3
    bad = client.get(url("action_items"), {"state": "sideways", "meeting": "abc"})
    assert bad.status_code == 200


def test_owner_marks_done_and_reopens_in_place(client, member, recapped, htmx):
    item = ActionItem.objects.filter(owner=member).first()
    client.force_login(member)
    response = client.post(url("action_item_status", item.pk), {"status": "done"}, headers=htmx)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="list-row action-row" id="action-{item.pk}"')
    assert "Reopen" in body and 'hx-swap-oob="true"' in body
    item.refresh_from_db()
    assert item.status == "done" and item.completed_at is not None
    response = client.post(url("action_item_status", item.pk), {"status": "open"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "open" and item.completed_at is None


def test_done_flash_says_done_once(client, member, recapped):
    item = ActionItem.objects.filter(owner=member).first()
    client.force_login(member)
    response = client.post(url("action_item_status", item.pk), {"status": "done"}, follow=True)
    body = response.content.decode()
    assert f"“{item.description}” marked done." in body
    assert "Done: Done:" not in body
    assert body.count("Done:") == 1
    response = client.post(url("action_item_status", item.pk), {"status": "open"}, follow=True)
    assert f"“{item.description}” reopened." in response.content.decode()


def test_done_filter_shows_completed(client, member, recapped):
    item = ActionItem.objects.filter(owner=member).first()
    item.complete(now=timezone.now())
    client.force_login(member)
    done = client.get(url("action_items"), {"state": "done"})
    assert list(done.context["page"].object_list) == [item]


def test_other_member_cannot_tick_someone_elses_item(client, recapped, member):
    item = ActionItem.objects.filter(owner=member).first()
    reader = UserFactory()
    MembershipFactory(user=reader, team=recapped.team)
    client.force_login(reader)
    assert client.post(url("action_item_status", item.pk), {"status": "done"}).status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


def test_organizer_may_tick_an_attendees_item(client, recapped, organizer, member):
    item = ActionItem.objects.filter(owner=member).first()
    client.force_login(organizer)
    client.post(url("action_item_status", item.pk), {"status": "done"})
    item.refresh_from_db()
    assert item.status == "done"


def test_outsider_gets_404_for_action_item(client, recapped, outsider):
    item = ActionItem.objects.first()
    client.force_login(outsider)
    assert client.post(url("action_item_status", item.pk), {"status": "done"}).status_code == 404


def test_bad_status_is_a_message(client, recapped, member):
    item = ActionItem.objects.filter(owner=member).first()
    client.force_login(member)
    response = client.post(url("action_item_status", item.pk), {"status": "burnt"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "open"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\tx"]
)
def test_next_url_must_be_local(client, recapped, member, target):
    item = ActionItem.objects.filter(owner=member).first()
    client.force_login(member)
    evil = client.post(url("action_item_status", item.pk), {"status": "done", "next": target})
    assert evil["Location"] == url("action_items")
    local = client.post(url("action_item_status", item.pk), {"status": "open", "next": "/x/?a=1"})
    assert local["Location"] == "/x/?a=1"


@pytest.mark.parametrize("size", [10, 100])
def test_action_items_query_count_is_constant(
    client, team, organizer, size, django_assert_num_queries
):
    people = UserFactory.create_batch(3)
    for person in people:
        MembershipFactory(user=person, team=team)
    for m in range(size // 10):
        meeting = past_meeting(team, organizer, attendees=people, title=f"M{m}")
        for i in range(10):
            services.add_action_item(meeting=meeting, description=f"A{i}", owner=people[i % 3],
                                     due_date=meeting.local_date, now=timezone.now())  # fmt: skip
    client.force_login(organizer)
    client.get(url("action_items"), {"scope": "team"})
    # session, user, memberships, members, meetings for the filter, count, page
    with django_assert_num_queries(7):
        response = client.get(url("action_items"), {"scope": "team"})
    assert len(response.context["page"].object_list) == min(size, 50)


def test_home_and_list_name_my_time_zone(client, member, upcoming):
    client.force_login(member)
    for name in ("home", "list"):
        assert "Times are in Asia/Kolkata" in client.get(url(name)).content.decode()


def test_video_link_is_clickable_but_script_links_are_not(client, organizer, upcoming):
    upcoming.location = "https://meet.example.com/abc"
    upcoming.save()
    client.force_login(organizer)
    body = client.get(url("detail", upcoming.pk)).content.decode()
    assert 'href="https://meet.example.com/abc"' in body
    upcoming.location = "javascript:alert(1) <b>x</b>"
    upcoming.save()
    body = client.get(url("detail", upcoming.pk)).content.decode()
    assert 'href="javascript' not in body and "<b>x</b>" not in body


def test_list_shows_upcoming_soonest_first_then_past_latest_first(client, organizer, team):
    now = timezone.now()
    for days, title in [(40, "January"), (1, "Tomorrow"), (7, "Next week")]:
        MeetingFactory(team=team, organizer=organizer, title=title, now=now,
                       starts_at=now + timedelta(days=days))  # fmt: skip
    for hours, title in [(24 * 30, "Last month"), (3, "This morning"), (24 * 2, "Two days ago")]:
        past_meeting(team, organizer, hours_ago=hours, title=title)
    client.force_login(organizer)
    response = client.get(url("list"))
    titles = [m.title for m in response.context["page"].object_list]
    assert titles == [
        "Tomorrow", "Next week", "January", "This morning", "Two days ago", "Last month",
    ]  # fmt: skip
    body = response.content.decode()
    assert body.index("Upcoming, soonest first") < body.index("Tomorrow")
    assert (
        body.index("January") < body.index("Past, most recent first") < body.index("This morning")
    )


def test_list_order_holds_across_pages(client, organizer, team):
    now = timezone.now()
    for i in range(22):
        MeetingFactory(team=team, organizer=organizer, title=f"Soon{i:02}", now=now,
                       starts_at=now + timedelta(days=i + 1))  # fmt: skip
    for i in range(3):
        past_meeting(team, organizer, hours_ago=24 * (i + 1), title=f"Gone{i}")
    client.force_login(organizer)
    first = [m.title for m in client.get(url("list")).context["page"].object_list]
    second = [m.title for m in client.get(url("list"), {"page": 2}).context["page"].object_list]
    assert first == [f"Soon{i:02}" for i in range(20)]
    assert second == ["Soon20", "Soon21", "Gone0", "Gone1", "Gone2"]
