"""Whatever arrives in the query string or the form, the dashboards answer without a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

junk = st.one_of(st.text(max_size=40), st.integers(-(10**30), 10**30).map(str))
fuzz = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def clean(value: str) -> str:
    return value.replace("\x00", "")  # the test client cannot send NUL in a URL


@fuzz
@given(team=junk, organizer=junk, overdue=junk, sort=junk, page=junk, start=junk, end=junk)
def test_unrecapped_filters_never_fail(staff_client, team, organizer, overdue, sort, page,
                                       start, end):  # fmt: skip
    params = {"team": team, "organizer": organizer, "overdue": overdue, "o": sort,
              "page": page, "start": start, "end": end}  # fmt: skip
    response = staff_client.get(
        "/admin/meetings/unrecapped/", {k: clean(v) for k, v in params.items()}
    )
    assert response.status_code == 200


@fuzz
@given(remind=junk, selected=st.lists(junk, max_size=3))
def test_remind_post_never_fails(staff_client, remind, selected):
    response = staff_client.post(
        "/admin/meetings/unrecapped/",
        {"remind": clean(remind), "bulk": "1", "selected": [clean(s) for s in selected]},
    )
    assert response.status_code == 302


@fuzz
@given(start=junk, end=junk)
def test_team_compliance_period_never_fails(client, start, end):
    team = TeamFactory()
    admin = UserFactory()
    MembershipFactory(user=admin, team=team, role="admin")
    client.force_login(admin)
    response = client.get(f"/compliance/{team.slug}/", {"start": clean(start), "end": clean(end)})
    assert response.status_code == 200
