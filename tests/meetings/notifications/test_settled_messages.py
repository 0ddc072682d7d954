"""The digests of issue 14: the recap of a meeting settled in writing (it says so at
the top and carries the calendar CANCEL) and the agenda digest's comment counts
and written resolutions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from meetings import notifications, services
from meetings.ical import SETTLED_LINE
from meetings.models import AgendaItem, Notification
from meetings.notifications.messages import _agenda_digest_shared
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _person(team, name: str, zone: str = "UTC"):
    user = UserFactory(display_name=name, time_zone=zone)
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def olu(team):
    return _person(team, "Olu")


@pytest.fixture
def berta(team):
    return _person(team, "Berta", "Europe/Berlin")


@pytest.fixture
def sync(team, olu, berta):
    """Fri 6 Mar 14:00 UTC, its agenda out: Budget (20 min, Berta's), Hiring (25 min)."""
    meeting = MeetingFactory(team=team, organizer=olu, title="Budget review", attendees=[berta],
                             starts_at=datetime(2026, 3, 6, 14, tzinfo=UTC),
                             now=NOW - timedelta(days=1))  # fmt: skip
    ready_agenda(meeting, by=olu, items=2)
    first, second = meeting.agenda_items.all()
    AgendaItem.objects.filter(pk=first.pk).update(title="Budget", timebox_minutes=20, owner=berta)
    AgendaItem.objects.filter(pk=second.pk).update(title="Hiring", timebox_minutes=25)
    services.send_agenda(meeting=meeting, by=olu, now=NOW - timedelta(days=1))
    return meeting


def _deliver_latest(kind: str, user, at: datetime):
    row = Notification.objects.filter(kind=kind, recipient=user).order_by("-pk").first()
    before = len(mail.outbox)
    assert notifications.deliver(row.pk, now=at).status == "sent"
    assert len(mail.outbox) == before + 1
    return mail.outbox[-1]


def _html(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def _event(message):
    (attachment,) = message.attachments
    calendar = Calendar.from_ical(attachment[1])
    return attachment, calendar, calendar.walk("VEVENT")[0]


# -- the recap of a meeting settled in writing ------------------------------------------


def _settle(sync, olu, berta):
    budget, hiring = sync.agenda_items.all()
    services.settle_item(item=budget, resolution="40k, with the spare", by=berta, now=NOW)
    services.settle_item(item=hiring, resolution="One engineer in Q2", by=olu, now=NOW)
    services.settle_meeting_in_writing(meeting=sync, by=olu, summary="All settled **early**.",
                                       no_action_items=True, now=NOW)  # fmt: skip


def test_recap_of_a_meeting_settled_in_writing_says_so_and_cancels_the_event(sync, olu, berta):
    invited = _deliver_latest(Kind.AGENDA_DIGEST, berta, NOW - timedelta(days=1))
    _, _, invitation = _event(invited)
    _settle(sync, olu, berta)

    message = _deliver_latest(Kind.RECAP_DIGEST, berta, NOW)
    assert message.subject.startswith("Settled in writing, no meeting needed: Budget review · ")
    assert message.body.startswith("Settled in writing: no meeting needed.\n")
    assert "Budget review, was planned for Fri 6 Mar 2026, 15:00 (Berlin time)" in message.body
    assert "- 40k, with the spare\n- One engineer in Q2\n" in message.body
    html = _html(message)
    assert html.index("Settled in writing: no meeting needed.") < html.index("All settled")

    attachment, calendar, event = _event(message)
    assert attachment[0] == "invite.ics"
    assert "method=CANCEL" in attachment[2]
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == invitation["UID"]
    # The CANCEL supersedes the invitation calendars hold.
    assert event["SEQUENCE"] > invitation["SEQUENCE"]
    assert SETTLED_LINE in str(event["DESCRIPTION"])


def test_an_ordinary_recap_carries_no_calendar_attachment(sync, olu, berta):
    sync.recap_summary = "Done."
    sync.no_action_items = True
    sync.save()
    services.publish_recap(meeting=sync, by=olu, now=sync.ends_at + timedelta(minutes=5))
    message = _deliver_latest(Kind.RECAP_DIGEST, berta, sync.ends_at + timedelta(minutes=5))
    assert message.attachments == []
    assert message.subject.startswith("Recap: Budget review")
    assert "Settled in writing" not in message.body


def test_an_agenda_digest_still_pending_when_the_meeting_is_settled_is_not_sent(sync, olu, berta):
    _settle(sync, olu, berta)
    row = Notification.objects.filter(kind=Kind.AGENDA_DIGEST, recipient=berta).first()
    assert notifications.deliver(row.pk, now=NOW).status == "skipped"


# -- the agenda digest: comment counts and resolutions ------------------------------------


def test_agenda_digest_shows_comment_counts_resolutions_and_time_left(sync, olu, berta):
    budget, hiring = sync.agenda_items.all()
    services.add_comment(item=budget, author=olu, body="Is 40k enough?", now=NOW)
    services.add_comment(item=budget, author=berta, body="Yes.", now=NOW)
    services.add_comment(item=hiring, author=berta, body="One is enough.", now=NOW)
    services.settle_item(item=hiring, resolution="One engineer in **Q2**", by=olu, now=NOW)
    # Shortening is an amendment: attendees get the updated agenda digest.
    services.shorten_meeting(meeting=sync, by=olu, now=NOW)

    message = _deliver_latest(Kind.AGENDA_DIGEST, berta, NOW)
    body = message.body
    assert "Agenda (20 of 45 min still to discuss)\n" in body
    assert "1. Budget (20 min) · Berta · 2 comments\n" in body
    assert "2. Hiring (25 min) · 1 comment\n   Decided in writing: One engineer in Q2\n" in body
    html = _html(message)
    assert "20 of 45 min still to discuss" in html
    assert "<strong>Budget</strong> (20 min) · Berta · 2 comments" in html
    assert "· 1 comment<br><strong>Decided in writing:</strong> One engineer in Q2" in html


def test_agenda_digest_reads_counts_and_resolutions_without_a_query_per_item(team, olu, berta):
    counts = []
    for size in (2, 8):
        meeting = MeetingFactory(team=team, organizer=olu, attendees=[berta], now=NOW)
        ready_agenda(meeting, by=olu, items=size)
        for n, item in enumerate(meeting.agenda_items.all()):
            services.add_comment(item=item, author=berta, body=f"Comment {n}", now=NOW)
            if n % 2:
                services.settle_item(item=item, resolution=f"Yes {n}", by=olu, now=NOW)
        with CaptureQueriesContext(connection) as ctx:
            shared, _ics = _agenda_digest_shared(meeting.pk)
        items = shared["items"]
        assert [i.comment_count for i in items] == [1] * size
        assert [i.resolution_text for i in items][:2] == ["", "Yes 1"]
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
