"""GET and HEAD never write: house rule "GET never writes", checked on every URL.

Every GET row of the permission matrix is requested by every kind of visitor,
with GET and with HEAD, as a plain page and as an htmx request, and no row of
the accounts and meetings apps changes (every column compared), nor does the
row count of any other table. Work that must happen "when someone looks" has to
happen on the write that made it necessary, or from beat; a link in an e-mail
that records something must show a page whose button POSTs.
"""

from __future__ import annotations

import functools
import json
from copy import deepcopy
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from meetings.models import Meeting
from tests.test_permission_matrix import MATRIX, ROLES, world  # noqa: F401 - pytest fixture

# Apps whose rows are compared column by column; every other table is compared by row count.
WATCHED_APPS = ("accounts", "meetings")

# The only things a read may change, and why:
# - Django's session table: force_login writes a session before the request, and
#   the messages framework writes the session when a page consumes a flash message.
#   Both are how a read remembers who is reading, not domain data.
UNWATCHED_MODELS = {Session}
# - User.last_login: logging in sets it. force_login does so before the snapshot is
#   taken, so it would not show anyway; it is named here so the exception is explicit.
UNWATCHED_FIELDS = {(get_user_model(), "last_login")}

GET_ROWS = [row for row in MATRIX if row[1] == "GET"]
VARIANTS = [
    (method, htmx_headers)
    for method in ("GET", "HEAD")
    for htmx_headers in ({}, {"HX-Request": "true"})
]

# A table label maps to its rows ({pk: {column: value}}) or, outside the watched apps,
# its row count.
Snapshot = dict[str, dict[object, dict[str, object]] | int]


@functools.cache
def snapshot_query() -> tuple[str, list[tuple[str, str | None]]]:
    """One SELECT reading every table: (sql, [(model label, pk column or None if counted)]).

    One statement rather than a queryset per model: the ORM took 24 ms a snapshot
    here against 1.3 ms for this, and the test takes some 900 snapshots.
    """
    quote = connection.ops.quote_name
    tables, columns = [], []
    # include_auto_created: many-to-many tables (User.groups and the like) are rows too.
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if model in UNWATCHED_MODELS or meta.proxy or not meta.managed:
            continue
        table = quote(meta.db_table)
        if meta.app_label in WATCHED_APPS:
            # Every column of every row, as JSON, ordered by pk, less the unwatched fields.
            unwatched = "".join(
                f" - '{model._meta.get_field(name).column}'"
                for owner, name in UNWATCHED_FIELDS
                if owner is model
            )
            pk = quote(meta.pk.column)
            columns.append(
                f"(SELECT coalesce(jsonb_agg(to_jsonb(t){unwatched} ORDER BY t.{pk}), '[]')"
                f" FROM {table} AS t)"
            )
            tables.append((meta.label, meta.pk.column))
        else:
            columns.append(f"(SELECT count(*) FROM {table})")
            tables.append((meta.label, None))
    return "SELECT " + ", ".join(columns), tables


def snapshot() -> Snapshot:
    """Every watched row (all columns but the unwatched, by pk) and every other table's count."""
    sql, tables = snapshot_query()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        values = cursor.fetchone()
    # Django has psycopg hand jsonb over as text, for JSONField to decode.
    return {
        label: value if pk is None else {row[pk]: row for row in json.loads(value)}
        for (label, pk), value in zip(tables, values, strict=True)
    }


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots, one line per table, naming rows and fields."""
    found = []
    for label in sorted(before.keys() | after.keys()):
        old, new = before.get(label), after.get(label)
        if old == new:
            continue
        if not isinstance(old, dict) or not isinstance(new, dict):
            found.append(f"{label}: {old} rows -> {new} rows")
            continue
        added = sorted(new.keys() - old.keys())
        removed = sorted(old.keys() - new.keys())
        changed = {
            pk: sorted(field for field in new[pk] if new[pk][field] != old[pk][field])
            for pk in sorted(old.keys() & new.keys())
            if new[pk] != old[pk]
        }
        parts = [f"added pk {added}"] * bool(added) + [f"removed pk {removed}"] * bool(removed)
        parts += [f"pk {pk} changed {fields}" for pk, fields in changed.items()]
        found.append(f"{label}: {'; '.join(parts)}")
    return found


@pytest.mark.parametrize(
    ("name", "method", "path", "expected"), GET_ROWS, ids=[r[0] for r in GET_ROWS]
)
def test_get_and_head_change_no_row_for_any_visitor(world, name, method, path, expected):  # noqa: F811
    writes = []
    for role in ROLES:
        # Savepoints, rolled back afterwards, and the same cookies give every visit the
        # same starting point: a write by one visit (say, recording an acknowledgement)
        # cannot hide the same write by the next, and one world serves the whole URL.
        with transaction.atomic():
            client = Client()
            if role != "anonymous":
                client.force_login(world.users[role])
            logged_in = deepcopy(client.cookies)
            target = path(world)
            # Taken after logging in, which writes the session and last_login.
            before = snapshot()
            for verb, headers in VARIANTS:
                with transaction.atomic():
                    client.cookies = deepcopy(logged_in)
                    # Cached counters (rate limits) must not carry over between visits.
                    cache.clear()
                    response = getattr(client, verb.lower())(target, headers=headers)
                    after = snapshot()
                    transaction.set_rollback(True)
                if found := changes(before, after):
                    htmx = " (htmx)" if headers else ""
                    writes.append(
                        f"{verb} {target}{htmx} as {role} -> {response.status_code}: "
                        + " | ".join(found)
                    )
            transaction.set_rollback(True)
    assert not writes, f"{name} wrote on a read:\n" + "\n".join(writes)


def test_snapshot_notices_a_changed_field(meeting):
    before = snapshot()
    Meeting.objects.filter(pk=meeting.pk).update(title="Renamed behind our back")
    after = snapshot()

    assert before != after
    assert changes(before, after) == [f"meetings.Meeting: pk {meeting.pk} changed ['title']"]


def test_snapshot_notices_a_new_row_in_a_counted_table(db):
    before = snapshot()
    Group.objects.create(name="Readers")
    after = snapshot()

    assert changes(before, after) == [
        f"auth.Group: {before['auth.Group']} rows -> {before['auth.Group'] + 1} rows"
    ]


def test_snapshot_ignores_the_session_and_last_login_but_not_other_user_fields(client, organizer):
    client.force_login(organizer)  # writes a session and last_login: neither is reported
    before = snapshot()
    organizer.display_name = "Renamed"
    organizer.save(update_fields=["display_name"])
    client.force_login(organizer)  # a second login: a new session row and a new last_login

    assert changes(before, snapshot()) == [
        f"accounts.User: pk {organizer.pk} changed ['display_name']"
    ]


API_GET_ROWS = [row for row in GET_ROWS if row[0].startswith("api:")]


@pytest.mark.parametrize(("name", "method", "path", "expected"), API_GET_ROWS,
                         ids=[r[0] for r in API_GET_ROWS])  # fmt: skip
def test_api_gets_with_a_token_write_nothing_once_its_use_is_recorded(
    world,  # noqa: F811
    name,
    method,
    path,
    expected,
):
    """A token's `last_used_at` is the one write an API read may make, and at most once
    per LAST_USED_PRECISION (accounts/tokens.py): after the first request, none."""
    from accounts import services as account_services

    now = timezone.now()
    for role in ROLES[1:]:
        _, raw = account_services.create_api_token(
            user=world.users[role], name="Reader", scope="read",
            expires_at=now + timedelta(days=1), now=now,
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {raw}"}
        client = Client()
        client.get(path(world), headers=headers)  # records the token's first use
        before = snapshot()
        for verb in ("get", "head"):
            cache.clear()
            response = getattr(client, verb)(path(world), headers=headers)
            assert not changes(before, snapshot()), f"{verb} {name} as {role} wrote"
            assert response.status_code < 500
