"""User and team rules: time zones, working hours, policy and membership constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Membership, Team, User
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_unknown_time_zone_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="not a known time zone"):
        User.objects.create_user("tz@example.com", "pw", time_zone="Mars/Olympus_Mons")
    assert not User.objects.filter(email="tz@example.com").exists()


def test_email_login_is_case_insensitive():
    user = User.objects.create_user("Asha@Example.COM", "pw")
    assert user.email == "asha@example.com"
    assert User.objects.get_by_natural_key("ASHA@example.com") == user


def test_working_hours_must_end_after_they_start_in_database():
    user = UserFactory()
    with pytest.raises(IntegrityError, match="user_work_hours_end_after_start"):
        User.objects.filter(pk=user.pk).update(work_start=time(17), work_end=time(9))


def test_at_least_one_working_day_in_database():
    user = UserFactory()
    with pytest.raises(IntegrityError, match="user_work_days_valid"):
        User.objects.filter(pk=user.pk).update(work_days=0)


def test_digest_hour_range_in_database():
    user = UserFactory()
    with pytest.raises(IntegrityError, match="user_digest_hour_valid"):
        User.objects.filter(pk=user.pk).update(digest_hour=24)


def test_next_working_moment_waits_over_the_weekend_in_local_time():
    user = UserFactory(time_zone="Asia/Kolkata")  # Mon-Fri 09:00-17:00 by default
    friday_evening = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)  # 18:30 in Kolkata
    assert not user.is_working_at(friday_evening)
    monday_nine = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)  # 09:00 in Kolkata
    assert user.next_working_moment(friday_evening) == monday_nine
    assert user.next_working_moment(monday_nine) == monday_nine


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 4, 10, 0, tzinfo=UTC), date(2026, 3, 5)),  # Wed -> Thu
        (datetime(2026, 3, 6, 8, 0, tzinfo=UTC), date(2026, 3, 9)),  # Fri -> Mon
        (datetime(2026, 3, 7, 8, 0, tzinfo=UTC), date(2026, 3, 9)),  # Sat -> Mon
        # 23:30 on Thursday in UTC is already Friday in Kolkata: the next is Monday.
        (datetime(2026, 3, 5, 23, 30, tzinfo=UTC), date(2026, 3, 9)),
    ],
)
def test_next_working_day_is_after_the_local_today(moment, expected):
    user = UserFactory(time_zone="Asia/Kolkata")  # Mon-Fri
    assert user.next_working_day(moment) == expected


def test_next_working_day_follows_the_users_own_working_days():
    user = UserFactory(time_zone="Europe/Berlin", work_days=0b0100010)  # Tue and Sat
    tuesday = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    assert user.next_working_day(tuesday) == date(2026, 3, 7)
    assert user.next_working_day(datetime(2026, 3, 7, 12, 0, tzinfo=UTC)) == date(2026, 3, 10)


def test_next_working_moment_follows_dst_change():
    """New York springs forward on 8 Mar 2026: 09:00 local is 14:00 UTC before, 13:00 after."""
    user = UserFactory(time_zone="America/New_York")
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert user.next_working_moment(saturday) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_team_policy_constraints():
    team = Team.objects.create(name="Policy", slug="policy")
    with pytest.raises(IntegrityError, match="team_escalation_after_grace"), transaction.atomic():
        Team.objects.filter(pk=team.pk).update(escalate_after=timedelta(hours=1))
    with pytest.raises(IntegrityError, match="team_agenda_lead_time_positive"):
        Team.objects.filter(pk=team.pk).update(agenda_lead_time=timedelta(0))


def test_membership_is_unique_per_user_and_team_and_role_is_constrained():
    membership = MembershipFactory()
    with pytest.raises(ValidationError, match="already a member"):
        Membership(user=membership.user, team=membership.team).validate_constraints()
    with pytest.raises(IntegrityError, match="membership_unique_user_team"), transaction.atomic():
        Membership.objects.create(user=membership.user, team=membership.team)
    with pytest.raises(IntegrityError, match="membership_role_valid"):
        Membership.objects.filter(pk=membership.pk).update(role="overlord")


# -- outside working hours: the rule behind the scheduling warning -----------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # New York, Mon-Fri 09:00-17:00. 2026-03-02 is a Monday; EST is UTC-5.
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), 30, ""),
        (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), 30,
         "Mon 05:00–05:30, before their working hours (09:00–17:00)"),
        (datetime(2026, 3, 2, 21, 30, tzinfo=UTC), 60,
         "Mon 16:30–17:30, runs past their working hours (09:00–17:00)"),
        (datetime(2026, 3, 2, 21, 0, tzinfo=UTC), 60, ""),  # ends at 17:00 sharp
        (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), 30,
         "Mon 18:00–18:30, after their working hours (09:00–17:00)"),
        (datetime(2026, 3, 1, 15, 0, tzinfo=UTC), 30,
         "Sun 10:00–10:30, not a working day for them"),
        # After the DST change (8 March), 13:00 UTC is 09:00 EDT: inside.
        (datetime(2026, 3, 9, 13, 0, tzinfo=UTC), 30, ""),
        (datetime(2026, 3, 2, 13, 0, tzinfo=UTC), 30,
         "Mon 08:00–08:30, before their working hours (09:00–17:00)"),
    ],
)  # fmt: skip
def test_outside_working_hours_says_why_in_their_local_time(start, minutes, expected):
    ana = User(email="ana@example.com", time_zone="America/New_York")
    assert ana.outside_working_hours(start, start + timedelta(minutes=minutes)) == expected
    # One rule: inside means is_working_at holds at the start.
    if not expected:
        assert ana.is_working_at(start)


def test_outside_working_hours_follows_their_own_days_and_hours():
    # Tokyo, Sun-Thu 10:00-18:00: Sunday 01:00 is a working day, but before hours.
    ken = User(email="ken@example.com", time_zone="Asia/Tokyo", work_days=0b1001111,
               work_start=time(10), work_end=time(18))  # fmt: skip
    sunday_1am = datetime(2026, 3, 7, 16, 0, tzinfo=UTC)  # Sun 8 Mar 01:00 JST
    assert ken.outside_working_hours(sunday_1am, sunday_1am + timedelta(hours=1)) == (
        "Sun 01:00–02:00, before their working hours (10:00–18:00)"
    )
    friday_noon = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)
    assert ken.outside_working_hours(friday_noon, friday_noon + timedelta(hours=1)) == (
        "Fri 12:00–13:00, not a working day for them"
    )
