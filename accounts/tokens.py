"""Personal access tokens for the JSON API: `Authorization: Bearer <token>`.

A token reads `bk_<prefix>_<secret>`. Only the prefix (to find the row) and the
SHA-256 of the whole token are stored; the token itself is shown once, when it
is made. A fast hash is enough: the secret is 256 random bits, not a password,
so there is nothing to guess by brute force and no need for a slow KDF.

A token acts as its user, who must still be active; which teams it reaches is
computed on every request from the user's memberships (`Team.objects.for_user`),
so a removed member's token sees nothing of that team at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .models import User

PREFIX = "bk_"
# Writes to `last_used_at` at most this often per token: an API GET then writes
# at most one timestamp per token per interval (see `ApiToken.mark_used`).
LAST_USED_PRECISION = timedelta(minutes=5)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, now: datetime) -> ApiTokenQuerySet:
        """Not revoked, not expired, of an active user."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)


class ApiToken(models.Model):
    Scope = Scope

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    # The lookup half of the token, shown in lists so a user can tell tokens apart.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=Scope.values),
                name="api_token_scope_valid",
                violation_error_message="A token's scope is read or write.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="api_token_name_not_blank",
                violation_error_message="Give the token a name, so you know what it is for.",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
                violation_error_message="A token must expire after it is made.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({PREFIX}{self.prefix}…)"

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        """(prefix, token, hash of the token) for a new token."""
        prefix = secrets.token_hex(6)
        raw = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        return prefix, raw, _digest(raw)

    @classmethod
    def find(cls, raw: str, *, now: datetime) -> ApiToken | None:
        """The usable token `raw` is, with its user; None for anything else.

        Looked up by prefix, then compared in constant time: the time taken does
        not tell how much of a guessed secret was right.
        """
        if not raw.startswith(PREFIX) or raw.count("_") < 2:
            return None
        prefix = raw[len(PREFIX) :].split("_", 1)[0]
        token = cls.objects.usable(now).select_related("user").filter(prefix=prefix).first()
        if token is None or not hmac.compare_digest(token.secret_hash, _digest(raw)):
            return None
        return token

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.WRITE

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.is_active

    def mark_used(self, *, now: datetime) -> None:
        """Record use, at most once per LAST_USED_PRECISION.

        A conditional update, so concurrent requests write once, and most requests
        (all but one per interval) write nothing: "last used" is shown to the
        minute's precision anyway. This is the one write an API GET may make; it
        is a fact about the credential, like a session's expiry, not domain data.
        """
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        looks_stale = self.last_used_at is None or self.last_used_at < now - LAST_USED_PRECISION
        if looks_stale and ApiToken.objects.filter(stale, pk=self.pk).update(last_used_at=now):
            self.last_used_at = now
