"""E-mails about action items (issue 13): the assignment to a new owner, the due and
overdue reminders, the organizer's notice of a decline; answer links in them and in
the recap and daily digests; and when each is no longer sent."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail

from meetings import notifications, services, signing
from meetings.models import ActionItem, Notification
from meetings.notifications import action_messages, messages, outbox
from meetings.notifications.daily import daily_digest_contents
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
LINK = re.compile(r"http://localhost:8000/email/action/(accept|done|redate|decline)/([^/\s\"]+)/")


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def answer_links(text: str) -> list[tuple[str, dict]]:
    """(purpose, payload) of every answer link in `text`, each read back as its purpose
    (a link made for another purpose would not read)."""
    return [
        (purpose, signing.read_token(f"action_{purpose}", token, now=_issued(token, purpose)))
        for purpose, token in LINK.findall(text)
    ]


def _issued(token: str, purpose: str):
    # The links were made at the test's own "now": read them as of then.
    from datetime import UTC, datetime

    from django.core import signing as django_signing

    data = django_signing.loads(token, salt=f"bookend.email.action_{purpose}")
    return datetime.fromtimestamp(data["iat"], tz=UTC)


@pytest.fixture
def third(team):
    user = UserFactory(display_name="Zed", time_zone="America/Chicago")
    MembershipFactory(user=user, team=team)
    return user


@pytest.fixture
def out(meeting, organizer, member):
    """A published recap: two items of the member's, due two days after the meeting."""
    after = meeting.ends_at + timedelta(minutes=10)
    meeting.recap_summary = "We ship."
    meeting.save(update_fields=["recap_summary"])
    due = meeting.local_date + timedelta(days=2)
    first = services.add_action_item(meeting=meeting, description="Write notes", owner=member,
                                     due_date=due, now=after)  # fmt: skip
    second = services.add_action_item(meeting=meeting, description="Fix bug", owner=member,
                                      due_date=due, now=after)  # fmt: skip
    services.publish_recap(meeting=meeting, by=organizer, now=after)
    return SimpleNamespace(meeting=meeting, first=first, second=second, after=after)


def due_row(item: ActionItem, name: str, *, at, due=None, recipient=None) -> Notification:
    """Queue a reminder stage of `item` as the sweep names it."""
    stage = f"{name}.{item.pk}@{(due or item.due_date):%Y%m%d}"
    row = outbox.Row(Kind.ACTION_DUE, stage, (recipient or item.owner).pk, item.meeting_id, at)
    [pk] = outbox.insert_notifications([row], now=at)
    return Notification.objects.select_related("recipient", "meeting").get(pk=pk)


def rendered(notification: Notification, now):
    notification = Notification.objects.select_related("recipient", "meeting").get(
        pk=notification.pk
    )
    return messages.message_for(notification, now=now)


# -- due and overdue reminders ------------------------------------------------------------


def test_due_reminder_says_its_stage_and_carries_the_four_answers(out, member):
    at = out.after + timedelta(days=1)
    message = rendered(due_row(out.first, "due_tomorrow", at=at), at)
    assert message.to == [member.email]
    assert message.subject == "Due tomorrow: Write notes"
    assert message.body.startswith("Your action item is due tomorrow (")
    assert "Write notes" in message.body and "Fix bug" not in message.body
    assert "Weekly sync" in message.body
    for part in (message.body, html_of(message)):
        links = answer_links(part)
        assert {purpose for purpose, _ in links} == {"accept", "done", "redate", "decline"}
        assert all(payload["i"] == out.first.pk and payload["o"] == member.pk
                   for _, payload in links)  # fmt: skip


def test_due_reminder_of_an_accepted_item_offers_no_accept(out, member):
    services.accept_action_item(item=out.first, by=member, now=out.after)
    at = out.after + timedelta(days=3)
    message = rendered(due_row(out.first, "overdue1d", at=at), at)
    assert message.subject == "Overdue by 1 day: Write notes"
    assert {purpose for purpose, _ in answer_links(message.body)} == {"done", "redate", "decline"}


@pytest.mark.parametrize(
    ("name", "wording"),
    [
        ("due_tomorrow", "due tomorrow"),
        ("due_in3d", "due in 3 days"),
        ("due_today", "due today"),
        ("overdue1d", "overdue by 1 day"),
        ("overdue1w", "overdue by 1 week"),
        ("overdue4w", "overdue by 4 weeks"),
    ],
)
def test_each_stage_has_its_wording(name, wording):
    assert action_messages.stage_wording(f"{name}.42@20260308") == wording
    assert action_messages.stage_item_pk(f"{name}.42@20260308") == 42


def test_the_sweep_queues_a_reminder_that_renders(out, member):
    # Due Sun 8 Mar; "due tomorrow" from midnight of Sat 7 Mar in Kolkata (18:30 UTC Fri).
    at = out.after.replace(day=7, hour=6)
    notifications.sweep(now=at)
    row = Notification.objects.get(kind=Kind.ACTION_DUE, stage__contains=f".{out.first.pk}@")
    assert row.stage == f"due_tomorrow.{out.first.pk}@20260308"
    assert rendered(row, at).subject == "Due tomorrow: Write notes"


@pytest.mark.parametrize("change", ["done", "declined", "reassigned", "policy off"])
def test_due_reminder_is_not_sent_once_it_no_longer_applies(out, member, organizer, team, change):
    at = out.after + timedelta(days=1)
    row = due_row(out.first, "due_tomorrow", at=at)
    assert rendered(row, at) is not None
    if change == "done":
        services.set_action_item_done(item=out.first, done=True, by=member, now=at)
    elif change == "declined":
        services.decline_action_item(item=out.first, reason="", by=member, now=at)
    elif change == "reassigned":
        services.reassign_action_item(item=out.first, owner=organizer, by=organizer, now=at)
    else:
        team.remind_action_items = False
        team.save(update_fields=["remind_action_items"])
    assert rendered(row, at) is None


def test_a_redated_item_gets_no_reminder_for_its_old_date(out, member):
    at = out.after + timedelta(days=3)
    old = due_row(out.first, "overdue1d", at=at)
    new_date = out.first.due_date + timedelta(days=7)
    services.redate_action_item(item=out.first, due_date=new_date, by=member, now=at)
    assert rendered(old, at) is None
    later = at + timedelta(days=6)
    message = rendered(due_row(out.first, "due_tomorrow", at=later), later)
    assert message is not None
    assert "re-dated 1 time" in message.body and "re-dated 1 time" in html_of(message)


def test_a_later_stage_silences_the_same_item_only(out):
    at = out.after + timedelta(days=2)
    first_today = due_row(out.first, "due_today", at=at)
    second_today = due_row(out.second, "due_today", at=at + timedelta(minutes=1))
    first_overdue = due_row(out.first, "overdue1d", at=at + timedelta(days=1))
    mail.outbox.clear()
    outcomes = notifications.deliver_many(
        [first_today.pk, second_today.pk, first_overdue.pk], now=at + timedelta(days=1)
    )
    assert outcomes[first_today.pk].status == "skipped"
    # Another item of the same meeting, queued later, does not silence it, nor it this one.
    assert outcomes[second_today.pk].status == "sent"
    assert outcomes[first_overdue.pk].status == "sent"
    assert sorted(m.subject for m in mail.outbox) == [
        "Due today: Fix bug",
        "Overdue by 1 day: Write notes",
    ]


def test_a_reminder_to_someone_who_is_not_the_owner_is_not_sent(out, organizer):
    at = out.after + timedelta(days=1)
    assert rendered(due_row(out.first, "due_tomorrow", at=at, recipient=organizer), at) is None


# -- assignment and decline notices -----------------------------------------------------------


def test_the_new_owner_gets_the_item_with_answer_links(out, third, organizer):
    at = out.after + timedelta(hours=1)
    services.reassign_action_item(item=out.first, owner=third, by=organizer, now=at)
    row = Notification.objects.get(kind=Kind.ACTION_ASSIGNED, recipient=third)
    message = rendered(row, at)
    assert message.to == [third.email]
    assert message.subject.startswith("Action item for you: Write notes · due Sun 8 Mar")
    assert message.body.startswith("You now own an action item from Weekly sync: due Sunday 8")
    assert f"organized by {organizer.name}" in message.body
    links = answer_links(message.body)
    assert {purpose for purpose, _ in links} == {"accept", "done", "redate", "decline"}
    assert {payload["o"] for _, payload in links} == {third.pk}
    # Given to someone else again before it went out: the first notice is not sent.
    services.reassign_action_item(item=out.first, owner=organizer, by=organizer,
                                  now=at + timedelta(minutes=5))  # fmt: skip
    assert rendered(row, at) is None


def test_the_organizer_learns_who_declined_what_and_why(out, member, organizer):
    at = out.after + timedelta(hours=1)
    services.decline_action_item(item=out.first, reason="I am on leave", by=member, now=at)
    row = Notification.objects.get(kind=Kind.ACTION_DECLINED)
    assert row.recipient_id == organizer.pk
    message = rendered(row, at)
    assert message.subject == f"{member.name} declined an action item: Write notes"
    assert "Their reason: I am on leave" in message.body
    assert "http://localhost:8000/action-items/?response=declined" in message.body
    assert 'href="http://localhost:8000/action-items/?response=declined"' in html_of(message)
    assert "/email/action/" not in message.body  # the organizer answers nothing here


def test_a_decline_notice_is_dropped_once_the_item_has_a_new_owner(out, member, organizer, third):
    at = out.after + timedelta(hours=1)
    services.decline_action_item(item=out.first, reason="", by=member, now=at)
    first_notice = Notification.objects.get(kind=Kind.ACTION_DECLINED)
    assert "They gave no reason." in rendered(first_notice, at).body
    services.reassign_action_item(item=out.first, owner=third, by=organizer,
                                  now=at + timedelta(minutes=5))  # fmt: skip
    assert rendered(first_notice, at) is None
    # The new owner declines too: only their decline is told.
    services.decline_action_item(item=out.first, reason="Not me either", by=third,
                                 now=at + timedelta(minutes=10))  # fmt: skip
    second_notice = Notification.objects.exclude(pk=first_notice.pk).get(kind=Kind.ACTION_DECLINED)
    assert rendered(first_notice, at) is None
    assert "Zed declined" in rendered(second_notice, at).subject


# -- the digests -------------------------------------------------------------------------------


def test_recap_digest_gives_the_owner_answer_links_for_their_own_items_only(
    out, member, organizer
):
    services.redate_action_item(item=out.second, due_date=out.second.due_date + timedelta(days=1),
                                by=member, now=out.after)  # fmt: skip
    row = Notification.objects.get(kind=Kind.RECAP_DIGEST, recipient=member)
    message = rendered(row, out.after)
    mine = message.body[: message.body.index("We ship.")]
    links = answer_links(mine)
    # The re-dated item was accepted by its new date: no Accept for it.
    assert sorted(p for p, payload in links if payload["i"] == out.first.pk) == [
        "accept", "decline", "done", "redate",
    ]  # fmt: skip
    assert sorted(p for p, payload in links if payload["i"] == out.second.pk) == [
        "decline", "done", "redate",
    ]  # fmt: skip
    assert "Fix bug · due Mon 9 Mar · re-dated 1 time" in mine
    assert len(answer_links(html_of(message))) == 7
    # The organizer reads the same items, with no links to answer for someone else.
    theirs = rendered(Notification.objects.get(kind=Kind.RECAP_DIGEST, recipient=organizer),
                      out.after)  # fmt: skip
    assert "/email/action/" not in theirs.body + html_of(theirs)
    assert "re-dated 1 time" in theirs.body


def daily_row(user, at) -> Notification:
    [pk] = outbox.insert_notifications(
        [outbox.Row(Kind.DAILY_DIGEST, at.date().isoformat(), user.pk, None, at)], now=at
    )
    return Notification.objects.select_related("recipient").get(pk=pk)


def test_daily_digest_owner_answers_their_items_from_it(out, member):
    at = out.after + timedelta(days=1)
    message = rendered(daily_row(member, at), at)
    links = answer_links(message.body)
    assert {payload["i"] for _, payload in links} == {out.first.pk, out.second.pk}
    assert len(links) == 8
    # A declined item is no longer theirs to do: gone from their list.
    services.decline_action_item(item=out.first, reason="", by=member, now=at)
    message = rendered(daily_row(member, at + timedelta(days=1)), at + timedelta(days=1))
    assert "Write notes" not in message.body


def test_daily_digest_shows_the_organizer_declined_and_lately_redated_items(
    out, member, organizer, django_assert_num_queries
):
    at = out.after + timedelta(days=1)
    services.decline_action_item(item=out.first, reason="On leave", by=member, now=at)
    services.redate_action_item(item=out.second, due_date=out.second.due_date + timedelta(days=3),
                                by=member, now=at)  # fmt: skip
    soon = at + timedelta(hours=2)
    with django_assert_num_queries(7):  # however many users
        contents = daily_digest_contents([organizer, member], now=soon)
    assert [i.pk for i in contents[organizer.pk]["declined_items"]] == [out.first.pk]
    assert [i.pk for i in contents[organizer.pk]["redated_items"]] == [out.second.pk]
    assert contents[member.pk]["declined_items"] == contents[member.pk]["redated_items"] == []
    message = rendered(daily_row(organizer, soon), soon)
    assert "1 declined action item to reassign" in message.subject
    body = message.body
    assert "Declined, waiting for a new owner" in body
    assert f'Write notes (Weekly sync) · declined by {member.name}: "On leave"' in body
    assert "http://localhost:8000/action-items/?response=declined" in body
    assert "Fix bug (Weekly sync, " in body and "re-dated 1 time" in body
    # A day later the move is old news; the declined item still waits.
    later = daily_digest_contents([organizer], now=at + timedelta(hours=25))[organizer.pk]
    assert later["redated_items"] == [] and len(later["declined_items"]) == 1
