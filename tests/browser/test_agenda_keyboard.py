"""A keyboard-only pass through the agenda editor: Tab, typing, Enter and Space."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings import services
from tests.browser.conftest import login, settled, watch
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement?.id || ''")


def focus_is_visible(page: Page) -> bool:
    return page.evaluate("getComputedStyle(document.activeElement).outlineStyle !== 'none'")


@pytest.fixture
def draft(transactional_db):
    team = TeamFactory()
    olga = UserFactory(email="olga@example.com", display_name="Olga", time_zone="Europe/Berlin")
    asha = UserFactory(email="asha@example.com", display_name="Asha Rao")
    for user in (olga, asha):
        MembershipFactory(user=user, team=team)
    meeting = MeetingFactory(team=team, organizer=olga, attendees=[asha], now=timezone.now())
    for title in ("Intro", "Numbers"):
        services.add_agenda_item(meeting=meeting, title=title, added_by=olga)
    return meeting


def test_agenda_editor_by_keyboard_alone(browser, live, draft):
    context = browser.new_context(base_url=live, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = watch(page)
    login(page, "olga@example.com")
    page.goto(f"/meetings/{draft.pk}/")

    # Desired outcome: Tab into the field, type, Tab to the button, Enter.
    tab_to(page, "#id_desired_outcome")
    assert focus_is_visible(page)
    page.keyboard.type("Agree the numbers.")
    tab_to(page, "#save-outcome")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Desired outcome saved.")).to_be_visible()
    settled(page)

    # Add an item with an owner (arrow keys in the select) and a time box.
    tab_to(page, "#id_new-title")
    page.keyboard.type("Hiring")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_new-owner"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_new-timebox_minutes"
    page.keyboard.type("10")
    tab_to(page, "#add-item")
    page.keyboard.press("Enter")
    expect(page.locator(".agenda-item .item-title")).to_have_text(["Intro", "Numbers", "Hiring"])
    settled(page)
    hiring = draft.agenda_items.get(title="Hiring")
    assert hiring.timebox_minutes == 10 and hiring.owner is not None

    # Move it up twice with the keyboard; the focus stays on the button.
    tab_to(page, f"#item-{hiring.pk}-up")
    page.keyboard.press("Enter")
    expect(page.locator(".agenda-item .item-title").nth(1)).to_have_text("Hiring")
    # htmx gives the focus back once the new fragment settles.
    expect(page.locator(f"#item-{hiring.pk}-up")).to_be_focused()
    settled(page)
    page.keyboard.press("Space")
    expect(page.locator(".agenda-item .item-title").first).to_have_text("Hiring")
    expect(page.locator(f"#item-{hiring.pk}-up")).to_be_focused()
    settled(page)
    assert focus_is_visible(page)

    # Edit in place: Enter on the link, the title field takes the focus.
    tab_to(page, f"#item-{hiring.pk}-edit")
    page.keyboard.press("Enter")
    expect(page.locator(f"#id_item{hiring.pk}-title")).to_be_focused()
    settled(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("Hiring plan")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Item saved.")).to_be_visible()
    settled(page)
    expect(page.locator(".agenda-item .item-title")).to_have_text(
        ["Hiring plan", "Intro", "Numbers"]
    )

    # Remove one with Space, then send the agenda with Enter.
    intro = draft.agenda_items.get(title="Intro")
    tab_to(page, f"#item-{intro.pk}-remove")
    page.keyboard.press("Space")
    expect(page.get_by_text("Removed “Intro”.")).to_be_visible()
    settled(page)
    tab_to(page, "#send-agenda")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Agenda sent to every attendee.")).to_be_visible()
    draft.refresh_from_db()
    assert draft.agenda_sent_at is not None
    assert list(draft.agenda_items.values_list("title", flat=True)) == ["Hiring plan", "Numbers"]
    assert not seen.errors, seen.errors
    context.close()
