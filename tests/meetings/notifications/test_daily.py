"""The daily digest's content for many users at once: what each user's own would
say, in a fixed number of queries however many users there are."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import notifications, services
from meetings.models import Notification
from meetings.notifications.daily import daily_digest_contents
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

# Per delivered message, in a test's transaction: SAVEPOINT, the row's lock, the
# mark, RELEASE SAVEPOINT (in production the row's own BEGIN/COMMIT instead).
ROW_QUERIES = 4

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def _person(team, zone: str, hour: int = 8):
    user = UserFactory(time_zone=zone, digest_hour=hour, work_days=0b1111111)
    MembershipFactory(user=user, team=team)
    return user


def _pks(content: dict) -> dict:
    return {key: [x.pk for x in value] if isinstance(value, list) else value
            for key, value in content.items()}  # fmt: skip


def test_each_user_gets_their_own_local_day_and_their_own_items(team, organizer, now):
    # now = Wed 4 Mar 2026 12:00 UTC: 21:00 in Tokyo, 04:00 in Los Angeles.
    tokyo = _person(team, "Asia/Tokyo")
    angeles = _person(team, "America/Los_Angeles")
    # 4 Mar 14:00 UTC: still "today" (Wed) for Tokyo (23:00), and 06:00 Wed in LA.
    both = MeetingFactory(team=team, organizer=organizer, attendees=[tokyo, angeles],
                          starts_at=now + timedelta(hours=2), now=now)  # fmt: skip
    # 4 Mar 16:00 UTC: Thu 01:00 in Tokyo (tomorrow there), Wed 08:00 in LA (today).
    la_only_today = MeetingFactory(team=team, organizer=organizer, attendees=[tokyo, angeles],
                                   starts_at=now + timedelta(hours=4), now=now)  # fmt: skip
    # Organized by Tokyo, starting in 3 days without an agenda: owed by Tokyo only.
    owed = MeetingFactory(team=team, organizer=tokyo, attendees=[angeles],
                          starts_at=now + timedelta(days=3), now=now)  # fmt: skip
    # A recap published by Tokyo: LA has it to read, Tokyo (its author) does not.
    two_days_ago = now - timedelta(days=2)
    past = MeetingFactory(team=team, organizer=tokyo, attendees=[angeles],
                          starts_at=two_days_ago, now=now - timedelta(days=3))  # fmt: skip
    ready_agenda(past, by=tokyo)
    services.send_agenda(meeting=past, by=tokyo, now=now - timedelta(days=3))
    past.recap_summary = "Done."
    past.save()
    services.add_action_item(meeting=past, description="Tokyo's", owner=tokyo,
                             due_date=date(2026, 3, 3), now=now)  # fmt: skip
    services.add_action_item(meeting=past, description="LA's", owner=angeles,
                             due_date=date(2026, 3, 9), now=now)  # fmt: skip
    services.publish_recap(meeting=past, by=tokyo, now=now)

    together = daily_digest_contents([tokyo, angeles], now=now)
    for user in (tokyo, angeles):
        assert _pks(together[user.pk]) == _pks(daily_digest_contents([user], now=now)[user.pk])
    assert [m.pk for m in together[tokyo.pk]["todays_meetings"]] == [both.pk]
    assert [m.pk for m in together[angeles.pk]["todays_meetings"]] == [both.pk, la_only_today.pk]
    assert together[tokyo.pk]["today"] == date(2026, 3, 4)
    assert [m.pk for m in together[tokyo.pk]["missing_agenda"]] == [owed.pk]
    assert together[angeles.pk]["missing_agenda"] == []
    assert [m.pk for m in together[angeles.pk]["to_acknowledge"]] == [past.pk]
    assert together[tokyo.pk]["to_acknowledge"] == []
    assert [i.description for i in together[tokyo.pk]["overdue_items"]] == ["Tokyo's"]
    assert [i.description for i in together[angeles.pk]["open_items"]] == ["LA's"]


def _users_with_something_to_say(team, organizer, count, now):
    people = [_person(team, "Europe/Berlin", hour=13) for _ in range(count)]
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=people,
                             starts_at=now + timedelta(hours=3), now=now)  # fmt: skip
    return people, meeting


def test_queueing_and_delivering_daily_digests_take_the_same_queries_for_5_or_50(
    team, organizer, now
):
    # now = 12:00 UTC = 13:00 in Berlin: every person's digest hour.
    queue_counts, deliver_counts = [], []
    for size in (5, 50):
        Notification.objects.all().delete()
        people, meeting = _users_with_something_to_say(team, organizer, size, now)
        with CaptureQueriesContext(connection) as queued:
            notifications.queue_daily_digests(now=now)
        ids = list(
            Notification.objects.filter(kind=Kind.DAILY_DIGEST, recipient__in=people).values_list(
                "pk", flat=True
            )
        )
        assert len(ids) == size
        with CaptureQueriesContext(connection) as delivered:
            outcomes = notifications.deliver_many(ids, now=now)
        assert {o.status for o in outcomes.values()} == {"sent"}
        queue_counts.append(len(queued))
        deliver_counts.append(len(delivered))
        meeting.delete()
        for person in people:
            person.delete()
    assert queue_counts[0] == queue_counts[1], queue_counts
    # Delivery: what the digests say is loaded once per chunk; each message then
    # costs only its own short transaction (a savepoint inside this test's): lock
    # the row, mark it sent.
    assert deliver_counts[1] - deliver_counts[0] == 45 * ROW_QUERIES, deliver_counts


def test_waiting_for_your_input_lists_open_items_you_own_and_fresh_mentions(
    team, organizer, now, django_assert_num_queries
):
    from django.core import mail

    from meetings.models import AgendaItem
    from meetings.notifications import outbox

    kiran, lou, dana = (_person(team, zone) for zone in ("Asia/Kolkata", "UTC", "UTC"))
    soon = MeetingFactory(team=team, organizer=organizer, attendees=[kiran, lou, dana],
                          title="Budget review", starts_at=now + timedelta(days=2),
                          now=now)  # fmt: skip
    later = MeetingFactory(team=team, organizer=organizer, attendees=[kiran], title="Far off",
                           starts_at=now + timedelta(days=10), now=now)  # fmt: skip
    ready_agenda(soon, by=organizer, items=3)
    ready_agenda(later, by=organizer, items=1)
    budget, hiring, settled = soon.agenda_items.all()
    AgendaItem.objects.filter(pk__in=[budget.pk, settled.pk]).update(owner=kiran)
    AgendaItem.objects.filter(pk=budget.pk).update(title="Budget")
    AgendaItem.objects.filter(meeting=later).update(owner=kiran)  # more than a week away
    services.settle_item(item=settled, resolution="Done", by=kiran, now=now)
    # A mention yesterday evening counts; one two days ago was in an earlier digest.
    services.add_comment(item=hiring, author=organizer, body=f"@{lou.name} please look",
                         now=now - timedelta(hours=20))  # fmt: skip
    services.add_comment(item=budget, author=organizer, body=f"@{dana.name} old news",
                         now=now - timedelta(days=2))  # fmt: skip

    with django_assert_num_queries(7):  # however many users
        contents = daily_digest_contents([kiran, lou, dana, organizer], now=now)
    assert [(i.pk, i.is_yours) for i in contents[kiran.pk]["waiting_input"]] == [(budget.pk, True)]
    assert [(i.pk, i.mentioned_lately) for i in contents[lou.pk]["waiting_input"]] == [
        (hiring.pk, True)
    ]
    assert contents[dana.pk]["waiting_input"] == contents[organizer.pk]["waiting_input"] == []
    # Declined: no longer asked.
    soon.attendees.filter(user=kiran).update(rsvp="no")
    assert daily_digest_contents([kiran], now=now)[kiran.pk]["waiting_input"] == []
    soon.attendees.filter(user=kiran).update(rsvp="yes")

    day = now.date().isoformat()
    ids = outbox.insert_notifications(
        [outbox.Row(Kind.DAILY_DIGEST, day, u.pk, None, now) for u in (kiran, lou)], now=now
    )
    assert {o.status for o in notifications.deliver_many(ids, now=now).values()} == {"sent"}
    by_recipient = {m.to[0]: m for m in mail.outbox[-2:]}
    message = by_recipient[kiran.email]
    assert "1 agenda item waiting for your input" in message.subject
    assert (
        "Waiting for your input\n- Budget (Budget review, Fri 6 Mar, 17:30 IST): "
        "your item, not settled yet\n" in message.body
    )
    html = by_recipient[lou.email].alternatives[0][0]
    assert "Waiting for your input" in html
    assert "(Budget review, Fri 6 Mar, 12:00 UTC): <strong>you were mentioned</strong>" in html
