"""Emails: HTML + text from templates, bottom line first, safe Markdown, .ics, signed links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from accounts.mail import make_message
from meetings import notifications, services, signing
from meetings.models import Attendee, Notification
from meetings.notifications import messages
from tests.factories import MembershipFactory, UserFactory, ready_agenda

# Per delivered message, in a test's transaction: SAVEPOINT, the row's lock, the
# mark, RELEASE SAVEPOINT (in production the row's own BEGIN/COMMIT instead).
ROW_QUERIES = 4

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def ics_of(message) -> str:
    content = message.attachments[0][1]
    return content.decode() if isinstance(content, bytes) else content


class _FakeMeeting:
    """Just enough of a meeting for a reminder template."""

    title = "Line one\nBcc: evil@example.com"
    starts_at = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    organizer = None


def deliver_all(now) -> None:
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notifications.deliver(pk, now=now)


def test_make_message_renders_subject_text_and_html_with_headers(organizer):
    message = make_message(
        "agenda_reminder",
        {"recipient": organizer, "zone": "UTC", "meeting": _FakeMeeting(), "stage": "due_now",
         "meeting_url": "http://x/m/1/", "preferences_url": "http://x/p/"},
        to=[organizer.email],
        headers={"X-Test": "1"},
        attachments=[("a.txt", b"hello", "text/plain")],
    )  # fmt: skip
    assert "\n" not in message.subject
    assert message.subject.startswith("Agenda due now")
    assert "http://x/m/1/" in message.body
    assert "http://x/m/1/" in html_of(message)
    assert message.extra_headers["X-Test"] == "1"
    assert message.attachments[0][0] == "a.txt"


def test_subject_cannot_carry_a_header_injection(organizer):
    message = make_message(
        "agenda_reminder",
        {"recipient": organizer, "zone": "UTC", "meeting": _FakeMeeting(), "stage": "due_now"},
        to=[organizer.email],
    )
    assert "\n" not in message.subject
    assert message.message()["Bcc"] is None


@pytest.fixture
def sent_agenda(meeting, organizer, member, now):
    ready_agenda(meeting, by=organizer, items=2)
    meeting.desired_outcome = (
        "Pick the **launch date**. <script>alert(1)</script> [x](javascript:alert(1))"
    )
    meeting.save(update_fields=["desired_outcome"])
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    deliver_all(now)
    return meeting


def test_agenda_digest_leads_with_the_desired_outcome(sent_agenda, member):
    message = next(m for m in mail.outbox if m.to == [member.email])
    assert message.subject.startswith("Agenda: Weekly sync")
    assert "Pick the launch date" in message.subject
    assert message.body.startswith("Desired outcome: Pick the launch date")
    assert "Item 1" in message.body and "Item 2" in message.body


def test_user_markdown_is_rendered_and_sanitized_in_both_parts(sent_agenda, member):
    message = next(m for m in mail.outbox if m.to == [member.email])
    html = html_of(message)
    assert "<strong>launch date</strong>" in html
    assert "<script>" not in html and 'href="javascript' not in html
    # The text part is plain text: what was typed reads as typed (a text/plain part
    # runs nothing), with the Markdown's markup gone and no HTML entities.
    assert "**" not in message.body and "&lt;" not in message.body
    assert "Pick the launch date. <script>alert(1)</script>" in message.body


def test_agenda_invitation_parses_back_with_uid_sequence_people_and_timezone(
    sent_agenda, organizer, member
):
    message = next(m for m in mail.outbox if m.to == [member.email])
    assert "method=REQUEST" in message.attachments[0][2]
    calendar = Calendar.from_ical(ics_of(message))
    assert not calendar.errors
    assert str(calendar["METHOD"]) == "REQUEST"
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert not event.errors
    assert str(event["UID"]) == f"meeting-{sent_agenda.pk}@localhost"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["ORGANIZER"]) == f"mailto:{organizer.email}"
    attendees = {str(a) for a in event.get("ATTENDEE")}
    assert attendees == {f"mailto:{organizer.email}", f"mailto:{member.email}"}
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"Europe/Berlin"}
    assert event.decoded("DTSTART") == sent_agenda.starts_at


def test_amended_agenda_invitation_keeps_uid_and_raises_sequence(sent_agenda, organizer, now):
    mail.outbox.clear()
    services.add_agenda_item(meeting=sent_agenda, title="Late addition", added_by=organizer)
    services.amend_agenda(meeting=sent_agenda, by=organizer, now=now + timedelta(hours=1))
    deliver_all(now + timedelta(hours=1))
    event = Calendar.from_ical(ics_of(mail.outbox[0])).walk("VEVENT")[0]
    assert str(event["UID"]) == f"meeting-{sent_agenda.pk}@localhost"
    assert int(event["SEQUENCE"]) == 2
    assert mail.outbox[0].subject.startswith("Updated agenda")


def test_digests_carry_one_click_unsubscribe_headers_and_preferences_link(sent_agenda, member):
    message = next(m for m in mail.outbox if m.to == [member.email])
    headers = message.message()
    assert headers["List-Unsubscribe"].startswith("<http://localhost:8000/email/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://localhost:8000/accounts/profile/" in message.body
    assert "http://localhost:8000/accounts/profile/" in html_of(message)


@pytest.fixture
def published(meeting, organizer, member, team, now):
    third = UserFactory(display_name="Zed")
    MembershipFactory(user=third, team=team)
    after = meeting.ends_at + timedelta(minutes=10)
    day = meeting.local_date
    meeting.recap_summary = "We ship on **Friday**."
    meeting.recap_notes = "Long discussion."
    meeting.save()
    services.add_decision(meeting=meeting, text="Ship Friday")
    services.add_action_item(meeting=meeting, description="Write notes", owner=member,
                             due_date=day + timedelta(days=2), now=after)  # fmt: skip
    services.add_action_item(meeting=meeting, description="Tell support", owner=organizer,
                             due_date=day + timedelta(days=1), now=after)  # fmt: skip
    services.add_action_item(meeting=meeting, description="Fix bug", owner=member,
                             due_date=day + timedelta(days=1), now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    deliver_all(after)
    return meeting


def test_recap_digest_leads_with_the_owners_items_then_the_summary_and_the_others(
    published, member, organizer
):
    message = next(m for m in mail.outbox if m.to == [member.email])
    assert message.subject.startswith("Recap: Weekly sync · 2 action items for you")
    body = message.body
    assert body.startswith("Your action items\n")
    mine = body[: body.index("We ship on Friday.")]
    assert mine.index("Fix bug") < mine.index("Write notes")  # by due date
    assert "Tell support" not in mine
    others = body[body.index("Everyone else's action items") :]
    assert organizer.name in others and "Tell support" in others
    assert "Fix bug" not in others  # each item once
    assert "Ship Friday" in body
    assert "<strong>Friday</strong>" in html_of(message)


def test_acknowledge_link_records_without_login_and_only_once(published, member):
    from django.utils import timezone

    # Rendered now: the link's expiry is checked against the real clock.
    notification = Notification.objects.get(kind=Kind.RECAP_DIGEST, recipient=member)
    message = messages.message_for(notification, now=timezone.now())
    link = next(w for w in message.body.split() if "/email/acknowledge/" in w)
    path = link.replace("http://localhost:8000", "")
    # Opening the link (what a mail scanner does too) shows one button and records nothing.
    response = Client().get(path)
    assert response.status_code == 200
    assert b"Yes, I have read it" in response.content
    attendee = Attendee.objects.get(meeting=published, user=member)
    assert attendee.acknowledged_at is None
    response = Client().post(path)
    assert response.status_code == 200
    assert b"recorded that you read the recap" in response.content
    attendee.refresh_from_db()
    first = attendee.acknowledged_at
    assert first is not None
    response = Client().post(path)
    assert b"already acknowledged" in response.content
    assert b"already acknowledged" in Client().get(path).content
    attendee.refresh_from_db()
    assert attendee.acknowledged_at == first


def test_tampered_acknowledge_link_gets_a_clear_page_and_records_nothing(published, member):
    attendee = Attendee.objects.get(meeting=published, user=member)
    token = signing.make_token(signing.ACKNOWLEDGE, {"a": attendee.pk, "m": published.pk},
                               now=published.ends_at)  # fmt: skip
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = Client().get(f"/email/acknowledge/{tampered}/")
    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    attendee.refresh_from_db()
    assert attendee.acknowledged_at is None


def test_expired_acknowledge_link_records_nothing(published, member, settings):
    attendee = Attendee.objects.get(meeting=published, user=member)
    from django.utils import timezone

    old = timezone.now() - settings.EMAIL_LINK_MAX_AGE - timedelta(minutes=1)
    token = signing.make_token(signing.ACKNOWLEDGE, {"a": attendee.pk, "m": published.pk}, now=old)
    response = Client().get(f"/email/acknowledge/{token}/")
    assert response.status_code == 410
    assert b"This link has expired" in response.content
    attendee.refresh_from_db()
    assert attendee.acknowledged_at is None


def test_unsubscribe_token_cannot_acknowledge(published, member, now):
    token = signing.make_token(signing.UNSUBSCRIBE, {"a": 1, "m": published.pk}, now=now)
    from django.utils import timezone

    with pytest.raises(signing.LinkInvalid):
        signing.read_token(signing.ACKNOWLEDGE, token, now=timezone.now())


def test_one_click_unsubscribe_post_turns_off_the_daily_digest(member):
    from django.utils import timezone

    url, headers = messages.unsubscribe_headers(member, list_name="daily", now=timezone.now())
    path = url.replace("http://localhost:8000", "")
    client = Client(enforce_csrf_checks=True)
    response = client.get(path)
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.daily_digest is True  # GET only asks: link scanners must not unsubscribe
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.daily_digest is False


def test_meeting_unsubscribe_declines_and_stops_agenda_digests(
    sent_agenda, member, organizer, now
):
    from django.utils import timezone

    from meetings.models import Meeting

    # The link works while the meeting is ahead (pages use the real clock).
    start = timezone.now() + timedelta(days=2)
    Meeting.objects.filter(pk=sent_agenda.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=1)
    )
    url, _ = messages.unsubscribe_headers(member, list_name="meeting", now=timezone.now(),
                                        meeting=sent_agenda)  # fmt: skip
    Client().post(url.replace("http://localhost:8000", ""))
    assert Attendee.objects.get(meeting=sent_agenda, user=member).rsvp == "no"
    mail.outbox.clear()
    services.add_agenda_item(meeting=sent_agenda, title="Late addition", added_by=organizer)
    services.amend_agenda(meeting=sent_agenda, by=organizer, now=now + timedelta(hours=1))
    deliver_all(now + timedelta(hours=1))
    assert [m.to for m in mail.outbox] == [[organizer.email]]


def test_reminder_has_one_call_to_action_with_a_direct_link(meeting, organizer):
    notifications.sweep(now=meeting.starts_at - timedelta(hours=20))
    deliver_all(meeting.starts_at - timedelta(hours=20))
    message = mail.outbox[0]
    assert message.subject.startswith("Agenda due now for Weekly sync")
    link = f"http://localhost:8000/meetings/{meeting.pk}/"
    assert message.body.count(link) == 1
    assert html_of(message).count(f'href="{link}"') == 1


def test_daily_digest_at_local_hour_on_working_days_and_skipped_when_empty(
    team, organizer, member, meeting, now
):
    # now = Wed 4 Mar 2026 12:00 UTC; Berlin 13:00, Kolkata 17:30.
    organizer.digest_hour = 13
    organizer.save()
    member.digest_hour = 17
    member.save()
    services.add_action_item(meeting=meeting, description="Overdue thing", owner=organizer,
                             due_date=date(2026, 3, 6), now=now)  # fmt: skip
    queued = notifications.queue_daily_digests(now=now + timedelta(days=3))  # Saturday
    assert queued == 0
    queued = notifications.queue_daily_digests(now=now + timedelta(days=5))  # Monday 9 Mar
    assert queued == 1  # the organizer: overdue item; the member has nothing -> no digest
    assert notifications.queue_daily_digests(now=now + timedelta(days=5, minutes=15)) == 0
    deliver_all(now + timedelta(days=5))
    message = mail.outbox[0]
    assert message.to == [organizer.email]
    assert "1 overdue action item" in message.subject
    assert "Overdue thing" in message.body
    assert message.message()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = Notification.objects.get(kind=Kind.DAILY_DIGEST)
    assert row.stage == "2026-03-09" and row.meeting_id is None


def test_daily_digest_is_not_sent_to_users_who_opted_out(meeting, organizer, now):
    organizer.digest_hour, organizer.daily_digest = 13, False
    organizer.save()
    assert notifications.queue_daily_digests(now=now) == 0


def _meeting_with(team, organizer, count, now):
    people = [UserFactory() for _ in range(count)]
    for person in people:
        MembershipFactory(user=person, team=team)
    meeting = services.create_meeting(
        team=team, organizer=organizer, title="Big", starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1), time_zone="Europe/Berlin",
        attendees=people, now=now,
    )  # fmt: skip
    ready_agenda(meeting, by=organizer, items=count)
    services.send_agenda(meeting=meeting, by=organizer, now=now)
    after = meeting.ends_at + timedelta(minutes=5)
    meeting.recap_summary = "Done."
    meeting.save()
    for n, person in enumerate(people):
        services.add_action_item(meeting=meeting, description=f"Task {n}", owner=person,
                                 due_date=meeting.local_date, now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    return meeting, people[0]


@pytest.mark.parametrize("kind", [Kind.AGENDA_DIGEST, Kind.RECAP_DIGEST])
def test_digest_queries_are_constant_with_5_or_50_attendees_and_items(team, organizer, now, kind):
    counts = []
    for size in (5, 50):
        meeting, person = _meeting_with(team, organizer, size, now)
        notification = Notification.objects.select_related(
            "recipient", "meeting", "meeting__team", "meeting__organizer"
        ).get(meeting=meeting, kind=kind, recipient=person)
        with CaptureQueriesContext(connection) as ctx:
            message = messages.message_for(notification, now=meeting.ends_at)
        assert message is not None
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_tampered_unsubscribe_link_changes_nothing(member):
    from django.utils import timezone

    url, _ = messages.unsubscribe_headers(member, list_name="daily", now=timezone.now())
    path = url.replace("http://localhost:8000", "")
    response = Client().post(path.replace("/unsubscribe/", "/unsubscribe/x"))
    assert response.status_code == 400
    assert b"Nothing was recorded or changed" in response.content
    member.refresh_from_db()
    assert member.daily_digest is True


def test_acknowledge_link_before_the_recap_is_published_records_nothing(meeting, member):
    from django.utils import timezone

    attendee = Attendee.objects.get(meeting=meeting, user=member)
    token = signing.make_token(
        signing.ACKNOWLEDGE, {"a": attendee.pk, "m": meeting.pk}, now=timezone.now()
    )
    response = Client().get(f"/email/acknowledge/{token}/")
    assert response.status_code == 400
    attendee.refresh_from_db()
    assert attendee.acknowledged_at is None


def test_head_probe_of_acknowledge_link_records_nothing(published, member):
    from django.utils import timezone

    attendee = Attendee.objects.get(meeting=published, user=member)
    token = signing.make_token(
        signing.ACKNOWLEDGE, {"a": attendee.pk, "m": published.pk}, now=timezone.now()
    )
    assert Client().head(f"/email/acknowledge/{token}/").status_code == 405
    attendee.refresh_from_db()
    assert attendee.acknowledged_at is None


@pytest.mark.parametrize("kind", [Kind.AGENDA_DIGEST, Kind.RECAP_DIGEST])
def test_a_chunk_of_one_meetings_digests_loads_the_meeting_once(team, organizer, now, kind):
    counts = []
    for size in (5, 50):
        meeting, _person = _meeting_with(team, organizer, size, now)
        ids = list(
            Notification.objects.filter(meeting=meeting, kind=kind).values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(state=Notification.State.PENDING)
        with CaptureQueriesContext(connection) as ctx:
            outcomes = notifications.deliver_many(ids, now=meeting.ends_at)
        assert {outcome.status for outcome in outcomes.values()} == {"sent"}
        counts.append(len(ctx.captured_queries))
    # Nothing is loaded per message: 51 digests cost what 6 do, but for each
    # message's own short transaction (a savepoint in this test's): lock, mark sent.
    assert counts[1] - counts[0] == 45 * ROW_QUERIES


def test_no_agenda_notice_skips_an_attendee_who_declined(meeting, member):
    at_start = meeting.starts_at + timedelta(minutes=1)
    notifications.sweep(now=at_start)
    notification = Notification.objects.get(kind=Kind.NO_AGENDA_NOTICE, recipient=member)
    assert messages.message_for(notification, now=at_start) is not None
    Attendee.objects.filter(meeting=meeting, user=member).update(rsvp=Attendee.Rsvp.NO)
    assert messages.message_for(notification, now=at_start) is None


def test_acknowledgement_is_not_recorded_when_its_page_fails_to_render(published, member):
    from unittest import mock

    from django.utils import timezone

    attendee = Attendee.objects.get(meeting=published, user=member)
    token = signing.make_token(
        signing.ACKNOWLEDGE, {"a": attendee.pk, "m": published.pk}, now=timezone.now()
    )
    client = Client(raise_request_exception=False)
    # As when the static manifest is missing: the page breaks after the write.
    with mock.patch(
        "meetings.views.email_links.render", side_effect=RuntimeError("static file missing")
    ):
        response = client.post(f"/email/acknowledge/{token}/")
    assert response.status_code == 500
    attendee.refresh_from_db()
    assert attendee.acknowledged_at is None  # recorded with its page, or not at all


@pytest.mark.parametrize("left", ["removed from the team", "account closed"])
def test_emailed_links_stop_working_for_someone_who_left(published, member, team, left):
    from django.utils import timezone

    from accounts.models import Membership

    attendee = Attendee.objects.get(meeting=published, user=member)
    now = timezone.now()
    ack = signing.make_token(signing.ACKNOWLEDGE, {"a": attendee.pk, "m": published.pk}, now=now)
    unsubscribe = signing.make_token(
        signing.UNSUBSCRIBE, {"u": member.pk, "l": "meeting", "m": published.pk}, now=now
    )
    if left == "removed from the team":
        Membership.objects.filter(user=member, team=team).delete()
    else:
        type(member).objects.filter(pk=member.pk).update(is_active=False)
    client = Client()
    for response in (
        client.get(f"/email/acknowledge/{ack}/"),
        client.post(f"/email/acknowledge/{ack}/"),
        client.get(f"/email/unsubscribe/{unsubscribe}/"),
        client.post(f"/email/unsubscribe/{unsubscribe}/"),
    ):
        body = response.content.decode()
        assert response.status_code in (400, 403)
        assert published.title not in body  # no meeting data for someone outside
        if left == "removed from the team":
            assert "no longer valid for you" in body
    attendee.refresh_from_db()
    assert attendee.acknowledged_at is None and attendee.rsvp != Attendee.Rsvp.NO
