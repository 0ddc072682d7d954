"""Issue 11, item 3: every action-item owner gets the recap, attended or not, with
their own items first; one message per person; no "I have read this" for the
recap's own author, nor for an owner who was not there (acknowledgement is an
attendee's, DESIGN.md: attendees read and acknowledge the recap)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail

from meetings import notifications, services
from meetings.models import Notification
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
ACK = "/email/acknowledge/"


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


@pytest.fixture
def absent_owner(team):
    user = UserFactory(display_name="Absent Owner", time_zone="America/Los_Angeles")
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def listener(team):
    """An attendee who owns nothing."""
    user = UserFactory(display_name="Listener")
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def published(meeting, organizer, member, absent_owner, listener):
    meeting.attendees.create(user=listener)
    after = meeting.ends_at + timedelta(minutes=10)
    day = meeting.local_date
    meeting.recap_summary = "We ship on Friday."
    meeting.save()
    for description, owner, days in (
        ("Book the venue", absent_owner, 3),
        ("Call the printer", absent_owner, 1),
        ("Write notes", member, 2),
        ("Tell support", organizer, 1),
    ):
        services.add_action_item(meeting=meeting, description=description, owner=owner,
                                 due_date=day + timedelta(days=days), now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notifications.deliver(pk, now=after)
    return meeting


def message_to(user):
    found = [m for m in mail.outbox if m.to == [user.email]]
    assert len(found) == 1, f"{user.email} got {len(found)} messages"
    return found[0]


def test_every_attendee_and_every_owner_gets_exactly_one_recap(
    published, organizer, member, absent_owner, listener
):
    rows = Counter(
        Notification.objects.filter(meeting=published, kind=Kind.RECAP_DIGEST).values_list(
            "recipient_id", flat=True
        )
    )
    people = {organizer.pk, member.pk, absent_owner.pk, listener.pk}
    assert rows == Counter(people)  # the owners who attended are not doubled
    assert Counter(tuple(m.to) for m in mail.outbox) == Counter(
        (u.email,) for u in (organizer, member, absent_owner, listener)
    )


def test_an_owner_who_was_not_there_reads_their_items_first_and_is_not_asked_to_acknowledge(
    published, absent_owner, organizer
):
    message = message_to(absent_owner)
    assert message.subject.startswith("Recap: Weekly sync · 2 action items for you")
    body = message.body
    assert body.startswith("Your action items (")
    assert "you were not at this meeting" in body[: body.index("We ship on Friday.")]
    mine = body[: body.index("We ship on Friday.")]
    assert mine.index("Call the printer") < mine.index("Book the venue")  # by due date
    assert "http://localhost:8000/action-items/" in mine
    others = body[body.index("Everyone else's action items") :]
    assert "Tell support" in others and "Book the venue" not in others
    assert ACK not in body and ACK not in html_of(message)
    # Not on the meeting's mailing list (they are not an attendee): no unsubscribe
    # from it, whose link would only say it is not theirs.
    assert "List-Unsubscribe" not in message.extra_headers
    assert "Unsubscribe from this meeting" not in body


def test_the_organizer_is_not_asked_to_acknowledge_their_own_recap(published, organizer):
    message = message_to(organizer)
    assert message.body.startswith("Your action items\n")  # they own "Tell support"
    assert ACK not in message.body
    assert ACK not in html_of(message)
    assert "I have read this" not in html_of(message)


def test_an_admin_who_published_is_not_asked_either_but_the_organizer_still_is_not(
    meeting, organizer, team_admin, member
):
    meeting.attendees.create(user=team_admin)
    after = meeting.ends_at + timedelta(minutes=5)
    meeting.recap_summary = "Done."
    meeting.no_action_items = True
    meeting.save()
    services.publish_recap(meeting=meeting, by=team_admin, now=after)
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notifications.deliver(pk, now=after)
    assert ACK not in message_to(team_admin).body
    assert ACK not in message_to(organizer).body
    assert ACK in message_to(member).body


def test_an_attendee_who_owns_nothing_gets_the_summary_first_and_the_acknowledge_link(
    published, listener
):
    message = message_to(listener)
    assert message.subject.startswith("Recap: Weekly sync · 4 action items")
    assert message.body.startswith("We ship on Friday.")
    assert ACK in message.body
    assert "Your action items" not in message.body
    assert "List-Unsubscribe" in message.extra_headers


def test_an_attendee_owner_gets_their_items_first_and_can_acknowledge(published, member):
    message = message_to(member)
    assert message.body.startswith("Your action items\n")
    assert "you were not at this meeting" not in message.body
    assert ACK in message.body


def test_a_deactivated_owner_gets_nothing(meeting, organizer, absent_owner):
    after = meeting.ends_at + timedelta(minutes=5)
    meeting.recap_summary = "Done."
    meeting.save()
    services.add_action_item(meeting=meeting, description="Later", owner=absent_owner,
                             due_date=meeting.local_date, now=after)  # fmt: skip
    absent_owner.is_active = False
    absent_owner.save()
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    assert not Notification.objects.filter(recipient=absent_owner).exists()


def test_the_home_page_does_not_ask_the_publisher_to_acknowledge(
    client, meeting, organizer, team_admin
):
    meeting.attendees.create(user=team_admin)
    meeting.recap_summary = "Done."
    meeting.no_action_items = True
    meeting.save()
    services.publish_recap(
        meeting=meeting, by=team_admin, now=meeting.ends_at + timedelta(minutes=5)
    )
    client.force_login(team_admin)
    response = client.get("/")
    assert response.context["to_acknowledge"] == []
