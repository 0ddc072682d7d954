"""Signed, expiring tokens for links in emails (recap acknowledgement, unsubscribe,
answers to an action item).

Django's signer (HMAC with SECRET_KEY, a salt per purpose, so a token made for
one purpose is useless for another). The issue time is inside the signed payload
and checked against `now`, so the expiry can be tested without touching clocks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing

ACKNOWLEDGE = "acknowledge"
UNSUBSCRIBE = "unsubscribe"
# An owner's answers to an action item, one purpose each: a "Done" link cannot
# decline the item. The payload names the item and the owner it was sent to.
ACTION_ACCEPT = "action_accept"
ACTION_DONE = "action_done"
ACTION_REDATE = "action_redate"
ACTION_DECLINE = "action_decline"
ACTION_ANSWERS = (ACTION_ACCEPT, ACTION_DONE, ACTION_REDATE, ACTION_DECLINE)

# RFC 8058 asks that one-click unsubscribe links keep working for a while after
# the message was sent, longer than an acknowledgement link needs to.
UNSUBSCRIBE_MAX_AGE = timedelta(days=60)


class LinkExpired(Exception):
    """The signature is genuine but the link is too old."""


class LinkInvalid(Exception):
    """The token was tampered with, truncated or made for another purpose."""


def _salt(purpose: str) -> str:
    return f"bookend.email.{purpose}"


def make_token(purpose: str, payload: dict, *, now: datetime) -> str:
    data = {**payload, "iat": int(now.timestamp())}
    return signing.dumps(data, salt=_salt(purpose), compress=True)


def max_age_for(purpose: str) -> timedelta:
    return UNSUBSCRIBE_MAX_AGE if purpose == UNSUBSCRIBE else settings.EMAIL_LINK_MAX_AGE


def read_token(purpose: str, token: str, *, now: datetime) -> dict:
    """The payload, or LinkInvalid / LinkExpired."""
    try:
        data = signing.loads(token, salt=_salt(purpose))
    except signing.BadSignature:
        raise LinkInvalid from None
    if not isinstance(data, dict) or not isinstance(data.get("iat"), int):
        raise LinkInvalid
    issued = datetime.fromtimestamp(data["iat"], tz=UTC)
    if now - issued > max_age_for(purpose) or issued - now > timedelta(minutes=5):
        raise LinkExpired
    return data
