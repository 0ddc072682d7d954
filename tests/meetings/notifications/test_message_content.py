"""What messages say: the text part carries what the HTML part does, times name
their zone, updated agendas say what changed for this reader, reminders are told
apart, relative times read as people say them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from meetings import notifications, services, signing
from meetings.models import Attendee, Notification
from meetings.notifications import messages
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def deliver_all(now) -> None:
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notifications.deliver(pk, now=now)


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


@pytest.fixture
def agenda(meeting, organizer, now):
    meeting.desired_outcome = "Agree on **the budget**."
    meeting.save(update_fields=["desired_outcome"])
    services.add_agenda_item(
        meeting=meeting, title="Budget", added_by=organizer, timebox_minutes=20,
        notes="Read the *sheet* first.\n\n- line one\n- line two",
    )  # fmt: skip
    services.add_agenda_item(meeting=meeting, title="Hiring", added_by=organizer)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    deliver_all(now)
    return meeting


def test_the_text_part_carries_agenda_item_notes_as_plain_text(agenda, member):
    (message,) = to(member.email)
    assert "Read the *sheet* first." not in message.body
    assert "Read the sheet first." in message.body
    assert "line one" in message.body and "line two" in message.body
    # Under its item, as in the HTML part.
    assert (
        message.body.index("Budget")
        < message.body.index("Read the sheet")
        < (message.body.index("Hiring"))
    )
    assert "<em>sheet</em>" in html_of(message)


def test_calendar_description_is_plain_text_not_markdown(agenda, member):
    (message,) = to(member.email)
    ics = message.attachments[0][1]
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    description = str(event["DESCRIPTION"])
    assert "Desired outcome: Agree on the budget." in description
    assert "**" not in description


def test_updated_agenda_names_the_first_send_and_marks_what_changed_for_this_reader(
    agenda, organizer, member, team, now
):
    newcomer = UserFactory(time_zone="UTC")
    MembershipFactory(user=newcomer, team=team)
    budget, hiring = agenda.agenda_items.all()
    mail.outbox.clear()
    later = now + timedelta(hours=5)
    services.edit_agenda_item(
        item=budget, title="Budget 2027", owner=None, timebox_minutes=30, notes=budget.notes,
        now=later,
    )  # fmt: skip
    services.remove_agenda_item(item=hiring, now=later)
    services.add_agenda_item(meeting=agenda, title="Offsite", added_by=organizer)
    services.update_meeting(
        meeting=agenda, by=organizer, title=agenda.title, starts_at=agenda.starts_at,
        ends_at=agenda.ends_at, location=agenda.location, attendees=[member, newcomer],
        now=later,
    )  # fmt: skip
    services.amend_agenda(meeting=agenda, by=organizer, now=later)
    deliver_all(later)
    (message,) = to(member.email)
    body = message.body
    sent_at = timezone.localtime(agenda.agenda_sent_at, member.zone)
    assert f"first sent {sent_at:%a} {sent_at.day} {sent_at:%b, %H:%M} IST" in body
    assert "Since the version you received:" in body
    assert "+ Added: Offsite" in body
    assert "~ Changed: Budget 2027 (title, time box)" in body
    assert "- Removed: Hiring" in body
    html = html_of(message)
    assert "<strong>Removed:</strong> <del>Hiring</del>" in html
    # Someone who never got an earlier version gets the agenda, not a diff of it.
    newcomer_message = to(newcomer.email)[-1]
    assert "Offsite" in newcomer_message.body
    assert "Since the version you received" not in newcomer_message.body


def test_successive_recap_reminders_are_told_apart_in_the_subject(meeting, organizer):
    ends = meeting.ends_at
    subjects = []
    team = meeting.team
    team.escalate_after = timedelta(days=10)  # the escalation has its own subject
    team.save()
    for hours in (2, 25, 49, 73):  # after the end, end of grace, days 2 and 3
        notifications.sweep(now=ends + timedelta(hours=hours))
        deliver_all(ends + timedelta(hours=hours))
        subjects.append(mail.outbox[-1].subject)
    assert subjects[0].startswith("Recap needed: ")
    assert subjects[1].startswith("Recap overdue, day 1 (2nd reminder): ")
    assert subjects[2].startswith("Recap overdue, day 2 (3rd reminder): ")
    assert subjects[3].startswith("Recap overdue, day 3 (4th reminder): ")
    assert len(set(subjects)) == 4


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(3, "in 5 minutes"), (25, "in 25 minutes"), (58, "in 1 hour"), (89, "in 1½ hours"),
     (105, "in 2 hours"), (119, "in 2 hours"), (140, "in 2½ hours"), (200, "in 3 hours"),
     (215, "in 4 hours"), (400, "in 7 hours")],
)  # fmt: skip
def test_relative_times_round_as_people_say_them(minutes, words):
    assert messages.starts_in(timedelta(minutes=minutes)) == words


def test_last_call_says_when_it_starts_in_words_and_in_local_time(meeting, organizer):
    at = meeting.starts_at - timedelta(minutes=89)
    notifications.sweep(now=at)
    deliver_all(at)
    body = mail.outbox[-1].body
    start = timezone.localtime(meeting.starts_at, organizer.zone)
    assert f"starts in 1½ hours ({start:%H:%M} {start:%Z})" in body


def test_daily_digest_names_the_zone_of_its_times(meeting, member, now):
    local = timezone.localtime(meeting.starts_at, member.zone)
    digest_day = meeting.starts_at.replace(hour=2, minute=45)  # 08:15 in Kolkata
    member.digest_hour = 8
    member.save(update_fields=["digest_hour"])
    notifications.queue_daily_digests(now=digest_day)
    deliver_all(digest_day)
    (message,) = to(member.email)
    assert f"{local:%H:%M} {local:%Z} {meeting.title}" in message.body
    assert f"{local:%H:%M} {local:%Z}" in html_of(message)


def test_acknowledgement_page_names_the_readers_zone(meeting, organizer, member, now):
    meeting.recap_summary, meeting.no_action_items = "Done.", True
    meeting.save()
    meeting.publish_recap(by=organizer, now=meeting.ends_at)
    attendee = Attendee.objects.get(meeting=meeting, user=member)
    attendee.acknowledge(now=meeting.ends_at + timedelta(hours=1))
    token = signing.make_token(
        signing.ACKNOWLEDGE, {"a": attendee.pk, "m": meeting.pk}, now=timezone.now()
    )
    body = Client().get(f"/email/acknowledge/{token}/").content.decode()
    when = timezone.localtime(attendee.acknowledged_at, member.zone)
    assert f"recorded on {when:%a} {when.day} {when:%b %Y, %H:%M} IST (Kolkata time)" in body
