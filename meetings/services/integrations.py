"""A team's webhooks and chat channels, as its admins register and manage them.

Each change runs in one transaction with its audit event (team-level: no meeting).
The signing secret is returned to the caller to show once and never written to
the audit trail. Delivery itself lives in `notifications.webhooks`; "enable" and
"send again" go through it so that what waited is queued the one way it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import audit
from accounts.models import Team, User

from ..models import Delivery, Endpoint
from ..notifications import webhooks
from ..notifications.events import new_secret

DUPLICATE_NAME = "This team already has a webhook or chat channel with this name."


def _save(endpoint: Endpoint, **kwargs) -> None:
    """Save, turning a name taken by a concurrent request into a field error."""
    try:
        # A savepoint: the unique constraint's error must not break the outer transaction.
        with transaction.atomic():
            endpoint.save(**kwargs)
    except IntegrityError as exc:
        if "endpoint_name_unique_per_team" in str(exc):
            raise ValidationError({"name": DUPLICATE_NAME}) from exc
        raise


GONE = "This webhook or chat channel no longer exists (someone deleted it)."


def _locked(endpoint: Endpoint) -> Endpoint:
    """The row, locked: two admins clicking at once take turns, and the second sees
    what the first did (a delete included)."""
    row = Endpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if row is None:
        raise ValidationError(GONE)
    return row


def _record(endpoint: Endpoint, by: User | None, action: str, summary: str, *,
            now: datetime, changed: dict | None = None) -> None:  # fmt: skip
    audit.record(team=endpoint.team_id, actor=by, action=f"integration.{action}",
                 summary=summary, now=now, subject=endpoint, changed=changed)  # fmt: skip


@transaction.atomic
def create_endpoint(
    *,
    team: Team,
    kind: str,
    name: str,
    url: str,
    events: Sequence[str],
    by: User,
    now: datetime,
) -> tuple[Endpoint, str]:
    """A new webhook or chat channel; returns it and its signing secret ("" for chat)."""
    secret = new_secret() if kind == Endpoint.Kind.WEBHOOK else ""
    endpoint = Endpoint(team=team, kind=kind, name=name, url=url, events=list(events),
                        secret=secret, created_by=by, created_at=now)  # fmt: skip
    _save(endpoint)
    _record(endpoint, by, "created", f"Added the {endpoint.get_kind_display()} “{name}”",
            now=now, changed={"url": [None, url], "events": [None, list(events)]})  # fmt: skip
    return endpoint, secret


@transaction.atomic
def update_endpoint(
    *, endpoint: Endpoint, name: str, url: str, events: Sequence[str], by: User, now: datetime
) -> Endpoint:
    row = _locked(endpoint)
    before = audit.snapshot(row, ("name", "url", "events"))
    row.name, row.url, row.events = name, url, list(events)
    changed = audit.changes(before, audit.snapshot(row, ("name", "url", "events")))
    if changed:
        _save(row, update_fields=["name", "url", "events"])
        _record(row, by, "changed", f"Changed the {row.get_kind_display()} “{name}”",
                now=now, changed=changed)  # fmt: skip
    return row


@transaction.atomic
def rotate_secret(*, endpoint: Endpoint, by: User, now: datetime) -> tuple[Endpoint, str]:
    """A new signing secret for a webhook; the old one stops signing at once."""
    row = _locked(endpoint)
    if row.kind != Endpoint.Kind.WEBHOOK:
        raise ValidationError("Only a webhook has a signing secret.")
    row.secret = new_secret()
    row.save(update_fields=["secret"])
    # The secret itself never goes into the audit trail.
    _record(row, by, "secret_rotated", f"Rotated the signing secret of “{row.name}”", now=now)
    return row, row.secret


@transaction.atomic
def disable_endpoint(*, endpoint: Endpoint, by: User, now: datetime) -> bool:
    """Stop posting to it; False if it was disabled already (a second click)."""
    row = _locked(endpoint)
    if row.disabled_at is not None:
        return False
    reason = f"Disabled by {by.name}."
    Endpoint.objects.filter(pk=row.pk).update(disabled_at=now, disabled_reason=reason)
    _record(row, by, "disabled", f"Disabled “{row.name}”", now=now,
            changed={"active": [True, False]})  # fmt: skip
    return True


@transaction.atomic
def enable_endpoint(*, endpoint: Endpoint, by: User, now: datetime) -> int | None:
    """Post to it again; the deliveries that waited go now. Returns how many, or None
    if it was active already."""
    if _locked(endpoint).disabled_at is None:
        return None
    waiting = webhooks.enable(endpoint, now=now)
    _record(endpoint, by, "enabled", f"Enabled “{endpoint.name}”", now=now,
            changed={"active": [False, True]})  # fmt: skip
    return waiting


@transaction.atomic
def delete_endpoint(*, endpoint: Endpoint, by: User, now: datetime) -> None:
    """Remove it and its delivery log; events already recorded stay for other endpoints."""
    row = _locked(endpoint)
    # Recorded first: the event names the row by its id, which the delete takes away.
    _record(row, by, "deleted", f"Deleted the {row.get_kind_display()} “{row.name}”",
            now=now, changed={"url": [row.url, None]})  # fmt: skip
    row.delete()


@transaction.atomic
def send_again(*, delivery: Delivery, by: User, now: datetime) -> bool:
    """Queue one delivery once more; False if it is already on its way (pending)."""
    again = webhooks.send_again([delivery.pk], now=now) > 0
    if again:
        _record(delivery.endpoint, by, "sent_again",
                f"Sent {delivery.event.type} to “{delivery.endpoint.name}” again",
                now=now, changed={"delivery": [None, delivery.pk]})  # fmt: skip
    return again
