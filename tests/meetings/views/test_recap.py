"""The recap editor, publishing and acknowledgement on the meeting page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import ActionItem, Decision
from tests.factories import MeetingFactory, MembershipFactory, UserFactory


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def action_data(owner, due, description="Write the plan") -> dict:
    return {
        "action-description": description,
        "action-owner": owner.pk,
        "action-due_date": due.isoformat(),
    }


def test_recap_editor_shows_only_from_the_start(as_organizer, upcoming, ended):
    assert "Save draft" not in as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert (
        "The recap opens when the meeting starts"
        in as_organizer.get(url("detail", upcoming.pk)).content.decode()
    )
    assert "Save draft" in as_organizer.get(url("detail", ended.pk)).content.decode()


def test_recap_draft_saves_summary_notes_and_outcomes(as_organizer, ended, htmx):
    first, second = ended.agenda_items.all()
    response = as_organizer.post(
        url("recap_save", ended.pk),
        {
            "recap_summary": "We ship Friday.",
            "recap_notes": "Long notes",
            f"outcome_{first.pk}": "decided",
            f"outcome_{second.pk}": "deferred",
        },
        headers=htmx,
    )
    assert response.status_code == 200
    assert 'id="recap"' in response.content.decode()
    ended.refresh_from_db()
    assert (ended.recap_summary, ended.recap_notes) == ("We ship Friday.", "Long notes")
    assert list(ended.agenda_items.values_list("outcome", flat=True)) == ["decided", "deferred"]
    assert ended.recap_published_at is None


def test_unknown_outcome_is_a_field_message(as_organizer, ended):
    item = ended.agenda_items.first()
    response = as_organizer.post(
        url("recap_save", ended.pk), {"recap_summary": "S", f"outcome_{item.pk}": "exploded"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    ended.refresh_from_db()
    assert ended.recap_summary == ""


def test_settled_typed_into_the_recap_is_a_message_not_a_server_error(as_organizer, ended):
    # The form offers every outcome; "settled" is recorded by settling in writing.
    item = ended.agenda_items.first()
    response = as_organizer.post(
        url("recap_save", ended.pk), {"recap_summary": "S", f"outcome_{item.pk}": "settled"}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Outcome must be discussed, decided or deferred."]
    item.refresh_from_db()
    assert item.outcome == ""


def test_decision_added_and_removed(as_organizer, ended, htmx):
    as_organizer.post(url("decision_add", ended.pk), {"decision-text": "Use PostgreSQL"})
    decision = Decision.objects.get(meeting=ended)
    assert decision.text == "Use PostgreSQL"
    response = as_organizer.post(url("decision_remove", ended.pk, decision.pk), headers=htmx)
    assert "Decision removed." in response.content.decode()
    assert not Decision.objects.filter(meeting=ended).exists()


def test_blank_decision_is_refused_with_a_message(as_organizer, ended):
    response = as_organizer.post(url("decision_add", ended.pk), {"decision-text": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Decision.objects.exists()


def test_action_item_needs_owner_from_team_and_due_date_not_before_meeting(
    as_organizer, ended, member, outsider
):
    before = ended.local_date - timedelta(days=1)
    response = as_organizer.post(url("action_item_add", ended.pk), action_data(member, before))
    assert "cannot be before the meeting" in response.content.decode()
    response = as_organizer.post(
        url("action_item_add", ended.pk), action_data(outsider, ended.local_date)
    )
    assert "Select a valid choice" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_action_item_added_unticks_no_action_items(as_organizer, ended, member, htmx):
    as_organizer.post(url("recap_save", ended.pk), {"recap_summary": "S", "no_action_items": "on"})
    response = as_organizer.post(
        url("action_item_add", ended.pk), action_data(member, ended.local_date), headers=htmx
    )
    assert f"Action item assigned to {member.name}." in response.content.decode()
    ended.refresh_from_db()
    assert not ended.no_action_items
    assert ActionItem.objects.get().owner == member


def test_publish_lists_one_message_per_broken_rule(as_organizer, ended):
    response = as_organizer.post(url("recap_publish", ended.pk), follow=True)
    body = response.content.decode()
    assert "Write a summary" in body
    assert "Add at least one action item, or say that no action items came out of it." in body
    ended.refresh_from_db()
    assert ended.recap_published_at is None


def test_publish_with_htmx_shows_problems_in_fragment(as_organizer, ended, htmx):
    response = as_organizer.post(url("recap_publish", ended.pk), headers=htmx)
    body = response.content.decode()
    assert body.count('class="message message-error"') == 2
    assert "<html" not in body


def test_publish_saves_the_form_it_was_clicked_in(as_organizer, ended, organizer, member):
    as_organizer.post(url("action_item_add", ended.pk), action_data(member, ended.local_date))
    as_organizer.post(
        url("action_item_add", ended.pk),
        action_data(organizer, ended.local_date + timedelta(days=3), "Book the room"),
    )
    response = as_organizer.post(
        url("recap_publish", ended.pk), {"recap_summary": "Shipped.", "recap_notes": ""}
    )
    assert "Recap published to every attendee." in messages_of(response)
    ended.refresh_from_db()
    assert ended.recap_summary == "Shipped."
    assert ended.recap_published_at is not None
    page = as_organizer.get(url("detail", ended.pk)).content.decode()
    assert "Save draft" not in page
    assert "Book the room" in page


def test_publish_with_no_action_items_flag(as_organizer, ended):
    as_organizer.post(
        url("recap_publish", ended.pk),
        {"recap_summary": "Nothing to do.", "no_action_items": "on"},
    )
    ended.refresh_from_db()
    assert ended.recap_published_at is not None
    assert (
        "No action items came out of this meeting."
        in as_organizer.get(url("detail", ended.pk)).content.decode()
    )


def test_published_recap_can_no_longer_change(as_organizer, ended, organizer):
    ended.recap_summary, ended.no_action_items = "Done", True
    ended.save()
    ended.publish_recap(by=organizer, now=timezone.now())
    response = as_organizer.post(url("recap_save", ended.pk), {"recap_summary": "Rewritten"})
    assert "already published" in messages_of(response)[0]
    ended.refresh_from_db()
    assert ended.recap_summary == "Done"


def test_recap_cannot_be_published_before_the_end(as_organizer, team, organizer):
    now = timezone.now()
    meeting = MeetingFactory(
        team=team, organizer=organizer, starts_at=now - timedelta(minutes=10), now=now
    )
    response = as_organizer.post(
        url("recap_publish", meeting.pk), {"recap_summary": "Early", "no_action_items": "on"}
    )
    assert any("after the meeting ends" in m for m in messages_of(response))
    meeting.refresh_from_db()
    assert meeting.recap_published_at is None


def published(meeting, organizer):
    meeting.recap_summary, meeting.no_action_items = "Done", True
    meeting.save()
    meeting.publish_recap(by=organizer, now=timezone.now())
    return meeting


def test_attendee_acknowledges_with_htmx_and_plain_post(client, ended, organizer, member, htmx):
    published(ended, organizer)
    client.force_login(member)
    page = client.get(url("detail", ended.pk)).content.decode()
    assert "I have read this recap" in page
    response = client.post(url("acknowledge", ended.pk), headers=htmx)
    assert "You acknowledged this recap" in response.content.decode()
    acknowledged_at = ended.attendees.get(user=member).acknowledged_at
    assert acknowledged_at is not None
    # A second click (plain POST) keeps the first time.
    client.post(url("acknowledge", ended.pk))
    assert ended.attendees.get(user=member).acknowledged_at == acknowledged_at


def test_acknowledge_before_publication_is_a_message(client, ended, member):
    client.force_login(member)
    response = client.post(url("acknowledge", ended.pk))
    assert "There is no published recap to acknowledge yet." in messages_of(response)
    assert ended.attendees.get(user=member).acknowledged_at is None


def test_non_attendee_member_cannot_acknowledge(client, ended, organizer):
    published(ended, organizer)
    reader = UserFactory()
    MembershipFactory(user=reader, team=ended.team)
    client.force_login(reader)
    assert client.post(url("acknowledge", ended.pk)).status_code == 403
    page = client.get(url("detail", ended.pk))
    assert page.status_code == 200
    assert "I have read this recap" not in page.content.decode()


def test_organizer_sees_who_acknowledged(client, ended, organizer, member):
    published(ended, organizer)
    ended.attendees.get(user=member).acknowledge(now=timezone.now())
    client.force_login(organizer)
    assert "Read the recap" in client.get(url("detail", ended.pk)).content.decode()


@pytest.mark.parametrize(
    "name", ["recap_save", "decision_add", "action_item_add", "recap_publish"]
)
def test_attendee_cannot_write_the_recap(client, ended, member, name):
    client.force_login(member)
    assert client.post(url(name, ended.pk), {"recap_summary": "x"}).status_code == 403
    ended.refresh_from_db()
    assert ended.recap_summary == ""


@pytest.mark.parametrize(
    "name", ["recap_save", "decision_add", "action_item_add", "recap_publish", "acknowledge"]
)
def test_outsider_gets_404_on_recap_urls(client, ended, outsider, name):
    client.force_login(outsider)
    assert client.post(url(name, ended.pk), {"recap_summary": "x"}).status_code == 404


def test_decision_of_another_meeting_answers_404(as_organizer, ended, team, organizer):
    other = MeetingFactory(team=team, organizer=organizer, now=timezone.now())
    decision = Decision.objects.create(meeting=other, text="Other")
    response = as_organizer.post(url("decision_remove", ended.pk, decision.pk))
    assert response.status_code == 404
    assert Decision.objects.filter(pk=decision.pk).exists()


def test_canceled_meeting_has_no_recap_editor(as_organizer, upcoming, organizer):
    upcoming.cancel(by=organizer, now=timezone.now())
    page = as_organizer.get(url("detail", upcoming.pk)).content.decode()
    assert "A canceled meeting has no recap." in page
    assert "Save draft" not in page


def test_refused_publish_saves_nothing_but_keeps_what_was_typed(as_organizer, ended, htmx):
    for headers in ({}, htmx):
        response = as_organizer.post(
            url("recap_publish", ended.pk),
            {"recap_summary": "Typed but not publishable", "recap_notes": "n"},
            headers=headers,
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "Typed but not publishable" in body
        assert "Add at least one action item" in body
        ended.refresh_from_db()
        assert ended.recap_summary == "" and ended.recap_published_at is None


def test_decision_edited_in_place(as_organizer, ended, htmx):
    decision = Decision.objects.create(meeting=ended, text="Old")
    form = as_organizer.get(url("decision_edit", ended.pk, decision.pk), headers=htmx)
    assert f'name="decision{decision.pk}-text"' in form.content.decode()
    response = as_organizer.post(
        url("decision_edit", ended.pk, decision.pk), {f"decision{decision.pk}-text": "New"},
        headers=htmx,
    )  # fmt: skip
    assert "Decision saved." in response.content.decode()
    decision.refresh_from_db()
    assert decision.text == "New"


def test_action_item_reassigned_and_moved(as_organizer, ended, organizer, member):
    as_organizer.post(url("action_item_add", ended.pk), action_data(member, ended.local_date))
    item = ActionItem.objects.get()
    assert as_organizer.get(url("action_item_edit", ended.pk, item.pk)).status_code == 200
    later = ended.local_date + timedelta(days=5)
    prefix = f"action{item.pk}"
    response = as_organizer.post(
        url("action_item_edit", ended.pk, item.pk),
        {f"{prefix}-description": "Reworded", f"{prefix}-owner": organizer.pk,
         f"{prefix}-due_date": later.isoformat()},
    )  # fmt: skip
    assert response["Location"].endswith("#action-items")
    item.refresh_from_db()
    assert (item.description, item.owner, item.due_date) == ("Reworded", organizer, later)


def test_action_item_edit_refuses_bad_values_and_keeps_the_item(as_organizer, ended, member):
    as_organizer.post(url("action_item_add", ended.pk), action_data(member, ended.local_date))
    item = ActionItem.objects.get()
    prefix = f"action{item.pk}"
    response = as_organizer.post(
        url("action_item_edit", ended.pk, item.pk),
        {f"{prefix}-description": "", f"{prefix}-owner": "0", f"{prefix}-due_date": "1999-01-01"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in body and "Select a valid choice" in body
    item.refresh_from_db()
    assert item.description == "Write the plan"


def test_attendee_cannot_edit_decisions_or_action_items(client, ended, member):
    decision = Decision.objects.create(meeting=ended, text="Old")
    client.force_login(member)
    assert client.get(url("decision_edit", ended.pk, decision.pk)).status_code == 403
    assert client.post(url("decision_edit", ended.pk, decision.pk), {}).status_code == 403


def test_edit_forms_are_not_offered_once_locked(as_organizer, ended, organizer):
    decision = Decision.objects.create(meeting=ended, text="Old")
    item = ended.agenda_items.first()
    response = as_organizer.get(url("agenda_item_edit", ended.pk, item.pk))
    assert response.status_code == 302
    assert "can no longer change" in messages_of(response)[0]
    published(ended, organizer)
    response = as_organizer.get(url("decision_edit", ended.pk, decision.pk))
    assert "The recap can no longer change." in messages_of(response)


# -- issue 11, item 7: recap defaults that do not invite mistakes ------------------------


def next_working_day_by_hand(user, moment):
    """Counted independently of User.next_working_moment: tomorrow, then day by day."""
    day = moment.astimezone(user.zone).date() + timedelta(days=1)
    while not user.work_days & (1 << day.weekday()):
        day += timedelta(days=1)
    return day


def test_new_action_item_starts_with_no_owner_and_due_the_organizers_next_working_day(
    as_organizer, ended, organizer
):
    organizer.work_days = 0b0010101  # Mon, Wed, Fri: the next working day is not always tomorrow
    organizer.save(update_fields=["work_days"])
    page = as_organizer.get(url("detail", ended.pk)).content.decode()
    owner = page[page.index('name="action-owner"') :]
    owner = owner[: owner.index("</select>")]
    assert "required" in owner[: owner.index(">")]
    first_option = owner[owner.index("<option") : owner.index("</option>")]
    assert 'value=""' in first_option and "Choose…" in first_option
    assert "selected" not in owner.replace(first_option, "")  # nobody preset
    expected = next_working_day_by_hand(organizer, timezone.now())
    assert expected > ended.local_date  # not the meeting day
    assert f'name="action-due_date" value="{expected.isoformat()}"' in page


def test_an_action_item_without_an_owner_is_refused_and_nothing_is_saved(
    as_organizer, ended, htmx
):
    data = {"action-description": "Book the room", "action-owner": "",
            "action-due_date": ended.local_date.isoformat()}  # fmt: skip
    response = as_organizer.post(url("action_item_add", ended.pk), data, headers=htmx)
    assert response.status_code == 200
    assert "Choose who owns this action item." in response.content.decode()
    assert not ActionItem.objects.filter(meeting=ended).exists()


def test_the_suggested_due_date_is_never_before_the_meetings_own_day(team, organizer):
    """A meeting held where the day is already later than the organizer's today."""
    organizer.time_zone = "Pacific/Honolulu"  # UTC-10
    organizer.save(update_fields=["time_zone"])
    start = timezone.now() - timedelta(hours=2)
    meeting = MeetingFactory(
        team=team,
        organizer=organizer,
        starts_at=start,
        time_zone="Pacific/Kiritimati",
        now=start - timedelta(days=1),
    )
    now = timezone.now()
    suggested = meeting.suggested_due_date(now)
    assert suggested >= meeting.local_date
    assert meeting.accepts_due_date(suggested)
    assert suggested == max(next_working_day_by_hand(organizer, now), meeting.local_date)


@pytest.mark.parametrize("kind", ["decision", "action"])
def test_remove_asks_on_a_page_first_without_javascript(client, ended, organizer, member, kind):
    now = timezone.now()
    if kind == "decision":
        thing = services.record_decision(meeting=ended, text="Ship", by=organizer, now=now)
        remove = url("decision_remove", ended.pk, thing.pk)
        question = "Remove this decision?"
    else:
        thing = services.assign_action_item(
            meeting=ended, description="Plan", owner=member, due_date=ended.local_date,
            created_by=organizer, now=now,
        )  # fmt: skip
        remove = url("action_item_remove", ended.pk, thing.pk)
        question = "Remove the action item “Plan”?"
    client.force_login(member)
    assert client.get(remove).status_code == 403
    client.force_login(organizer)
    page = client.get(remove)
    assert question in page.content.decode()
    assert type(thing).objects.filter(pk=thing.pk).exists()
    assert client.post(remove).status_code == 302
    assert not type(thing).objects.filter(pk=thing.pk).exists()


def test_added_decision_fragment_focuses_the_emptied_field(as_organizer, ended, htmx):
    response = as_organizer.post(
        url("decision_add", ended.pk), {"decision-text": "Use PostgreSQL"}, headers=htmx
    )
    body = response.content.decode()
    assert re.search(r'<textarea[^>]*autofocus[^>]*id="id_decision-text"', body)
    assert body.count("autofocus") == 1


def test_refused_publish_with_htmx_swaps_only_the_recap_form(as_organizer, ended, htmx):
    """So what was typed in the decision and action item forms stays on the page."""
    response = as_organizer.post(
        url("recap_publish", ended.pk), {"recap_summary": "We met."}, headers=htmx
    )
    assert response["HX-Retarget"] == response["HX-Reselect"] == "#recap-form"
    assert 'id="recap-form"' in response.content.decode()
    ended.refresh_from_db()
    assert ended.recap_published_at is None
