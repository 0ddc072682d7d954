"""Delivery of outbox rows over SMTP: each row locked, sent and marked in its own
short transaction; a mail server that cannot be reached pauses delivery for
everyone; nothing is given up before its age runs out.

What can go wrong, and what happens:

- The worker is killed mid-chunk. Every row already accepted by the server was
  marked sent in its own transaction right after the server said so, so only
  the one row in flight stays pending; its lock dies with the connection, and
  the re-drive sends it once more with the same Message-ID. At most one
  duplicate per killed process, never a chunk.
- The server cannot be reached (refused, timeout, dropped, 421, our sender or
  login refused): the site-wide `DeliveryPause` opens, for a time that grows
  with each failed probe, and the chunk's rows wait for it without spending
  their attempts. The first delivery after the pause is the probe.
- The server refuses one message or recipient for now (4xx): that row retries
  with backoff, capped at OUTBOX_RETRY_MAX_SECONDS, for as long as its age is
  below OUTBOX_MAX_AGE_DAYS; then it is expired (`outbox.expire_stale`).
- The server refuses one recipient or message for good (5xx): that row fails
  and is not retried. Staff see it in the admin and can send it again.
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
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.db.models import F

from ..models import DeliveryPause, Notification
from . import messages
from .outbox import age_limit, outbox_lease

log = logging.getLogger(__name__)

State = Notification.State


@dataclass
class Outcome:
    """What delivery did with one row: "sent", "skipped" (no longer needed), "failed"
    (refused for good), "retry" (refused for now), "paused" (the server cannot be
    reached: waits for the pause), "deferred" (left for another task: the chunk ran
    out of time), "expired" or "not pending"."""

    status: str
    retry_in: float = 0.0


def retry_delay(attempts: int) -> float:
    """Seconds before retry number `attempts` (1-based): exponential, capped, jittered."""
    base = getattr(settings, "OUTBOX_RETRY_BASE_SECONDS", 30)
    cap = getattr(settings, "OUTBOX_RETRY_MAX_SECONDS", 300)
    ceiling = min(cap, base * 2 ** (max(attempts, 1) - 1))
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


# What a failure says about the server, the message, or neither.
SERVER = "server"  # cannot be reached or will not take mail from us now: pause everyone
TEMPORARY = "temporary"  # this message or recipient, for now: this row retries
PERMANENT = "permanent"  # this message or recipient, for good: this row fails

_SERVER_LEVEL = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
)


def classify(exc: BaseException) -> str:
    """SERVER, TEMPORARY or PERMANENT (see the module docstring)."""
    code = smtp_code(exc)
    if code == 421:  # "service not available, closing the channel"
        return SERVER
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
        # About this recipient or this message: others may well go through.
        return TEMPORARY if code is not None and 400 <= code < 500 else PERMANENT
    if isinstance(exc, _SERVER_LEVEL):
        return SERVER
    if isinstance(exc, smtplib.SMTPResponseException):
        return TEMPORARY if 400 <= exc.smtp_code < 500 else PERMANENT
    if isinstance(exc, OSError):  # refused, unreachable, timed out
        return SERVER
    # A message that cannot be built or addressed: no retry would help.
    return PERMANENT


def is_temporary(exc: BaseException) -> bool:
    """Whether trying again later may work (everything but a permanent refusal)."""
    return classify(exc) != PERMANENT


def _describe(exc: BaseException) -> str:
    code = smtp_code(exc)
    text = str(exc) or exc.__class__.__name__
    return f"{code} {text}" if code else f"{exc.__class__.__name__}: {text}"


# Well inside the delivery task's soft time limit (45 s), with room for one more
# send at the SMTP timeout (EMAIL_TIMEOUT, 10 s by default).
CHUNK_TIME_BUDGET_SECONDS = 25


def message_id(notification: Notification) -> str:
    """The same Message-ID every time a row is sent, in the site's domain, so that
    a receiving server or mail client can drop the copy a crash made us resend."""
    host = urlsplit(settings.SITE_URL).hostname or "bookend.invalid"
    return f"<bookend.{notification.kind}.{notification.pk}@{host}>"


def deliver(notification_id: int, *, now: datetime) -> Outcome:
    """Deliver one outbox row; see `deliver_many`."""
    return deliver_many([notification_id], now=now).get(notification_id, Outcome("not pending"))


def deliver_many(notification_ids: Sequence[int], *, now: datetime) -> dict[int, Outcome]:
    """Send the rows' messages over one connection, each row in its own transaction.

    Safe to run twice for the same rows: each row is locked (SKIP LOCKED) while its
    message is sent and marked, so a second task skips a row in flight and finds
    it sent afterwards. Rows missing from the result were not pending.
    """
    rows = list(
        Notification.objects.select_related(
            "recipient", "meeting", "meeting__team", "meeting__organizer"
        )
        .annotate(superseded=messages.superseded_by_later_stage())
        .filter(pk__in=list(notification_ids), state=State.PENDING)
        .order_by("pk")
    )
    if not rows:
        return {}
    pause = DeliveryPause.objects.filter(until__isnull=False).first()
    if pause is not None and pause.until > now:
        return _wait_for_pause(rows, pause.until, now)
    outcomes: dict[int, Outcome] = {}
    # The digests of one meeting share what they say about it (messages._shared).
    cache: messages.MeetingCache = {}
    # Daily digests and batches of agenda activity: read for the whole chunk at once.
    messages.prepare_daily_digests(rows, now=now, cache=cache)
    messages.prepare_activity_batches(rows, now=now, cache=cache)
    # One backend, and so one SMTP session, for the whole chunk: opened before the
    # first send (so send_messages() keeps it open), closed at the end.
    mailer = mailers.default
    opened = False
    started = time.monotonic()
    try:
        for index, notification in enumerate(rows):
            if time.monotonic() - started > CHUNK_TIME_BUDGET_SECONDS:
                # A slow server: hand the rest to a new task rather than run into
                # the task's time limit.
                outcomes.update((n.pk, Outcome("deferred")) for n in rows[index:])
                break
            with transaction.atomic():
                # The row lock is held while its message is sent and the row
                # marked: another task for the same row skips it, and a killed
                # worker's lock dies with its connection.
                if not (
                    Notification.objects.select_for_update(skip_locked=True)
                    .filter(pk=notification.pk, state=State.PENDING)
                    .exists()
                ):
                    outcomes[notification.pk] = Outcome("not pending")
                    continue
                message = messages.message_for(notification, now=now, cache=cache)
                if message is None:
                    # No longer needed (the agenda was sent meanwhile, the meeting
                    # was canceled, a later stage superseded it, the digest is empty).
                    Notification.objects.filter(pk=notification.pk).delete()
                    outcomes[notification.pk] = Outcome("skipped")
                    continue
                message.extra_headers["Message-ID"] = message_id(notification)
                # Lets support staff (and the tests) match a message to its row.
                message.extra_headers["X-Bookend-Notification"] = str(notification.pk)
                try:
                    if not opened:
                        mailer.open()
                        opened = True
                    _send(mailer, message)
                except Exception as exc:  # classified below
                    if classify(exc) == SERVER:
                        until = _open_pause(exc, now)
                        outcomes[notification.pk] = _record_retry(
                            notification, exc, now, until=until
                        )
                        outcomes.update(_wait_for_pause(rows[index + 1 :], until, now))
                        break
                    outcomes[notification.pk] = _record_failure(notification, exc, now)
                else:
                    # Marked in the same short transaction, right after the server
                    # accepted the message: a crash from here on resends nothing.
                    Notification.objects.filter(pk=notification.pk).update(
                        state=State.SENT, sent_at=now, attempts=F("attempts") + 1
                    )
                    outcomes[notification.pk] = Outcome("sent")
    finally:
        # Closing a connection the server already dropped must not hide the
        # outcome of the chunk.
        with contextlib.suppress(Exception):
            mailer.close()
    if pause is not None and any(o.status == "sent" for o in outcomes.values()):
        _close_pause()
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


# -- the pause (circuit breaker) ------------------------------------------------------


def _open_pause(exc: BaseException, now: datetime) -> datetime:
    """Pause delivery for everyone, longer after each failed probe; returns until when."""
    with transaction.atomic():
        pause, _ = DeliveryPause.objects.select_for_update().get_or_create(pk=DeliveryPause.ONE)
        if pause.until is not None and pause.until > now:
            return pause.until  # another worker opened it meanwhile
        pause.failures += 1
        pause.until = now + timedelta(seconds=retry_delay(pause.failures))
        pause.since = pause.since or now
        pause.reason = _describe(exc)[:2000]
        pause.save()
    log.warning("mail delivery paused until %s: %s", pause.until, pause.reason)
    return pause.until


def _close_pause() -> None:
    if DeliveryPause.objects.filter(until__isnull=False).update(
        until=None, failures=0, since=None, reason=""
    ):
        log.warning("mail delivery resumed")


def _wait_for_pause(rows, until: datetime, now: datetime) -> dict[int, Outcome]:
    """Rows that must wait for the pause: they keep their attempts, and the re-drive
    leaves them alone until the delivery task queued for the end of the pause."""
    ids = [n.pk for n in rows]
    if ids:
        Notification.objects.filter(pk__in=ids, state=State.PENDING).update(
            send_after=until + outbox_lease()
        )
    wait = max((until - now).total_seconds(), 0.0)
    return {pk: Outcome("paused", wait) for pk in ids}


# -- one row's failure ----------------------------------------------------------------


def _record_retry(
    notification: Notification, exc: BaseException, now: datetime, *, until: datetime | None = None
) -> Outcome:
    """A temporary failure: try again later (at `until`, the end of the pause, when
    the server could not be reached), unless the row is past its age."""
    if now - (notification.requeued_at or notification.created_at) >= age_limit():
        return _give_up(notification, exc, now, State.EXPIRED)
    attempts = notification.attempts + 1
    wait = (until - now).total_seconds() if until else retry_delay(attempts)
    outcome = Outcome("retry", max(wait, 0.0))
    # Keep the re-drive away until the retry has had its chance.
    Notification.objects.filter(pk=notification.pk).update(
        attempts=attempts,
        last_error=_describe(exc)[:2000],
        send_after=now + timedelta(seconds=outcome.retry_in) + outbox_lease(),
    )
    log.warning("notification %s: temporary failure, %s", notification.pk, exc)
    return outcome


def _record_failure(notification: Notification, exc: BaseException, now: datetime) -> Outcome:
    if classify(exc) == TEMPORARY:
        return _record_retry(notification, exc, now)
    return _give_up(notification, exc, now, State.FAILED)


def _give_up(notification: Notification, exc: BaseException, now: datetime, state: str) -> Outcome:
    Notification.objects.filter(pk=notification.pk).update(
        state=state,
        given_up_at=now,
        attempts=F("attempts") + 1,
        last_error=_describe(exc)[:2000],
    )
    log.error("notification %s %s: %s", notification.pk, state, exc)
    return Outcome(state)
