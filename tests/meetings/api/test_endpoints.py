"""The read API and its first writes: tenancy as the pages, keyset pagination with
constant queries, the detail of a meeting, action items, and the error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import services
from meetings.models import Meeting
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

from .conftest import bearer

pytestmark = pytest.mark.django_db


def _foreign_meeting() -> Meeting:
    team = TeamFactory()
    stranger = UserFactory()
    MembershipFactory(user=stranger, team=team)
    return MeetingFactory(team=team, organizer=stranger, now=timezone.now())


def test_another_teams_meeting_is_404(client, read_token):
    theirs = _foreign_meeting()
    response = client.get(f"/api/v1/meetings/{theirs.pk}/", headers=bearer(read_token))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "Not found.", "field": None}]}


def test_list_shows_only_my_teams_meetings(client, meeting, read_token):
    _foreign_meeting()
    items = client.get("/api/v1/meetings/", headers=bearer(read_token)).json()["items"]
    assert [m["id"] for m in items] == [meeting.pk]


def _many(team, organizer, count: int) -> None:
    start = timezone.now() + timedelta(days=1)
    Meeting.objects.bulk_create(
        Meeting(
            team=team,
            organizer=organizer,
            title=f"M{i}",
            # Pairs share a start: the id must break the tie.
            starts_at=start + timedelta(hours=i // 2),
            ends_at=start + timedelta(hours=i // 2, minutes=30),
            time_zone="UTC",
        )
        for i in range(count)
    )


def test_cursor_pages_cover_every_meeting_once_in_order(client, team, organizer, read_token):
    _many(team, organizer, 25)
    seen, url = [], "/api/v1/meetings/?limit=7"
    while url:
        page = client.get(url, headers=bearer(read_token)).json()
        seen += [(m["starts_at"], m["id"]) for m in page["items"]]
        url = page["next"] and f"/api/v1/meetings/?limit=7&cursor={page['next']}"
    expected = list(
        Meeting.objects.filter(team=team).order_by("starts_at", "pk").values_list("pk", flat=True)
    )
    assert [pk for _, pk in seen] == expected
    assert len(set(seen)) == 25


def test_a_page_costs_the_same_queries_at_10_and_1000_meetings(
    client, team, organizer, read_token
):
    def queries_for_second_page() -> int:
        first = client.get("/api/v1/meetings/?limit=5", headers=bearer(read_token)).json()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                f"/api/v1/meetings/?limit=5&cursor={first['next']}", headers=bearer(read_token)
            )
        assert len(response.json()["items"]) == 5
        return len(queries)

    _many(team, organizer, 10)
    at_10 = queries_for_second_page()
    _many(team, organizer, 990)
    assert queries_for_second_page() == at_10 <= 2  # the token, the page


def test_filters_by_team_status_and_dates(client, team, organizer, read_token, upcoming):
    other_team = TeamFactory()
    MembershipFactory(user=organizer, team=other_team)
    elsewhere = MeetingFactory(team=other_team, organizer=organizer, now=timezone.now())

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/meetings/?{query}", headers=bearer(read_token))
        return [m["id"] for m in response.json()["items"]]

    assert set(ids("")) == {upcoming.pk, elsewhere.pk}
    assert ids(f"team={other_team.pk}") == [elsewhere.pk]
    assert set(ids("status=draft")) == {upcoming.pk, elsewhere.pk}
    assert ids("status=canceled") == []
    after = (upcoming.starts_at + timedelta(seconds=1)).isoformat().replace("+", "%2B")
    assert upcoming.pk not in ids(f"starts_after={after}")


def test_a_bad_cursor_or_status_is_422_in_the_error_shape(client, read_token):
    response = client.get("/api/v1/meetings/?cursor=garbage", headers=bearer(read_token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"
    response = client.get("/api/v1/meetings/?status=sleeping", headers=bearer(read_token))
    assert response.status_code == 422
    assert set(response.json()) == {"errors"}


def test_meeting_detail_has_agenda_attendees_recap_and_items(
    client, ended, organizer, member, read_token
):
    services.add_decision(meeting=ended, text="Ship it.")
    services.add_action_item(
        meeting=ended, description="Write it up", owner=member,
        due_date=ended.local_date + timedelta(days=3), now=timezone.now(),
    )  # fmt: skip
    response = client.get(f"/api/v1/meetings/{ended.pk}/", headers=bearer(read_token))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "awaiting_recap"
    assert len(body["agenda_items"]) == 2
    assert {a["user"]["id"]: a["rsvp"] for a in body["attendees"]} == {
        organizer.pk: "pending",
        member.pk: "pending",
    }
    assert [d["text"] for d in body["decisions"]] == ["Ship it."]
    assert body["action_items"][0]["owner"]["id"] == member.pk
    assert body["recap"]["published_at"] is None


def test_action_items_mine_and_by_meeting(client, ended, organizer, member, read_token):
    for owner in (organizer, member):
        services.add_action_item(
            meeting=ended, description=f"For {owner.pk}", owner=owner,
            due_date=ended.local_date + timedelta(days=3), now=timezone.now(),
        )  # fmt: skip
    mine = client.get("/api/v1/action-items/?mine=1", headers=bearer(read_token)).json()
    assert [i["owner"]["id"] for i in mine["items"]] == [organizer.pk]
    of_meeting = client.get(
        f"/api/v1/action-items/?meeting={ended.pk}", headers=bearer(read_token)
    ).json()
    assert of_meeting["count"] == 2


def test_a_broken_rule_is_422_with_one_message_per_rule(client, upcoming, write_token):
    # No desired outcome and no agenda item: sending is refused, one message each.
    response = client.post(f"/api/v1/meetings/{upcoming.pk}/agenda/send/",
                           headers=bearer(write_token))  # fmt: skip
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert len(errors) >= 2
    assert all(set(e) == {"message", "field"} for e in errors)
    upcoming.refresh_from_db()
    assert upcoming.agenda_sent_at is None


def test_a_member_without_the_right_gets_403(client, upcoming, member):
    from .conftest import make_token

    token = make_token(member, scope="write")
    response = client.post(f"/api/v1/meetings/{upcoming.pk}/cancel/", headers=bearer(token))
    assert response.status_code == 403


def test_create_meeting_through_the_service(client, team, organizer, member, write_token):
    start = timezone.now() + timedelta(days=3)
    response = client.post(
        "/api/v1/meetings/",
        {
            "team_id": team.pk,
            "title": "Planning",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "time_zone": "Europe/Berlin",
            "attendee_ids": [member.pk],
        },
        content_type="application/json",
        headers=bearer(write_token),
    )
    assert response.status_code == 201, response.content
    assert {a["user"]["id"] for a in response.json()["attendees"]} == {organizer.pk, member.pk}


def test_create_meeting_with_a_stranger_is_422(client, team, write_token):
    start = timezone.now() + timedelta(days=3)
    response = client.post(
        "/api/v1/meetings/",
        {
            "team_id": team.pk,
            "title": "Planning",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "time_zone": "UTC",
            "attendee_ids": [UserFactory().pk],
        },
        content_type="application/json",
        headers=bearer(write_token),
    )
    assert response.status_code == 422
    assert "member" in response.json()["errors"][0]["message"]


def test_openapi_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


def test_an_offset_postgres_cannot_hold_is_read_in_utc(client, read_token):
    # Found by Schemathesis (a 500): ISO allows offsets past PostgreSQL's ±15:59.
    value = "2621-10-29T19:22:32%2B16:46"
    response = client.get(f"/api/v1/meetings/?starts_after={value}", headers=bearer(read_token))
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["9999-12-31T23:00:00-05:00", "2026-01-01T10:00:00"])
def test_a_time_out_of_range_or_without_offset_is_422(client, read_token, value):
    response = client.get(f"/api/v1/meetings/?starts_after={value}", headers=bearer(read_token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.starts_after"


@pytest.mark.parametrize("query", ["limit=330093577021598203904", "limit=101",
                                   "offset=330093577021598203904"])  # fmt: skip
def test_a_page_postgres_cannot_count_to_is_422(client, read_token, query):
    # Schemathesis found `?limit=<a number past bigint>` answered 500.
    response = client.get(f"/api/v1/action-items/?{query}", headers=bearer(read_token))
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/meetings/-1/", "/api/v1/meetings/abc/", "/api/v1/nope"])
def test_a_path_no_operation_matches_is_a_json_404(client, read_token, path):
    # Found by Schemathesis' stateful phase: Django's HTML page answered here.
    response = client.get(path, headers=bearer(read_token))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "Not found.", "field": None}]}


def test_a_page_no_url_matches_is_still_the_sites_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_action_item_page_costs_the_same_queries_at_10_and_1000(
    client, team, organizer, read_token
):
    from meetings.models import ActionItem

    meeting = MeetingFactory(team=team, organizer=organizer, now=timezone.now())

    def add(count: int) -> None:
        ActionItem.objects.bulk_create(
            ActionItem(meeting=meeting, description=f"A{i}", owner=organizer,
                       due_date=meeting.local_date + timedelta(days=i % 30))
            for i in range(count)
        )  # fmt: skip

    def queries() -> int:
        url = "/api/v1/action-items/?mine=true&status=open&limit=5&offset=3"
        client.get(url, headers=bearer(read_token))  # the token's first use is recorded
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=bearer(read_token))
        assert len(response.json()["items"]) == 5
        return len(captured)

    add(10)
    at_10 = queries()
    add(990)
    assert queries() == at_10 <= 3  # the token, the count, the page
