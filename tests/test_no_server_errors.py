"""No input produces a 5xx: arbitrary path segments and query strings, thrown at
every URL pattern of the permission matrix as every kind of visitor, and at the
admin's change lists as staff."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from tests.test_permission_matrix import MATRIX, ROLES, world  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

# Text as attackers send it: NUL bytes, other alphabets, lone surrogates left
# out (they cannot be sent), and now and then something very long.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "\x00",
            "x\x00y",
            "%00",
            "../..",
            "' OR 1=1 --",
            "(",
            "[",
            "*",
            "\\",
            "é",
            "ſ",
            "１",
            "9" * 40,
            "-1",
            "0",
            "1e9",
            "a" * 2000,
        ]
    ),  # fmt: skip
).filter(lambda text: not any(0xD800 <= ord(c) <= 0xDFFF for c in text))

query = st.dictionaries(hostile_text, hostile_text, max_size=4)


def mutate(path: str, segment: str, position: int) -> str:
    """`path` with one of its segments replaced by `segment`."""
    parts = path.split("/")
    index = 1 + position % max(len(parts) - 2, 1)
    if index < len(parts) - 1 or len(parts) <= 2:
        parts[min(index, len(parts) - 1)] = quote(segment, safe="")
    return "/".join(parts)


def visit(client, method: str, path: str, params: dict) -> int:
    if method == "GET":
        response = client.get(f"{path}?{urlencode(params)}" if params else path)
    else:
        response = client.post(path, params)
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    row=st.sampled_from(MATRIX),
    segment=hostile_text,
    position=st.integers(min_value=0, max_value=8),
    params=query,
    post=st.booleans(),
    keep_path=st.booleans(),
)
def test_no_input_gets_a_server_error_on_any_url(
    client,
    world,  # noqa: F811 - the fixture imported above
    role,
    row,
    segment,
    position,
    params,
    post,
    keep_path,
):
    # Each example starts from the same world: one that removed a member or
    # cancelled a meeting is rolled back before the next.
    with transaction.atomic():
        if role != "anonymous":
            client.force_login(world.users[role])
        _name, method, path, _expected = row
        target = path(world)
        if not keep_path:
            target = mutate(target, segment, position)
        status = visit(client, "POST" if post else method, target, params)
        transaction.set_rollback(True)
    assert status < 500, (status, target, params)


ADMIN_LISTS = [
    "/admin/meetings/meeting/", "/admin/meetings/notification/", "/admin/meetings/actionitem/",
    "/admin/meetings/attendee/", "/admin/accounts/user/", "/admin/accounts/invitation/",
    "/admin/meetings/unrecapped/",
]  # fmt: skip


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    page=st.sampled_from(ADMIN_LISTS),
    lookup=st.sampled_from(
        [
            "title__regex",
            "email__iregex",
            "state__exact",
            "q",
            "o",
            "p",
            "starts_at__gte",
            "team__id__exact",
            "kind__in",
            "recipient__email",
            "status",
            "overdue",
            "format",
        ]
    ),  # fmt: skip
    value=hostile_text,
    params=query,
)
def test_no_admin_list_lookup_gets_a_server_error(client, db, page, lookup, value, params):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    status = visit(client, "GET", page, {lookup: value, **params})
    assert status < 500, (status, page, lookup, value, params)


@pytest.mark.parametrize("page", ADMIN_LISTS[:-1])
@pytest.mark.parametrize("params", [{"state__exact": "\x00"}, {"q": "a\x00"}, {"\x00": "1"}])
def test_a_nul_byte_in_an_admin_list_query_is_refused(client, db, page, params):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(page, params).status_code == 400


def test_an_undeclared_admin_lookup_is_refused_not_run(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/meetings/meeting/", {"title__regex": "("}).status_code == 400
    assert client.get("/admin/meetings/notification/", {"state__exact": "sent"}).status_code == 200


@pytest.mark.parametrize(
    "token", ["x\x00y", "a" * 600, "ümlaut", "with space", "semi;colon"], ids=repr
)
def test_malformed_tokens_answer_404(client, db, token):
    for path in ("/calendar/feed/{}.ics", "/email/acknowledge/{}/",
                 "/email/unsubscribe/{}/", "/accounts/invitation/{}/",
                 *(f"/email/action/{answer}/{{}}/"
                   for answer in ("accept", "done", "redate", "decline"))):  # fmt: skip
        assert client.get(path.format(quote(token, safe=""))).status_code == 404, path
