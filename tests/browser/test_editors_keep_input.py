"""Issue 11, item 2: in-place adds and edits never lose what was typed elsewhere.

Each change swaps only the block it changed, so an unsaved desired outcome,
recap summary or outcome choice stays; the focus goes where a keyboard user
expects (the empty add field, ready for the next one); the page does not jump;
and Remove asks first, with and without JavaScript.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings import services
from meetings.models import Meeting
from tests.browser.conftest import DESKTOP, PHONE, login, open_context, settled, watch
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser

SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280px", "375px"])


@pytest.fixture
def people(transactional_db):
    team = TeamFactory()
    olga = UserFactory(email="olga@example.com", display_name="Olga", time_zone="Europe/Berlin")
    asha = UserFactory(email="asha@example.com", display_name="Asha Rao")
    for user in (olga, asha):
        MembershipFactory(user=user, team=team)
    return team, olga, asha


@pytest.fixture
def draft(people) -> Meeting:
    team, olga, asha = people
    meeting = MeetingFactory(team=team, organizer=olga, attendees=[asha], now=timezone.now())
    for title in ("Intro", "Numbers"):
        services.add_agenda_item(meeting=meeting, title=title, added_by=olga)
    return meeting


@pytest.fixture
def ended(people) -> Meeting:
    """A meeting that ended an hour ago: its recap is open."""
    team, olga, asha = people
    now = timezone.now()
    meeting = MeetingFactory(
        team=team, organizer=olga, attendees=[asha], starts_at=now - timedelta(hours=2), now=now
    )
    for title in ("Intro", "Numbers"):
        services.add_agenda_item(meeting=meeting, title=title, added_by=olga)
    return meeting


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement?.id || document.activeElement?.tagName")


def focused_in_viewport(page: Page) -> bool:
    return page.evaluate(
        "(() => { const r = document.activeElement.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; })()"
    )


def click_without_jump(page: Page, button) -> None:
    """Click `button` and check that the page did not jump: it moves less than
    50 px, unless the browser scrolled to keep the newly focused field visible."""
    button.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    button.click()
    settled(page)
    moved = abs(page.evaluate("window.scrollY") - before)
    assert moved < 50 or focused_in_viewport(page), f"the page jumped {moved} px"
    assert focused_in_viewport(page)


def open_meeting(browser, live, meeting: Meeting, size: dict, *, javascript: bool = True):
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    page.set_viewport_size(size)
    seen = watch(page)
    login(page, "olga@example.com")
    page.goto(f"/meetings/{meeting.pk}/")
    return context, page, seen


@SIZES
def test_adding_an_item_keeps_the_typed_outcome(browser, live, draft, size):
    context, page, seen = open_meeting(browser, live, draft, size)
    page.get_by_label("Desired outcome").fill("Agree the numbers.")
    page.locator("#id_new-title").fill("Hiring")
    page.locator("#id_new-timebox_minutes").fill("10")

    click_without_jump(page, page.get_by_role("button", name="Add item"))

    expect(page.locator(".agenda-item .item-title")).to_have_text(["Intro", "Numbers", "Hiring"])
    # The unsaved outcome is still in its field, and still unsaved.
    expect(page.get_by_label("Desired outcome")).to_have_value("Agree the numbers.")
    draft.refresh_from_db()
    assert draft.desired_outcome == ""
    # Ready for the next item: the focus is in the emptied title field.
    assert focused(page) == "id_new-title"
    expect(page.locator("#id_new-title")).to_have_value("")
    expect(page.locator(".timebox-total")).to_contain_text("10 min")

    # A refused add keeps the outcome too, and puts the cursor in the field to fix.
    # (Blanks pass the browser's own check; the server refuses them.)
    page.locator("#id_new-timebox_minutes").fill("5")
    page.locator("#id_new-title").fill("   ")
    click_without_jump(page, page.get_by_role("button", name="Add item"))
    expect(page.locator("#id_new-title")).to_have_attribute("aria-invalid", "true")
    assert focused(page) == "id_new-title"
    expect(page.locator("#id_new-timebox_minutes")).to_have_value("5")
    expect(page.get_by_label("Desired outcome")).to_have_value("Agree the numbers.")
    page.locator("#id_new-title").fill("Budget")

    # Saving the outcome keeps the half-typed item, and updates what the send note says.
    expect(page.locator("#agenda-missing")).to_contain_text("a desired outcome")
    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Desired outcome saved.")).to_be_visible()
    settled(page)
    expect(page.locator("#agenda-missing")).to_have_count(0)
    expect(page.locator("#id_new-title")).to_have_value("Budget")
    assert not seen.errors, seen.errors
    context.close()


@SIZES
def test_editing_an_item_keeps_the_typed_outcome_and_new_item(browser, live, draft, size):
    context, page, seen = open_meeting(browser, live, draft, size)
    intro = draft.agenda_items.get(title="Intro")
    page.get_by_label("Desired outcome").fill("Agree the numbers.")
    page.locator("#id_new-title").fill("Half-typed")

    page.locator(f"#item-{intro.pk}-edit").click()
    settled(page)
    assert focused(page) == f"id_item{intro.pk}-title"
    page.keyboard.press("Control+A")
    page.keyboard.type("Welcome")
    click_without_jump(page, page.get_by_role("button", name="Save item"))

    expect(page.locator(".agenda-item .item-title")).to_have_text(["Welcome", "Numbers"])
    expect(page.get_by_label("Desired outcome")).to_have_value("Agree the numbers.")
    expect(page.locator("#id_new-title")).to_have_value("Half-typed")
    # Back on the Edit button of the item just saved.
    assert focused(page) == f"item-{intro.pk}-edit"

    # Cancel also gives the focus back to the Edit button.
    page.keyboard.press("Enter")
    settled(page)
    page.get_by_role("link", name="Cancel").click()
    settled(page)
    assert focused(page) == f"item-{intro.pk}-edit"
    expect(page.get_by_label("Desired outcome")).to_have_value("Agree the numbers.")
    assert not seen.errors, seen.errors
    context.close()


@SIZES
def test_adding_a_decision_or_action_keeps_the_typed_recap(browser, live, ended, size):
    context, page, seen = open_meeting(browser, live, ended, size)
    page.get_by_label("Summary").fill("We agreed the numbers.")
    page.get_by_label("Outcome of “Numbers”").select_option("decided")
    page.get_by_label("Notes").fill("Long discussion.")
    page.get_by_label("Decision").fill("Budget stays flat.")

    click_without_jump(page, page.get_by_role("button", name="Add decision"))

    expect(page.locator("#decision-list")).to_contain_text("Budget stays flat.")
    expect(page.get_by_label("Summary")).to_have_value("We agreed the numbers.")
    expect(page.get_by_label("Outcome of “Numbers”")).to_have_value("decided")
    expect(page.get_by_label("Notes")).to_have_value("Long discussion.")
    assert focused(page) == "id_decision-text"
    expect(page.locator("#id_decision-text")).to_have_value("")

    page.get_by_label("Description").fill("Send the sheet")
    page.get_by_label("Owner").select_option(label="Asha Rao")
    click_without_jump(page, page.get_by_role("button", name="Add action item"))

    expect(page.locator("#action-list")).to_contain_text("Send the sheet")
    expect(page.get_by_label("Summary")).to_have_value("We agreed the numbers.")
    expect(page.get_by_label("Outcome of “Numbers”")).to_have_value("decided")
    assert focused(page) == "id_action-description"

    # None of it was saved behind the organizer's back; Save draft saves it now.
    ended.refresh_from_db()
    assert ended.recap_summary == ""
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Recap draft saved.")).to_be_visible()
    settled(page)
    ended.refresh_from_db()
    assert ended.recap_summary == "We agreed the numbers."
    assert ended.agenda_items.get(title="Numbers").outcome == "decided"
    assert not seen.errors, seen.errors
    context.close()


def test_remove_asks_first_with_javascript(browser, live, ended):
    context = open_context(browser, live)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    # The first question is answered "no", the next ones "yes".
    answers = iter([False, True, True])
    questions: list[str] = []

    def on_dialog(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, "olga@example.com")
    page.goto(f"/meetings/{ended.pk}/")
    services.record_decision(meeting=ended, text="Ship it", by=ended.organizer, now=timezone.now())
    page.reload()
    page.get_by_label("Summary").fill("Typed, not saved.")

    page.get_by_role("button", name="Remove decision").click()
    assert questions == ["Remove this decision?"]
    expect(page.locator("#decision-list")).to_contain_text("Ship it")
    assert ended.decisions.count() == 1

    page.get_by_role("button", name="Remove decision").click()
    expect(page.get_by_text("Decision removed.")).to_be_visible()
    settled(page)
    assert ended.decisions.count() == 0
    # The focus lands on the list the decision left, not on <body>.
    assert focused(page) == "decision-list"
    expect(page.get_by_label("Summary")).to_have_value("Typed, not saved.")
    assert not errors, errors
    context.close()


def test_remove_asks_on_a_page_without_javascript(browser, live, draft):
    context, page, seen = open_meeting(browser, live, draft, DESKTOP, javascript=False)
    intro = draft.agenda_items.get(title="Intro")

    page.get_by_role("button", name="Remove “Intro”").click()
    expect(page.get_by_role("heading", name="Remove “Intro” from the agenda?")).to_be_visible()
    page.get_by_role("link", name="Keep it").click()
    expect(page.locator(".agenda-item .item-title")).to_have_text(["Intro", "Numbers"])
    assert draft.agenda_items.filter(pk=intro.pk).exists()

    page.get_by_role("button", name="Remove “Intro”").click()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_text("Removed “Intro”.")).to_be_visible()
    expect(page.locator(".agenda-item .item-title")).to_have_text(["Numbers"])
    assert not draft.agenda_items.filter(pk=intro.pk).exists()
    assert not seen.dialogs
    context.close()


@SIZES
def test_sending_the_agenda_keeps_what_was_typed(browser, live, draft, size):
    context, page, seen = open_meeting(browser, live, draft, size)
    # Refused (the outcome is typed but not saved): the typed outcome stays.
    page.get_by_label("Desired outcome").fill("Agree the numbers.")
    page.locator("#id_new-title").fill("Half-typed")
    click_without_jump(page, page.get_by_role("button", name="Send agenda"))
    # On a phone too, the refusal is on screen without the page jumping up to it.
    expect(page.get_by_text("State the desired outcome")).to_be_in_viewport()
    expect(page.get_by_label("Desired outcome")).to_have_value("Agree the numbers.")
    assert focused(page) == "send-agenda"

    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Desired outcome saved.")).to_be_visible()
    settled(page)
    click_without_jump(page, page.get_by_role("button", name="Send agenda"))
    expect(page.get_by_text("Agenda sent to every attendee.")).to_be_visible()
    expect(page.locator("#meeting-status")).to_have_text("Agenda sent")
    expect(page.locator("#agenda-sent")).to_contain_text("Sent")
    expect(page.locator("#id_new-title")).to_have_value("Half-typed")
    assert focused(page) == "amend-agenda"
    draft.refresh_from_db()
    assert draft.agenda_sent_at is not None
    assert not seen.errors, seen.errors
    context.close()


@SIZES
def test_a_refused_publish_keeps_the_typed_decision(browser, live, ended, size):
    context, page, seen = open_meeting(browser, live, ended, size)
    page.get_by_label("Decision").fill("Half-typed decision")
    page.get_by_label("Summary").fill("We agreed the numbers.")
    # Neither an action item nor the "no action items" box: publishing is refused.
    click_without_jump(page, page.get_by_role("button", name="Publish recap"))
    expect(page.locator(".message-error")).to_be_in_viewport()
    expect(page.get_by_label("Decision")).to_have_value("Half-typed decision")
    expect(page.get_by_label("Summary")).to_have_value("We agreed the numbers.")
    ended.refresh_from_db()
    assert ended.recap_published_at is None
    assert not seen.errors, seen.errors
    context.close()
