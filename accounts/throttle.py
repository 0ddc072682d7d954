"""Throttles: the key django-axes counts failed logins against (per address and
client IP), the hourly cap on failed logins per address from any IPs, the
hourly limit on password-reset emails, and the per-minute limit of API requests
per personal access token (`window_retry_after`).

Login looks the email up in its one normalized form (`normalize_email`), so the
throttles must count it in that same form: otherwise every other spelling of an
address ("ASHA@", "aſha@", full-width letters...) would get attempts of its own,
and the lock-out would be bypassed by retyping the address.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .models import normalize_email

RESET_WINDOW_SECONDS = 3600


def login_key(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The typed email in its one normalized form; None when there is none."""
    if credentials:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "data", request.POST).get("username")
    return normalize_email(raw) if isinstance(raw, str) else raw


def _count(key: str, window: int = RESET_WINDOW_SECONDS) -> int:
    """Add one to a counter that lives `window` seconds from its first use.

    add + incr rather than get + set: the cache's incr is atomic (in Redis too), so
    concurrent requests in several web processes cannot both read the same count.
    """
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def window_retry_after(key: str, *, limit: int, window: int, now: float) -> int | None:
    """Count one request against `key` in the current fixed window of `window`
    seconds; None while within `limit`, else the whole seconds until the window
    ends (an HTTP Retry-After).

    Fixed windows aligned to the clock (the window's start is in the key), counted
    with `_count`: one atomic increment per request, whatever the limit.
    """
    start = math.floor(now / window) * window
    if _count(f"{key}:{start}", window) <= limit:
        return None
    return max(1, math.ceil(start + window - now))


def reset_allowed(request: HttpRequest, email: str) -> bool:
    """Count one password-reset request; False once the address or the client is
    over its hourly limit (PASSWORD_RESETS_PER_ADDRESS, PASSWORD_RESETS_PER_CLIENT).

    The address counts in any letter case, like login. It is hashed into the key:
    cache keys must be short and plain whatever was typed.
    """
    address = hashlib.sha256(normalize_email(email).encode()).hexdigest()
    client = get_client_ip_address(request) or "unknown"
    per_address = _count(f"reset:address:{address}")
    per_client = _count(f"reset:client:{client}")
    return (
        per_address <= settings.PASSWORD_RESETS_PER_ADDRESS
        and per_client <= settings.PASSWORD_RESETS_PER_CLIENT
    )


def _account_key(email: str) -> str:
    return "login:account:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()


def account_locked(email: str) -> bool:
    """Whether the address has had LOGIN_FAILURES_PER_ACCOUNT failed log-ins this hour,
    from any number of client IPs. Known and unknown addresses are counted alike."""
    return (cache.get(_account_key(email)) or 0) >= settings.LOGIN_FAILURES_PER_ACCOUNT


def count_login_failure(email: str) -> None:
    _count(_account_key(email))


def forget_login_failures(email: str) -> None:
    """The mailbox's owner proved who they are (a password reset): start afresh."""
    cache.delete(_account_key(email))
