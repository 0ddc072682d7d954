"""Delivery of outbox rows over SMTP: lock, send, mark; temporary failures retry
with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.db.models import F

from ..models import Notification
from . import messages
from .outbox import outbox_lease

log = logging.getLogger(__name__)

# Temporary failures (4xx, connection trouble) retry with exponential backoff and
# full jitter, capped so no countdown is longer than a few minutes; after this
# many attempts the row is marked failed and shows up in the admin.
MAX_ATTEMPTS = 10


@dataclass
class Outcome:
    """What `deliver()` did: "sent", "skipped", "failed", "retry", "deferred" (left for
    another task: the chunk ran out of time) or "not pending"."""

    status: str
    retry_in: float = 0.0


def retry_delay(attempts: int) -> float:
    """Seconds before retry number `attempts` (1-based): exponential, capped, jittered."""
    base = getattr(settings, "OUTBOX_RETRY_BASE_SECONDS", 30)
    cap = getattr(settings, "OUTBOX_RETRY_MAX_SECONDS", 300)
    ceiling = min(cap, base * 2 ** (attempts - 1))
    # Full jitter over the upper half: retries of many rows spread out instead of
    # hitting a recovering server at the same instant.
    return random.uniform(ceiling / 2, ceiling)


def smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        # Any temporary refusal means trying again may work.
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def is_temporary(exc: BaseException) -> bool:
    """4xx replies and connection trouble are temporary; 5xx and the rest are not."""
    code = smtp_code(exc)
    if code is not None:
        return 400 <= code < 500
    # SMTPServerDisconnected, refused connections, timeouts: all OSError.
    return isinstance(exc, OSError)


def _describe(exc: BaseException) -> str:
    code = smtp_code(exc)
    text = str(exc) or exc.__class__.__name__
    return f"{code} {text}" if code else f"{exc.__class__.__name__}: {text}"


# Well inside the delivery task's soft time limit (45 s), with room for one more
# send at the SMTP timeout (EMAIL_TIMEOUT, 10 s by default).
CHUNK_TIME_BUDGET_SECONDS = 25


def deliver(notification_id: int, *, now: datetime) -> Outcome:
    """Deliver one outbox row; see `deliver_many`."""
    return deliver_many([notification_id], now=now).get(notification_id, Outcome("not pending"))


def deliver_many(notification_ids: Sequence[int], *, now: datetime) -> dict[int, Outcome]:
    """Lock the rows, send their messages over one connection, mark them. Safe to rerun.

    The row locks are held while sending, so a second task for the same rows (the
    re-drive after a lost lease, a redelivered acks_late message) skips them
    (SKIP LOCKED) and finds them sent afterwards. A crash after the SMTP server
    accepted a message but before commit leaves its row pending: the re-drive
    then sends it once more (at most once more, never in a loop). Rows missing
    from the result were not pending (already sent, failed, or being sent).
    """
    outcomes: dict[int, Outcome] = {}
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "meeting", "meeting__team", "meeting__organizer")
            .annotate(superseded=messages.superseded_by_later_stage())
            .filter(pk__in=list(notification_ids), state=Notification.State.PENDING)
            .order_by("pk")
        )
        sent: list[int] = []
        skipped: list[int] = []
        unreachable: BaseException | None = None
        started = time.monotonic()
        # The digests of one meeting share what they say about it (messages._shared).
        cache: messages.MeetingCache = {}
        messages.prepare_daily_digests(rows, now=now, cache=cache)
        # One backend, and so one SMTP session, for the whole chunk: opened before
        # the first send (so send_messages() keeps it open), closed at the end.
        mailer = mailers.default
        opened = False
        try:
            for notification in rows:
                if time.monotonic() - started > CHUNK_TIME_BUDGET_SECONDS:
                    # A slow server: commit what went out and hand the rest to a new
                    # task, rather than hit the time limit and roll back rows whose
                    # messages were already accepted (they would be sent again).
                    outcomes[notification.pk] = Outcome("deferred")
                    continue
                message = (
                    None
                    if unreachable
                    else messages.message_for(notification, now=now, cache=cache)
                )
                if message is None and not unreachable:
                    # No longer needed (the agenda was sent meanwhile, the meeting was
                    # canceled, a later stage superseded it, the digest is empty).
                    skipped.append(notification.pk)
                    outcomes[notification.pk] = Outcome("skipped")
                    continue
                notification.attempts += 1
                try:
                    if unreachable:
                        # The server did not answer for an earlier row of this chunk:
                        # do not wait out a timeout per row.
                        raise unreachable
                    # Lets support staff (and the tests) match a message to its row.
                    message.extra_headers["X-Bookend-Notification"] = str(notification.pk)
                    if not opened:
                        mailer.open()
                        opened = True
                    _send(mailer, message)
                except Exception as exc:  # classified below; anything else is permanent
                    if smtp_code(exc) is None and is_temporary(exc):
                        unreachable = exc
                    outcomes[notification.pk] = _record_failure(notification, exc, now)
                else:
                    sent.append(notification.pk)
                    outcomes[notification.pk] = Outcome("sent")
        finally:
            # Closing a connection the server already dropped must not hide the
            # outcome of the chunk.
            with contextlib.suppress(Exception):
                mailer.close()
        if skipped:
            Notification.objects.filter(pk__in=skipped).delete()
        if sent:
            Notification.objects.filter(pk__in=sent).update(
                state=Notification.State.SENT, sent_at=now, attempts=F("attempts") + 1
            )
    return outcomes


def _send(mailer, message) -> None:
    """Send one message over the chunk's open connection, or raise.

    A server that drops the session (some close it after so many messages) is
    not a delivery failure: the message gets one fresh connection.
    """
    try:
        sent = mailer.send_messages([message])
    except smtplib.SMTPServerDisconnected:
        with contextlib.suppress(Exception):
            mailer.close()
        mailer.open()
        sent = mailer.send_messages([message])
    if not sent:
        raise smtplib.SMTPServerDisconnected("The mail backend sent nothing.")


def _record_failure(notification: Notification, exc: BaseException, now: datetime) -> Outcome:
    notification.last_error = _describe(exc)[:2000]
    if is_temporary(exc) and notification.attempts < MAX_ATTEMPTS:
        outcome = Outcome("retry", retry_delay(notification.attempts))
        # Keep the re-drive away until the retry has had its chance.
        notification.send_after = now + timedelta(seconds=outcome.retry_in) + outbox_lease()
        log.warning("notification %s: temporary failure, %s", notification.pk, exc)
    else:
        outcome = Outcome("failed")
        notification.state = Notification.State.FAILED
        log.error("notification %s failed: %s", notification.pk, exc)
    notification.save(update_fields=["attempts", "last_error", "send_after", "state"])
    return outcome
