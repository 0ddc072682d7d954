"""The whole bookend in a real browser: schedule, agenda, recap, acknowledge, done.

Run twice: with JavaScript (htmx updates in place) and without (plain forms).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings.models import ActionItem, Meeting
from tests.browser.conftest import login, open_context, screenshot, settled, watch
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def crew(transactional_db):
    team = TeamFactory(name="Platform")
    people = {
        "olga": UserFactory(display_name="Olga Organizer", email="olga@example.com",
                            time_zone="Europe/Berlin"),
        "asha": UserFactory(display_name="Asha Rao", email="asha@example.com",
                            time_zone="Asia/Kolkata"),
        "ben": UserFactory(display_name="Ben Okafor", email="ben@example.com",
                           time_zone="America/New_York"),
        "cleo": UserFactory(display_name="Cleo Silent", email="cleo@example.com"),
    }  # fmt: skip
    for person in people.values():
        MembershipFactory(user=person, team=team)
    return people


def stays_in_place(page: Page) -> None:
    assert page.evaluate("window.__stay") == 1, "the page reloaded instead of updating in place"


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_organizer_bookends_a_meeting(browser, live, crew, javascript):
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    seen = watch(page)

    def settle() -> None:
        # With htmx, each step waits for the swap to finish; plain pages have none.
        if javascript:
            settled(page)

    login(page, "olga@example.com")

    # -- schedule with two attendees --------------------------------------------
    page.get_by_role("link", name="New meeting").first.click()
    tomorrow = (timezone.now().astimezone(crew["olga"].zone) + timedelta(days=1)).date()
    page.get_by_label("Title").fill("Launch planning")
    page.get_by_label("Date").fill(tomorrow.isoformat())
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("11:00")
    expect(page.get_by_text("Europe/Berlin")).to_be_visible()
    settle()
    if javascript:
        search = page.get_by_label("Find a team member")
        search.fill("asha")
        expect(page.get_by_label("Ben Okafor")).to_have_count(0)
        page.get_by_label("Asha Rao").check()
        search.fill("ben")
        expect(page.get_by_label("Ben Okafor")).to_be_visible()
        settled(page)
        expect(page.get_by_label("Asha Rao")).to_be_checked()  # kept while narrowing
        page.get_by_label("Ben Okafor").check()
    else:
        page.get_by_label("Asha Rao").check()
        page.get_by_label("Ben Okafor").check()
    page.get_by_role("button", name="Create meeting").click()
    expect(page.get_by_text("Meeting created.")).to_be_visible()
    settle()
    meeting = Meeting.objects.get(title="Launch planning")
    assert {a.user.email for a in meeting.attendees.all()} == {
        "olga@example.com", "asha@example.com", "ben@example.com"
    }  # fmt: skip
    expect(page.locator(".local-times")).to_contain_text("for Asha Rao, Kolkata")
    settle()
    if javascript:
        page.evaluate("window.__stay = 1")

    # -- build the agenda in place, then send it ---------------------------------
    page.get_by_role("button", name="Send agenda").click()
    expect(page.get_by_text("Add at least one agenda item.")).to_be_visible()
    settle()
    expect(page.get_by_text("State the desired outcome")).to_be_visible()
    settle()
    page.get_by_label("Desired outcome").fill("Agree on the **launch date**.")
    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Desired outcome saved.")).to_be_visible()
    settle()
    for title, owner, minutes in (("Risks", "Ben Okafor", "20"), ("Date", "Asha Rao", "15")):
        page.get_by_label("Title").fill(title)
        page.get_by_label("Owner").select_option(label=owner)
        page.get_by_label("Time box (minutes)").fill(minutes)
        page.get_by_role("button", name="Add item").click()
        expect(page.locator(".agenda-items")).to_contain_text(title)
        settle()
    expect(page.locator(".timebox-total")).to_contain_text("35 min of 60 min")
    settle()
    page.get_by_role("button", name="Move “Date” up").click()
    expect(page.locator(".agenda-item .item-title").first).to_have_text("Date")
    settle()
    page.get_by_role("button", name="Send agenda").click()
    expect(page.get_by_text("Agenda sent to every attendee.")).to_be_visible()
    settle()
    expect(page.locator(".meeting-head .status")).to_have_text("Agenda sent")
    settle()
    if javascript:
        stays_in_place(page)
        screenshot(page, "meeting-agenda")
    meeting.refresh_from_db()
    assert meeting.agenda_sent_at is not None
    assert [i.title for i in meeting.agenda_items.all()] == ["Date", "Risks"]

    # -- the meeting's end passes -----------------------------------------------
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(
        agenda_sent_at=now - timedelta(hours=3),
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(minutes=1),
    )
    page.goto(f"/meetings/{meeting.pk}/")
    expect(page.locator(".meeting-head .status")).to_have_text("Awaiting recap")
    settle()
    if javascript:
        page.evaluate("window.__stay = 1")

    # -- recap with two action items for two owners, then publish ----------------
    page.get_by_label("Summary").fill("We launch on the 1st; Ben owns the risk list.")
    page.get_by_label("Outcome of “Date”").select_option("decided")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Recap draft saved.")).to_be_visible()
    settle()
    page.get_by_label("Decision").fill("Launch on the 1st.")
    page.get_by_role("button", name="Add decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    settle()
    for description, owner in (
        ("Book the launch slot", "Asha Rao"),
        ("Write risk list", "Ben Okafor"),
    ):
        page.get_by_label("Description").fill(description)
        page.get_by_label("Owner").select_option(label=owner)
        page.get_by_role("button", name="Add action item").click()
        expect(page.get_by_text(f"Action item assigned to {owner}.")).to_be_visible()
        settle()
    if javascript:
        screenshot(page, "meeting-recap-editor")
    page.get_by_role("button", name="Publish recap").click()
    expect(page.get_by_text("Recap published to every attendee.")).to_be_visible()
    settle()
    if javascript:
        stays_in_place(page)
        screenshot(page, "meeting-recap")
    meeting.refresh_from_db()
    assert meeting.recap_published_at is not None
    assert meeting.recap_summary.startswith("We launch on the 1st")
    assert meeting.agenda_items.get(title="Date").outcome == "decided"
    context.close()

    # -- an attendee acknowledges --------------------------------------------------
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    watch(page)
    login(page, "asha@example.com")
    expect(page.get_by_role("link", name="Launch planning").first).to_be_visible()
    settle()
    page.get_by_role("link", name="Launch planning").first.click()
    page.get_by_role("button", name="I have read this recap").click()
    expect(page.get_by_text("You acknowledged this recap")).to_be_visible()
    settle()
    assert meeting.attendees.get(user=crew["asha"]).acknowledged_at is not None
    context.close()

    # -- an owner marks an item done ------------------------------------------------
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    watch(page)
    login(page, "ben@example.com")
    if javascript:
        screenshot(page, "home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Action items").click()
    if javascript:
        screenshot(page, "action-items")
        page.evaluate("window.__stay = 1")
    page.get_by_role("button", name="Mark done “Write risk list”").click()
    expect(page.get_by_text("“Write risk list” marked done.")).to_be_visible()
    settle()
    if javascript:
        # The row changes in place and offers to reopen.
        expect(page.get_by_role("button", name="Reopen “Write risk list”")).to_be_visible()
        settle()
        stays_in_place(page)
    else:
        # The page reloads with the "open" filter: the item has left the list.
        expect(page.get_by_role("button", name="Mark done “Write risk list”")).to_have_count(0)
    item = ActionItem.objects.get(description="Write risk list")
    assert item.status == "done" and item.completed_at is not None
    context.close()

    # Nothing went wrong in the browser: no script errors, no CSP violations.
    assert not [e for e in seen.errors if "favicon" not in e], seen.errors
