"""Throttles: the key django-axes counts failed logins against, and the hourly
limit on password-reset emails.

Login matches the email whatever its letter case (emails are stored lower-case),
so the throttle must count it the same way: otherwise every capitalisation of
an address ("Asha@", "ASHA@", ...) gets its own five attempts, and the lock-out
is bypassed by retyping the address.
"""

from __future__ import annotations

import hashlib
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

RESET_WINDOW_SECONDS = 3600


def login_key(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The typed email, trimmed and lower-case; None when there is none."""
    if credentials:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "data", request.POST).get("username")
    return raw.strip().lower() if isinstance(raw, str) else raw


def _count(key: str) -> int:
    """Add one to a counter that lives RESET_WINDOW_SECONDS from its first use."""
    cache.add(key, 0, timeout=RESET_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RESET_WINDOW_SECONDS)
        return 1


def reset_allowed(request: HttpRequest, email: str) -> bool:
    """Count one password-reset request; False once the address or the client is
    over its hourly limit (PASSWORD_RESETS_PER_ADDRESS, PASSWORD_RESETS_PER_CLIENT).

    The address counts in any letter case, like login. It is hashed into the key:
    cache keys must be short and plain whatever was typed.
    """
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    client = get_client_ip_address(request) or "unknown"
    per_address = _count(f"reset:address:{address}")
    per_client = _count(f"reset:client:{client}")
    return (
        per_address <= settings.PASSWORD_RESETS_PER_ADDRESS
        and per_client <= settings.PASSWORD_RESETS_PER_CLIENT
    )
