from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse

from tests.accounts.conftest import HTMX

pytestmark = pytest.mark.django_db


def profile_data(**overrides):
    return {
        "display_name": "Asha Rao",
        "time_zone": "Asia/Kolkata",
        "work_days": ["0", "1", "2", "3"],
        "work_start": "10:00",
        "work_end": "18:30",
        "daily_digest": "on",
        "digest_hour": "7",
    } | overrides


def test_profile_page_offers_the_zone_picker_with_my_zone_chosen(member_client, member):
    body = member_client.get(reverse("accounts:profile")).content.decode()
    assert '<select name="time_zone"' in body and "data-zone-picker" in body
    assert '<optgroup label="America">' in body
    assert 'value="America/Argentina/Buenos_Aires"' in body
    assert f'value="{member.time_zone}" selected' in body
    assert "Make a new feed address" in body


def test_profile_saves_zone_hours_and_digest(member_client, member):
    response = member_client.post(reverse("accounts:profile"), profile_data())
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.display_name == "Asha Rao"
    assert member.time_zone == "Asia/Kolkata"
    assert member.working_weekdays == [1, 2, 3, 4]
    assert (member.work_start, member.work_end) == (time(10), time(18, 30))
    assert member.daily_digest is True and member.digest_hour == 7
    page = member_client.get(response.url).content.decode()
    assert "Your profile is saved" in page
    assert 'value="1" id="id_work_days_1" checked' in page


def test_digest_can_be_switched_off(member_client, member):
    data = profile_data()
    del data["daily_digest"]
    member_client.post(reverse("accounts:profile"), data)
    member.refresh_from_db()
    assert member.daily_digest is False


def test_profile_with_htmx_asks_the_browser_to_refresh(member_client):
    response = member_client.post(reverse("accounts:profile"), profile_data(), **HTMX)
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Europe/Atlantis", "not a known time zone"),
        ("work_end", "09:00", "must end after they start"),
        ("work_days", [], "Pick at least one working day"),
        ("digest_hour", "24", "Select a valid choice"),
        ("work_start", "25:99", "Enter a valid time"),
    ],
)
def test_bad_profile_values_are_refused_at_their_field(
    member_client, member, field, value, message
):
    before = (member.time_zone, member.work_days, member.work_end, member.digest_hour)
    response = member_client.post(reverse("accounts:profile"), profile_data(**{field: value}))
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert f'id="id_{field}_error"' in body
    assert "was not saved" in body
    member.refresh_from_db()
    assert (member.time_zone, member.work_days, member.work_end, member.digest_hour) == before
    assert member.display_name != "Asha Rao"


def test_regenerating_the_calendar_token_replaces_it(member_client, member):
    old = member.calendar_token
    response = member_client.post(reverse("accounts:regenerate_calendar_token"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.calendar_token != old
    assert member_client.get(reverse("accounts:regenerate_calendar_token")).status_code == 405
