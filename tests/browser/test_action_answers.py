"""The action items page in Chromium: the owner accepts and moves a date in place,
the organizer reassigns through the member picker in place; axe finds nothing
serious in those states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings import services
from meetings.models import ActionItem
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

from .conftest import login, open_context, settled
from .test_accessibility import violations

pytestmark = pytest.mark.browser


def test_owner_answers_and_organizer_reassigns_in_place(browser, live):
    team = TeamFactory()
    organizer, owner, newcomer = (
        UserFactory(display_name=name) for name in ("Olga Organizer", "Omar Owner", "Nina New")
    )
    for person in (organizer, owner, newcomer):
        MembershipFactory(user=person, team=team)
    start = timezone.now() - timedelta(days=3)
    meeting = MeetingFactory(team=team, organizer=organizer, attendees=[owner],
                             starts_at=start, now=start - timedelta(days=1))  # fmt: skip
    item = services.add_action_item(
        meeting=meeting, description="Write the migration plan", owner=owner,
        due_date=meeting.local_date + timedelta(days=7), now=timezone.now(),
    )  # fmt: skip
    meeting.recap_summary = "Agreed."
    meeting.save()
    meeting.publish_recap(by=organizer, now=timezone.now())
    row = f"#action-{item.pk}"

    context = open_context(browser, live)
    page = context.new_page()
    login(page, owner.email)
    page.goto("/action-items/")
    expect(page.locator(row)).to_contain_text("Not answered yet")
    assert violations(page) == []
    page.locator(f"#action-{item.pk}-accept").click()
    settled(page)
    expect(page.locator(row)).to_contain_text("Accepted")
    expect(page.locator("#messages")).to_contain_text("You accepted")
    new_due = item.due_date + timedelta(days=2)
    page.get_by_label("New due date for “Write the migration plan”").fill(new_due.isoformat())
    page.locator(f"#action-{item.pk}-redate").click()
    settled(page)
    expect(page.locator(row)).to_contain_text("re-dated 1×")
    assert page.url.endswith("/action-items/")  # in place, no page load
    context.close()

    context = open_context(browser, live)
    page = context.new_page()
    login(page, organizer.email)
    page.goto("/action-items/?scope=team")
    page.locator(f"#action-{item.pk}-reassign").click()
    settled(page)
    picker = page.get_by_label("New owner")
    expect(picker).to_be_focused()
    assert violations(page) == []
    picker.select_option(label="Nina New")
    page.locator(f"#action-{item.pk}-reassign-save").click()
    settled(page)
    expect(page.locator(row)).to_contain_text("Nina New")
    expect(page.locator(row)).to_contain_text("Not answered yet")
    context.close()

    item.refresh_from_db()
    assert item.owner_id == newcomer.pk and item.due_date == new_due
    assert item.response == ActionItem.Response.UNANSWERED
