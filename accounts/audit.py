"""The audit trail: who changed what, when, written by the services.

Every service that changes a meeting (its agenda, recap, decisions, action items,
attendees) or a team (roles, members, policy) calls `record()` inside its own
transaction, so a change and its event commit or roll back together, and a
refused change writes none. Events are never changed or deleted: the admin shows
them read-only and no page offers anything else.

The trail lives in accounts (the base app) so that team changes can be recorded
too; meetings are referred to by id, since accounts imports nothing of meetings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import models

from .models import AuditEvent, Team, User


def _plain(value):
    """A JSON-safe form of a field's value."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The values of `fields` on `obj`, JSON-safe (relations by their name)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changes(before: dict, after: dict) -> dict[str, list]:
    """{field: [before, after]} for the fields whose value changed (a field only in
    `after` was added, one only in `before` removed)."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted({*before, *after})
        if before.get(name) != after.get(name)
    }


def record(
    *,
    team: Team | int,
    actor: User | None,
    action: str,
    summary: str,
    now: datetime,
    meeting_id: int | None = None,
    subject: models.Model | None = None,
    changed: dict | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction that makes the change."""
    return AuditEvent.objects.create(
        team_id=team if isinstance(team, int) else team.pk,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.email if actor is not None else "Bookend",
        at=now,
        action=action,
        subject_type=subject._meta.model_name if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        meeting_id=meeting_id,
        summary=summary[:500],
        changes=changed or {},
    )
