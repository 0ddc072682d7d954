"""The key django-axes counts failed logins against.

Login matches the email whatever its letter case (emails are stored lower-case),
so the throttle must count it the same way: otherwise every capitalisation of
an address ("Asha@", "ASHA@", ...) gets its own five attempts, and the lock-out
is bypassed by retyping the address.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def login_key(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The typed email, trimmed and lower-case; None when there is none."""
    if credentials:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "data", request.POST).get("username")
    return raw.strip().lower() if isinstance(raw, str) else raw
