"""Issue 11 in a real browser: the home page in the order a person acts, the meetings
list soonest first, the working-hours warning while scheduling (live with htmx, after
saving without JavaScript) and the zone picker (filter box, browser's zone chosen)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services as account_services
from meetings.models import Meeting
from tests.browser.conftest import DESKTOP, login, open_context, screenshot, settled, watch
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    make_series,
)

pytestmark = pytest.mark.browser

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def local_day(zone: ZoneInfo, days: int, hour: int) -> datetime:
    day = timezone.now().astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=zone)


@pytest.fixture
def crew(transactional_db):
    team = TeamFactory(name="Platform")
    olga = UserFactory(display_name="Olga", email="olga@example.com", time_zone="Europe/Berlin")
    ana = UserFactory(display_name="Ana", email="ana@example.com", time_zone="America/New_York")
    for user in (olga, ana):
        MembershipFactory(user=user, team=team)
    return {"team": team, "olga": olga, "ana": ana}


def test_home_puts_what_needs_me_first_and_collapses_a_series(browser, live, crew):
    team, olga, ana = crew["team"], crew["olga"], crew["ana"]
    now = timezone.now()
    MeetingFactory(team=team, organizer=olga, attendees=[ana], title="Budget review",
                   starts_at=local_day(BERLIN, 1, 12))  # fmt: skip
    first = local_day(BERLIN, 3, 9)
    make_series(team, olga, title="Team weekly", attendees=[ana], now=now,
                first_start=first.replace(tzinfo=None), time_zone="Europe/Berlin")  # fmt: skip
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, "olga@example.com")
    headings = page.locator("main h2").all_inner_texts()
    assert [h.split(" ")[0].split("·")[0].strip() for h in headings] == [
        "Needs", "Tomorrow", "Later",
    ]  # fmt: skip
    needs = page.locator("section.needs-me")
    expect(needs.get_by_role("link", name="Budget review")).to_be_visible()
    later = page.locator("li.later-series")
    expect(later).to_have_count(1)
    expect(later).to_contain_text("Team weekly")
    expect(later).to_contain_text(f"next {first:%a} {first.day} {first:%b}")
    # Keyboard: the first thing to act on is reachable and opens its agenda.
    needs.get_by_role("link", name="Budget review").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/meetings/*/#agenda")
    page.goto("/")
    screenshot(page, "home-organizer")
    for size in ({"width": 375, "height": 800}, DESKTOP):
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"home scrolls sideways at {size['width']} px"
    # The meetings list: tomorrow first, the series' later meetings after it.
    page.goto("/meetings/")
    first_row = page.locator("table.meetings tbody tr:not(.list-group)").first
    expect(first_row).to_contain_text("Budget review")
    expect(page.locator("tr.list-group").first).to_contain_text("Upcoming, soonest first")
    assert seen.errors == []
    context.close()


def test_an_attendee_with_nothing_to_do_sees_meetings_first(browser, live, crew):
    # Tomorrow in Ana's own zone (New York): Berlin's tomorrow is her day after
    # from 18:00 New York time on.
    MeetingFactory(team=crew["team"], organizer=crew["olga"], attendees=[crew["ana"]],
                   title="Budget review", starts_at=local_day(NEW_YORK, 1, 10))  # fmt: skip
    context = open_context(browser, live)
    page = context.new_page()
    login(page, "ana@example.com")
    expect(page.locator("main h2").first).to_contain_text("Tomorrow")
    expect(page.get_by_text("Waiting for your recap")).to_have_count(0)
    expect(page.locator(".all-clear")).to_contain_text("Nothing needs you today.")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_five_am_in_new_york_warns_and_still_saves(browser, live, crew, javascript):
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    seen = watch(page)
    login(page, "olga@example.com")
    page.goto(reverse("meetings:create"))
    start = local_day(NEW_YORK, 2, 5)
    while start.weekday() >= 5:  # a weekday: the warning is about the hour
        start += timedelta(days=1)
    berlin = start.astimezone(BERLIN)
    page.get_by_label("Title").fill("Early sync")
    page.get_by_label("Date").fill(berlin.date().isoformat())
    page.get_by_label("Starts").fill(f"{berlin:%H:%M}")
    page.get_by_label("Ends").fill(f"{berlin + timedelta(minutes=30):%H:%M}")
    page.get_by_label("Ana").check()
    expected = f"Ana (New York): {start:%a} 05:00–05:30, before their working hours (09:00–17:00)"
    if javascript:
        settled(page)
        notice = page.locator("#hours-check")
        expect(notice).to_contain_text(expected)
        # Above the button that saves.
        box, button = notice.bounding_box(), page.locator("#save-meeting").bounding_box()
        assert box["y"] + box["height"] <= button["y"]
        screenshot(page, "meeting-form-hours-warning")
    page.get_by_role("button", name="Create meeting").click()
    page.wait_for_url("**/meetings/*/")
    assert Meeting.objects.filter(title="Early sync").exists()
    expect(page.locator("#messages")).to_contain_text(f"Outside working hours for {expected}.")
    assert seen.errors == []
    context.close()


def test_zone_picker_filters_and_preselects_the_browsers_zone(browser, live, crew):
    crew["olga"].memberships.update(role="admin")  # admins invite
    invitation = account_services.invite(team=crew["team"], email="new@example.com",
                                         role="member", invited_by=crew["olga"],
                                         now=timezone.now())  # fmt: skip
    token = account_services.invitation_token(invitation)
    context = browser.new_context(base_url=live, viewport=DESKTOP, timezone_id="America/New_York")
    page = context.new_page()
    seen = watch(page)
    page.goto(reverse("accounts:accept_invitation", args=[token]))
    zone = page.get_by_label("Your time zone")
    expect(zone).to_have_value("America/New_York")
    expect(zone.locator("optgroup[label='Europe']")).to_have_count(1)
    expect(zone.locator("option[value='Zulu'], option[value='localtime']")).to_have_count(0)
    # Typing narrows the list and picks the first match; Tab moves on with it chosen.
    page.get_by_label("Filter zones").fill("kolk")
    expect(zone).to_have_value("Asia/Kolkata")
    expect(page.locator(".zone-filter-count")).to_have_text("1 match")
    page.get_by_label("Filter zones").fill("buenos")
    expect(zone).to_have_value("America/Argentina/Buenos_Aires")
    screenshot(page, "zone-picker")
    assert seen.errors == []
    context.close()


def test_series_form_uses_the_same_picker(browser, live, crew):
    context = open_context(browser, live)
    page = context.new_page()
    login(page, "olga@example.com")
    page.goto(reverse("meetings:series_create"))
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("Europe/Berlin")  # mine, not the browser's guess
    page.get_by_label("Filter zones").fill("new york")
    expect(zone).to_have_value("America/New_York")
    context.close()
