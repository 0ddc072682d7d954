"""The outbox's raw SQLite INSERT stores times the ORM's readiness query can compare.

`make run` uses SQLite. There the raw INSERT .. RETURNING of `reminders._insert`
must store `send_after` in the ORM's text form, or a row due exactly now is not
ready (`send_after__lte=now`) and its email waits for the next re-drive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db.utils import ConnectionHandler

from meetings import reminders
from meetings.models import Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def sqlite(django_db_blocker):
    """A throwaway in-memory SQLite database holding only the outbox table."""
    # pytest-django blocks every connection outside the db fixtures; this one
    # never touches the test database.
    django_db_blocker.unblock()
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    conn = handler["default"]
    with conn.schema_editor() as editor:
        editor.create_model(Notification)
    with conn.cursor() as cursor:
        # Only the outbox table: its foreign keys point at tables that are not here.
        cursor.execute("PRAGMA foreign_keys = OFF")
    yield conn
    conn.close()
    django_db_blocker.restore()


def ready_ids(conn, ids: list[int], now: datetime) -> list[int]:
    """The readiness predicate of `enqueue`, compiled by the ORM for SQLite."""
    query = (
        Notification.objects.filter(
            pk__in=ids, state=Notification.State.PENDING, send_after__lte=now
        )
        .values_list("pk", flat=True)
        .query
    )
    sql, params = query.get_compiler(connection=conn).as_sql()
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def test_sqlite_params_adapt_datetimes_like_the_orm(sqlite):
    row = reminders.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, NOW)
    params = reminders.sqlite_insert_params([row], now=NOW, ops=sqlite.ops)
    adapted = sqlite.ops.adapt_datetimefield_value(NOW)
    assert params[5] == adapted and params[6] == adapted
    assert "+00:00" not in str(params[5])


def test_row_due_exactly_now_is_ready_on_sqlite(sqlite):
    rows = [reminders.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, NOW)]
    with mock.patch.object(reminders.outbox, "connection", sqlite):
        inserted = reminders._insert(rows, now=NOW)
    assert [send_after for _pk, send_after in inserted] == [NOW]
    ids = [pk for pk, _send_after in inserted]
    assert ready_ids(sqlite, ids, NOW) == ids


def test_row_due_later_is_not_ready_on_sqlite(sqlite):
    later = datetime(2026, 11, 26, 12, 0, 1, tzinfo=UTC)
    with mock.patch.object(reminders.outbox, "connection", sqlite):
        inserted = reminders._insert(
            [reminders.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, later)], now=NOW
        )
    assert ready_ids(sqlite, [pk for pk, _ in inserted], NOW) == []


def test_conflicting_row_is_ignored_on_sqlite(sqlite):
    row = reminders.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, NOW)
    with mock.patch.object(reminders.outbox, "connection", sqlite):
        assert len(reminders._insert([row], now=NOW)) == 1
        assert reminders._insert([row], now=NOW) == []
