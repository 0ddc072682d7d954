"""Issue 11 in a real browser: an amendment that changes nothing sends nothing and
says so, "Send changes" is the primary button only while attendees lack the
agenda (item 4), and a new action item starts with no owner and due the next
working day, not the meeting day (item 7). With htmx and without JavaScript,
driven from the keyboard where a person would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings import services
from meetings.models import ActionItem, Notification
from tests.browser.conftest import login, open_context, screenshot, settled, watch
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser

NOTHING = "Nothing changed since the agenda was sent; no one was emailed."
# A primary button: a plain button, not secondary, danger or link-styled.
PRIMARY = "#meeting button:not(.secondary):not(.danger):not(.link)"


@pytest.fixture
def crew(transactional_db):
    team = TeamFactory(name="Platform")
    olga = UserFactory(
        display_name="Olga Organizer",
        email="olga@example.com",
        time_zone="Europe/Berlin",
        work_days=0b0010101,
    )  # Mon, Wed, Fri
    asha = UserFactory(display_name="Asha Rao", email="asha@example.com",
                       time_zone="Asia/Kolkata")  # fmt: skip
    for person in (olga, asha):
        MembershipFactory(user=person, team=team)
    return team, olga, asha


def primary_buttons(page: Page) -> list[str]:
    return [text.strip() for text in page.locator(PRIMARY).all_inner_texts()]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_amending_nothing_sends_nothing_and_send_changes_is_primary_only_when_due(
    browser, live, crew, javascript
):
    team, olga, asha = crew
    meeting = MeetingFactory(team=team, organizer=olga, attendees=[asha], title="Launch")
    meeting.desired_outcome = "Pick a date."
    meeting.save(update_fields=["desired_outcome"])
    services.add_agenda_item(meeting=meeting, title="Dates", added_by=olga)
    services.send_agenda(meeting=meeting, by=olga, now=timezone.now())
    queued = Notification.objects.count()

    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    seen = watch(page)
    login(page, olga.email)
    page.goto(f"/meetings/{meeting.pk}/")

    def settle() -> None:
        if javascript:
            settled(page)

    # Just sent: nothing to send, so "Send changes" is not the primary action.
    amend = page.locator("#amend-agenda")
    expect(amend).to_have_class("secondary")
    assert "Send changes to attendees" not in primary_buttons(page)
    expect(page.locator("#agenda-sync")).to_have_text("Attendees have this agenda as it stands.")

    # Pressed anyway, from the keyboard: it says so and emails no one.
    amend.focus()
    page.keyboard.press("Enter")
    settle()
    expect(page.locator("#messages")).to_contain_text(f"Info: {NOTHING}")
    assert Notification.objects.count() == queued

    # A change attendees have not got: now sending it is the next step.
    page.locator("#id_new-title").fill("Budget")
    page.locator("#add-item").click()
    settle()
    expect(page.locator("#amend-agenda")).not_to_have_class("secondary")
    assert "Send changes to attendees" in primary_buttons(page)
    expect(page.locator("#agenda-sync")).to_contain_text("attendees do not have these changes")
    page.locator("#amend-agenda").click()
    settle()
    expect(page.locator("#messages")).to_contain_text("Changes sent to every attendee.")
    assert Notification.objects.filter(meeting=meeting, stage="2").count() == 2

    # Sent: back to nothing primary in the agenda.
    expect(page.locator("#amend-agenda")).to_have_class("secondary")
    assert "Send changes to attendees" not in primary_buttons(page)
    screenshot(page, f"agenda-after-amend-{'htmx' if javascript else 'nojs'}")
    assert seen.errors == []
    context.close()


def next_working_day_by_hand(user, moment):
    day = moment.astimezone(user.zone).date() + timedelta(days=1)
    while not user.work_days & (1 << day.weekday()):
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_a_new_action_item_starts_with_no_owner_and_due_the_next_working_day(
    browser, live, crew, javascript
):
    team, olga, asha = crew
    start = timezone.now() - timedelta(days=3)  # a late recap
    meeting = MeetingFactory(team=team, organizer=olga, attendees=[asha], title="Retro",
                             starts_at=start, now=start - timedelta(days=1))  # fmt: skip

    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    seen = watch(page)
    login(page, olga.email)
    page.goto(f"/meetings/{meeting.pk}/#recap")

    owner = page.locator("#id_action-owner")
    due = page.locator("#id_action-due_date")
    expect(owner).to_have_value("")
    expect(owner.locator("option:checked")).to_have_text("Choose…")
    expected = next_working_day_by_hand(olga, timezone.now())
    expect(due).to_have_value(expected.isoformat())
    assert expected > meeting.local_date  # the item does not start out overdue

    # Without an owner the browser refuses to submit (the field is required).
    page.locator("#id_action-description").fill("Book the venue")
    page.locator("#add-action").click()
    assert owner.evaluate("el => el.validity.valueMissing") is True
    assert not ActionItem.objects.exists()

    # Chosen, then submitted from the keyboard.
    owner.focus()
    owner.select_option(label="Asha Rao")
    page.locator("#add-action").focus()
    page.keyboard.press("Enter")
    if javascript:
        settled(page)
    expect(page.locator("#recap")).to_contain_text(
        f"Asha Rao · due {expected.strftime('%a')} {expected.day} {expected.strftime('%b')}"
    )
    item = ActionItem.objects.get()
    assert (item.owner, item.due_date) == (asha, expected)
    # The form is ready for the next item: no owner again.
    expect(page.locator("#id_action-owner")).to_have_value("")
    screenshot(page, f"recap-defaults-{'htmx' if javascript else 'nojs'}")
    assert seen.errors == []
    context.close()
