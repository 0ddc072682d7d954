"""The staff dashboard of unrecapped meetings at /admin/meetings/unrecapped/."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from meetings.models import Meeting, Notification
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/meetings/unrecapped/"


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def ended(team, organizer, *, hours_ago: float, title: str = "Sync", **fields) -> Meeting:
    """A meeting that ended `hours_ago` hours ago, written directly (state is under test)."""
    ends = timezone.now() - timedelta(hours=hours_ago)
    return Meeting.objects.create(
        team=team, organizer=organizer, title=title, time_zone="UTC",
        starts_at=ends - timedelta(hours=1), ends_at=ends, **fields,
    )  # fmt: skip


def sent_reminder(meeting: Meeting, stage: str, hours_ago: float) -> Notification:
    at = timezone.now() - timedelta(hours=hours_ago)
    return Notification.objects.create(
        meeting=meeting, kind=Notification.Kind.RECAP_REMINDER, stage=stage,
        recipient=meeting.organizer, state=Notification.State.SENT, sent_at=at, created_at=at,
    )  # fmt: skip


def titles(response) -> list[str]:
    return [m.title for m in response.context["page"].object_list]


# -- access ---------------------------------------------------------------------


def test_anonymous_is_redirected_to_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/meetings/unrecapped/")


def test_non_staff_member_is_refused(client, team_admin):
    client.force_login(team_admin)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert b"owe" not in response.content


def test_staff_without_meeting_permission_gets_403(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(URL).status_code == 403


def test_staff_with_view_permission_sees_the_list_but_no_remind_buttons(client, team, organizer):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_meeting"))
    ended(team, organizer, hours_ago=30, title="Budget review")
    client.force_login(viewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Budget review" in response.content
    assert b"Remind now" not in response.content
    assert client.post(URL, {"remind": "1"}).status_code == 403


@pytest.mark.parametrize("page", ["/admin/", "/admin/meetings/"])
def test_admin_index_links_to_the_dashboard(staff_client, page):
    response = staff_client.get(page)
    assert f'href="{URL}"'.encode() in response.content


# -- what the list shows ----------------------------------------------------------


def test_lists_only_ended_uncanceled_unrecapped_meetings(staff_client, team, organizer):
    ended(team, organizer, hours_ago=5, title="Owes recap")
    ended(team, organizer, hours_ago=-5, title="Not ended yet")
    ended(team, organizer, hours_ago=5, title="Recapped", recap_summary="Done",
          no_action_items=True, recap_published_at=timezone.now())  # fmt: skip
    canceled = ended(team, organizer, hours_ago=5, title="Canceled")
    Meeting.objects.filter(pk=canceled.pk).update(canceled_at=canceled.starts_at - timedelta(1))
    response = staff_client.get(URL)
    assert titles(response) == ["Owes recap"]


def test_row_shows_team_organizer_overdue_and_reminders(staff_client, team, organizer):
    # Grace is 24 h by default: ended 30 h ago means 6 h overdue.
    meeting = ended(team, organizer, hours_ago=30, title="Budget review")
    sent_reminder(meeting, "after_end@x", hours_ago=29)
    sent_reminder(meeting, "grace@x", hours_ago=6)
    Notification.objects.create(  # queued, not sent: not counted
        meeting=meeting,
        kind=Notification.Kind.RECAP_REMINDER,
        stage="daily1@x",
        recipient=organizer,
    )
    response = staff_client.get(URL)
    row = response.context["page"].object_list[0]
    assert row.reminders_sent == 2
    assert row.last_reminder_at == Notification.objects.get(stage="grace@x").sent_at
    assert row.overdue_text == "6 h"
    content = response.content.decode()
    assert team.name in content and organizer.email in content
    assert "<strong>6 h</strong>" in content


def test_meeting_inside_its_grace_period_is_not_overdue_yet(staff_client, team, organizer):
    ended(team, organizer, hours_ago=4)
    row = staff_client.get(URL).context["page"].object_list[0]
    assert row.overdue_text == "not yet (due in 20 h)"


# -- filters, sorting, pagination, CSV ---------------------------------------------


@pytest.fixture
def spread(team, organizer, team_admin):
    """Meetings overdue by various amounts (grace 24 h), in two teams."""
    ended(team, organizer, hours_ago=10, title="within grace")
    ended(team, organizer, hours_ago=24 + 5, title="5 h overdue")
    ended(team, team_admin, hours_ago=24 + 30, title="30 h overdue")
    ended(team, organizer, hours_ago=24 + 100, title="100 h overdue")
    other = TeamFactory(name="Other team")
    boss = UserFactory()
    MembershipFactory(user=boss, team=other)
    ended(other, boss, hours_ago=24 + 50, title="other team 50 h")
    return other


def test_sorted_most_overdue_first_and_reversible(staff_client, spread):
    assert titles(staff_client.get(URL)) == [
        "100 h overdue", "other team 50 h", "30 h overdue", "5 h overdue", "within grace",
    ]  # fmt: skip
    assert titles(staff_client.get(URL, {"o": "-overdue"}))[0] == "within grace"


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("due", ["within grace"]),
        ("lt1", ["5 h overdue"]),
        ("1to3", ["other team 50 h", "30 h overdue"]),
        ("gt3", ["100 h overdue"]),
    ],
)
def test_filter_by_overdue_bucket(staff_client, spread, bucket, expected):
    assert titles(staff_client.get(URL, {"overdue": bucket})) == expected


def test_filter_by_team_and_organizer(staff_client, spread, team, team_admin):
    assert titles(staff_client.get(URL, {"team": spread.pk})) == ["other team 50 h"]
    assert titles(staff_client.get(URL, {"team": team.pk, "organizer": team_admin.pk})) == [
        "30 h overdue"
    ]


def test_bad_filter_values_are_reported_and_ignored(staff_client, spread):
    response = staff_client.get(URL, {"team": "abc", "overdue": "forever", "page": "zz"})
    assert response.status_code == 200
    assert len(titles(response)) == 5
    assert b"Some filters were not understood" in response.content


def test_paginated_by_fifty(staff_client, team, organizer):
    Meeting.objects.bulk_create(
        Meeting(team=team, organizer=organizer, title=f"M{n}", time_zone="UTC",
                starts_at=timezone.now() - timedelta(hours=n + 2),
                ends_at=timezone.now() - timedelta(hours=n + 1))
        for n in range(60)
    )  # fmt: skip
    first = staff_client.get(URL)
    assert len(titles(first)) == 50
    assert b"Page 1 of 2" in first.content
    # Pages are keyset pages: the Next link carries the last row's cursor.
    second = staff_client.get(URL + "?" + first.context["next_query"])
    assert len(titles(second)) == 10
    assert b"Page 2 of 2" in second.content


def test_csv_export_has_every_filtered_row(staff_client, spread, team):
    response = staff_client.get(URL, {"team": team.pk, "overdue": "1to3", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["meeting", "team", "organizer"]
    assert [row[0] for row in rows[1:]] == ["30 h overdue"]


def test_csv_defuses_spreadsheet_formulas(staff_client, team, organizer):
    ended(team, organizer, hours_ago=30, title="=HYPERLINK(evil)")
    response = staff_client.get(URL, {"format": "csv"})
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(evil)" in body


TRIGGERS = {"=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"}
FORMULA_STARTS = [*sorted(TRIGGERS), " =", "  \t@"]


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=[repr(s) for s in FORMULA_STARTS])
def test_csv_escapes_a_formula_start_in_every_column(staff_client, team, start):
    payload = f"{start}1+2+cmd|'/c calc'!A0"
    boss = UserFactory(display_name=payload)
    User.objects.filter(pk=boss.pk).update(email=f"{start}x@evil.test")  # as an invite allowed
    boss.refresh_from_db()
    MembershipFactory(user=boss, team=team)
    team.name = payload
    team.save(update_fields=["name"])
    ended(team, boss, hours_ago=30, title=payload)
    response = staff_client.get(URL, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    (row,) = rows[1:]
    for column, cell in zip(rows[0], row, strict=True):
        # Parsed back with the csv module: no cell starts a formula, even after spaces.
        assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"}, (
            column
        )
        assert cell.lstrip()[:1] not in {"=", "+", "@", "＝", "＋", "＠"}, column
    assert row[:4] == ["'" + payload, "'" + payload, "'" + payload, f"'{start}x@evil.test"]


def test_query_count_does_not_grow_with_rows(staff_client, team, organizer,
                                             django_assert_max_num_queries):  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(count: int) -> None:
        made = Meeting.objects.bulk_create(
            Meeting(team=team, organizer=organizer, title=f"M{n}", time_zone="UTC",
                    starts_at=timezone.now() - timedelta(hours=n + 30),
                    ends_at=timezone.now() - timedelta(hours=n + 29))
            for n in range(count)
        )  # fmt: skip
        for meeting in made:
            sent_reminder(meeting, "grace@x", hours_ago=1)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(URL).status_code == 200
        return len(queries)

    make(5)
    few = count_queries()
    make(55)
    assert count_queries() == few
    with django_assert_max_num_queries(20):
        staff_client.get(URL)
