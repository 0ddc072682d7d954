"""Keyset pages of the unrecapped dashboard: every row once, in order, either way."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from meetings.models import Meeting
from meetings.reports import unrecapped
from meetings.reports.unrecapped import keyset_page, parse_cursor, unrecapped_meetings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/meetings/unrecapped/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def backlog(team, organizer):
    """23 meetings owing a recap, in runs that share one end time (equal sort keys)."""
    base = timezone.now() - timedelta(days=5)
    Meeting.objects.bulk_create(
        Meeting(team=team, organizer=organizer, title=f"M{n:02}", time_zone="UTC",
                starts_at=base + timedelta(hours=n // 4) - timedelta(hours=1),
                ends_at=base + timedelta(hours=n // 4))
        for n in range(23)
    )  # fmt: skip
    return list(Meeting.objects.order_by("ends_at", "pk").values_list("title", flat=True))


def walk(meetings, *, descending: bool, size: int):
    """Every page forwards through Next, then back through Previous."""
    forward, page = [], keyset_page(meetings, descending=descending, size=size)
    pages = [page]
    while page.next_cursor:
        page = keyset_page(meetings, descending=descending, after=page.next_cursor, size=size)
        pages.append(page)
    forward = [[m.title for m in p] for p in pages]
    backward = [[m.title for m in page]]
    while page.previous_cursor:
        page = keyset_page(meetings, descending=descending, before=page.previous_cursor, size=size)
        backward.append([m.title for m in page])
    return forward, backward[::-1]


@pytest.mark.parametrize("descending", [False, True])
def test_pages_hold_every_row_once_in_order_with_equal_end_times(backlog, descending):
    meetings = unrecapped_meetings(timezone.now(), sort="-overdue" if descending else "overdue")
    forward, backward = walk(meetings, descending=descending, size=5)
    expected = backlog[::-1] if descending else backlog
    assert [title for page in forward for title in page] == expected
    assert [len(page) for page in forward] == [5, 5, 5, 5, 3]
    # Previous walks back over the very same pages.
    assert backward == forward


def test_a_page_boundary_inside_a_run_of_equal_end_times(backlog):
    """Rows 4..7 share one end time; a page of 6 ends in the middle of them."""
    meetings = unrecapped_meetings(timezone.now())
    first = keyset_page(meetings, size=6)
    second = keyset_page(meetings, after=first.next_cursor, size=6)
    assert [m.title for m in first] + [m.title for m in second] == backlog[:12]
    assert first.object_list[-1].ends_at == second.object_list[0].ends_at


@pytest.mark.parametrize("cursor", ["", "abc", "12-", "-5", "²-1", "9" * 40 + "-1", "1-2-3"])
def test_a_bad_cursor_gives_the_first_page(staff_client, backlog, cursor):
    assert parse_cursor(cursor) is None
    response = staff_client.get(URL, {"after": cursor, "before": cursor})
    assert response.status_code == 200
    assert [m.title for m in response.context["page"]][:3] == backlog[:3]


def test_the_links_walk_the_dashboard_and_keep_the_filters(staff_client, backlog, team,
                                                           monkeypatch):  # fmt: skip
    monkeypatch.setattr(unrecapped, "PAGE_SIZE", 10)
    monkeypatch.setattr("meetings.admin.PAGE_SIZE", 10)
    seen, query, labels = [], f"team={team.pk}", []
    while query is not None:
        response = staff_client.get(f"{URL}?{query}")
        seen += [m.title for m in response.context["page"]]
        labels.append(re.search(r"Page \d+ of \d+", response.content.decode()).group())
        link = re.search(r'href="\?([^"]*)" rel="next"', response.content.decode())
        query = unescape(link.group(1)) if link else None
        if query:
            assert f"team={team.pk}" in query
    assert seen == backlog
    assert labels == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]
    previous = re.search(r'href="\?([^"]*)" rel="prev"', response.content.decode()).group(1)
    back = staff_client.get(f"{URL}?{unescape(previous)}")
    assert [m.title for m in back.context["page"]] == backlog[10:20]
    assert "Page 2 of 3" in back.content.decode()


def test_past_the_cap_the_count_says_more_than(staff_client, backlog, monkeypatch):
    monkeypatch.setattr(unrecapped, "COUNT_CAP", 20)
    monkeypatch.setattr("meetings.admin.COUNT_CAP", 20)
    monkeypatch.setattr("meetings.admin.PAGE_SIZE", 10)
    monkeypatch.setattr(unrecapped, "PAGE_SIZE", 10)
    page = staff_client.get(URL).content.decode()
    assert "More than 20 meetings owe a recap" in page
    assert "Page 1" in page and "Page 1 of" not in page  # no page total past the cap


def test_a_later_page_costs_the_same_queries(staff_client, backlog,
                                             django_assert_num_queries):  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first_queries:
        first = staff_client.get(URL)
    with django_assert_num_queries(len(first_queries)):
        staff_client.get(URL + "?" + first.context["next_query"])


def test_compliance_figures_come_on_their_own_request(staff_client, backlog, team):
    page = staff_client.get(URL, {"team": team.pk}).content.decode()
    assert "Weekly trend" not in page
    link = re.search(r'hx-get="\?([^"]*)"', page).group(1)
    assert "compliance=1" in link and f"team={team.pk}" in link
    # htmx loads the figures alone, right after the page.
    fragment = staff_client.get(f"{URL}?{unescape(link)}", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "Weekly trend" in body and "<html" not in body and "result_list" not in body
    # Without JavaScript the link shows the whole page with the figures.
    full = staff_client.get(f"{URL}?{unescape(link)}").content.decode()
    assert "Weekly trend" in full and "result_list" in full


def test_the_list_page_costs_no_compliance_queries(staff_client, backlog,
                                                   django_assert_max_num_queries):  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as with_report:
        staff_client.get(URL, {"compliance": "1"})
    with CaptureQueriesContext(connection) as list_only:
        staff_client.get(URL)
    assert len(list_only) < len(with_report)
    assert not any("PERCENTILE_CONT" in q["sql"] for q in list_only.captured_queries)
