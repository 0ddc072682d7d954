"""The agenda editor on the meeting page: in place with htmx, and as plain POSTs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from meetings.models import AgendaItem, Meeting
from tests.factories import MeetingFactory, ready_agenda


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_desired_outcome_saved_by_plain_post_redirects_to_agenda(as_organizer, upcoming):
    response = as_organizer.post(
        url("agenda_outcome", upcoming.pk), {"desired_outcome": "Pick a launch date."}
    )
    assert response.status_code == 302
    assert response["Location"] == url("detail", upcoming.pk) + "#agenda"
    upcoming.refresh_from_db()
    assert upcoming.desired_outcome == "Pick a launch date."


def test_desired_outcome_with_htmx_returns_only_the_agenda_fragment(as_organizer, upcoming, htmx):
    response = as_organizer.post(
        url("agenda_outcome", upcoming.pk), {"desired_outcome": "Pick a date."}, headers=htmx
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="messages"')
    assert 'id="agenda"' in body
    assert "<html" not in body and 'id="recap"' not in body
    assert "Desired outcome saved." in body


def test_organizer_adds_item_with_owner_and_timebox(as_organizer, upcoming, member, htmx):
    response = as_organizer.post(
        url("agenda_item_add", upcoming.pk),
        {
            "new-title": "Budget",
            "new-owner": member.pk,
            "new-timebox_minutes": "15",
            "new-notes": "",
        },
        headers=htmx,
    )
    item = upcoming.agenda_items.get()
    assert (item.title, item.owner, item.timebox_minutes) == ("Budget", member, 15)
    assert "Budget" in response.content.decode()
    assert "15 min</strong> of 60 min" in response.content.decode()


def test_invalid_item_shows_field_messages_and_writes_nothing(as_organizer, upcoming, htmx):
    response = as_organizer.post(
        url("agenda_item_add", upcoming.pk),
        {"new-title": "", "new-timebox_minutes": "9999"},
        headers=htmx,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in body
    assert "less than or equal to 480" in body
    assert not upcoming.agenda_items.exists()


def test_item_owner_from_another_team_is_refused(as_organizer, upcoming, outsider):
    response = as_organizer.post(
        url("agenda_item_add", upcoming.pk), {"new-title": "X", "new-owner": outsider.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not upcoming.agenda_items.exists()


def test_total_time_warns_when_timeboxes_exceed_meeting_length(as_organizer, upcoming):
    for minutes in (40, 30):
        as_organizer.post(
            url("agenda_item_add", upcoming.pk),
            {"new-title": f"T{minutes}", "new-timebox_minutes": minutes},
        )
    body = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert "70 min</strong> of 60 min" in body
    assert "10 min over the meeting length" in body


def test_item_edited_in_place(as_organizer, upcoming, organizer, htmx):
    ready_agenda(upcoming, by=organizer, items=1)
    item = upcoming.agenda_items.get()
    form = as_organizer.get(url("agenda_item_edit", upcoming.pk, item.pk), headers=htmx)
    assert f'name="item{item.pk}-title"' in form.content.decode()
    assert "autofocus" in form.content.decode()
    response = as_organizer.post(
        url("agenda_item_edit", upcoming.pk, item.pk),
        {f"item{item.pk}-title": "Renamed", f"item{item.pk}-timebox_minutes": "5"},
        headers=htmx,
    )
    item.refresh_from_db()
    assert (item.title, item.timebox_minutes) == ("Renamed", 5)
    assert "Item saved." in response.content.decode()


def test_item_edit_without_js_is_a_full_page_then_redirect(as_organizer, upcoming, organizer):
    ready_agenda(upcoming, by=organizer, items=1)
    item = upcoming.agenda_items.get()
    page = as_organizer.get(url("agenda_item_edit", upcoming.pk, item.pk))
    assert "<html" in page.content.decode()
    response = as_organizer.post(
        url("agenda_item_edit", upcoming.pk, item.pk), {f"item{item.pk}-title": "Renamed"}
    )
    assert response["Location"].endswith(f"#item-{item.pk}")


def test_items_move_up_and_down(as_organizer, upcoming, organizer, htmx):
    ready_agenda(upcoming, by=organizer, items=3)
    first, second, third = upcoming.agenda_items.all()
    as_organizer.post(url("agenda_item_move", upcoming.pk, third.pk), {"direction": "up"})
    assert list(upcoming.agenda_items.values_list("title", flat=True)) == [
        "Item 1",
        "Item 3",
        "Item 2",
    ]
    response = as_organizer.post(
        url("agenda_item_move", upcoming.pk, first.pk), {"direction": "down"}, headers=htmx
    )
    assert list(upcoming.agenda_items.values_list("title", flat=True)) == [
        "Item 3",
        "Item 1",
        "Item 2",
    ]
    # The moved button keeps its id, so htmx gives the keyboard focus back to it.
    assert f'id="item-{first.pk}-down"' in response.content.decode()


def test_moving_the_first_item_up_changes_nothing(as_organizer, upcoming, organizer):
    ready_agenda(upcoming, by=organizer, items=2)
    first = upcoming.agenda_items.first()
    as_organizer.post(url("agenda_item_move", upcoming.pk, first.pk), {"direction": "up"})
    assert upcoming.agenda_items.first() == first


def test_unknown_direction_is_a_message_not_an_error(as_organizer, upcoming, organizer):
    ready_agenda(upcoming, by=organizer, items=1)
    item = upcoming.agenda_items.get()
    response = as_organizer.post(
        url("agenda_item_move", upcoming.pk, item.pk), {"direction": "sideways"}
    )
    assert response.status_code == 302
    assert "Move an item up or down." in messages_of(response)


def test_item_removed(as_organizer, upcoming, organizer, htmx):
    ready_agenda(upcoming, by=organizer, items=2)
    item = upcoming.agenda_items.first()
    response = as_organizer.post(url("agenda_item_remove", upcoming.pk, item.pk), headers=htmx)
    assert not AgendaItem.objects.filter(pk=item.pk).exists()
    assert "Removed" in response.content.decode()


def test_item_of_another_meeting_answers_404(as_organizer, upcoming, organizer, team):
    other = MeetingFactory(team=team, organizer=organizer, now=timezone.now())
    ready_agenda(other, by=organizer, items=1)
    item = other.agenda_items.get()
    response = as_organizer.post(url("agenda_item_remove", upcoming.pk, item.pk))
    assert response.status_code == 404
    assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_send_shows_every_missing_piece_and_sends_nothing(as_organizer, upcoming):
    response = as_organizer.post(url("agenda_send", upcoming.pk), follow=True)
    body = response.content.decode()
    assert "State the desired outcome" in body
    assert "Add at least one agenda item." in body
    upcoming.refresh_from_db()
    assert upcoming.agenda_sent_at is None


def test_send_with_htmx_renders_the_problems_in_the_fragment(as_organizer, upcoming, htmx):
    response = as_organizer.post(url("agenda_send", upcoming.pk), headers=htmx)
    body = response.content.decode()
    assert body.count('class="message message-error"') == 2
    assert 'id="meeting"' in body and "<html" not in body


def test_send_then_amend_keeps_the_first_send_time(as_organizer, upcoming, organizer):
    ready_agenda(upcoming, by=organizer, items=1)
    as_organizer.post(url("agenda_send", upcoming.pk))
    upcoming.refresh_from_db()
    sent_at = upcoming.agenda_sent_at
    assert sent_at is not None
    page = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert "Send changes to attendees" in page
    as_organizer.post(url("agenda_item_add", upcoming.pk), {"new-title": "Late addition"})
    response = as_organizer.post(url("agenda_amend", upcoming.pk))
    assert "Changes sent to every attendee." in messages_of(response)
    upcoming.refresh_from_db()
    assert upcoming.agenda_sent_at == sent_at
    assert upcoming.agenda_amended_at is not None


def test_sent_agenda_cannot_lose_its_outcome(as_organizer, upcoming, organizer):
    ready_agenda(upcoming, by=organizer)
    upcoming.send_agenda(by=organizer, now=timezone.now())
    response = as_organizer.post(url("agenda_outcome", upcoming.pk), {"desired_outcome": " "})
    assert "A sent agenda must state the desired outcome." in messages_of(response)
    upcoming.refresh_from_db()
    assert upcoming.desired_outcome == "Decide the thing."


def test_attendee_adds_a_talking_point_before_the_start(client, upcoming, member, htmx):
    client.force_login(member)
    page = client.get(url("detail", upcoming.pk)).content.decode()
    assert "Add a talking point" in page
    assert "Send agenda" not in page
    response = client.post(
        url("agenda_item_add", upcoming.pk),
        {"new-title": "Hiring", "new-notes": "Two open roles", "new-owner": "1"},
        headers=htmx,
    )
    item = upcoming.agenda_items.get()
    assert (item.title, item.added_by, item.owner) == ("Hiring", member, None)
    assert "Talking point from" in response.content.decode()


def test_attendee_cannot_add_talking_points_after_the_start(client, ended, member):
    client.force_login(member)
    response = client.post(url("agenda_item_add", ended.pk), {"new-title": "Too late"})
    assert "The meeting has started, so its agenda can no longer change." in messages_of(response)
    assert not ended.agenda_items.filter(title="Too late").exists()


def test_agenda_is_read_only_after_the_start(client, ended, organizer):
    client.force_login(organizer)
    item = ended.agenda_items.first()
    page = client.get(url("detail", ended.pk)).content.decode()
    assert "Send agenda" not in page and "Add an item" not in page
    response = client.post(url("agenda_item_remove", ended.pk, item.pk))
    assert "The meeting has started" in messages_of(response)[0]
    assert AgendaItem.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("agenda_outcome", {}),
        ("agenda_send", {}),
        ("agenda_amend", {}),
    ],
)
def test_member_who_is_not_organizer_gets_403(client, upcoming, team_admin, name, extra):
    from tests.factories import MembershipFactory, UserFactory

    reader = UserFactory()
    MembershipFactory(user=reader, team=upcoming.team)
    client.force_login(reader)
    assert client.post(url(name, upcoming.pk), extra).status_code == 403


def test_member_who_is_not_an_attendee_cannot_add_talking_points(client, upcoming):
    from tests.factories import MembershipFactory, UserFactory

    reader = UserFactory()
    MembershipFactory(user=reader, team=upcoming.team)
    client.force_login(reader)
    response = client.post(url("agenda_item_add", upcoming.pk), {"new-title": "Sneaky"})
    assert response.status_code == 403
    assert not upcoming.agenda_items.exists()


def test_attendee_cannot_edit_move_or_remove_items(client, upcoming, organizer, member):
    ready_agenda(upcoming, by=organizer, items=2)
    item = upcoming.agenda_items.first()
    client.force_login(member)
    assert (
        client.post(
            url("agenda_item_move", upcoming.pk, item.pk), {"direction": "down"}
        ).status_code
        == 403
    )
    assert client.post(url("agenda_item_remove", upcoming.pk, item.pk)).status_code == 403
    assert client.get(url("agenda_item_edit", upcoming.pk, item.pk)).status_code == 403


def test_team_admin_edits_someone_elses_agenda(client, upcoming, team_admin):
    client.force_login(team_admin)
    response = client.post(url("agenda_item_add", upcoming.pk), {"new-title": "Admin item"})
    assert response.status_code == 302
    assert upcoming.agenda_items.filter(title="Admin item").exists()


def test_outsider_gets_404_everywhere_and_nothing_changes(client, upcoming, outsider, organizer):
    ready_agenda(upcoming, by=organizer, items=1)
    item = upcoming.agenda_items.get()
    client.force_login(outsider)
    for response in (
        client.get(url("detail", upcoming.pk)),
        client.post(url("agenda_outcome", upcoming.pk), {"desired_outcome": "x"}),
        client.post(url("agenda_item_add", upcoming.pk), {"new-title": "x"}),
        client.post(url("agenda_item_move", upcoming.pk, item.pk), {"direction": "down"}),
        client.post(url("agenda_item_remove", upcoming.pk, item.pk)),
        client.post(url("agenda_send", upcoming.pk)),
    ):
        assert response.status_code == 404
    upcoming.refresh_from_db()
    assert upcoming.desired_outcome == "Decide the thing."
    assert upcoming.agenda_items.count() == 1
    assert Meeting.objects.get(pk=upcoming.pk).agenda_sent_at is None


def test_canceled_meeting_agenda_cannot_change(as_organizer, upcoming, organizer):
    upcoming.cancel(by=organizer, now=timezone.now())
    response = as_organizer.post(url("agenda_item_add", upcoming.pk), {"new-title": "x"})
    assert "This meeting is canceled." in messages_of(response)
    assert not upcoming.agenda_items.exists()


def test_agenda_send_refused_after_start_counts_as_held_without_agenda(client, team, organizer):
    client.force_login(organizer)
    start = timezone.now() - timedelta(minutes=5)
    meeting = MeetingFactory(team=team, organizer=organizer, starts_at=start, now=start)
    response = client.post(url("agenda_send", meeting.pk), follow=True)
    assert "held without agenda" in response.content.decode()


def test_attendee_removes_own_talking_point_but_not_others(client, upcoming, organizer, member):
    ready_agenda(upcoming, by=organizer, items=1)
    client.force_login(member)
    client.post(url("agenda_item_add", upcoming.pk), {"new-title": "Mine"})
    mine = upcoming.agenda_items.get(title="Mine")
    theirs = upcoming.agenda_items.get(title="Item 1")
    page = client.get(url("detail", upcoming.pk)).content.decode()
    assert f'id="item-{mine.pk}-remove"' in page
    assert f'id="item-{theirs.pk}-remove"' not in page
    assert client.post(url("agenda_item_remove", upcoming.pk, theirs.pk)).status_code == 403
    client.post(url("agenda_item_remove", upcoming.pk, mine.pk))
    assert list(upcoming.agenda_items.values_list("title", flat=True)) == ["Item 1"]


def test_page_says_what_the_agenda_still_needs(as_organizer, upcoming, organizer):
    body = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert "needs a desired outcome and at least one item." in body
    ready_agenda(upcoming, by=organizer, items=1)
    assert (
        'id="agenda-missing"' not in as_organizer.get(url("detail", upcoming.pk)).content.decode()
    )


def _add_item_form(html: str) -> str:
    start = html.index("<form", html.index("add-item") - 200)
    return html[start : html.index("</form>", start)]


@pytest.mark.parametrize("with_htmx", [False, True])
def test_add_item_form_refuses_a_second_submit_and_typing_while_saving(
    as_organizer, upcoming, htmx, with_htmx
):
    # The answer replaces the form: text typed while an add is saving would be
    # lost. htmx drops a second submit and disables the fields until it answers.
    if with_htmx:
        html = as_organizer.post(
            url("agenda_item_add", upcoming.pk), {"new-title": "First"}, headers=htmx
        ).content.decode()
    else:
        html = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    form = _add_item_form(html)
    assert 'class="stack add-item"' in form
    assert 'hx-sync="this:drop"' in form
    assert 'hx-disabled-elt="find fieldset"' in form
    fieldset = form[form.index("<fieldset") : form.index("</fieldset>")]
    for name in ('name="new-title"', 'name="new-notes"', 'id="add-item"'):
        assert name in fieldset
    assert "Saving…" in fieldset


# -- issue 11, item 4: an amendment that changes nothing sends nothing -----------------

NOTHING = "Nothing changed since the agenda was sent; no one was emailed."


def amend_button(page: str) -> str:
    start = page.index('id="amend-agenda"')
    return page[page.rindex("<button", 0, start) : page.index(">", start) + 1]


def sent(meeting, organizer, items: int = 1):
    from meetings import services

    ready_agenda(meeting, by=organizer, items=items)
    services.send_agenda(meeting=meeting, by=organizer, now=timezone.now())
    meeting.refresh_from_db()
    return meeting


def test_amend_with_nothing_changed_emails_no_one_and_says_so(
    as_organizer, upcoming, organizer, htmx
):
    from accounts.audit import AuditEvent
    from meetings.models import Notification

    sent(upcoming, organizer)
    queued = Notification.objects.count()
    response = as_organizer.post(url("agenda_amend", upcoming.pk), follow=True)
    assert messages_of(response) == [NOTHING]
    assert f"Info:</span> {NOTHING}" in response.content.decode()  # not a "Problem:"
    response = as_organizer.post(url("agenda_amend", upcoming.pk), headers=htmx)
    assert f"Info:</span> {NOTHING}" in response.content.decode()
    assert Notification.objects.count() == queued
    upcoming.refresh_from_db()
    assert (upcoming.sequence, upcoming.agenda_amended_at) == (1, None)
    assert not AuditEvent.objects.filter(action="agenda.amended").exists()


def test_a_change_undone_before_sending_is_nothing_changed(as_organizer, upcoming, organizer):
    from meetings import services
    from meetings.models import Notification

    sent(upcoming, organizer)
    item = upcoming.agenda_items.get()
    queued = Notification.objects.count()
    for title in ("Renamed", item.title):
        services.edit_agenda_item(item=item, title=title, owner=None, timebox_minutes=None,
                                  notes="", by=organizer, now=timezone.now())  # fmt: skip
    response = as_organizer.post(url("agenda_amend", upcoming.pk))
    assert messages_of(response) == [NOTHING]
    assert Notification.objects.count() == queued


@pytest.mark.parametrize(
    "change",
    ["title", "owner", "timebox", "notes", "outcome", "order", "added", "removed"],
)
def test_any_change_attendees_see_is_sent(as_organizer, upcoming, organizer, member, change):
    from meetings import services
    from meetings.models import Notification

    sent(upcoming, organizer, items=2)
    first, second = upcoming.agenda_items.order_by("position")
    now = timezone.now()
    edit = {"item": first, "title": first.title, "owner": None, "timebox_minutes": None,
            "notes": "", "by": organizer, "now": now}  # fmt: skip
    if change == "outcome":
        services.set_desired_outcome(meeting=upcoming, text="Another bottom line", now=now)
    elif change == "order":
        services.move_agenda_item(item=second, offset=-1, now=now)
    elif change == "added":
        services.add_agenda_item(meeting=upcoming, title="New", added_by=organizer)
    elif change == "removed":
        services.remove_agenda_item(item=second, now=now)
    else:
        edit.update({"title": "Renamed" if change == "title" else first.title,
                     "owner": member if change == "owner" else None,
                     "timebox_minutes": 15 if change == "timebox" else None,
                     "notes": "More" if change == "notes" else ""})  # fmt: skip
        services.edit_agenda_item(**edit)
    response = as_organizer.post(url("agenda_amend", upcoming.pk))
    assert messages_of(response) == ["Changes sent to every attendee."]
    assert Notification.objects.filter(stage="2").count() == 2


def test_a_newcomer_who_got_the_latest_does_not_hide_changes_from_the_others(
    as_organizer, upcoming, organizer, member, team
):
    from meetings import services
    from meetings.models import Notification
    from tests.factories import MembershipFactory, UserFactory

    sent(upcoming, organizer)
    services.add_agenda_item(meeting=upcoming, title="Late addition", added_by=organizer)
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, team=team)
    services.update_meeting(
        meeting=upcoming, by=organizer, title=upcoming.title, starts_at=upcoming.starts_at,
        ends_at=upcoming.ends_at, location=upcoming.location, attendees=[member, newcomer],
        now=timezone.now(),
    )  # fmt: skip
    assert Notification.objects.filter(recipient=newcomer).count() == 1
    page = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert "secondary" not in amend_button(page)  # the others lack the new item
    response = as_organizer.post(url("agenda_amend", upcoming.pk))
    assert messages_of(response) == ["Changes sent to every attendee."]
    assert set(Notification.objects.filter(stage="2").values_list("recipient", flat=True)) == {
        organizer.pk,
        member.pk,
        newcomer.pk,
    }


def test_send_changes_is_the_primary_button_only_while_attendees_lack_the_agenda(
    as_organizer, upcoming, organizer
):
    sent(upcoming, organizer)
    page = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert 'class="secondary"' in amend_button(page)
    assert "Attendees have this agenda as it stands." in page
    as_organizer.post(url("agenda_item_add", upcoming.pk), {"new-title": "Late addition"})
    page = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert "secondary" not in amend_button(page)
    assert "attendees do not have these changes yet" in page
    as_organizer.post(url("agenda_amend", upcoming.pk))
    page = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert 'class="secondary"' in amend_button(page)


def test_sent_agenda_page_query_count_does_not_grow(client, team, organizer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import MembershipFactory, UserFactory

    counts = []
    client.force_login(organizer)
    for size in (1, 12):
        people = UserFactory.create_batch(size)
        for person in people:
            MembershipFactory(user=person, team=team)
        meeting = MeetingFactory(team=team, organizer=organizer, attendees=people)
        sent(meeting, organizer, items=size)
        client.get(url("detail", meeting.pk))  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("detail", meeting.pk))
        assert 'id="amend-agenda"' in response.content.decode()
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def autofocused(body: str) -> list[str]:
    """The ids of the elements marked autofocus (htmx focuses them after a swap)."""
    tags = re.findall(r"<[^>]*\sautofocus[\s>/][^>]*>|<[^>]*\sautofocus>", body)
    return [re.search(r'\sid="([^"]+)"', tag).group(1) for tag in tags]


def test_added_item_fragment_focuses_the_emptied_title(as_organizer, upcoming, htmx):
    response = as_organizer.post(
        url("agenda_item_add", upcoming.pk), {"new-title": "Budget"}, headers=htmx
    )
    assert upcoming.agenda_items.get().title == "Budget"
    assert autofocused(response.content.decode()) == ["id_new-title"]


def test_refused_item_fragment_focuses_the_field_to_fix(as_organizer, upcoming, htmx):
    response = as_organizer.post(
        url("agenda_item_add", upcoming.pk),
        {"new-title": "Budget", "new-timebox_minutes": "-5"},
        headers=htmx,
    )
    assert not upcoming.agenda_items.exists()
    assert autofocused(response.content.decode()) == ["id_new-timebox_minutes"]


def test_saved_item_fragment_focuses_its_edit_button(as_organizer, upcoming, organizer, htmx):
    ready_agenda(upcoming, by=organizer, items=2)
    item = upcoming.agenda_items.first()
    response = as_organizer.post(
        url("agenda_item_edit", upcoming.pk, item.pk),
        {f"item{item.pk}-title": "Renamed"},
        headers=htmx,
    )
    assert autofocused(response.content.decode()) == [f"item-{item.pk}-edit"]


def test_remove_fragment_focuses_the_item_list(as_organizer, upcoming, organizer, htmx):
    ready_agenda(upcoming, by=organizer, items=2)
    item = upcoming.agenda_items.first()
    response = as_organizer.post(url("agenda_item_remove", upcoming.pk, item.pk), headers=htmx)
    assert autofocused(response.content.decode()) == ["agenda-item-list"]


def test_remove_asks_on_a_page_first_without_javascript(
    as_organizer, upcoming, organizer, django_assert_max_num_queries
):
    ready_agenda(upcoming, by=organizer, items=1)
    item = upcoming.agenda_items.get()
    remove = url("agenda_item_remove", upcoming.pk, item.pk)
    with django_assert_max_num_queries(8):
        page = as_organizer.get(remove)
    body = page.content.decode()
    assert page.status_code == 200
    assert f"Remove “{item.title}” from the agenda?" in body
    assert f'<form method="post" action="{remove}"' in body
    assert f'href="{url("detail", upcoming.pk)}#item-{item.pk}"' in body  # Keep it
    assert AgendaItem.objects.filter(pk=item.pk).exists()
    # The detail page's Remove button GETs that page without JavaScript, and posts with htmx.
    detail = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert f'<form method="get" action="{remove}"' in detail
    assert f'hx-post="{remove}"' in detail
    assert "hx-confirm=" in detail
    response = as_organizer.post(remove)
    assert response.status_code == 302
    assert not AgendaItem.objects.filter(pk=item.pk).exists()


def test_remove_page_is_refused_like_the_removal(client, upcoming, organizer, member):
    ready_agenda(upcoming, by=organizer, items=1)
    item = upcoming.agenda_items.get()
    client.force_login(member)
    assert client.get(url("agenda_item_remove", upcoming.pk, item.pk)).status_code == 403
    assert AgendaItem.objects.filter(pk=item.pk).exists()
