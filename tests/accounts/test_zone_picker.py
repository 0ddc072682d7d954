"""The one time zone picker (profile, sign-up, recurring meetings): canonical IANA
names grouped by region, legacy aliases left out, a saved legacy name kept."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts import zones
from accounts.forms import ProfileForm, TimeZoneField
from meetings.forms import SeriesForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALIASES = ["localtime", "Zulu", "US/Eastern", "Etc/GMT+5", "Etc/UTC", "Asia/Calcutta", "GB"]


def test_canonical_zones_leave_out_legacy_aliases_and_load():
    names = zones.canonical_time_zones()
    for alias in ALIASES:
        assert alias in zoneinfo.available_timezones()  # they exist, and are still left out
        assert alias not in names
    for wanted in ["UTC", "Asia/Kolkata", "America/New_York", "America/Argentina/Buenos_Aires"]:
        assert wanted in names
    assert len(names) < len(zoneinfo.available_timezones()) - 100
    for name in names:
        zoneinfo.ZoneInfo(name)


def test_choices_are_grouped_by_region_with_utc_first_and_offsets_in_labels():
    january = datetime(2026, 1, 15, 12, tzinfo=UTC)
    choices = zones.grouped_choices(january)
    assert choices[0] == ("UTC", "UTC (UTC+00:00)")
    groups = dict(choices[1:])
    assert {"Africa", "America", "Asia", "Europe", "Pacific"} <= set(groups)
    assert all(
        name.startswith(f"{region}/") for region, opts in groups.items() for name, _ in opts
    )
    assert ("Asia/Kolkata", "Kolkata (UTC+05:30)") in groups["Asia"]
    assert ("America/Argentina/Buenos_Aires", "Buenos Aires, Argentina (UTC−03:00)") in groups[
        "America"
    ]
    july = dict(zones.grouped_choices(datetime(2026, 7, 15, 12, tzinfo=UTC))[1:])
    assert ("Europe/Berlin", "Berlin (UTC+02:00)") in july["Europe"]


@pytest.mark.parametrize("value", ["Zulu", "localtime", "Mars/Olympus", ""])
def test_field_refuses_aliases_and_unknown_names_with_a_clear_message(value):
    field = TimeZoneField()
    with pytest.raises(Exception) as error:
        field.clean(value)
    message = " ".join(error.value.messages)
    assert ("not a known time zone" in message) if value else ("required" in message)


def test_a_saved_legacy_zone_stays_chosen_and_saves_unchanged(client):
    user = UserFactory(time_zone="Asia/Calcutta")
    form = ProfileForm(instance=user)
    assert 'value="Asia/Calcutta" selected' in str(form["time_zone"])
    client.force_login(user)
    data = {
        "display_name": "Ravi", "time_zone": "Asia/Calcutta", "work_days": ["0", "1"],
        "work_start": "09:00", "work_end": "17:00", "digest_hour": "8",
    }  # fmt: skip
    assert client.post(reverse("accounts:profile"), data).status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("Ravi", "Asia/Calcutta")
    # ...but nobody else may pick that alias.
    other = UserFactory(time_zone="UTC")
    assert not ProfileForm({**data, "display_name": "X"}, instance=other).is_valid()


def test_profile_refuses_an_alias_and_changes_nothing(client, member):
    client.force_login(member)
    before = member.time_zone
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": "Z", "time_zone": "Zulu", "work_days": ["0"], "work_start": "09:00",
         "work_end": "17:00", "digest_hour": "8"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "“Zulu” is not a known time zone" in response.content.decode()
    member.refresh_from_db()
    assert member.time_zone == before and member.display_name != "Z"


def test_series_form_uses_the_same_picker_with_my_zone_chosen(team, organizer):
    form = SeriesForm(team=team, user=organizer)
    assert isinstance(form.fields["time_zone"], TimeZoneField)
    html = str(form["time_zone"])
    assert 'value="Europe/Berlin" selected' in html
    assert '<optgroup label="Europe">' in html
    assert 'value="Zulu"' not in html and 'value="localtime"' not in html


def test_sign_up_starts_with_no_zone_for_the_browser_to_pick():
    from accounts.forms import SignUpForm

    html = str(SignUpForm(email="new@example.com")["time_zone"])
    assert "data-guess-zone" in html
    assert '<option value="" selected>Pick your time zone</option>' in html
