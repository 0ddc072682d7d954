"""Who is calling the API: a personal access token (`Authorization: Bearer`), or the
browser's session (with Django's CSRF check on unsafe methods).

Either way `request.user` is the caller, so the API fetches through the same
`views/access.py` helpers as the pages: lookups start from the user's teams as
they are at this request (memberships are read per request, never cached across
requests), so a removed member's token sees nothing of that team at once.

Each caller is limited to API_REQUESTS_PER_MINUTE (per token; per user for a
session), counted with accounts/throttle.py's cache counter; past it, 429 with
Retry-After.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError, Throttled
from ninja.security import APIKeyCookie, HttpBearer

from accounts.models import ApiToken, User
from accounts.throttle import window_retry_after

WINDOW_SECONDS = 60


def _admit(request: HttpRequest, key: str) -> None:
    """Count the request against the caller's limit, or raise Throttled."""
    wait = window_retry_after(
        key, limit=settings.API_REQUESTS_PER_MINUTE, window=WINDOW_SECONDS, now=time.time()
    )
    if wait is not None:
        raise Throttled(wait=wait)


class TokenAuth(HttpBearer):
    """A personal access token; with `write=True` only one with write scope."""

    def __init__(self, *, write: bool = False) -> None:
        self.write = write
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        now = timezone.now()
        found = ApiToken.find(token, now=now)
        if found is None:
            return None
        _admit(request, f"api:token:{found.pk}")
        if self.write and not found.can_write:
            raise HttpError(403, "This token may only read; make one with write access.")
        found.mark_used(now=now)
        request.user = found.user
        request.api_token = found
        return found.user


class SessionAuth(APIKeyCookie):
    """The signed-in browser; CSRF is checked for unsafe methods (APIKeyCookie does)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not user.is_authenticated:
            return None
        _admit(request, f"api:user:{user.pk}")
        return user


READ = [TokenAuth(), SessionAuth()]
WRITE = [TokenAuth(write=True), SessionAuth()]
