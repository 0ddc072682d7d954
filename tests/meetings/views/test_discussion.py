"""Settling it in writing on the meeting page (issue 14): comments on agenda items,
items settled and reopened, the meeting shortened or settled in writing. In place
with htmx and as plain POSTs; bad input gets a clear message and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import AgendaComment, AgendaItem, Decision, Meeting
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def autofocused(body: str) -> str:
    """The id of the one element that takes the focus after a swap."""
    (tag,) = re.findall(r"<[^>]*\bautofocus\b[^>]*>", body)
    return re.search(r'\bid="([^"]+)"', tag).group(1)


@pytest.fixture
def agenda(team, organizer, member):
    """Starts in two days, agenda sent: the member's item (20 min), the organizer's (25)."""
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member])
    ready_agenda(meeting, by=organizer, items=2)
    first, second = meeting.agenda_items.all()
    AgendaItem.objects.filter(pk=first.pk).update(timebox_minutes=20, owner=member)
    AgendaItem.objects.filter(pk=second.pk).update(timebox_minutes=25)
    services.send_agenda(meeting=meeting, by=organizer, now=timezone.now())
    meeting.refresh_from_db()
    return meeting


@pytest.fixture
def items(agenda):
    return list(agenda.agenda_items.order_by("position", "pk"))


@pytest.fixture
def bystander(team):
    """In the team, not invited, not an admin."""
    user = UserFactory()
    MembershipFactory(user=user, team=team)
    return user


def settle(item, by, text="Ship on Tuesday"):
    return services.settle_item(item=item, resolution=text, by=by, now=timezone.now())


# -- comments ----------------------------------------------------------------------


def test_attendee_comments_without_javascript_and_the_markdown_is_sanitized(
    client, agenda, items, member
):
    client.force_login(member)
    item = items[0]
    response = client.post(
        url("comment_add", agenda.pk, item.pk),
        {f"comment{item.pk}-body": "**Tuesday** works <script>alert(1)</script>"},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        url("detail", agenda.pk) + f"?discussion={item.pk}#item-{item.pk}-discussion"
    )
    assert messages_of(response) == [f"Comment added to “{item.title}”."]
    comment = AgendaComment.objects.get()
    assert (comment.agenda_item, comment.author) == (item, member)

    page = client.get(response["Location"]).content.decode()
    assert "<strong>Tuesday</strong> works" in page
    assert "<script>alert(1)" not in page
    assert f'id="item-{item.pk}-discussion" open' in page
    assert "1 comment<" in page


def test_comment_with_htmx_swaps_only_that_items_discussion(client, agenda, items, member, htmx):
    client.force_login(member)
    item = items[1]
    response = client.post(
        url("comment_add", agenda.pk, item.pk),
        {f"comment{item.pk}-body": "Fine by me"},
        headers=htmx,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="recap"' not in body
    assert f'id="item-{item.pk}-discussion" open' in body
    assert "Fine by me" in body
    assert f"Done:</span> Comment added to “{item.title}”." in body  # out of band
    # The empty form takes the focus again, ready for the next comment.
    assert autofocused(body) == f"id_comment{item.pk}-body"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write something to comment."),
        ("   ", "Write something to comment."),
        ("x" * 10_001, "Keep a comment under 10,000 characters."),
    ],  # fmt: skip
    ids=["empty", "blank", "too-long"],
)
@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no-js"])
def test_bad_comment_is_refused_with_a_message_and_saves_nothing(
    client, agenda, items, member, text, message, with_htmx
):
    client.force_login(member)
    item = items[0]
    response = client.post(
        url("comment_add", agenda.pk, item.pk),
        {f"comment{item.pk}-body": text},
        headers={"HX-Request": "true"} if with_htmx else {},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AgendaComment.objects.exists()


def test_team_admin_comments_and_a_plain_member_sees_no_discussion(
    client, agenda, items, team_admin, bystander
):
    item = items[0]
    client.force_login(team_admin)
    client.post(url("comment_add", agenda.pk, item.pk), {f"comment{item.pk}-body": "Ok"})
    assert AgendaComment.objects.get().author == team_admin

    client.force_login(bystander)
    page = client.get(url("detail", agenda.pk)).content.decode()
    assert "item-discussion" not in page and "1 comment" not in page and "Ok</p>" not in page
    response = client.post(
        url("comment_add", agenda.pk, item.pk), {f"comment{item.pk}-body": "Me too"}
    )
    assert response.status_code == 403
    assert "attendees and the team&#x27;s admins" in response.content.decode()
    assert AgendaComment.objects.count() == 1


def test_no_comments_once_the_meeting_is_canceled(client, agenda, items, member, organizer):
    services.cancel_meeting(meeting=agenda, by=organizer, now=timezone.now())
    client.force_login(member)
    item = items[0]
    page = client.get(url("detail", agenda.pk)).content.decode()
    assert f"comment{item.pk}-body" not in page  # no form
    response = client.post(
        url("comment_add", agenda.pk, item.pk), {f"comment{item.pk}-body": "Still?"}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["This meeting will not take place; its agenda is closed."]
    assert not AgendaComment.objects.exists()


def test_comment_on_another_meetings_item_is_not_found(client, agenda, team, organizer, member):
    other = MeetingFactory(team=team, organizer=organizer, attendees=[member])
    ready_agenda(other, by=organizer)
    client.force_login(member)
    response = client.post(
        url("comment_add", agenda.pk, other.agenda_items.get().pk), {"body": "x"}
    )
    assert response.status_code == 404


# -- settling an item --------------------------------------------------------------


def test_owner_settles_their_item_without_javascript(client, agenda, items, member):
    client.force_login(member)
    item = items[0]
    response = client.post(
        url("item_settle", agenda.pk, item.pk), {f"settle{item.pk}-resolution": "Ship Tuesday"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("detail", agenda.pk) + f"#item-{item.pk}"
    assert messages_of(response) == [f"Settled “{item.title}” in writing."]
    item.refresh_from_db()
    assert item.is_settled and item.settlement.text == "Ship Tuesday"

    page = client.get(url("detail", agenda.pk)).content.decode()
    assert "Decided in writing:</strong> Ship Tuesday" in page
    assert "25 of 45 min</strong> still to discuss" in page
    assert f'id="item-{item.pk}-reopen"' in page
    # The member may settle only their own item; the organizer's has no form for them.
    assert f"settle{items[1].pk}-resolution" not in page


def test_settling_with_htmx_swaps_the_item_and_the_time_left(
    client, agenda, items, organizer, htmx
):
    client.force_login(organizer)
    item = items[1]
    response = client.post(
        url("item_settle", agenda.pk, item.pk),
        {f"settle{item.pk}-resolution": "Keep the budget"},
        headers=htmx,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="item-{item.pk}-settle"' in body and f'id="item-{item.pk}-meta"' in body
    assert f'id="item-{item.pk}-reopen" autofocus' in body
    assert "20 of 45 min</strong> still to discuss" in body
    # One item left: shortening is offered, settling the whole meeting is not yet.
    assert "Shorten to 20 min" in body
    assert 'id="settle-form"' not in body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the resolution: one line saying what was settled."),
        ("   ", "Write the resolution: one line saying what was settled."),
        ("x" * 501, "Keep the resolution to one line of at most 500 characters."),
    ],  # fmt: skip
    ids=["empty", "blank", "too-long"],
)
@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no-js"])
def test_bad_resolution_is_refused_with_a_message_and_changes_nothing(
    client, agenda, items, member, text, message, with_htmx
):
    client.force_login(member)
    item = items[0]
    response = client.post(
        url("item_settle", agenda.pk, item.pk),
        {f"settle{item.pk}-resolution": text},
        headers={"HX-Request": "true"} if with_htmx else {},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    item.refresh_from_db()
    assert not item.is_settled and not Decision.objects.exists()


def test_someone_elses_item_is_refused(client, agenda, items, member, team_admin):
    item = items[1]  # the organizer's
    for user in (member, team_admin):
        client.force_login(user)
        response = client.post(
            url("item_settle", agenda.pk, item.pk), {f"settle{item.pk}-resolution": "Mine now"}
        )
        assert response.status_code == 403
        assert "owner or the meeting&#x27;s organizer" in response.content.decode()
    assert not Decision.objects.exists()


def test_settling_after_the_start_is_refused(client, ended, organizer):
    item = ended.agenda_items.first()
    client.force_login(organizer)
    response = client.post(
        url("item_settle", ended.pk, item.pk), {f"settle{item.pk}-resolution": "Too late"}
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        "The meeting has started, so its agenda can no longer change."
    ]
    assert not Decision.objects.filter(meeting=ended).exists()
    assert (
        f"settle{item.pk}-resolution" not in client.get(url("detail", ended.pk)).content.decode()
    )


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no-js"])
def test_reopening_reverses_the_settlement(client, agenda, items, member, with_htmx):
    item = items[0]
    settle(item, member)
    client.force_login(member)
    response = client.post(
        url("item_unsettle", agenda.pk, item.pk),
        headers={"HX-Request": "true"} if with_htmx else {},
    )
    assert response.status_code == (200 if with_htmx else 302)
    item.refresh_from_db()
    assert not item.is_settled and not Decision.objects.exists()
    if with_htmx:
        body = response.content.decode()
        assert autofocused(body) == f"id_settle{item.pk}-resolution"
        assert "still to discuss" not in body
    # Reopening what is not settled says so and changes nothing.
    response = client.post(url("item_unsettle", agenda.pk, item.pk))
    assert messages_of(response)[-1] == "This item is not settled."


# -- shortening --------------------------------------------------------------------


def test_shortening_to_the_time_boxes_left_tells_attendees(client, agenda, items, organizer,
                                                           member):  # fmt: skip
    settle(items[0], member)
    client.force_login(organizer)
    page = client.get(url("detail", agenda.pk)).content.decode()
    assert "Shorten to 25 min" in page
    assert "Attendees will get the updated invitation by email." in page
    sequence = agenda.sequence

    response = client.post(url("shorten", agenda.pk))
    assert response.status_code == 302
    agenda.refresh_from_db()
    assert agenda.ends_at == agenda.starts_at + timedelta(minutes=25)
    assert agenda.sequence > sequence
    (message,) = messages_of(response)
    assert message.startswith("Shortened to 25 min: it now ends at ")
    assert message.endswith("Attendees were sent the updated invitation by email.")

    # Nothing more to gain: not offered, and refused with a message when posted.
    assert "Shorten to" not in client.get(url("detail", agenda.pk)).content.decode()
    response = client.post(url("shorten", agenda.pk))
    assert messages_of(response) == ["Nothing to shorten: no settled item frees any time."]


def test_shortening_is_the_organizers_and_admins(client, agenda, items, member):
    settle(items[0], member)
    client.force_login(member)
    assert "Shorten to" not in client.get(url("detail", agenda.pk)).content.decode()
    assert client.post(url("shorten", agenda.pk)).status_code == 403
    agenda.refresh_from_db()
    assert agenda.duration_minutes == 60


# -- settling the meeting ------------------------------------------------------------


def settle_data(**overrides) -> dict:
    data = {
        "summary": "All settled before we met.",
        "notes": "",
        "settle-action-TOTAL_FORMS": "3",
        "settle-action-INITIAL_FORMS": "0",
        "settle-action-MIN_NUM_FORMS": "0",
        "settle-action-MAX_NUM_FORMS": "3",
    }
    data.update(overrides)
    return data


@pytest.fixture
def all_settled(agenda, items, organizer, member):
    settle(items[0], member, "Ship Tuesday")
    settle(items[1], organizer, "Keep the budget")
    return agenda


def test_settle_form_offered_only_when_every_item_is_settled(client, agenda, items, organizer,
                                                             member):  # fmt: skip
    client.force_login(organizer)
    settle(items[0], member)
    assert 'id="settle-form"' not in client.get(url("detail", agenda.pk)).content.decode()
    settle(items[1], organizer)
    page = client.get(url("detail", agenda.pk)).content.decode()
    assert 'id="settle-form"' in page and "Settled in writing: no meeting needed" in page
    client.force_login(member)
    assert 'id="settle-form"' not in client.get(url("detail", agenda.pk)).content.decode()


def test_settling_the_meeting_without_javascript_publishes_the_recap(
    client, all_settled, organizer, member
):
    client.force_login(organizer)
    due = all_settled.local_date.isoformat()
    response = client.post(
        url("settle", all_settled.pk),
        settle_data(
            **{
                "settle-action-0-description": "Tell support",
                "settle-action-0-owner": member.pk,
                "settle-action-0-due_date": due,
            }
        ),  # fmt: skip
    )
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Settled in writing: no meeting needed.")
    meeting = Meeting.objects.get(pk=all_settled.pk)
    assert meeting.settled_at and meeting.recap_published_at == meeting.settled_at
    assert meeting.status_at(timezone.now()) == Meeting.Status.SETTLED
    assert [(a.description, a.owner) for a in meeting.action_items.all()] == [
        ("Tell support", member)
    ]

    page = client.get(url("detail", meeting.pk)).content.decode()
    assert 'status-settled" id="meeting-status">Settled in writing<' in page
    assert "All settled before we met." in page and "Tell support" in page
    # The agenda and everything on it is closed.
    for closed in ("Add an item", "Settle in writing<", "Reopen for the meeting", "Add comment",
                   "Edit meeting", 'id="settle-form"', "Cancel meeting"):  # fmt: skip
        assert closed not in page, closed


def test_settling_the_meeting_with_htmx_swaps_the_whole_meeting(
    client, all_settled, organizer, htmx
):
    client.force_login(organizer)
    response = client.post(
        url("settle", all_settled.pk), settle_data(no_action_items="on"), headers=htmx
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="messages"')
    assert 'id="meeting"' in body and "Settled in writing<" in body
    assert Meeting.objects.get(pk=all_settled.pk).settled_at is not None


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no-js"])
def test_settling_the_meeting_is_refused_as_a_whole(client, all_settled, organizer, with_htmx):
    client.force_login(organizer)
    headers = {"HX-Request": "true"} if with_htmx else {}
    # No summary: the form says so.
    response = client.post(url("settle", all_settled.pk), settle_data(summary=""),
                           headers=headers)  # fmt: skip
    assert response.status_code == 200
    assert "Write a summary: the bottom line of what was settled." in response.content.decode()
    # A summary but neither action items nor the flag: the rule says so, and what was
    # typed is still there.
    response = client.post(url("settle", all_settled.pk), settle_data(notes="Some notes"),
                           headers=headers)  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "Add at least one action item" in body
    assert "Some notes" in body
    if with_htmx:
        assert response["HX-Retarget"] == "#meeting-settle"
    # A half-filled action row names what is missing.
    response = client.post(
        url("settle", all_settled.pk),
        settle_data(**{"settle-action-1-description": "Someone do it"}),
        headers=headers,
    )
    assert "Choose who owns this action item." in response.content.decode()
    meeting = Meeting.objects.get(pk=all_settled.pk)
    assert (meeting.settled_at, meeting.recap_summary, meeting.recap_published_at) == (
        None, "", None,
    )  # fmt: skip
    assert not meeting.action_items.exists()


def test_settling_with_an_item_reopened_meanwhile_lists_what_is_open(
    client, all_settled, items, organizer
):
    services.unsettle_item(item=items[1], by=organizer, now=timezone.now())  # another tab
    client.force_login(organizer)
    response = client.post(url("settle", all_settled.pk), settle_data(no_action_items="on"))
    assert response.status_code == 200
    assert f"1 agenda item is not settled yet: {items[1].title}." in response.content.decode()
    assert Meeting.objects.get(pk=all_settled.pk).settled_at is None


def test_settled_status_in_the_meeting_list_and_its_filter(client, all_settled, organizer):
    services.settle_meeting_in_writing(meeting=all_settled, by=organizer, summary="Done",
                                       no_action_items=True, now=timezone.now())  # fmt: skip
    client.force_login(organizer)
    page = client.get(url("list")).content.decode()
    assert '<span class="status status-settled">Settled in writing</span>' in page
    assert '<option value="settled">Settled in writing</option>' in page
    filtered = client.get(url("list"), {"status": "settled"}).content.decode()
    assert all_settled.title in filtered
    assert (
        all_settled.title
        not in client.get(url("list"), {"status": "agenda_sent"}).content.decode()
    )


# -- the meeting page's queries ----------------------------------------------------------


def discussed_meeting(team, organizer, size: int) -> Meeting:
    """A meeting with `size` attendees, each owning an item with `size` comments; the
    first item settled."""
    people = UserFactory.create_batch(size)
    for person in people:
        MembershipFactory(user=person, team=team)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=people)
    now = timezone.now()
    for n, person in enumerate(people):
        item = services.add_agenda_item(meeting=meeting, title=f"Item {n}", added_by=organizer,
                                        owner=person, timebox_minutes=10)  # fmt: skip
        for k in range(size):
            services.add_comment(item=item, author=people[k], body=f"Comment {n}.{k} @x",
                                 now=now)  # fmt: skip
    settle(meeting.agenda_items.first(), people[0])
    return meeting


@pytest.mark.parametrize("viewer", ["organizer", "attendee"])
def test_meeting_page_query_count_does_not_grow_with_comments(client, team, organizer, viewer):
    # Two items at least, so that both pages are in the same state: one item settled,
    # shortening offered, settling the whole meeting not yet.
    small = discussed_meeting(team, organizer, 2)
    large = discussed_meeting(team, organizer, 8)
    counts = []
    for meeting in (small, large):
        user = (
            organizer
            if viewer == "organizer"
            else meeting.attendees.exclude(user=organizer).first().user
        )
        client.force_login(user)
        client.get(url("detail", meeting.pk))  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("detail", meeting.pk))
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    assert "Comment 7.7" in response.content.decode()
    assert "8 comments" in response.content.decode()
