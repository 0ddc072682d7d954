"""Every meeting form, fuzzed: never a 500, a message for bad input, nothing half-written.

Hypothesis sends random and huge strings, numbers where text goes and text
where numbers go, NUL bytes, missing fields, dates from year 1 to 9999 and
unknown ids. A request that is refused (form shown again, or an error message)
must leave the database exactly as it was.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetings.models import ActionItem, AgendaItem, Attendee, Decision, Meeting

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=1_000, max_value=300_000).map(lambda n: "x" * n),  # huge
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.times().map(time.isoformat),
    st.sampled_from(["", " ", "\x00", "null", "on", "true", "0", "-1", "２", "<script>", "1e999"]),
)


far_dates = st.sampled_from([date(1, 1, 1), date(9999, 12, 31), date(1900, 2, 28)]).map(
    date.isoformat
)


def form(*names: str, **valid: str) -> st.SearchStrategy[dict]:
    """Any subset of the fields, each valid or junk (missing fields included).

    Valid values mixed in let the junk in one field reach the code behind a
    form that is otherwise accepted.
    """
    return st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(st.just(valid[name]), far_dates, junk) if name in valid else junk
            for name in names
        },
    )


TOMORROW = "2099-01-01"
# Create and edit post the same meeting form.
meeting_form = form(
    "title", "date", "start_time", "end_time", "location", "attendees",
    title="Sync", date=TOMORROW, start_time="10:00", end_time="11:00",
)  # fmt: skip


def snapshot() -> tuple:
    return (
        list(Meeting.objects.order_by("pk").values()),
        list(AgendaItem.objects.order_by("pk").values()),
        list(Decision.objects.order_by("pk").values()),
        list(ActionItem.objects.order_by("pk").values()),
        list(Attendee.objects.order_by("pk").values()),
    )


def refused(response) -> bool:
    # Only the messages this request added (earlier ones may still be stored).
    levels = {m.level_tag for m in response.wsgi_request._messages._queued_messages}
    return response.status_code == 200 or "error" in levels


def check(client, path: str, data: dict, *, method: str = "post") -> None:
    before = snapshot()
    response = getattr(client, method)(path, data)
    assert response.status_code in {200, 302, 403, 404, 405}, response.status_code
    if method == "post" and refused(response):
        assert snapshot() == before, "a refused request changed the database"
        if response.status_code == 200:
            body = response.content.decode()
            assert "errorlist" in body or "message-error" in body


@FUZZ
@given(data=meeting_form)
def test_fuzz_create_meeting(as_organizer, member, data):
    check(as_organizer, reverse("meetings:create"), data)


@FUZZ
@given(data=meeting_form)
def test_fuzz_edit_meeting(as_organizer, upcoming, data):
    check(as_organizer, reverse("meetings:edit", args=[upcoming.pk]), data)


@FUZZ
@given(data=form("desired_outcome"))
def test_fuzz_desired_outcome(as_organizer, upcoming, data):
    check(as_organizer, reverse("meetings:agenda_outcome", args=[upcoming.pk]), data)


@FUZZ
@given(
    data=form("new-title", "new-owner", "new-timebox_minutes", "new-notes", **{"new-title": "T"})
)
def test_fuzz_add_agenda_item(as_organizer, upcoming, data):
    check(as_organizer, reverse("meetings:agenda_item_add", args=[upcoming.pk]), data)


@FUZZ
@given(data=form("new-title", "new-notes", "new-owner"))
def test_fuzz_talking_point(client, member, upcoming, data):
    client.force_login(member)
    check(client, reverse("meetings:agenda_item_add", args=[upcoming.pk]), data)


@FUZZ
@given(
    item_pk=st.one_of(st.none(), st.integers(min_value=1, max_value=2**31 - 1)),
    data=st.fixed_dictionaries({}, optional={"direction": junk}),
)
def test_fuzz_move_and_edit_item_with_unknown_ids(
    as_organizer, upcoming, organizer, item_pk, data
):
    from tests.factories import ready_agenda

    if not upcoming.agenda_items.exists():
        ready_agenda(upcoming, by=organizer, items=2)
    pk = item_pk or upcoming.agenda_items.first().pk
    check(as_organizer, reverse("meetings:agenda_item_move", args=[upcoming.pk, pk]), data)
    fields = {f"item{pk}-{k}": v for k, v in data.items()}
    check(as_organizer, reverse("meetings:agenda_item_edit", args=[upcoming.pk, pk]), fields)


@FUZZ
@given(
    data=form("recap_summary", "recap_notes", "no_action_items", "outcome_1", "outcome_2",
              recap_summary="S", no_action_items="on", outcome_1="decided")
)  # fmt: skip
def test_fuzz_recap_and_publish(as_organizer, ended, data):
    items = list(ended.agenda_items.all())
    data = {k.replace("outcome_1", f"outcome_{items[0].pk}").replace(
        "outcome_2", f"outcome_{items[1].pk}"): v for k, v in data.items()}  # fmt: skip
    check(as_organizer, reverse("meetings:recap_save", args=[ended.pk]), data)
    check(as_organizer, reverse("meetings:recap_publish", args=[ended.pk]), data)
    Meeting.objects.filter(pk=ended.pk).update(recap_published_at=None, recap_published_by=None)


@FUZZ
@given(data=form("decision-text"))
def test_fuzz_decision(as_organizer, ended, data):
    check(as_organizer, reverse("meetings:decision_add", args=[ended.pk]), data)


@FUZZ
@given(
    data=form("action-description", "action-owner", "action-due_date",
              **{"action-description": "Do it", "action-due_date": TOMORROW}),
    owner_is_valid=st.booleans(),
)  # fmt: skip
def test_fuzz_action_item(as_organizer, ended, member, data, owner_is_valid):
    if owner_is_valid:
        data["action-owner"] = str(member.pk)
    check(as_organizer, reverse("meetings:action_item_add", args=[ended.pk]), data)


@FUZZ
@given(data=form("status", "next"), pk=st.integers(min_value=1, max_value=2**31 - 1))
def test_fuzz_action_status(as_organizer, ended, organizer, data, pk):
    from meetings import services

    item = ActionItem.objects.filter(meeting=ended).first() or services.add_action_item(
        meeting=ended, description="x", owner=organizer, due_date=ended.local_date,
        now=ended.ends_at,
    )  # fmt: skip
    check(as_organizer, reverse("meetings:action_item_status", args=[item.pk]), data)
    check(as_organizer, reverse("meetings:action_item_status", args=[pk]), data)


@FUZZ
@given(data=form("status", "organizer", "date_from", "date_to", "page", date_from=TOMORROW))
def test_fuzz_meeting_list_filters(as_organizer, upcoming, data):
    check(as_organizer, reverse("meetings:list"), data, method="get")


@FUZZ
@given(data=form("scope", "state", "owner", "meeting", "page"))
def test_fuzz_action_item_filters(as_organizer, ended, data):
    check(as_organizer, reverse("meetings:action_items"), data, method="get")


@FUZZ
@given(data=form("q", "attendees"))
def test_fuzz_member_search(as_organizer, member, data):
    check(as_organizer, reverse("meetings:member_search"), data, method="get")


@FUZZ
@given(
    data=form("description", "owner", "due_date", "text", description="D", due_date=TOMORROW),
    pk=st.one_of(st.none(), st.integers(min_value=1, max_value=2**31 - 1)),
)
def test_fuzz_edit_decision_and_action_item(as_organizer, ended, member, data, pk):
    from meetings import services

    decision = Decision.objects.filter(meeting=ended).first() or Decision.objects.create(
        meeting=ended, text="Keep"
    )
    item = ActionItem.objects.filter(meeting=ended).first() or services.add_action_item(
        meeting=ended, description="x", owner=member, due_date=ended.local_date,
        now=ended.ends_at,
    )  # fmt: skip
    d_pk, a_pk = pk or decision.pk, pk or item.pk
    fields = {f"decision{d_pk}-{k}": v for k, v in data.items()}
    check(as_organizer, reverse("meetings:decision_edit", args=[ended.pk, d_pk]), fields)
    fields = {f"action{a_pk}-{k}": v for k, v in data.items()}
    check(as_organizer, reverse("meetings:action_item_edit", args=[ended.pk, a_pk]), fields)
