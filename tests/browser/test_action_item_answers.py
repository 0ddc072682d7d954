"""Issue 13 in a real browser: the owner of a newly assigned action item opens the
links of the assignment e-mail, without logging in, and answers Accept, then New
due date, then Done; each page says what happened and the database agrees. With
htmx and without JavaScript (the pages are plain forms)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings import services
from meetings.models import ActionItem, Notification
from meetings.notifications import messages
from tests.browser.conftest import open_context, screenshot, watch
from tests.factories import MeetingFactory, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def assigned(transactional_db):
    """An item of a published recap, just given to Bo: his assignment e-mail."""
    team = TeamFactory(name="Platform")
    olga = UserFactory(display_name="Olga Organizer", time_zone="Europe/Berlin")
    asha = UserFactory(display_name="Asha Rao", time_zone="Asia/Kolkata")
    bo = UserFactory(display_name="Bo Chen", time_zone="America/Chicago")
    for person in (olga, asha, bo):
        MembershipFactory(user=person, team=team)
    now = timezone.now()
    meeting = MeetingFactory(
        team=team, organizer=olga, attendees=[asha, bo], title="Launch",
        starts_at=now - timedelta(hours=3), now=now - timedelta(days=1),
    )  # fmt: skip
    meeting.recap_summary = "We launch on Monday."
    meeting.save(update_fields=["recap_summary"])
    item = services.add_action_item(
        meeting=meeting, description="Update the status page", owner=asha,
        due_date=meeting.local_date + timedelta(days=2), now=now,
    )  # fmt: skip
    services.publish_recap(meeting=meeting, by=olga, now=now)
    services.reassign_action_item(item=item, owner=bo, by=olga, now=now)
    notice = Notification.objects.select_related("recipient", "meeting").get(
        kind=Notification.Kind.ACTION_ASSIGNED, recipient=bo
    )
    message = messages.message_for(notice, now=timezone.now())
    links = {}
    for line in message.body.splitlines():
        label, _, url = line.partition(": ")
        if url.startswith("http://localhost:8000/email/action/"):
            links[label] = url.removeprefix("http://localhost:8000")
    return item, links


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_owner_accepts_redates_and_completes_from_the_assignment_email(
    browser, live, assigned, javascript
):
    item, links = assigned
    assert set(links) == {"Accept", "Done", "New due date", "Decline, please reassign"}
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    seen = watch(page)

    # Accept: the link opens a page with one button; only the button records it.
    page.goto(links["Accept"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Take on this action item?")
    expect(page.get_by_text("Update the status page")).to_be_visible()
    assert ActionItem.objects.get(pk=item.pk).response == "unanswered"
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accepted: it is yours.")
    assert ActionItem.objects.get(pk=item.pk).response == "accepted"

    # New due date: a date field, then its button.
    new_due = item.due_date + timedelta(days=5)
    page.goto(links["New due date"])
    expect(page.get_by_role("heading", level=1)).to_have_text("When will it be done?")
    page.get_by_label("New due date").fill(new_due.isoformat())
    page.get_by_role("button", name="Move the due date").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Moved. Its reminders follow the new date."
    )
    expect(page.get_by_text("re-dated 1 time")).to_be_visible()
    row = ActionItem.objects.get(pk=item.pk)
    assert (row.due_date, row.redated_count) == (new_due, 1)

    # Done.
    page.goto(links["Done"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this action item done?")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Marked done. Thank you!")
    row = ActionItem.objects.get(pk=item.pk)
    assert row.status == "done" and row.completed_at is not None
    screenshot(page, f"action-item-done-{'js' if javascript else 'nojs'}")

    # The e-mail's Accept link, opened again: it says the item is done, and offers nothing.
    page.goto(links["Accept"])
    expect(page.get_by_role("heading", level=1)).to_have_text("This action item is already done.")
    expect(page.get_by_role("button")).to_have_count(0)
    assert not seen.errors, seen.errors
    context.close()
