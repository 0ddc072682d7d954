"""Delivering team events to webhooks and chat channels: the HTTP side of the outbox.

One `Delivery` row per event and endpoint (see `events`). `deliver` posts one row:

- Idempotent under redelivery: only a pending row of an active endpoint is
  posted, and a PostgreSQL advisory lock on the row is held for the attempt, so
  two tasks for the same row (a redelivered message, the re-drive) never post
  it at once; the second one skips it. The lock is session-level, not a
  transaction: the POST (up to two WEBHOOK_TIMEOUT_SECONDS) runs outside any
  transaction, so no row lock blocks "send again" or "enable" meanwhile and no
  connection idles in a transaction. Like the e-mail row lock, it dies with a
  killed worker's connection: the re-drive posts the row again after its lease,
  with the same `webhook-id`, so the receiver can drop the copy.
- The URL is checked again at every attempt (`safe_urls.check_url`: DNS may
  have changed since registration), and the connection goes to the address that
  was checked, never resolved twice; TLS still verifies the host name.
- Webhooks are signed per the Standard Webhooks specification (`webhook-id`,
  `webhook-timestamp`, `webhook-signature` "v1,<base64 HMAC-SHA256>"); chat
  channels get their own body (`chat.render`) and no signature.

Outcome of an attempt:

- 2xx: sent. The endpoint's run of failures ends.
- A timeout, a connection error (TLS included), 5xx, 408 or 429: retried with
  the outbox's backoff (`delivery.retry_delay`), and not before the answer's
  Retry-After (seconds or an HTTP date, capped at RETRY_AFTER_CAP: a receiver
  cannot park a delivery for days). A wait a countdown may hold (up to
  OUTBOX_RETRY_MAX_SECONDS, far below the broker's visibility timeout) gets its
  own countdown task; a longer one is left to the re-drive, which takes the row
  once `send_after` passes. Past OUTBOX_MAX_AGE (from when it was queued or
  sent again) it expires instead.
- Any other 4xx, any 3xx (redirects are not followed: a redirect could point at
  an address the guard would refuse) or a URL the guard refuses: failed, not
  retried. A team admin can send it again.

Every failed attempt counts against the endpoint. After WEBHOOK_DISABLE_AFTER_FAILURES
failures in a row spread over at least WEBHOOK_DISABLE_AFTER_HOURS, the endpoint
is disabled and its team's admins are e-mailed; its pending deliveries wait
(they neither go out nor expire) until `enable` queues them again.

A receiver that answers slowly is bounded by the timeouts per read, and in the
end by the task's time limit; only an error's body is read, one read's worth.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from accounts.models import Membership

from ..models import Delivery, Endpoint, Notification
from .chat import render as render_chat
from .delivery import Outcome, retry_delay
from .outbox import (
    WEBHOOK_TASK,
    Row,
    age_limit,
    endpoint_disabled_stage,
    enqueue,
    insert_notifications,
    outbox_lease,
    publish_after_commit,
)
from .safe_urls import Target, UnsafeURL, check_url

log = logging.getLogger(__name__)

State = Delivery.State

# The longest Retry-After honoured; past it the delivery is tried again anyway.
RETRY_AFTER_CAP = timedelta(hours=1)
# Statuses that say "not now" rather than "never".
RETRY_STATUSES = frozenset({408, 429})
ERROR_BODY_CHARS = 200
DISPATCH_BATCH_SIZE = 500
# The classid half of the advisory lock key: these locks are about deliveries.
LOCK_NAMESPACE = 15_0004


def queue_deliveries(ids: Sequence[int], *, now: datetime) -> None:
    """Lease `ids` to one delivery task, queued after commit."""
    if ids:
        Delivery.objects.filter(pk__in=list(ids)).update(send_after=now + outbox_lease())
        publish_after_commit(WEBHOOK_TASK, list(ids))


def send_again(ids: Sequence[int], *, now: datetime) -> int:
    """Post these deliveries once more (a team admin's "send again"); returns how many.

    The same event with the same `webhook-id`, so a receiver that got it already
    can tell. A delivery in flight (pending) is left alone: a second click sends
    nothing twice. Its age counts afresh from now.
    """
    with transaction.atomic():
        again = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=list(ids))
            .exclude(state=State.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=again).update(
            state=State.PENDING,
            sent_at=None,
            given_up_at=None,
            attempts=0,
            last_error="",
            requeued_at=now,
            send_after=now,
        )
        queue_deliveries(again, now=now)
    return len(again)


def enable(endpoint: Endpoint, *, now: datetime) -> int:
    """Turn a disabled endpoint on again; what waited for it goes now. Returns how many."""
    with transaction.atomic():
        row = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if row.disabled_at is None:
            return 0
        Endpoint.objects.filter(pk=row.pk).update(
            disabled_at=None, disabled_reason="", failures=0, failing_since=None
        )
        waiting = list(row.deliveries.filter(state=State.PENDING).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=waiting).update(requeued_at=now, attempts=0)
        queue_deliveries(waiting, now=now)
    endpoint.refresh_from_db()
    return len(waiting)


# -- the re-drive -----------------------------------------------------------------------


def due_deliveries(now: datetime):
    """Pending deliveries of active endpoints whose wait is over: a lost task, an
    expired lease, or a Retry-After too long for a countdown."""
    return Delivery.objects.filter(
        state=State.PENDING, send_after__lte=now, endpoint__disabled_at__isnull=True
    )


def dispatch_ready(*, now: datetime, batch_size: int = DISPATCH_BATCH_SIZE) -> int:
    """Queue the deliveries whose time has come; the periodic re-drive (as
    `outbox.dispatch_ready` for e-mail). Claims them in batches with SKIP LOCKED,
    so two re-drives split the work; stale ones expire first."""
    expire_stale(now=now)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                due_deliveries(now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("send_after", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            queue_deliveries(ids, now=now)
        total += len(ids)
        if len(ids) < batch_size:
            return total


def stale_deliveries(now: datetime):
    """Pending deliveries older than the outbox's age limit (from when they were
    queued or sent again). Those of a disabled endpoint are waiting for it to be
    enabled, not for a receiver: they do not age out."""
    oldest = now - age_limit()
    return Delivery.objects.filter(
        Q(requeued_at__lt=oldest) | Q(requeued_at__isnull=True, created_at__lt=oldest),
        state=State.PENDING,
        endpoint__disabled_at__isnull=True,
    )


def expire_stale(*, now: datetime) -> int:
    with transaction.atomic():
        ids = list(
            stale_deliveries(now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(state=State.EXPIRED, given_up_at=now)
            log.error("%d webhook deliveries expired undelivered", len(ids))
    return len(ids)


# -- one attempt ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status (None when no answer came), a short error,
    the answer's Retry-After, and whether nothing was posted for a reason no
    retry would fix (the guard refused the URL, the body could not be made)."""

    status: int | None
    error: str = ""
    retry_after: str = ""
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def temporary(self) -> bool:
        """Whether trying again later may work: no answer (a timeout, a connection
        refused or dropped), "not now" statuses, and server errors."""
        if self.status is None:
            return not self.permanent
        return self.status >= 500 or self.status in RETRY_STATUSES


def deliver(delivery_id: int, *, now: datetime) -> Outcome:
    """Post one delivery and record what happened; see the module docstring.

    Statuses: "sent", "retry" (its own countdown of `retry_in` seconds), "later"
    (the re-drive takes it when its Retry-After is over), "failed", "expired",
    "busy" (another task is posting it), "not pending", "endpoint disabled".
    """
    with _attempt_lock(delivery_id) as mine:
        if not mine:
            return Outcome("busy")
        delivery = (
            Delivery.objects.select_related("endpoint", "endpoint__team", "event")
            .filter(pk=delivery_id, state=State.PENDING)
            .first()
        )
        if delivery is None:
            return Outcome("not pending")
        if not delivery.endpoint.is_active:
            # It waits for `enable`, which queues it again.
            return Outcome("endpoint disabled")
        answer = _attempt(delivery, now)
        return _record(delivery, answer, now)


@contextlib.contextmanager
def _attempt_lock(delivery_id: int) -> Iterator[bool]:
    """Hold the attempt lock of one delivery (False: another task holds it)."""
    if connection.vendor != "postgresql":
        # SQLite is `make run` only: no advisory locks there; two tasks posting
        # one row at once would both post it, and the receiver drops the copy.
        yield True
        return
    key = (LOCK_NAMESPACE, delivery_id % 2**31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            # A connection that broke meanwhile has released it already.
            with contextlib.suppress(Exception), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _attempt(delivery: Delivery, now: datetime) -> Answer:
    endpoint, event = delivery.endpoint, delivery.event
    try:
        target = check_url(endpoint.url)
    except UnsafeURL as exc:
        return Answer(None, str(exc), permanent=True)
    if endpoint.is_chat:
        try:
            body = json.dumps(render_chat(endpoint.kind, event.payload)).encode()
        except ValueError as exc:  # an event type chat channels do not get
            return Answer(None, f"Not posted: {exc}", permanent=True)
        headers = {}
    else:
        body = json.dumps(event.payload).encode()
        headers = signature_headers(endpoint.secret, event.message_id, body, now)
    headers |= {"Content-Type": "application/json", "User-Agent": user_agent()}
    return post(target, body, headers)


def user_agent() -> str:
    return f"Bookend-Webhooks/1 (+{settings.SITE_URL})"


def signature_headers(secret: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: the signed content is "id.timestamp.body"."""
    timestamp = str(int(now.timestamp()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": f"v1,{digest}",
    }


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST to the checked address (not the name again), with the name as the Host
    header and the TLS server name; no retries, no redirects followed."""
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if ":" not in target.host else f"[{target.host}]"
    headers = {**headers, "Host": host if target.port == default_port else f"{host}:{target.port}"}
    seconds = settings.WEBHOOK_TIMEOUT_SECONDS
    options: dict = {"timeout": urllib3.Timeout(connect=seconds, read=seconds), "retries": False}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers=headers, redirect=False,
            preload_content=False, assert_same_host=False,
        )  # fmt: skip
        try:
            # Only an error's body is read, and only what one read returns: a
            # receiver that drips a large body cannot hold the worker.
            excerpt = b"" if 200 <= response.status < 300 else response.read1(ERROR_BODY_CHARS * 4)
        finally:
            response.release_conn()
    except urllib3.exceptions.TimeoutError as exc:
        return Answer(None, f"Timed out after {seconds} s ({exc.__class__.__name__})")
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, f"{exc.__class__.__name__}: {exc}"[: ERROR_BODY_CHARS * 2])
    finally:
        pool.close()
    return _answer(response, excerpt.decode("utf-8", "replace"))


def _answer(response: urllib3.BaseHTTPResponse, excerpt: str) -> Answer:
    status = response.status
    if 200 <= status < 300:
        return Answer(status)
    reason = response.reason or ""
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return Answer(status, f"{status} {reason}: redirects are not followed ({location})"[:400])
    text = " ".join(excerpt.split())[:ERROR_BODY_CHARS]
    return Answer(status, f"{status} {reason}: {text}", response.headers.get("Retry-After", ""))


def retry_after_seconds(value: str, *, now: datetime) -> float:
    """Seconds a Retry-After asks for (delay-seconds or an HTTP date), at most
    RETRY_AFTER_CAP; 0 without a valid one."""
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return 0.0
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP.total_seconds())


# -- recording the outcome --------------------------------------------------------------


def _record(delivery: Delivery, answer: Answer, now: datetime) -> Outcome:
    """Write the attempt's result and the endpoint's run of failures, in one short
    transaction; the row is still pending (only the lock's holder changes it).

    The endpoint row is locked before the delivery row is written, the order
    `enable` takes them in, so the two cannot deadlock.
    """
    attempt = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": now,
        "response_code": answer.status,
        "last_error": answer.error[:2000],
    }
    rows = Delivery.objects.filter(pk=delivery.pk, state=State.PENDING)
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if answer.ok:
            rows.update(**attempt, state=State.SENT, sent_at=now)
            if endpoint.failures:
                endpoint.failures, endpoint.failing_since = 0, None
                endpoint.save(update_fields=["failures", "failing_since"])
            return Outcome("sent")
        if not answer.temporary:
            outcome = Outcome("failed")
            rows.update(**attempt, state=State.FAILED, given_up_at=now)
        else:
            outcome = _retry(delivery, answer, now)
            if outcome.status == "expired":
                rows.update(**attempt, state=State.EXPIRED, given_up_at=now)
            else:
                # A countdown keeps the re-drive away until it has had its chance;
                # a longer wait is the re-drive's to end.
                lease = outbox_lease() if outcome.status == "retry" else timedelta(0)
                wait = timedelta(seconds=outcome.retry_in)
                rows.update(**attempt, send_after=now + wait + lease)
        _count_failure(endpoint, answer, now)
    log.warning("webhook delivery %s: %s (%s)", delivery.pk, outcome.status, answer.error)
    return outcome


def _retry(delivery: Delivery, answer: Answer, now: datetime) -> Outcome:
    if now - (delivery.requeued_at or delivery.created_at) >= age_limit():
        return Outcome("expired")
    # The receiver's Retry-After is a floor: "not before then", and our backoff too.
    asked = retry_after_seconds(answer.retry_after, now=now)
    wait = max(retry_delay(delivery.attempts + 1), asked)
    # Countdowns stay short (the broker holds them; see delivery.py); a longer
    # Retry-After is waited out in the database.
    if wait > getattr(settings, "OUTBOX_RETRY_MAX_SECONDS", 300):
        return Outcome("later", wait)
    return Outcome("retry", wait)


def _count_failure(row: Endpoint, answer: Answer, now: datetime) -> None:
    """One more failed attempt in a row (`row` is locked); a long enough run
    disables the endpoint."""
    row.failures += 1
    row.failing_since = row.failing_since or now
    fields = ["failures", "failing_since"]
    if row.is_active and should_disable(row, now):
        row.disabled_at = now
        since = row.failing_since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        row.disabled_reason = (
            f"{row.failures} failed attempts in a row since {since}; last: {answer.error}"
        )[:2000]
        fields += ["disabled_at", "disabled_reason"]
        _tell_admins(row, now)
        log.error("endpoint %s disabled: %s", row.pk, row.disabled_reason)
    row.save(update_fields=fields)


def should_disable(endpoint: Endpoint, now: datetime) -> bool:
    """A long run of failures: many attempts in a row over a long enough time."""
    return (
        endpoint.failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    )


def _tell_admins(endpoint: Endpoint, now: datetime) -> None:
    """E-mail the team's admins through the outbox (after commit, once per disabling)."""
    admins = Membership.objects.admins().filter(team_id=endpoint.team_id)
    stage = endpoint_disabled_stage(endpoint.pk, endpoint.disabled_at)
    rows = [
        Row(Notification.Kind.ENDPOINT_DISABLED, stage, user_id, None, now)
        for user_id in admins.order_by("user_id").values_list("user_id", flat=True)
    ]
    enqueue(insert_notifications(rows, now=now), now=now)
