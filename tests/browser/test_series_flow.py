"""A recurring meeting in a real browser: create a weekly series, recap with an open
action item, open the next meeting and find the item carried over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from config.celery import app as celery_app
from meetings.models import AgendaItem, Meeting, Series
from tests.browser.conftest import login, open_context, screenshot, watch
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def crew(transactional_db):
    team = TeamFactory(name="Platform")
    olga = UserFactory(
        display_name="Olga Organizer", email="olga@example.com", time_zone="Europe/Berlin"
    )
    asha = UserFactory(display_name="Asha Rao", email="asha@example.com", time_zone="Asia/Kolkata")
    MembershipFactory(user=olga, team=team)
    MembershipFactory(user=asha, team=team)
    return {"olga": olga, "asha": asha}


@pytest.fixture
def eager_tasks():
    """Tasks enqueued by a request run in the server, as a worker would run them (the
    carry-over task that publishing a recap enqueues)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_weekly_series_carries_an_open_action_item_into_the_next_meeting(
    browser, live, crew, javascript, eager_tasks
):
    context = open_context(browser, live, javascript=javascript)
    page = context.new_page()
    seen = watch(page)
    login(page, "olga@example.com")

    # -- a weekly series, from the form ---------------------------------------------
    first_day = timezone.localdate() + timedelta(days=1)
    page.goto("/series/new/")
    page.get_by_label("Title").fill("Weekly sync")
    page.get_by_label("First meeting on").fill(first_day.isoformat())
    page.get_by_label("Starts at").fill("09:00")
    page.get_by_label("Length (minutes)").fill("30")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    page.get_by_label("Weekly", exact=True).check()
    page.get_by_label(first_day.strftime("%A"), exact=True).check()
    page.get_by_label("After a number of meetings").check()
    page.get_by_label("Number of meetings", exact=True).fill("4")
    page.get_by_label("Asha Rao").check()
    page.get_by_role("button", name="Create series").click()
    expect(
        page.get_by_text("“Weekly sync” is set up; 4 meetings are scheduled so far.")
    ).to_be_visible()
    expect(page.get_by_text(f"Weekly on {first_day:%a} at 09:00, 4 times")).to_be_visible()
    if javascript:
        screenshot(page, "series-created")
    series = Series.objects.get()
    first, second = series.meetings.all()[:2]
    assert first.attendees.filter(user=crew["asha"]).exists()

    # -- the first meeting is over: recap with an action item left open -------------
    now = timezone.now()
    Meeting.objects.filter(pk=first.pk).update(
        starts_at=now - timedelta(hours=2), ends_at=now - timedelta(minutes=1)
    )
    page.goto(f"/meetings/{first.pk}/")
    page.get_by_label("Summary").fill("Budget is late; Asha chases it.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Recap draft saved.")).to_be_visible()
    page.get_by_label("Description").fill("Send the budget")
    page.get_by_label("Owner").select_option(label="Asha Rao")
    page.get_by_label("Due").fill((timezone.localdate() + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Add action item").click()
    expect(page.get_by_text("Action item assigned to Asha Rao.")).to_be_visible()
    page.get_by_role("button", name="Publish recap").click()
    expect(page.get_by_text("Recap published to every attendee.")).to_be_visible()

    # -- the series page lists it; the next meeting's agenda carries it ----------------
    page.goto(f"/series/{series.pk}/")
    open_items = page.get_by_role("region", name="Open action items")
    expect(open_items.get_by_text("Send the budget")).to_be_visible()
    page.get_by_role("link", name="Open next meeting").click()
    page.wait_for_url(f"**/meetings/{second.pk}/")
    expect(page.get_by_text("Follow up: Send the budget").first).to_be_visible()
    if javascript:
        screenshot(page, "series-next-meeting")
    carried = AgendaItem.objects.get(meeting=second)
    assert carried.title == "Follow up: Send the budget"
    assert carried.slipped_count == 1
    assert carried.owner == crew["asha"]
    assert seen.errors == []
    context.close()


def test_new_meeting_form_repeats_creates_a_series(browser, live, crew):
    context = open_context(browser, live, javascript=False)
    page = context.new_page()
    login(page, "olga@example.com")
    page.get_by_role("link", name="New meeting").first.click()
    day = timezone.localdate() + timedelta(days=2)
    page.get_by_label("Title").fill("Design review")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Starts").fill("14:00")
    page.get_by_label("Ends").fill("15:00")
    page.get_by_text("Repeats…").click()
    page.get_by_label("Every how many weeks or months").fill("2")
    page.get_by_label("After a count").check()
    page.get_by_label("Number of meetings").fill("3")
    screenshot(page, "meeting-form-repeats")
    page.get_by_role("button", name="Create recurring meeting").click()
    expect(page.get_by_text("“Design review” is set up; 3 meetings are scheduled")).to_be_visible()
    series = Series.objects.get()
    code = f"{day:%a}".upper()[:2]
    assert series.rrule == f"FREQ=WEEKLY;INTERVAL=2;BYDAY={code};WKST=MO;COUNT=3"
    assert series.duration == timedelta(hours=1)
    assert [m.local_date for m in series.meetings.all()] == [
        day,
        day + timedelta(days=14),
        day + timedelta(days=28),
    ]
    context.close()
