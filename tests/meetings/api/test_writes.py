"""The API's agenda, recap, attendee and acknowledgement operations: each goes through
the page's service (its rules answer 422, one message each), with the page's access
(another team's object 404, a member without the right 403, a read-only token 403),
and reads loose input as a mistake."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import services
from meetings.models import NOTHING_CHANGED, ActionItem, AgendaItem, Attendee
from tests.factories import MeetingFactory, MembershipFactory, UserFactory, ready_agenda

from .conftest import bearer, make_token

pytestmark = pytest.mark.django_db


def call(client, method: str, url: str, token: str, body: object = None, raw: str | None = None):
    data = raw if raw is not None else ("" if body is None else json.dumps(body))
    return client.generic(method, url, data, "application/json", headers=bearer(token))


def messages(response) -> list[str]:
    return [e["message"] for e in response.json()["errors"]]


# -- meetings and attendees -------------------------------------------------------------


def test_patch_changes_only_what_is_given(client, upcoming, write_token):
    start = upcoming.starts_at + timedelta(hours=1)
    response = call(client, "PATCH", f"/api/v1/meetings/{upcoming.pk}/", write_token,
                    {"title": "Planning", "starts_at": start.isoformat(),
                     "ends_at": (start + timedelta(hours=1)).isoformat()})  # fmt: skip
    assert response.status_code == 200, response.content
    upcoming.refresh_from_db()
    assert (upcoming.title, upcoming.starts_at) == ("Planning", start)
    assert upcoming.location == ""  # not given, kept


def test_patch_refuses_a_move_into_the_past_and_a_start_after_the_end(
    client, upcoming, write_token
):
    past = timezone.now() - timedelta(days=1)
    response = call(client, "PATCH", f"/api/v1/meetings/{upcoming.pk}/", write_token,
                    {"starts_at": past.isoformat(),
                     "ends_at": (past - timedelta(hours=1)).isoformat()})  # fmt: skip
    assert response.status_code == 422
    assert len(response.json()["errors"]) == 2  # ends before it starts; in the past
    upcoming.refresh_from_db()
    assert upcoming.starts_at > timezone.now()


def test_patch_attendee_ids_is_the_whole_list_and_keeps_the_organizer(
    client, upcoming, organizer, member, team_admin, write_token
):
    response = call(client, "PATCH", f"/api/v1/meetings/{upcoming.pk}/", write_token,
                    {"attendee_ids": [team_admin.pk]})  # fmt: skip
    assert response.status_code == 200
    assert {a["user"]["id"] for a in response.json()["attendees"]} == {organizer.pk, team_admin.pk}


def test_attendees_add_list_and_remove(client, upcoming, organizer, member, team_admin,
                                       write_token):  # fmt: skip
    url = f"/api/v1/meetings/{upcoming.pk}/attendees/"
    added = call(client, "POST", url, write_token, {"user_id": team_admin.pk})
    assert added.status_code == 201
    assert added.json() == {
        "user": {"id": team_admin.pk, "name": team_admin.name, "email": team_admin.email},
        "required": True, "rsvp": "pending", "acknowledged_at": None,
    }  # fmt: skip
    listed = call(client, "GET", url, write_token).json()
    assert [a["user"]["id"] for a in listed["items"]] == [organizer.pk, member.pk, team_admin.pk]
    assert call(client, "DELETE", f"{url}{member.pk}/", write_token).status_code == 204
    assert not upcoming.attendees.filter(user=member).exists()
    # Not attending (any more): 404; the organizer always attends: 422.
    assert call(client, "DELETE", f"{url}{member.pk}/", write_token).status_code == 404
    refused = call(client, "DELETE", f"{url}{organizer.pk}/", write_token)
    assert refused.status_code == 422
    assert messages(refused) == ["The organizer always attends."]


def test_an_attendee_from_another_team_or_nobody_answers_alike(client, upcoming, write_token):
    url = f"/api/v1/meetings/{upcoming.pk}/attendees/"
    stranger = call(client, "POST", url, write_token, {"user_id": UserFactory().pk})
    nobody = call(client, "POST", url, write_token, {"user_id": 10**12})
    assert stranger.status_code == nobody.status_code == 422
    assert stranger.json() == nobody.json()


def test_attendees_of_a_canceled_meeting_no_longer_change(client, upcoming, organizer,
                                                          team_admin, write_token):  # fmt: skip
    services.cancel_meeting(meeting=upcoming, by=organizer, now=timezone.now())
    response = call(client, "POST", f"/api/v1/meetings/{upcoming.pk}/attendees/", write_token,
                    {"user_id": team_admin.pk})  # fmt: skip
    assert response.status_code == 422
    assert "canceled" in messages(response)[0]


def test_the_attendee_list_costs_the_same_queries_at_10_and_1000(
    client, team, organizer, read_token
):
    meeting = MeetingFactory(team=team, organizer=organizer, now=timezone.now())

    def attend(count: int) -> None:
        users = UserFactory.create_batch(count)
        Attendee.objects.bulk_create(Attendee(meeting=meeting, user=u) for u in users)

    def queries() -> int:
        url = f"/api/v1/meetings/{meeting.pk}/attendees/?limit=5&offset=3"
        client.get(url, headers=bearer(read_token))  # the token's first use is recorded
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=bearer(read_token))
        assert len(response.json()["items"]) == 5
        return len(captured)

    attend(9)
    at_10 = queries()
    attend(990)
    assert queries() == at_10 <= 4  # the token, the meeting, the count, the page


def test_who_acknowledged_the_recap(client, ended, organizer, member, write_token):
    ended.recap_summary, ended.no_action_items = "Done.", True
    ended.save(update_fields=["recap_summary", "no_action_items"])
    services.publish_recap(meeting=ended, by=organizer, now=timezone.now())
    token = make_token(member, scope="write")
    url = f"/api/v1/meetings/{ended.pk}/recap/acknowledge/"
    first = call(client, "POST", url, token)
    assert first.status_code == 200
    assert first.json()["user"]["id"] == member.pk
    assert call(client, "POST", url, token).json() == first.json()  # the first time counts
    attendees = f"/api/v1/meetings/{ended.pk}/attendees/"
    read = call(client, "GET", f"{attendees}?acknowledged=true", write_token).json()["items"]
    unread = call(client, "GET", f"{attendees}?acknowledged=false", write_token).json()["items"]
    assert [a["user"]["id"] for a in read] == [member.pk]
    assert [a["user"]["id"] for a in unread] == [organizer.pk]


def test_an_unpublished_recap_cannot_be_acknowledged(client, ended, member):
    token = make_token(member, scope="write")
    response = call(client, "POST", f"/api/v1/meetings/{ended.pk}/recap/acknowledge/", token)
    assert response.status_code == 422
    assert messages(response) == ["There is no published recap to acknowledge yet."]


# -- the agenda -------------------------------------------------------------------------


def test_set_desired_outcome_and_a_sent_agenda_keeps_one(client, upcoming, organizer,
                                                         write_token):  # fmt: skip
    url = f"/api/v1/meetings/{upcoming.pk}/agenda/outcome/"
    response = call(client, "PUT", url, write_token, {"desired_outcome": "Pick a vendor."})
    assert response.json()["desired_outcome"] == "Pick a vendor."
    services.add_agenda_item(meeting=upcoming, title="Vendors", added_by=organizer)
    services.send_agenda(meeting=upcoming, by=organizer, now=timezone.now())
    refused = call(client, "PUT", url, write_token, {"desired_outcome": " "})
    assert refused.status_code == 422
    assert messages(refused) == ["A sent agenda must state the desired outcome."]


def test_edit_an_agenda_item_partly(client, upcoming, organizer, member, write_token):
    item = services.add_agenda_item(meeting=upcoming, title="Budget", added_by=organizer,
                                    owner=member, timebox_minutes=10, notes="Q3")  # fmt: skip
    url = f"/api/v1/meetings/{upcoming.pk}/agenda/items/{item.pk}/"
    response = call(client, "PATCH", url, write_token, {"title": "Budget Q3", "owner_id": None})
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert (item.title, item.owner, item.timebox_minutes, item.notes) == ("Budget Q3", None, 10,
                                                                         "Q3")  # fmt: skip
    stranger = call(client, "PATCH", url, write_token, {"owner_id": UserFactory().pk})
    assert stranger.status_code == 422


def test_move_reorders_the_agenda(client, upcoming, organizer, write_token):
    first, second, third = (
        services.add_agenda_item(meeting=upcoming, title=t, added_by=organizer)
        for t in ("One", "Two", "Three")
    )
    url = f"/api/v1/meetings/{upcoming.pk}/agenda/items/{third.pk}/move/"
    response = call(client, "POST", url, write_token, {"offset": -5})  # stops at the top
    assert response.status_code == 200
    assert [i["title"] for i in response.json()] == ["Three", "One", "Two"]
    assert [i["position"] for i in response.json()] == [0, 1, 2]


def test_remove_an_item_but_a_sent_agenda_keeps_one(client, upcoming, organizer, write_token):
    ready_agenda(upcoming, by=organizer, items=2)
    services.send_agenda(meeting=upcoming, by=organizer, now=timezone.now())
    first, last = upcoming.agenda_items.order_by("position")
    url = f"/api/v1/meetings/{upcoming.pk}/agenda/items/"
    assert call(client, "DELETE", f"{url}{first.pk}/", write_token).status_code == 204
    refused = call(client, "DELETE", f"{url}{last.pk}/", write_token)
    assert refused.status_code == 422
    assert messages(refused) == ["A sent agenda keeps at least one item; add another first."]


def test_an_attendee_removes_their_own_talking_point_only(client, upcoming, organizer, member):
    token = make_token(member, scope="write")
    url = f"/api/v1/meetings/{upcoming.pk}/agenda/items/"
    mine = call(client, "POST", url, token, {"title": "My point"}).json()["id"]
    theirs = services.add_agenda_item(meeting=upcoming, title="Theirs", added_by=organizer)
    assert call(client, "DELETE", f"{url}{theirs.pk}/", token).status_code == 403
    assert call(client, "DELETE", f"{url}{mine}/", token).status_code == 204
    # Owners are the organizer's to give.
    owned = call(client, "POST", url, token, {"title": "Mine", "owner_id": member.pk})
    assert owned.status_code == 403


def test_amend_sends_a_change_and_says_when_nothing_changed(client, upcoming, organizer,
                                                            write_token):  # fmt: skip
    ready_agenda(upcoming, by=organizer)
    services.send_agenda(meeting=upcoming, by=organizer, now=timezone.now())
    url = f"/api/v1/meetings/{upcoming.pk}/agenda/amend/"
    unchanged = call(client, "POST", url, write_token)
    assert unchanged.status_code == 422
    assert unchanged.json() == {"errors": [{"message": NOTHING_CHANGED, "field": None}]}
    call(client, "POST", f"/api/v1/meetings/{upcoming.pk}/agenda/items/", write_token,
         {"title": "One more"})  # fmt: skip
    amended = call(client, "POST", url, write_token)
    assert amended.status_code == 200
    assert amended.json()["agenda_amended_at"] is not None


# -- the recap ------------------------------------------------------------------------------


def test_a_recap_written_and_published_through_the_api(client, ended, organizer, member,
                                                       write_token):  # fmt: skip
    base = f"/api/v1/meetings/{ended.pk}/recap/"
    item = ended.agenda_items.order_by("position").first()
    saved = call(client, "PATCH", base, write_token, {
        "summary": "We picked a vendor.",
        "outcomes": [{"agenda_item_id": item.pk, "outcome": "decided"}],
    })  # fmt: skip
    assert saved.status_code == 200, saved.content
    assert saved.json()["recap"]["summary"] == "We picked a vendor."
    decision = call(client, "POST", f"{base}decisions/", write_token, {"text": "Vendor A."})
    assert decision.status_code == 201
    edited = call(client, "PATCH", f"{base}decisions/{decision.json()['id']}/", write_token,
                  {"text": "Vendor B."})  # fmt: skip
    assert edited.json()["text"] == "Vendor B."
    due = (ended.local_date + timedelta(days=7)).isoformat()
    action = call(client, "POST", f"{base}action-items/", write_token,
                  {"description": "Sign", "owner_id": member.pk, "due_date": due})  # fmt: skip
    assert action.status_code == 201, action.content
    changed = call(client, "PATCH", f"{base}action-items/{action.json()['id']}/", write_token,
                   {"owner_id": organizer.pk})  # fmt: skip
    assert changed.json()["owner"]["id"] == organizer.pk
    published = call(client, "POST", f"{base}publish/", write_token)
    assert published.status_code == 200, published.content
    body = published.json()
    assert body["status"] == "recapped"
    assert [i["outcome"] for i in body["agenda_items"]][0] == "decided"
    assert [d["text"] for d in body["decisions"]] == ["Vendor B."]
    # Published: the draft no longer changes.
    late = call(client, "DELETE", f"{base}decisions/{decision.json()['id']}/", write_token)
    assert late.status_code == 422
    assert messages(late) == ["The recap is already published and can no longer change."]


def test_publish_refused_lists_every_broken_rule(client, ended, write_token):
    response = call(client, "POST", f"/api/v1/meetings/{ended.pk}/recap/publish/", write_token)
    assert response.status_code == 422
    assert len(messages(response)) == 2  # no summary; no action items nor the flag


def test_recap_rules_on_action_items_and_outcomes(client, ended, write_token):
    base = f"/api/v1/meetings/{ended.pk}/recap/"
    early = (ended.local_date - timedelta(days=1)).isoformat()
    stranger = UserFactory()
    MembershipFactory(user=stranger)
    refused = call(client, "POST", f"{base}action-items/", write_token,
                   {"description": "X", "owner_id": stranger.pk, "due_date": early})  # fmt: skip
    assert refused.status_code == 422
    unknown = call(client, "PATCH", base, write_token,
                   {"outcomes": [{"agenda_item_id": 10**9, "outcome": "decided"}]})  # fmt: skip
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.data.outcomes.0.agenda_item_id"
    assert not ActionItem.objects.filter(meeting=ended).exists()


def test_the_recap_opens_when_the_meeting_starts(client, upcoming, write_token):
    response = call(client, "PATCH", f"/api/v1/meetings/{upcoming.pk}/recap/", write_token,
                    {"summary": "Too early."})  # fmt: skip
    assert response.status_code == 422
    assert messages(response) == ["The recap opens when the meeting starts."]


def test_remove_a_drafted_action_item(client, ended, member, write_token):
    item = services.add_action_item(meeting=ended, description="X", owner=member,
                                    due_date=ended.local_date, now=timezone.now())  # fmt: skip
    url = f"/api/v1/meetings/{ended.pk}/recap/action-items/{item.pk}/"
    assert call(client, "DELETE", url, write_token).status_code == 204
    assert not ActionItem.objects.filter(pk=item.pk).exists()


# -- action items once out ----------------------------------------------------------------


def test_done_then_reopened(client, ended, organizer, write_token):
    item = services.add_action_item(meeting=ended, description="X", owner=organizer,
                                    due_date=ended.local_date, now=timezone.now())  # fmt: skip
    url = f"/api/v1/action-items/{item.pk}/done/"
    assert call(client, "POST", url, write_token, {"done": True}).json()["status"] == "done"
    reopened = call(client, "POST", url, write_token, {"done": False}).json()
    assert (reopened["status"], reopened["completed_at"]) == ("open", None)


# -- loose input is a mistake ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"done": 0}', "body.data.done"),
        ('{"done": "true"}', "body.data.done"),
        ('"true"', "body.data"),
        ("[true]", "body.data"),
        ('{"done": true, "also": 1}', "body.data.also"),
    ],
)
def test_loose_input_is_422(client, ended, organizer, write_token, body, field):
    item = services.add_action_item(meeting=ended, description="X", owner=organizer,
                                    due_date=ended.local_date, now=timezone.now())  # fmt: skip
    response = call(client, "POST", f"/api/v1/action-items/{item.pk}/done/", write_token,
                    raw=body)  # fmt: skip
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_bare_json_string_is_not_an_agenda_item(client, upcoming, write_token):
    # ninja's Schema read attributes of whatever came: "hello" became {"title": "Hello"}.
    response = call(client, "POST", f"/api/v1/meetings/{upcoming.pk}/agenda/items/",
                    write_token, raw='"hello"')  # fmt: skip
    assert response.status_code == 422
    assert not AgendaItem.objects.filter(meeting=upcoming).exists()


@pytest.mark.parametrize("due", [0, 1767225600, "2026-13-01", None])
def test_a_due_date_is_iso_text(client, ended, organizer, write_token, due):
    item = services.add_action_item(meeting=ended, description="X", owner=organizer,
                                    due_date=ended.local_date, now=timezone.now())  # fmt: skip
    response = call(client, "POST", f"/api/v1/action-items/{item.pk}/redate/", write_token,
                    {"due_date": due})  # fmt: skip
    assert response.status_code == 422


# -- access: every new operation as an outsider, a member without the right, a read token -----

Op = tuple[str, str, object]


def _ops(w) -> list[Op]:
    m, item = w["meeting"], w["item"]
    due = w["ended"].local_date.isoformat()
    e = w["ended"]
    return [
        ("PATCH", f"/api/v1/meetings/{m.pk}/", {"title": "X"}),
        ("POST", f"/api/v1/meetings/{m.pk}/attendees/", {"user_id": w["admin"].pk}),
        ("DELETE", f"/api/v1/meetings/{m.pk}/attendees/{w['member'].pk}/", None),
        ("PUT", f"/api/v1/meetings/{m.pk}/agenda/outcome/", {"desired_outcome": "X"}),
        ("PATCH", f"/api/v1/meetings/{m.pk}/agenda/items/{item.pk}/", {"title": "X"}),
        ("POST", f"/api/v1/meetings/{m.pk}/agenda/items/{item.pk}/move/", {"offset": 1}),
        ("DELETE", f"/api/v1/meetings/{m.pk}/agenda/items/{item.pk}/", None),
        ("POST", f"/api/v1/meetings/{m.pk}/agenda/amend/", None),
        ("PATCH", f"/api/v1/meetings/{e.pk}/recap/", {"summary": "X"}),
        ("POST", f"/api/v1/meetings/{e.pk}/recap/decisions/", {"text": "X"}),
        ("PATCH", f"/api/v1/meetings/{e.pk}/recap/decisions/{w['decision'].pk}/", {"text": "Y"}),
        ("DELETE", f"/api/v1/meetings/{e.pk}/recap/decisions/{w['decision'].pk}/", None),
        ("POST", f"/api/v1/meetings/{e.pk}/recap/action-items/",
         {"description": "X", "owner_id": w["member"].pk, "due_date": due}),
        ("PATCH", f"/api/v1/meetings/{e.pk}/recap/action-items/{w['action'].pk}/",
         {"description": "Y"}),
        ("DELETE", f"/api/v1/meetings/{e.pk}/recap/action-items/{w['action'].pk}/", None),
    ]  # fmt: skip


@pytest.fixture
def w(upcoming, ended, organizer, member, team_admin):
    # A sent agenda changed since (so amending sends something), with two items.
    ready_agenda(upcoming, by=organizer)
    services.send_agenda(meeting=upcoming, by=organizer, now=timezone.now())
    item = services.add_agenda_item(meeting=upcoming, title="Item", added_by=organizer)
    decision = services.add_decision(meeting=ended, text="Decided.")
    action = services.add_action_item(meeting=ended, description="X", owner=member,
                                      due_date=ended.local_date, now=timezone.now())  # fmt: skip
    return {"meeting": upcoming, "ended": ended, "item": item, "decision": decision,
            "action": action, "member": member, "admin": team_admin}  # fmt: skip


@pytest.mark.parametrize("index", range(15))
def test_access_to_every_new_write(client, w, organizer, member, outsider, index):
    method, url, body = _ops(w)[index]
    assert call(client, method, url, make_token(outsider, scope="write"), body).status_code == 404
    assert call(client, method, url, make_token(member, scope="write"), body).status_code == 403
    read_only = call(client, method, url, make_token(organizer), body)
    assert read_only.status_code == 403
    assert "read" in read_only.json()["errors"][0]["message"]
    allowed = call(client, method, url, make_token(organizer, scope="write"), body)
    assert allowed.status_code in (200, 201, 204), (method, url, allowed.content)


def test_acknowledge_is_for_attendees(client, ended, team_admin, outsider):
    url = f"/api/v1/meetings/{ended.pk}/recap/acknowledge/"
    assert call(client, "POST", url, make_token(outsider, scope="write")).status_code == 404
    assert call(client, "POST", url, make_token(team_admin, scope="write")).status_code == 403


def test_settled_is_not_typed_into_a_recap_and_a_settled_item_keeps_it(
    client, ended, organizer, write_token
):
    # Found by Schemathesis: the service took "settled" and PostgreSQL refused the row
    # (a settled item has a settled time): a 500, on the recap page too.
    first, second = ended.agenda_items.order_by("position")
    services.settle_item(item=first, resolution="Agreed in writing.", by=organizer,
                         now=ended.starts_at - timedelta(hours=1))  # fmt: skip
    url = f"/api/v1/meetings/{ended.pk}/recap/"
    typed = call(client, "PATCH", url, write_token,
                 {"outcomes": [{"agenda_item_id": second.pk, "outcome": "settled"}]})  # fmt: skip
    assert typed.status_code == 422
    assert messages(typed) == ["Outcome must be discussed, decided or deferred."]
    deferred = {"outcomes": [{"agenda_item_id": first.pk, "outcome": "deferred"}]}
    changed = call(client, "PATCH", url, write_token, deferred)
    assert changed.status_code == 422
    kept = call(client, "PATCH", url, write_token, {"summary": "S", "outcomes": [
        {"agenda_item_id": first.pk, "outcome": "settled"},
        {"agenda_item_id": second.pk, "outcome": "discussed"},
    ]})  # fmt: skip
    assert kept.status_code == 200
    assert [i["outcome"] for i in kept.json()["agenda_items"]] == ["settled", "discussed"]


@pytest.mark.parametrize("field", ["title", "notes"])
def test_a_nul_character_is_422_not_a_database_error(client, upcoming, write_token, field):
    body = {"title": "Fine", field: "a\x00b"}
    response = call(client, "POST", f"/api/v1/meetings/{upcoming.pk}/agenda/items/",
                    write_token, body)  # fmt: skip
    assert response.status_code == 422
    assert messages(response) == ["Value error, Null characters are not allowed."]


def test_a_time_in_the_query_is_iso_text_not_a_timestamp(client, read_token):
    # Found by Schemathesis: "?starts_before=0" was read as 1970.
    response = client.get("/api/v1/meetings/?starts_before=0", headers=bearer(read_token))
    assert response.status_code == 422


def test_the_readme_example_a_meeting_with_an_agenda_sent(client, team, member, write_token):
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    created = call(client, "POST", "/api/v1/meetings/", write_token, {
        "team_id": team.pk, "title": "Planning", "time_zone": "Europe/Berlin",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=30)).isoformat(),
        "attendee_ids": [member.pk],
    })  # fmt: skip
    meeting = f"/api/v1/meetings/{created.json()['id']}"
    call(client, "PUT", f"{meeting}/agenda/outcome/", write_token,
         {"desired_outcome": "Pick the Q1 goals."})  # fmt: skip
    call(client, "POST", f"{meeting}/agenda/items/", write_token,
         {"title": "Q1 goals", "timebox_minutes": 20})  # fmt: skip
    sent = call(client, "POST", f"{meeting}/agenda/send/", write_token)
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "agenda_sent"
    mine = call(client, "GET", "/api/v1/action-items/?mine=true&status=open", write_token)
    assert mine.json() == {"items": [], "count": 0}
