"""Issue 14 in a real browser: two attendees discuss and settle their agenda items in
writing, the organizer settles the meeting in writing ("no meeting needed"), and
the attendees' calendar feed then shows the event canceled. In place with htmx,
text typed elsewhere on the page survives each swap, and axe finds nothing
serious in the new states of the meeting page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings import services
from meetings.models import AgendaComment, Meeting
from tests.browser.conftest import login, open_context, screenshot, settled, watch
from tests.browser.test_accessibility import violations
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def crew(transactional_db):
    team = TeamFactory(name="Platform")
    olga = UserFactory(display_name="Olga Organizer", email="olga@example.com",
                       time_zone="Europe/Berlin")  # fmt: skip
    asha = UserFactory(display_name="Asha Rao", email="asha@example.com",
                       time_zone="Asia/Kolkata")  # fmt: skip
    ben = UserFactory(display_name="Ben Ode", email="ben@example.com",
                      time_zone="America/New_York")  # fmt: skip
    for person in (olga, asha, ben):
        MembershipFactory(user=person, team=team)
    meeting = MeetingFactory(team=team, organizer=olga, attendees=[asha, ben], title="Launch")
    meeting.desired_outcome = "Pick a date and a budget."
    meeting.save(update_fields=["desired_outcome"])
    services.add_agenda_item(meeting=meeting, title="Dates", added_by=olga, owner=asha,
                             timebox_minutes=20)  # fmt: skip
    services.add_agenda_item(meeting=meeting, title="Budget", added_by=olga, owner=ben,
                             timebox_minutes=25)  # fmt: skip
    services.send_agenda(meeting=meeting, by=olga, now=timezone.now())
    return meeting, olga, asha, ben


def item_id(meeting: Meeting, title: str) -> int:
    return meeting.agenda_items.get(title=title).pk


def no_axe_violations(page: Page, seen, state: str) -> None:
    # The page said nothing wrong so far; what the console says while axe runs is axe's.
    assert seen.errors == [], (state, seen.errors)
    found = violations(page)
    assert not found, f"{state}:\n" + "\n".join(found)
    seen.errors.clear()


def test_attendees_settle_their_items_and_the_organizer_settles_the_meeting(browser, live, crew):
    meeting, olga, asha, ben = crew
    dates, budget = item_id(meeting, "Dates"), item_id(meeting, "Budget")

    # Asha comments on her item, keeps a half-written comment on Ben's, and settles hers.
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, asha.email)
    page.goto(f"/meetings/{meeting.pk}/")
    page.locator(f"#item-{budget}-discussion summary").click()
    page.get_by_label("Comment on “Budget”").fill("Half a thought about the budget")
    page.locator(f"#item-{dates}-discussion summary").click()
    page.get_by_label("Comment on “Dates”").fill("Tuesday suits **everyone** I asked.")
    page.get_by_role("button", name="Add comment on “Dates”").click()
    settled(page)
    discussion = page.locator(f"#item-{dates}-discussion")
    expect(discussion.locator(".comment-count")).to_have_text("1 comment")
    expect(discussion.locator(".comment strong")).to_have_text(["Asha Rao", "everyone"])
    expect(page.locator("#messages")).to_contain_text("Comment added to “Dates”.")

    resolution = page.get_by_label("Resolution of “Dates”")
    resolution.fill("Launch on Tuesday 9 June")
    resolution.press("Enter")
    settled(page)
    expect(page.locator(f"#item-{dates}-settle")).to_contain_text(
        "Decided in writing: Launch on Tuesday 9 June"
    )
    expect(page.locator(f"#item-{dates}-meta")).to_contain_text("Decided in writing")
    expect(page.locator("#agenda-total")).to_contain_text("25 of 45 min still to discuss")
    # Her half-written comment on the other item is still there.
    expect(page.get_by_label("Comment on “Budget”")).to_have_value(
        "Half a thought about the budget"
    )
    expect(page.locator(f"#item-{dates}-reopen")).to_be_focused()
    assert AgendaComment.objects.get().body == "Tuesday suits **everyone** I asked."
    # Last on this page: axe has been injected into it.
    no_axe_violations(page, seen, "an item settled, discussions open with comments")
    context.close()

    # Ben settles his, from the keyboard.
    context = open_context(browser, live)
    page = context.new_page()
    login(page, ben.email)
    page.goto(f"/meetings/{meeting.pk}/")
    expect(page.get_by_label("Resolution of “Dates”")).to_have_count(0)  # not his
    page.get_by_label("Resolution of “Budget”").fill("Keep the budget as planned")
    page.get_by_role("button", name="Settle in writing “Budget”").press("Enter")
    settled(page)
    expect(page.locator("#agenda-total")).to_contain_text("0 of 45 min still to discuss")
    context.close()

    # The organizer sees both settled and settles the meeting in writing.
    context = open_context(browser, live)
    page = context.new_page()
    seen = watch(page)
    login(page, olga.email)
    page.goto(f"/meetings/{meeting.pk}/")
    expect(page.locator("#shorten-meeting")).to_have_text("Shorten to 5 min")
    form = page.locator("#settle-form")
    expect(form).to_be_visible()

    # Refused first: neither action items nor the flag. What was typed stays.
    form.get_by_label("Summary").fill("Launch Tuesday 9 June on the planned budget.")
    page.get_by_role("button", name="Settled in writing: no meeting needed").click()
    settled(page)
    expect(page.locator("#messages")).to_contain_text("Add at least one action item")
    expect(page.locator("#settle-form").get_by_label("Summary")).to_have_value(
        "Launch Tuesday 9 June on the planned budget."
    )
    assert Meeting.objects.get(pk=meeting.pk).settled_at is None
    no_axe_violations(page, seen, "the settle form offered, refused once")

    page.reload()  # a page axe has not run in
    page.locator("#settle-form").get_by_label("Summary").fill(
        "Launch Tuesday 9 June on the planned budget."
    )
    page.locator("#settle-form").get_by_label("Action item 1").fill("Tell support the date")
    page.locator("#settle-form").get_by_label("Owner").first.select_option(label="Asha Rao")
    page.get_by_role("button", name="Settled in writing: no meeting needed").click()
    settled(page)
    expect(page.locator("#meeting-status")).to_have_text("Settled in writing")
    expect(page.locator("#settled-notice")).to_contain_text("no meeting needed")
    expect(page.locator("#recap")).to_contain_text("Launch Tuesday 9 June on the planned budget.")
    expect(page.locator("#recap")).to_contain_text("Tell support the date")
    expect(page.locator("#settle-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen for the meeting “Dates”")).to_have_count(0)
    no_axe_violations(page, seen, "settled in writing")
    # Last: Playwright's screenshots trip the page's CSP in the console.
    screenshot(page, "settled-in-writing")

    # Asha's calendar feed now shows the meeting canceled, with the reason.
    feed = page.request.get(
        live + reverse("meetings:calendar_feed", args=[asha.calendar_token])
    ).text()
    event = feed.split("BEGIN:VEVENT")[1]
    assert "SUMMARY:Launch" in event
    assert "STATUS:CANCELLED" in event
    assert "Settled in writing" in event.replace("\r\n ", "")
    context.close()
