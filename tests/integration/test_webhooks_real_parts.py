"""Webhooks end to end with real parts: a real Redis broker, a real Celery worker, a
real HTTP receiver on 127.0.0.1 (tests/integration/receiver.py), PostgreSQL.

Signatures are checked with the Standard Webhooks reference implementation
(`standardwebhooks`), bodies with `jsonschema` against each type's JSON Schema.
The waiting below is only for the asynchronous worker.
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
from datetime import time as clock
from datetime import timedelta
from email.header import decode_header, make_header

import jsonschema
import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from meetings import notifications, services
from meetings.models import Delivery, Endpoint, EventType
from meetings.notifications import events, outbox, webhooks
from tests.factories import MeetingFactory, ready_agenda
from tests.integration.conftest import wait_for
from tests.integration.receiver import Reply
from tests.integration.test_nothing_lost import start_worker_group, stop_group, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

State = Delivery.State
T = EventType


def hook(team, url: str, *types: str, name: str = "Receiver") -> Endpoint:
    return Endpoint.objects.create(
        team=team, kind=Endpoint.Kind.WEBHOOK, name=name, url=f"{url}/in",
        events=list(types) or list(T.values), secret=events.new_secret(),
    )  # fmt: skip


def fire(meeting, count: int = 1) -> list[int]:
    """`count` events about `meeting`, each committed and queued to the worker."""
    now = timezone.now()
    return [
        pk
        for n in range(count)
        for pk in events.emit(T.MEETING_CANCELED, meeting, now=now, key=f"{now.timestamp()}:{n}")
    ]


def settled(ids: list[int]) -> bool:
    return not Delivery.objects.filter(pk__in=ids, state=State.PENDING).exists()


@pytest.fixture
def upcoming_meeting(team, organizer, member):
    return MeetingFactory(team=team, organizer=organizer, attendees=[member])


def test_every_delivery_is_signed_per_the_standard(
    celery_worker, receiver, team, upcoming_meeting
):
    endpoint = hook(team, receiver.url)
    ids = fire(upcoming_meeting, 3)
    wait_for(lambda: settled(ids), what="three deliveries")
    assert Delivery.objects.filter(pk__in=ids, state=State.SENT).count() == 3
    verifier = Webhook(endpoint.secret)
    bodies = [verifier.verify(r.body, r.headers) for r in receiver.seen()]
    assert sorted(b["data"]["meeting"]["id"] for b in bodies) == [upcoming_meeting.pk] * 3
    assert len({r.webhook_id for r in receiver.seen()}) == 3


def test_an_endpoint_down_for_a_while_gets_each_event_exactly_once(
    celery_worker, receiver, fast_retries, team, upcoming_meeting
):
    hook(team, receiver.url)
    receiver.script(*[Reply(500, body=b"maintenance")] * 7)
    ids = fire(upcoming_meeting, 3)
    wait_for(lambda: settled(ids), what="every delivery through the outage")
    assert Delivery.objects.filter(pk__in=ids, state=State.SENT).count() == 3
    seen = receiver.seen()
    assert len(seen) == 10  # seven refused, then one success each
    # Each event arrived with a 2xx exactly once; its retries carried its webhook-id.
    delivered = receiver.delivered()
    expected = {d.event.message_id for d in Delivery.objects.filter(pk__in=ids)}
    assert set(delivered) == expected and set(delivered.values()) == {1}
    assert {r.webhook_id for r in seen} == expected
    attempts = sorted(Delivery.objects.filter(pk__in=ids).values_list("attempts", flat=True))
    assert sum(attempts) == 10


def test_429_with_retry_after_is_not_retried_before_it(
    celery_worker, receiver, fast_retries, settings, team, upcoming_meeting
):
    settings.OUTBOX_RETRY_MAX_SECONDS = 5  # a countdown can hold 2 s
    hook(team, receiver.url)
    receiver.script(Reply(429, headers={"Retry-After": "2"}))
    (pk,) = fire(upcoming_meeting)
    wait_for(lambda: settled([pk]), what="the retried delivery")
    first, second = receiver.seen()
    assert second.at - first.at >= 2
    assert first.webhook_id == second.webhook_id
    assert Delivery.objects.get(pk=pk).attempts == 2


@pytest.mark.parametrize("status", [400, 410])
def test_a_4xx_is_not_retried(
    celery_worker, receiver, fast_retries, team, upcoming_meeting, status
):
    hook(team, receiver.url)
    receiver.script(Reply(status, body=b"unknown hook"))
    (pk,) = fire(upcoming_meeting)
    wait_for(lambda: settled([pk]), what="the refused delivery")
    delivery = Delivery.objects.get(pk=pk)
    assert (delivery.state, delivery.response_code, delivery.attempts) == (State.FAILED, status, 1)
    time.sleep(1.5)  # longer than any fast retry would wait
    assert len(receiver.seen()) == 1


def test_a_redirect_is_not_followed(celery_worker, receiver, fast_retries, team, upcoming_meeting):
    hook(team, receiver.url)
    receiver.script(Reply(302, headers={"Location": f"{receiver.url}/elsewhere"}))
    (pk,) = fire(upcoming_meeting)
    wait_for(lambda: settled([pk]), what="the redirected delivery")
    delivery = Delivery.objects.get(pk=pk)
    assert delivery.state == State.FAILED
    assert "redirects are not followed" in delivery.last_error
    time.sleep(1.5)
    assert [r.path for r in receiver.seen()] == ["/in"]  # nothing at the Location


def test_a_timeout_is_retried(celery_worker, receiver, fast_retries, settings, team,
                              upcoming_meeting):  # fmt: skip
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    hook(team, receiver.url)
    receiver.script(Reply(hang=4))
    (pk,) = fire(upcoming_meeting)
    wait_for(lambda: settled([pk]), what="the delivery after a timeout")
    delivery = Delivery.objects.get(pk=pk)
    assert (delivery.state, delivery.attempts) == (State.SENT, 2)
    hung, answered = receiver.seen()
    assert hung.answered is None and answered.answered == 200
    assert answered.at - hung.at >= 1  # the first attempt waited out its timeout
    assert hung.webhook_id == answered.webhook_id


def test_loopback_private_and_metadata_addresses_are_refused_in_production(
    celery_worker, receiver, settings, team, upcoming_meeting
):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    port = receiver.server.server_address[1]
    urls = {
        "loopback": f"http://127.0.0.1:{port}",
        "localhost": f"https://localhost:{port}",
        "metadata": "https://169.254.169.254/latest/meta-data",
    }
    for name, url in urls.items():
        hook(team, url, name=name)
    ids = fire(upcoming_meeting)
    assert len(ids) == 3
    wait_for(lambda: settled(ids), what="the refused deliveries")
    errors = dict(Delivery.objects.filter(pk__in=ids).values_list("endpoint__name", "last_error"))
    assert errors == {
        "loopback": "Use an https:// URL.",
        "localhost": "localhost resolves to 127.0.0.1, a loopback address; use a public address.",
        "metadata": "169.254.169.254 resolves to 169.254.169.254, a link-local address (such "
        "as a cloud metadata service); use a public address.",
    }
    assert set(Delivery.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
        State.FAILED
    }
    assert receiver.seen() == []


def test_a_long_run_of_failures_disables_the_endpoint_tells_the_admins_and_enable_resumes(
    celery_worker, receiver, smtp_sink, fast_retries, settings, team, team_admin, member,
    upcoming_meeting,
):  # fmt: skip
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    endpoint = hook(team, receiver.url, name="Ops bridge")
    receiver.script(*[Reply(500, body=b"down")] * 100)
    ids = fire(upcoming_meeting, 2)
    wait_for(lambda: Endpoint.objects.get(pk=endpoint.pk).disabled_at, what="disabled")
    wait_for(lambda: smtp_sink.subjects_to(team_admin.email), what="the admins' e-mail")
    (subject,) = smtp_sink.subjects_to(team_admin.email)
    subject = str(make_header(decode_header(subject)))
    assert "Ops bridge" in subject and "disabled" in subject
    assert smtp_sink.subjects_to(member.email) == []
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason.startswith("3 failed attempts in a row since")
    # Nothing more is attempted while it is disabled; the deliveries wait.
    time.sleep(1.5)
    tried = len(receiver.seen())
    assert tried == 3
    assert Delivery.objects.filter(pk__in=ids, state=State.PENDING).count() == 2

    with receiver.lock:
        receiver.replies.clear()  # the receiver is fixed
    assert webhooks.enable(endpoint, now=timezone.now()) == 2
    wait_for(lambda: settled(ids), what="the waiting deliveries after enable")
    assert Delivery.objects.filter(pk__in=ids, state=State.SENT).count() == 2
    expected = {d.event.message_id for d in Delivery.objects.filter(pk__in=ids)}
    assert receiver.delivered() == collections.Counter(dict.fromkeys(expected, 1))


def test_send_again_reposts_a_failed_delivery_with_the_same_webhook_id(
    celery_worker, receiver, team, upcoming_meeting
):
    hook(team, receiver.url)
    receiver.script(Reply(410))
    (pk,) = fire(upcoming_meeting)
    wait_for(lambda: settled([pk]), what="the failed delivery")
    assert webhooks.send_again([pk], now=timezone.now()) == 1
    wait_for(lambda: Delivery.objects.get(pk=pk).state == State.SENT, what="sent again")
    first, second = receiver.seen()
    assert (first.answered, second.answered) == (410, 200)
    assert first.webhook_id == second.webhook_id == Delivery.objects.get(pk=pk).event.message_id


def test_a_realistic_flow_delivers_every_event_type_matching_its_schema(
    celery_worker, receiver, team, organizer, member
):
    for user in (organizer, member):
        user.work_days = 0b1111111
        user.work_start, user.work_end = clock(0, 0), clock(23, 59, 59)
        user.save()
    endpoint = hook(team, receiver.url)
    now = timezone.now()
    # An agenda sent, then amended.
    planned = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    ready_agenda(planned, by=organizer)
    services.send_agenda(meeting=planned, by=organizer, now=now)
    services.add_agenda_item(meeting=planned, title="One more thing", added_by=organizer)
    services.amend_agenda(meeting=planned, by=organizer, now=now)
    # A meeting canceled.
    dropped = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    services.cancel_meeting(meeting=dropped, by=organizer, now=now)
    # A meeting held, its recap published with two action items, which are then
    # re-dated, reassigned and completed.
    held = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                          starts_at=now - timedelta(hours=2),
                          now=now - timedelta(days=3))  # fmt: skip
    after = held.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=held, summary="We chose B.", notes="", no_action_items=False,
                        now=after)  # fmt: skip
    services.record_decision(meeting=held, text="B it is.", by=organizer, now=after)
    due = (now + timedelta(days=1)).date()
    moved, done = (
        services.assign_action_item(meeting=held, description=text, owner=member, due_date=due,
                                    created_by=organizer, now=after)
        for text in ("Write it up", "Book the room")
    )  # fmt: skip
    services.publish_recap(meeting=held, by=organizer, now=after)
    moved.refresh_from_db()
    done.refresh_from_db()
    services.redate_action_item(item=moved, due_date=due + timedelta(days=1), by=member, now=after)
    services.reassign_action_item(item=moved, owner=organizer, by=organizer,
                                  now=after + timedelta(minutes=1))  # fmt: skip
    services.set_action_item_done(item=done, done=True, by=member, now=after)
    # What time brings, found by the sweep: a meeting starting without an agenda,
    # a recap overdue, an action item overdue.
    no_agenda = MeetingFactory(team=team, organizer=organizer, attendees=[member], now=now)
    notifications.sweep(now=no_agenda.starts_at + timedelta(minutes=1))
    unrecapped = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                                starts_at=now - timedelta(days=5),
                                now=now - timedelta(days=8))  # fmt: skip
    notifications.sweep(now=unrecapped.ends_at + team.escalate_after + timedelta(minutes=1))
    notifications.sweep(now=now + timedelta(days=5))

    wait_for(
        lambda: (
            not Delivery.objects.filter(state=State.PENDING).exists()
            and len(receiver.seen()) == Delivery.objects.count()
        ),
        what="every event delivered",
    )
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.SENT}
    verifier = Webhook(endpoint.secret)
    arrived = collections.Counter()
    for request in receiver.seen():
        body = verifier.verify(request.body, request.headers)
        jsonschema.validate(body, events.event_schema(body["type"]))
        arrived[body["type"]] += 1
    assert set(arrived) == set(T.values)
    assert arrived[T.ACTION_ITEM_ASSIGNED] == 3  # two on publishing, one on reassigning
    # Each event once: as many distinct webhook-ids as requests.
    assert len({r.webhook_id for r in receiver.seen()}) == len(receiver.seen())


def test_a_worker_killed_mid_delivery_delivers_once_with_the_same_webhook_id(
    clean_broker, smtp_sink, receiver, settings, team, upcoming_meeting
):
    hook(team, receiver.url)
    env = worker_env(settings, smtp_sink, INTEGRATIONS_ALLOW_LOOPBACK="1")
    blocked = threading.Event()
    receiver.script(Reply(release=blocked))  # the first request hangs until released
    worker = start_worker_group(env, concurrency=1)
    try:
        (pk,) = fire(upcoming_meeting)
        wait_for(lambda: receiver.seen(), timeout=60, what="the first request")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        blocked.set()  # the receiver gives up on it: no answer reached anyone
        assert Delivery.objects.get(pk=pk).state == State.PENDING
        worker = start_worker_group(env, concurrency=1)
        # The killed task is gone; the re-drive takes the row once its lease is
        # over (asked as of after it), again each lease while PostgreSQL has not
        # yet released the killed connection's lock (that attempt skips the row).
        step = outbox.outbox_lease() + timedelta(seconds=1)
        moment = timezone.now()
        last = 0.0

        def sent() -> bool:
            nonlocal moment, last
            if time.monotonic() - last > 3:
                moment += step
                webhooks.dispatch_ready(now=moment)
                last = time.monotonic()
            return Delivery.objects.get(pk=pk).state == State.SENT

        wait_for(sent, timeout=90, what="the delivery after the kill")
    finally:
        stop_group(worker)
    first, second = receiver.seen()
    assert first.answered is None and second.answered == 200
    assert first.webhook_id == second.webhook_id
    assert receiver.delivered() == collections.Counter({first.webhook_id: 1})
    # The killed attempt recorded nothing; the one that got through did.
    assert Delivery.objects.get(pk=pk).attempts == 1


def test_chat_channels_get_the_recap_in_their_own_format_through_the_worker(
    celery_worker, receiver, fast_retries, team, organizer, member
):
    """One receiver stands in for Slack, Mattermost and Teams; the worker posts each
    its own format, unsigned, retrying a 503 like any delivery, exactly once each."""
    from tests.meetings.notifications.test_chat import check_mattermost, check_slack, check_teams

    channels = {
        kind: Endpoint.objects.create(
            team=team, kind=kind, name=f"#{kind}", url=f"{receiver.url}/{kind}",
            events=[T.RECAP_PUBLISHED],
        )
        for kind in (Endpoint.Kind.SLACK, Endpoint.Kind.MATTERMOST, Endpoint.Kind.TEAMS)
    }  # fmt: skip
    receiver.script(Reply(503, body=b"try later"))
    now = timezone.now()
    held = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                          starts_at=now - timedelta(hours=2),
                          now=now - timedelta(days=3))  # fmt: skip
    after = held.ends_at + timedelta(minutes=5)
    services.save_recap(meeting=held, summary="We chose B.", notes="", no_action_items=False,
                        now=after)  # fmt: skip
    services.assign_action_item(meeting=held, description="Write it up", owner=member,
                                due_date=(now + timedelta(days=2)).date(), created_by=organizer,
                                now=after)  # fmt: skip
    services.publish_recap(meeting=held, by=organizer, now=after)
    ids = list(
        Delivery.objects.filter(endpoint__in=channels.values()).values_list("pk", flat=True)
    )
    assert len(ids) == 3
    wait_for(lambda: settled(ids), what="the three chat deliveries")
    assert Delivery.objects.filter(pk__in=ids, state=State.SENT).count() == 3
    by_path = {r.path.rsplit("/", 1)[-1]: r for r in receiver.seen() if r.answered == 200}
    assert set(by_path) == {"slack", "mattermost", "teams"}
    assert len(receiver.seen()) == 4  # the 503, then one success each
    for request in by_path.values():
        assert "webhook-signature" not in {k.lower() for k in request.headers}
    check_slack(by_path["slack"].json())
    check_mattermost(by_path["mattermost"].json())
    check_teams(by_path["teams"].json())
    assert by_path["slack"].json()["text"].startswith("Recap published: Weekly sync")
    meeting_url = f"/meetings/{held.pk}/"
    assert all(meeting_url in r.body.decode() for r in by_path.values())
