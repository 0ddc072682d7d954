"""Action items once their recap is out, on the action items page and the meeting page:
the owner's answer (accept, a new due date), the organizer reassigning, the filters
for answers and re-dated items, permissions and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from meetings import services
from meetings.models import ActionItem
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

Response = ActionItem.Response


def url(name: str, *args) -> str:
    return reverse(f"meetings:{name}", args=args)


def recapped_meeting(team, organizer, owners, *, title="Retro", days_ago=3):
    """A meeting held `days_ago` days ago, its recap published with one item per owner
    (due on the meeting's day + 7)."""
    start = timezone.now() - timedelta(days=days_ago)
    meeting = MeetingFactory(
        team=team, organizer=organizer, attendees=list(owners), starts_at=start, title=title,
        now=start - timedelta(days=1),
    )  # fmt: skip
    for owner in owners:
        services.add_action_item(
            meeting=meeting, description=f"Task for {owner.name}", owner=owner,
            due_date=meeting.local_date + timedelta(days=7), now=timezone.now(),
        )  # fmt: skip
    meeting.recap_summary = "Done."
    meeting.save()
    meeting.publish_recap(by=organizer, now=timezone.now())
    return meeting


@pytest.fixture
def recapped(team, organizer, member):
    return recapped_meeting(team, organizer, [member])


@pytest.fixture
def item(recapped, member):
    return recapped.action_items.get(owner=member)


def rows(response) -> list[ActionItem]:
    return list(response.context["page"].object_list)


# -- filters and what a row says ---------------------------------------------------------


def test_answer_and_redated_filters(client, team, organizer, member, team_admin):
    meeting = recapped_meeting(team, organizer, [member, organizer, team_admin])
    accepted, declined, unanswered = (
        meeting.action_items.get(owner=member),
        meeting.action_items.get(owner=organizer),
        meeting.action_items.get(owner=team_admin),
    )
    now = timezone.now()
    services.redate_action_item(item=accepted, due_date=accepted.due_date + timedelta(days=1),
                                by=member, now=now)  # fmt: skip
    services.redate_action_item(item=accepted, due_date=accepted.due_date + timedelta(days=2),
                                by=member, now=now)  # fmt: skip
    services.decline_action_item(item=declined, reason="Not my area", by=organizer, now=now)
    client.force_login(organizer)

    def found(**query) -> set[int]:
        return {i.pk for i in rows(client.get(url("action_items"), {"scope": "team", **query}))}

    assert found() == {accepted.pk, declined.pk, unanswered.pk}
    assert found(response="accepted") == {accepted.pk}
    assert found(response="declined") == {declined.pk}
    assert found(response="unanswered") == {unanswered.pk}
    assert found(redated="on") == {accepted.pk}
    assert found(redated="on", response="declined") == set()
    body = client.get(url("action_items"), {"scope": "team"}).content.decode()
    assert "re-dated 2×" in body and "re-dated 1×" not in body
    assert "Reason given: Not my area" in body
    assert 'action-answer">Not answered yet<' in body
    assert 'action-answer">Accepted<' in body and 'action-answer">Declined<' in body


def test_declined_link_from_an_email_shows_the_teams_declined_items(
    client, team, organizer, member
):
    """The decline notice links to ?response=declined: the organizer does not own the
    item, so the link means the team's declined items."""
    meeting = recapped_meeting(team, organizer, [member])
    item = meeting.action_items.get()
    services.decline_action_item(item=item, reason="", by=member, now=timezone.now())
    client.force_login(organizer)
    response = client.get(reverse("meetings:action_items") + "?response=declined")
    assert rows(response) == [item]
    body = response.content.decode()
    assert '<option value="team" selected>' in body
    assert f'id="action-{item.pk}-reassign"' in body
    # Asking for mine explicitly still means mine.
    mine = client.get(url("action_items"), {"response": "declined", "scope": "mine"})
    assert rows(mine) == []


def test_bad_filter_values_are_ignored(client, member, recapped):
    client.force_login(member)
    response = client.get(url("action_items"), {"response": "maybe", "redated": "\x00"})
    assert response.status_code == 200


def test_draft_items_offer_no_answers(client, team, organizer, member):
    start = timezone.now() - timedelta(hours=3)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[member],
                             starts_at=start, now=start - timedelta(days=1))  # fmt: skip
    item = services.add_action_item(meeting=meeting, description="Draft", owner=member,
                                    due_date=meeting.local_date, now=timezone.now())  # fmt: skip
    client.force_login(member)
    body = client.get(url("action_items")).content.decode()
    assert "Draft" in body
    assert f"action-{item.pk}-accept" not in body and f"action-{item.pk}-redate" not in body
    assert "action-answer" not in body
    response = client.post(url("action_item_accept", item.pk), follow=True)
    assert "not published yet" in response.content.decode()
    item.refresh_from_db()
    assert item.response == Response.UNANSWERED


# -- accept ---------------------------------------------------------------------------------


def test_owner_accepts_in_place(client, member, item, htmx):
    client.force_login(member)
    page = client.get(url("action_items")).content.decode()
    assert f'id="action-{item.pk}-accept"' in page and "Not answered yet" in page
    response = client.post(url("action_item_accept", item.pk), headers=htmx)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="list-row action-row" id="action-{item.pk}"')
    assert "Accepted" in body and f"action-{item.pk}-accept" not in body
    assert 'hx-swap-oob="true"' in body and "You accepted" in body
    item.refresh_from_db()
    assert item.response == Response.ACCEPTED and item.responded_at is not None


def test_owner_accepts_without_javascript(client, member, item):
    client.force_login(member)
    back = url("action_items") + "?state=all"
    response = client.post(url("action_item_accept", item.pk), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    page = client.get(back).content.decode()
    assert f"You accepted “{item.description}”." in page
    # A second click changes nothing and says so.
    again = client.post(url("action_item_accept", item.pk), follow=True).content.decode()
    assert "already answered" in again
    assert AuditEvent.objects.filter(action="action_item.accepted").count() == 1


@pytest.mark.parametrize("who", ["organizer", "team_admin", "other"])
def test_only_the_owner_accepts(client, request, item, team, who):
    if who == "other":
        user = UserFactory()
        MembershipFactory(user=user, team=team)
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.post(url("action_item_accept", item.pk)).status_code == 403
    item.refresh_from_db()
    assert item.response == Response.UNANSWERED


def test_outsider_gets_404_for_every_answer(client, outsider, item):
    client.force_login(outsider)
    assert client.post(url("action_item_accept", item.pk)).status_code == 404
    assert client.post(url("action_item_due_date", item.pk), {"due_date": "2030-01-01"}
                       ).status_code == 404  # fmt: skip
    assert client.get(url("action_item_reassign", item.pk)).status_code == 404
    assert client.post(url("action_item_reassign", item.pk)).status_code == 404


def test_a_declined_item_cannot_be_accepted(client, member, item):
    services.decline_action_item(item=item, reason="", by=member, now=timezone.now())
    client.force_login(member)
    body = client.get(url("action_items")).content.decode()
    assert f"action-{item.pk}-accept" not in body and f"action-{item.pk}-redate" not in body
    response = client.post(url("action_item_accept", item.pk), follow=True)
    assert "You declined this action item" in response.content.decode()
    item.refresh_from_db()
    assert item.response == Response.DECLINED


# -- a new due date ---------------------------------------------------------------------------


def test_owner_sets_a_new_due_date_in_place(client, member, item, htmx):
    new = item.due_date + timedelta(days=3)
    client.force_login(member)
    response = client.post(url("action_item_due_date", item.pk), {"due_date": new.isoformat()},
                           headers=htmx)  # fmt: skip
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="list-row action-row" id="action-{item.pk}"')
    assert "re-dated 1×" in body and "is now due" in body
    assert f'value="{new.isoformat()}"' in body
    item.refresh_from_db()
    assert (item.due_date, item.redated_count) == (new, 1)
    assert item.original_due_date == new - timedelta(days=3)
    # Answering with a new date accepts the item.
    assert item.response == Response.ACCEPTED


def test_owner_sets_a_new_due_date_without_javascript(client, member, item):
    new = item.due_date + timedelta(days=1)
    client.force_login(member)
    response = client.post(
        url("action_item_due_date", item.pk), {"due_date": new.isoformat(), "next": "/x/?a=1"}
    )
    assert response["Location"] == "/x/?a=1"
    item.refresh_from_db()
    assert item.due_date == new
    same = client.post(url("action_item_due_date", item.pk), {"due_date": new.isoformat()},
                       follow=True)  # fmt: skip
    assert "already its due date" in same.content.decode()
    item.refresh_from_db()
    assert item.redated_count == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Pick the new due date."),
        ("next week", "Enter a real date."),
        ("2026-02-30", "Enter a real date."),
        ("1999-01-01", "Pick a date within 10 years of today."),
        ("before", "cannot be before the meeting"),
    ],
)
def test_a_bad_due_date_changes_nothing(client, member, item, htmx, value, message):
    if value == "before":
        value = (item.meeting.local_date - timedelta(days=1)).isoformat()
    before = (item.due_date, item.redated_count, item.response)
    client.force_login(member)
    plain = client.post(url("action_item_due_date", item.pk), {"due_date": value}, follow=True)
    assert plain.status_code == 200 and message in plain.content.decode()
    fragment = client.post(url("action_item_due_date", item.pk), {"due_date": value},
                           headers=htmx)  # fmt: skip
    assert fragment.status_code == 200 and message in fragment.content.decode()
    item.refresh_from_db()
    assert (item.due_date, item.redated_count, item.response) == before


def test_organizer_may_move_the_date_but_not_a_team_admin_or_member(
    client, organizer, team_admin, team, item
):
    new = item.due_date + timedelta(days=2)
    stranger = UserFactory()
    MembershipFactory(user=stranger, team=team)
    for user in (team_admin, stranger):
        client.force_login(user)
        response = client.post(url("action_item_due_date", item.pk), {"due_date": new})
        assert response.status_code == 403
    client.force_login(organizer)
    client.post(url("action_item_due_date", item.pk), {"due_date": new})
    item.refresh_from_db()
    assert item.due_date == new and item.redated_count == 1
    # The organizer moving it does not answer for its owner.
    assert item.response == Response.UNANSWERED


# -- reassigning ---------------------------------------------------------------------------


@pytest.fixture
def declined(item, member):
    services.decline_action_item(item=item, reason="On leave", by=member, now=timezone.now())
    return item


def test_organizer_reassigns_a_declined_item_in_place(
    client, organizer, member, team, outsider, declined, htmx
):
    newcomer = UserFactory(display_name="Newcomer")
    MembershipFactory(user=newcomer, team=team)
    client.force_login(organizer)
    picker = client.get(url("action_item_reassign", declined.pk), headers=htmx).content.decode()
    assert picker.lstrip().startswith(f'<li class="list-row action-row" id="action-{declined.pk}"')
    assert f'<option value="{newcomer.pk}">Newcomer</option>' in picker
    assert f'value="{outsider.pk}"' not in picker  # only the meeting's team
    assert "Reason given: On leave" in picker
    new_due = declined.due_date + timedelta(days=5)
    response = client.post(
        url("action_item_reassign", declined.pk),
        {"owner": newcomer.pk, "due_date": new_due.isoformat()},
        headers=htmx,
    )
    body = response.content.decode()
    assert "Newcomer" in body and "is now Newcomer" in body and "Not answered yet" in body
    declined.refresh_from_db()
    assert declined.owner == newcomer and declined.response == Response.UNANSWERED
    assert declined.decline_reason == "" and declined.due_date == new_due
    # A date set while reassigning counts as a move; it is not the new owner's answer.
    assert declined.redated_count == 1 and declined.responded_at is None


def test_reassign_without_javascript(client, team_admin, team, declined):
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, team=team)
    client.force_login(team_admin)
    back = url("action_items") + "?scope=team&response=declined"
    page = client.get(url("action_item_reassign", declined.pk), {"next": back})
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>Reassign an action item</h1>" in body and f'value="{back}"' in body.replace(
        "&amp;", "&"
    )
    response = client.post(
        url("action_item_reassign", declined.pk), {"owner": newcomer.pk, "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    declined.refresh_from_db()
    assert declined.owner == newcomer and declined.due_date == declined.first_due_date
    assert "is now" in client.get(back).content.decode()


@pytest.mark.parametrize("case", ["nobody", "outsider", "garbage", "before", "same owner"])
def test_a_bad_reassignment_changes_nothing(client, organizer, member, outsider, item, htmx, case):
    data = {
        "nobody": {"owner": ""},
        "outsider": {"owner": outsider.pk},
        "garbage": {"owner": "x' OR 1=1", "due_date": "soon"},
        "before": {"owner": organizer.pk,
                   "due_date": (item.meeting.local_date - timedelta(days=1)).isoformat()},
        # Not declined and already theirs: the service refuses.
        "same owner": {"owner": member.pk},
    }[case]  # fmt: skip
    before = (item.owner_id, item.due_date, item.response, item.assigned_at)
    client.force_login(organizer)
    for headers in ({}, htmx):
        response = client.post(url("action_item_reassign", item.pk), data, headers=headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'aria-invalid="true"' in body or "already owns" in body
        assert f'action="{url("action_item_reassign", item.pk)}"' in body  # the form stays
    item.refresh_from_db()
    assert (item.owner_id, item.due_date, item.response, item.assigned_at) == before


@pytest.mark.parametrize("who", ["member", "other"])
def test_owner_and_members_cannot_reassign(client, request, team, organizer, item, who):
    if who == "other":
        user = UserFactory()
        MembershipFactory(user=user, team=team)
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(url("action_item_reassign", item.pk)).status_code == 403
    assert client.post(url("action_item_reassign", item.pk), {"owner": organizer.pk}
                       ).status_code == 403  # fmt: skip
    item.refresh_from_db()
    assert item.owner == request.getfixturevalue("member")


def test_reassign_link_only_for_who_may(client, organizer, member, item):
    client.force_login(member)
    assert f"action-{item.pk}-reassign" not in client.get(url("action_items")).content.decode()
    client.force_login(organizer)
    body = client.get(url("action_items"), {"scope": "team"}).content.decode()
    assert f'id="action-{item.pk}-reassign"' in body
    assert f"action-{item.pk}-accept" not in body  # not theirs to answer


# -- query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [6, 60])
def test_action_items_page_query_count_with_answers(
    client, team, organizer, size, django_assert_num_queries
):
    people = UserFactory.create_batch(3)
    for person in people:
        MembershipFactory(user=person, team=team)
    now = timezone.now()
    for m in range(size // 6):
        meeting = recapped_meeting(team, organizer, people * 2, title=f"M{m}")
        first, second, third = list(meeting.action_items.order_by("pk"))[:3]
        services.accept_action_item(item=first, by=first.owner, now=now)
        services.redate_action_item(item=second, due_date=second.due_date + timedelta(days=1),
                                    by=second.owner, now=now)  # fmt: skip
        services.decline_action_item(item=third, reason="No time", by=third.owner, now=now)
    client.force_login(organizer)
    client.get(url("action_items"), {"scope": "team"})
    # session, user, memberships, members, meetings for the filter, count, page
    with django_assert_num_queries(7):
        response = client.get(url("action_items"), {"scope": "team"})
    assert len(rows(response)) == min(size, 50)
    with django_assert_num_queries(7):
        response = client.get(url("action_items"), {"response": "declined"})
    assert len(rows(response)) == min(size // 6, 50)


# -- the meeting page --------------------------------------------------------------------------


def test_meeting_page_shows_answers_and_who_has_not_answered(client, team, organizer, member):
    others = [UserFactory(display_name=n) for n in ("Zoe", "Abe")]
    for person in others:
        MembershipFactory(user=person, team=team)
    meeting = recapped_meeting(team, organizer, [member, *others, organizer])
    now = timezone.now()
    mine = meeting.action_items.get(owner=member)
    services.redate_action_item(item=mine, due_date=mine.due_date + timedelta(days=1),
                                by=member, now=now)  # fmt: skip
    services.decline_action_item(item=meeting.action_items.get(owner=organizer),
                                 reason="Wrong person", by=organizer, now=now)  # fmt: skip
    client.force_login(member)
    body = client.get(url("detail", meeting.pk)).content.decode()
    assert "Not answered yet: Abe, Zoe" in body
    assert "re-dated 1×" in body and "Accepted" in body
    assert "Declined" in body and "Reason given: Wrong person" in body


def test_meeting_page_says_nothing_when_everyone_answered(client, organizer, member, recapped):
    services.accept_action_item(item=recapped.action_items.get(), by=member, now=timezone.now())
    client.force_login(organizer)
    assert "Not answered yet:" not in client.get(url("detail", recapped.pk)).content.decode()


@pytest.mark.parametrize("size", [5, 50])
def test_published_meeting_page_query_count_is_constant(
    client, team, organizer, size, django_assert_num_queries
):
    people = UserFactory.create_batch(size)
    for person in people:
        MembershipFactory(user=person, team=team)
    meeting = recapped_meeting(team, organizer, people)
    now = timezone.now()
    for item in list(meeting.action_items.all())[::2]:
        services.accept_action_item(item=item, by=item.owner, now=now)
    client.force_login(organizer)
    client.get(url("detail", meeting.pk))
    # session, user, memberships, meeting, attendees, items, decisions, actions, members
    with django_assert_num_queries(9):
        response = client.get(url("detail", meeting.pk))
    assert len(response.context["not_answered"]) == size // 2
