"""Delivery of one webhook row, in process, against a real local HTTP receiver: what
each answer does to the row and the endpoint, the lock against a second poster, the
re-drive, expiry, disabling and its e-mail, and the constraints in PostgreSQL.

The worker-driven scenarios are in tests/integration/test_webhooks_real_parts.py.
"""

from __future__ import annotations

import socket
import subprocess
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import kombu.exceptions
import psycopg
import pytest
from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from standardwebhooks.webhooks import Webhook

from meetings.models import Delivery, Endpoint, Event, EventType, Notification
from meetings.notifications import events, messages, outbox, webhooks
from tests.factories import MembershipFactory, UserFactory
from tests.integration.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

State = Delivery.State


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 300
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


def hook(team, url: str, *, name: str = "Receiver", **extra) -> Endpoint:
    return Endpoint.objects.create(
        team=team, kind=Endpoint.Kind.WEBHOOK, name=name, url=f"{url}/in",
        events=list(EventType.values), secret=events.new_secret(), **extra,
    )  # fmt: skip


def queued(meeting, now, *, key: str = "1") -> Delivery:
    """One event for the meeting's team, and its delivery (queued, not yet posted)."""
    (pk,) = events.emit(EventType.MEETING_CANCELED, meeting, now=now, key=key)
    return Delivery.objects.select_related("event", "endpoint").get(pk=pk)


def test_a_2xx_marks_the_delivery_sent_with_a_standard_webhooks_signature(
    receiver, team, meeting, now
):
    endpoint = hook(team, receiver.url)
    delivery = queued(meeting, now)
    attempt_at = datetime.now(UTC)
    assert webhooks.deliver(delivery.pk, now=attempt_at).status == "sent"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_code, delivery.attempts) == (State.SENT, 200, 1)
    assert delivery.sent_at == attempt_at
    (request,) = receiver.seen()
    assert request.path == "/in"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Bookend")
    assert request.headers["webhook-id"] == delivery.event.message_id
    assert request.headers["webhook-timestamp"] == str(int(attempt_at.timestamp()))
    # The reference implementation accepts it, and returns the event's body.
    assert Webhook(endpoint.secret).verify(request.body, request.headers) == delivery.event.payload
    # And refuses it under another secret.
    with pytest.raises(Exception, match="signature"):
        Webhook(events.new_secret()).verify(request.body, request.headers)


def test_a_500_is_retried_with_backoff_and_the_same_webhook_id(receiver, team, meeting, now):
    endpoint = hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(500, body=b"database on fire" + b"!" * 500))
    outcome = webhooks.deliver(delivery.pk, now=now)
    assert outcome.status == "retry"
    assert 15 <= outcome.retry_in <= 30  # the first of the outbox's backoff steps
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert delivery.response_code == 500 and delivery.attempts == 1
    assert delivery.last_error.startswith("500 Internal Server Error: database on fire")
    assert len(delivery.last_error) < 250
    assert delivery.last_attempt_at == now
    # The re-drive stays away while the countdown has its chance.
    assert delivery.send_after >= now + timedelta(seconds=outcome.retry_in)
    assert not webhooks.due_deliveries(now + timedelta(seconds=60)).exists()
    endpoint.refresh_from_db()
    assert (endpoint.failures, endpoint.failing_since) == (1, now)

    later = now + timedelta(minutes=1)
    assert webhooks.deliver(delivery.pk, now=later).status == "sent"
    first, second = receiver.seen()
    assert first.webhook_id == second.webhook_id == delivery.event.message_id
    endpoint.refresh_from_db()
    assert (endpoint.failures, endpoint.failing_since) == (0, None)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_4xx_fails_for_good(receiver, team, meeting, now, status):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(status, body=b"no such hook"))
    assert webhooks.deliver(delivery.pk, now=now).status == "failed"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.given_up_at, delivery.response_code) == (
        State.FAILED, now, status,
    )  # fmt: skip
    assert "no such hook" in delivery.last_error
    # Never posted again, however often its task comes back.
    assert webhooks.deliver(delivery.pk, now=now).status == "not pending"
    assert len(receiver.seen()) == 1


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_not_now_statuses_are_retried(receiver, team, meeting, now, status):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(status))
    assert webhooks.deliver(delivery.pk, now=now).status == "retry"


def test_a_redirect_is_not_followed(receiver, team, meeting, now):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(302, headers={"Location": f"{receiver.url}/elsewhere"}))
    assert webhooks.deliver(delivery.pk, now=now).status == "failed"
    delivery.refresh_from_db()
    assert "redirects are not followed" in delivery.last_error
    assert [r.path for r in receiver.seen()] == ["/in"]


def test_a_timeout_is_retried(receiver, team, meeting, now, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(hang=3))
    assert webhooks.deliver(delivery.pk, now=now).status == "retry"
    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert delivery.last_error.startswith("Timed out after 1 s")


def test_a_connection_refused_is_retried(team, meeting, now):
    closed = Receiver()
    url = closed.url
    closed.server.server_close()  # nothing listens there any more
    hook(team, url)
    delivery = queued(meeting, now)
    assert webhooks.deliver(delivery.pk, now=now).status == "retry"
    delivery.refresh_from_db()
    assert "Connection refused" in delivery.last_error or "NewConnectionError" in (
        delivery.last_error
    )


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for hooks.test (openssl), trusted as the only CA."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=hooks.test",
         "-addext", "subjectAltName=DNS:hooks.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_https_connects_to_the_checked_address_and_verifies_the_name(
    team, meeting, now, monkeypatch, certificate
):
    """The name is resolved once, by the guard; the connection goes to that address
    with the name as SNI, Host and the name the certificate must carry."""
    tls = Receiver(tls=certificate).start()
    resolved = []

    def getaddrinfo(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    try:
        hook(team, f"https://hooks.test:{tls.port}", name="Good name")
        good = queued(meeting, now, key="good")
        assert webhooks.deliver(good.pk, now=now).status == "sent"
        # The name once (the guard); then the checked address itself, which urllib3
        # hands to getaddrinfo as a literal (no lookup).
        assert resolved == ["hooks.test", "127.0.0.1"]
        (request,) = tls.seen()
        assert request.headers["host"] == f"hooks.test:{tls.port}"
        assert tls.server_names == ["hooks.test"]
        # A name the certificate does not carry: refused by TLS, nothing posted.
        Endpoint.objects.all().delete()
        hook(team, f"https://other.test:{tls.port}", name="Wrong name")
        wrong = queued(meeting, now, key="wrong")
        assert webhooks.deliver(wrong.pk, now=now).status == "retry"
        wrong.refresh_from_db()
        assert wrong.last_error == "SSLError: hostname 'other.test' doesn't match 'hooks.test'"
        assert len(tls.seen()) == 1
    finally:
        tls.stop()


def test_retry_after_in_seconds_or_as_a_date_is_honoured_up_to_an_hour(now):
    assert webhooks.retry_after_seconds("120", now=now) == 120
    in_ten = format_datetime(now + timedelta(minutes=10), usegmt=True)
    assert webhooks.retry_after_seconds(in_ten, now=now) == 600
    assert webhooks.retry_after_seconds("86400", now=now) == 3600  # capped
    past = format_datetime(now - timedelta(minutes=10), usegmt=True)
    assert webhooks.retry_after_seconds(past, now=now) == 0
    assert webhooks.retry_after_seconds("soon", now=now) == 0


def test_a_short_retry_after_is_a_countdown_not_before_it(receiver, team, meeting, now):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(429, headers={"Retry-After": "200"}))
    outcome = webhooks.deliver(delivery.pk, now=now)
    assert outcome.status == "retry" and outcome.retry_in == 200


def test_a_long_retry_after_is_left_to_the_redrive(receiver, team, meeting, now):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(429, headers={"Retry-After": "1200"}))
    assert webhooks.deliver(delivery.pk, now=now).status == "later"
    delivery.refresh_from_db()
    assert delivery.send_after == now + timedelta(seconds=1200)
    assert webhooks.dispatch_ready(now=now + timedelta(seconds=1199)) == 0
    assert webhooks.dispatch_ready(now=now + timedelta(seconds=1200)) == 1
    delivery.refresh_from_db()
    assert delivery.send_after == now + timedelta(seconds=1200) + outbox.outbox_lease()


def test_a_delivery_another_task_is_posting_is_skipped(receiver, team, meeting, now):
    """Two tasks for one row (a redelivered message, the re-drive) never post it at once."""
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    db = settings.DATABASES["default"]
    other = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"], autocommit=True,
    )  # fmt: skip
    try:
        key = (webhooks.LOCK_NAMESPACE, delivery.pk)
        other.execute("SELECT pg_advisory_lock(%s, %s)", key)
        assert webhooks.deliver(delivery.pk, now=now).status == "busy"
        assert receiver.seen() == []
        other.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    finally:
        other.close()
    assert webhooks.deliver(delivery.pk, now=now).status == "sent"


def test_the_guard_refuses_at_delivery_time_for_good(receiver, team, meeting, now, settings):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    # As if the name had been pointed at a loopback address since registration.
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    assert webhooks.deliver(delivery.pk, now=now).status == "failed"
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED and delivery.response_code is None
    assert delivery.last_error == "Use an https:// URL."
    assert receiver.seen() == []


def test_a_disabled_endpoints_deliveries_wait_and_do_not_expire(receiver, team, meeting, now):
    endpoint = hook(team, receiver.url)
    delivery = queued(meeting, now)
    Endpoint.objects.filter(pk=endpoint.pk).update(disabled_at=now, disabled_reason="manual")
    assert webhooks.deliver(delivery.pk, now=now).status == "endpoint disabled"
    much_later = now + outbox.age_limit() + timedelta(days=1)
    assert webhooks.dispatch_ready(now=much_later) == 0
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING and receiver.seen() == []


def test_a_retry_past_the_age_limit_expires(receiver, team, meeting, now):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(503))
    later = now + outbox.age_limit()
    assert webhooks.deliver(delivery.pk, now=later).status == "expired"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.given_up_at) == (State.EXPIRED, later)


def test_the_redrive_expires_stale_deliveries_counting_from_send_again(team, meeting, now):
    hook(team, "https://hooks.example.com")
    old = queued(meeting, now, key="old")
    again = queued(meeting, now, key="again")
    Delivery.objects.filter(pk=again.pk).update(requeued_at=now + timedelta(days=2))
    webhooks.dispatch_ready(now=now + outbox.age_limit() + timedelta(minutes=1))
    old.refresh_from_db()
    again.refresh_from_db()
    assert old.state == State.EXPIRED
    assert again.state == State.PENDING


def test_a_long_run_of_failures_disables_the_endpoint_and_tells_the_admins(
    receiver, team, meeting, now, settings, team_admin, member
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 2
    endpoint = hook(team, receiver.url, name="Ops hook")
    receiver.script(*[Reply(500, body=b"down")] * 4)
    deliveries = [queued(meeting, now, key=str(n)) for n in range(4)]
    # Three failures within the first hour: a blip, not a long run.
    for n, delivery in enumerate(deliveries[:3]):
        webhooks.deliver(delivery.pk, now=now + timedelta(minutes=n))
    endpoint.refresh_from_db()
    assert endpoint.failures == 3 and endpoint.is_active
    # The fourth, two hours after the first failure: disabled.
    later = now + timedelta(hours=2)
    with transaction.atomic():
        webhooks.deliver(deliveries[3].pk, now=later)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at == later
    assert endpoint.disabled_reason.startswith(
        "4 failed attempts in a row since 2026-03-04 12:00 UTC; last: 500 Internal Server Error"
    )
    notice = Notification.objects.get(kind=Notification.Kind.ENDPOINT_DISABLED)
    assert notice.recipient == team_admin  # the admins, not every member
    assert notice.meeting is None
    message = messages.message_for(notice, now=later)
    assert "Ops hook" in message.subject
    assert "127.0.0.1" in message.body and "500 Internal Server Error" in message.body
    assert f"/teams/{team.slug}/integrations/" in message.body
    # Pending deliveries of the disabled endpoint are not attempted...
    assert webhooks.deliver(deliveries[0].pk, now=later).status == "endpoint disabled"
    # ...until it is enabled again: they go then, and the notice is no longer sent.
    with transaction.atomic():
        assert webhooks.enable(endpoint, now=later) == 4
    assert messages.message_for(notice, now=later) is None
    for delivery in deliveries:
        assert webhooks.deliver(delivery.pk, now=later).status == "sent"


def test_the_redrive_takes_lost_deliveries_at_a_constant_query_count(team, meeting, now):
    hook(team, "https://hooks.example.com")

    def redrive(count: int) -> int:
        Delivery.objects.all().delete()
        for n in range(count):
            queued(meeting, now, key=f"{count}:{n}")
        after_lease = now + outbox.outbox_lease() + timedelta(seconds=1)
        with CaptureQueriesContext(connection) as queries:
            assert webhooks.dispatch_ready(now=after_lease) == count
        return len(queries)

    assert redrive(10) == redrive(100)


def test_a_broker_that_is_down_leaves_the_deliveries_to_the_next_redrive(
    team, meeting, now, monkeypatch, django_capture_on_commit_callbacks
):
    hook(team, "https://hooks.example.com")

    def down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(current_app.tasks[outbox.WEBHOOK_TASK], "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queued(meeting, now)
    delivery.refresh_from_db()
    # Not leased to the task that never went out: the next re-drive takes it.
    assert delivery.send_after <= datetime.now(UTC)


def test_send_again_requeues_a_failed_delivery_with_the_same_event(receiver, team, meeting, now):
    hook(team, receiver.url)
    delivery = queued(meeting, now)
    receiver.script(Reply(410))
    webhooks.deliver(delivery.pk, now=now)
    with transaction.atomic():
        assert webhooks.send_again([delivery.pk], now=now) == 1
        assert webhooks.send_again([delivery.pk], now=now) == 0  # a second click
    assert webhooks.deliver(delivery.pk, now=now).status == "sent"
    first, second = receiver.seen()
    assert first.webhook_id == second.webhook_id


# -- the constraints, in PostgreSQL ------------------------------------------------------


def raw_update(model, pk: int, **fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=pk).update(**fields)


def test_postgresql_refuses_inconsistent_delivery_rows(team, meeting, now):
    hook(team, "https://hooks.example.com")
    delivery = queued(meeting, now)
    raw_update(Delivery, delivery.pk, state="bounced")
    raw_update(Delivery, delivery.pk, state=State.SENT)  # no sent_at
    raw_update(Delivery, delivery.pk, sent_at=now)  # pending with a sent_at
    raw_update(Delivery, delivery.pk, state=State.FAILED)  # no given_up_at
    raw_update(Delivery, delivery.pk, state=State.EXPIRED)
    raw_update(Delivery, delivery.pk, given_up_at=now)  # pending, given up
    raw_update(Delivery, delivery.pk, attempts=-1)
    Delivery.objects.filter(pk=delivery.pk).update(state=State.SENT, sent_at=now)  # consistent
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(endpoint=delivery.endpoint, event=delivery.event)


def test_postgresql_refuses_inconsistent_endpoint_rows(team):
    endpoint = hook(team, "https://hooks.example.com")
    raw_update(Endpoint, endpoint.pk, kind="pigeon")
    raw_update(Endpoint, endpoint.pk, failures=2)  # failing, since no time
    raw_update(Endpoint, endpoint.pk, failing_since=datetime.now(UTC))  # since, no failures
    raw_update(Endpoint, endpoint.pk, secret="")  # a webhook signs
    raw_update(Endpoint, endpoint.pk, kind=Endpoint.Kind.SLACK)  # a channel has no secret
    with pytest.raises(IntegrityError), transaction.atomic():
        hook(team, "https://other.example.com")  # the same name in the same team


def test_the_models_say_what_is_wrong_before_postgresql_does(team):
    endpoint = Endpoint(team=team, kind=Endpoint.Kind.WEBHOOK, name="X",
                        url="https://hooks.example.com", failures=1)  # fmt: skip
    with pytest.raises(Exception) as error:
        endpoint.full_clean()
    text = str(error.value)
    assert "A webhook has a signing secret" in text
    assert "A failing endpoint records when its failures began" in text
    assert not Endpoint.objects.exists()


def test_only_team_admins_get_the_notice(team, team_admin, member, now):
    other_admin = UserFactory()
    MembershipFactory(user=other_admin, role="admin")  # an admin of another team
    endpoint = hook(team, "https://hooks.example.com", failures=1, failing_since=now)
    endpoint.disabled_at = now
    with transaction.atomic():
        webhooks._tell_admins(endpoint, now)
    recipients = set(
        Notification.objects.filter(kind=Notification.Kind.ENDPOINT_DISABLED).values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {team_admin.pk}
    assert Event.objects.count() == 0


def test_a_chat_channel_gets_its_rendered_body_unsigned(receiver, team, meeting, now):
    from meetings.notifications.chat import render

    Endpoint.objects.create(
        team=team, kind=Endpoint.Kind.SLACK, name="Channel", url=f"{receiver.url}/slack",
        events=[EventType.RECAP_OVERDUE],
    )  # fmt: skip
    (pk,) = events.emit(EventType.RECAP_OVERDUE, meeting, now=now)
    assert webhooks.deliver(pk, now=now).status == "sent"
    (request,) = receiver.seen()
    assert request.json() == render("slack", Delivery.objects.get(pk=pk).event.payload)
    assert not any(name.startswith("webhook-") for name in request.headers)
    # An event type chat channels do not get is not posted, and not retried.
    Endpoint.objects.filter(kind=Endpoint.Kind.SLACK).update(events=[EventType.MEETING_CANCELED])
    (pk,) = events.emit(EventType.MEETING_CANCELED, meeting, now=now)
    assert webhooks.deliver(pk, now=now).status == "failed"
    assert Delivery.objects.get(pk=pk).last_error.startswith("Not posted:")
    assert len(receiver.seen()) == 1
