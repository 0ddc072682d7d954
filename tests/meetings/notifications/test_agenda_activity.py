"""The batch of agenda activity (issue 14, item 4): at most one message per person
per working window, in their own working hours, saying what changed since their
last one, never their own doings, and nothing at all when nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from meetings import notifications, services
from meetings.models import AgendaItem, Notification
from meetings.notifications.activity_messages import activity_contents
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
# Per delivered message, in a test's transaction: SAVEPOINT, the row's lock, the
# mark, RELEASE SAVEPOINT (see test_daily.py).
ROW_QUERIES = 4

# Wed 4 Mar 2026 12:00 UTC: 13:00 in Berlin, 17:30 in Kolkata, 04:00 in Los Angeles.
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _person(team, name: str, zone: str = "UTC"):
    user = UserFactory(display_name=name, time_zone=zone)
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def people(team):
    """Olu organizes (UTC); Berta (Berlin), Kiran (Kolkata) and Lou (Los Angeles)
    attend; all work 09:00–17:00 on weekdays."""
    return {
        "olu": _person(team, "Olu"),
        "berta": _person(team, "Berta", "Europe/Berlin"),
        "kiran": _person(team, "Kiran", "Asia/Kolkata"),
        "lou": _person(team, "Lou", "America/Los_Angeles"),
    }


@pytest.fixture
def sync(team, people):
    """A meeting on Fri 6 Mar, its agenda out, two items with time boxes."""
    meeting = MeetingFactory(
        team=team, organizer=people["olu"], title="Budget review",
        attendees=[people["berta"], people["kiran"], people["lou"]],
        starts_at=_at(6, 14), now=NOW - timedelta(days=1),
    )  # fmt: skip
    ready_agenda(meeting, by=people["olu"], items=2)
    first, second = meeting.agenda_items.all()
    AgendaItem.objects.filter(pk=first.pk).update(title="Budget", timebox_minutes=20,
                                                  owner=people["kiran"])  # fmt: skip
    AgendaItem.objects.filter(pk=second.pk).update(title="Hiring", timebox_minutes=25)
    services.send_agenda(meeting=meeting, by=people["olu"], now=NOW - timedelta(days=1))
    return meeting


def _items(meeting):
    return list(meeting.agenda_items.all())


def _rows(**filters) -> dict:
    """{recipient's name: (stage, send_after, state)} of the batch rows."""
    return {
        n.recipient.name: (n.stage, n.send_after, n.state)
        for n in Notification.objects.filter(kind=Kind.AGENDA_ACTIVITY, **filters).select_related(
            "recipient"
        )
    }


def _deliver(user, at: datetime):
    """Deliver `user`'s pending batch at `at`: (outcome, message or None)."""
    from django.core import mail

    row = Notification.objects.get(
        kind=Kind.AGENDA_ACTIVITY, recipient=user, state=Notification.State.PENDING
    )
    assert row.send_after <= at, "delivered before its window"
    sent_before = len(mail.outbox)
    outcome = notifications.deliver(row.pk, now=at)
    message = mail.outbox[-1] if len(mail.outbox) > sent_before else None
    return outcome.status, message


# -- the windows ----------------------------------------------------------------------


def test_one_event_queues_one_row_per_attendee_for_their_next_working_window(sync, people):
    budget, _ = _items(sync)
    services.add_comment(item=budget, author=people["olu"], body="Is 40k enough?", now=NOW)
    pending = Notification.State.PENDING
    assert _rows() == {
        # 13:00 UTC is 14:00 in Berlin, inside working hours: an hour from now.
        "Berta": ("2026-03-04", _at(4, 13), pending),
        # 18:30 in Kolkata: after hours, so Thursday 09:00 there (03:30 UTC).
        "Kiran": ("2026-03-05", _at(5, 3, 30), pending),
        # 05:00 in Los Angeles: before hours, so 09:00 there (17:00 UTC) today.
        "Lou": ("2026-03-04", _at(4, 17), pending),
    }  # and none for Olu, who wrote it


def test_more_events_in_one_window_make_one_message_that_reports_them_all(sync, people):
    budget, hiring = _items(sync)
    services.add_comment(item=budget, author=people["olu"], body="Is 40k enough?", now=NOW)
    services.add_comment(item=budget, author=people["berta"], body="Yes, with the spare.",
                         now=NOW + timedelta(minutes=10))  # fmt: skip
    services.settle_item(item=hiring, resolution="Hire one engineer in Q2", by=people["olu"],
                         now=NOW + timedelta(minutes=20))  # fmt: skip
    rows = _rows()
    assert set(rows) == {"Berta", "Kiran", "Lou", "Olu"}  # Olu: for Berta's comment
    assert Notification.objects.filter(kind=Kind.AGENDA_ACTIVITY).count() == 4
    assert rows["Lou"][:2] == ("2026-03-04", _at(4, 17))  # the first event's window, kept

    status, message = _deliver(people["lou"], _at(4, 17))
    assert status == "sent"
    assert message.subject == "2 comments and 1 item settled on “Budget review”"
    body = message.body
    assert "Olu on “Budget”: “Is 40k enough?”" in body
    assert "Berta on “Budget”: “Yes, with the spare.”" in body
    assert "Olu settled “Hiring” in writing: Hire one engineer in Q2" in body
    # Berta's batch leaves out her own comment.
    status, message = _deliver(people["berta"], _at(4, 13))
    assert message.subject == "1 comment and 1 item settled on “Budget review”"
    assert "Yes, with the spare." not in message.body


def test_after_a_windows_batch_was_sent_news_waits_for_the_next_window(sync, people):
    budget, _ = _items(sync)
    services.add_comment(item=budget, author=people["olu"], body="First", now=NOW)
    assert _deliver(people["berta"], _at(4, 13))[0] == "sent"

    services.add_comment(item=budget, author=people["olu"], body="Second", now=_at(4, 14))
    rows = _rows(recipient=people["berta"], state=Notification.State.PENDING)
    # Thursday 09:00 in Berlin; Lou's batch of today still waits and takes it.
    assert rows == {"Berta": ("2026-03-05", _at(5, 8), Notification.State.PENDING)}
    assert (
        Notification.objects.filter(kind=Kind.AGENDA_ACTIVITY, recipient=people["lou"]).count()
        == 1
    )

    status, message = _deliver(people["berta"], _at(5, 8))
    assert status == "sent"
    assert "Second" in message.body and "First" not in message.body
    _, lous = _deliver(people["lou"], _at(4, 17))
    assert "First" in lous.body and "Second" in lous.body


def test_nothing_changed_since_the_last_batch_sends_nothing(sync, people):
    budget, _ = _items(sync)
    services.add_comment(item=budget, author=people["olu"], body="First", now=NOW)
    assert _deliver(people["berta"], _at(4, 13))[0] == "sent"
    # A batch queued for the next window, with nothing new by the time it goes
    # (here: queued without any new event).
    notifications.queue_activity(sync, by=people["olu"], now=_at(4, 14))
    assert activity_contents([people["berta"]], now=_at(5, 8))[people["berta"].pk]["count"] == 0
    assert _deliver(people["berta"], _at(5, 8)) == ("skipped", None)
    assert not Notification.objects.filter(
        kind=Kind.AGENDA_ACTIVITY, recipient=people["berta"], stage="2026-03-05"
    ).exists()


def test_nobody_hears_of_their_own_doings(sync, people):
    budget, hiring = _items(sync)
    services.add_comment(item=budget, author=people["kiran"], body="Mine", now=NOW)
    services.settle_item(item=budget, resolution="40k", by=people["kiran"], now=NOW)
    assert "Kiran" not in _rows()
    # Someone else's comment gives Kiran a batch: it leaves out Kiran's own two.
    services.add_comment(item=hiring, author=people["lou"], body="Lou's", now=NOW)
    status, message = _deliver(people["kiran"], _at(5, 3, 30))
    assert message.subject == "1 comment on “Budget review”"
    assert "Mine" not in message.body and "40k" not in message.body


def test_a_mentioned_team_admin_who_does_not_attend_gets_the_mention_first(sync, team, people):
    # Comments are for attendees and the team's admins: only they can be mentioned.
    dana = _person(team, "Dana")
    _person(team, "Eve")
    Membership.objects.filter(user=dana, team=team).update(role=Membership.Role.ADMIN)
    budget, hiring = _items(sync)
    services.settle_item(item=hiring, resolution="One engineer", by=people["olu"], now=NOW)
    body = "@Dana can you confirm the **numbers**? @Eve too"
    services.add_comment(item=budget, author=people["berta"], body=body, now=NOW)
    assert _rows()["Dana"][:2] == ("2026-03-04", _at(4, 13))
    assert "Eve" not in _rows()  # a plain member who does not attend
    status, message = _deliver(dana, _at(4, 13))
    assert status == "sent"
    assert message.subject == "Berta mentioned you on “Budget”"
    body = message.body
    assert body.startswith("1 comment on “Budget review”.")
    assert "Mentioned you\n- Berta mentioned you on “Budget” (Budget review): " in body
    assert "“@Dana can you confirm the numbers? @Eve too”" in body
    # Only the mention: the meeting's other news is for its attendees.
    assert "One engineer" not in body
    html = message.alternatives[0].content
    assert "<strong>Berta mentioned you on “Budget”</strong>" in html


def test_an_attendee_who_is_mentioned_reads_it_first_then_the_rest(sync, people):
    budget, hiring = _items(sync)
    services.settle_item(item=hiring, resolution="One engineer", by=people["olu"], now=NOW)
    services.add_comment(item=budget, author=people["berta"], body="@Lou numbers please",
                         now=NOW)  # fmt: skip
    _, message = _deliver(people["lou"], _at(4, 17))
    assert message.subject == (
        "Berta mentioned you on “Budget” · 1 comment and 1 item settled on “Budget review”"
    )
    body = message.body
    assert body.index("Berta mentioned you") < body.index("Olu settled “Hiring”")
    assert body.count("numbers please") == 1


# -- what a batch says -----------------------------------------------------------------


def test_batch_across_meetings_text_and_html(sync, team, people):
    other = MeetingFactory(team=team, organizer=people["olu"], title="Roadmap <Q2>",
                           attendees=[people["lou"]], starts_at=_at(9, 16),
                           now=NOW - timedelta(days=1))  # fmt: skip
    ready_agenda(other, by=people["olu"], items=1)
    budget, hiring = _items(sync)
    (roadmap,) = _items(other)
    typed = "**Bold** claim & <script>alert(1)</script> more"
    services.add_comment(item=budget, author=people["olu"], body=typed, now=NOW)
    services.add_comment(item=hiring, author=people["berta"], body="Agreed", now=NOW)
    services.add_comment(item=roadmap, author=people["olu"], body="Draft attached", now=NOW)
    services.settle_item(item=hiring, resolution="Hire one engineer in Q2", by=people["olu"],
                         now=NOW)  # fmt: skip
    services.shorten_meeting(meeting=sync, by=people["olu"], now=NOW)

    _, message = _deliver(people["lou"], _at(4, 17))
    assert message.subject == (
        "3 comments, 1 item settled and 1 meeting shortened on 2 of your meetings"
    )
    body = message.body
    # Grouped by meeting in start order, at the reader's local time (Los Angeles).
    assert "Budget review · Fri 6 Mar, 06:00 (Los Angeles time)" in body
    assert "Roadmap <Q2> · Mon 9 Mar, 09:00 (Los Angeles time)" in body
    assert body.index("Budget review ·") < body.index("Roadmap <Q2> ·")
    # The comment as plain text from its sanitized HTML: no markup, no entities.
    # Markup typed as text stays text (the HTML part escapes it).
    assert "Olu on “Budget”: “Bold claim & <script>alert(1)</script> more”" in body
    assert "**" not in body and "&amp;" not in body and "&lt;" not in body
    assert "Olu settled “Hiring” in writing: Hire one engineer in Q2" in body
    # 45 min of time boxes, Hiring's 25 settled: 60 min → 20 min; ends 06:20 in LA.
    assert "Olu shortened the meeting by 40 min: it now ends at 06:20" in body
    assert f"http://localhost:8000/meetings/{sync.pk}/" in body

    html = message.alternatives[0].content
    assert "Roadmap &lt;Q2&gt;" in html
    assert "Bold claim &amp; &lt;script&gt;alert(1)&lt;/script&gt; more" in html
    assert "<script" not in html
    assert f'<a href="http://localhost:8000/meetings/{other.pk}/">Roadmap &lt;Q2&gt;</a>' in html


def test_a_meeting_settled_in_writing_is_said_so(sync, people):
    budget, hiring = _items(sync)
    services.settle_item(item=budget, resolution="40k", by=people["kiran"], now=NOW)
    services.settle_item(item=hiring, resolution="One engineer", by=people["olu"], now=NOW)
    services.settle_meeting_in_writing(meeting=sync, by=people["olu"], summary="All settled.",
                                       no_action_items=True, now=NOW)  # fmt: skip
    _, message = _deliver(people["berta"], _at(4, 13))
    assert message.subject == (
        "2 items settled and 1 meeting settled in writing on “Budget review”"
    )
    assert "Settled in writing: no meeting needed (Olu)" in message.body


def test_a_canceled_meetings_activity_is_not_reported(sync, people):
    budget, _ = _items(sync)
    services.add_comment(item=budget, author=people["olu"], body="Hm", now=NOW)
    services.cancel_meeting(meeting=sync, by=people["olu"], now=NOW + timedelta(minutes=5))
    assert _deliver(people["berta"], _at(4, 13))[0] == "skipped"


def test_a_chunk_of_batches_takes_the_same_queries_for_5_or_50(team, people):
    counts = []
    for size in (5, 50):
        crowd = [_person(team, f"P{size}-{n}") for n in range(size)]
        meeting = MeetingFactory(team=team, organizer=people["olu"], attendees=crowd,
                                 starts_at=_at(6, 14), now=NOW)  # fmt: skip
        ready_agenda(meeting, by=people["olu"], items=2)
        first, second = _items(meeting)
        services.add_comment(item=first, author=people["olu"], body="One", now=NOW)
        services.add_comment(item=second, author=people["olu"], body="@" + crowd[0].name,
                             now=NOW)  # fmt: skip
        services.settle_item(item=second, resolution="Done", by=people["olu"], now=NOW)
        ids = list(
            Notification.objects.filter(
                kind=Kind.AGENDA_ACTIVITY, recipient__in=crowd
            ).values_list("pk", flat=True)
        )
        assert len(ids) == size
        with CaptureQueriesContext(connection) as ctx:
            outcomes = notifications.deliver_many(ids, now=_at(4, 13))
        assert {o.status for o in outcomes.values()} == {"sent"}
        counts.append(len(ctx.captured_queries))
    assert counts[1] - counts[0] == 45 * ROW_QUERIES, counts
