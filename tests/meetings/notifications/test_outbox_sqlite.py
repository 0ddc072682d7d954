"""The outbox's raw SQLite INSERT stores times the ORM's readiness query can compare.

`make run` uses SQLite. There the raw INSERT .. RETURNING of the outbox insert
must store `send_after` in the ORM's text form, or a row due exactly now is not
ready (`send_after__lte=now`) and its email waits for the next re-drive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db.utils import ConnectionHandler

from meetings.models import Notification
from meetings.notifications import outbox

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


def stored_send_after(conn, ids: list[int]) -> list[datetime]:
    query = Notification.objects.filter(pk__in=ids).values_list("send_after", flat=True).query
    sql, params = query.get_compiler(connection=conn).as_sql()
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return [conn.ops.convert_datetimefield_value(v, None, conn) for (v,) in cursor.fetchall()]


def raw_send_after(conn, ids: list[int]) -> list[str]:
    with conn.cursor() as cursor:
        marks = ", ".join("%s" for _ in ids)
        cursor.execute(
            f"SELECT CAST(send_after AS TEXT) FROM meetings_notification WHERE id IN ({marks})",
            ids,
        )
        return [value for (value,) in cursor.fetchall()]


def test_sqlite_insert_stores_datetimes_like_the_orm(sqlite):
    row = outbox.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, NOW)
    with mock.patch.object(outbox, "connection", sqlite):
        ids = outbox.insert_notifications([row], now=NOW)
    adapted = sqlite.ops.adapt_datetimefield_value(NOW)
    assert raw_send_after(sqlite, ids) == [adapted]
    assert "+00:00" not in str(raw_send_after(sqlite, ids)[0])


def test_row_due_exactly_now_is_ready_on_sqlite(sqlite):
    rows = [outbox.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, NOW)]
    with mock.patch.object(outbox, "connection", sqlite):
        ids = outbox.insert_notifications(rows, now=NOW)
    assert stored_send_after(sqlite, ids) == [NOW]
    assert ready_ids(sqlite, ids, NOW) == ids


def test_row_due_later_is_not_ready_on_sqlite(sqlite):
    later = datetime(2026, 11, 26, 12, 0, 1, tzinfo=UTC)
    with mock.patch.object(outbox, "connection", sqlite):
        ids = outbox.insert_notifications(
            [outbox.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, later)],
            now=NOW,
        )
    assert ready_ids(sqlite, ids, NOW) == []


def test_conflicting_row_is_ignored_on_sqlite(sqlite):
    row = outbox.Row(Notification.Kind.AGENDA_DIGEST, "v1", 7, 3, NOW)
    with mock.patch.object(outbox, "connection", sqlite):
        assert len(outbox.insert_notifications([row], now=NOW)) == 1
        assert outbox.insert_notifications([row], now=NOW) == []
