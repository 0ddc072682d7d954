"""An action item's owner answers from the e-mail (issue 13): Accept, Done, New due
date and Decline links, each signed for one purpose, the item and its owner. Like
the recap acknowledgement: GET shows one button and changes nothing, no HEAD, a
tampered link is a 400 page, an expired one 410, someone who left the team gets
403, and the link stops working once the item has another owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from meetings import services, signing
from meetings.models import ActionItem, Notification
from meetings.notifications.action_messages import answer_url
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PURPOSES = [signing.ACTION_ACCEPT, signing.ACTION_DONE, signing.ACTION_REDATE,
            signing.ACTION_DECLINE]  # fmt: skip
# What each purpose POSTs when it is used.
DATA = {signing.ACTION_REDATE: {"due_date": ""}, signing.ACTION_DECLINE: {"reason": "Busy"}}
FIELDS = ["owner_id", "status", "completed_at", "due_date", "redated_count", "response",
          "responded_at", "decline_reason", "original_due_date"]  # fmt: skip


@pytest.fixture
def item(ended, organizer, member):
    """An item of the member's in a recap published just now (pages use the real clock)."""
    now = timezone.now()
    ended.recap_summary = "Done."
    ended.save(update_fields=["recap_summary"])
    item = services.add_action_item(
        meeting=ended, description="Write the notes", owner=member,
        due_date=ended.local_date + timedelta(days=3), now=now,
    )  # fmt: skip
    services.publish_recap(meeting=ended, by=organizer, now=now)
    return item


def path(item: ActionItem, purpose: str, *, now=None) -> str:
    return answer_url(item, purpose, now=now or timezone.now()).removeprefix(
        "http://localhost:8000"
    )


def state(item: ActionItem) -> dict:
    row = ActionItem.objects.get(pk=item.pk)
    return {name: getattr(row, name) for name in FIELDS}


def data_for(purpose: str, item: ActionItem) -> dict:
    if purpose == signing.ACTION_REDATE:
        return {"due_date": (item.due_date + timedelta(days=7)).isoformat()}
    return DATA.get(purpose, {})


# -- each answer ---------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", PURPOSES)
def test_opening_a_link_shows_one_button_and_changes_nothing(item, purpose):
    before = state(item)
    response = Client().get(path(item, purpose))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Write the notes" in body
    assert body.count('<button type="submit"') == 1
    assert state(item) == before


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_head_probe_gets_405_and_changes_nothing(item, purpose):
    before = state(item)
    assert Client().head(path(item, purpose)).status_code == 405
    assert state(item) == before


def test_accept_records_once_and_a_replay_says_so(item, member):
    link = path(item, signing.ACTION_ACCEPT)
    response = Client().post(link)
    assert response.status_code == 200
    assert "Accepted: it is yours." in response.content.decode()
    first = state(item)
    assert first["response"] == "accepted" and first["responded_at"] is not None
    for again in (Client().post(link), Client().get(link)):
        assert again.status_code == 200
        assert "You already accepted this action item." in again.content.decode()
        assert "Nothing was recorded or changed." in again.content.decode()
    assert state(item) == first


def test_done_completes_once_and_an_already_done_item_says_so(item, member):
    link = path(item, signing.ACTION_DONE)
    response = Client().post(link)
    assert response.status_code == 200
    assert "Marked done." in response.content.decode()
    first = state(item)
    assert first["status"] == "done" and first["completed_at"] is not None
    for again in (
        Client().post(link),
        Client().get(link),
        Client().get(path(item, "action_accept")),
    ):
        assert again.status_code == 200
        assert "This action item is already done." in again.content.decode()
    assert state(item) == first


def test_new_due_date_moves_it_counts_the_move_and_says_so(item, member):
    link = path(item, signing.ACTION_REDATE)
    old = item.due_date
    new = old + timedelta(days=7)
    assert f'value="{old.isoformat()}"' in Client().get(link).content.decode()
    response = Client().post(link, {"due_date": new.isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Moved. Its reminders follow the new date." in body
    assert "re-dated 1 time" in body
    after = state(item)
    assert after["due_date"] == new and after["redated_count"] == 1
    assert after["original_due_date"] == old
    assert after["response"] == "accepted"  # a new date is an answer too
    # The same date again: nothing to move.
    again = Client().post(link, {"due_date": new.isoformat()})
    assert "That is already its due date; nothing changed." in again.content.decode()
    assert state(item) == after


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "Pick the new due date."), ("not a date", "Enter a date."),
     ("2026-02-30", "Enter a date."), ("9999-12-31", "Pick a date within 10 years of today.")],
)  # fmt: skip
def test_a_bad_date_is_refused_with_a_clear_message(item, value, message):
    before = state(item)
    response = Client().post(path(item, signing.ACTION_REDATE), {"due_date": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert state(item) == before


def test_a_date_before_the_meetings_day_is_refused_by_the_items_rule(item, ended):
    before = state(item)
    day_before = ended.local_date - timedelta(days=1)
    response = Client().post(
        path(item, signing.ACTION_REDATE), {"due_date": day_before.isoformat()}
    )
    assert response.status_code == 400
    assert "The due date cannot be before the meeting&#x27;s day" in response.content.decode()
    assert state(item) == before
    assert not item.meeting.action_items.redated().exists()


def test_decline_with_a_reason_tells_the_organizer(item, organizer):
    link = path(item, signing.ACTION_DECLINE)
    response = Client().post(link, {"reason": "  I am on leave  "})
    assert response.status_code == 200
    assert f"Declined. {organizer.name} has been told" in response.content.decode()
    after = state(item)
    assert after["response"] == "declined" and after["decline_reason"] == "I am on leave"
    notice = Notification.objects.get(kind=Notification.Kind.ACTION_DECLINED)
    assert notice.recipient_id == organizer.pk
    # Replayed, or another answer after it: it says so and changes nothing.
    for again in (Client().post(link, {"reason": "again"}),
                  Client().post(path(item, signing.ACTION_DONE))):  # fmt: skip
        assert again.status_code == 200
        assert "You declined this action item" in again.content.decode()
    assert state(item) == after
    assert Notification.objects.filter(kind=Notification.Kind.ACTION_DECLINED).count() == 1


def test_decline_without_a_reason_is_fine_and_a_long_one_is_refused(item):
    before = state(item)
    response = Client().post(path(item, signing.ACTION_DECLINE), {"reason": "x" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    assert state(item) == before
    response = Client().post(path(item, signing.ACTION_DECLINE), {})
    assert response.status_code == 200
    assert state(item)["response"] == "declined"


# -- links that no longer work -----------------------------------------------------------------


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(item, purpose):
    link = path(item, purpose)
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    before = state(item)
    for response in (Client().get(tampered), Client().post(tampered, data_for(purpose, item))):
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert state(item) == before


@pytest.mark.parametrize("purpose", PURPOSES)
def test_an_expired_link_changes_nothing(item, purpose, settings):
    old = timezone.now() - settings.EMAIL_LINK_MAX_AGE - timedelta(minutes=1)
    link = path(item, purpose, now=old)
    before = state(item)
    response = Client().post(link, data_for(purpose, item))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert state(item) == before


def test_a_link_made_for_one_answer_cannot_give_another(item):
    done_token = path(item, signing.ACTION_DONE).rstrip("/").rsplit("/", 1)[1]
    before = state(item)
    response = Client().post(f"/email/action/decline/{done_token}/", {"reason": ""})
    assert response.status_code == 400
    assert state(item) == before


@pytest.mark.parametrize("purpose", PURPOSES)
def test_links_stop_working_once_the_item_is_given_to_someone_else(item, organizer, team, purpose):
    link = path(item, purpose)
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, team=team)
    services.reassign_action_item(item=item, owner=newcomer, by=organizer, now=timezone.now())
    before = state(item)
    for response in (Client().get(link), Client().post(link, data_for(purpose, item))):
        assert response.status_code == 403
        body = response.content.decode()
        assert "the action item was given to someone else" in body
        assert "Write the notes" not in body
    assert state(item) == before
    # The new owner's own links work.
    assert Client().get(path(ActionItem.objects.get(pk=item.pk), purpose)).status_code == 200


@pytest.mark.parametrize("left", ["removed from the team", "account closed"])
@pytest.mark.parametrize("purpose", PURPOSES)
def test_links_stop_working_for_an_owner_who_left(item, member, team, left, purpose):
    link = path(item, purpose)
    if left == "removed from the team":
        Membership.objects.filter(user=member, team=team).delete()
    else:
        type(member).objects.filter(pk=member.pk).update(is_active=False)
    before = state(item)
    for response in (Client().get(link), Client().post(link, data_for(purpose, item))):
        assert response.status_code == 403
        body = response.content.decode()
        assert "no longer valid for you" in body
        assert "Write the notes" not in body and item.meeting.title not in body
    assert state(item) == before


def test_a_link_to_a_removed_item_is_not_valid(item, ended, organizer):
    link = path(item, signing.ACTION_DONE)
    ActionItem.objects.filter(pk=item.pk).delete()
    response = Client().post(link)
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_the_answer_is_not_recorded_when_its_page_fails_to_render(item):
    from unittest import mock

    before = state(item)
    client = Client(raise_request_exception=False)
    with mock.patch(
        "meetings.views.email_links.render", side_effect=RuntimeError("static file missing")
    ):
        response = client.post(path(item, signing.ACTION_DONE))
    assert response.status_code == 500
    assert state(item) == before  # recorded with its page, or not at all


@pytest.mark.parametrize("purpose", [signing.ACTION_REDATE, signing.ACTION_DECLINE])
def test_hostile_input_gets_a_clear_answer_never_a_500(item, purpose):
    from django.db import transaction
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    link = path(item, purpose)
    field = "due_date" if purpose == signing.ACTION_REDATE else "reason"
    values = st.one_of(
        st.text(max_size=600),
        st.sampled_from(["\x00", "x\x00y", "-1", "0000-00-00", "1-1-1", "99999-01-01",
                         "2026-13-01", "a" * 5000]),
    ).filter(lambda text: not any(0xD800 <= ord(c) <= 0xDFFF for c in text))  # fmt: skip

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(value=values)
    def answer(value):
        with transaction.atomic():
            response = Client(raise_request_exception=False).post(link, {field: value})
            assert response.status_code < 500, (value, response.status_code)
            transaction.set_rollback(True)

    answer()
